"""A Milvus vector store behind the ``VectorStore`` interface (``vector_store = "milvus"``).

``milvus_uri`` is a local file ending in ``.db`` (Milvus Lite, the ``milvus-lite`` wheel, run inside this
process) or a server URL; a server's token comes from the ``POLICYKB_MILVUS_TOKEN`` environment variable and
is never written or logged. Unset, the uri is ``milvus.db`` in the knowledge base home.

Each generation's vectors go into a collection of their own, named after the home and the generation
(``policykb_<home hash>_g7_<random>``); what the generation directory keeps is a small JSON descriptor
(``vectors.milvus.json``: collection, dim, count), checksummed in the manifest like any other file. When the
generation is committed the home's alias (``policykb_<home hash>_live``) is switched to its collection and
the collections of generations no longer kept are dropped, so a reader going through the alias never sees
a half-built one. Vectors are addressed by the same int64 keys as FAISS (``clause_key``), searched exactly
(``FLAT``, inner product over normalised vectors), and stored with the document metadata as scalar fields.

>>> store = MilvusStore.configured(Settings.load())(dim=2, generation=1)  # doctest: +SKIP
>>> store.add(np.array([7, 9]), np.array([[1, 0], [0, 1]], dtype=np.float32))  # doctest: +SKIP
>>> store.search(np.array([1, 0], dtype=np.float32), k=1)  # doctest: +SKIP
[(7, 1.0)]
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import threading
import traceback
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from policykb.config import Settings
from policykb.errors import ConfigError, IndexIncompleteError, PolicyKBError
from policykb.index import disk
from policykb.index.filters import Selection, date_bounds
from policykb.index.keywords import clause_search_text
from policykb.index.vectors import VectorStore
from policykb.ingest.text import search_key

if TYPE_CHECKING:
    from pymilvus import MilvusClient

    from policykb.ingest.record import Clause

log = logging.getLogger(__name__)

TOKEN_ENV = "POLICYKB_MILVUS_TOKEN"
DEFAULT_LITE_FILE = "milvus.db"
METRIC, INDEX_TYPE = "IP", "FLAT"  # exact inner product: the same ranking as FAISS's IndexFlatIP
TEXT_FIELDS = ("doc_id", "region", "issuer", "platform", "doc_type", "date")  # VARCHAR, "" when unknown
DATE_FIELDS = ("date_lo", "date_hi")  # INT64 yyyymmdd bounds of ``date`` (filters.date_bounds), -1 when none
ANALYZER = {
    "tokenizer": "jieba"
}  # Milvus' Chinese segmenter (the built-in "chinese" analyzer: docs/milvus.md)
MAX_KEYWORD_TEXT = 8000  # characters of a clause's text Milvus' BM25 indexes (a clause is far shorter)
MAX_TEXT = 1000  # characters kept of a metadata value (the VARCHAR limit counts UTF-8 bytes)
MAX_LIMIT = 16384  # Milvus' largest top-k
BATCH = 1000  # rows per insert call

_clients: dict[tuple[str, str], MilvusClient] = {}
_clients_lock = threading.Lock()


class MilvusError(PolicyKBError):
    """Milvus could not be reached, or refused a request. Not an ``IndexError_``: a server that is down, or
    a Lite file another process holds, says nothing about the generation on disk, so the knowledge base
    neither falls back to an older generation nor repairs anything because of it."""


def milvus_uri(settings: Settings) -> str:
    """The configured uri, or Milvus Lite's file in the home; a relative Lite path is taken from the home."""
    uri = settings.milvus_uri or DEFAULT_LITE_FILE
    if is_lite(uri):
        return str(Path(settings.home).expanduser() / Path(uri).expanduser())  # an absolute path stays
    return uri


def is_lite(uri: str) -> bool:
    """Whether ``uri`` names a Milvus Lite file (pymilvus' own test: a path ending in ``.db``)."""
    return uri.endswith(".db") and "://" not in uri


def shown_uri(uri: str) -> str:
    """``uri`` without a user name or password, for messages and the descriptor."""
    parts = urlsplit(uri)
    if parts.scheme and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return uri


def home_prefix(home: Path) -> str:
    """The collection-name prefix of one knowledge base home (Milvus names: letters, digits, ``_``)."""
    digest = hashlib.sha256(str(Path(home).expanduser().resolve()).encode("utf-8")).hexdigest()
    return f"policykb_{digest[:12]}"


