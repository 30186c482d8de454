"""Red-header metadata (红头文件): the lines of a notice that say who sent it to whom, not what it says.

An official notice carries, around its text, a document number (文号, 国办发〔2018〕129号) under the
issuing office's red banner ("深圳市商务局文件"), the addressees (主送, "各区商务主管部门：") before the
first paragraph, the signature and signing date at the end, and below a rule the copy-to line (抄送) and the
印发 line ("国务院办公厅 2018年12月28日印发"). A page copied from a government site may instead carry its
header fields (发文字号：… 成文日期：… 发布日期：…). These lines are read into metadata and taken out of the
text, so they never become clauses; the signature stays where it is (the clause before it ends there).

>>> from policykb.ingest.layout import Line
>>> from policykb.ingest.mtext import MText
>>> text = ["国务院办公厅文件", "国办发〔2018〕129号", "国务院办公厅关于印发某方案的通知",
...         "各省、自治区、直辖市人民政府：", "现将方案印发给你们。", "国务院办公厅", "2018年12月25日",
...         "抄送：党中央各部门。", "国务院办公厅 2018年12月28日印发"]
>>> kept, removed, head = read_red_header([Line(MText.of(t)) for t in text])
>>> head.values()["doc_number"], head.values()["issuer"], head.values()["signed"], head.values()["published"]
('国办发〔2018〕129号', '国务院办公厅', '2018-12-25', '2018-12-28')
>>> [ln.text.text for ln in kept if ln.text.text][2:]
['现将方案印发给你们。', '国务院办公厅', '2018年12月25日']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from policykb.ingest.layout import Line
from policykb.ingest.markers import line_marker
from policykb.ingest.mtext import MText
from policykb.ingest.text import CJK_UNIFIED, convert_ahead, display_text, unify_ideographs

# The fields this module can fill, in the order they are shown.
FIELDS = ("doc_number", "signed", "published", "addressees", "copy_to", "printed")
HEAD_LINES = 12  # the banner, the number and the addressees sit within this many lines of the top
_H = f"[{CJK_UNIFIED}]"
_DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_ISO = r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})"
_ORDER = "[\\d一二三四五六七八九十百零〇]+"
# 国办发〔2018〕129号, 深商务电商字[2020]12号, 法释（2022）8号; 国家市场监督管理总局令第72号.
DOC_NUMBER = re.compile(
    rf"{_H}{{1,16}}\s*[〔［\[（(【]\s*\d{{4}}\s*[〕］\]）)】]\s*第?\s*\d{{1,5}}\s*号"
    rf"|{_H}{{2,24}}令\s*(?:（第\s*{_ORDER}\s*号）|第\s*{_ORDER}\s*号)"
)
_NUMBER_LINE = re.compile(rf"[（(]?\s*({DOC_NUMBER.pattern})\s*[）)]?")
_SIGNER = re.compile(rf"签\s*发\s*人\s*[:：]\s*{_H}{{2,4}}(?:\s+{_H}{{2,4}})*")
BANNER = re.compile(rf"({_H}(?:{_H}|\s){{1,40}}?)\s*文\s*件")
ADDRESSEE_END = re.compile(
    r"(?:(?:各|有关|人民政府|部门|单位|机构|企业|委员会|局|厅|委|办|办公室|公司|协会|商会|法院|检察院)[^：:]{0,6}"
    r"|(?:法院|检察院)[^：:，、]{0,12}分院)[：:]$"  # …高级人民法院生产建设兵团分院：
)
NOT_ADDRESSEES = re.compile(r"为了|为进一步|根据|如下|下列|以下|现将|特此|附件")
COPY_TO = re.compile(r"^抄\s*送\s*[:：]\s*(.+?)[。.]?$")
PRINTED = re.compile(rf"^({_H}(?:{_H}|\s){{1,40}}?)\s+{_DATE}\s*印\s*发$")
SIGNATURE_DATE = re.compile(rf"^{_DATE}$")
# Header fields of a page copied from a government site: 发文字号：国发〔2019〕3号.
HEADER_FIELD = re.compile(r"^(发文字号|文\s*号|发文机关|成文日期|发布日期|印发日期)\s*[:：]\s*(.+)$")
_FIELD_OF = {"发文字号": "doc_number", "文号": "doc_number", "发文机关": "issuer", "成文日期": "signed"}
_FIELD_OF |= {"发布日期": "published", "印发日期": "published"}
ORG_LINE = re.compile(
    rf"{_H}{{2,30}}(?:人民政府办公厅|人民政府|办公厅|办公室|委员会|总局|局|厅|部|委|署|院|会|中心|公司)"
)


@dataclass
class RedHeader:
    """What the header and the closing lines say; ``issuer`` only from the banner, the signature or a field."""

    doc_number: str | None = None
    issuer: str | None = None
    signed: str | None = None  # ISO date
    published: str | None = None  # ISO date
    addressees: str | None = None
    copy_to: str | None = None
    printed: str | None = None  # the 印发 line as written ("国务院办公厅 2018年12月28日印发")
    spans: list[MText] = field(default_factory=list)  # the lines taken out of the text

    def values(self) -> dict[str, str]:
        names = ("issuer", *FIELDS)
        return {name: v for name in names if (v := getattr(self, name))}


def read_red_header(lines: list[Line]) -> tuple[list[Line], list[MText], RedHeader]:
    """Lines with the red-header lines blanked out, the removed lines, and what they said."""
    out = list(lines)
    head = RedHeader()
    joined = [" ".join(ln.text.text.split()) for ln in out]
    convert_ahead(map(unify_ideographs, joined))  # display_text's conversions, in one call
    texts = [display_text(t) for t in joined]
    top = [i for i, ln in enumerate(out) if not ln.blank][:HEAD_LINES]
    for i in top:
        if (m := BANNER.fullmatch(texts[i])) and "关于" not in texts[i]:
            head.issuer = head.issuer or "".join(m.group(1).split())
        elif (number := _number_line(texts[i])) and not head.doc_number:
            head.doc_number = number
            _take(out, i, head)
    _addressees(out, texts, top, head)
    for i, text in enumerate(texts):
        if out[i].blank:
            continue
        if m := HEADER_FIELD.match(text):
            _header_field(head, _FIELD_OF["".join(m.group(1).split())], m.group(2).strip())
            _take(out, i, head)
        elif (m := COPY_TO.match(text)) and not head.copy_to:
            head.copy_to = m.group(1).strip()
            _take(out, i, head)
        elif (m := PRINTED.match(text)) and not head.printed:
            head.printed = text
            head.published = head.published or _iso(m.group(2), m.group(3), m.group(4))
            _take(out, i, head)  # its office is the one that printed it (an 办公厅), not the issuer
    _signature(out, texts, head)
    return out, head.spans, head


def _number_line(text: str) -> str | None:
    """The document number when the line is nothing else (a signer's name may stand beside it)."""
    rest = _SIGNER.sub("", text).strip()
    m = _NUMBER_LINE.fullmatch(rest)
    return "".join(m.group(1).split()) if m else None


def _addressees(out: list[Line], texts: list[str], top: list[int], head: RedHeader) -> None:
    """The first line after the title block that ends with a colon and names recipients."""
    for i in top:
        if out[i].blank:
            continue
        text = texts[i]
        if text.endswith(("：", ":")):
            if ADDRESSEE_END.search(text) and not NOT_ADDRESSEES.search(text) and not line_marker(text):
                head.addressees = text[:-1].strip()
                _take(out, i, head)
            return
        if any(ch in text for ch in "。；！？") or len(text) > 60 or line_marker(text):
            return  # the body has begun


def _header_field(head: RedHeader, name: str, value: str) -> None:
    if name in ("signed", "published"):
        m = re.match(_DATE, value) or re.match(_ISO, value)
        if m and not getattr(head, name):
            setattr(head, name, _iso(m.group(1), m.group(2), m.group(3)))
    elif name == "doc_number":
        head.doc_number = head.doc_number or "".join(value.split())
    else:
        head.issuer = head.issuer or value


def _signature(out: list[Line], texts: list[str], head: RedHeader) -> None:
    """The signing date: the last date line right under an office's name (both stay in the text)."""
    kept = [i for i, ln in enumerate(out) if not ln.blank]
    for a, b in zip(reversed(kept[:-1]), reversed(kept[1:]), strict=True):
        m = SIGNATURE_DATE.match(texts[b].replace(" ", ""))
        if m and ORG_LINE.fullmatch(texts[a].replace(" ", "")):
            head.signed = head.signed or _iso(m.group(1), m.group(2), m.group(3))
            head.issuer = head.issuer or texts[a].replace(" ", "")
            return


def _take(out: list[Line], i: int, head: RedHeader) -> None:
    head.spans.append(out[i].text)
    out[i] = Line(out[i].text[0:0])


def _iso(year: str, month: str, day: str) -> str:
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
