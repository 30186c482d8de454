"""Text that remembers where each character came from.

Every cleaning step deletes or replaces characters; ``MText`` keeps, for each character
left, its offset in the decoded source file, so a clause can point at the exact
characters it came from (``Source.start``/``end``) whatever was removed in between.

>>> m = MText.of("消費(fèi)者")
>>> c = m.delete([(2, 7)])
>>> c.text, c.span(0, len(c.text))
('消費者', (0, 8))
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator

import numpy as np


class MText:
    __slots__ = ("pos", "text")

    def __init__(self, text: str, pos: array[int]):
        assert len(text) == len(pos)
        self.text = text
        self.pos = pos

    @classmethod
    def of(cls, text: str, base: int = 0) -> MText:
        # numpy fills the positions in C: ``array("q", range(...))`` makes a Python int per character.
        return cls(text, array("q", np.arange(base, base + len(text), dtype=np.int64).tobytes()))

    @classmethod
    def literal(cls, text: str, anchor: int) -> MText:
        """Text that is not in the source (e.g. a table header repeated in a row): every
        character points at `anchor`."""
        return cls(text, array("q", [anchor] * len(text)))

    def __len__(self) -> int:
        return len(self.text)

    def __getitem__(self, s: slice) -> MText:
        return MText(self.text[s], self.pos[s])

    def __repr__(self) -> str:
        return f"MText({self.text!r})"

    def span(self, i: int = 0, j: int | None = None) -> tuple[int, int]:
        """Source span [start, end) of characters i..j (end is one past the last source char)."""
        j = len(self.text) if j is None else j
        if i >= j:
            p = self.pos[i] if i < len(self.pos) else (self.pos[-1] + 1 if self.pos else 0)
            return p, p
        return self.pos[i], self.pos[j - 1] + 1

    def delete(self, spans: Iterable[tuple[int, int]]) -> MText:
        """Remove the (start, end) spans, given in this text's coordinates."""
        return self.replace((s, e, "") for s, e in spans)

    def replace(self, edits: Iterable[tuple[int, int, str]]) -> MText:
        """Replace spans by new strings; new characters point at the replaced span's start."""
        ordered = sorted(edits)
        if not ordered:
            return self  # most lines have nothing to replace: no copy (MText is never changed in place)
        out_t: list[str] = []
        out_p = array("q")
        last = 0
        for s, e, new in ordered:
            if s < last:
                continue  # overlapping edit: the first one wins
            out_t.append(self.text[last:s])
            out_p.extend(self.pos[last:s])
            if new:
                out_t.append(new)
                out_p.extend(self._new_positions(s, e, new))
            last = e
        out_t.append(self.text[last:])
        out_p.extend(self.pos[last:])
        return MText("".join(out_t), out_p)

    def _new_positions(self, s: int, e: int, new: str) -> list[int]:
        """Source positions for `new` replacing [s, e). When `new` keeps some of the old characters
        in order ("深 圳 市" → "深圳市"), each keeps its own position, so the replaced span stays
        covered; other new characters point at the span's start."""
        anchor = self.pos[s] if s < len(self.pos) else (self.pos[-1] + 1 if self.pos else 0)
        out, k = [], s
        for ch in new:
            j = self.text.find(ch, k, e)
            if j < 0:
                return [anchor] * len(new)
            out.append(self.pos[j])
            k = j + 1
        return out

    def sub(self, pattern: re.Pattern[str], repl: str = "") -> MText:
        return self.replace(
            (m.start(), m.end(), m.expand(repl) if repl else "") for m in pattern.finditer(self.text)
        )

    def extend_left(self, start: int) -> MText:
        """The same text whose source span starts at `start`: markup dropped just before it
        (a Markdown "## ") belongs to the span of what it marks."""
        if not self.pos or start >= self.pos[0]:
            return self
        return MText(self.text, array("q", [start]) + self.pos[1:])

    def strip(self) -> MText:
        t = self.text
        i, j = 0, len(t)
        while i < j and t[i].isspace():
            i += 1
        while j > i and t[j - 1].isspace():
            j -= 1
        return self if (i, j) == (0, len(t)) else self[i:j]  # MText is never changed in place

    def lines(self) -> Iterator[MText]:
        start = 0
        for m in re.finditer("\n", self.text):
            yield self[start : m.start()]
            start = m.end()
        yield self[start:]

    @staticmethod
    def join(parts: list[MText], sep: str = "") -> MText:
        """Concatenate; separator characters point just past the preceding part."""
        text: list[str] = []
        pos = array("q")
        for k, p in enumerate(parts):
            if k and sep:
                anchor = pos[-1] + 1 if pos else (p.pos[0] if p.pos else 0)
                text.append(sep)
                pos.extend([anchor] * len(sep))
            text.append(p.text)
            pos.extend(p.pos)
        return MText("".join(text), pos)
