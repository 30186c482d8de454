"""What changed between two versions of a document (``index/changes.py``): clauses matched by section
path and label, unlabelled ones by their text; changed = same place, different text."""

from __future__ import annotations

from policykb.index.changes import what_changed
from policykb.ingest.pipeline import ingest_text
from policykb.ingest.record import Clause, Metadata, Source


def clauses(text: str) -> list[Clause]:
    return ingest_text(text, source_path="notice.txt", doc_id="notice").clauses


def paragraph(text: str, seq: int) -> Clause:
    return Clause.create(
        doc_id="notice",
        title="t",
        label="",
        section_path=(),
        text=text,
        original=text,
        source=Source("notice.txt", 0, len(text)),
        metadata=Metadata(),
        seq=seq,
    )


OLD = (
    "第一章 总则\n第一条 为规范直播营销，制定本办法。\n第二条 本办法适用于本市。\n"
    "第二章 监督管理\n第三条 平台应当公示规则。\n第四条 违反本办法的，依法处理。\n"
)


def test_added_removed_and_changed_clauses_are_told_apart():
    new = (
        "第一章 总则\n第一条 为规范直播营销，制定本办法。\n第二条 本办法适用于本市行政区域。\n"
        "第二章 监督管理\n第三条 平台应当公示规则。\n第五条 本办法自发布之日起施行。\n"
    )
    d = what_changed(clauses(OLD), clauses(new))
    assert [(c.section_path, c.label) for c in d.added] == [(("第二章 监督管理",), "第五条")]
    assert [c.text for c in d.removed] == ["违反本办法的，依法处理。"]
    assert [(a.label, a.text, b.text) for a, b in d.changed] == [
        ("第二条", "本办法适用于本市。", "本办法适用于本市行政区域。")
    ]
    assert d.unchanged == 2
    assert d.to_dict()["changed"] == [
        {
            "old": {"label": "第二条", "section_path": ["第一章 总则"], "text": "本办法适用于本市。"},
            "new": {"label": "第二条", "section_path": ["第一章 总则"], "text": "本办法适用于本市行政区域。"},
        }
    ]


def test_the_same_label_under_another_heading_is_another_clause():
    moved = "第一章 总则\n第一条 为规范直播营销，制定本办法。\n第二条 本办法适用于本市。\n第三条 平台应当公示规则。\n"
    d = what_changed(clauses(OLD), clauses(moved))
    assert [(c.section_path, c.label) for c in d.added] == [(("第一章 总则",), "第三条")]
    assert [(c.section_path, c.label) for c in d.removed] == [
        (("第二章 监督管理",), "第三条"),
        (("第二章 监督管理",), "第四条"),
    ]
    assert (d.changed, d.unchanged) == ([], 2)


def test_identical_versions_have_no_changes():
    d = what_changed(clauses(OLD), clauses(OLD))
    assert (d.added, d.removed, d.changed, d.unchanged) == ([], [], [], 4)


def test_unlabelled_paragraphs_are_matched_by_text_so_an_edit_is_a_removal_and_an_addition():
    old = [paragraph("各商家请注意活动时间。", 0), paragraph("报名截止后不再受理。", 1)]
    new = [paragraph("各商家请注意活动时间。", 0), paragraph("报名截止后一律不再受理。", 1)]
    d = what_changed(old, new)
    assert [c.text for c in d.added] == ["报名截止后一律不再受理。"]
    assert [c.text for c in d.removed] == ["报名截止后不再受理。"]
    assert (d.changed, d.unchanged) == ([], 1)


def test_a_repeated_label_is_matched_in_order():
    old = clauses("一、收费\n1. 不收费。\n1. 需注册。\n")
    new = clauses("一、收费\n1. 不收费。\n1. 需实名注册。\n")
    d = what_changed(old, new)
    assert [(a.text, b.text) for a, b in d.changed] == [("需注册。", "需实名注册。")]
    assert (d.added, d.removed, d.unchanged) == ([], [], 1)
