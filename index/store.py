"""The persisted knowledge base: documents, clauses, vectors and the keyword index of one generation,
searched in memory and replaced atomically by a writer.

>>> kb = KnowledgeBase.open(Settings.load())                       # doctest: +SKIP
>>> with kb.writer() as w:                                          # doctest: +SKIP
...     if not w.is_unchanged(doc.doc_id, doc.sha256, PIPELINE_VERSION):
...         w.upsert(doc, clauses, PIPELINE_VERSION)
>>> kb.search("直播间虚假宣传怎么处罚", k=5)[0].clause.label        # doctest: +SKIP
'第十七条'

Readers never take the lock: they read CURRENT and an immutable generation directory. A second writer
gets ``LockBusyError`` after a short wait. ``open`` and ``reload`` verify the generation (manifest,
sizes, SHA-256, counts, model) and fall back to the previous complete one with a warning.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from policykb.config import Settings
from policykb.errors import IndexError_, IndexIncompleteError, IndexMismatchError, IndexWriteError
from policykb.index import disk
from policykb.index.embed import Embedder, embedder_name, make_embedder, weights_name
from policykb.index.filters import VALUE_FIELDS, Filters, date_bounds
from policykb.index.generation import Generation, load_generation, write_generation
from policykb.index.keywords import KeywordIndex, Segmenter, TokenRows, clause_search_text
from policykb.index.query_forms import default_lexicon
from policykb.index.repair import lost_message, salvage
from policykb.index.search import Hit, Mode, PreparedQuery, Retrieval, SearchParams
from policykb.index.vectors import clause_key, make_vector_store
from policykb.ingest.record import DATE_FIELDS, EDITABLE, METADATA_FIELDS, Clause, Document


def unknown_document(doc_id: str, documents: Iterable[str]) -> str:
    """The message for a document id the knowledge base does not hold, naming the ones it does."""
    known = ", ".join(sorted(documents)) or "none (run `policykb ingest`)"
    return f"no document {doc_id!r}; documents: {known}"


log = logging.getLogger(__name__)
EMBED_CHUNK = 16_384  # new texts embedded at once: their vectors are copied into the build's one matrix


@dataclass(frozen=True)
class Version:
    """An earlier version of a document, kept when a new version replaced it."""

    number: int
    replaced: str  # when (ISO, UTC)
    document: Document
    clauses: list[Clause]


class Writer:
    """Changes collected under the lock; committed as one new generation when the ``with`` block ends."""

    def __init__(self, base: Generation):
        self.documents = dict(base.documents)
        self.pipeline = dict(base.pipeline)
        self.clauses: dict[str, list[Clause]] = {doc_id: [] for doc_id in base.doc_rows}
        # the base's clauses in its row order, decoded once (records may be read from disk): the commit
        # reuses their vectors and tokens from them
        self.base_rows: list[Clause] = list(base.clauses)
        for clause in self.base_rows:
            self.clauses[clause.doc_id].append(clause)
        self.versions = list(base.versions)
        self.changed = False

    def same_content(self, sha256: str) -> str | None:
        """The stored document made from exactly these file bytes, if any."""
        return next((d.doc_id for d in self.documents.values() if d.sha256 == sha256), None)

    def free_id(self, doc_id: str) -> str:
        """``doc_id``, or ``doc_id-2``, ``-3`` … when a stored document (or an earlier one) has it."""
        taken = set(self.documents) | {v["doc_id"] for v in self.versions}
        if doc_id not in taken:
            return doc_id
        n = 2
        while f"{doc_id}-{n}" in taken:
            n += 1
        return f"{doc_id}-{n}"

    def new_version(self, doc: Document, clauses: list[Clause], pipeline_version: str) -> int:
        """Replace ``doc.doc_id`` with ``doc``, keeping the stored one as an earlier version (listed by
        ``KnowledgeBase.versions``, compared by ``what_changed``). Returns the new version's number."""
        old = self.documents.get(doc.doc_id)
        if old is None:
            self.upsert(doc, clauses, pipeline_version)
            return 1
        number: int = sum(v["doc_id"] == doc.doc_id for v in self.versions) + 1
        self.versions.append(
            {
                "doc_id": doc.doc_id,
                "version": number,
                "replaced": datetime.now(UTC).isoformat(timespec="seconds"),
                "document": old.to_dict(),
                "pipeline_version": self.pipeline.get(doc.doc_id),
                "clauses": [c.to_dict() for c in self.clauses.get(doc.doc_id, [])],
            }
        )
        self.upsert(doc, clauses, pipeline_version)
        self.changed = True
        return number + 1

    def is_unchanged(self, doc_id: str, sha256: str, pipeline_version: str) -> bool:
        """True when ``doc_id`` is stored from the same file bytes by the same pipeline version."""
        doc = self.documents.get(doc_id)
        return doc is not None and doc.sha256 == sha256 and self.pipeline.get(doc_id) == pipeline_version

    def upsert(self, doc: Document, clauses: list[Clause], pipeline_version: str) -> None:
        """Add ``doc`` or replace it and all its old clauses."""
        strangers = {c.doc_id for c in clauses} - {doc.doc_id}
        if strangers:
            raise ValueError(f"clauses of document {doc.doc_id!r} name other documents: {sorted(strangers)}")
        unique: dict[str, Clause] = {}
        for clause in sorted(clauses, key=lambda c: c.seq):
            if clause.clause_id in unique:
                log.warning(
                    "%s: duplicate clause %s (seq %d) skipped", doc.doc_id, clause.clause_id, clause.seq
                )
                continue
            unique[clause.clause_id] = clause
        new = list(unique.values())
        if (
            self.documents.get(doc.doc_id) == doc
            and self.pipeline.get(doc.doc_id) == pipeline_version
            and self.clauses.get(doc.doc_id) == new
        ):
            return
        self.documents[doc.doc_id] = doc
        self.pipeline[doc.doc_id] = pipeline_version
        self.clauses[doc.doc_id] = new
        self.changed = True

    def remove(self, doc_id: str) -> None:
        """Remove a document and its clauses (no error if it is not stored)."""
        if self.documents.pop(doc_id, None) is not None:
            self.pipeline.pop(doc_id, None)
            self.clauses.pop(doc_id, None)
            self.changed = True

    def rows(self) -> list[Clause]:
        return [c for doc_id in self.documents for c in self.clauses.get(doc_id, [])]


