"""load(): every supported kind, and every way a file can be bad (RELIABILITY 8-15)."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile

import docx
import pytest
from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.errors import (
    EmptyDocumentError,
    EncryptedFileError,
    IngestError,
    InvalidFileError,
    TooLargeError,
    UnsupportedFileError,
)
from policykb.ingest.loaders import LoadedText, html_main_text, join_pages, load, strip_page_furniture

ALLOWED = "allowed: .txt .md .pdf .docx .html .htm .png .jpg .jpeg .tif .tiff .ofd .doc"


def message(exc_info: pytest.ExceptionInfo) -> str:
    return str(exc_info.value)


@pytest.fixture(scope="module")
def shenzhen(data_dir) -> str:
    return (data_dir / "encodings" / "shenzhen.utf8.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def law_text(data_dir) -> str:
    """A few hundred short lines of real Simplified text, for multi-page PDFs."""
    text = (data_dir / "external" / "ecommerce_law_2018.md").read_text(encoding="utf-8")
    return "\n".join(ln for ln in text.splitlines() if ln.strip())[:6000]


# --- text files ------------------------------------------------------------------------------------


def test_txt_gbk(tmp_path, shenzhen):
    f = tmp_path / "sz.txt"
    f.write_bytes(shenzhen.encode("gbk"))
    assert load(f) == LoadedText(str(f), shenzhen, "text", None, "gb18030", 0.97, ())


def test_md_big5_and_path_as_given(tmp_path, data_dir, monkeypatch):
    (tmp_path / "tw.md").write_bytes((data_dir / "encodings" / "tw_esign.big5.md").read_bytes())
    monkeypatch.chdir(tmp_path)
    doc = load("tw.md")
    assert (doc.path, doc.kind, doc.encoding, doc.warnings) == ("tw.md", "markdown", "big5", ())
    assert doc.text == (data_dir / "encodings" / "tw_esign.utf8.md").read_text(encoding="utf-8")


def test_extension_is_case_insensitive(tmp_path):
    f = tmp_path / "A.TXT"
    f.write_bytes("通知".encode("gbk"))
    assert (load(f).kind, load(f).text) == ("text", "通知")


def test_line_endings_are_the_only_change(tmp_path):
    f = tmp_path / "crlf.txt"
    f.write_bytes("第一条　 通知 \r\n\r\n\t第二条\r第三条  \n".encode("gbk"))
    assert load(f).text == "第一条　 通知 \n\n\t第二条\n第三条  \n"


def test_utf8_bom_and_rare_characters(tmp_path, data_dir):
    rare = (data_dir / "encodings" / "mixed_rare.utf8.txt").read_text(encoding="utf-8")
    f = tmp_path / "rare.txt"
    f.write_bytes(b"\xef\xbb\xbf" + rare.replace("\n", "\r\n").encode("utf-8"))
    doc = load(f)
    assert (doc.text, doc.encoding, doc.confidence) == (rare, "utf-8-sig", 1.0)


def test_low_confidence_is_a_warning(tmp_path):
    f = tmp_path / "w.txt"
    f.write_bytes("办法".encode("gbk"))
    assert load(f).warnings == ("low confidence in encoding gb18030 (0.51)",)


def test_empty_file(tmp_path):
    f = tmp_path / "empty.txt"
    f.write_bytes(b"")
    with pytest.raises(EmptyDocumentError) as exc:
        load(f)
    assert message(exc) == f"{f}: empty file (0 bytes)"


def test_whitespace_only(tmp_path):
    f = tmp_path / "blank.md"
    f.write_bytes(" \r\n\t\n　\n".encode())
    with pytest.raises(EmptyDocumentError) as exc:
        load(f)
    assert message(exc) == f"{f}: no text (only whitespace)"


def test_binary_file(tmp_path):
    f = tmp_path / "photo.txt"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: binary data, not text"


def test_pdf_renamed_txt_is_binary(tmp_path, make_pdf):
    f = tmp_path / "notice.txt"
    f.write_bytes(make_pdf("通知", tmp_path / "n.pdf").read_bytes())
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: binary data, not text"


def test_size_cap(tmp_path):
    f = tmp_path / "big.txt"
    f.write_bytes(b"a" * (50 * 2**20 + 1))
    with pytest.raises(TooLargeError) as exc:
        load(f)
    assert message(exc) == f"{f}: file is 52428801 bytes; the limit is 52428800 bytes"


def test_size_cap_is_a_parameter(tmp_path):
    f = tmp_path / "small.txt"
    f.write_bytes("通知".encode() * 10)
    with pytest.raises(TooLargeError) as exc:
        load(f, max_bytes=59)
    assert message(exc) == f"{f}: file is 60 bytes; the limit is 59 bytes"


@pytest.mark.parametrize("codec", ["utf-8", "gbk"])
def test_50mb_single_line_loads_in_bounded_time(tmp_path, codec, shenzhen):
    line = "".join(shenzhen.split()).encode(codec)
    data = (line * (50 * 10**6 // len(line) + 1))[: 50 * 10**6]
    data = data[: len(data.decode(codec, errors="ignore").encode(codec))]  # end on a whole character
    f = tmp_path / "one_line.txt"
    f.write_bytes(data)
    started = time.monotonic()
    doc = load(f)
    # A guard against a hang (quadratic scoring, backtracking), not a benchmark: it takes about a second.
    assert time.monotonic() - started < 60
    assert (doc.encoding, len(doc.text.encode(codec)), "\n" in doc.text) == (
        "utf-8" if codec == "utf-8" else "gb18030",
        len(data),
        False,
    )


# --- names and paths -------------------------------------------------------------------------------


def test_dot_dot_path_is_just_a_path(tmp_path, monkeypatch):
    (tmp_path / "x.txt").write_bytes("通知".encode("gbk"))
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    doc = load("../../x.txt")
    assert (doc.path, doc.text) == ("../../x.txt", "通知")


def test_dot_dot_path_that_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidFileError) as exc:
        load("../../no-such-dir/x.txt")
    assert message(exc) == "../../no-such-dir/x.txt: no such file"


@pytest.mark.parametrize(
    "name",
    [
        "-rf.txt",
        "with space.txt",
        "new\nline.txt",
        "通知（2020）.txt",
        "..txt",
        os.fsdecode(b"\xff\xfe.txt"),
        "'; DROP TABLE x;--.md",
    ],
)
def test_weird_names(tmp_path, name):
    f = tmp_path / name
    f.write_bytes("公告".encode())
    assert load(f).text == "公告"
    assert load(str(f)).path == str(f)


def test_name_too_long(tmp_path):
    f = tmp_path / ("a" * 300 + ".txt")
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: cannot read (File name too long)"


def test_directory(tmp_path):
    for d in (tmp_path / "folder", tmp_path / "folder.txt"):
        d.mkdir()
        with pytest.raises(InvalidFileError) as exc:
            load(d)
        assert message(exc) == f"{d}: is a directory, not a file"


def test_fifo_is_not_opened(tmp_path):
    f = tmp_path / "pipe.txt"
    os.mkfifo(f)
    with pytest.raises(InvalidFileError) as exc:
        load(f)  # opening a FIFO would block for ever
    assert message(exc) == f"{f}: not a regular file"


@pytest.mark.parametrize(
    "name, found",
    [
        ("setup.exe", "'.exe'"),
        ("old.wps", "'.wps'"),
        ("README", "no extension"),
        ("notice.pdf.zip", "'.zip'"),
        ("x.txt.", "no extension"),
    ],
)
def test_unsupported_extension(tmp_path, name, found):
    f = tmp_path / name
    f.write_bytes(b"anything")
    with pytest.raises(UnsupportedFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: unsupported file type ({found}); {ALLOWED}"


# --- PDF -------------------------------------------------------------------------------------------


def test_pdf_pages_headers_and_page_numbers(tmp_path, make_pdf, pdf_tools, shenzhen):
    f = make_pdf(shenzhen, tmp_path / "sz.pdf")
    expected = pdf_tools.expected_pages(shenzhen)
    assert len(expected) == 5
    doc = load(f)
    assert (doc.kind, doc.encoding, doc.confidence, doc.warnings) == ("pdf", None, None, ())
    assert doc.text == "\n".join(expected)
    assert [doc.text[s:e] for s, e in doc.pages] == expected
    assert "深圳市商务局文件" not in doc.text and not re.search(r"- \d -", doc.text)


def test_pdf_cjk_has_no_spurious_spaces(tmp_path, make_pdf, law_text):
    doc = load(make_pdf(law_text, tmp_path / "law.pdf", lines_per_page=40))
    assert "".join(doc.text.split()) == "".join(law_text.split())
    assert doc.text.count(" ") == sum(p.count(" ") for p in doc.text.split("\n"))  # no space was added ...
    assert all(" " not in ln for ln in doc.text.split("\n") if ln.startswith("第") and "条" not in ln[:8])


@pytest.mark.parametrize(
    "footer", ["第 {n} 页", "第{n}页 共{total}页", "{n}/{total}", "{n}", "— {n} —", "Page {n} of {total}"]
)
def test_pdf_page_number_styles(tmp_path, make_pdf, pdf_tools, law_text, footer):
    doc = load(make_pdf(law_text, tmp_path / "p.pdf", header=None, footer=footer))
    assert doc.text == "\n".join(pdf_tools.expected_pages(law_text))


def test_pdf_single_page_without_header(tmp_path, make_pdf):
    text = "第一条 为了规范直播电商活动。\n第二条 本办法自发布之日起施行。"
    doc = load(make_pdf(text, tmp_path / "one.pdf", header=None))
    assert (doc.text, doc.pages) == (text, ((0, 32),))


def test_pdf_from_a_cff_cjk_font_is_read_with_pdfium(data_dir):
    # Noto Sans CJK is CFF-based; fpdf2 gives it an embedded CMap that pdfminer ignores.
    doc = load(data_dir / "loaders" / "noto_cff.pdf")
    assert doc.text == "第一条 为了规范直播电商活动，制定本办法。\n第二条 本办法自发布之日起施行。"


def test_scanned_page_among_text_pages(tmp_path, pdf_tools):
    png = tmp_path / "g.png"
    png.write_bytes(pdf_tools.grey_png(32, 32))
    pdf = pdf_tools.new_pdf()
    for i in range(3):
        pdf.add_page()
        if i == 1:
            pdf.image(str(png), x=20, y=20, w=100)
        else:
            pdf.set_xy(20, 20)
            pdf.cell(170, 8, f"第{'一三'[i // 2]}条 正文。")
    f = tmp_path / "mixed.pdf"
    pdf.output(str(f))
    doc = load(f)
    assert (doc.text, doc.pages) == ("第一条 正文。\n\n第三条 正文。", ((0, 7), (8, 8), (9, 16)))
    assert doc.warnings == ("page 2: no text",)


def test_blank_pdf(tmp_path):
    pdf = FPDF()
    pdf.add_page()
    pdf.add_page()
    f = tmp_path / "blank.pdf"
    pdf.output(str(f))
    with pytest.raises(EmptyDocumentError) as exc:
        load(f)
    assert message(exc) == f"{f}: no text on any of the 2 pages, and no images"


def test_encrypted_pdf(tmp_path, pdf_tools):
    pdf = pdf_tools.new_pdf()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.cell(170, 8, "第一条 保密。")
    f = tmp_path / "locked.pdf"
    pdf.output(str(f))
    with pytest.raises(EncryptedFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: encrypted PDF: a password is needed to read it"


def test_pdf_encrypted_with_empty_user_password_is_readable(tmp_path, pdf_tools):
    pdf = pdf_tools.new_pdf()
    pdf.set_encryption(owner_password="owner")  # restrictions only; anyone may open it
    pdf.add_page()
    pdf.cell(170, 8, "第一条 公开。")
    f = tmp_path / "restricted.pdf"
    pdf.output(str(f))
    assert load(f).text == "第一条 公开。"


def test_truncated_pdf(tmp_path, make_pdf, law_text):
    data = make_pdf(law_text, tmp_path / "full.pdf").read_bytes()
    f = tmp_path / "cut.pdf"
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: truncated PDF: no %%EOF marker in the last 1024 bytes"


def test_pdf_header_only(tmp_path):
    f = tmp_path / "stub.pdf"
    f.write_bytes(b"%PDF-1.7\n%%EOF\n")
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc).startswith(f"{f}: not a readable PDF (")


def test_zip_renamed_pdf(tmp_path):
    f = tmp_path / "notice.pdf"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notice.txt", "通知")
    f.write_bytes(buf.getvalue())
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: a ZIP archive (e.g. a DOCX) renamed .pdf, not a PDF"


def test_wrong_magic_pdf(tmp_path):
    f = tmp_path / "fake.pdf"
    f.write_text("hello world, this is not a PDF", encoding="utf-8")
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: not a PDF: no %PDF- header (starts with b'hello wo')"


def test_decompression_bomb(tmp_path, pdf_tools):
    f = pdf_tools.bomb_pdf(tmp_path / "bomb.pdf", inflated_bytes=2 * 2**30)
    assert f.stat().st_size < 3 * 2**20  # 3 MB on disk, 2 GiB inflated
    with pytest.raises(TooLargeError) as exc:
        load(f)
    assert message(exc) == f"{f}: PDF parsing exceeded the memory limit of 1024 MB (a decompression bomb?)"


def test_smaller_bomb_under_a_smaller_limit(tmp_path, pdf_tools):
    f = pdf_tools.bomb_pdf(tmp_path / "bomb.pdf", inflated_bytes=512 * 2**20)
    with pytest.raises(TooLargeError) as exc:
        load(f, pdf_max_memory_mb=256)
    assert message(exc) == f"{f}: PDF parsing exceeded the memory limit of 256 MB (a decompression bomb?)"


def test_pdf_time_limit(tmp_path, make_pdf):
    f = make_pdf("通知", tmp_path / "slow.pdf")
    with pytest.raises(TooLargeError) as exc:
        load(f, pdf_timeout_s=0.01)  # less than the child process needs to start
    assert message(exc) == (
        f"{f}: PDF parsing took longer than the limit of 0.01 s (a decompression bomb or a malformed file?)"
    )


def _page_objects(pdf: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb"\n(\d+) 0 obj\n<<\n/Contents \d+ 0 R\n/Parent", pdf)]


def _object_span(pdf: bytes, num: int) -> tuple[int, int]:
    start = pdf.index(b"\n%d 0 obj\n" % num) + 1
    return start, pdf.index(b"endobj", start) + len(b"endobj")


def test_corrupt_content_stream_flags_the_page(tmp_path, make_pdf, pdf_tools, law_text):
    data = bytearray(make_pdf(law_text, tmp_path / "ok.pdf", lines_per_page=20).read_bytes())
    page2 = _page_objects(bytes(data))[1]
    start, end = _object_span(bytes(data), page2)
    contents = int(re.search(rb"/Contents (\d+) 0 R", bytes(data[start:end])).group(1))
    start, end = _object_span(bytes(data), contents)
    s = data.index(b"stream\n", start) + len(b"stream\n")
    e = data.index(b"endstream", s)
    data[s:e] = b"\xff" * (e - s)  # same length: the xref stays right
    f = tmp_path / "corrupt.pdf"
    f.write_bytes(bytes(data))
    expected = pdf_tools.expected_pages(law_text, 20)
    doc = load(f)
    assert doc.warnings == ("page 2: no text",)
    assert [doc.text[s:e] for s, e in doc.pages] == [expected[0], "", *expected[2:]]


def test_broken_xref_is_recovered(tmp_path, make_pdf, pdf_tools, law_text):
    data = make_pdf(law_text, tmp_path / "ok.pdf", lines_per_page=20).read_bytes()
    i = data.rindex(b"startxref")
    f = tmp_path / "xref.pdf"
    f.write_bytes(data[:i] + b"startxref\n999999\n%%EOF\n")
    doc = load(f)
    assert (doc.text, doc.warnings) == ("\n".join(pdf_tools.expected_pages(law_text, 20)), ())


def test_missing_page_object_is_reported(tmp_path, make_pdf, pdf_tools, law_text):
    data = bytearray(make_pdf(law_text, tmp_path / "ok.pdf", lines_per_page=20).read_bytes())
    pages = _page_objects(bytes(data))
    assert len(pages) == 9
    start, end = _object_span(bytes(data), pages[2])
    data[start:end] = b" " * (end - start)
    i = data.rindex(b"startxref")
    f = tmp_path / "missing.pdf"
    f.write_bytes(bytes(data[:i]) + b"startxref\n999999\n%%EOF\n")
    expected = pdf_tools.expected_pages(law_text, 20)
    doc = load(f)
    assert doc.warnings == ("pdf reports 9 pages, extracted 8",)
    assert [doc.text[s:e] for s, e in doc.pages] == expected[:2] + expected[3:]


def test_strip_page_furniture():
    pages = [
        "深圳市商务局文件\n第一条 甲。\n第二条 乙。\n- 1 -",
        "深圳市商务局文件\n第三条 丙。\n第 2 页 共 3 页",
        "深圳市商务局文件\n第四条 丁。\n3",
    ]
    assert strip_page_furniture(pages) == ["第一条 甲。\n第二条 乙。", "第三条 丙。", "第四条 丁。"]


def test_strip_page_furniture_keeps_body_numbers_and_unrepeated_lines():
    pages = ["2\n第一条 甲。\n附件1", "第二条 乙。\n5\n10/20", "3\n第三条 丙。"]
    # "2" on page 1 and "5" on page 2 are not their page numbers; "3" on page 3 is; "10/20" is a page number.
    assert strip_page_furniture(pages) == ["2\n第一条 甲。\n附件1", "第二条 乙。\n5", "第三条 丙。"]


def test_strip_page_furniture_header_with_page_number():
    pages = [f"2020年第3期 深圳商务 {n}\n正文{'甲乙丙'[n - 1]}。" for n in (1, 2, 3)]
    assert strip_page_furniture(pages) == ["正文甲。", "正文乙。", "正文丙。"]


def test_single_page_keeps_its_first_line():
    assert strip_page_furniture(["深圳市商务局文件\n正文。\n- 1 -"]) == ["深圳市商务局文件\n正文。"]


def test_join_pages():
    assert join_pages(["甲乙", "", "丙"]) == ("甲乙\n\n丙", ((0, 2), (3, 3), (4, 5)))


# --- DOCX ------------------------------------------------------------------------------------------


def _docx_bytes(build) -> bytes:
    document = docx.Document()
    build(document)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_paragraphs_and_tables_in_order(tmp_path):
    def build(d):
        d.add_heading("关于开展直播电商活动的通知", level=1)
        d.add_paragraph("各区商务主管部门：")
        table = d.add_table(rows=3, cols=3)
        rows = [["序号", "时间", "项目"], ["1", "10月23日", "开幕式"], ["2", "10月24日", "直播带货"]]
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
        table.cell(0, 1).merge(table.cell(0, 2))  # a merged header cell must appear once
        table.cell(0, 1).text = "安排"
        d.add_paragraph("")
        d.add_paragraph("特此通知。")

    f = tmp_path / "n.docx"
    f.write_bytes(_docx_bytes(build))
    doc = load(f)
    assert (doc.kind, doc.pages, doc.encoding, doc.warnings) == ("docx", None, None, ())
    assert doc.text == (
        "关于开展直播电商活动的通知\n各区商务主管部门：\n\t序号\t安排\t\n\t1\t10月23日\t开幕式\n"
        "\t2\t10月24日\t直播带货\n\n特此通知。"
    )


def test_docx_nested_table_and_multi_paragraph_cell(tmp_path):
    def build(d):
        table = d.add_table(rows=1, cols=2)
        table.cell(0, 0).text = "地点"
        cell = table.cell(0, 1)
        cell.text = "顺盈时代广场"
        cell.add_paragraph("各县电商产业园")
        inner = cell.add_table(rows=1, cols=2)
        inner.cell(0, 0).text = "清城区"
        inner.cell(0, 1).text = "清新区"

    f = tmp_path / "t.docx"
    f.write_bytes(_docx_bytes(build))
    assert load(f).text == "\t地点\t顺盈时代广场 各县电商产业园 清城区 清新区"


W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def test_docx_tracked_changes_fields_and_content_controls(tmp_path):
    from docx.oxml import parse_xml

    def build(d):
        p = d.add_paragraph("第一条 活动")
        p._p.append(parse_xml(f'<w:ins {W_NS} w:id="1" w:author="a"><w:r><w:t>不收取</w:t></w:r></w:ins>'))
        p._p.append(
            parse_xml(f'<w:del {W_NS} w:id="2" w:author="a"><w:r><w:delText>收取</w:delText></w:r></w:del>')
        )
        p._p.append(
            parse_xml(f'<w:smartTag {W_NS} w:uri="u" w:element="e"><w:r><w:t>费用</w:t></w:r></w:smartTag>')
        )
        p._p.append(parse_xml(f"<w:r {W_NS}><w:tab/><w:t>。</w:t><w:br/><w:t>（二）</w:t></w:r>"))
        d.element.body.insert(
            len(d.element.body) - 1,
            parse_xml(
                f"<w:sdt {W_NS}><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>第二条 控件内的段落。</w:t></w:r></w:p>"
                "</w:sdtContent></w:sdt>"
            ),
        )

    f = tmp_path / "tracked.docx"
    f.write_bytes(_docx_bytes(build))
    assert load(f).text == "第一条 活动不收取费用\t。\n（二）\n第二条 控件内的段落。"


def test_docx_vertically_merged_cell_is_empty_below(tmp_path):
    def build(d):
        table = d.add_table(rows=2, cols=2)
        table.cell(0, 0).merge(table.cell(1, 0)).text = "开幕式"
        table.cell(0, 1).text = "10月23日"
        table.cell(1, 1).text = "10月24日"

    f = tmp_path / "vmerge.docx"
    f.write_bytes(_docx_bytes(build))
    assert load(f).text == "\t开幕式\t10月23日\n\t\t10月24日"


def test_docx_empty(tmp_path):
    f = tmp_path / "e.docx"
    f.write_bytes(_docx_bytes(lambda d: d.add_paragraph("  ")))
    with pytest.raises(EmptyDocumentError) as exc:
        load(f)
    assert message(exc) == f"{f}: no text (only whitespace)"


def test_docx_not_a_zip(tmp_path):
    f = tmp_path / "fake.docx"
    f.write_bytes("通知".encode())
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: not a DOCX: no ZIP header (starts with {'通知'.encode()!r})"


def test_docx_truncated(tmp_path):
    data = _docx_bytes(lambda d: d.add_paragraph("第一条"))
    f = tmp_path / "cut.docx"
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: corrupted DOCX (File is not a zip file)"


def test_docx_zip_without_a_document(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    f = tmp_path / "plain.docx"
    f.write_bytes(buf.getvalue())
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc) == (
        f"{f}: corrupted DOCX (KeyError: \"There is no item named '[Content_Types].xml' in the archive\")"
    )


def test_docx_broken_xml(tmp_path):
    src = zipfile.ZipFile(io.BytesIO(_docx_bytes(lambda d: d.add_paragraph("第一条"))))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            part = src.read(info.filename)
            out.writestr(info, part[:-40] if info.filename == "word/document.xml" else part)
    f = tmp_path / "badxml.docx"
    f.write_bytes(buf.getvalue())
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc).startswith(f"{f}: corrupted DOCX (XMLSyntaxError: ")


def test_legacy_doc_renamed_docx(tmp_path):
    f = tmp_path / "old.docx"
    f.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "WordDocument".encode("utf-16-le"))
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: a legacy Word .doc (OLE2) file renamed .docx, not a DOCX"


def test_encrypted_docx(tmp_path):
    # Office wraps an encrypted DOCX in an OLE2 file with an "EncryptedPackage" stream.
    f = tmp_path / "locked.docx"
    f.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le"))
    with pytest.raises(EncryptedFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: encrypted DOCX: a password is needed to read it"


def test_docx_that_inflates_too_far(tmp_path):
    data = _docx_bytes(lambda d: d.add_paragraph("通知" * 20000))
    xml = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    f = tmp_path / "big.docx"
    f.write_bytes(data)
    limit = len(data) + 100
    assert xml > 2 * limit
    with pytest.raises(TooLargeError) as exc:
        load(f, max_bytes=limit)
    assert message(exc) == f"{f}: DOCX inflates to {xml} bytes; the limit is {2 * limit} bytes"


# --- HTML ------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>清远市商务局</title><style>p {{ color: red }}</style><script>var x = "广告";</script></head>
<body>
<header><a href="/">首页</a> 政务公开</header>
<nav><ul><li>首页</li><li>通知公告</li></ul></nav>
<div class="sidebar"><a href="/a">相关链接</a></div>
<article>
  <header><h1>关于举办直播节系列活动的通知</h1><span>发布日期：2021-10-15</span></header>
  <p>各县（市、区）商务主管部门：</p>
  <p>为推动直播电商发展，<b>现将</b>有关事项
     通知如下。<br>一、活动时间<br/>10月23日至11月14日。</p>
  <table><tr><th>序号</th><th>项目</th></tr><tr><td>1</td><td>开幕式</td></tr></table>
  <!-- 注释不是正文 -->
  <p>　　特此通知。</p>
</article>
<aside>热门文章</aside>
<form><input value="搜索"></form>
<footer>版权所有 清远市人民政府</footer>
</body></html>"""

