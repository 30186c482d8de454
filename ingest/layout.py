"""Layout: cleaned lines → units (title lines, headings, markers, paragraphs, table rows).

This is where a document's physical lines become its logical pieces: hard-wrapped lines
are re-joined (before any Traditional→Simplified conversion, RELIABILITY 17), flattened
tables (one cell per line) become readable rows, lists run together in one paragraph are
cut at their markers, and unnumbered headings (附件, a rule's own title) are recognised.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from policykb.ingest.clean import Rules
from policykb.ingest.markers import SENTENCE_BREAK, Marker, inline_markers, line_marker
from policykb.ingest.mtext import MText
from policykb.ingest.text import compact_key, to_simplified

MD_HEADING = re.compile(r"^(#{1,6})\s+")
DATE_LINE = re.compile(r"^\s*\d{4}\s*[年\-/.]\s*\d{1,2}\s*[月\-/.]\s*\d{1,2}\s*日?\s*$")
NO_HEADING_CHARS = set("。；！？，,;：:、!?")
LONG_LINE = 60  # a line this long that stops mid-sentence was wrapped, not ended
CLOSING_QUOTES = "」』”"
HEADING_MAX = 30
PARAGRAPH_MIN = 40
PARAGRAPH_END = tuple("。；！？;!?）)")
ITEM_VALUE = re.compile(r"[：:]\s*[0-9０-９]")  # "时间：11月12日": an item's value, not a caption's words
# A field of a law database's information block, between a document's title and its text: what the database
# says about the document (【现行版本】…, 【数据源URL】…, 【施行日期】…, 法規網址：…), not what the document says.
# Kind "field": no clause, no section path; its span is kept with the headings', and it is still read for
# dates and validity. In brackets, any name below; after a bare colon only the names law databases use, since
# 网址：…, 类别：…, 来源：… open ordinary lines of a notice. Names (法律名称) stay with the title.
_FIELD_NAMES = (
    r"现行版本|版本|时效性|效力级别|效力|法规类别|类别|条款数|数据源(?:URL)?|URL|网址|原文链接|来源|"
    r"(?:施行|生效|实施|发布|公布|颁布|修正|修订|成文|印发)日期|(?:颁布|发布|制定|发文)(?:机构|机关)|发文字号|文号|"
    r"索引号|主题分类"
)
_DATABASE_FIELDS = r"法规(?:类别|网址)|(?:施行|修正|修订)日期|数据源(?:URL)?|原文链接"
INFO_FIELD = re.compile(rf"^(?:【\s*(?:{_FIELD_NAMES})\s*】|(?:{_DATABASE_FIELDS})\s*[:：])")
# The banner around a text's body: ==== 正文开始 ====, ==== 正文结束 ====, ———— 正文 ———— (a kind "field" too).
_BANNER_CHARS = "=-*#~_—"
_RULE = re.escape(_BANNER_CHARS)
INFO_BANNER = re.compile(rf"^([{_RULE}])\1{{2,}}\s*[^{_RULE}\s]{{1,8}}\s*\1{{3,}}$")
_LAW_TITLE = re.compile(r"(?:法|条例|办法|规定|细则|规则|意见|措施|方案|决定|解释|批复)$")
TABLE_AS_ONE = (
    240  # a table whose rows take at most this many characters is one clause; a longer one, a clause a row
)


@dataclass
class Line:
    text: MText  # stripped
    tab: bool = False  # the raw line started with a tab: a flattened table cell
    md_level: int = 0  # markdown heading level (# = 1)
    cells: list[MText] | None = None  # a whole table row, "\tcell\tcell" (PDF and DOCX tables): its cells

    @property
    def blank(self) -> bool:
        return not self.text.text


@dataclass
class Unit:
    kind: str  # "title" | "heading" | "marker" | "para" | "row" | "table_header" | "caption" | "field"
    text: MText  # marker: its title (the text after the label); others: the whole unit
    full: MText  # the unit's characters including its label (source span)
    marker: Marker | None = None
    md_level: int = 0
    inline_children: bool = field(default=False)


def to_lines(cleaned_lines: list[MText]) -> list[Line]:
    out = []
    for raw in cleaned_lines:
        tab = raw.text.startswith("\t")
        if tab and "\t" in raw.text[1:]:
            out.append(Line(raw.strip(), True, 0, _cells(raw)))
            continue
        text = raw.strip()
        level = 0
        if m := MD_HEADING.match(text.text):
            level = len(m.group(1))
            text = text[m.end() :].strip().extend_left(text.span()[0])
        out.append(Line(text, tab, level))
    return out


def build_units(lines: list[Line], rules: Rules, title: str | None = None) -> list[Unit]:
    lines = join_wrapped(lines)
    units: list[Unit] = []
    last_seen: dict[str, int] = {}
    i = _title_block(lines, units, title)
    if (j := _info_block(lines, i, units)) > i:
        i = j
        if _banner(units[-1].full.text):
            i = _title_block(lines, units, title, j)  # the title again, under the banner
    # A law's title again in the body (after a decree's preamble, before 第一章): the title, not a heading. Only
    # a title that names a law or rule: a banner's office (深圳市商务局) is also its signature.
    titles = {
        key
        for u in units
        if u.kind == "title" and _LAW_TITLE.search(key := compact_key(u.full.text)) and len(key) >= 8
    }
    ends = {key[-1] for key in titles}
    while i < len(lines):
        line = lines[i]
        if line.blank:
            i += 1
        elif titles and to_simplified(line.text.text[-1:]) in ends and compact_key(line.text.text) in titles:
            units.append(Unit("title", line.text, line.text, md_level=line.md_level))
            i += 1
        elif line.cells is not None:
            i = _grid(lines, i, units)
        elif line.tab:
            i = _table(lines, i, units)
        elif _banner(line.text.text):
            units.append(Unit("field", line.text, line.text))  # ==== 正文结束 ==== after the last article
            i += 1
        elif (n := _heading_run(lines, i)) and not line_marker(line.text.text):
            units.append(_heading(lines[i : i + n]))
            i += n
        else:
            _classify(line, units, rules, last_seen)
            i += 1
    return units


# -- joining hard-wrapped lines ------------------------------------------------------------


def join_wrapped(lines: list[Line]) -> list[Line]:
    """Join a line that stops mid-sentence at the wrap width with the next text line."""
    width = _wrap_width(lines)
    out: list[Line] = []
    i = 0
    while i < len(lines):
        cur = lines[i]
        i += 1
        while _wrapped(cur, width):
            j = i
            while j < len(lines) and lines[j].blank and j - i < 2:
                j += 1
            if j >= len(lines) or lines[j].blank or lines[j].tab or lines[j].md_level:
                break
            nxt = lines[j].text
            if line_marker(nxt.text) or _starts_part(nxt.text):
                break
            sep = (
                " "
                if cur.text.text[-1:].isascii() and nxt.text[:1].isascii() and nxt.text[:1].isalnum()
                else ""
            )
            cur = Line(MText.join([cur.text, nxt], sep), cur.tab, cur.md_level)
            i = j + 1
        out.append(cur)
    return out


def _wrap_width(lines: list[Line]) -> int | None:
    """The width most lines were wrapped at, if the text looks hard-wrapped."""
    lengths = [len(ln.text) for ln in lines if len(ln.text) >= 10]
    if len(lengths) < 5:
        return None
    width, _ = Counter(lengths).most_common(1)[0]
    near = sum(1 for n in lengths if width - 2 <= n <= width)
    return width if near >= 0.3 * len(lengths) else None


def _wrapped(line: Line, width: int | None) -> bool:
    t = line.text.text
    if not t or line.md_level or line.tab or _banner(t):
        return False
    # A closing quote ends a sentence only after an end mark (。” ends one, “小程序” at a wrap does not).
    quoted_term = t[-1] in CLOSING_QUOTES and len(t) >= 2 and t[-2] not in SENTENCE_BREAK
    if t[-1] in SENTENCE_BREAK + "：:）)】>" and not quoted_term:
        return False
    if len(t) >= LONG_LINE:
        return True
    # A sentence cut off mid-way (it has commas), unless it is a numbered heading line.
    if len(t) >= 20 and any(ch in "，," for ch in t) and not line_marker(t):
        return True
    return width is not None and len(t) >= width - 2


def _starts_part(text: str) -> bool:
    return bool(DATE_LINE.match(text)) or _info_line(text)


def _banner(text: str) -> bool:
    """``INFO_BANNER``, tested only on a line that starts like one (this runs on every line)."""
    return text[:1] in _BANNER_CHARS and INFO_BANNER.fullmatch(text) is not None


def _info_line(text: str) -> bool:
    """A field of a document's information block, or a banner (``INFO_FIELD``, ``INFO_BANNER``)."""
    if text[:1] in _BANNER_CHARS:
        return _banner(text)
    if text[:1] == "【" or "：" in text[:10] or ":" in text[:10]:
        return INFO_FIELD.match(to_simplified(text[:16])) is not None
    return False


