"""'Scanned' pages for the OCR tests and bench: a text drawn on A4 page images with Pillow at 200 dpi.

Each page is black text on white in a CJK TrueType font (Debian `fonts-wqy-zenhei`), the first page under a
red banner and a red rule (a 红头文件), optionally turned by a small angle, as a scanner feeds a page. A
table flattened in the text (a tab-indented line a cell) is drawn as the ruled table it was, a cell wrapped
within its column. The same layout gives ``expected_page_texts``, what OCR should read on each page.

>>> pages = scan_pages("第一条 为了规范直播电商活动。", red_header="深圳市商务局文件")  # doctest: +SKIP
>>> pages[0].size  # doctest: +SKIP
(1654, 2339)
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
DPI = 200
PAGE = (1654, 2339)  # A4 at 200 dpi
MARGIN = 160  # px, about 20 mm
FONT_PX = 30  # 11 pt at 200 dpi
LINE_PX = 56
LINES_PER_PAGE = 34
HEADER_LINES = 5  # the banner takes the place of this many lines on the first page


def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    raise RuntimeError("no CJK font found; install the Debian package fonts-wqy-zenhei")


Piece = tuple[int, str]  # (x in px, text) on one line of a page
Line = str | list[Piece]  # a line of text at the margin, or a table row's pieces
COLUMN_GAP = 80  # px between a table's columns, ~3 characters
RULE_PX = 2  # a table's rules


class Unit(NamedTuple):
    """What is kept on one page: a line of text, or a table row with its cells' columns (x0, x1) to rule."""

    lines: list[Line]
    text: str  # what OCR should read
    columns: tuple[tuple[int, int], ...] = ()


def wrap(
    text: str, font: ImageFont.FreeTypeFont | None = None, width: int = PAGE[0] - 2 * MARGIN
) -> list[str]:
    """The text's non-blank lines wrapped to ``width`` px."""
    font = font or cjk_font(FONT_PX)
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        current = ""
        for ch in line:
            if current and font.getlength(current + ch) > width:
                out.append(current)
                current = ""
            current += ch
        if current:
            out.append(current)
    return out


def blocks(text: str) -> list[str | list[list[str]]]:
    """The text's lines, and each table flattened in it (a tab-indented line a cell, rows separated by a
    blank line, a cell running on in a line without the tab: as ``ingest/layout.py`` reads it) as its
    rows of cells, the first row the header: the table the notice printed."""
    from policykb.ingest.markers import line_marker

    lines, i = text.split("\n"), 0
    out: list[str | list[list[str]]] = []
    while i < len(lines):
        if not lines[i].startswith("\t"):
            out.append(lines[i])
            i += 1
            continue
        header: list[str] = []
        while i < len(lines) and lines[i].startswith("\t") and lines[i].strip():
            header.append(lines[i].strip())
            i += 1
        rows: list[list[str]] = [header]
        row: list[str] = []
        blanks = 0
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                blanks, i = blanks + 1, i + 1
                if blanks >= 2 and len(row) >= len(header):
                    break
                continue
            if line.startswith("\t") and len(row) >= len(header):
                rows.append(row)
                row = []
            if line.startswith("\t"):
                row.append(line.strip())
            elif row and (len(row) < len(header) or blanks <= 1) and not line_marker(line.strip()):
                row[-1] += "\n" + line.strip()
            else:
                break
            blanks, i = 0, i + 1
        out.append([*rows, row] if row else rows)
    return out