PAGE_TEXT = (
    "关于举办直播节系列活动的通知\n发布日期：2021-10-15\n各县（市、区）商务主管部门：\n"
    "为推动直播电商发展，现将有关事项 通知如下。\n一、活动时间\n10月23日至11月14日。\n"
    "序号 | 项目\n1 | 开幕式\n　　特此通知。"
)


def test_html_article_with_meta_charset(tmp_path):
    f = tmp_path / "n.html"
    f.write_bytes(PAGE.format().encode("gbk"))
    doc = load(f)
    assert (doc.kind, doc.text, doc.encoding, doc.warnings) == ("html", PAGE_TEXT, "gb18030", ())


def test_htm_without_charset_is_scored(tmp_path):
    f = tmp_path / "n.htm"
    f.write_bytes(PAGE.format().replace("; charset=gb2312", "").encode("gbk"))
    doc = load(f)
    assert (doc.text, doc.encoding, doc.warnings) == (PAGE_TEXT, "gb18030", ())


def test_html_wrong_declared_charset(tmp_path):
    f = tmp_path / "n.html"
    f.write_bytes(PAGE.format().replace("gb2312", "utf-8").encode("gbk"))
    doc = load(f)
    assert (doc.text, doc.encoding, doc.warnings) == (
        PAGE_TEXT,
        "gb18030",
        ("declared charset utf-8 does not decode the file",),
    )


