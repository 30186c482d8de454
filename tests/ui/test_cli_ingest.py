"""Batch ingest (``ui/ingesting.py``) and ``policykb ingest``: every bad file is named and skipped, the batch goes
on, and what the knowledge base already holds is untouched (RELIABILITY 8-17)."""

from __future__ import annotations

import importlib.util
import io
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ingest.loaders import ALLOWED, load
from policykb.ui.ingesting import format_report, ingest_paths

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
DATA = REPO / "tests" / "data"
POLICYKB = Path(sys.executable).with_name("policykb")
SZ, SH, QY, DY = (
    "shenzhen_weishi_2020.txt",
    "shanghai_livestream_measures_2020.txt",
    "qingyuan_livestream_festival_2021.txt",
    "douyin_gov_media_rules_2023.txt",
)
BASE_DOCS = ["shanghai-livestream-measures-2020", "shenzhen-weishi-2020"]


def _pdf_tools():
    spec = importlib.util.spec_from_file_location("policykb_ui_make_pdf", DATA / "loaders" / "make_pdf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PDF = _pdf_tools()
LAW_TEXT = "\n".join(
    ln
    for ln in (DATA / "external" / "ecommerce_law_2018.md").read_text(encoding="utf-8").splitlines()
    if ln.strip()
)[:6000]


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")


def open_kb() -> KnowledgeBase:
    return KnowledgeBase.open(Settings.load())


def batch(paths: list[Path]):
    return ingest_paths(open_kb(), [Path(p) for p in paths], max_chars=360)


def snapshot() -> dict[str, list[str]]:
    """Every document and its clauses as the JSON the knowledge base serves."""
    kb = open_kb()
    return {
        d.doc_id: [json.dumps(d.to_dict(), ensure_ascii=False)] + [c.to_json() for c in kb.clauses(d.doc_id)]
        for d in kb.documents()
    }


def outcomes(report) -> list[tuple]:
    return [(Path(f.path).name, f.status, f.reason) for f in report.files]


@pytest.fixture
def base() -> dict[str, list[str]]:
    """A knowledge base already holding two seed notices; returns their snapshot."""
    report = batch([CORPUS / SZ, CORPUS / SH])
    assert [f.status for f in report.files] == ["added", "added"]
    snap = snapshot()
    assert sorted(snap) == BASE_DOCS
    return snap


def assert_base_untouched(before: dict[str, list[str]]) -> None:
    after = snapshot()
    for doc_id, lines in before.items():
        assert after[doc_id] == lines  # byte-identical JSON


# --- bad files ------------------------------------------------------------------------------------------------


def _corrupt_page_two(pdf: bytes) -> bytes:
    """Overwrite page 2's content stream with 0xFF bytes of the same length (the xref stays right)."""
    data = bytearray(pdf)
    page = [int(n) for n in re.findall(rb"\n(\d+) 0 obj\n<<\n/Contents \d+ 0 R\n/Parent", pdf)][1]
    start = data.index(b"\n%d 0 obj\n" % page) + 1
    contents = int(
        re.search(rb"/Contents (\d+) 0 R", bytes(data[start : data.index(b"endobj", start)])).group(1)
    )
    start = data.index(b"\n%d 0 obj\n" % contents) + 1
    s = data.index(b"stream\n", start) + len(b"stream\n")
    e = data.index(b"endstream", s)
    data[s:e] = b"\xff" * (e - s)
    return bytes(data)


def _drop_page_three(pdf: bytes) -> bytes:
    """Blank out page 3's object and point startxref nowhere: pdfminer rebuilds the xref and finds 8 of 9 pages."""
    data = bytearray(pdf)
    page = [int(n) for n in re.findall(rb"\n(\d+) 0 obj\n<<\n/Contents \d+ 0 R\n/Parent", pdf)][2]
    start = data.index(b"\n%d 0 obj\n" % page) + 1
    end = data.index(b"endobj", start) + len(b"endobj")
    data[start:end] = b" " * (end - start)
    i = data.rindex(b"startxref")
    return bytes(data[:i]) + b"startxref\n999999\n%%EOF\n"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notice.txt", "通知")
    return buf.getvalue()


def _encrypted(path: Path) -> None:
    pdf = PDF.new_pdf()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.cell(170, 8, "第一条 保密。")
    pdf.output(str(path))


def _blank_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_page()
    pdf.output(str(path))


def _sparse(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        f.truncate(size)


BAD = {  # RELIABILITY item: (file name, how to make it, the reason the report gives)
    "8 decompression bomb": (
        "bomb.pdf",
        lambda p: PDF.bomb_pdf(p, inflated_bytes=2 * 2**30),
        "PDF parsing exceeded the memory limit of 1024 MB (a decompression bomb?)",
    ),
    "11 truncated PDF": (
        "cut.pdf",
        lambda p: p.write_bytes(PDF.make_pdf(LAW_TEXT, p.with_suffix(".tmp")).read_bytes()[:20000]),
        "truncated PDF: no %%EOF marker in the last 1024 bytes",
    ),
    "11 ZIP renamed .pdf": (
        "archive.pdf",
        lambda p: p.write_bytes(_zip()),
        "a ZIP archive (e.g. a DOCX) renamed .pdf, not a PDF",
    ),
    "11 not a PDF at all": (
        "fake.pdf",
        lambda p: p.write_text("hello world, this is not a PDF", encoding="utf-8"),
        "not a PDF: no %PDF- header (starts with b'hello wo')",
    ),
    "11 encrypted PDF": ("locked.pdf", _encrypted, "encrypted PDF: a password is needed to read it"),
    "12 scanned PDF": (
        "scan.pdf",
        lambda p: PDF.image_only_pdf(p, pages=2),
        "OCR found no text on any of the 2 pages",
    ),
    "12 blank PDF": ("blank.pdf", _blank_pdf, "no text on any of the 2 pages, and no images"),
    "15 empty file": ("empty.txt", lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
    "15 whitespace only": (
        "blank.md",
        lambda p: p.write_bytes(" \r\n\t\n　\n".encode()),
        "no text (only whitespace)",
    ),
    "15 binary file": (
        "photo.txt",
        lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
        "binary data, not text",
    ),
    "15 over the size limit": (
        "huge.txt",
        lambda p: p.write_bytes(b"a" * (50 * 2**20 + 1)),
        "file is 52428801 bytes; the limit is 52428800 bytes",
    ),
    "15 3 GiB sparse file": (
        "sparse.txt",
        lambda p: _sparse(p, 3 * 2**30),
        "file is 3221225472 bytes; the limit is 52428800 bytes",
    ),
}


def make_bad(kind: str, folder: Path) -> tuple[Path, str]:
    name, build, reason = BAD[kind]
    path = folder / f"a_{name}"
    build(path)
    for tmp in [*folder.glob("*.tmp"), *folder.glob("*.png")]:  # what the PDF makers leave beside their PDF
        tmp.unlink()
    return path, reason


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_file_is_skipped_the_batch_goes_on_and_the_kb_is_untouched(tmp_path, base, kind):
    folder = tmp_path / "inbox"
    folder.mkdir()
    bad, reason = make_bad(kind, folder)
    shutil.copy(CORPUS / QY, folder / "b_new.txt")
    report = batch([folder])
    assert outcomes(report) == [(bad.name, "skipped", reason), ("b_new.txt", "added", None)]
    assert f"  skipped    {bad}: {reason}" in format_report(report).splitlines()
    assert report.error is None and not report.nothing_done
    assert_base_untouched(base)
    assert sorted(snapshot()) == sorted(BASE_DOCS + ["b-new"])
    assert (report.documents, report.clauses) == (3, 21 + 21 + 38)


def test_a_scan_past_the_time_limit_is_skipped_and_the_batch_goes_on(tmp_path, base, monkeypatch):
    """OCR holds each page to Settings.parse_timeout_s, the time limit of a PDF parse."""
    monkeypatch.setenv("POLICYKB_PARSE_TIMEOUT_S", "0.01")
    folder = tmp_path / "inbox"
    folder.mkdir()
    Image.new("RGB", (800, 600), "white").save(folder / "a_scan.png")  # a photographed page: OCR only
    shutil.copy(CORPUS / QY, folder / "b_new.txt")
    report = batch([folder])
    assert outcomes(report) == [
        ("a_scan.png", "skipped", "OCR of the first page took longer than the limit of 0.01 s"),
        ("b_new.txt", "added", None),
    ]
    assert_base_untouched(base)
    assert sorted(snapshot()) == sorted(BASE_DOCS + ["b-new"])


def test_unsupported_file_given_by_name(tmp_path, base):
    f = tmp_path / "setup.exe"
    f.write_bytes(b"MZ\x90\x00")
    report = batch([f, CORPUS / QY])
    assert outcomes(report)[0] == (
        "setup.exe",
        "skipped",
        f"unsupported file type ('.exe'); allowed: {ALLOWED}",
    )
    assert outcomes(report)[1][1] == "added"
    assert_base_untouched(base)


@pytest.mark.parametrize(
    "kind, name, warning",
    [
        ("9 corrupt content stream", "corrupt.pdf", "page 2: no text"),
        ("10 broken xref", "xref.pdf", "pdf reports 9 pages, extracted 8"),
    ],
)
def test_damaged_pdf_is_ingested_with_a_warning(tmp_path, base, kind, name, warning):
    good = PDF.make_pdf(LAW_TEXT, tmp_path / "ok.pdf", lines_per_page=20).read_bytes()
    f = tmp_path / name
    f.write_bytes(_corrupt_page_two(good) if kind.startswith("9") else _drop_page_three(good))
    report = batch([f])
    [outcome] = report.files
    assert (outcome.status, outcome.warnings) == ("added", (warning,))
    assert f"             warning: {warning}" in format_report(report).splitlines()
    kb = open_kb()
    pages = {c.source.page for c in kb.clauses(outcome.doc_id)}
    if kind.startswith("9"):
        assert 2 not in pages and {1, 3} <= pages  # page 2 flagged, not silently indexed as text
    assert kb.document(outcome.doc_id).warnings == (warning,)
    assert_base_untouched(base)


# --- encodings and Chinese text at the batch level (RELIABILITY 13, 14, 16, 17) -------------------------------


def kb_texts(doc_id: str) -> list[tuple[str, str]]:
    return [(c.label, c.text) for c in open_kb().clauses(doc_id)]


def test_big5_gb18030_gbk_and_bom_copies_give_the_same_clauses(tmp_path, base):
    folder = tmp_path / "enc"
    folder.mkdir()
    for name in (
        "shenzhen.gbk.txt",
        "shenzhen.gb18030.txt",
        "shenzhen.utf8bom.txt",
        "shenzhen.utf8.txt",
        "tw_esign.big5.md",
        "tw_esign.utf8.md",
    ):
        shutil.copy(DATA / "encodings" / name, folder / name)
    report = batch([folder])
    # GB18030 writes these characters exactly as GBK does: that copy is the same bytes, a duplicate.
    assert [(Path(f.path).name, f.status, f.warnings) for f in report.files] == [
        ("shenzhen.gb18030.txt", "added", ()),
        ("shenzhen.gbk.txt", "duplicate", ()),
        ("shenzhen.utf8.txt", "duplicate", ()),
        ("shenzhen.utf8bom.txt", "added", ()),
        ("tw_esign.big5.md", "added", ()),
        ("tw_esign.utf8.md", "added", ()),
    ]
    assert report.files[1].reason == "same content as shenzhen-gb18030; not added twice"
    assert (
        report.files[2].reason == "same content as shenzhen-weishi-2020; not added twice"
    )  # the seed itself
    kb = open_kb()
    view = {
        d: [(c.label, c.section_path, c.text) for c in kb.clauses(d)]
        for d in (
            "shenzhen-gb18030",
            "shenzhen-utf8bom",
            "shenzhen-weishi-2020",
            "tw-esign-big5",
            "tw-esign-utf8",
        )
    }
    assert view["shenzhen-gb18030"] == view["shenzhen-utf8bom"] == view["shenzhen-weishi-2020"]
    assert view["tw-esign-big5"] == view["tw-esign-utf8"]
    assert [kb.document(d).encoding for d in ("shenzhen-gb18030", "shenzhen-utf8bom", "tw-esign-big5")] == [
        "gb18030",
        "utf-8-sig",
        "big5",
    ]
    assert_base_untouched(base)


@pytest.mark.parametrize("text, low_confidence", [("通知", False), ("公告", False), ("办法", True)])
def test_short_gbk_text(tmp_path, text, low_confidence):
    f = tmp_path / "short.txt"
    f.write_bytes(text.encode("gbk"))
    report = batch([f])
    [outcome] = report.files
    assert (outcome.status, outcome.clauses) == ("added", 1)
    assert kb_texts("short") == [("", text)]
    # The loader's own warning, reported once (its score is the decoder's business).
    assert outcome.warnings == load(f).warnings
    assert len(outcome.warnings) == low_confidence
    assert all(re.fullmatch(r"low confidence in encoding gb18030 \(0\.\d\d\)", w) for w in outcome.warnings)
    for w in outcome.warnings:
        assert f"             warning: {w}" in format_report(report).splitlines()


def test_rare_characters_and_bom(tmp_path):
    f = tmp_path / "rare.txt"
    f.write_bytes(b"\xef\xbb\xbf" + (DATA / "encodings" / "mixed_rare.utf8.txt").read_bytes())
    batch([f])
    [(_, first), (label, second)] = kb_texts("rare")
    assert "“里”" in first and "𠀀" in first and "䶮" in first
    assert open_kb().clauses("rare")[0].original.count("裏") == 1
    assert (label, second) == ("第一条", "普通文本，用于混排测试。")


def test_opencc_golden_cases_in_the_knowledge_base(tmp_path):
    f = tmp_path / "tw.txt"
    f.write_text(
        "第一條 乾隆年間之規範。\n第二條 防止乾燥。\n第三條 消費者應瞭解商品。\n"
        "第四條 行政程序應依法執行。\n第五條 简体文本保持不变。\n",
        encoding="utf-8",
    )
    batch([f])
    assert kb_texts("tw") == [
        ("第一條", "乾隆年间之规范。"),
        ("第二條", "防止干燥。"),
        ("第三條", "消费者应了解商品。"),
        ("第四條", "行政程序应依法执行。"),
        ("第五條", "简体文本保持不变。"),
    ]


def test_hard_wrapped_phrase_in_the_knowledge_base(tmp_path):
    width = 20
    text = "第一條　本規範所稱消費者，係指為消費目的而購買、使用商品或接受服務者。企業經營者應確保其提供之商品或服務，符合當時科技或專業水準"
    text += (
        "商" * ((width - 1 - len(text)) % width)
        + "乾隆年間之商業規範，亦可作為瞭解歷史之參考資料，以供行政程序執行時參考並妥善保存。"
    )
    lines = [text[i : i + width] for i in range(0, len(text), width)]
    assert len(lines) >= 6 and any(
        a.endswith("乾") and b.startswith("隆") for a, b in itertools.pairwise(lines)
    )
    f = tmp_path / "wrapped.txt"
    f.write_text("\n".join(lines) + "\n", encoding="big5")
    batch([f])
    [(label, clause)] = kb_texts("wrapped")
    assert label == "第一條" and "乾隆年间" in clause and "干隆" not in clause


# --- paths (RELIABILITY 15) -------------------------------------------------------------------------------------


def test_dot_dot_path_is_ingested_and_cited_without_dots(tmp_path, monkeypatch):
    (tmp_path / "x.txt").write_bytes((CORPUS / SZ).read_bytes())
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    report = batch([Path("../../x.txt"), Path("../../missing.txt")])
    assert outcomes(report) == [
        ("missing.txt", "skipped", "no such file or folder"),
        ("x.txt", "added", None),
    ]
    assert report.files[0].path == "../../missing.txt"
    assert "  skipped    ../../missing.txt: no such file or folder" in format_report(report).splitlines()
    sources = {c.source.path for c in open_kb().clauses("x")}
    assert sources == {str(tmp_path / "x.txt")}


@pytest.mark.slow
def test_50_mb_single_line_file(tmp_path, base):
    line = "".join((CORPUS / SZ).read_text(encoding="utf-8").split()).encode("utf-8")
    data = (line * (50 * 10**6 // len(line) + 1))[: 50 * 10**6]
    data = data[: len(data.decode("utf-8", errors="ignore").encode("utf-8"))]
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "a_one_line.txt").write_bytes(data)
    shutil.copy(CORPUS / QY, folder / "b_new.txt")
    report = batch([folder])
    assert [(f.status, f.warnings) for f in report.files] == [("added", ()), ("added", ())]
    one_line = open_kb().clauses("a-one-line")
    assert len(one_line) == report.files[0].clauses > 100_000 // 360
    assert max(len(c.text) for c in one_line) <= 360
    assert sum(len(c.original) for c in one_line) == len(data.decode("utf-8"))  # nothing truncated
    assert_base_untouched(base)


# --- re-ingesting ----------------------------------------------------------------------------------------------


def test_unchanged_file_is_a_no_op(base):
    kb = open_kb()
    generation = kb.generation
    report = batch([CORPUS / SZ, CORPUS / SH])
    assert [(f.status, f.clauses) for f in report.files] == [("unchanged", 21), ("unchanged", 21)]
    assert (
        format_report(report).splitlines()[-1]
        == "files: 2 (2 unchanged); knowledge base: 2 documents, 42 clauses"
    )
    assert open_kb().generation == generation  # nothing written
    assert_base_untouched(base)


def test_file_ingested_by_an_older_pipeline_is_ingested_again(monkeypatch):
    from policykb.ui import ingesting

    with monkeypatch.context() as m:
        m.setattr(ingesting, "PIPELINE_VERSION", "0")
        assert [f.status for f in batch([CORPUS / SZ]).files] == ["added"]
    assert [(f.status, f.clauses) for f in batch([CORPUS / SZ]).files] == [("updated", 21)]
    assert [(f.status, f.clauses) for f in batch([CORPUS / SZ]).files] == [("unchanged", 21)]


def test_changed_file_replaces_its_old_clauses(tmp_path, base):
    f = tmp_path / "notice.txt"
    f.write_text(
        "第一条 平台经营者应当公示营业执照信息。\n第二条 平台经营者不得虚构交易。\n第三条 本办法自公布之日起施行。\n",
        encoding="utf-8",
    )
    assert outcomes(batch([f])) == [("notice.txt", "added", None)]
    old_ids = {c.clause_id for c in open_kb().clauses("notice")}
    assert len(old_ids) == 3
    f.write_text(
        "第一条 平台经营者应当公示营业执照信息。\n第二条 平台经营者应当建立投诉举报机制。\n", encoding="utf-8"
    )
    report = batch([f])  # the very file the document was made from, changed: its new version
    assert [(o.status, o.clauses) for o in report.files] == [("new version", 2)]
    new = open_kb().clauses("notice")
    assert [(c.label, c.text) for c in new] == [
        ("第一条", "平台经营者应当公示营业执照信息。"),
        ("第二条", "平台经营者应当建立投诉举报机制。"),
    ]
    gone = old_ids - {c.clause_id for c in new}
    assert len(gone) == 2  # 第一条 is the same clause (same text, same id); the other two are gone
    assert all(open_kb().clause(clause_id) is None for clause_id in gone)
    assert (report.documents, report.clauses) == (3, 42 + 2)
    assert_base_untouched(base)


def test_new_file_without_manifest_gets_guessed_metadata(tmp_path):
    f = tmp_path / "notice.txt"
    f.write_text(
        "关于开展直播电商促消费活动的通知\n\n各区商务主管部门：\n\n为促进消费，我局定于今年举办直播电商促消费活动。\n\n"
        "深圳市商务局\n\n2020 年 3 月 16 日\n",
        encoding="utf-8",
    )
    report = batch([f])
    [outcome] = report.files
    assert outcome.guessed == ("date", "doc_type", "issuer", "region", "title")
    assert (
        "             guessed from the text: date, doc_type, issuer, region, title"
        in format_report(report).splitlines()
    )
    doc = open_kb().document("notice")
    assert (doc.metadata.issuer, doc.metadata.date, doc.title) == (
        "深圳市商务局",
        "2020-03-16",
        "关于开展直播电商促消费活动的通知",
    )


def test_dates_read_from_the_text_are_reported_with_where_they_came_from(tmp_path):
    f = tmp_path / "notice.txt"
    said = "我局定于今年4月至6月期间举办直播电商促消费活动"
    f.write_text(
        f"关于开展直播电商促消费活动的通知\n\n各区商务主管部门：\n\n为促进消费，{said}。\n\n"
        "深圳市商务局\n\n2020 年 3 月 16 日\n",
        encoding="utf-8",
    )
    report = batch([f])
    [outcome] = report.files
    assert outcome.guessed == ("date", "doc_type", "issuer", "region", "title", "valid_from", "valid_to")
    start = f.read_text(encoding="utf-8").index("为促进消费")
    lines = format_report(report).splitlines()
    k = lines.index(
        "             guessed from the text: date, doc_type, issuer, region, title, valid_from, valid_to"
    )
    assert lines[k + 1] == (
        f"             valid_from 2020-04-01, valid_to 2020-06-30 from the text (event period, "
        f"chars {start}–{start + len('为促进消费，' + said)}): {said}"
    )
    doc = open_kb().document("notice")
    assert (doc.valid_from, doc.valid_to) == ("2020-04-01", "2020-06-30")
    [as_json] = json.loads(json.dumps(report.to_dict()))["files"]
    assert [(d["field"], d["value"], d["rule"], d["phrase"]) for d in as_json["dates"]] == [
        ("valid_from", "2020-04-01", "event", said),
        ("valid_to", "2020-06-30", "event", said),
    ]


def test_removals_are_counted_in_the_report(tmp_path):
    report = batch([CORPUS / DY])
    [outcome] = report.files
    assert outcome.removed == {
        "pinyin annotation": 681,
        "mojibake": 4,
        "breadcrumb": 1,
        "publish line / view counter": 1,
        "advertisement with WeChat id": 4,
        "pagination": 1,
        "comment prompt": 2,
    }
    assert (
        "             removed (not in any clause): advertisement with WeChat id 4, breadcrumb 1, comment prompt 2, "
        "mojibake 4, pagination 1, pinyin annotation 681, publish line / view counter 1"
    ) in format_report(report).splitlines()


def test_nothing_to_do(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    report = batch([empty])
    assert report.files == [] and report.nothing_done
    assert format_report(report) == "files: 0 (none); knowledge base: 0 documents, 0 clauses"


# --- the CLI ---------------------------------------------------------------------------------------------------


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(POLICYKB), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "POLICYKB_EMBEDDING_MODEL": "fake"},
    )


def cli_clauses(doc_id: str) -> str:
    out = cli("clauses", "--doc", doc_id, "--json")
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_cli_ingest_default_corpus_then_unchanged():
    first = cli("ingest")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[-1] == "files: 5 (4 added, 1 skipped); knowledge base: 4 documents, 124 clauses"
    assert [ln for ln in lines if ln.startswith("  skipped")] == [
        f"  skipped    {CORPUS / 'README.md'}: folder documentation (README, LICENSE, CHANGELOG, SOURCES), not a notice"
    ]
    assert [ln.split()[:3] for ln in lines if ln.startswith("  added")] == [
        ["added", "douyin-gov-media-rules-2023", "44"],
        ["added", "qingyuan-livestream-festival-2021", "38"],
        ["added", "shanghai-livestream-measures-2020", "21"],
        ["added", "shenzhen-weishi-2020", "21"],
    ]
    again = cli("ingest")
    assert again.returncode == 0
    assert (
        again.stdout.splitlines()[-1]
        == "files: 5 (4 unchanged, 1 skipped); knowledge base: 4 documents, 124 clauses"
    )
    assert all(" unchanged " in ln for ln in again.stdout.splitlines()[:-1] if "README" not in ln)


def test_cli_batch_with_every_bad_file(tmp_path):
    assert cli("ingest", str(CORPUS / SZ), str(CORPUS / SH)).returncode == 0
    before = {d: cli_clauses(d) for d in BASE_DOCS}
    folder = tmp_path / "inbox"
    folder.mkdir()
    bad = [make_bad(kind, folder) for kind in BAD if "sparse" not in kind and "size limit" not in kind]
    shutil.copy(CORPUS / QY, folder / "z_new.txt")
    out = cli("ingest", str(folder), str(tmp_path / "missing.txt"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    for path, reason in bad:
        assert f"  skipped    {path}: {reason}" in lines
    assert f"  skipped    {tmp_path / 'missing.txt'}: no such file or folder" in lines
    assert any(
        ln.startswith("  added       z-new ") and ln.endswith(f"38 clauses  {folder / 'z_new.txt'}")
        for ln in lines
    )
    assert (
        lines[-1]
        == f"files: {len(bad) + 2} (1 added, {len(bad) + 1} skipped); knowledge base: 3 documents, 80 clauses"
    )
    assert {d: cli_clauses(d) for d in BASE_DOCS} == before


def test_cli_all_files_bad_exits_non_zero_and_keeps_the_kb(tmp_path):
    assert cli("ingest", str(CORPUS / SZ)).returncode == 0
    before = cli_clauses("shenzhen-weishi-2020")
    current = (Path(os.environ["POLICYKB_HOME"]) / "CURRENT").read_bytes()
    folder = tmp_path / "bad"
    folder.mkdir()
    for kind in ("15 empty file", "15 binary file", "11 ZIP renamed .pdf"):
        make_bad(kind, folder)
    out = cli("ingest", str(folder))
    assert out.returncode == 1
    assert out.stdout.splitlines()[-1] == "files: 3 (3 skipped); knowledge base: 1 documents, 21 clauses"
    assert cli_clauses("shenzhen-weishi-2020") == before
    assert (Path(os.environ["POLICYKB_HOME"]) / "CURRENT").read_bytes() == current


@pytest.mark.parametrize("what", ["empty folder", "missing path"])
def test_cli_nothing_to_ingest_exits_non_zero(tmp_path, what):
    target = tmp_path / ("empty" if what == "empty folder" else "missing.txt")
    if what == "empty folder":
        target.mkdir()
    out = cli("ingest", str(target))
    assert out.returncode == 1
    expected = [] if what == "empty folder" else [f"  skipped    {target}: no such file or folder"]
    summary = "files: 0 (none)" if what == "empty folder" else "files: 1 (1 skipped)"
    assert out.stdout.splitlines() == expected + [f"{summary}; knowledge base: 0 documents, 0 clauses"]


def test_cli_json_report_and_dot_dot_path(tmp_path):
    (tmp_path / "x.txt").write_bytes((CORPUS / SZ).read_bytes())
    (tmp_path / "empty.txt").write_bytes(b"")
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    out = cli("ingest", "--json", "../../x.txt", "../../empty.txt", cwd=work)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [(f["path"], f["status"], f["reason"]) for f in report["files"]] == [
        ("../../x.txt", "added", None),
        ("../../empty.txt", "skipped", "empty file (0 bytes)"),
    ]
    assert (report["counts"], report["documents"], report["clauses"], report["error"]) == (
        {"added": 1, "skipped": 1},
        1,
        21,
        None,
    )
    sources = {json.loads(ln)["source"]["path"] for ln in cli_clauses("x").splitlines()}
    assert sources == {str(tmp_path / "x.txt")}


def test_cli_changed_file_is_replaced(tmp_path):
    f = tmp_path / "rule.txt"
    f.write_text(
        "第一条 平台经营者应当公示营业执照信息。\n第二条 平台经营者不得虚构交易。\n", encoding="utf-8"
    )
    assert cli("ingest", str(f)).returncode == 0
    old = {json.loads(ln)["clause_id"] for ln in cli_clauses("rule").splitlines()}
    f.write_text("第一条 平台经营者应当建立投诉举报机制。\n", encoding="utf-8")
    out = cli("ingest", str(f))
    assert out.returncode == 0
    assert out.stdout.splitlines()[0].split()[:4] == ["new", "version", "rule", "1"]
    new = [json.loads(ln) for ln in cli_clauses("rule").splitlines()]
    assert [c["text"] for c in new] == ["平台经营者应当建立投诉举报机制。"]
    assert not old & {c["clause_id"] for c in new}


def test_cli_tricky_but_readable_files(tmp_path):
    """RELIABILITY 9, 10, 13, 14, 16, 17 through the command line: ingested, warnings in the report."""
    folder = tmp_path / "tricky"
    folder.mkdir()
    good = PDF.make_pdf(LAW_TEXT, tmp_path / "ok.pdf", lines_per_page=20).read_bytes()
    (folder / "corrupt.pdf").write_bytes(_corrupt_page_two(good))
    (folder / "xref.pdf").write_bytes(_drop_page_three(good))
    shutil.copy(DATA / "encodings" / "tw_esign.big5.md", folder / "big5.md")
    shutil.copy(DATA / "encodings" / "short_gbk.txt", folder / "short.txt")
    (folder / "rare.txt").write_bytes(
        b"\xef\xbb\xbf" + (DATA / "encodings" / "mixed_rare.utf8.txt").read_bytes()
    )
    (folder / "tw.txt").write_text(
        "第一條 乾隆年間之規範。\n第二條 行政程序應依法執行，防止乾燥，瞭解商品。\n", encoding="utf-8"
    )
    out = cli("ingest", str(folder))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1].startswith("files: 6 (6 added); knowledge base: 6 documents, ")
    n_clauses = sum(
        len(cli_clauses(d).splitlines()) for d in ("corrupt", "xref", "big5", "short", "rare", "tw")
    )
    assert lines[-1].endswith(f" {n_clauses} clauses")
    for name, warning in (
        ("corrupt.pdf", "page 2: no text"),
        ("xref.pdf", "pdf reports 9 pages, extracted 8"),
    ):
        k = next(i for i, ln in enumerate(lines) if ln.endswith(str(folder / name)))
        assert lines[k + 2] == f"             warning: {warning}"  # after "guessed from the text: …"

    def texts(doc_id: str) -> list[str]:
        return [json.loads(ln)["text"] for ln in cli_clauses(doc_id).splitlines()]

    assert texts("short") == ["通知"]
    assert "“里”" in texts("rare")[0] and "𠀀" in texts("rare")[0] and "䶮" in texts("rare")[0]
    assert texts("tw") == ["乾隆年间之规范。", "行政程序应依法执行，防止干燥，了解商品。"]
    assert texts("big5")[0].startswith("为推动电子签章之普及运用")  # 法規網址 is the document's, no clause
    corrupt = [json.loads(ln) for ln in cli_clauses("corrupt").splitlines()]
    assert 2 not in {c["source"]["page"] for c in corrupt}


def test_cli_region_filter_matches_the_short_name():
    assert cli("ingest").returncode == 0
    out = cli("search", "直播", "--region", "深圳", "--k", "50", "--json")  # stored as 广东省深圳市
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)["hits"]
    assert hits and {h["metadata"]["region"] for h in hits} == {"广东省深圳市"}
    out = cli("search", "直播", "--region", "广东", "--k", "50", "--json")  # the province: its cities
    assert {h["metadata"]["region"] for h in json.loads(out.stdout)["hits"]} == {
        "广东省深圳市",
        "广东省清远市",
    }


def test_cli_on_an_empty_knowledge_base_says_to_ingest():
    for verb in (["search", "微视"], ["docs"], ["clauses"]):
        out = cli(*verb)
        assert out.returncode == 0
        home = os.environ["POLICYKB_HOME"]
        assert out.stderr.splitlines()[-1] == (
            f"policykb {verb[0]}: the knowledge base at {home} has no documents; run `policykb ingest`"
        )


def test_cli_search_shows_relevance_from_0_to_1_and_filter_help_has_examples():
    assert cli("ingest").returncode == 0
    out = cli("search", "微视收费", "--k", "3")
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("  ")]
    scores = [float(ln.rsplit("(relevance ", 1)[1].rstrip(")")) for ln in lines if "(relevance " in ln]
    assert len(scores) == 3 and all(0 <= s <= 1 for s in scores) and scores == sorted(scores, reverse=True)
    help_text = " ".join(cli("search", "--help").stdout.split())
    assert "--region REGION region, or a part of its name: 深圳 (广东省深圳市), 广东, 上海, 全国" in help_text
    assert (
        "--date-from DATE_FROM notices dated on or after: yyyy[-mm[-dd]], e.g. 2021 or 2021-03" in help_text
    )


def test_cli_docs_rm_and_edit():
    assert cli("ingest").returncode == 0
    out = cli(
        "docs",
        "edit",
        "shenzhen-weishi-2020",
        "--title",
        "腾讯微视专场活动指引",
        "--region",
        "",
        "--valid-to",
        "2020-07-31",
    )
    assert (out.returncode, out.stdout) == (
        0,
        "edited shenzhen-weishi-2020: title = 腾讯微视专场活动指引, region = (cleared), valid_to = 2020-07-31\n",
    )
    hit = json.loads(cli("search", "微视收费", "--k", "1", "--json").stdout)["hits"][0]
    assert (
        hit["title"] == "腾讯微视专场活动指引" and hit["metadata"]["region"] is None
    )  # search sees it at once
    assert "region" not in json.loads(cli("docs", "--json").stdout.splitlines()[3])["guessed"]
    again = cli("ingest")  # the same file again: unchanged, the correction stays
    assert "  unchanged   shenzhen-weishi-2020" in again.stdout
    assert json.loads(cli("docs", "--json").stdout.splitlines()[3])["title"] == "腾讯微视专场活动指引"

    out = cli("docs", "rm", "qingyuan-livestream-festival-2021")
    assert (
        out.stdout
        == "removed qingyuan-livestream-festival-2021 (38 clauses): 2021年清远市“粤贸全国，云上清远”直播节系列活动实施方案\n"
    )
    assert all(
        h["doc_id"] != "qingyuan-livestream-festival-2021"
        for h in json.loads(cli("search", "清远直播节", "--k", "50", "--json").stdout)["hits"]
    )
    assert len(cli("docs").stdout.splitlines()) == 3

    bad = cli("docs", "rm", "nope")
    assert bad.returncode == 1 and bad.stderr == (
        "policykb docs rm: no document 'nope'; documents: douyin-gov-media-rules-2023, "
        "shanghai-livestream-measures-2020, shenzhen-weishi-2020\n"
    )
    bad = cli("docs", "edit", "shenzhen-weishi-2020", "--date", "2020-13")
    assert bad.returncode == 2
    assert (
        bad.stderr == "policykb docs edit: date '2020-13' has no month 13; use yyyy-mm-dd, yyyy-mm or yyyy\n"
    )
    assert cli("docs", "edit", "shenzhen-weishi-2020").stderr == (
        "policykb docs edit: nothing to change; fields: title, issuer, region, platform, date, doc_type, "
        "doc_number, signed, published, addressees, copy_to, printed, valid_from, valid_to\n"
    )
    assert cli("docs", "edit", "shenzhen-weishi-2020", "--title", " ").stderr == (
        "policykb docs edit: a document needs a title\n"
    )
