"""File → decoded text: the first step of ingest, for .txt .md .pdf .docx .doc .html .htm .ofd, and by OCR for
scanned PDFs and images (.png .jpg .jpeg .tif .tiff).

Every way a file can be bad ends in one of the named errors of ``policykb.errors``, so a batch
ingest can report the file and go on (RELIABILITY 8-15). PDFs are parsed in a child process under
a memory and time limit, because a few hundred kilobytes can inflate to gigabytes.

>>> from policykb.ingest.loaders import load
>>> doc = load("tests/data/encodings/shenzhen.gbk.txt")  # doctest: +SKIP
>>> doc.kind, doc.encoding, doc.text.splitlines()[2]  # doctest: +SKIP
('text', 'gb18030', '深 圳 市 商 务 局')
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from policykb.errors import (
    EmptyDocumentError,
    EncryptedFileError,
    InvalidFileError,
    TooLargeError,
    UnsupportedFileError,
)
from policykb.ingest.decode import decode_text, normalize_newlines
from policykb.ingest.ocr import (
    ENGINE,
    IMAGE_KINDS,
    Span,
    close_enumerators,
    low_confidence,
    normalise,
    ocr_file,
)
from policykb.ingest.ofd import ofd_pages
from policykb.ingest.worddoc import doc_text

KINDS = {".txt": "text", ".md": "markdown", ".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html"}
KINDS |= IMAGE_KINDS  # scanned pages, read by OCR
KINDS[".ofd"] = "ofd"  # GB/T 33190 e-documents (ingest/ofd.py)
KINDS[".doc"] = "doc"  # Word 97-2003, through antiword or catdoc (ingest/worddoc.py)
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
ALLOWED = " ".join(KINDS)
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc, and Office's encrypted-package wrapper
PDF_HEAD = 1024  # the %PDF- header may follow a little junk; readers look this far
PDF_TAIL = 1024  # ... and %%EOF must be within this many bytes of the end
DOCX_XML_FACTOR = 2  # the XML of a DOCX may inflate to this many times max_bytes
# Settings.parse_timeout_s: the time limit of a PDF parse, and of each page a scan is read by OCR.
PARSE_TIMEOUT_S = 60.0
_WORKER = (
    "import sys; from policykb.ingest.loaders import pdf_worker_main; "
    "pdf_worker_main(sys.argv[1], int(sys.argv[2]))"
)


@dataclass(frozen=True)
class LoadedText:
    path: str  # as given
    text: str  # decoded; PDF: page texts joined with "\n", headers/footers/page numbers removed
    kind: str  # "text" | "markdown" | "pdf" | "docx" | "html"
    pages: tuple[tuple[int, int], ...] | None  # PDF only: (start, end) of page i+1 inside `text`
    encoding: str | None  # text and HTML files: the codec chosen
    confidence: float | None  # 0..1 score of the chosen decoding
    warnings: tuple[str, ...]  # each names the problem, e.g. "page 3: no text"
    ocr_engine: str | None = None  # the text was read from page images by this OCR engine
    ocr_spans: tuple[Span, ...] = ()  # (start, end, confidence) of each OCR line in `text`


def load(
    path: str | Path,
    *,
    max_bytes: int = 50 * 2**20,
    pdf_timeout_s: float = PARSE_TIMEOUT_S,
    pdf_max_memory_mb: int = 1024,
) -> LoadedText:
    """Read one file and return its decoded text.

    >>> doc = load("notice.pdf")  # doctest: +SKIP
    >>> doc.kind, doc.pages[0], doc.warnings  # doctest: +SKIP
    ('pdf', (0, 412), ('page 3: no text',))

    Raises ``UnsupportedFileError``, ``InvalidFileError``, ``EncryptedFileError``, ``TooLargeError``,
    ``NeedsOCRError`` (a scan, when no OCR engine is installed) or ``EmptyDocumentError`` (all
    ``IngestError``), with the path in the message.
    """
    name = str(path)
    file = Path(path)
    kind = _check_file(file, name, max_bytes)
    if kind == "pdf":
        return _load_pdf(file, name, pdf_timeout_s, pdf_max_memory_mb)
    if kind == "image":
        _check_image_bytes(file, name)
        return _load_ocr(file, name, "image", pdf_timeout_s, pdf_max_memory_mb)
    data = _read(file, name, max_bytes)
    if kind == "doc":
        return _load_doc(file, name, data, pdf_timeout_s)
    if kind == "docx":
        return _load_docx(name, data, max_bytes)
    if kind == "ofd":
        return _paged(name, "ofd", ofd_pages(data, name, max_bytes))
    decoded = decode_text(data, path=name, declared=_declared_charset(data) if kind == "html" else None)
    text = normalize_newlines(decoded.text)
    if kind == "html":
        text = html_main_text(text)
    _require_text(name, text)
    return LoadedText(name, text, kind, None, decoded.encoding, decoded.confidence, decoded.warnings)


def _check_file(file: Path, name: str, max_bytes: int) -> str:
    try:
        st = file.stat()
    except FileNotFoundError:
        raise InvalidFileError(name, "no such file") from None
    except OSError as exc:  # e.g. a name too long, a loop of symlinks
        raise InvalidFileError(name, f"cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InvalidFileError(name, "is a directory, not a file")
    kind = KINDS.get(file.suffix.lower())
    if kind is None:
        found = repr(file.suffix) if file.suffix else "no extension"
        raise UnsupportedFileError(name, f"unsupported file type ({found}); allowed: {ALLOWED}")
    if not stat.S_ISREG(st.st_mode):
        raise InvalidFileError(name, "not a regular file")
    if st.st_size == 0:
        raise EmptyDocumentError(name, "empty file (0 bytes)")
    if st.st_size > max_bytes:
        raise TooLargeError(name, f"file is {st.st_size} bytes; the limit is {max_bytes} bytes")
    return kind


def _read(file: Path, name: str, max_bytes: int) -> bytes:
    try:
        with open(file, "rb") as f:
            data = f.read(max_bytes + 1)  # bounded even if the file grew since stat()
    except OSError as exc:
        raise InvalidFileError(name, f"cannot read ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise TooLargeError(name, f"file is over the limit of {max_bytes} bytes")
    return data


def _require_text(name: str, text: str) -> None:
    if not text.strip():
        raise EmptyDocumentError(name, "no text (only whitespace)")


# --- PDF -------------------------------------------------------------------------------------------


def _load_pdf(file: Path, name: str, timeout_s: float, memory_mb: int) -> LoadedText:
    _check_pdf_bytes(file, name)
    result = _run_pdf_worker(file, name, timeout_s, memory_mb)
    status = result["status"]
    if status == "encrypted":
        raise EncryptedFileError(name, "encrypted PDF: a password is needed to read it")
    if status == "memory":
        raise TooLargeError(
            name, f"PDF parsing exceeded the memory limit of {memory_mb} MB (a decompression bomb?)"
        )
    if status == "invalid":
        raise InvalidFileError(name, f"not a readable PDF ({result['detail']})")
    if _scanned(result["pages"]):
        return _load_ocr(file, name, "pdf", timeout_s, memory_mb)
    return _assemble_pdf(name, result)


def _load_doc(file: Path, name: str, data: bytes, timeout_s: float) -> LoadedText:
    if data.startswith(ZIP_MAGIC):
        raise InvalidFileError(name, "a ZIP archive (a DOCX?) renamed .doc, not a Word 97-2003 .doc")
    if not data.startswith(OLE_MAGIC):
        raise InvalidFileError(name, f"not a Word .doc: no OLE2 header (starts with {data[:8]!r})")
    text = normalize_newlines(doc_text(file, name, timeout_s=timeout_s)).replace("\f", "\n")
    _require_text(name, text)
    return LoadedText(name, text, "doc", None, None, None, ())


def _paged(name: str, kind: str, pages: list[str]) -> LoadedText:
    """Page texts (an OFD's) as one text: running headers and page numbers removed as for a PDF."""
    if not pages:
        raise EmptyDocumentError(name, "no pages")
    texts = strip_page_furniture([normalize_newlines(p) for p in pages])
    _require_text(name, "".join(texts))
    text, spans = join_pages(texts)
    warnings = tuple(f"page {i + 1}: no text" for i, t in enumerate(texts) if not t.strip())
    return LoadedText(name, text, kind, spans, None, None, warnings)


def _scanned(pages: list[dict[str, Any]]) -> bool:
    """No page has text, and some page has an image: a scan."""
    return any(p["images"] for p in pages) and not any(p["text"].strip() for p in pages)


def _check_image_bytes(file: Path, name: str) -> None:
    try:
        with open(file, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise InvalidFileError(name, f"cannot read ({exc.strerror})") from None
    if not head.startswith(IMAGE_MAGIC):
        raise InvalidFileError(name, f"not a PNG, JPEG or TIFF image (starts with {head!r})")


def _load_ocr(file: Path, name: str, kind: str, timeout_s: float, memory_mb: int) -> LoadedText:
    """Page images read by OCR (``ingest/ocr.py``), each page under the time and memory limits of a PDF
    parse; running headers and page numbers removed as for a text PDF; low-confidence lines are warnings."""
    pages = close_enumerators(ocr_file(file, name, timeout_s=timeout_s, memory_mb=memory_mb))
    texts = [p.text for p in pages]
    kept = strip_page_furniture(texts)
    if not any(t.strip() for t in kept):
        raise EmptyDocumentError(name, f"OCR found no text on any of the {len(pages)} pages")
    text, spans = join_pages(kept)
    text = normalise(text)  # one character for one: the spans stay valid
    ocr_spans = []
    for page, full, part, (start, _) in zip(pages, texts, kept, spans, strict=True):
        cut = full.find(part) if part else 0  # furniture is cut at the page's edges only
        for s, e, conf in page.spans:
            if s >= cut and e <= cut + len(part):
                ocr_spans.append((start + s - cut, start + e - cut, conf))
    warnings = [f"page {i + 1}: no text" for i, t in enumerate(kept) if not t.strip()] + low_confidence(pages)
    return LoadedText(name, text, kind, spans, None, None, tuple(warnings), ENGINE, tuple(ocr_spans))


def _check_pdf_bytes(file: Path, name: str) -> None:
    """Magic bytes first: a ZIP or a cut-off download is named as such, not as a parser error."""
    try:
        with open(file, "rb") as f:
            head = f.read(PDF_HEAD)
            f.seek(max(0, f.seek(0, os.SEEK_END) - PDF_TAIL))
            tail = f.read()
    except OSError as exc:
        raise InvalidFileError(name, f"cannot read ({exc.strerror})") from None
    if b"%PDF-" not in head:
        if head.startswith(ZIP_MAGIC):
            raise InvalidFileError(name, "a ZIP archive (e.g. a DOCX) renamed .pdf, not a PDF")
        raise InvalidFileError(name, f"not a PDF: no %PDF- header (starts with {head[:8]!r})")
    if b"%%EOF" not in tail:
        raise InvalidFileError(name, f"truncated PDF: no %%EOF marker in the last {PDF_TAIL} bytes")


def _run_pdf_worker(file: Path, name: str, timeout_s: float, memory_mb: int) -> dict[str, Any]:
    cmd = [sys.executable, "-c", _WORKER, os.fspath(file), str(memory_mb)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise TooLargeError(
            name,
            f"PDF parsing took longer than the limit of {timeout_s:g} s "
            "(a decompression bomb or a malformed file?)",
        ) from None
    try:
        return cast(dict[str, Any], json.loads(proc.stdout))
    except ValueError:
        pass
    err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    last = err[-1] if err else ""
    # Under RLIMIT_AS, running out of memory shows as a MemoryError, or as an abort/kill in C code.
    if "MemoryError" in last or "bad_alloc" in last or proc.returncode in (-signal.SIGABRT, -signal.SIGKILL):
        return {"status": "memory"}
    detail = last[:200] or f"exit status {proc.returncode}"
    return {"status": "invalid", "detail": f"the parser crashed: {detail}"}


def _assemble_pdf(name: str, result: dict[str, Any]) -> LoadedText:
    pages = result["pages"]
    if not pages:
        raise EmptyDocumentError(name, "PDF has no pages")
    warnings = []
    if result["reported"] is not None and result["reported"] != len(pages):
        warnings.append(f"pdf reports {result['reported']} pages, extracted {len(pages)}")
    texts = strip_page_furniture([normalize_newlines(p["text"]) for p in pages])
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if len(empty) == len(texts):  # (with images it was a scan, read by OCR)
        raise EmptyDocumentError(name, f"no text on any of the {len(pages)} pages, and no images")
    for i, page in enumerate(pages):
        if page["error"]:
            warnings.append(f"page {i + 1}: could not be parsed ({page['error']})")
        if i in empty:
            warnings.append(f"page {i + 1}: no text")
    text, spans = join_pages(texts)
    return LoadedText(name, text, "pdf", spans, None, None, tuple(warnings))


def pdf_worker_main(path: str, memory_mb: int) -> None:
    """Entry point of the child process: limit memory, extract page texts, print JSON."""
    import resource

    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        result = _extract_pdf(path)
    except MemoryError:
        result = {"status": "memory"}
    sys.stdout.write(json.dumps(result))


def _extract_pdf(path: str) -> dict[str, Any]:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError

    try:
        pdf = pdfplumber.open(path)
    except Exception as exc:  # noqa: BLE001
        inner = _unwrap(exc)
        if isinstance(inner, PDFEncryptionError):
            return {"status": "encrypted"}
        return {"status": "invalid", "detail": f"{type(inner).__name__}: {inner}"[:200]}
    with pdf:
        try:
            pages = [_extract_page(page) for page in pdf.pages]
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 — the page tree itself is broken
            inner = _unwrap(exc)
            return {"status": "invalid", "detail": f"page tree: {type(inner).__name__}: {inner}"[:200]}
        reported = _reported_page_count(pdf)
    _fill_from_pdfium(path, pages)
    return {"status": "ok", "reported": reported, "pages": pages}


def _extract_page(page: Any) -> dict[str, Any]:
    try:
        return {"text": _page_text(page), "images": len(page.images), "error": None}
    except Exception as exc:  # noqa: BLE001 — one broken page must not lose the others
        inner = _unwrap(exc)
        return {"text": "", "images": 0, "error": f"{type(inner).__name__}: {inner}"[:200]}


def _page_text(page: Any) -> str:
    """The page's text, each ruled table (two rows and two columns at least) where it stands as row lines
    (``table_row``) instead of loose cells; the text beside a table, in its band, is not kept apart."""
    # extract_text() (not extract_words) puts CJK glyphs with no gap together, without spaces.
    tables = []
    if page.lines or page.rects:  # a ruled table is drawn with lines or rectangles; most pages have none
        tables = sorted(
            (t for t in page.find_tables() if len(t.rows) >= 2 and len(t.columns) >= 2),
            key=lambda t: t.bbox[1],
        )
    if not tables:
        return str(page.extract_text() or "")
    x0, top, x1, bottom = page.bbox
    parts, y = [], top
    for table in tables:
        if table.bbox[1] > y:
            parts.append(page.crop((x0, y, x1, table.bbox[1])).extract_text() or "")
        rows = [[cell or "" for cell in row] for row in table.extract()]
        parts.extend(table_row(row) for row in rows if any(row))
        y = max(y, table.bbox[3])
    if y < bottom:
        parts.append(page.crop((x0, y, x1, bottom)).extract_text() or "")
    return "\n".join(p for p in parts if p)


def _unwrap(exc: BaseException) -> BaseException:
    """pdfplumber wraps pdfminer's errors in a PdfminerException, even a MemoryError, which is re-raised
    so that it ends the worker instead of becoming a page error."""
    inner = exc.args[0] if type(exc).__name__ == "PdfminerException" and exc.args else exc
    if isinstance(inner, MemoryError):
        raise inner from None
    return inner if isinstance(inner, BaseException) else exc


def _reported_page_count(pdf: Any) -> int | None:
    from pdfminer.pdftypes import resolve1

    try:
        return int(resolve1(resolve1(pdf.doc.catalog["Pages"])["Count"]))
    except Exception:  # noqa: BLE001 — a broken page tree: the count is simply unknown
        return None


def _fill_from_pdfium(path: str, pages: list[dict[str, Any]]) -> None:
    """pdfminer finds no characters in some CJK fonts (CID fonts with an embedded CMap, as fpdf2 writes
    for Noto CJK); pdfium reads them. Used only for pages pdfminer left empty."""
    empty = [i for i, p in enumerate(pages) if not p["text"].strip() and not p["error"]]
    if not empty:
        return
    import pypdfium2

    try:
        doc = pypdfium2.PdfDocument(path)
    except pypdfium2.PdfiumError:
        return
    with doc:
        if len(doc) != len(pages):  # pages would not line up
            return
        for i in empty:
            try:
                pages[i]["text"] = doc[i].get_textpage().get_text_range()
            except pypdfium2.PdfiumError:
                pass  # stays empty, and is reported as "no text"


# --- DOCX ------------------------------------------------------------------------------------------


def _load_docx(name: str, data: bytes, max_bytes: int) -> LoadedText:
    _check_docx_bytes(name, data, max_bytes)
    import docx

    try:
        lines = _docx_blocks(docx.Document(io.BytesIO(data)).element.body)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 — python-docx fails in many ways on damaged parts; all mean "corrupted"
        raise InvalidFileError(name, f"corrupted DOCX ({type(exc).__name__}: {exc})"[:300]) from None
    text = normalize_newlines("\n".join(lines))
    _require_text(name, text)
    return LoadedText(name, text, "docx", None, None, None, ())


def _check_docx_bytes(name: str, data: bytes, max_bytes: int) -> None:
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise EncryptedFileError(name, "encrypted DOCX: a password is needed to read it")
        raise InvalidFileError(name, "a legacy Word .doc (OLE2) file renamed .docx, not a DOCX")
    if not data.startswith(ZIP_MAGIC):
        raise InvalidFileError(name, f"not a DOCX: no ZIP header (starts with {data[:8]!r})")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml_size = sum(
                i.file_size for i in archive.infolist() if not i.filename.startswith("word/media/")
            )  # images are not parsed
    except zipfile.BadZipFile as exc:
        raise InvalidFileError(name, f"corrupted DOCX ({exc})") from None
    if xml_size > DOCX_XML_FACTOR * max_bytes:
        raise TooLargeError(
            name, f"DOCX inflates to {xml_size} bytes; the limit is {DOCX_XML_FACTOR * max_bytes} bytes"
        )


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Text under these is not what the page shows once: deletions, text boxes (whose drawing fallback
# repeats them), the legacy-format copy of alternate content.
_DOCX_HIDDEN = frozenset(
    (_W + "del", _W + "txbxContent", "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback")
)
_DOCX_CHARS = {_W + "tab": "\t", _W + "br": "\n", _W + "cr": "\n", _W + "noBreakHyphen": "-"}


def _docx_blocks(container: Any) -> list[str]:
    """Paragraphs and tables in body order; a table row is one line, a tab before each cell (``table_row``)."""
    lines: list[str] = []
    for child in container.iterchildren():
        if child.tag == _W + "p":
            lines.append(_paragraph_text(child))
        elif child.tag == _W + "tbl":
            lines.extend(_table_rows(child))
        elif child.tag in (_W + "sdt", _W + "customXml"):  # content controls wrap ordinary paragraphs
            content = child.find(_W + "sdtContent")
            lines.extend(_docx_blocks(child if content is None else content))
    return lines


def _paragraph_text(paragraph: Any) -> str:
    # Read the XML rather than python-docx's Paragraph.text, which drops runs inside tracked
    # insertions (w:ins), smart tags and fields.
    parts = []
    for el in paragraph.iter(_W + "t", *_DOCX_CHARS):
        if not any(a.tag in _DOCX_HIDDEN for a in _ancestors(el, paragraph)):
            parts.append(el.text or "" if el.tag == _W + "t" else _DOCX_CHARS[el.tag])
    return "".join(parts)


def _ancestors(el: Any, stop: Any) -> Iterator[Any]:
    for a in el.iterancestors():
        if a is stop:
            return
        yield a


def _table_rows(table: Any) -> list[str]:
    rows = []
    for tr in table.iterchildren(_W + "tr"):
        # A horizontally merged cell is one w:tc spanning columns (its text once, then empty cells, so the
        # columns stay aligned); a vertically merged one is empty below its first row.
        cells = []
        for tc in tr.iterchildren(_W + "tc"):
            cells += [" ".join(_docx_blocks(tc)).strip()] + [""] * (_grid_span(tc) - 1)
        if any(cells):
            rows.append(table_row(cells))
    return rows


def _grid_span(tc: Any) -> int:
    span = tc.find(f"{_W}tcPr/{_W}gridSpan")
    value = span.get(_W + "val") if span is not None else None
    return int(value) if value and value.isdigit() else 1


def table_row(cells: list[str]) -> str:
    r"""One table row as the layout reads it (``layout._grid``): a tab before each cell, a cell's own runs of
    whitespace made one space (a line break inside a CJK phrase, from a wrapped PDF cell, is dropped).

    >>> table_row(["项目", "直播电商\n培训", "", "a\tb"])
    '\t项目\t直播电商培训\t\ta b'
    """
    return "".join("\t" + " ".join(_WRAP_IN_CJK.sub("", c).split()) for c in cells)


_WRAP_IN_CJK = re.compile(r"(?<=[^\x00-\x7f])\n(?=[^\x00-\x7f])")


# --- HTML ------------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _declared_charset(data: bytes) -> str | None:
    head = data[:4096]
    m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return m.group(1).decode("ascii") if m else None


# Dropped wherever they are; <header>/<footer> only outside <article>/<main>, where they are site furniture
# (inside an article, <header> holds its title and date).
_DROP = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "select",
    "textarea",
    "head",
)
_BLOCK = frozenset(
    (
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "caption",
        "blockquote",
        "address",
        "figure",
        "figcaption",
        "center",
        "hr",
    )
)
_CONTAINERS = frozenset(
    ("div", "section", "article", "main", "table", "thead", "tbody", "tr", "td", "th", "center", "font")
)
_LINK_LIST_TAGS = ("div", "ul", "ol", "dl", "table", "section", "td", "span")
_TITLE_CLASS = re.compile("title", re.IGNORECASE)
_HTML_WS = re.compile(r"[ \t\n\r\f\xa0]+")  # HTML collapses these; U+3000 indents are text and stay
_HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0003ffff]")


def html_main_text(markup: str) -> str:
    """The main text of a page, one line per block element; tables as " | "-joined rows."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(("header", "footer")):
        if tag.find_parent(("article", "main")) is None:
            tag.decompose()
    _drop_link_lists(soup)
    root = _main_element(soup)
    lines = _block_lines(root)
    title = _title_outside(soup, root)
    return "\n".join([title, *lines] if title else lines)


def _text_counts(soup: Any) -> tuple[dict[int, float], dict[int, float]]:
    """Han characters under each element, and those inside links, in one pass over the text nodes
    (asking each element for its text would be quadratic in the nesting depth)."""
    from bs4.element import NavigableString, PreformattedString

    total: dict[int, float] = {}
    linked: dict[int, float] = {}
    for node in soup.descendants:
        if not isinstance(node, NavigableString) or isinstance(node, PreformattedString):
            continue
        n = len(_HAN.findall(node)) or len("".join(node.split())) / 1000  # non-Chinese text counts a little
        in_link = False
        for parent in node.parents:
            in_link = in_link or parent.name == "a"
            total[id(parent)] = total.get(id(parent), 0) + n
            if in_link:
                linked[id(parent)] = linked.get(id(parent), 0) + n
    return total, linked


def _drop_link_lists(soup: Any) -> None:
    """Menus, breadcrumbs and "related articles" are mostly link text; the notice itself is not."""
    total, linked = _text_counts(soup)
    dropped: set[int] = set()
    for tag in soup.find_all(_LINK_LIST_TAGS):  # document order: an outer list comes before its items
        n = total.get(id(tag), 0)
        if id(tag) not in dropped and n and linked.get(id(tag), 0) / n >= 0.6:
            dropped.update(id(d) for d in tag.descendants)
            tag.decompose()


def _main_element(soup: Any) -> Any:
    """<article>/<main> when it holds most of the text, else the tightest element holding nearly all."""
    total, _ = _text_counts(soup)

    def size(element: Any) -> float:
        return total.get(id(element), 0)

    body = soup.body or soup
    marked = soup.find_all(("article", "main"))
    if marked and size(best := max(marked, key=size)) >= size(body) / 2:
        return best
    element = body
    while True:
        kids = [k for k in element.find_all(True, recursive=False) if k.name in _CONTAINERS]
        best = max(kids, key=size, default=None)
        # Stop when the rest carries real text too (several sections, a long preface); a short rest
        # (a footer line, a title — see _title_outside) is left behind.
        if best is None or size(element) - size(best) > max(20, size(element) / 10):
            return element
        element = best


def _title_outside(soup: Any, root: Any) -> str | None:
    """A notice's title often sits in its own block beside the text block; keep it as the first line.
    Only a title next to the text counts: an <h1> or "title" block higher up is usually the site's name."""
    near = [root.parent, root.parent.parent if root.parent is not None else None]
    candidates = (*soup.find_all("h1"), *soup.find_all(class_=_TITLE_CLASS), *soup.find_all(id=_TITLE_CLASS))
    for candidate in candidates:
        if candidate is root or not any(candidate.parent is a for a in near if a is not None):
            continue  # inside the text already, or far from it
        text = _HTML_WS.sub(" ", candidate.get_text(" ")).strip(" ")
        if _HAN.search(text) and len(text) <= 100:
            return text
    return None


def _block_lines(root: Any) -> list[str]:
    """Walk without recursion (deeply nested markup must not hit the recursion limit)."""
    from bs4.element import NavigableString, PreformattedString

    lines: list[str] = []
    buffer: list[str] = []
    end_of_block = object()

    def flush() -> None:
        line = _HTML_WS.sub(" ", "".join(buffer)).strip(" ")
        if line:
            lines.append(line)
        buffer.clear()

    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is end_of_block or getattr(node, "name", None) == "br":
            flush()
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctype, CDATA
                buffer.append(str(node))
        elif node.name == "pre":
            flush()
            lines.extend(line.rstrip() for line in node.get_text().split("\n") if line.strip())
        elif node.name == "tr" and _is_data_row(node):
            flush()
            cells = [
                _HTML_WS.sub(" ", c.get_text(" ")).strip(" ")
                for c in node.find_all(("td", "th"), recursive=False)
            ]
            if any(cells):
                lines.append(" | ".join(cells))
        else:
            if node.name in _BLOCK:
                flush()
                stack.append(end_of_block)
            stack.extend(reversed(list(node.children)))
    flush()
    return lines


def _is_data_row(row: Any) -> bool:
    """A layout table's row holds paragraphs; a data table's row holds short cells."""
    return row.find(("p", "div", "table", "br", "ul", "ol", "h1", "h2", "h3", "h4")) is None


# --- PDF page furniture ------------------------------------------------------------------------------

_PAGE_NUMBER = re.compile(
    r"""\s*(?:
      [-—–－]\s*\d+\s*[-—–－]                                      # - 3 -
    | 第\s*[\d一二三四五六七八九十百〇零]+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?  # 第 3 页, 第3页 共10页
    | \d+\s*/\s*\d+                                                 # 3/10
    | (?:page|p\.)\s*\d+(?:\s*(?:of|/)\s*\d+)?                      # Page 3 of 10
    )\s*""",
    re.VERBOSE | re.IGNORECASE,
)
EDGE_LINES = 2  # how many non-blank lines at the top and bottom of a page may be furniture


def strip_page_furniture(pages: list[str]) -> list[str]:
    """Drop running headers/footers (a line at the top or bottom of most pages) and page numbers."""
    tops = _repeated_edge_lines([_edge(t, i + 1, top=True) for i, t in enumerate(pages)])
    bottoms = _repeated_edge_lines([_edge(t, i + 1, top=False) for i, t in enumerate(pages)])
    return [_strip_edges(text, i + 1, tops, bottoms) for i, text in enumerate(pages)]


def join_pages(texts: list[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    spans, start = [], 0
    for t in texts:
        spans.append((start, start + len(t)))
        start += len(t) + 1  # the "\n" between pages
    return "\n".join(texts), tuple(spans)


def _edge_key(line: str, page_no: int) -> str:
    # A running header may start or end with the page number ("2020年第3期 深圳商务 - 3 -"); any other
    # number must repeat exactly.
    key = "".join(line.split())
    key = re.sub(rf"(?<!\d){page_no}(\D{{0,3}})$", r"#\1", key)
    return re.sub(rf"^(\D{{0,3}}){page_no}(?!\d)", r"\1#", key)


def _edge(text: str, page_no: int, *, top: bool) -> set[str]:
    body = [ln for ln in text.split("\n") if ln.strip()]
    return {_edge_key(ln, page_no) for ln in (body[:EDGE_LINES] if top else body[-EDGE_LINES:])}


def _repeated_edge_lines(edges: list[set[str]]) -> set[str]:
    if len(edges) < 2:
        return set()
    counts: dict[str, int] = {}
    for keys in edges:
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    return {k for k, n in counts.items() if n > len(edges) / 2}


def _is_furniture(line: str, page_no: int, repeated: set[str]) -> bool:
    stripped = line.strip()
    return (
        _edge_key(stripped, page_no) in repeated
        or _PAGE_NUMBER.fullmatch(stripped) is not None
        or stripped == str(page_no)
    )  # a bare number only when it is this page's number


def _strip_edges(text: str, page_no: int, tops: set[str], bottoms: set[str]) -> str:
    lines = text.split("\n")
    start, end, seen = 0, len(lines), 0
    while (
        start < end
        and seen < EDGE_LINES
        and (not lines[start].strip() or _is_furniture(lines[start], page_no, tops))
    ):
        seen += bool(lines[start].strip())
        start += 1
    seen = 0
    while (
        end > start
        and seen < EDGE_LINES
        and (not lines[end - 1].strip() or _is_furniture(lines[end - 1], page_no, bottoms))
    ):
        seen += bool(lines[end - 1].strip())
        end -= 1
    return "\n".join(lines[start:end])