def table_lines(rows: list[list[str]], font: ImageFont.FreeTypeFont) -> list[Unit]:
    """Each row's lines on the page and its text as OCR should read it (``\tcell\tcell``, a cell's lines
    run together): the cells side by side in columns as wide as their longest line (the widest narrowed
    to fit the page), a cell wrapped within its column."""
    width = PAGE[0] - 2 * MARGIN - COLUMN_GAP
    n = max(len(r) for r in rows)
    natural = [
        max((font.getlength(ln) for r in rows if k < len(r) for ln in r[k].split("\n")), default=0)
        for k in range(n)
    ]
    widths = [int(w) + 1 for w in natural]
    while sum(widths) + COLUMN_GAP * (n - 1) > width and max(widths) > 4 * FONT_PX:
        k = widths.index(max(widths))
        widths[k] = max(width - COLUMN_GAP * (n - 1) - (sum(widths) - widths[k]), 4 * FONT_PX)
    xs = [MARGIN + COLUMN_GAP // 2 + sum(widths[:k]) + COLUMN_GAP * k for k in range(n)]
    columns = tuple((x - COLUMN_GAP // 2, x + w + COLUMN_GAP // 2) for x, w in zip(xs, widths, strict=True))
    out: list[Unit] = []
    for r in rows:
        cells = [wrap(cell, font, widths[k]) for k, cell in enumerate(r)]
        lines: list[Line] = [
            [(xs[k], c[j]) for k, c in enumerate(cells) if j < len(c)] for j in range(max(map(len, cells)))
        ]
        out.append(Unit(lines, "\t" + "\t".join("".join(c) for c in cells), columns))
    return out


def paginate(text: str, red_header: str | None) -> list[list[Unit]]:
    """Each page's units: a line of text, or a table row (kept on one page), with what OCR should read."""
    font = cjk_font(FONT_PX)
    units: list[Unit] = []
    for block in blocks(text):
        if isinstance(block, str):
            units += [Unit([ln], ln) for ln in wrap(block, font)]
        else:
            units += table_lines(block, font)
    pages: list[list[Unit]] = [[]]
    room = LINES_PER_PAGE - (HEADER_LINES if red_header else 0)
    for unit in units:
        if sum(len(u.lines) for u in pages[-1]) + len(unit.lines) > room and pages[-1]:
            pages.append([])
            room = LINES_PER_PAGE
        pages[-1].append(unit)
    return pages


def expected_page_texts(text: str, red_header: str | None = None) -> list[str]:
    """What OCR should read on each page of ``scan_pages(text, red_header=...)`` (the banner included)."""
    pages = ["\n".join(u.text for u in units) for units in paginate(text, red_header)]
    if red_header:
        pages[0] = red_header + "\n" + pages[0]
    return pages


def scan_pages(
    text: str, *, red_header: str | None = None, angles: tuple[float, ...] = (0.0,)
) -> list[Image.Image]:
    """Page images (greyscale-looking RGB); page i is turned by ``angles[i % len(angles)]`` degrees."""
    font = cjk_font(FONT_PX)
    pages = []
    for n, units in enumerate(paginate(text, red_header)):
        page = Image.new("RGB", PAGE, "white")
        draw = ImageDraw.Draw(page)
        y = MARGIN
        if red_header and n == 0:
            banner = cjk_font(72)
            w = banner.getlength(red_header)
            draw.text(((PAGE[0] - w) / 2, y), red_header, font=banner, fill=(200, 16, 16))
            draw.line((MARGIN, y + 150, PAGE[0] - MARGIN, y + 150), fill=(200, 16, 16), width=5)
            y += HEADER_LINES * LINE_PX
        for unit in units:
            top, bottom = (
                y - (LINE_PX - FONT_PX) // 2,
                y + len(unit.lines) * LINE_PX - (LINE_PX - FONT_PX) // 2,
            )
            for x0, x1 in unit.columns:  # each cell ruled: the rows share their rules
                draw.rectangle((x0, top, x1, bottom), outline=(20, 20, 20), width=RULE_PX)
            for line in unit.lines:
                for x, piece in [(MARGIN, line)] if isinstance(line, str) else line:
                    draw.text((x, y), piece, font=font, fill=(20, 20, 20))
                y += LINE_PX
        angle = angles[n % len(angles)]
        if angle:
            page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor="white")
        pages.append(page)
    return pages


def save_pdf(pages: list[Image.Image], path: Path) -> Path:
    """The pages as a PDF of images only (no text layer), at 200 dpi."""
    pages[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=pages[1:])
    return Path(path)


def as_in_pdf(page: Image.Image) -> Image.Image:
    """The page after the JPEG compression ``save_pdf`` gives it (Pillow stores RGB pages as JPEG)."""
    buffer = io.BytesIO()
    page.save(buffer, "JPEG")
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def char_accuracy(read: str, truth: str) -> float:
    """1 - (edit distance / characters of ``truth``), whitespace ignored on both sides and widths folded
    (NFKC: "，" and "," are one character, as for search; OCR cannot tell them apart in a CJK line)."""
    a, b = ("".join(unicodedata.normalize("NFKC", t).split()) for t in (read, truth))
    if not b:
        return 1.0 if not a else 0.0
    return 1.0 - edit_distance(a, b) / len(b)


def cleaned_accuracy(read: str, truth: str) -> float:
    """``char_accuracy`` after the cleaning ingest gives each text before it becomes clauses: pinyin
    annotations (``消費(fèi)者``), mojibake and site debris removed, the OCR'd side as OCR'd text (an annotation
    may have lost its tone marks). What the knowledge base keeps is compared, character for character."""
    from policykb.ingest.clean import clean

    def kept(text: str, ocr: bool) -> str:
        return "\n".join(line.text for line in clean(text, ocr=ocr).lines)

    return char_accuracy(kept(read, True), kept(truth, False))


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one row of the table at a time (numpy for the substitutions and deletions)."""
    if len(a) < len(b):
        a, b = b, a
    bb = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    row = np.arange(len(b) + 1, dtype=np.int64)
    for i, ch in enumerate(a, start=1):
        new = np.empty_like(row)
        new[0] = i
        sub = row[:-1] + (bb != ord(ch))
        new[1:] = np.minimum(sub, row[1:] + 1)
        # insertions run left to right: new[j] = min(new[j], new[j-1] + 1), an accumulate of (new - j)
        new = np.minimum.accumulate(new - np.arange(len(new))) + np.arange(len(new))
        row = new
    return int(row[-1])
