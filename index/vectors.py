"""Vector stores behind one small interface (after txtai ``ann/base.py``); a factory picks by settings.

Vectors are addressed by int64 *keys* derived from the clause id (``clause_key``), never by position:
a store whose rows got out of step with the clause list would otherwise return the wrong clause without
any error (RELIABILITY 5). ``save`` returns bytes, not files, so the caller decides how they reach the
disk (temp file, fsync, checksum — see ``index/disk.py``). ``FaissStore`` is here; ``MilvusStore`` (whose
``save`` returns a small descriptor of a Milvus collection) is in ``index/milvus.py``.

>>> s = FaissStore(dim=2)
>>> s.add(np.array([7, 9]), np.array([[1, 0], [0, 1]], dtype=np.float32))
>>> s.search(np.array([1, 0], dtype=np.float32), k=1)
[(7, 1.0)]
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from policykb.config import Settings
from policykb.errors import ConfigError
from policykb.index.filters import Selection

if TYPE_CHECKING:
    from policykb.ingest.record import Clause

FAISS_MAGIC = b"IxM2"  # faiss.IndexIDMap2 serialisation header
# One query at a time: starting OpenMP threads costs more than it saves (2 cores: 5 ms → 0.01 ms at 300
# vectors, 44 ms → 16 ms at 100k). The setting is process-wide for faiss's own OpenMP runtime only.
FAISS_THREADS = 1
VECTOR_STORES = ("faiss", "milvus")


def clause_key(clause_id: str) -> int:
    """A stable non-negative int64 for a clause id (63 bits of its SHA-256)."""
    digest = hashlib.sha256(clause_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


class VectorStore(ABC):
    """Inner-product search over L2-normalised vectors, addressed by int64 keys."""

    dim: int
    filename: str  # the generation file that holds what ``save`` returns

    @abstractmethod
    def __init__(self, dim: int) -> None:
        """An empty store of ``dim``-dimensional vectors (what ``make_vector_store`` calls)."""

    @property
    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def add(self, keys: np.ndarray, vectors: np.ndarray, clauses: Sequence[Clause] | None = None) -> None:
        """Store ``vectors`` under ``keys``; ``clauses`` (row for row), when given, are what a store may keep
        as scalar fields beside each vector (Milvus does; FAISS has nowhere to put them)."""

    @abstractmethod
    def search(
        self,
        vector: np.ndarray,
        k: int,
        allowed: np.ndarray | None = None,
        selection: Selection | None = None,
    ) -> list[tuple[int, float]]:
        """Top ``k`` (key, score), best first; only keys in ``allowed`` when it is given. ``selection`` is
        the same filter as stored values (``filters.Selection``), for a store that filters by itself; a
        store may use either."""

    keywords: bool = False  # the store also ranks clauses by their words (``keyword_search``)

    def keyword_search(
        self, text: str, k: int, allowed: np.ndarray | None = None, selection: Selection | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` (key, score) for ``text`` by the store's own keyword index, filtered as ``search``;
        only a store whose ``keywords`` is true has one."""
        raise NotImplementedError(f"{type(self).__name__} keeps no keyword index")

    @abstractmethod
    def keys(self) -> np.ndarray:
        """Every key in the store (int64)."""

    @abstractmethod
    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys, vectors) of everything stored, for reusing embeddings in the next generation."""

    @abstractmethod
    def save(self) -> bytes: ...

    @classmethod
    @abstractmethod
    def load(cls, data: bytes) -> VectorStore: ...

    def publish(self, kept: Sequence[VectorStore]) -> None:
        """Called once the generation holding this store is live, with the stores of the other generations
        still kept: a store that lives outside the generation directory (Milvus) switches what names the
        live generation and drops what the pruned ones used. Nothing to do for a store inside it."""


class FaissStore(VectorStore):
    """Exact search: ``IndexFlatIP`` inside ``IndexIDMap2`` (keys stored with the vectors)."""

    filename = "vectors.faiss"

    def __init__(self, dim: int, index: Any = None):
        import faiss

        faiss.omp_set_num_threads(FAISS_THREADS)
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    def add(self, keys: np.ndarray, vectors: np.ndarray, clauses: Sequence[Clause] | None = None) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors must have shape (n, {self.dim}), got {vectors.shape}")
        if len(vectors):
            self.index.add_with_ids(vectors, np.ascontiguousarray(keys, dtype=np.int64))

    def search(
        self,
        vector: np.ndarray,
        k: int,
        allowed: np.ndarray | None = None,
        selection: Selection | None = None,
    ) -> list[tuple[int, float]]:
        import faiss

        k = min(k, self.count if allowed is None else len(allowed))
        if k <= 0:
            return []
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
        params = None
        if allowed is not None:
            # faiss's stubs lack the keyword constructor its wrappers add (class_wrappers.py).
            params = faiss.SearchParameters(  # type: ignore[call-arg]
                sel=faiss.IDSelectorBatch(np.ascontiguousarray(allowed, np.int64))
            )
        scores, keys = self.index.search(query, k, params=params)
        return [(int(key), float(s)) for key, s in zip(keys[0], scores[0]) if key >= 0]

    def keys(self) -> np.ndarray:
        import faiss

        return faiss.vector_to_array(self.index.id_map).astype(np.int64, copy=False)

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        flat = self.index.index
        return self.keys(), flat.reconstruct_n(0, self.count) if self.count else np.zeros((0, self.dim))

    def save(self) -> bytes:
        import faiss

        return faiss.serialize_index(self.index).tobytes()

    @classmethod
    def load(cls, data: bytes) -> FaissStore:
        """Deserialise bytes that the caller has already checked against the manifest.

        FAISS reads a corrupt or foreign file without complaint (or crashes on it), so the checksum
        comes first and the magic check here is a second line of defence."""
        import faiss

        if data[:4] != FAISS_MAGIC:
            raise ValueError(
                f"not a FAISS IndexIDMap2 file (starts with {data[:4]!r}, expected {FAISS_MAGIC!r})"
            )
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        return cls(dim=int(index.d), index=index)


def vector_store_class(settings: Settings) -> type[VectorStore]:
    """The vector store class ``settings.vector_store`` names."""
    if settings.vector_store == "faiss":
        return FaissStore
    if settings.vector_store == "milvus":
        from policykb.index.milvus import MilvusStore

        return MilvusStore.configured(settings)
    raise ConfigError(
        f"vector_store {settings.vector_store!r} is not known; allowed: {', '.join(VECTOR_STORES)}"
    )


def make_vector_store(settings: Settings, dim: int, generation: int | None = None) -> VectorStore:
    """An empty store of the configured kind, for generation ``generation`` (Milvus names its collection
    after it)."""
    store_class = vector_store_class(settings)
    if settings.vector_store == "milvus":
        from policykb.index.milvus import MilvusStore

        return cast(type[MilvusStore], store_class)(dim, generation=generation)
    return store_class(dim)
