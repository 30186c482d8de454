"""'Scanned' pages for the OCR tests and bench: a text drawn on A4 page images with Pillow at 200 dpi.

Each page is black text on white in a CJK TrueType font (Debian `fonts-wqy-zenhei`), the first page under a
red banner and a red rule (a 红头文件), optionally turned by a small angle, as a scanner feeds a page. The
same wrapping gives ``expected_page_texts``, what OCR should read on each page.

>>> pages = scan_pages("第一条 为了规范直播电商活动。", red_header="深圳市商务局文件")  # doctest: +SKIP
>>> pages[0].size  # doctest: +SKIP
(1654, 2339)
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

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


def wrap(text: str, font: ImageFont.FreeTypeFont | None = None) -> list[str]:
    """The text's non-blank lines wrapped to the text width."""
    font = font or cjk_font(FONT_PX)
    width = PAGE[0] - 2 * MARGIN
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


def paginate(text: str, red_header: str | None) -> list[list[str]]:
    lines = wrap(text)
    first = LINES_PER_PAGE - (HEADER_LINES if red_header else 0)
    pages = [lines[:first]]
    rest = lines[first:]
    pages += [rest[i : i + LINES_PER_PAGE] for i in range(0, len(rest), LINES_PER_PAGE)]
    return pages


def expected_page_texts(text: str, red_header: str | None = None) -> list[str]:
    """What OCR should read on each page of ``scan_pages(text, red_header=...)`` (the banner included)."""
    pages = ["\n".join(lines) for lines in paginate(text, red_header)]
    if red_header:
        pages[0] = red_header + "\n" + pages[0]
    return pages


def scan_pages(
    text: str, *, red_header: str | None = None, angles: tuple[float, ...] = (0.0,)
) -> list[Image.Image]:
    """Page images (greyscale-looking RGB); page i is turned by ``angles[i % len(angles)]`` degrees."""
    font = cjk_font(FONT_PX)
    pages = []
    for n, lines in enumerate(paginate(text, red_header)):
        page = Image.new("RGB", PAGE, "white")
        draw = ImageDraw.Draw(page)
        y = MARGIN
        if red_header and n == 0:
            banner = cjk_font(72)
            w = banner.getlength(red_header)
            draw.text(((PAGE[0] - w) / 2, y), red_header, font=banner, fill=(200, 16, 16))
            draw.line((MARGIN, y + 150, PAGE[0] - MARGIN, y + 150), fill=(200, 16, 16), width=5)
            y += HEADER_LINES * LINE_PX
        for line in lines:
            draw.text((MARGIN, y), line, font=font, fill=(20, 20, 20))
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
