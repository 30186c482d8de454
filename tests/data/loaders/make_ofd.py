"""Write minimal OFD files (GB/T 33190) for tests: a ZIP of OFD.xml, Document.xml and one Content.xml a page.

>>> ofd_bytes([["第一条 为了规范。", "第二条 施行。"]])[:2]
b'PK'
"""

from __future__ import annotations

import io
import zipfile


def ofd_bytes(pages: list[list[str]], size: float = 4.2) -> bytes:
    """A minimal OFD of ``pages`` (each a list of lines, one TextObject a line): for tests and examples."""
    out = io.BytesIO()
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "OFD.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.0" DocType="OFD"><ofd:DocBody>'
            "<ofd:DocInfo><ofd:DocID>policykb</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
            "</ofd:DocBody></ofd:OFD>",
        )
        listed = "".join(
            f'<ofd:Page ID="{n + 1}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(len(pages))
        )
        z.writestr(
            "Doc_0/Document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}><ofd:CommonData><ofd:PageArea>'
            "<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData>"
            f"<ofd:Pages>{listed}</ofd:Pages></ofd:Document>",
        )
        for n, lines in enumerate(pages):
            objects = "".join(
                f'<ofd:TextObject ID="{100 * n + k + 2}" Boundary="25 {30 + 8 * k} 160 {size + 2}" Font="1" '
                f'Size="{size}"><ofd:TextCode X="0" Y="{size}">{_escape(line)}</ofd:TextCode></ofd:TextObject>'
                for k, line in enumerate(lines)
            )
            z.writestr(
                f"Doc_0/Pages/Page_{n}/Content.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Content><ofd:Layer ID="1">'
                f"{objects}</ofd:Layer></ofd:Content></ofd:Page>",
            )
    return out.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
