"""Write small CJK PDFs for tests: a text laid out on pages with a running header and page numbers.

Needs a CJK *TrueType* font: Debian `fonts-wqy-zenhei` (or `fonts-arphic-uming`). The Noto CJK fonts are
CFF-based and fpdf2 embeds them with a CMap that pdfminer cannot read, so pdfplumber would see no text.

>>> make_pdf("第一条 为了规范直播电商活动。\\n第二条 自发布之日起施行。", Path("a.pdf"))  # doctest: +SKIP
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from fpdf import FPDF

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
NOTO_CFF = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
LINE_MM = 8.0
BODY_MM = 245.0  # from 25 mm to 270 mm; the footer sits at 280 mm


def cjk_font() -> str:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    raise RuntimeError("no CJK TrueType font found; install the Debian package fonts-wqy-zenhei")


def new_pdf(font: str | None = None) -> FPDF:
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)  # pagination is ours: lines_per_page lines per page
    pdf.add_font("cjk", fname=font or cjk_font())
    pdf.set_font("cjk", size=11)
    return pdf


def make_pdf(
    text: str,
    path: Path,
    *,
    header: str | None = "深圳市商务局文件",
    lines_per_page: int = 30,
    footer: str | None = "- {n} -",
    font: str | None = None,
) -> Path:
    """Lay ``text`` out ``lines_per_page`` lines a page (long lines wrapped to the page width), with
    ``header`` on top of every page and ``footer`` (``{n}`` = page number, ``{total}`` = pages) at the bottom.

    Blank lines take space but pdfplumber does not return them, so the extracted text of a page is its
    non-blank (wrapped) lines joined with "\\n"; see ``expected_pages``.
    """
    pdf = new_pdf(font)
    pages = paginate(text, lines_per_page, pdf)
    line_mm = min(LINE_MM, BODY_MM / lines_per_page)  # the body must end above the footer
    pdf.set_font_size(min(11.0, line_mm / 0.3528 / 1.25))  # points: leave a quarter of a line between lines
    for n, lines in enumerate(pages, start=1):
        pdf.add_page()
        if header is not None:
            pdf.set_xy(20, 12)
            pdf.cell(170, LINE_MM, header, align="C")
        for row, line in enumerate(lines):
            pdf.set_xy(20, 25 + row * line_mm)
            pdf.cell(170, line_mm, line)
        if footer is not None:
            pdf.set_xy(20, 280)
            pdf.cell(170, LINE_MM, footer.format(n=n, total=len(pages)), align="C")
    pdf.output(str(path))
    return Path(path)


def paginate(text: str, lines_per_page: int, pdf: FPDF | None = None) -> list[list[str]]:
    pdf = pdf or new_pdf()
    wrapped = [part for line in text.split("\n") for part in _wrap(line, pdf, 168)]
    return [wrapped[i : i + lines_per_page] for i in range(0, len(wrapped), lines_per_page)] or [[]]


def expected_pages(text: str, lines_per_page: int = 30) -> list[str]:
    """What the loader should return for each page of ``make_pdf(text, ...)``."""
    return ["\n".join(ln for ln in lines if ln.strip()) for lines in paginate(text, lines_per_page)]


def _wrap(line: str, pdf: FPDF, width_mm: float) -> list[str]:
    parts, current = [], ""
    for ch in line:
        if current and pdf.get_string_width(current + ch) > width_mm:
            parts.append(current)
            current = ""
        current += ch
    return [*parts, current]


def image_only_pdf(path: Path, pages: int = 1) -> Path:
    """A 'scanned' PDF: each page is one grey image and carries no text."""
    png = path.with_suffix(".png")
    png.write_bytes(grey_png(64, 48))
    pdf = FPDF(unit="mm", format="A4")
    for _ in range(pages):
        pdf.add_page()
        pdf.image(str(png), x=20, y=20, w=170)
    pdf.output(str(path))
    return path


def grey_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG made with zlib only (a vertical gradient)."""
    rows = b"".join(b"\x00" + bytes([(y * 255) // max(1, height - 1)]) * width for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def bomb_pdf(path: Path, inflated_bytes: int = 2 * 2**30) -> Path:
    """A one-page PDF whose content stream is a FlateDecode stream of zeros inflating to ``inflated_bytes``.

    Built from one compressed 1 MiB block repeated: after a full flush the compressor starts afresh, so
    every block compresses to the same bytes. The Adler-32 of n zero bytes is (n mod 65521) << 16 | 1.
    """
    block = 2**20
    comp = zlib.compressobj(9)
    first = comp.compress(bytes(block)) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(bytes(block)) + comp.flush(zlib.Z_FULL_FLUSH)
    n = inflated_bytes // block
    final = zlib.compressobj(9, wbits=-15).flush()  # an empty final deflate block
    stream = first + again * (n - 1) + final + struct.pack(">I", ((n * block) % 65521) << 16 | 1)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    path.write_bytes(assemble_pdf(objects))
    return path


def assemble_pdf(objects: list[bytes]) -> bytes:
    """A PDF file from object bodies (object i+1 = objects[i]), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def table_pdf(path: Path, before: list[str], rows: list[list[str]], after: list[str]) -> Path:
    """A one-page PDF: the lines ``before``, a ruled table of ``rows`` (the first row names the columns;
    fpdf2 wraps a long cell inside it), then the lines ``after``."""
    from fpdf.fonts import FontFace

    pdf = new_pdf()
    pdf.add_page()
    pdf.set_xy(20, 20)
    for line in before:
        pdf.cell(170, LINE_MM, line, new_x="LMARGIN", new_y="NEXT")
    with pdf.table(headings_style=FontFace(), line_height=6) as table:  # no bold face for CJK
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(value)
    for line in after:
        pdf.cell(170, LINE_MM, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return Path(path)
