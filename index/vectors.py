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
import os
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
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

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        """The stored vectors of ``keys`` (float32, row for row), for reusing embeddings a part at a time."""
        stored, matrix = self.vectors()
        position = {key: i for i, key in enumerate(stored.tolist())}
        return np.asarray(matrix[[position[int(k)] for k in keys]], dtype=np.float32)

    def staging_dtype(self, n: int) -> type[np.floating[Any]]:
        """The dtype a build may hold ``n`` vectors in before ``add``: float32, unless the store keeps less
        precision itself (then holding more would cost memory and change nothing)."""
        return np.float32

    @abstractmethod
    def save(self) -> bytes | memoryview: ...

    def save_to(self, write: Callable[[bytes | memoryview], object]) -> None:
        """``save``'s bytes handed to ``write`` (in pieces, by a store that can stream them)."""
        write(self.save())

    @classmethod
    @abstractmethod
    def load(cls, data: bytes) -> VectorStore: ...

    @classmethod
    def load_file(cls, path: Path) -> VectorStore:
        """``load`` from a file whose checksum the caller has already checked."""
        return cls.load(path.read_bytes())

    def describe(self) -> dict[str, Any]:
        """The kind of index and its parameters, recorded in the generation's manifest (``vector_index``)
        and checked against the loaded store; empty when there is nothing to record."""
        return {}

    def publish(self, kept: Sequence[VectorStore]) -> None:
        """Called once the generation holding this store is live, with the stores of the other generations
        still kept: a store that lives outside the generation directory (Milvus) switches what names the
        live generation and drops what the pruned ones used. Nothing to do for a store inside it."""


# From this many clauses up FAISS searches an IVF index (ANN_CODES, below) instead of scanning every vector
# (the setting's default; the measurement behind it is beside ``ann_min_clauses`` in policykb/config.py).
ANN_MIN_CLAUSES: int = Settings.model_fields["ann_min_clauses"].default
# The lists hold 8-bit codes (of each vector's residual to its list's centroid), and the top k × REFINE_FACTOR
# they find are scored again on float16 vectors. 8-bit codes alone cap recall@10 at 0.97–0.99 on
# near-duplicate clauses (bench: replicas of one law whose vectors differ by small noise) whatever the
# probes; float16 codes in the lists reach 1.000 but a query process maps 1 GB of them at 1M clauses.
# At 1M clauses (bench corpus; 25 dev questions and 75 near-duplicate queries, 512 of 4,096 lists probed):
# 8-bit alone 0.974, 8-bit re-scored from the top 40 0.996, float16 0.998; 7.0 / 8.2 ms a query.
ANN_CODES = "sq8"
REFINE_CODES = "fp16"
REFINE_FACTOR = 4
COPIES_TRAILER = b"PKBF16\0\0"  # ends an index file with float16 copies, before their offset
PREAD_ROWS_MAX = 4_096  # more float16 copies than this are read a block at a time, not a row at a time
# A filtered search over at most this many clauses scans them exactly (their vectors decoded one by one)
# instead of probing more lists: a narrow filter would leave the probed lists nearly empty.
EXACT_FILTER_MAX = 20_000
ADD_CHUNK = 65_536  # vectors made float32 and added to FAISS at once (128 MB)


