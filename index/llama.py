"""LlamaIndex view of the knowledge base: a ``BaseRetriever`` over our hybrid search.

Why FAISS directly behind LlamaIndex's retriever interface, rather than LlamaIndex's ``FaissVectorStore``
with a ``StorageContext``: we need our own generation manifest with checksums, an atomic save
(``StorageContext.persist`` writes its stores one after another and ``FaissVectorStore.persist`` writes
the index file in place, so a crash leaves a mix of two versions — RELIABILITY 1), and vectors addressed
by keys derived from clause ids (``FaissVectorStore`` maps nodes to FAISS positions, which silently
return the wrong clause once the stores disagree — RELIABILITY 5). We also need BM25, reference lookup
and metadata filters fused in one ranking. So the storage is ours, and LlamaIndex sees a retriever that
returns ordinary ``NodeWithScore`` objects, usable by any LlamaIndex query engine.

>>> retriever = PolicyRetriever(kb, k=5)                         # doctest: +SKIP
>>> [n.node.id_ for n in retriever.retrieve("直播带货要遵守哪些规定")]  # doctest: +SKIP
['ecl:3f1c…', …]
"""

from __future__ import annotations

from typing import Any

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from policykb.index.filters import Filters
from policykb.index.search import Hit, Mode
from policykb.index.store import KnowledgeBase


def hit_to_node(hit: Hit) -> NodeWithScore:
    c = hit.clause
    metadata = {
        "doc_id": c.doc_id,
        "title": c.title,
        "label": c.label,
        "section_path": " > ".join(c.section_path),
        "source_path": c.source.path,
        "start": c.source.start,
        "end": c.source.end,
        "page": c.source.page,
        "issuer": c.metadata.issuer,
        "region": c.metadata.region,
        "platform": c.metadata.platform,
        "date": c.metadata.date,
        "doc_type": c.metadata.doc_type,
        "seq": c.seq,
        "rank": hit.rank,
        **{f"signal_{name}": value for name, value in hit.signals.items()},
    }
    node = TextNode(
        id_=c.clause_id,
        text=c.text,
        metadata=metadata,
        excluded_embed_metadata_keys=list(metadata),
        excluded_llm_metadata_keys=["start", "end", "seq"],
    )
    return NodeWithScore(node=node, score=hit.score)


class PolicyRetriever(BaseRetriever):
    """Retrieve clauses with ``KnowledgeBase.search`` (hybrid by default) as LlamaIndex nodes."""

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        k: int = 10,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        **kwargs: Any,
    ):
        self.kb, self.k, self.filters, self.mode = kb, k, filters, mode
        super().__init__(**kwargs)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.kb.search(query_bundle.query_str, k=self.k, filters=self.filters, mode=self.mode)
        return [hit_to_node(h) for h in hits]
