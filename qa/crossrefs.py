"""Articles a clause refers to within its own document: "依照本法第十条", "违反本法第十二条规定的，处…" — so a
reader sees the rule and its penalty together.

A reference that names another law ("《消费者权益保护法》第二十五条", "依照价格法第十四条") is not resolved here:
it points outside the document. "前款" / "前条" point inside the cited article or at its neighbour and are
left to the reader, who sees the article whole.

>>> [r.number for r in same_document_references("违反本法第十二条、第十三条规定的，依照《广告法》第五十五条处罚。")]
['12', '13']
"""

from __future__ import annotations

import threading
import weakref

from policykb.index.references import Reference, label_key, parse_references
from policykb.ingest.record import Clause

MAX_REFERENCES = 5

_lock = threading.Lock()
_maps: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # kb → (generation, {(doc, key): clause})


def same_document_references(text: str) -> list[Reference]:
    """Article references in ``text`` that name no other law, in order, each once."""
    out: dict[str, Reference] = {}
    for ref in parse_references(text):
        if ref.kind == "条" and ref.law is None:
            out.setdefault(ref.key, ref)
    return list(out.values())


def _article_map(kb) -> dict[tuple[str, str], Clause]:
    with _lock:
        cached = _maps.get(kb)
        if cached is None or cached[0] != kb.generation:
            found: dict[tuple[str, str], Clause] = {}
            for c in kb.clauses():
                if c.label and (key := label_key(c.label)) and key.startswith("条:"):
                    found.setdefault((c.doc_id, key), c)  # the first part of a split article
            cached = (kb.generation, found)
            _maps[kb] = cached
    return cached[1]


def resolve(kb, clause: Clause) -> tuple[Clause, ...]:
    """The clauses of ``clause``'s document that its text refers to (not itself), at most five."""
    refs = same_document_references(clause.text)
    if not refs:
        return ()
    articles = _article_map(kb)
    own = label_key(clause.label) if clause.label else None
    out = []
    for ref in refs:
        target = articles.get((clause.doc_id, ref.key))
        if target is not None and ref.key != own and target.clause_id != clause.clause_id:
            out.append(target)
    return tuple(out[:MAX_REFERENCES])