def alias_name(home: Path) -> str:
    """The alias that names the live generation's collection of ``home``."""
    return f"{home_prefix(home)}_live"


class _LiteTimestampNoise(logging.Filter):
    """Drops the traceback Milvus Lite's in-process gRPC server logs when pymilvus asks it for a timestamp
    (``AllocTimestamp``, which Lite does not implement): pymilvus goes on without one when it creates an
    index or iterates, so each commit would otherwise log an ERROR that is no error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, NotImplementedError) or exc.__traceback__ is None:
            return True
        frames = {frame.f_code.co_name for frame, _ in traceback.walk_tb(exc.__traceback__)}
        return "AllocTimestamp" not in frames


def client(uri: str) -> MilvusClient:
    """One client per uri and token in this process (Milvus Lite starts its server on the first one)."""
    token = os.environ.get(TOKEN_ENV, "")
    with _clients_lock:
        found = _clients.get((uri, token))
        if found is None:
            try:
                from pymilvus import MilvusClient
            except ImportError as exc:
                raise ConfigError(
                    "vector_store 'milvus' needs pymilvus (and milvus-lite for a local file): "
                    "pip install 'policykb[milvus]'"
                ) from exc
            if is_lite(uri) and importlib.util.find_spec("milvus_lite") is None:
                raise ConfigError(
                    f"milvus_uri {uri!r} is a Milvus Lite file, which needs milvus-lite: "
                    "pip install 'policykb[milvus]' (or set milvus_uri to a Milvus server)"
                )
            try:
                found = MilvusClient(uri=uri, token=token) if token else MilvusClient(uri=uri)
            except Exception as exc:  # pymilvus raises MilvusException and plain errors alike
                hint = (
                    "; a Milvus Lite file is open in one process at a time: stop the other one (the app, "
                    "an ingest) or set milvus_uri to a Milvus server"
                    if is_lite(uri)
                    else ""
                )
                raise MilvusError(f"cannot connect to Milvus at {shown_uri(uri)}: {exc}{hint}") from exc
            _clients[(uri, token)] = found
            if is_lite(uri) and not _noise_filtered():
                logging.getLogger("grpc._server").addFilter(_LiteTimestampNoise())
        return found


def _noise_filtered() -> bool:
    return any(isinstance(f, _LiteTimestampNoise) for f in logging.getLogger("grpc._server").filters)


def clause_fields(clause: Clause, keywords: bool = False) -> dict[str, str | int]:
    """The scalar fields stored with a clause's vector; with ``keywords``, also the text Milvus' BM25
    indexes: what policykb's own BM25 indexes (title, section path, label, text) as a search key."""
    meta = clause.metadata
    values = {
        "doc_id": clause.doc_id,
        "region": meta.region,
        "issuer": meta.issuer,
        "platform": meta.platform,
        "doc_type": meta.doc_type,
        "date": meta.date,
    }
    out: dict[str, str | int] = {name: (values[name] or "")[:MAX_TEXT] for name in TEXT_FIELDS}
    try:
        out["date_lo"], out["date_hi"] = date_bounds(meta.date) if meta.date else (-1, -1)
    except ValueError:  # an unreadable date counts as none, as in filters.FilterIndex
        out["date_lo"], out["date_hi"] = -1, -1
    if keywords:
        text = clause_search_text(clause.title, clause.section_path, clause.label, clause.text)
        out["text"] = search_key(text)[:MAX_KEYWORD_TEXT]
    return out


def _quoted(value: str) -> str:
    """A Milvus expression string literal (backslash and double quote escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def selection_expression(selection: Selection) -> str:
    """A filter (``filters.Selection``) as a Milvus boolean expression over ``clause_fields``.

    >>> selection_expression(Selection({"region": ("广东省深圳市",)}, 20230101, None, dated=True))
    'region in ["广东省深圳市"] and date_lo >= 0 and date_hi >= 20230101'
    >>> selection_expression(Selection({"doc_id": ()}))  # a filter that matches no stored value
    'id < 0'
    """
    parts = []
    for name, values in selection.values.items():
        if not values:
            return "id < 0"  # keys are never negative: nothing passes
        stored = dict.fromkeys(v[:MAX_TEXT] for v in values)
        parts.append(f"{name} in [{', '.join(_quoted(v) for v in stored)}]")
    if selection.dated:
        parts.append("date_lo >= 0")
    if selection.date_from is not None:
        parts.append(f"date_hi >= {int(selection.date_from)}")
    if selection.date_to is not None:
        parts.append(f"date_lo <= {int(selection.date_to)}")
    return " and ".join(parts)


def add_bm25(schema: Any, index: Any, analyzer: Mapping[str, object]) -> None:
    """Milvus' own full-text search in a collection's ``schema`` and ``index`` params: a ``text`` field
    segmented by ``analyzer``, a BM25 function into a ``sparse`` field, and its index."""
    from pymilvus import DataType, Function, FunctionType

    schema.add_field(
        "text",
        DataType.VARCHAR,
        max_length=4 * MAX_KEYWORD_TEXT,
        enable_analyzer=True,
        analyzer_params=analyzer,
    )
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")


class MilvusStore(VectorStore):
    """One generation's vectors in one Milvus collection; see the module docstring."""

    filename = "vectors.milvus.json"
    uri: str = ""
    home: Path = Path()
    keywords: bool = False  # the collection also holds each clause's text for Milvus' own BM25

    @classmethod
    def configured(cls, settings: Settings) -> type[MilvusStore]:
        """This class bound to the uri and home of ``settings`` (``load`` gets only the descriptor)."""
        bound = type(
            cls.__name__,
            (cls,),
            {"uri": milvus_uri(settings), "home": Path(settings.home), "keywords": settings.milvus_keywords},
        )
        return cast(type[MilvusStore], bound)

    def __init__(self, dim: int, *, generation: int | None = None, collection: str | None = None):
        if not self.uri:
            raise ConfigError("MilvusStore is used through MilvusStore.configured(settings)")
        self.dim = dim
        self.generation = generation
        self.collection = collection  # created on the first add or save
        self._count = 0

    # --- connection and errors -------------------------------------------------------------------------

    @property
    def client(self) -> MilvusClient:
        return client(self.uri)

    def _where(self) -> str:
        return f"Milvus collection {self.collection!r} at {shown_uri(self.uri)}"

    def _failed(self, doing: str, exc: Exception) -> MilvusError:
        if isinstance(exc, MilvusError):
            return exc
        return MilvusError(
            f"{doing} {self._where()} failed: {exc}; reopen the knowledge base, or {disk.REBUILD} if the "
            "collection is gone"
        )

    def _ensure_collection(self) -> str:
        if self.collection is not None:
            return self.collection
        from pymilvus import DataType, MilvusClient

        number = f"g{self.generation}_" if self.generation is not None else ""
        name = f"{home_prefix(self.home)}_{number}{uuid.uuid4().hex[:8]}"
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        for field in TEXT_FIELDS:
            schema.add_field(field, DataType.VARCHAR, max_length=4 * MAX_TEXT)
        for field in DATE_FIELDS:
            schema.add_field(field, DataType.INT64)
        index = MilvusClient.prepare_index_params()
        index.add_index(field_name="vector", index_type=INDEX_TYPE, metric_type=METRIC)
        if self.keywords:
            add_bm25(schema, index, ANALYZER)
        self.collection = name
        try:
            self.client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
        except Exception as exc:
            raise self._failed("creating", exc) from exc
        log.info("created %s", self._where())
        return name

    # --- the interface ---------------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self._count

    def add(self, keys: np.ndarray, vectors: np.ndarray, clauses: Sequence[Clause] | None = None) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors must have shape (n, {self.dim}), got {vectors.shape}")
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys) != len(vectors) or (clauses is not None and len(clauses) != len(keys)):
            raise ValueError(f"{len(keys)} keys, {len(vectors)} vectors and clauses do not match")
        name = self._ensure_collection()
        empty = {**{f: "" for f in TEXT_FIELDS}, **{f: -1 for f in DATE_FIELDS}}
        if self.keywords:
            empty["text"] = ""
        for start in range(0, len(keys), BATCH):
            rows = [
                {
                    "id": int(keys[i]),
                    "vector": vectors[i].tolist(),
                    **(clause_fields(clauses[i], self.keywords) if clauses is not None else empty),
                }
                for i in range(start, min(start + BATCH, len(keys)))
            ]
            try:
                self.client.insert(name, rows)
            except Exception as exc:
                raise self._failed("inserting into", exc) from exc
        self._count += len(keys)

    def search(
        self,
        vector: np.ndarray,
        k: int,
        allowed: np.ndarray | None = None,
        selection: Selection | None = None,
    ) -> list[tuple[int, float]]:
        """A filter reaches Milvus as an expression over the stored metadata fields when ``selection`` is
        given (its size grows with the values named, not with the clauses allowed), else as the allowed
        keys (``id in [...]``); so does a filter on a field Milvus does not store (doc_number)."""
        query = np.asarray(vector, dtype=np.float32).reshape(self.dim).tolist()
        found = self._search(query, "vector", METRIC, k, allowed, selection)
        return [(int(hit["id"]), float(hit["distance"])) for hit in found]

    def keyword_search(
        self, text: str, k: int, allowed: np.ndarray | None = None, selection: Selection | None = None
    ) -> list[tuple[int, float]]:
        """Milvus' own BM25 (``milvus_keywords``): the top ``k`` (key, score) for ``text`` (a search key,
        segmented by Milvus' jieba analyzer), filtered as ``search`` is. Only on a collection built with
        keywords."""
        if not text.strip():
            return []
        found = self._search(text, "sparse", "BM25", k, allowed, selection)
        # Best first; Milvus Lite 3 reports a BM25 score negated (lower is better), a server as is.
        return [(int(hit["id"]), abs(float(hit["distance"]))) for hit in found if float(hit["distance"])]

    def _search(
        self,
        data: list[float] | str,
        field: str,
        metric: str,
        k: int,
        allowed: np.ndarray | None,
        selection: Selection | None,
    ) -> list[dict[str, Any]]:
        """The hits of one Milvus search of ``field``, filtered by ``selection`` or else ``allowed``."""
        k = min(k, self.count if allowed is None else len(allowed), MAX_LIMIT)
        if k <= 0 or self.collection is None:
            return []
        if selection is not None and set(selection.values) <= set(TEXT_FIELDS):
            where = selection_expression(selection)
        else:
            where = "" if allowed is None else f"id in [{','.join(str(int(key)) for key in allowed)}]"
        try:
            found = self.client.search(
                self.collection,
                data=[data],
                anns_field=field,
                limit=k,
                filter=where,
                output_fields=["id"],
                search_params={"metric_type": metric},
            )
        except Exception as exc:
            raise self._failed(f"searching ({metric})", exc) from exc
        return list(found[0])

    def _rows(self, fields: list[str], *, iterate: bool | None = None) -> list[dict[str, Any]]:
        """Every row of the collection (``fields`` of each), checked against the count.

        A server is read with ``query_iterator`` (a plain query returns at most 16,384 rows). Milvus Lite
        answers one query with every row, and its server lacks the timestamp call the iterator starts with
        (it logs a traceback, then the iterator goes on without it), so Lite is read in one query."""
        if self.collection is None:
            return []
        iterate = not is_lite(self.uri) if iterate is None else iterate
        rows: list[dict[str, Any]] = []
        try:
            if iterate:
                it = self.client.query_iterator(
                    self.collection, batch_size=BATCH, filter="", output_fields=fields
                )
                while batch := it.next():
                    rows.extend(batch)
                it.close()
            else:  # keys are non-negative (clause_key): this filter matches every row
                rows = list(self.client.query(self.collection, filter="id >= 0", output_fields=fields))
        except Exception as exc:
            raise self._failed("reading", exc) from exc
        if len(rows) != self.count:
            raise IndexIncompleteError(f"{self._where()} returned {len(rows)} rows, it holds {self.count}")
        return rows

    def keys(self) -> np.ndarray:
        return np.fromiter((int(r["id"]) for r in self._rows(["id"])), dtype=np.int64)

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self._rows(["id", "vector"])
        keys = np.fromiter((int(r["id"]) for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return keys, np.zeros((0, self.dim), dtype=np.float32)
        return keys, np.asarray([r["vector"] for r in rows], dtype=np.float32)

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        """The vectors of ``keys``, fetched by id ``BATCH`` at a time (not the whole collection per call)."""
        wanted = [int(k) for k in keys]
        found: dict[int, Any] = {}
        if self.collection is not None:
            try:
                for start in range(0, len(wanted), BATCH):
                    part = wanted[start : start + BATCH]
                    for r in self.client.get(self.collection, ids=part, output_fields=["id", "vector"]):
                        found[int(r["id"])] = r["vector"]
            except Exception as exc:
                raise self._failed("reading", exc) from exc
        missing = [k for k in wanted if k not in found]
        if missing:
            raise IndexIncompleteError(f"{self._where()} holds no vector for key {missing[0]}")
        return np.asarray([found[k] for k in wanted], dtype=np.float32).reshape(len(wanted), self.dim)

    def _stored_count(self) -> int:
        assert self.collection is not None
        try:
            found = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        except Exception as exc:
            raise self._failed("counting", exc) from exc
        return int(found[0]["count(*)"])

    def save(self) -> bytes:
        """Flush the collection and describe it; the generation's manifest checksums the description."""
        name = self._ensure_collection()
        try:
            self.client.flush(name)
        except Exception as exc:
            raise self._failed("flushing", exc) from exc
        stored = self._stored_count()
        if stored != self.count:
            raise MilvusError(f"{self._where()} holds {stored} vectors, {self.count} were added")
        descriptor = {
            "store": "milvus",
            "uri": shown_uri(self.uri),
            "collection": name,
            "alias": alias_name(self.home),
            "dim": self.dim,
            "count": self.count,
            "metric": METRIC,
            "index": INDEX_TYPE,
            "keywords": self.keywords,
        }
        return json.dumps(descriptor, sort_keys=True).encode("utf-8")

    @classmethod
    def load(cls, data: bytes) -> MilvusStore:
        """The collection a descriptor names, checked to exist with its dimension and count."""
        try:
            descriptor = json.loads(data.decode("utf-8"))
            name, dim, count = descriptor["collection"], int(descriptor["dim"]), int(descriptor["count"])
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"not a Milvus collection descriptor ({exc})") from exc
        store = cls(dim, collection=str(name))
        store.keywords = bool(descriptor.get("keywords", False))  # what the collection holds, not the setting
        try:
            exists = store.client.has_collection(store.collection)
        except Exception as exc:
            raise store._failed("looking up", exc) from exc
        if not exists:
            raise ValueError(
                f"{store._where()} does not exist (dropped, or milvus_uri points elsewhere than when the "
                "generation was built)"
            )
        try:
            store.client.load_collection(store.collection)
            described = store.client.describe_collection(store.collection)
        except Exception as exc:
            raise store._failed("loading", exc) from exc
        dims = [f.get("params", {}).get("dim") for f in described["fields"] if f["name"] == "vector"]
        if not dims or int(dims[0]) != dim:
            raise ValueError(f"{store._where()} has vector dimension {dims}, the descriptor says {dim}")
        store._count = store._stored_count()
        if store._count != count:
            raise ValueError(f"{store._where()} holds {store._count} vectors, the descriptor says {count}")
        return store

    def publish(self, kept: Sequence[VectorStore]) -> None:
        """Point the home's alias at this collection and drop the home's collections that neither this
        generation nor the ``kept`` ones use (those of pruned generations, or of writers that died)."""
        if self.collection is None:
            return
        from pymilvus.exceptions import MilvusException

        alias = alias_name(self.home)
        keep = {self.collection} | {s.collection for s in kept if isinstance(s, MilvusStore)}
        try:
            if alias in self.client.list_aliases().get("aliases", []):
                self.client.alter_alias(self.collection, alias)
            else:
                self.client.create_alias(self.collection, alias)
            prefix = home_prefix(self.home) + "_"
            for name in self.client.list_collections():
                if name.startswith(prefix) and name not in keep:
                    self.client.drop_collection(name)
                    log.info("dropped Milvus collection %r of a pruned generation", name)
        except (MilvusException, OSError) as exc:  # the generation is live on disk; the next commit retries
            log.warning("switching alias %r to %s failed: %s", alias, self._where(), exc)


def alias_target(settings: Settings) -> str | None:
    """The collection the home's alias names (None when there is no alias yet)."""
    c = client(milvus_uri(settings))
    alias = alias_name(Path(settings.home))
    if alias not in c.list_aliases().get("aliases", []):
        return None
    return cast(str, c.describe_alias(alias)["collection_name"])


def home_collections(settings: Settings) -> list[str]:
    """The collections of this home's generations, by name."""
    prefix = home_prefix(Path(settings.home)) + "_"
    return sorted(n for n in client(milvus_uri(settings)).list_collections() if n.startswith(prefix))