# -- title block and unnumbered headings ----------------------------------------------------


def _title_block(lines: list[Line], units: list[Unit], title: str | None, start: int = 0) -> int:
    """Lines before the first marker or paragraph that carry no sentence: the title area."""
    i = start
    while i < len(lines):
        line = lines[i]
        t = line.text.text
        if line.blank:
            i += 1
            continue
        if (
            line.tab
            or line_marker(t)
            or len(t) > PARAGRAPH_MIN + 20
            or any(ch in "。；！？" for ch in t)
            or t.endswith(("：", ":"))
            or _info_line(t)
        ):
            break
        if not _title_like(t, title) and units:
            break
        units.append(Unit("title", line.text, line.text, md_level=line.md_level))
        i += 1
    return i


def _info_block(lines: list[Line], i: int, units: list[Unit]) -> int:
    """The information block's fields from line ``i`` on, as "field" units, up to its banner if it has one;
    the line after them (``i`` when there are none)."""
    j, before = i, len(units)
    while j < len(lines):
        line = lines[j]
        if line.blank:
            j += 1
            continue
        if line.tab or not _info_line(line.text.text):
            break
        units.append(Unit("field", line.text, line.text))
        j += 1
        if _banner(line.text.text):
            break  # the banner closes the block
    return j if len(units) > before else i


