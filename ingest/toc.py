"""Tables of contents: a run of chapter/section (and article) headings with no text between
them, repeated later in the body, is a table of contents. Its lines name sections only; left in,
they would become duplicate headings or empty clauses.

>>> from policykb.ingest.layout import Line
>>> from policykb.ingest.mtext import MText
>>> text = ["目录", "第一章 总则", "第二章 经营者", "第三章 附则", "", "第一章 总则", "第一条 为了规范。",
...         "第二章 经营者", "第二条 经营者。", "第三章 附则", "第三条 本法施行。"]
>>> lines = [Line(MText.of(t)) for t in text]
>>> kept, toc = drop_toc(lines)
>>> [ln.text.text for ln in kept if ln.text.text][:2], len(toc)
(['第一章 总则', '第一条 为了规范。'], 4)
"""

from __future__ import annotations

import re

from policykb.ingest.layout import Line
from policykb.ingest.markers import line_marker
from policykb.ingest.mtext import MText
from policykb.ingest.text import compact_key

TOC_TITLE = re.compile(r"^目\s*录$|^contents$", re.IGNORECASE)
PAGE_REF = re.compile(r"[.…·—\-\s]*\d+\s*$")
MIN_ENTRIES = 3


def drop_toc(lines: list[Line]) -> tuple[list[Line], list[MText]]:
    """Lines with any table of contents blanked out, and the removed lines (for the report)."""
    out = list(lines)
    removed: list[MText] = []
    keys = [None if ln.blank else _entry_key(ln) for ln in lines]  # each line read once
    last = {key: k for k, key in enumerate(keys) if key is not None}  # where each heading is last seen
    i = 0
    while i < len(out):
        end = _toc_block(out, i, keys, last)
        if end:
            for k in range(i, end):
                if not out[k].blank:
                    removed.append(out[k].text)
                    out[k] = Line(out[k].text[0:0])
            i = end
        else:
            i += 1
    return out, removed


def _entry_key(line: Line) -> str | None:
    text = line.text.text
    if text.rstrip()[-1:].isdecimal():  # PAGE_REF ends in a digit (\d is Unicode Nd, like isdecimal)
        text = PAGE_REF.sub("", text)
    marker = line_marker(text)
    if not marker or marker.kind not in ("part", "chapter", "section", "article"):
        return None
    # "第 一 章 總則……1" in the contents and "第一章 总则" in the body are the same heading.
    return marker.kind + "|" + compact_key(text)


def _toc_block(lines: list[Line], i: int, keys: list[str | None], last: dict[str, int]) -> int | None:
    """End index of a table of contents starting at i, or None: a run of at least ``MIN_ENTRIES`` distinct
    bare headings whose first, and half of all, come again after it. ``keys``: each line's entry key
    (lines are only ever blanked inside a block already passed); ``last``: where each key last occurs."""
    if TOC_TITLE.match(lines[i].text.text.strip()):
        i += 1
    first = next((k for k in range(i, len(lines)) if not lines[k].blank), len(lines))
    head = keys[first] if first < len(lines) else None
    if head is None or last[head] == first:
        return None  # the first entry never comes again: a body line (the common case), checked at once
    run: list[str] = []
    seen: set[str] = set()
    while i < len(lines):
        if lines[i].blank:
            i += 1
            continue
        key = keys[i]
        # A TOC entry is a bare heading: an article line with body text is the body itself.
        if key is None or key in seen or (key.startswith("article|") and len(key) > 40):
            break  # not a heading, or the body starts over with the first heading
        run.append(key)
        seen.add(key)
        i += 1
    if len(run) < MIN_ENTRIES:
        return None
    again = {key for key in run if last[key] >= i}
    return i if run[0] in again and len(again) >= len(run) // 2 else None