SITE = """<html><body>
    <div id="top"><div class="menu"><a>首页</a> | <a>机构概况</a> | <a>政务公开</a></div>
      <div class="crumb">当前位置：<a>首页</a> &gt; <a>政务公开</a> &gt; <a>通知公告</a></div></div>
    <div id="wrap">
      <div class="left"><ul>
        <li><a>通知公告</a></li><li><a>政策文件</a></li><li><a>解读回应</a></li></ul></div>
      <div class="right"><div class="content">
        <div class="title">上海市商务委员会关于促进本市直播电商创新发展若干措施的通知</div>
        <div class="text">{body}</div>
      </div></div>
    </div>
    <div id="foot">主办：上海市商务委员会 版权所有</div></body></html>"""
TITLE = "上海市商务委员会关于促进本市直播电商创新发展若干措施的通知"


def test_html_without_semantic_tags_picks_the_text_block():
    body = (
        "<p>各区商务主管部门：</p>"
        "<p>为贯彻落实国家关于发展数字经济的部署，推动直播电商创新发展，制定以下措施。</p>"
    )
    assert html_main_text(SITE.format(body=body)) == (
        f"{TITLE}\n各区商务主管部门：\n为贯彻落实国家关于发展数字经济的部署，推动直播电商创新发展，制定以下措施。"
    )