def _title_like(text: str, title: str | None) -> bool:
    if title and compact_key(text) in compact_key(title):
        return True
    return not (set(text) & {"，", ","}) or len(text) <= HEADING_MAX


def _heading_shaped(line: Line) -> bool:
    t = line.text.text
    return (
        0 < len(t) <= HEADING_MAX
        and not line.tab
        and not (set(t) & NO_HEADING_CHARS)
        and not DATE_LINE.match(t)
        and not t[0] in "（(【[<"
        and not t.isascii()
    )


def _heading_run(lines: list[Line], i: int) -> int:
    """Length of a run of heading lines starting at i (0 if none): short lines without
    sentence punctuation, after a blank line, followed by a numbered clause or a paragraph."""
    if lines[i].md_level:
        return 1
    if i and not lines[i - 1].blank and not lines[i - 1].text.text.endswith(PARAGRAPH_END):
        return 0  # text runs on; a PDF has no blank lines, but a heading still follows a finished paragraph
    n, j = 0, i
    while j < len(lines) and n < 3:
        if lines[j].blank:
            j += 1
            continue
        if not _heading_shaped(lines[j]):
            break
        n, j = n + 1, j + 1
    if not n:
        return 0
    while j < len(lines) and lines[j].blank:
        j += 1
    if j >= len(lines):
        return 0
    nxt = lines[j].text.text
    if line_marker(nxt) or len(nxt) >= PARAGRAPH_MIN or lines[j].md_level:
        return j - i if n else 0
    return 0


def _heading(lines: list[Line]) -> Unit:
    parts = [ln.text for ln in lines if not ln.blank]
    text = MText.join(parts, " ")
    return Unit("heading", text, text, md_level=lines[0].md_level)


# -- flattened tables ----------------------------------------------------------------------


def _table(lines: list[Line], i: int, units: list[Unit]) -> int:
    """A table flattened to one cell per tab-indented line, rows separated by blank lines.
    The first block is the header; each row becomes "header：cell；header：cell", one unit per row, or
    one for the whole table when it is short, under its caption (as for a PDF or DOCX table)."""
    header: list[MText] = []
    while i < len(lines) and lines[i].tab and not lines[i].blank:
        header.append(lines[i].text)
        i += 1
    n = len(header)
    head = MText.join(header, " ")
    _caption(units)
    units.append(Unit("table_header", head, head))
    out: list[Unit] = []
    row: list[MText] = []
    blanks = 0
    while i < len(lines):
        line = lines[i]
        if line.blank:
            blanks += 1
            i += 1
            if blanks >= 2 and len(row) >= n:
                break
            continue
        if line.tab and len(row) >= n:
            _emit_row(header, row, out)
            row = []
        if line.tab:
            row.append(line.text)
        elif row and (len(row) < n or blanks <= 1) and not line_marker(line.text.text) and not line.md_level:
            row[-1] = MText.join([row[-1], line.text], "\n")  # a cell's text runs on
        else:
            break
        blanks = 0
        i += 1
    if row:
        _emit_row(header, row, out)
    _add_rows(out, units)
    return i


