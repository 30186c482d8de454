"""The real laws in tests/data/external/ against the ground truth in expected.json."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import EXPECTED, LAWS, PINYIN, assert_no_text_lost, ingest_law, squash, t2s

ARTICLE_LABEL = re.compile(r"第\s*[0-9一二三四五六七八九十百零〇]+(?:\s*-\s*\d+)?\s*[条條]")
WITH_ARTICLES = [n for n in LAWS if EXPECTED[n]["n_articles"]]
WITH_CHAPTERS = [n for n in LAWS if EXPECTED[n]["chapters"]]
TAIWAN = ["tw_consumer_protection_act.md", "tw_electronic_signatures_act.md"]


def article_labels(name: str) -> list[str]:
    """Distinct article labels in document order (a long article split in parts counts once)."""
    return list(dict.fromkeys(c.label for c in ingest_law(name).clauses if ARTICLE_LABEL.fullmatch(c.label)))


def heading_key(heading: str) -> str:
    return squash(t2s(heading))


def chapter_of(name: str) -> dict[str, tuple[str, str | None]]:
    """article label → (chapter heading, section heading or None), from expected.json."""
    e = EXPECTED[name]
    order = e["articles"]
    out: dict[str, tuple[str, str | None]] = {}
    for ch in e["chapters"]:
        for a in order[order.index(ch["first_article"]) : order.index(ch["last_article"]) + 1]:
            out[a] = (ch["heading"], None)
        for sec in ch.get("sections", []):
            for a in order[order.index(sec["first_article"]) : order.index(sec["last_article"]) + 1]:
                out[a] = (ch["heading"], sec["heading"])
    return out


@pytest.mark.parametrize("name", LAWS)
def test_law_loses_no_text(name):
    assert_no_text_lost(ingest_law(name))


@pytest.mark.parametrize("name", WITH_ARTICLES)
def test_law_article_count(name):
    assert len(article_labels(name)) == EXPECTED[name]["n_articles"]


@pytest.mark.parametrize("name", WITH_ARTICLES)
def test_law_article_labels_in_order(name):
    assert article_labels(name) == EXPECTED[name]["articles"]


@pytest.mark.parametrize("name", WITH_ARTICLES)
def test_law_every_labelled_clause_is_an_article(name):
    """No cross reference ("第五條第一項…", "第三方信用服务机构…") became a clause of its own."""
    labelled = {c.label for c in ingest_law(name).clauses if c.label}
    assert labelled <= set(EXPECTED[name]["articles"])


@pytest.mark.parametrize("name", WITH_CHAPTERS)
def test_law_articles_are_under_their_chapter(name):
    expected = chapter_of(name)
    assert set(expected) == set(EXPECTED[name]["articles"])
    for c in ingest_law(name).clauses:
        if c.label in expected:
            chapter, section = expected[c.label]
            path = [heading_key(h) for h in c.section_path]
            assert heading_key(chapter) in path, (c.label, c.section_path)
            assert section is None or heading_key(section) in path, (c.label, c.section_path)
            assert len(c.section_path) == (2 if section else 1), (c.label, c.section_path)


@pytest.mark.parametrize(
    "name", [n for n in LAWS if not EXPECTED[n]["chapters"] and EXPECTED[n]["n_articles"]]
)
def test_law_without_chapters_has_flat_articles(name):
    for c in ingest_law(name).clauses:
        if c.label:
            assert c.section_path == (), (c.label, c.section_path)


def test_ecommerce_law_sections_inside_chapter_two():
    r = ingest_law("ecommerce_law_2018.md")
    paths = {c.label: c.section_path for c in r.clauses if c.label}
    assert paths["第八条"] == ("第一章 总则",)
    assert paths["第九条"] == ("第二章 电子商务经营者", "第一节 一般规定")
    assert paths["第二十七条"] == ("第二章 电子商务经营者", "第二节 电子商务平台经营者")
    assert paths["第四十七条"] == ("第三章 电子商务合同的订立与履行",)
    assert paths["第八十九条"] == ("第七章 附则",)


def test_minors_regulation_plain_chapter_headings():
    """Chapters 2–7 are plain lines after a U+200B line: each still opens a section."""
    expected = chapter_of("minors_online_protection_2023.md")
    r = ingest_law("minors_online_protection_2023.md")
    got = {c.label: c.section_path for c in r.clauses if c.label}
    assert got["第十三条"] == ("网络素养促进",) and expected["第十三条"][0] == "网络素养促进"
    assert got["第六十条"] == ("附 则",)


def test_hangzhou_full_width_space_headings():
    r = ingest_law("hangzhou_crossborder_ecommerce_2017.md")
    [first] = [c for c in r.clauses if c.label == "第一条"]
    assert r.text.count("第一章\u3000总则") == 1
    assert first.section_path == ("第一章 总则",)  # label and title joined by one space, like every other law


@pytest.mark.parametrize("name", TAIWAN)
def test_taiwan_act_converted_to_simplified(name):
    r = ingest_law(name)
    assert r.document.script == "hant"
    for c in r.clauses:
        assert t2s(c.text) == c.text
        assert all(t2s(h) == h for h in c.section_path)
        assert PINYIN.search(c.text) is None
    assert any(c.original != c.text for c in r.clauses)  # the Traditional original is kept for citation


def test_taiwan_inserted_articles_keep_their_labels():
    labels = article_labels("tw_consumer_protection_act.md")
    assert [a for a in labels if "-" in a] == EXPECTED["tw_consumer_protection_act.md"]["inserted_articles"]
    assert "第 7-1 條" in labels and "第 19-1 條" in labels
    [repealed] = [c for c in ingest_law("tw_consumer_protection_act.md").clauses if c.label == "第 19-1 條"]
    assert (repealed.text, repealed.original) == ("（删除）", "（刪除）")


def test_taiwan_article_text_and_path():
    r = ingest_law("tw_consumer_protection_act.md")
    [c] = [c for c in r.clauses if c.label == "第 7-1 條"]
    assert c.section_path == ("第二章 消费者权益", "第一节 健康与安全保障")
    assert c.text.startswith("企业经营者")
    assert c.original.startswith("企業經營者")


def test_taiwan_cross_reference_paragraph_stays_in_its_article():
    r = ingest_law("tw_electronic_signatures_act.md")
    [c] = [c for c in r.clauses if c.label == "第 11 條"]
    assert "第五条第一项至第三项及第八条第一项规定" in c.text


def test_spc_reply_has_six_items():
    e = EXPECTED["spc_online_ip_infringement_reply_2020.md"]
    r = ingest_law("spc_online_ip_infringement_reply_2020.md")
    items = [{"label": c.label, "text": c.text} for c in r.clauses if c.label]
    assert items == e["top_items"]
    # the addressees (各省、自治区、直辖市高级人民法院…分院：) are metadata; the preamble is a clause
    assert [c.label for c in r.clauses] == ["", "一、", "二、", "三、", "四、", "五、", "六、"]
    assert r.document.metadata.addressees is not None and r.document.metadata.addressees.endswith("兵团分院")
    assert all(c.section_path == () for c in r.clauses)


@pytest.mark.parametrize("name", LAWS)
def test_law_title_is_the_document_title(name):
    r = ingest_law(name)
    assert r.document.title == t2s(EXPECTED[name]["title"])
    assert {c.title for c in r.clauses} == {r.document.title}


# -- external2: article counts read by hand in tests/data/external2/SOURCES.md ---------------------------
EXTERNAL2 = Path(__file__).parents[1] / "data" / "external2"
EXTERNAL2_ARTICLES = {
    "online_7day_returns_2020.md": 38,
    "online_transaction_supervision_2021.md": 56,
    "internet_advertising_measures_2023.md": 32,
    "consumer_rights_implementing_regulation_2024.md": 53,
    "price_law_1997.md": 48,
    "express_delivery_regulation_2019.md": 48,
    "electronic_signature_law_2019.md": 36,
    "data_security_law_2021.md": 55,
    "trademark_law_2019.md": 73,
    "anti_monopoly_law_2022.md": 70,
    "tw_multi_level_marketing_act.md": 41,
}


def _external2(name: str):
    from policykb.ingest.pipeline import ingest_file

    return ingest_file(EXTERNAL2 / name, display_path=f"tests/data/external2/{name}")


@pytest.mark.parametrize("name, n", EXTERNAL2_ARTICLES.items())
def test_external2_articles_run_one_to_n(name, n):
    from policykb.index.references import label_key

    keys = list(dict.fromkeys(label_key(c.label) for c in _external2(name).clauses if c.label))
    assert [k for k in keys if k and k.startswith("条:")] == [f"条:{i}" for i in range(1, n + 1)]


def test_three_level_notice_keeps_its_numbering():
    clauses = _external2("gov_bonded_zones_opinions_2019.md").clauses
    tasks = [c for c in clauses if c.section_path[:1] == ("四、主要任务",) and c.label.endswith(".")]
    assert [c.label for c in tasks] == [f"{i}." for i in range(1, 22)]
    groups = [c.section_path[1][:3] for c in tasks]
    assert groups == ["（一）"] * 5 + ["（二）"] * 4 + ["（三）"] * 4 + ["（四）"] * 3 + ["（五）"] * 5
    assert next(c for c in tasks if c.label == "18.").text.startswith("促进跨境电商发展。")
    principles = [c.label for c in clauses if c.section_path == ("二、基本原则",)]
    assert principles == ["（一）", "（二）", "（三）", "（四）"]


@pytest.mark.parametrize(
    "name", ["consumer_rights_implementing_regulation_2024.md", "internet_advertising_measures_2023.md"]
)
def test_a_law_database_header_and_banners_are_no_clause_and_no_section(name):
    """【现行版本】…【条款数】, ==== 正文开始 ==== and ==== 正文结束 ==== are the document's; the law's title repeated
    after the decree that publishes it is not the first chapter's heading."""
    r = _external2(name)
    texts = [c.text for c in r.clauses]
    assert not [t for t in texts if "【" in t or "====" in t]
    outer = {c.section_path[0] for c in r.clauses if c.section_path}
    assert all(re.fullmatch(r"第[一二三四五六七]章 .+", p) for p in outer), (
        outer
    )  # a chapter, never the title
    assert len(outer) == (7 if name.startswith("consumer") else 0)
    assert r.clauses[-1].text.endswith(("起施行。", "同时废止。"))
