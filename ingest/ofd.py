"""OFD (GB/T 33190, the national format for e-documents) → page texts, read by our own small parser.

An OFD file is a ZIP of XML: ``OFD.xml`` names the document (``DocBody/DocRoot``), the document lists its
pages (``Pages/Page@BaseLoc``), and each page's ``Content.xml`` holds ``TextObject``s placed by a
``Boundary`` ("x y w h", millimetres), whose ``TextCode`` children carry the characters at offsets X, Y.
A page's text is its text codes in reading order: rows top to bottom (codes whose baselines are within
half a character height of each other are one row), each row left to right. Nothing else of the format
(fonts, signatures, annotations) is needed for the text. easyofd would bring PyMuPDF and reportlab for this.

>>> ofd_pages(Path("notice.ofd").read_bytes(), "notice.ofd", 2**20)  # doctest: +SKIP
['第一条 为了规范。\\n第二条 施行。']
"""

from __future__ import annotations

import io
import posixpath
import xml.etree.ElementTree as ET
import zipfile

from policykb.errors import InvalidFileError, TooLargeError

NS = "{http://www.ofdspec.org/2016}"
XML_FACTOR = 2  # the XML of an OFD may inflate to this many times max_bytes (as for a DOCX)
ROW_TOLERANCE = 0.5  # codes whose baselines differ by less than this share of the font size are one row


def ofd_pages(data: bytes, name: str, max_bytes: int) -> list[str]:
    """The text of each page, in order. ``InvalidFileError`` for a file that is not an OFD or is damaged,
    ``TooLargeError`` when its XML would inflate beyond ``XML_FACTOR * max_bytes``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InvalidFileError(name, f"not an OFD: not a ZIP archive ({exc})") from None
    with archive:
        size = sum(i.file_size for i in archive.infolist() if i.filename.lower().endswith(".xml"))
        if size > XML_FACTOR * max_bytes:
            raise TooLargeError(
                name, f"OFD inflates to {size} bytes; the limit is {XML_FACTOR * max_bytes} bytes"
            )
        try:
            root = _xml(archive, "OFD.xml", name)
            doc_path = _text(root.find(f"{NS}DocBody/{NS}DocRoot"), name, "OFD.xml has no DocRoot")
            doc_path = doc_path.lstrip("/")
            document = _xml(archive, doc_path, name)
            base = posixpath.dirname(doc_path)
            pages = document.findall(f"{NS}Pages/{NS}Page")
            return [_page_text(_xml(archive, _resolve(base, p.get("BaseLoc", "")), name)) for p in pages]
        except ET.ParseError as exc:
            raise InvalidFileError(name, f"damaged OFD: XML error ({exc})") from None
        except (ValueError, zipfile.BadZipFile) as exc:
            raise InvalidFileError(name, f"damaged OFD ({exc})"[:300]) from None


def _xml(archive: zipfile.ZipFile, path: str, name: str) -> ET.Element:
    try:
        return ET.fromstring(archive.read(path))
    except KeyError:
        raise InvalidFileError(name, f"not an OFD: no {path} in the archive") from None


def _text(element: ET.Element | None, name: str, problem: str) -> str:
    if element is None or not (element.text or "").strip():
        raise InvalidFileError(name, f"not an OFD: {problem}")
    return (element.text or "").strip()


def _resolve(base: str, loc: str) -> str:
    """A page's BaseLoc: absolute from the package root ("/Doc_0/Pages/…"), else relative to the document."""
    return posixpath.normpath(loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc))


def _page_text(page: ET.Element) -> str:
    codes: list[tuple[float, float, float, str]] = []  # (baseline y, x, font size, text)
    for obj in page.iter(f"{NS}TextObject"):
        x0, y0 = (float(v) for v in (obj.get("Boundary") or "0 0 0 0").split()[:2])
        size = float(obj.get("Size") or 3.5)
        for code in obj.iter(f"{NS}TextCode"):
            if code.text:
                codes.append(
                    (y0 + float(code.get("Y") or 0), x0 + float(code.get("X") or 0), size, code.text)
                )
    rows: list[list[tuple[float, float, float, str]]] = []
    for placed in sorted(codes):
        if rows and abs(placed[0] - rows[-1][0][0]) < ROW_TOLERANCE * placed[2]:
            rows[-1].append(placed)
        else:
            rows.append([placed])
    return "\n".join("".join(c[3] for c in sorted(row, key=lambda c: c[1])) for row in rows)
