"""Baselines for the evaluation: what a first LlamaIndex tutorial would build over the same files.

The naive baseline reads the raw corpus files with ``SimpleDirectoryReader`` (no cleaning, no
Traditional→Simplified, no clause structure), splits them with LlamaIndex's default ``SentenceSplitter``
(1,024 tokens, 200 overlap), embeds the chunks with the *same* m3e-small model policykb uses, keeps them
in LlamaIndex's default in-memory vector store and retrieves the top 10 by cosine similarity. Only the
model is shared, so the comparison measures what ingest and hybrid retrieval add.

>>> pipe = naive_llamaindex_pipeline(corpus_files, kb.embedder)      # doctest: +SKIP
>>> pipe.retrieve("微视收费吗", 3)[0][:20]                            # doctest: +SKIP
'腾讯微视平台对本次活动不收取费用…'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import MetadataMode
from pydantic import PrivateAttr

from policykb.index.embed import Embedder
from policykb.qa.evaluation import Pipeline

NAIVE_NAME = "naive LlamaIndex"


class PolicyEmbedding(BaseEmbedding):
    """Our ``Embedder`` (sentence-transformers, local weights) seen as a LlamaIndex embedding model, so
    no LlamaIndex embedding integration (and no extra dependency) is needed.

    >>> emb = PolicyEmbedding(FakeEmbedder(dim=8))                     # doctest: +SKIP
    >>> len(emb.get_query_embedding("直播"))                             # doctest: +SKIP
    8
    """

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any):
        super().__init__(model_name=embedder.name, **kwargs)
        self._embedder = embedder

    @classmethod
    def class_name(cls) -> str:
        return "PolicyEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return cast(list[float], self._embedder.encode_query(query).tolist())

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return cast(list[float], self._embedder.encode([text])[0].tolist())

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return cast(list[list[float]], self._embedder.encode(list(texts)).tolist())


def naive_llamaindex_index(files: Sequence[Path], embedder: Embedder) -> VectorStoreIndex:
    """``VectorStoreIndex`` over default ``SentenceSplitter`` chunks of the raw files."""
    documents = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
    return VectorStoreIndex.from_documents(
        documents, embed_model=PolicyEmbedding(embedder), transformations=[SentenceSplitter()]
    )


def naive_llamaindex_pipeline(files: Sequence[Path], embedder: Embedder, name: str = NAIVE_NAME) -> Pipeline:
    """The baseline as an evaluation ``Pipeline`` (retrieved units are the chunks' own text)."""
    index = naive_llamaindex_index(files, embedder)

    def retrieve(query: str, k: int) -> list[str]:
        nodes = index.as_retriever(similarity_top_k=k).retrieve(query)
        return [n.node.get_content(metadata_mode=MetadataMode.NONE) for n in nodes]

    def units() -> list[str]:
        docstore = index.docstore.docs.values()
        return [node.get_content(metadata_mode=MetadataMode.NONE) for node in docstore]

    return Pipeline(name, retrieve, units)
