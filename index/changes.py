"""What changed between two versions of a document: clauses added, removed and changed.

Clauses are matched by where they stand — section path and label ("第二章 > 第十条", "三、 > （二）") — and,
for unlabelled clauses, by their text; a matched pair whose text differs is "changed".

>>> from policykb.ingest.record import Clause, Metadata, Source
>>> def c(label, text, seq):
...     return Clause.create(doc_id="d", title="t", label=label, section_path=(), text=text, original=text,
...                          source=Source("x", 0, 1), metadata=Metadata(), seq=seq)
>>> d = what_changed([c("第一条", "甲。", 0), c("第二条", "乙。", 1)], [c("第一条", "甲。", 0), c("第二条", "丙。", 1),
...                   c("第三条", "丁。", 2)])
>>> [x.label for x in d.added], [x.label for x in d.removed], [(a.text, b.text) for a, b in d.changed]
(['第三条'], [], [('乙。', '丙。')])
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from policykb.ingest.record import Clause


@dataclass(frozen=True)
class Changes:
    added: list[Clause]
    removed: list[Clause]
    changed: list[tuple[Clause, Clause]]  # (old, new)
    unchanged: int

    def to_dict(self) -> dict[str, object]:
        def brief(c: Clause) -> dict[str, object]:
            return {"label": c.label, "section_path": list(c.section_path), "text": c.text}

        return {
            "added": [brief(c) for c in self.added],
            "removed": [brief(c) for c in self.removed],
            "changed": [{"old": brief(a), "new": brief(b)} for a, b in self.changed],
            "unchanged": self.unchanged,
        }


def _place(c: Clause) -> tuple[object, ...]:
    """Where a clause stands; an unlabelled clause is known by its text. Parts of a split clause in order."""
    return (c.section_path, c.label, c.part[0] if c.part else 0) if c.label else (c.section_path, "", c.text)


def what_changed(old: list[Clause], new: list[Clause]) -> Changes:
    """``old`` → ``new`` (each a document's clauses in reading order)."""
    slots: dict[tuple[object, ...], list[Clause]] = defaultdict(list)
    for c in old:
        slots[_place(c)].append(c)
    added, changed, unchanged = [], [], 0
    for c in new:
        queue = slots.get(_place(c))
        if not queue:
            added.append(c)
            continue
        before = queue.pop(0)
        if before.text == c.text:
            unchanged += 1
        else:
            changed.append((before, c))
    removed = sorted((c for queue in slots.values() for c in queue), key=lambda c: c.seq)
    return Changes(added, removed, changed, unchanged)