def test_html_long_text_block_keeps_the_title_beside_it(law_text):
    paragraphs = [p for p in law_text.split("\n") if "<" not in p][:60]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    assert html_main_text(SITE.format(body=body)) == "\n".join([TITLE, *paragraphs])


def test_html_site_name_far_from_the_text_is_not_a_title(law_text):
    paragraphs = [p for p in law_text.split("\n") if "<" not in p][:30]
    page = SITE.format(body="".join(f"<p>{p}</p>" for p in paragraphs))
    page = page.replace("<body>", '<body><h1 class="site-title">上海市商务委员会</h1>')
    assert html_main_text(page) == "\n".join([TITLE, *paragraphs])


def test_html_link_heavy_paragraph_inside_the_text_is_kept():
    body = '<p>各区商务主管部门：</p><p>附件：<a href="a.docx">直播电商创新发展若干措施</a></p>'
    expected = f"{TITLE}\n各区商务主管部门：\n附件：直播电商创新发展若干措施"
    assert html_main_text(SITE.format(body=body)) == expected


def test_html_layout_table_keeps_paragraphs():
    markup = "<table><tr><td><p>第一段落的正文。</p><p>第二段落的正文。</p></td></tr></table>"
    assert html_main_text(markup) == "第一段落的正文。\n第二段落的正文。"


