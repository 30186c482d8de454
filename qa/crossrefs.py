"""Articles a clause refers to within its own document: "依照本法第十条", "违反本法第十二条规定的，处…" — so a
reader sees the rule and its penalty together.

A reference that names another law ("《消费者权益保护法》第二十五条", "依照价格法第十四条") is not resolved here:
it points outside the document. "前款" / "前条" point inside the cited article or at its neighbour and are
left to the reader, who sees the article whole.

>>> [r.number for r in same_document_references("违反本法第十二条、第十三条规定的，依照《广告法》第五十五条处罚。")]
['12', '13']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from policykb.index.references import Reference, label_key, parse_references
from policykb.ingest.record import Clause

if TYPE_CHECKING:
    from policykb.index.store import KnowledgeBase

MAX_REFERENCES = 5


def same_document_references(text: str) -> list[Reference]:
    """Article references in ``text`` that name no other law, in order, each once."""
    out: dict[str, Reference] = {}
    for ref in parse_references(text):
        if ref.kind == "条" and ref.law is None:
            out.setdefault(ref.key, ref)
    return list(out.values())


def resolve(kb: KnowledgeBase, clause: Clause) -> tuple[Clause, ...]:
    """The clauses of ``clause``'s document that its text refers to (not itself), at most five; looked up in
    the generation's own label index (``KnowledgeBase.labelled``)."""
    own = label_key(clause.label) if clause.label else None
    out = []
    for ref in same_document_references(clause.text):
        target = kb.labelled(clause.doc_id, ref.key) if ref.key != own else None
        if target is not None and target.clause_id != clause.clause_id:
            out.append(target)
    return tuple(out[:MAX_REFERENCES])
