"""``policykb export`` end to end on a small notice ingested into a fresh knowledge base (fake embedder)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from docx import Document as DocxDocument

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ui.cli import main
from policykb.ui.export import CSV_COLUMNS, Basket
from policykb.ui.ingesting import ingest_paths

TITLE = "某市商务局关于直播电商活动的通知"
FREE = "参加本次直播电商活动的企业，平台不收取任何费用。"
CONTACT = "报名联系人：张先生，手机 13812345678，邮箱 zhang@example.com，办公电话 0755-83456789。"
FORMULA = "=SUM(A1:A2) 企业应当按照《电子商务法》第35条的规定公示收费标准，单笔收费不超过50元。"
MANIFEST = f"""[[document]]
doc_id = "test-notice"
file = "notice.txt"
title = "{TITLE}"
issuer = "某市商务局"
region = "某市"
date = "2021-05-10"
doc_type = "notice"
valid_from = "2021-05-10"
valid_to = "2021-06-30"
"""
VALIDITY = "时效性通知，有效期 2021-05-10 至 2021-06-30（已结束）"  # from the manifest, as Ask says it
REFERENCE = ["文档：" + TITLE, "发布机构：某市商务局", "发布日期：2021-05-10"]


@pytest.fixture(autouse=True)
def _fake_model(monkeypatch):
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")


@pytest.fixture
def ids(tmp_path) -> dict[str, str]:
    """Ingest one three-article notice; its clause ids by label."""
    folder = tmp_path / "notices"
    folder.mkdir()
    (folder / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    (folder / "notice.txt").write_text(
        f"{TITLE}\n\n第一条 {FREE}\n\n第二条 {CONTACT}\n\n第三条 {FORMULA}\n", encoding="utf-8"
    )
    kb = KnowledgeBase.open(Settings.load())
    report = ingest_paths(kb, [folder], max_chars=360)
    assert report.error is None and report.clauses == 3
    return {c.label: c.clause_id for c in kb.clauses()}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["export", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_clauses_to_docx(ids, tmp_path, capsys):
    out = tmp_path / "x.docx"
    code, stdout, err = run(capsys, "--clause", ids["第三条"], "--clause", ids["第一条"], "--out", out)
    assert (code, err) == (0, "")
    size = out.stat().st_size
    assert stdout == (
        f"wrote 2 excerpts to {out} (docx, {size:,} bytes)\n"
        f"  [1] {ids['第三条']}  {TITLE} 第三条\n"
        f"  [2] {ids['第一条']}  {TITLE} 第一条\n"
    )
    paragraphs = [p.text for p in DocxDocument(str(out)).paragraphs]
    reference = [*REFERENCE, "条款：第三条", f"时效：{VALIDITY}", "来源文件：notice.txt"]
    assert paragraphs[:8] == ["条款摘录", f"[1] {FORMULA}", *reference]
    assert paragraphs[8] == f"[2] {FREE}"
    assert not any(ids["第三条"] in p for p in paragraphs)  # no clause ids or offsets for a reader


def test_search_to_csv_with_redaction(ids, tmp_path, capsys):
    out = tmp_path / "hits.csv"
    code, stdout, _ = run(
        capsys, "--search", "报名联系人 电话", "--k", "3", "--format", "csv", "--out", out, "--redact"
    )
    assert code == 0 and "personal data redacted" in stdout.splitlines()[0]
    _header, *rows = csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig")))
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") and len(rows) == 3
    by_label = {r[CSV_COLUMNS.index("label")]: dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows}
    assert (
        by_label["第二条"]["text"]
        == "报名联系人：[姓名已隐去]，手机 [手机号已隐去]，邮箱 [邮箱已隐去]，办公电话 [电话已隐去]。"
    )
    assert by_label["第三条"]["text"] == "'" + FORMULA  # formula-safe; 第35条 and 50元 are not redacted
    assert by_label["第一条"] == {
        "n": by_label["第一条"]["n"],
        "citation": "",
        "question": "",
        "answer": "",
        "text": FREE,
        "title": TITLE,
        "issuer": "某市商务局",
        "date": "2021-05-10",
        "section": "",
        "label": "第一条",
        "validity": VALIDITY,
        "source": "notice.txt",
        "original": "",
        "note": "",
    }


def test_ask_to_markdown_carries_the_answer(ids, tmp_path, capsys):
    out = tmp_path / "answer.md"
    code, stdout, _ = run(capsys, "--ask", "参加活动收费吗？", "--out", out)
    assert code == 0 and stdout.startswith(f"wrote 2 excerpts to {out} (md, ")
    assert stdout.splitlines()[1:] == [
        f"  [1] {ids['第一条']}  {TITLE} 第一条",
        f"  [2] {ids['第三条']}  {TITLE} 第三条",
    ]
    md = out.read_text(encoding="utf-8")
    answer = f"{FREE}[1] {FORMULA}[2]"  # the question and answer once, then the clauses it cites
    reference = "".join(f"- {line}\n" for line in REFERENCE)
    assert md == (
        f"# 条款摘录\n\n## [1] 问题：参加活动收费吗？\n\n回答：\n\n> {answer}\n\n"
        f"### 引文 [1] {TITLE}\n\n> {FREE}\n\n{reference}- 条款：第一条\n- 时效：{VALIDITY}\n"
        "- 来源文件：notice.txt\n\n"
        f"### 引文 [2] {TITLE}\n\n> {FORMULA}\n\n{reference}- 条款：第三条\n- 时效：{VALIDITY}\n"
        "- 来源文件：notice.txt\n"
    )


def test_json_export_reads_back_as_a_basket(ids, tmp_path, capsys):
    out = tmp_path / "basket.json"
    assert run(capsys, "--clause", ids["第二条"], "--clause", ids["第二条"], "--out", out)[0] == 0
    basket = Basket.from_json(out.read_bytes())
    assert basket.ids() == [ids["第二条"]]  # a repeated id is exported once
    assert basket.excerpts[0].clause["text"] == CONTACT
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == "policykb-excerpts"


def test_unknown_clause_ids_are_named_and_nothing_is_written(ids, tmp_path, capsys):
    out = tmp_path / "x.docx"
    code, stdout, err = run(
        capsys, "--clause", ids["第一条"], "--clause", "nope", "--clause", "test-notice:0", "--out", out
    )
    assert (code, stdout) == (1, "")
    assert err == (
        "policykb export: no clause 'nope', 'test-notice:0' in the knowledge base; list clause ids "
        "with `policykb clauses --json` (the clause_id field)\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "xlsx", "--out", "x.xlsx"], "unknown format 'xlsx'; allowed: docx, md, csv, json"),
        (
            ["--out", "x.txt"],
            "no --format given and 'x.txt' has no known suffix; allowed: docx, md, csv, json",
        ),
    ],
)
def test_unknown_format_is_a_usage_error(ids, tmp_path, capsys, argv, message):
    code, _, err = run(capsys, "--clause", ids["第一条"], *argv[:-1], tmp_path / argv[-1])
    assert (code, err) == (2, f"policykb export: {message}\n")
    assert list(tmp_path.glob("x.*")) == []


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--ask", "收费吗", "--search", "收费"],
        ["--clause", "a", "--k", "3"],
        ["--search", "收费", "--k", "0"],
    ],
)
def test_bad_combinations_are_usage_errors(tmp_path, capsys, argv):
    code, _, err = run(capsys, *argv, "--out", tmp_path / "x.md")
    assert code == 2 and err.startswith("policykb export: ")


def test_empty_knowledge_base_says_to_ingest(tmp_path, capsys):
    code, _, err = run(capsys, "--search", "收费", "--out", tmp_path / "x.md")
    assert code == 1 and "has no documents; run `policykb ingest`" in err


def test_abstained_answer_writes_nothing(ids, tmp_path, capsys):
    out = tmp_path / "x.md"
    code, _, err = run(capsys, "--ask", "淘宝直播的佣金比例是多少？", "--out", out)
    assert code == 1 and "cites no clause" in err and "nothing written" in err
    assert not out.exists()


def test_unwritable_output_is_reported(ids, tmp_path, capsys):
    code, _, err = run(capsys, "--clause", ids["第一条"], "--out", tmp_path / "missing" / "x.md")
    assert code == 1 and err.startswith(f"policykb export: cannot write {tmp_path / 'missing' / 'x.md'}: ")


def test_every_format_from_the_out_suffix(ids, tmp_path, capsys):
    for ext in ("docx", "md", "csv", "json"):
        out = tmp_path / f"all.{ext}"
        code, stdout, _ = run(capsys, "--clause", ids["第一条"], "--out", out)
        assert code == 0 and f"({ext}, " in stdout and out.stat().st_size > 0
    assert Path(tmp_path / "all.md").read_text(encoding="utf-8").count(FREE) == 1