def test_html_pre_keeps_its_lines():
    assert html_main_text("<div><pre>第一行\n  第二行\n\n</pre></div>") == "第一行\n  第二行"


def test_html_deeply_nested_does_not_crash():
    depth = 5000
    markup = "<div>" * depth + "<p>通知正文。</p>" + "</div>" * depth
    assert html_main_text(markup) == "通知正文。"


def test_html_with_no_text(tmp_path):
    f = tmp_path / "empty.html"
    f.write_bytes(b"<html><head><title>x</title></head><body><script>1</script></body></html>")
    with pytest.raises(EmptyDocumentError) as exc:
        load(f)
    assert message(exc) == f"{f}: no text (only whitespace)"


def test_every_failure_is_an_ingest_error(tmp_path):
    """A batch catches IngestError: nothing here may raise anything else."""
    bad = {
        "a.txt": b"\x00\x01",
        "b.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF",
        "c.docx": b"PK\x03\x04junk",
        "d.html": bytes(range(0x80, 0x100)) * 4,
        "e.md": b"",
        "f.htm": b"\xff\xfe",
        "g.pdf": b"%PDF-",
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(IngestError):
            load(tmp_path / name)


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("<>/=\"' abpdivtrtdscriptarticle通知第一条　\n&;!-")), max_size=200)
)
def test_any_markup_gives_lines(markup):
    for line in html_main_text(markup).split("\n"):
        assert line == line.strip(" ")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.text(alphabet=st.sampled_from(list("深圳第页共条 -—/0123456789\n")), max_size=40), max_size=6)
)
def test_furniture_removal_only_removes_edge_lines(pages):
    for before, after in zip(pages, strip_page_furniture(pages), strict=True):
        assert after in before


@pytest.mark.parametrize("name", ["secret.pdf", "secret.txt"])
def test_unreadable_file(tmp_path, monkeypatch, name):
    from policykb.ingest import loaders

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    f = tmp_path / name
    f.write_bytes(b"%PDF-1.4\n%%EOF\n")
    monkeypatch.setattr(loaders, "open", denied, raising=False)  # root may read any file, so pretend
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert message(exc) == f"{f}: cannot read (Permission denied)"
