"""Recognising the numbering markers that open a clause or a heading.

Line-start markers are strong evidence; markers inside a line (lists run together in one
paragraph) are accepted only where a list item can start: after a sentence end or right
after a short parent heading, and only in sequence. Cross references ("依照本法第十条",
"3.1.2的规定", "第五條第一項") are never markers.

>>> m = line_marker("第 7-1 條")
>>> (m.kind, m.label, m.number)
('article', '第 7-1 條', 7)
>>> line_marker("第十条规定的情形") is None, line_marker("3.1.2的规定") is None
(True, True)
>>> [(m.kind, m.label) for m in (line_marker("（十二）提升"), line_marker("3.1.5 创作者"), line_marker("1. 此次"))]
[('cn_paren', '（十二）'), ('decimal3', '3.1.5'), ('ar_dot', '1.')]
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from policykb.ingest.charfreq import is_word
from policykb.ingest.numbering import CIRCLED, CN_NUM, cn_to_int
from policykb.ingest.text import SENTENCE_END

NUM = rf"[0-9０-９{CN_NUM}]+"
CN = rf"[{CN_NUM}]+"
# What follows a number in a cross reference, not in a heading: 第五条第一款, 第五条、第六条, 第五条的规定.
# A heading's text may itself start with 第 (第五条 第三方平台应当…): only 第 + number + unit is a reference.
NOT_AFTER_REF = (
    rf"(?![规的之至和或及与所款项項目内內起止前后後]|[条條]|[、，,]?\s*第\s*{NUM}\s*[款项項条條目]"
    rf"|[、，,]\s*第)"
)

STRUCTURAL = ("part", "chapter", "section")
STRUCTURAL_RANK = {"part": 1, "chapter": 2, "section": 3}

_LINE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("part", re.compile(rf"第\s*{NUM}\s*[编編](?=\s|$|[^{CN_NUM}的规之])")),
    ("chapter", re.compile(rf"第\s*{NUM}\s*章(?=\s|$|[^的规之])")),
    ("section", re.compile(rf"第\s*{NUM}\s*[节節](?=\s|$|[^的规之])")),
    ("article", re.compile(rf"第\s*{NUM}(?:\s*-\s*\d+)?\s*[条條](?:之[{CN_NUM}]+)?{NOT_AFTER_REF}")),
    ("decimal", re.compile(r"\d{1,2}(?:[.．]\d{1,2}){1,3}(?![\d.．]|[万亿元%％倍年月日的规之])[.．、]?")),
    ("cn_dun", re.compile(rf"{CN}[、](?![、])")),
    ("cn_paren", re.compile(rf"[（(]\s*{CN}\s*[）)](?![项項款目])")),
    ("ar_paren", re.compile(r"[（(]\s*\d{1,2}\s*[）)](?![项項款目])")),
    ("ar_dot", re.compile(r"\d{1,2}\s*[.．、](?![\d.．])")),
    ("circled", re.compile(rf"[{CIRCLED}]")),
]
INLINE_KINDS = ("cn_dun", "cn_paren")
_INLINE = re.compile(rf"(?P<cn_paren>[（(]\s*{CN}\s*[）)])(?![项項款目])|(?P<cn_dun>{CN}、)")
# What a sentence's last character is: an end mark, or a closing quote after one.
SENTENCE_BREAK = SENTENCE_END + "」』”"


@dataclass(frozen=True, slots=True)
class Marker:
    kind: str  # part chapter section article decimal2/3/4 cn_dun cn_paren ar_paren ar_dot circled
    label: str  # as written, stripped
    number: int  # the (last) number, for sequence checks
    end: int  # where the marker ends in the line (title starts after spaces)

    @property
    def structural(self) -> bool:
        return self.kind in STRUCTURAL


@functools.lru_cache(maxsize=16384)
def line_marker(line: str) -> Marker | None:
    """The marker that opens `line` (already stripped), if any. Cached: the table of contents, the layout
    and the outline ask about the same lines (ingest clears the cache per document)."""
    for kind, pattern in _LINE_PATTERNS:
        m = pattern.match(line)
        if not m:
            continue
        label = m.group(0).strip()
        if kind == "decimal":
            parts = re.split(r"[.．]", label.rstrip(".．、"))
            return Marker(f"decimal{len(parts)}", label, int(parts[-1]), m.end())
        number = _number(label)
        if number is None:
            continue
        if kind == "ar_dot" and len(line) > m.end() and line[m.end()].isdigit():
            continue
        return Marker(kind, label, number, m.end())
    return None


def _number(label: str) -> int | None:
    core = re.sub(r"^第|[编編章节節条條、（）().．\s]", "", label)
    core = re.sub(r"(?:-\d+|之.*)$", "", core)
    return cn_to_int(core.replace("０", "0"))


def inline_markers(text: str, last_seen: dict[str, int], after_heading: bool) -> list[tuple[int, Marker]]:
    """Markers of lists run together inside `text`, with their positions in `text`.

    `last_seen` holds the last number accepted per kind and is updated; `after_heading`
    says `text` starts right after a marker's title position (a child may follow a title).
    """
    found: list[tuple[int, Marker]] = []
    if "、" not in text and "（" not in text and "(" not in text:
        return found  # every inline marker holds one of them: most lines need no regex scan
    prev_end = 0 if after_heading else -1
    for m in _INLINE.finditer(text):
        kind = m.lastgroup or ""
        if m.start() == 0:
            continue  # a line-start marker is line_marker's business
        number = _number(m.group(0))
        if number is None or not _can_start_item(text, m.start(), prev_end):
            continue
        if number != last_seen.get(kind, 0) + 1 and number != 1:
            continue
        if kind == "cn_dun" and is_word(text[m.start() - 1] + m.group(0)[0]):
            continue  # 统一、 唯一、 is a word, not an item
        found.append((m.start(), Marker(kind, m.group(0), number, len(m.group(0)))))
        last_seen[kind] = number
        prev_end = m.end()
    return found


def _can_start_item(text: str, pos: int, prev_end: int) -> bool:
    before = text[pos - 1]
    if before in SENTENCE_BREAK:
        return True
    if before == "第":
        return False
    # Directly after a short heading ("一、支持直播电商主体做大做强(一)打造…").
    if prev_end >= 0:
        between = text[prev_end:pos]
        return len(between) <= 30 and not any(ch in SENTENCE_BREAK + "，," for ch in between)
    return False