def _emit_row(header: list[MText], row: list[MText], units: list[Unit]) -> None:
    cells = []
    for k, cell in enumerate(row):
        name = header[k].text if k < len(header) else ""
        cells.append(MText.join([MText.literal(f"{name}：", cell.pos[0]), cell]) if name else cell)
    text = MText.join(cells, "；")
    units.append(Unit("row", text, text))


# -- table rows (PDF and DOCX tables) -------------------------------------------------------


def _cells(raw: MText) -> list[MText]:
    """The cells of a row line "\tcell\tcell" (an empty cell stays, as an empty MText)."""
    cells, start = [], 1
    for k in range(1, len(raw.text) + 1):
        if k == len(raw.text) or raw.text[k] == "\t":
            cells.append(raw[start:k].strip())
            start = k + 1
    return cells


def _grid(lines: list[Line], i: int, units: list[Unit]) -> int:
    """Consecutive row lines: the first names the columns; each other row becomes "name：value；…" (empty
    cells left out), one unit per row, or one for the whole table when it is short. A short line just
    before the table, ending in no punctuation, is its caption (the rows' section path)."""
    rows: list[list[MText]] = []
    while i < len(lines) and lines[i].cells is not None:
        rows.append(lines[i].cells or [])
        i += 1
    _caption(units)
    if len(rows) == 1:
        text = MText.join([c for c in rows[0] if c.text], "；")
        units.append(Unit("row", text, text))
        return i
    head = MText.join([c for c in rows[0] if c.text], " ")
    units.append(Unit("table_header", head, head))
    out: list[Unit] = []
    for row in rows[1:]:
        pairs = [(rows[0][k] if k < len(rows[0]) else MText.of(""), c) for k, c in enumerate(row) if c.text]
        if pairs:
            _emit_row([h for h, _ in pairs], [c for _, c in pairs], out)
    _add_rows(out, units)
    return i


def _add_rows(rows: list[Unit], units: list[Unit]) -> None:
    """A table's rows as one unit when they are short together, else a unit a row."""
    whole = MText.join([u.full for u in rows], "\n")
    units.extend([Unit("row", whole, whole)] if rows and len(whole) <= TABLE_AS_ONE else rows)


def _caption(units: list[Unit]) -> None:
    """A short line just before a table, ending in no punctuation, is its caption."""
    if units and units[-1].kind == "para" and _caption_like(units[-1].full.text):
        units.append(Unit("caption", units[-1].text, units.pop().full))


def _caption_like(text: str) -> bool:
    """Short, no sentence punctuation, no number after a colon: "表1：补贴标准" is a caption, "时间：11月12日"
    an item."""
    return (
        0 < len(text) <= HEADING_MAX + 10
        and not set(text) & set("。；！？，,;")
        and not text.endswith(("：", ":"))
        and not ITEM_VALUE.search(text)
    )


# -- markers, inline lists, paragraphs ------------------------------------------------------


def _classify(line: Line, units: list[Unit], rules: Rules, last_seen: dict[str, int]) -> None:
    text = line.text
    word = _leading_word(text.text, rules)
    if word:
        units.append(Unit("heading", text[: len(word)], text[: len(word)]))
        text = text[len(word) :].strip()
    marker = line_marker(text.text)
    if marker:
        last_seen[marker.kind] = marker.number
        after = text.text[marker.end :]
        offset = len(text) - len(after.lstrip())
        cuts = inline_markers(text.text[offset:], last_seen, after_heading=True)
        title = text[offset : offset + cuts[0][0]] if cuts else text[offset:]
        units.append(Unit("marker", title.strip(), text[: offset + len(title)], marker, line.md_level))
        _inline_units(text[offset:], cuts, units)
        return
    if line.md_level:
        units.append(Unit("heading", text, text, md_level=line.md_level))
        return
    cuts = inline_markers(text.text, last_seen, after_heading=False)
    head = text[: cuts[0][0]] if cuts else text
    if head.strip().text:
        units.append(Unit("para", head.strip(), head.strip()))
    _inline_units(text, cuts, units)


def _inline_units(text: MText, cuts: list[tuple[int, Marker]], units: list[Unit]) -> None:
    for k, (pos, marker) in enumerate(cuts):
        stop = cuts[k + 1][0] if k + 1 < len(cuts) else len(text)
        piece = text[pos:stop]
        units.append(Unit("marker", piece[marker.end :].strip(), piece.strip(), marker))


def _leading_word(text: str, rules: Rules) -> str | None:
    if len(text) < rules.min_line_chars:
        return None
    shadow = to_simplified(text)
    return next((w for w in rules.leading_words if shadow.startswith(w)), None)