def ivf_lists(n: int) -> int:
    """Inverted lists for ``n`` vectors: the power of two nearest 4·√n (1,024 at 100k, 4,096 at 1M), and
    at most one for every 8 vectors (k-means needs more points than lists)."""
    return max(1, min(int(2 ** round(np.log2(max(4 * np.sqrt(n), 1)))), n // 8))


def ivf_probes(nlist: int) -> int:
    """Lists a query visits: 1/8 of them, at least 16. On 100k perturbed clause vectors (bench_search) and
    the dev questions, recall@10 against exact was 0.956 / 0.984 / 0.996 / 1.000 at 32 / 64 / 128 / 256 of
    1,024 lists (0.7 / 1.3 / 2.1 / 4.6 ms a query); 1/16 measured 0.972 in the bench, under the 0.98 asked."""
    return min(nlist, max(16, nlist // 8))


class FaissStore(VectorStore):
    """``IndexIDMap2`` (keys stored with the vectors) over an exact ``IndexFlatIP`` or, from ``ann_min``
    vectors up, an ``IndexIVFScalarQuantizer`` of 8-bit codes whose lists and probes are chosen by
    ``ivf_lists`` / ``ivf_probes`` and saved inside the index (``describe`` says which). An IVF index's
    best ``REFINE_FACTOR`` × k are scored again on float16 copies of the vectors, kept after the index's
    own bytes in its file (row i: the vector of the index's i-th key; then ``COPIES_TRAILER`` and their
    byte offset, int64 little-endian) and read a row at a time
    (``os.pread``), not memory-mapped: mapped pages of rows read at random stay resident in the query
    process (the kernel maps 16 pages around each). A generation written with float16 codes in the lists
    has no such copies and is searched as it was."""

    filename = "vectors.faiss"

    def __init__(
        self,
        dim: int,
        index: Any = None,
        ann_min: int = ANN_MIN_CLAUSES,
        exact_filter_max: int = EXACT_FILTER_MAX,
    ):
        import faiss

        faiss.omp_set_num_threads(FAISS_THREADS)
        self.dim = dim
        self.ann_min = ann_min
        self.exact_filter_max = exact_filter_max
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._keys: np.ndarray | None = None
        self._order: np.ndarray | None = None  # rows by ascending key
        self.copies: np.ndarray | None = None  # float16 rows, when held in memory
        self.copies_at: tuple[Path, int] | None = None  # or (file, byte offset of row 0)
        self._fd: int | None = None  # that file, open while the store lives (read after it is unlinked)

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    @property
    def ivf(self) -> Any:
        """The IVF index inside, or None for an exact one."""
        import faiss

        inner = faiss.downcast_index(self.index.index)
        return inner if isinstance(inner, faiss.IndexIVF) else None

    @property
    def refined(self) -> bool:
        """An IVF index of 8-bit codes, re-scored on float16 copies (every one written since they exist)."""
        import faiss

        ivf = self.ivf
        return ivf is not None and ivf.sq.qtype == faiss.ScalarQuantizer.QT_8bit

    def describe(self) -> dict[str, Any]:
        """What kind of index this is and its parameters (recorded in the generation's manifest)."""
        ivf = self.ivf
        if ivf is None:
            return {"kind": "flat"}
        if not self.refined:  # a generation written before the 8-bit codes
            return {"kind": "ivf", "codes": "fp16", "nlist": int(ivf.nlist), "nprobe": int(ivf.nprobe)}
        return {
            "kind": "ivf",
            "codes": ANN_CODES,
            "nlist": int(ivf.nlist),
            "nprobe": int(ivf.nprobe),
            "refine": REFINE_CODES,
            "k_factor": REFINE_FACTOR,
        }

    def staging_dtype(self, n: int) -> type[np.floating[Any]]:
        """float16 for a build that makes an IVF index, whose exact copies are float16 anyway: the vectors
        are held in 1 GB instead of 2 at 1M clauses (and become the copies themselves, not copied)."""
        return np.float16 if self.count == 0 and n >= self.ann_min else np.float32

    def add(self, keys: np.ndarray, vectors: np.ndarray, clauses: Sequence[Clause] | None = None) -> None:
        """``vectors`` (float32 or ``staging_dtype``) added ``ADD_CHUNK`` rows at a time, each made float32
        as FAISS takes it: never a float32 copy of them all."""
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors must have shape (n, {self.dim}), got {vectors.shape}")
        if not len(vectors):
            return
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        if self.count == 0 and len(vectors) >= self.ann_min:
            self.index = self._trained_ivf(vectors)
        refined = self.refined
        if refined:  # the float16 copies, in the rows the index gives the keys
            added = np.asarray(vectors, dtype=np.float16)
            self.copies = (
                added if not self.count else np.concatenate([self._rows(np.arange(self.count)), added])
            )
            self.copies_at = None
        with _threads(os.cpu_count() or 1):  # a build: every core (assigning vectors to lists)
            for start in range(0, len(vectors), ADD_CHUNK):
                part = np.ascontiguousarray(vectors[start : start + ADD_CHUNK], dtype=np.float32)
                self.index.add_with_ids(part, keys[start : start + ADD_CHUNK])
        self._keys = self._order = None
        if self.ivf is not None:
            self.ivf.make_direct_map()  # rows decoded by key: an exact scan of a filter's few rows

    def _trained_ivf(self, vectors: np.ndarray) -> Any:
        import faiss

        nlist = ivf_lists(len(vectors))
        ivf = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(self.dim),
            self.dim,
            nlist,
            faiss.ScalarQuantizer.QT_8bit,
            faiss.METRIC_INNER_PRODUCT,
        )
        ivf.cp.niter = 10  # k-means iterations: recall is flat beyond 10, the build time is not
        ivf.cp.min_points_per_centroid = 32  # faiss warns below 39; 32 a list train as well, sooner
        sample = min(len(vectors), nlist * ivf.cp.min_points_per_centroid)
        rows = np.random.default_rng(0).choice(len(vectors), sample, replace=False)
        with _threads(os.cpu_count() or 1):
            ivf.train(np.ascontiguousarray(vectors[np.sort(rows)], dtype=np.float32))
        ivf.nprobe = ivf_probes(nlist)
        return faiss.IndexIDMap2(ivf)

    # --- the float16 copies ------------------------------------------------------------------------------

    def _rows(self, rows: np.ndarray) -> np.ndarray:
        """float16 copies of ``rows`` (positions in the index), from memory or read from the file."""
        if self.copies is not None:
            return np.asarray(self.copies[rows])
        assert self.copies_at is not None, "an IVF index of 8-bit codes has float16 copies"
        assert self._fd is not None  # opened with copies_at
        fd, offset = self._fd, self.copies_at[1]
        size = self.dim * 2
        out = np.empty((len(rows), self.dim), dtype=np.float16)
        if len(rows) > PREAD_ROWS_MAX:  # many rows (a write reusing them): read in order, in blocks
            for start in range(0, self.count, ADD_CHUNK):
                want = np.flatnonzero((rows >= start) & (rows < start + ADD_CHUNK))
                if len(want):
                    block = os.pread(fd, size * min(ADD_CHUNK, self.count - start), offset + start * size)
                    out[want] = np.frombuffer(block, np.float16).reshape(-1, self.dim)[rows[want] - start]
        else:
            for i, row in enumerate(rows.tolist()):
                out[i] = np.frombuffer(os.pread(fd, size, offset + row * size), np.float16)
        return out

    def _positions(self, keys: np.ndarray) -> np.ndarray:
        """The rows of ``keys`` in the index (every key must be stored)."""
        stored = self.keys()
        if self._order is None:
            self._order = np.argsort(stored, kind="stable")
        at = self._order[np.searchsorted(stored, keys, sorter=self._order).clip(0, len(stored) - 1)]
        if not np.array_equal(stored[at], keys):
            raise KeyError(f"no vector is stored for key {int(keys[stored[at] != keys][0])}")
        return np.asarray(at, dtype=np.int64)

    def _rescored(self, query: np.ndarray, rows: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The top ``k`` of ``rows`` by their float16 copies' inner product with ``query``, as (key, score)."""
        rows = rows[rows >= 0]
        scores = self._rows(rows).astype(np.float32) @ query
        top = np.lexsort((rows, -scores))[:k]
        keys = self.keys()
        return [(int(keys[rows[i]]), float(scores[i])) for i in top]

    # --- searching -----------------------------------------------------------------------------------------

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
        ivf = self.ivf
        # faiss's stubs lack the keyword constructors its wrappers add (class_wrappers.py); the selectors are
        # kept in variables of their own so that they outlive the search (the parameters hold no reference).
        sel: dict[str, Any] = {}
        if allowed is not None:
            allowed = np.ascontiguousarray(allowed, np.int64)
            if ivf is not None and len(allowed) <= self.exact_filter_max:
                return self._scan(query[0], k, allowed)
            selector = faiss.IDSelectorBatch(allowed)
            sel["sel"] = selector
        params = faiss.SearchParameters(**sel) if sel else None
        if ivf is not None:
            # A filter leaves a share of each list: visit as many more lists (the same rows on average).
            share = 1.0 if allowed is None else len(allowed) / max(self.count, 1)
            nprobe = min(int(ivf.nlist), int(np.ceil(ivf.nprobe / share)))
            if self.refined:
                # the IVF index itself is searched, for rows: the selector (of keys) translated to rows
                if sel:
                    id_map: Any = self.index.id_map  # referenced by the translation: the map's own vector
                    translated = faiss.IDSelectorTranslated(id_map, sel["sel"])
                    sel["sel"] = translated
                params = faiss.SearchParametersIVF(nprobe=nprobe, **sel)  # type: ignore[call-arg]
                _, rows = ivf.search(query, min(k * REFINE_FACTOR, self.count), params=params)
                return self._rescored(query[0], rows[0], k)
            params = faiss.SearchParametersIVF(nprobe=nprobe, **sel)  # type: ignore[call-arg]
        scores, keys = self.index.search(query, k, params=params)
        return [(int(key), float(s)) for key, s in zip(keys[0], scores[0]) if key >= 0]

    def _scan(self, query: np.ndarray, k: int, allowed: np.ndarray) -> list[tuple[int, float]]:
        """Top ``k`` among ``allowed`` (keys of stored vectors), their codes decoded (and the best re-scored
        on their float16 copies)."""
        if self.refined:
            rows = self._positions(allowed)
            scores = self.ivf.reconstruct_batch(rows) @ query
            best = min(len(rows), k * REFINE_FACTOR)
            return self._rescored(query, rows[np.argpartition(-scores, best - 1)[:best]], k)
        scores = self.index.reconstruct_batch(allowed) @ query
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((allowed[top], -scores[top]))]
        return [(int(allowed[i]), float(scores[i])) for i in top]

    def keys(self) -> np.ndarray:
        """Every key, in the order the index holds them (kept until the next ``add``)."""
        import faiss

        if self._keys is None:
            self._keys = faiss.vector_to_array(self.index.id_map).astype(np.int64, copy=False)
        return self._keys

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.count:
            return self.keys(), np.zeros((0, self.dim))
        return self.keys(), self.vectors_of(self.keys())

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        if self.refined:
            return self._rows(self._positions(keys)).astype(np.float32)
        return self.index.reconstruct_batch(keys)

    # --- bytes -----------------------------------------------------------------------------------------------

    def _copies_bytes(self) -> memoryview | None:
        if not self.refined:
            return None
        copies = self.copies if self.copies is not None else self._rows(np.arange(self.count))
        return np.ascontiguousarray(copies, dtype="<f2").data.cast("B")

    def save(self) -> memoryview | bytes:
        """The serialised index, not copied again into ``bytes``; with float16 copies, ``save_to``'s pieces
        joined."""
        import faiss

        if not self.refined:
            return faiss.serialize_index(self.index).data  # the array's own buffer
        parts: list[bytes | memoryview] = []
        self.save_to(parts.append)
        return b"".join(parts)

    def save_to(self, write: Callable[[bytes | memoryview], object]) -> None:
        """The index streamed to ``write`` a piece at a time, then its float16 copies: never a second copy
        of every vector in memory (1 GB at 1M clauses)."""
        import faiss

        failed: list[BaseException] = []

        def guarded(data: bytes) -> object:
            try:
                return write(data)
            except BaseException as exc:  # faiss turns it into a RuntimeError: the disk-full OSError is kept
                failed.append(exc)
                raise

        written = 0

        def counted(data: bytes) -> object:
            nonlocal written
            written += len(data)
            return guarded(data)

        try:
            # faiss's stubs lack the Python callback writer its SWIG module defines
            faiss.write_index(self.index, faiss.PyCallbackIOWriter(counted))  # type: ignore[attr-defined]
        except RuntimeError:
            if failed:
                raise failed[0] from None
            raise
        copies = self._copies_bytes()
        if copies is not None:
            for start in range(0, len(copies), 1 << 24):
                write(copies[start : start + (1 << 24)])
            write(COPIES_TRAILER + written.to_bytes(8, "little"))

    def _with_copies(self, tail: bytes, size: int, at: Path | None, data: Any = None) -> FaissStore:
        """This store, told where its float16 copies are, from the last 16 bytes of its ``size`` bytes
        (``tail``): the file at ``at``, or ``data`` itself."""
        if not self.refined:
            return self
        length = self.count * self.dim * 2
        offset = int.from_bytes(tail[8:], "little")
        if tail[:8] != COPIES_TRAILER or offset + length + len(tail) != size:
            raise ValueError(f"does not end with the float16 copies of its {self.count} vectors")
        if at is not None:
            self.copies_at = (at, offset)
            # held open: a query reads the copies after a later write may have pruned this generation
            self._fd = os.open(at, os.O_RDONLY)
            weakref.finalize(self, os.close, self._fd)
        else:
            copies = np.frombuffer(data, dtype="<f2", count=self.count * self.dim, offset=offset)
            self.copies = copies.reshape(self.count, self.dim)
        return self

    @classmethod
    def load(cls, data: bytes | memoryview) -> FaissStore:
        """Deserialise bytes that the caller has already checked against the manifest.

        FAISS reads a corrupt or foreign file without complaint (or crashes on it), so the checksum
        comes first and the magic check here is a second line of defence."""
        import faiss

        if bytes(data[:4]) != FAISS_MAGIC:
            raise ValueError(
                f"not a FAISS IndexIDMap2 file (starts with {bytes(data[:4])!r}, expected {FAISS_MAGIC!r})"
            )
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        return cls(dim=int(index.d), index=index)._with_copies(bytes(data[-16:]), len(data), None, data)

    @classmethod
    def load_file(cls, path: Path) -> FaissStore:
        """The index file memory-mapped (``IO_FLAG_MMAP_IFC``): the vectors are not copied into the process
        and its bytes are never held twice while loading; an IVF search reads only the lists it probes, and
        the float16 copies of the rows it re-scores. A generation's files are never changed once written,
        and an unlinked file stays mapped (and its copies readable: the file is held open)."""
        import faiss

        with open(path, "rb") as f:
            magic = f.read(4)
            size = os.fstat(f.fileno()).st_size
            tail = os.pread(f.fileno(), 16, max(size - 16, 0))
        if magic != FAISS_MAGIC:
            raise ValueError(
                f"not a FAISS IndexIDMap2 file (starts with {magic!r}, expected {FAISS_MAGIC!r})"
            )
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
        return cls(dim=int(index.d), index=index)._with_copies(tail, size, path)


@contextmanager
def _threads(n: int) -> Iterator[None]:
    """faiss's OpenMP threads set to ``n`` for a build step, then back to ``FAISS_THREADS``."""
    import faiss

    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(FAISS_THREADS)


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
    return FaissStore(dim, ann_min=settings.ann_min_clauses)
