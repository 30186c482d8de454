"""Outline: units → clauses, each with its label, its section path and its source span.

A stack of open headings follows the numbering: a marker kind already open closes back to
its sibling, a new kind opens a child. Chapters and parts (第X编/章/节) and unnumbered
headings are structural: they only ever name a section. An article (第X条) holds whatever
numbered items it contains (款/项 stay inside their 条). A numbered item with children and
no body of its own is a heading, unless its title is itself a provision ("…应遵守如下规范：").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from policykb.ingest.layout import Unit
from policykb.ingest.markers import STRUCTURAL_RANK
from policykb.ingest.mtext import MText

SHORT_PARAGRAPH = 40
HEADING_TITLE_MAX = 30


@dataclass
class Node:
    unit: Unit | None  # None for unlabelled text
    path: tuple[str, ...]
    rank: int  # structural rank (part 1, chapter 2, section 3; unnumbered heading: outermost seen)
    body: list[MText] = field(default_factory=list)
    has_children: bool = False

    @property
    def kind(self) -> str:
        return self.unit.marker.kind if self.unit and self.unit.marker else "heading"

    @property
    def structural(self) -> bool:
        return self.rank > 0 or (self.unit is not None and self.unit.kind == "heading")

    def heading_text(self) -> str:
        if not self.unit:
            return ""
        label = self.unit.marker.label if self.unit.marker else ""
        sep = " " if label[-1:].isalnum() else ""
        return f"{label}{sep}{self.unit.text.text}".strip()


@dataclass
class Piece:
    """What becomes one clause (before long-clause splitting)."""

    label: str
    path: tuple[str, ...]
    title: MText | None  # the marker's title line, part of the clause text
    body: list[MText]
    full: MText  # label..end of title, for the source span start
    kind: str  # "clause" | "paragraph" | "row"


@dataclass
class Outline:
    pieces: list[Piece]
    headings: list[MText]  # text that only names sections (and the title block)


def build_outline(units: list[Unit]) -> Outline:
    pieces: list[Piece] = []
    headings: list[MText] = []
    stack: list[Node] = []
    loose: list[MText] = []  # unlabelled paragraphs waiting to become clauses
    outer_rank = [0]

    def path() -> tuple[str, ...]:
        return tuple(n.heading_text() for n in stack if n.heading_text())

    def flush_loose() -> None:
        for group in _group_short(loose):
            pieces.append(Piece("", path(), None, group, group[0], "paragraph"))
        loose.clear()

    def close(to: int) -> None:
        flush_loose()
        while len(stack) > to:
            _finish(stack.pop(), pieces, headings)

    titles: list[MText] = []
    fields: list[MText] = []  # an information block (layout.INFO_FIELD)
    caption: tuple[str, ...] = ()  # the caption of the table being read, for its rows' path
    for unit in units:
        if unit.kind not in ("row", "table_header"):
            caption = ()
        if unit.kind == "title":
            titles.append(unit.full)
        elif unit.kind == "field":
            fields.append(unit.full)  # the information block: the document's, no clause's
        elif unit.kind == "caption":
            headings.append(unit.full)
            caption = (unit.text.text,)
        elif unit.kind == "table_header":
            headings.append(unit.full)
        elif unit.kind == "para":
            # Text after an item's children is not the item's own body: its clause would then span them.
            if stack and not stack[-1].structural and not stack[-1].has_children:
                stack[-1].body.append(unit.full)
            else:
                loose.append(unit.full)
        elif unit.kind == "row":
            flush_loose()
            k = len(stack)
            while k and not _holds_table(stack[k - 1]):
                k -= 1
            close(k)
            if stack:
                stack[-1].has_children = True
            pieces.append(Piece("", (*path(), *caption), None, [unit.full], unit.full, "row"))
        elif unit.kind == "heading":
            rank = outer_rank[0] if outer_rank[0] else 1
            close(_first_at_or_below(stack, rank))
            if stack:
                stack[-1].has_children = True
            stack.append(Node(unit, path(), rank))
            outer_rank[0] = rank
        else:
            _open_marker(unit, stack, close, outer_rank)
    close(0)
    if (titles or fields) and not pieces:  # a notice that is only its title ("通知") is still one clause
        only = titles or fields
        pieces.append(Piece("", (), None, only, only[0], "paragraph"))
        headings.extend(fields if titles else ())
    else:
        headings[:0] = titles
        headings.extend(fields)
    return Outline(pieces, headings)


def _open_marker(unit: Unit, stack: list[Node], close: Callable[[int], None], outer_rank: list[int]) -> None:
    assert unit.marker is not None
    kind = unit.marker.kind
    if kind in STRUCTURAL_RANK:
        rank = STRUCTURAL_RANK[kind]
        if not outer_rank[0]:
            outer_rank[0] = rank
        close(_first_at_or_below(stack, rank))
    elif kind == "article":
        close(_after_last_structural(stack))
    else:
        if stack and stack[-1].kind == "article":
            stack[-1].body.append(unit.full)  # 项/目 stay inside their 条
            return
        same = next((k for k in range(len(stack) - 1, -1, -1) if stack[k].kind == kind), None)
        close(same if same is not None else len(stack))
    if stack:
        stack[-1].has_children = True
    parent_path = tuple(n.heading_text() for n in stack if n.heading_text())
    stack.append(Node(unit, parent_path, STRUCTURAL_RANK.get(kind, 0)))


def _holds_table(node: Node) -> bool:
    """A table belongs to the open item that leads into it ("…如下：") or whose title only names a
    part; an item that ends in a sentence of its own is finished, and the table is its sibling."""
    if node.structural or node.unit is None:
        return True
    last = (node.body[-1] if node.body else node.unit.text).text.rstrip()
    if last.endswith(("：", ":")):
        return True
    title = node.unit.text.text
    return not node.body and len(title) <= HEADING_TITLE_MAX and not any(ch in "。；！？;!?" for ch in title)


def _first_at_or_below(stack: list[Node], rank: int) -> int:
    """Index of the first stack entry that a heading of `rank` closes."""
    for k, node in enumerate(stack):
        if not node.structural or node.rank >= rank:
            return k
    return len(stack)


def _after_last_structural(stack: list[Node]) -> int:
    k = len(stack)
    while k and not stack[k - 1].structural:
        k -= 1
    return k


def _finish(node: Node, pieces: list[Piece], headings: list[MText]) -> None:
    unit = node.unit
    if unit is None:
        return
    if node.structural:  # its paragraphs were emitted as unlabelled clauses under it
        headings.append(unit.full)
        return
    title = unit.text
    is_heading = (
        node.has_children
        and not node.body
        and node.kind != "article"
        and len(title) <= HEADING_TITLE_MAX
        and not title.text.endswith(("：", ":"))
    )
    if is_heading:
        headings.append(unit.full)
        return
    assert unit.marker is not None  # a unit that is not a heading has a marker
    pieces.append(Piece(unit.marker.label, node.path, title, node.body, unit.full, "clause"))


def _group_short(paragraphs: list[MText]) -> list[list[MText]]:
    """One clause per paragraph, but runs of short lines (a signature, a contact list) together."""
    groups: list[list[MText]] = []
    for p in paragraphs:
        if groups and len(p) < SHORT_PARAGRAPH and all(len(q) < SHORT_PARAGRAPH for q in groups[-1]):
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups
