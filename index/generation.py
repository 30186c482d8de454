"""One generation of the knowledge base: what it holds in memory, how it is written and how it is loaded
and verified. The layout and the atomic steps are in ``index/disk.py``.

Files of a generation (all listed in ``manifest.json`` with size and SHA-256):

- ``documents.json``  ``{"documents": [{"document": Document.to_dict(), "pipeline_version": …}, …]}``
- ``clauses.jsonl``   one ``Clause.to_json()`` a line, in reading order (row i)
- ``ids.json``        ``{"keys": [int64…], "clause_ids": […]}``: the vector key of row i, and its clause
- ``vectors.faiss``   ``IndexIDMap2`` over ``IndexFlatIP`` or, from ``ann_min_clauses`` clauses up, an IVF index
                      of 8-bit codes, then float16 copies of the vectors (``manifest.json`` ``vector_index``
                      names which, with its lists and probes); vectors are stored under their keys, not
                      positions
                      (with ``vector_store = "milvus"``: ``vectors.milvus.json``, which names the generation's
                      Milvus collection, see ``index/milvus.py``; the store's ``filename``)
- ``columns.npz``     row i's vector key, the byte offset of its line in ``clauses.jsonl`` and its filter and
                      reference fields as codes (``index/records.py``): a generation that has it serves its
                      clause records from disk, decoded when a hit needs one (one written before it has none
                      and is read whole, as it was)
- ``tokens.jsonl``    jieba tokens of row i (so the next save need not re-segment unchanged clauses)
- ``bm25/``           bm25s index (its own ``params.index.json`` records k1, b and the bm25s version)
- ``versions.jsonl``  earlier versions of replaced documents, one a line: ``{"doc_id", "version", "replaced",
                      "document", "pipeline_version", "clauses": […]}`` (only when there are any); not searched
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

from policykb.config import Settings
from policykb.errors import IndexMismatchError
from policykb.index import disk
from policykb.index.keywords import KeywordIndex, TokenRows
from policykb.index.records import ClauseRecords, Columns, ColumnsBuilder, doc_ranges
from policykb.index.search import SearchIndex, SearchParams
from policykb.index.vectors import VectorStore, clause_key, vector_store_class
from policykb.ingest.record import Clause, Document

log = logging.getLogger(__name__)

DOCUMENTS, CLAUSES, IDS, VECTORS, TOKENS, BM25 = (
    "documents.json",
    "clauses.jsonl",
    "ids.json",
    "vectors.faiss",
    "tokens.jsonl",
    "bm25",
)
VERSIONS = "versions.jsonl"
COLUMNS = "columns.npz"
REQUIRED = (DOCUMENTS, CLAUSES, IDS, VECTORS, TOKENS)  # VECTORS: the store's own filename
T = TypeVar("T")
LIBRARIES = ("policykb", "faiss-cpu", "bm25s", "sentence-transformers", "torch", "numpy", "jieba", "opencc")


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@dataclass
class Generation:
    """A loaded (or just written) generation; never modified after construction."""

    number: int | None
    path: Path | None
    manifest: dict[str, Any]
    documents: dict[str, Document]  # in reading order
    pipeline: dict[str, str]  # doc_id → pipeline_version that produced its clauses
    index: SearchIndex
    doc_rows: dict[str, range]
    # earlier versions of replaced documents (see VERSIONS), oldest first
    versions: tuple[dict[str, Any], ...] = ()

    @classmethod
    def build(
        cls,
        number: int | None,
        path: Path | None,
        manifest: dict[str, Any],
        documents: dict[str, Document],
        pipeline: dict[str, str],
        clauses: Sequence[Clause],
        vectors: VectorStore | None,
        keywords: KeywordIndex,
        params: SearchParams,
        versions: tuple[dict[str, Any], ...] = (),
        columns: Columns | None = None,
    ) -> Generation:
        titles = {doc_id: d.title for doc_id, d in documents.items()}
        index = SearchIndex(
            clauses,
            titles,
            vectors,
            keywords,
            params,
            tokens=(lambda: read_tokens(path, manifest)) if path is not None else None,
            columns=columns,
        )
        return cls(
            number,
            path,
            manifest,
            documents,
            pipeline,
            index,
            doc_ranges(index.columns.fields["doc_id"]),
            tuple(versions),
        )

    def row(self, clause_id: str) -> int | None:
        """The row of ``clause_id``, or None when the generation does not hold it."""
        row: int | None = self.index.row_of_key.get(clause_key(clause_id))
        if row is None or self.clauses[row].clause_id != clause_id:  # another id of the same key
            return None
        return row

    @classmethod
    def empty(cls, params: SearchParams) -> Generation:
        return cls.build(None, None, {}, {}, {}, [], None, KeywordIndex(), params)

    @property
    def clauses(self) -> Sequence[Clause]:
        return self.index.clauses

    @property
    def model(self) -> str | None:
        return cast(str | None, self.manifest.get("model", {}).get("name"))

    @property
    def dim(self) -> int | None:
        return cast(int | None, self.manifest.get("model", {}).get("dim"))

    def tokens(self) -> TokenRows:
        """Tokens of every row, read back (and re-verified) from disk, held as ids (``TokenRows``: 0.6 GB at
        1M clauses, where lists of strings took 12 GB); for the next save."""
        rows = TokenRows()
        if self.path is not None:
            for tokens in read_tokens(self.path, self.manifest):
                rows.append(tokens)
        return rows


def read_tokens(path: Path, manifest: dict[str, Any]) -> Iterator[list[str]]:
    """The tokens of each row, streamed from ``tokens.jsonl``; the file's SHA-256 is checked as it is read
    and a mismatch raised after its last row, so a consumer trusts nothing until it has read them all."""
    meta = manifest["files"].get(TOKENS)
    if meta is None:
        raise disk.incomplete(path / disk.MANIFEST, f"does not list {TOKENS}")
    digest, size = hashlib.sha256(), 0
    with _parse(path / TOKENS, lambda: open(path / TOKENS, "rb")) as f:
        for line in f:
            digest.update(line)
            size += len(line)
            yield _parse(path / TOKENS, partial(json.loads, line))
    if size != int(meta["size"]) or digest.hexdigest() != meta["sha256"]:
        raise disk.checksum_error(path / TOKENS)


def _fields(record: Any) -> dict[str, Any]:
    """A record's fields, one level deep (what ``dataclasses.asdict`` gives without its deep copies)."""
    return {name: getattr(record, name) for name in record.__slots__}


def clause_json(c: Clause) -> str:
    """``c.to_json()`` three times as fast (``asdict`` deep-copies every field: 27 against 9 µs a clause)."""
    d = _fields(c)
    d["source"], d["metadata"] = _fields(c.source), _fields(c.metadata)
    return json.dumps(d, ensure_ascii=False)


def write_generation(
    home: Path,
    number: int,
    *,
    documents: dict[str, Document],
    pipeline: dict[str, str],
    keep: int | None = None,
    clauses: list[Clause],
    tokens: Sequence[list[str]],
    store: VectorStore,
    keywords: KeywordIndex,
    params: SearchParams,
    model: str,
    vector_store: str,
    versions: tuple[dict[str, Any], ...] = (),
) -> Generation:
    """Write, seal and publish generation ``number``; on any failure nothing is published."""
    temp = disk.new_temp_dir(home, number)
    try:
        docs = [{"document": d.to_dict(), "pipeline_version": pipeline[i]} for i, d in documents.items()]
        disk.write_text(temp / DOCUMENTS, json.dumps({"documents": docs}, ensure_ascii=False))
        columns = ColumnsBuilder()
        disk.write_chunks(temp / CLAUSES, _lines(clauses, clause_json, columns.add))
        table = columns.finish()
        disk.write_bytes(temp / COLUMNS, table.save())
        ids = {"keys": table.keys.tolist(), "clause_ids": [c.clause_id for c in clauses]}
        disk.write_text(temp / IDS, json.dumps(ids, ensure_ascii=False))
        if isinstance(tokens, TokenRows):  # each word's JSON made once, not once a row
            token_lines = _lines(range(len(tokens)), tokens.json_line)
        else:
            token_lines = _lines(tokens, partial(json.dumps, ensure_ascii=False))
        disk.write_chunks(temp / TOKENS, token_lines)
        (temp / BM25).mkdir()
        disk.fault_point("before:bm25")
        keywords.save(temp / BM25)
        disk.fault_point("after:bm25")
        with disk.writing(temp / store.filename) as write:
            store.save_to(write)
        if versions:
            disk.write_text(
                temp / VERSIONS, "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in versions)
            )
        manifest = disk.seal(
            temp,
            {
                "format": disk.FORMAT_VERSION,
                "generation": number,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "model": {"name": model, "dim": store.dim},
                "vector_store": vector_store,
                "counts": {
                    "documents": len(documents),
                    "clauses": len(clauses),
                    "vectors": store.count,
                    **({"versions": len(versions)} if versions else {}),
                },
                "search_params": params.to_dict(),
                **({"vector_index": store.describe()} if store.describe() else {}),
                "versions": library_versions(),
            },
        )
        path = disk.publish(home, temp, number, keep)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return Generation.build(
        number,
        path,
        manifest,
        documents,
        pipeline,
        ClauseRecords(path / CLAUSES, table),
        store,
        keywords,
        params,
        versions,
        table,
    )


_LINES_CHUNK = 1 << 20  # bytes of lines written at once


def _lines(
    items: Iterable[T], line: Callable[[T], str], each: Callable[[T, int], None] | None = None
) -> Iterator[bytes]:
    """``line(item)`` of every item, one a line, UTF-8, in chunks of about ``_LINES_CHUNK`` bytes;
    ``each(item, bytes of its line)`` is called for every item as it goes."""
    chunk: list[bytes] = []
    size = 0
    for item in items:
        data = (line(item) + "\n").encode("utf-8")
        if each is not None:
            each(item, len(data))
        chunk.append(data)
        size += len(data)
        if size >= _LINES_CHUNK:
            yield b"".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield b"".join(chunk)


def _mismatch(path: Path, problem: str) -> IndexMismatchError:
    return IndexMismatchError(
        f"knowledge base generation at {path} is inconsistent: {problem}; {disk.REBUILD}"
    )


def load_generation(home: Path, number: int, *, model: str, settings: Settings) -> Generation:
    """Verify and load generation ``number``; ``model`` is the configured embedder's name."""
    path = disk.generation_path(home, number)
    if not path.is_dir():
        raise disk.incomplete(path, "generation directory is missing")
    seal = disk.read_seals(home).get(number)
    if seal is None:
        log.info(
            "generation %d of %s has no seal in CURRENT (written before seals); its next save seals it",
            number,
            home,
        )
    store_class = vector_store_class(settings)
    # every file checked now (the vector file before it is memory-mapped); the columns and versions as they
    # are read
    manifest = disk.verify(path, defer=(COLUMNS, VERSIONS), seal=seal)
    if manifest.get("format") != disk.FORMAT_VERSION:
        raise IndexMismatchError(
            f"{path} was written in format {manifest.get('format')!r}, this policykb "
            f"reads format {disk.FORMAT_VERSION}; {disk.REBUILD}"
        )
    built_with = manifest.get("model", {}).get("name")
    if built_with != model:
        raise IndexMismatchError(
            f"knowledge base at {home} was built with embedding model {built_with!r} "
            f"but the configured model is {model!r}; {disk.REBUILD}"
        )
    if manifest.get("vector_store") != settings.vector_store:
        raise IndexMismatchError(
            f"knowledge base at {home} was built for vector store "
            f"{manifest.get('vector_store')!r} but {settings.vector_store!r} is configured; "
            f"{disk.REBUILD}"
        )
    required = [store_class.filename if name == VECTORS else name for name in REQUIRED]
    missing = [name for name in required if name not in manifest["files"]]
    if missing:
        raise disk.incomplete(path / disk.MANIFEST, f"does not list {', '.join(missing)}")
    gen, ids = _read(path, number, manifest, store_class)
    _check_consistent(path, gen, ids)
    return gen


_READ_ERRORS = (ValueError, KeyError, TypeError, RuntimeError, OSError)


def _parse(path: Path, read: Callable[[], T]) -> T:
    """``read()``, with any error turned into ``IndexIncompleteError`` naming ``path``."""
    try:
        return read()
    except _READ_ERRORS as exc:
        raise disk.incomplete(path, f"could not be read ({type(exc).__name__}: {exc})") from exc


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _read(
    path: Path, number: int, manifest: dict[str, Any], store_class: type[VectorStore]
) -> tuple[Generation, dict[str, Any]]:
    entries = _parse(path / DOCUMENTS, lambda: _json(path / DOCUMENTS)["documents"])
    documents = _parse(
        path / DOCUMENTS,
        lambda: {e["document"]["doc_id"]: Document.from_dict(e["document"]) for e in entries},
    )
    pipeline = _parse(
        path / DOCUMENTS, lambda: {e["document"]["doc_id"]: e["pipeline_version"] for e in entries}
    )
    clauses: Sequence[Clause]
    columns: Columns | None = None
    if COLUMNS in manifest["files"]:
        raw_columns = disk.read_verified(path, manifest, COLUMNS)
        columns = _parse(path / COLUMNS, lambda: Columns.load(raw_columns))
        clauses = _parse(path / CLAUSES, lambda: ClauseRecords(path / CLAUSES, columns))
    else:  # written before columns.npz: every record read now
        clauses = _parse(
            path / CLAUSES,
            lambda: [
                Clause.from_dict(json.loads(line))
                for line in (path / CLAUSES).read_text(encoding="utf-8").splitlines()
            ],
        )
    ids = _parse(path / IDS, lambda: _json(path / IDS))
    _parse(path / IDS, lambda: (ids["keys"], ids["clause_ids"]))
    stored = path / store_class.filename
    store = _parse(stored, lambda: store_class.load_file(stored))
    keywords = _parse(path / BM25, lambda: KeywordIndex.load(path / BM25, len(clauses)))
    params = _parse(path / disk.MANIFEST, lambda: SearchParams.from_dict(manifest.get("search_params", {})))
    versions: tuple[dict[str, Any], ...] = ()
    if VERSIONS in manifest["files"]:
        raw = disk.read_verified(path, manifest, VERSIONS)
        versions = _parse(
            path / VERSIONS, lambda: tuple(json.loads(line) for line in raw.decode().splitlines())
        )
    gen = Generation.build(
        number, path, manifest, documents, pipeline, clauses, store, keywords, params, versions, columns
    )
    return gen, ids


def _check_consistent(path: Path, gen: Generation, ids: dict[str, Any]) -> None:
    clauses, store, counts = gen.clauses, gen.index.vectors, gen.manifest.get("counts", {})
    assert store is not None  # a generation read from disk has its vector store
    lazy = isinstance(clauses, ClauseRecords)
    if isinstance(clauses, ClauseRecords):
        _check_records(clauses)
    sizes = {
        "clauses.jsonl": _line_count(clauses) if isinstance(clauses, ClauseRecords) else len(clauses),
        "ids.json": len(ids["keys"]),
        store.filename: store.count,
        "bm25": gen.index.keywords.doc_count,
    }
    if len(set(sizes.values())) != 1 or counts.get("clauses") != len(clauses):
        found = ", ".join(f"{name} has {n}" for name, n in sizes.items())
        raise _mismatch(path, f"row counts differ ({found}; the manifest says {counts.get('clauses')})")
    if counts.get("documents") != len(gen.documents):
        raise _mismatch(
            path,
            f"documents.json has {len(gen.documents)} documents, the manifest says {counts.get('documents')}",
        )
    saved = gen.manifest.get("vector_index")
    if saved is not None and saved != store.describe():
        raise _mismatch(path, f"{store.filename} is {store.describe()}, the manifest says {saved}")
    if store.dim != gen.dim:
        raise _mismatch(path, f"{store.filename} has dimension {store.dim}, the manifest says {gen.dim}")
    in_order = "ids.json does not list the clauses of clauses.jsonl in order"
    if not lazy and ids["clause_ids"] != [c.clause_id for c in clauses]:
        raise _mismatch(path, in_order)
    # Records read on demand check their own key as they are decoded (``ClauseRecords``), so the keys of
    # the columns stand for their clause ids here.
    if not np.array_equal(np.asarray(ids["keys"], dtype=np.int64), gen.index.keys):
        raise _mismatch(path, in_order if lazy else "ids.json keys do not match the clause ids")
    if not np.array_equal(np.sort(store.keys()), np.sort(gen.index.keys)):
        raise _mismatch(path, f"{store.filename} holds vectors for other clauses than clauses.jsonl")
    unknown = set(gen.index.columns.fields["doc_id"].table) - set(gen.documents)
    if unknown:
        raise _mismatch(path, f"clauses of unknown documents {sorted(unknown)[:3]}")


def _line_count(records: ClauseRecords) -> int:
    """Rows of ``clauses.jsonl``: as many as the columns say when the file ends where their last row does,
    else its lines counted."""
    if records.path.stat().st_size == int(records.offsets[-1]):
        return len(records)
    lines = 0
    with open(records.path, "rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


def _check_records(records: ClauseRecords) -> None:
    """The first and the last record decode, and are the clauses their keys name (the rest are checked
    when read): a file of the wrong content is found at open, not at the first query."""
    if len(records) and records.path.stat().st_size:
        records[0]
        if records.path.stat().st_size == int(records.offsets[-1]):
            records[len(records) - 1]
