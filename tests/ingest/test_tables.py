"""Tables in PDFs and DOCX files become readable rows ("列名：值；列名：值"): one clause for a short table,
one a row for a long one, the caption in the section path, nothing lost."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import docx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import assert_no_text_lost

from policykb.ingest.loaders import load
from policykb.ingest.pipeline import ingest_file

BEFORE = [
    "深圳市商务局关于直播电商补贴标准的通知",
    "各区商务主管部门：",
    "一、补贴标准",
    "表1 直播电商补贴标准",
]
AFTER = ["二、申报时间", "2021年5月1日至5月31日。"]
SMALL = [
    ["项目", "标准", "金额"],
    ["直播培训", "每人每次", "500元"],
    ["直播基地建设", "每个基地", "20万元"],
    ["品牌专场", "", "5万元"],  # an empty cell is left out of its row
]
SMALL_TEXT = (
    "项目：直播培训；标准：每人每次；金额：500元\n"
    "项目：直播基地建设；标准：每个基地；金额：20万元\n"
    "项目：品牌专场；金额：5万元"
)
DISTRICTS = [
    "福田区",
    "罗湖区",
    "南山区",
    "盐田区",
    "宝安区",
    "龙岗区",
    "龙华区",
    "坪山区",
    "光明区",
    "大鹏新区",
]
LONG = [["区", "直播基地", "补贴上限", "联系部门"]] + [
    [d, f"{d}直播电商产业园", f"{n + 10}万元", f"{d}商务主管部门电子商务科"] for n, d in enumerate(DISTRICTS)
]
PATH = ("一、补贴标准", "表1 直播电商补贴标准")


def docx_file(path: Path, rows: list[list[str]], merge_header: bool = False) -> Path:
    d = docx.Document()
    for line in BEFORE:
        d.add_paragraph(line)
    table = d.add_table(rows=len(rows), cols=len(rows[0]))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    if merge_header:  # "标准" spans two columns
        table.cell(0, 1).merge(table.cell(0, 2)).text = "标准"
    for line in AFTER:
        d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def table_file(tmp_path, pdf_tools):
    def make(kind: str, rows: list[list[str]]) -> Path:
        if kind == "pdf":
            return pdf_tools.table_pdf(tmp_path / "t.pdf", BEFORE, rows, AFTER)
        return docx_file(tmp_path / "t.docx", rows)

    return make


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_short_table_is_one_clause_under_its_caption(table_file, kind):
    r = ingest_file(table_file(kind, SMALL))
    assert [(c.label, c.section_path, c.text) for c in r.clauses] == [
        ("", PATH, SMALL_TEXT),
        ("二、", (), "申报时间\n2021年5月1日至5月31日。"),
    ]
    assert_no_text_lost(r)


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_long_table_is_a_clause_a_row(table_file, kind):
    r = ingest_file(table_file(kind, LONG))
    rows = [c for c in r.clauses if c.section_path == PATH]
    assert [c.text for c in rows] == [
        f"区：{d}；直播基地：{d}直播电商产业园；补贴上限：{n + 10}万元；联系部门：{d}商务主管部门电子商务科"
        for n, d in enumerate(DISTRICTS)
    ]
    assert all(c.label == "" for c in rows)
    assert r.clauses[-1].text == "申报时间\n2021年5月1日至5月31日。"
    assert_no_text_lost(r)
    if kind == "pdf":  # a cell wrapped onto two lines in the PDF is one value again
        assert len({c.source.page for c in rows}) == 1
        assert all("\n" not in c.text for c in rows)


def test_pdf_table_rows_in_the_loaded_text(table_file):
    text = load(table_file("pdf", SMALL)).text
    assert text.splitlines()[3:8] == [
        "表1 直播电商补贴标准",
        "\t项目\t标准\t金额",
        "\t直播培训\t每人每次\t500元",
        "\t直播基地建设\t每个基地\t20万元",
        "\t品牌专场\t\t5万元",
    ]


def test_docx_merged_header_keeps_the_columns_aligned(tmp_path):
    rows = [["项目", "标准", ""], ["直播培训", "每人每次", "500元"]]
    r = ingest_file(docx_file(tmp_path / "m.docx", rows, merge_header=True))
    assert r.clauses[0].text == "项目：直播培训；标准：每人每次；500元"
    assert load(tmp_path / "m.docx").text.splitlines()[4] == "\t项目\t标准\t"


def test_a_text_line_just_before_a_table_is_its_caption_only_when_short(tmp_path):
    before = [*BEFORE[:3], "根据各区申报情况，现将补贴标准列示如下，请各区对照执行。"]
    r = ingest_file(docx_file(tmp_path / "s.docx", SMALL))
    assert r.clauses[0].section_path == PATH
    d = docx.Document()
    for line in before:
        d.add_paragraph(line)
    table = d.add_table(rows=2, cols=2)
    for c, (head, value) in enumerate(zip(["项目", "金额"], ["直播培训", "500元"], strict=True)):
        table.cell(0, c).text, table.cell(1, c).text = head, value
    d.save(tmp_path / "n.docx")
    r = ingest_file(tmp_path / "n.docx")
    assert [(c.label, c.section_path, c.text) for c in r.clauses] == [
        ("一、", (), "补贴标准\n根据各区申报情况，现将补贴标准列示如下，请各区对照执行。"),
        ("", (), "项目：直播培训；金额：500元"),  # after a finished item: its sibling (as in a text file)
    ]


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_an_empty_table_row_is_left_out(table_file, kind):
    rows = [*SMALL[:2], ["", "", ""], *SMALL[2:]]
    r = ingest_file(table_file(kind, rows))
    assert [(c.section_path, c.text) for c in r.clauses] == [
        (PATH, SMALL_TEXT),
        ((), "申报时间\n2021年5月1日至5月31日。"),
    ]
    if kind == "pdf":
        assert "\t\t\t" not in load(table_file(kind, rows)).text