class KnowledgeBase:
    """The knowledge base under ``settings.home``; see the module docstring for an example."""

    def __init__(self, settings: Settings, generation: Generation, embedder: Embedder | None, fresh: bool):
        self.settings = settings
        self.home = Path(settings.home)
        self._gen = generation
        self._embedder = embedder
        self._fresh = fresh
        self._lock = threading.Lock()
        self.stale: dict[str, Any] | None = None  # serving an older generation than CURRENT: which, and why

    # --- opening ---------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls, settings: Settings, *, embedder: Embedder | None = None, fresh: bool = False
    ) -> KnowledgeBase:
        """Load the live generation (verified) or an empty knowledge base.

        ``fresh=True`` reads nothing: the first ``writer()`` starts from empty, replacing whatever is on
        disk (the way to rebuild after ``IndexIncompleteError`` / ``IndexMismatchError``)."""
        home = Path(settings.home)
        disk.try_clean_stale(home)
        params = SearchParams()
        kb = cls(settings, Generation.empty(params), embedder, fresh)
        if not fresh:
            kb._gen = kb._load_latest()
        if embedder is not None:
            kb._check_embedder(embedder, kb._gen)
        return kb

    @property
    def embedding_model_name(self) -> str:
        """The model whose weights embed the clauses, at any precision (what the abstention model checks)."""
        return weights_name(self._model_name())

    def _model_name(self) -> str:
        return self._embedder.name if self._embedder is not None else embedder_name(self.settings)

    def _load_latest(self) -> Generation:
        """The generation CURRENT names, or the newest older one that verifies (with a warning)."""
        current = disk.read_current(self.home)
        try:
            return self._load_from(current)
        except IndexError_:
            moved = disk.read_current(self.home)
            if moved == current:
                raise
            # Two commits while we were reading: what we read may have been pruned. Once more.
            return self._load_from(moved)

    def _load_from(self, current: int | None) -> Generation:
        numbers = disk.generation_numbers(self.home)
        if current is None and not numbers:
            return Generation.empty(SearchParams())
        candidates = [current] if current is not None else []
        candidates += sorted((n for n in numbers if current is None or n < current), reverse=True)
        first_error: IndexError_ | None = None
        for number in candidates:
            try:
                gen = load_generation(self.home, number, model=self._model_name(), settings=self.settings)
            except IndexError_ as exc:
                log.warning("knowledge base generation %d cannot be used: %s", number, exc)
                first_error = first_error or exc
                continue
            if self._embedder is not None:
                self._check_embedder(self._embedder, gen)
            self.stale = None
            if number != current:
                log.warning(
                    "using generation %d of the knowledge base at %s instead of %s",
                    number,
                    self.home,
                    current if current is not None else "(no CURRENT)",
                )
                if current is not None and first_error is not None:
                    self.stale = {
                        "current": current,
                        "serving": number,
                        "reason": str(first_error),
                        "repair": "policykb repair",
                    }
            return gen
        assert first_error is not None
        raise first_error

    @classmethod
    def recover(cls, settings: Settings, *, embedder: Embedder | None = None) -> tuple[KnowledgeBase, str]:
        """For a home no generation of which can be opened: salvage the newest one (see ``repair``), then
        open it. Raises ``IndexIncompleteError`` saying what cannot be recovered; deletes nothing then."""
        kb = cls(settings, Generation.empty(SearchParams()), embedder, fresh=False)
        message = kb.repair()
        return cls.open(settings, embedder=embedder), message

    def repair(self) -> str:
        """Rebuild a damaged live generation from its own documents and clauses (re-embedded, re-indexed)
        into a new one; what was done, as a sentence. Raises ``IndexIncompleteError`` naming what would be
        lost when its documents or clauses are damaged too; nothing is deleted then."""
        with disk.exclusive_lock(self.home, self.settings.writer_wait_seconds):
            return self._repair_locked()

    def _repair_locked(self) -> str:
        current = disk.read_current(self.home)
        if current is None:
            return "nothing to repair: the knowledge base holds no generation"
        try:
            load_generation(self.home, current, model=self._model_name(), settings=self.settings)
        except IndexError_ as damage:
            problem = str(damage)
        else:
            self.reload()
            return f"generation {current} is intact; nothing to repair"
        serving = dict(self._gen.documents)
        try:
            saved = salvage(self.home, current)
        except IndexError_ as exc:
            raise IndexIncompleteError(lost_message(self.home, current, serving, str(exc))) from exc
        w = Writer(Generation.empty(SearchParams()))
        w.documents, w.pipeline, w.clauses, w.versions = (
            saved.documents,
            saved.pipeline,
            saved.clauses,
            saved.versions,
        )
        self._commit(w, self._gen)
        self.stale = None
        n = sum(len(c) for c in saved.clauses.values())
        return (
            f"generation {current} was damaged ({problem}); rebuilt as generation {self._gen.number} from its "
            f"own {len(saved.documents)} documents and {n} clauses, re-embedded and re-indexed"
        )

    def reload(self) -> None:
        """Pick up a newer generation written by another process (no-op if CURRENT has not moved)."""
        if disk.read_current(self.home) != self._gen.number:
            self._gen = self._load_latest()

    # --- the embedder ----------------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """Created on first use: only search and commit need it."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    embedder = make_embedder(self.settings)
                    self._check_embedder(embedder, self._gen)
                    self._embedder = embedder
        return self._embedder

    def _check_embedder(self, embedder: Embedder, gen: Generation) -> None:
        if gen.number is None:
            return
        if gen.model != embedder.name or gen.dim != embedder.dim:
            raise IndexMismatchError(
                f"knowledge base at {self.home} was built with embedding model {gen.model!r} (dim {gen.dim}) "
                f"but the configured model is {embedder.name!r} (dim {embedder.dim}); {disk.REBUILD}"
            )

    # --- reading ---------------------------------------------------------------------------------------

    @property
    def generation(self) -> int | None:
        return self._gen.number

    @property
    def manifest(self) -> dict[str, Any]:
        return self._gen.manifest

    def documents(self) -> list[Document]:
        return list(self._gen.documents.values())

    def versions(self, doc_id: str) -> list[Version]:
        """Earlier versions of ``doc_id``, oldest first (the stored one is not among them)."""
        return [
            Version(
                v["version"],
                v["replaced"],
                Document.from_dict(v["document"]),
                [Clause.from_dict(c) for c in v["clauses"]],
            )
            for v in self._gen.versions
            if v["doc_id"] == doc_id
        ]

    def document(self, doc_id: str) -> Document | None:
        return self._gen.documents.get(doc_id)

    def clauses(self, doc_id: str | None = None) -> list[Clause]:
        """Clauses in reading order (documents in the order stored, then ``seq``)."""
        gen = self._gen
        if doc_id is None:
            return list(gen.clauses)
        rows = gen.doc_rows.get(doc_id, range(0))
        return list(gen.clauses[rows.start : rows.stop])

    def clause_count(self) -> int:
        """How many clauses the knowledge base holds (``len(clauses())`` without reading them)."""
        return len(self._gen.clauses)

    def clause(self, clause_id: str) -> Clause | None:
        gen = self._gen
        row = gen.row(clause_id)
        return None if row is None else gen.clauses[row]

    def labelled(self, doc_id: str, key: str) -> Clause | None:
        """The clause of ``doc_id`` labelled with reference key ``key`` (``条:12`` for 第十二条), or None."""
        gen = self._gen
        row = gen.index.references.labelled(doc_id, key)
        return None if row is None else gen.clauses[row]

    def neighbours(self, clause_id: str, before: int = 1, after: int = 1) -> list[Clause]:
        """The clause with up to ``before`` clauses before and ``after`` after it in the same document."""
        gen = self._gen
        row = gen.row(clause_id)
        if row is None:
            return []
        rows = gen.doc_rows[gen.clauses[row].doc_id]
        return list(gen.clauses[max(rows.start, row - before) : min(rows.stop, row + after + 1)])

    def facets(self) -> dict[str, list[str]]:
        """Distinct metadata values per filter field (for filter menus)."""
        out = {}
        for name in VALUE_FIELDS:
            values = {d.doc_id if name == "doc_id" else getattr(d.metadata, name) for d in self.documents()}
            out[name] = sorted(v for v in values if v)
        return out

    def prepare(self, query: str) -> PreparedQuery:
        """How ``search`` reads ``query``: Simplified form, expansion terms, BM25 tokens, references."""
        return self._gen.index.prepare(query)

    def document_frequency(self, token: str) -> int:
        """Clauses whose BM25 tokens include ``token`` (a ``keywords.tokenize`` token)."""
        return self._gen.index.keywords.document_frequency(token)

    def warm(self) -> None:
        """Do the first query's work now (the embedding model): a server calls this at start. The query
        vocabulary is not built: a question in Chinese does not read it (``warm_english``)."""
        if self._gen.clauses:
            self.embedder.encode_query("预热")

    def warm_english(self) -> None:
        """Do the first English or pinyin query's extra work now (the corpus vocabulary, CC-CEDICT): a
        server calls this once its first Chinese answer is ready."""
        gen = self._gen
        if gen.clauses:
            gen.index.vocabulary()
            default_lexicon().dictionary_words  # noqa: B018 — reads CC-CEDICT

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        rerank: bool = True,
    ) -> list[Hit]:
        """Best ``k`` clauses for ``query``; see ``index/search.py`` for modes and scores, and ``retrieve``
        for ``rerank``."""
        return self.retrieve(query, k=k, filters=filters, mode=mode, rerank=rerank).hits

    def retrieve(
        self,
        query: str,
        *,
        k: int = 10,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        rerank: bool = True,
    ) -> Retrieval:
        """``search`` with the query as it was read (Simplified form, expansion terms, tokens, references):
        what the answerer and the app's highlighting need, so neither prepares the query again.

        ``rerank`` (hybrid mode): the top hits are re-ordered by what each clause says about the question
        (``qa/rerank.py``, fitted by ``policykb calibrate``; it reads the question as the answerer does, so
        it lives in ``qa/``)."""
        gen = self._gen

        def embed(text: str) -> np.ndarray:
            return self.embedder.encode_query(text)

        if mode != "hybrid" or not rerank:
            return gen.index.retrieve(query, embed, k=k, filters=filters, mode=mode)
        from policykb.qa.rerank import WINDOW, rerank_retrieval

        found = rerank_retrieval(self, gen.index.retrieve(query, embed, k=max(k, WINDOW), filters=filters))
        return found if len(found.hits) <= k else replace(found, hits=found.hits[:k])

    # --- writing ---------------------------------------------------------------------------------------

    def remove_document(self, doc_id: str) -> Document:
        """Take ``doc_id`` and its clauses out of the knowledge base (a new generation: the one before it is
        kept until the next write, and re-ingesting the file brings the document back). ``KeyError``
        naming the known documents when there is no such document."""
        with self.writer() as w:
            doc = w.documents.get(doc_id)
            if doc is None:
                raise KeyError(unknown_document(doc_id, w.documents))
            w.remove(doc_id)
        return doc

    def edit_document(self, doc_id: str, changes: dict[str, str | None]) -> Document:
        """Correct a document's ``EDITABLE`` fields (an empty value clears a metadata field); its clauses carry
        the new title and metadata at once, and an edited field is no longer listed as guessed. ``ValueError``
        names a field that cannot be edited or a malformed date; ``KeyError`` an unknown document."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"cannot edit {sorted(unknown)}; editable: {', '.join(EDITABLE)}")
        values = {k: (v.strip() or None) if isinstance(v, str) else None for k, v in changes.items()}
        if "title" in values and not values["title"]:
            raise ValueError("a document needs a title")
        for name in DATE_FIELDS:
            if values.get(name):
                date_bounds(str(values[name]))  # ValueError naming the malformed date
        with self.writer() as w:
            doc = w.documents.get(doc_id)
            if doc is None:
                raise KeyError(unknown_document(doc_id, w.documents))
            meta = replace(doc.metadata, **{k: v for k, v in values.items() if k in METADATA_FIELDS})
            edited = replace(
                doc,
                title=values.get("title") or doc.title,
                metadata=meta,
                valid_from=values.get("valid_from", doc.valid_from),
                valid_to=values.get("valid_to", doc.valid_to),
                guessed=tuple(g for g in doc.guessed if g not in values),
            )
            clauses = [replace(c, title=edited.title, metadata=meta) for c in w.clauses.get(doc_id, [])]
            w.upsert(edited, clauses, w.pipeline.get(doc_id, ""))
        return edited

    @contextmanager
    def writer(
        self,
        *,
        fresh: bool = False,
        wait: float | None = None,
        on_wait: Callable[[float], object] | None = None,
        give_up_damaged: bool = False,
    ) -> Iterator[Writer]:
        """Exclusive writer. A clean exit commits a new generation; an exception writes nothing.

        Another writer is waited for (``wait`` seconds, default ``settings.writer_wait_seconds``;
        ``on_wait(seconds)`` reports the wait). ``fresh=True`` starts from an empty knowledge base.
        ``give_up_damaged=True`` builds on the generation served even when a newer one is damaged (for
        ``repair`` from the original files, once it has checked they hold everything that one held)."""
        wait = self.settings.writer_wait_seconds if wait is None else wait
        with disk.exclusive_lock(self.home, wait, on_wait):
            disk.clean_stale(self.home)
            if fresh or self._fresh:
                base = Generation.empty(SearchParams())
            else:
                self.reload()  # another process may have committed since we loaded
                if self.stale is not None and not give_up_damaged:  # never build on an older generation
                    log.warning("%s", self._repair_locked())  # and so drop the newer one
                base = self._gen
            w = Writer(base)
            yield w
            if w.changed or fresh or self._fresh:
                self._commit(w, base)
                self._fresh = False

    def _commit(self, w: Writer, base: Generation) -> None:
        clauses = w.rows()
        embedder = self.embedder
        params = SearchParams()
        existing = disk.generation_numbers(self.home) + [disk.read_current(self.home) or 0]
        number = max(existing) + 1
        store = make_vector_store(self.settings, embedder.dim, generation=number)
        vectors = self._vectors_for(clauses, base, w.base_rows, embedder, store.staging_dtype(len(clauses)))
        keys = np.fromiter((clause_key(c.clause_id) for c in clauses), np.int64, len(clauses))
        store.add(keys, vectors, clauses)
        del vectors  # the store's now: FAISS has a copy (float32 in a flat index), an IVF index keeps these
        tokens = self._tokens_for(clauses, base, w.base_rows)  # not held beside the vectors
        keywords = KeywordIndex.build(tokens, params.bm25_k1, params.bm25_b)
        try:
            gen = write_generation(
                self.home,
                number,
                documents=w.documents,
                pipeline=w.pipeline,
                keep=base.number,
                clauses=clauses,
                tokens=tokens,
                store=store,
                keywords=keywords,
                params=params,
                model=embedder.name,
                vector_store=self.settings.vector_store,
                versions=tuple(w.versions),
            )
        except OSError as exc:
            live = (
                f"generation {base.number} is still live" if base.number is not None else "nothing was saved"
            )
            raise IndexWriteError(f"could not save the knowledge base at {self.home}: {exc}; {live}") from exc
        try:
            assert gen.path is not None  # write_generation returns a generation on disk
            disk.verify(gen.path)  # read back: no older generation goes until the new one checks out
        except IndexError_ as exc:
            raise IndexWriteError(
                f"the new generation {number} at {self.home} does not verify ({exc}); the older ones are kept"
            ) from exc
        store.publish([base.index.vectors] if base.index.vectors is not None else [])
        disk.prune(self.home, {number} | ({base.number} if base.number is not None else set()))
        self._gen = gen
        self.stale = None  # CURRENT names what was just written
        log.info(
            "knowledge base generation %d: %d documents, %d clauses", number, len(w.documents), len(clauses)
        )

    def _vectors_for(
        self,
        clauses: list[Clause],
        base: Generation,
        base_rows: Sequence[Clause],
        embedder: Embedder,
        dtype: type[np.floating[Any]] = np.float32,
    ) -> np.ndarray:
        """Vectors of ``clauses`` in one ``dtype`` matrix, reusing the base generation's vector for every
        unchanged text (``base_rows``: its clauses, row for row); filled as they come (reused ones and new
        texts ``EMBED_CHUNK`` at a time), never stacked, and the base's vectors never decoded all at once."""
        out = np.empty((len(clauses), embedder.dim), dtype=dtype)
        hashes = [c.content_hash for c in clauses]
        first: dict[str, int] = {}  # content hash → the first row of ``out`` that has it
        for row, h in enumerate(hashes):
            first.setdefault(h, row)
        done: set[str] = set()
        stored = base.index.vectors
        if stored is not None and base.model == embedder.name and base.dim == embedder.dim:
            old = {c.content_hash: int(key) for c, key in zip(base_rows, base.index.keys)}
            reused = [(row, old[h]) for h, row in first.items() if h in old]
            for i in range(0, len(reused), EMBED_CHUNK):
                pairs = np.asarray(reused[i : i + EMBED_CHUNK], dtype=np.int64)  # (row, key)
                out[pairs[:, 0]] = stored.vectors_of(pairs[:, 1])
            done = {hashes[row] for row, _ in reused}
        todo = [h for h in first if h not in done]
        for i in range(0, len(todo), EMBED_CHUNK):
            part = todo[i : i + EMBED_CHUNK]
            out[[first[h] for h in part]] = embedder.encode([clauses[first[h]].embedding_text for h in part])
        firsts = np.fromiter((first[h] for h in hashes), np.int64, len(hashes))
        repeated = np.flatnonzero(firsts != np.arange(len(firsts)))
        out[repeated] = out[firsts[repeated]]  # a repeated text: the vector of its first row
        return out

    def _tokens_for(self, clauses: list[Clause], base: Generation, base_rows: Sequence[Clause]) -> TokenRows:
        """jieba tokens of ``clauses``, reusing the base generation's tokens for unchanged search text and
        segmenting each distinct jieba block once (``Segmenter``); held as ids (``TokenRows``)."""

        def text(c: Clause) -> str:
            return clause_search_text(c.title, c.section_path, c.label, c.text)

        def key(search_text: str) -> bytes:
            return hashlib.sha1(search_text.encode()).digest()

        stored: dict[bytes, int] = {}  # search text → the base row that has it
        base_tokens = TokenRows()
        if base_rows and clauses:
            try:
                base_tokens = base.tokens()
            except IndexError_ as exc:  # damaged since it was loaded: segment everything again
                log.warning("segmenting every clause again: %s", exc)
            if len(base_tokens) == len(base_rows):
                stored = {key(text(c)): row for row, c in enumerate(base_rows)}
            elif len(base_tokens):
                log.warning(
                    "segmenting every clause again: tokens.jsonl has %d rows for %d clauses",
                    len(base_tokens),
                    len(base_rows),
                )
        segment = Segmenter()
        out = TokenRows.extending(base_tokens)  # a base row's ids are its ids here too
        row_of: dict[bytes, int] = {}  # search text → the first row that has it
        for c in clauses:
            search_text = text(c)
            k = key(search_text)
            row = row_of.get(k)
            if row is not None:
                out.repeat(row)
                continue
            base_row = stored.get(k)
            row_of[k] = len(out)
            if base_row is not None:
                out.reuse(base_tokens, base_row)
            else:
                out.append(segment(search_text))
        return out
