"""Hybrid search over one generation: clauses named by reference first, then BM25 and dense results fused
— by default as a weighted sum of each signal's standardised scores (``fusion = "zscore"``; weighted
Reciprocal Rank Fusion, ``"rrf"``, is the alternative). Filters become a row mask before either signal ranks
anything.

Modes: ``hybrid`` (references + fusion; ``Hit.score`` is the fused score, plus 1 for a reference hit),
``bm25`` and ``dense`` (one signal alone, ``Hit.score`` is its raw score) — the last two exist so the
evaluation can compare signals.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from policykb.errors import PolicyKBError
from policykb.index.filters import FilterIndex, Filters, Selection
from policykb.index.keywords import KeywordIndex, tokenize
from policykb.index.query_forms import QueryForms, Vocabulary, expand_query, needs_vocabulary
from policykb.index.records import Columns, KeyRows
from policykb.index.references import (
    SAYS_WORDS,
    Reference,
    ReferenceIndex,
    item_numbers,
    parse_references,
    words_besides_references,
)
from policykb.index.vectors import VectorStore
from policykb.ingest.record import Clause

log = logging.getLogger(__name__)

MODES = ("hybrid", "bm25", "dense")
FUSIONS = ("zscore", "rrf")
Mode = Literal["hybrid", "bm25", "dense"]
# What a fusion returns: the fused score of each row, and each row's signals (score and rank per signal).
_Fused = tuple[dict[int, float], dict[int, dict[str, float]]]


@dataclass(frozen=True)
class SearchParams:
    """Ranking parameters; recorded in every generation's manifest."""

    # "zscore": each signal's scores standardised over its candidates, then a weighted sum, so a clause
    # far ahead in one signal keeps its lead; "rrf": reciprocal rank fusion (ranks only).
    # Chosen on the dev set (`policykb eval`, 22 answerable questions) over a grid of bm25_weight
    # 0.4-0.8 (dense = 1 - bm25) for both methods. zscore 0.6/0.4 was the only point meeting R@1 >= 0.80,
    # R@5 >= 0.95 and MRR >= 0.85 together (0.818 / 0.955 / 0.861), at the edge of its plateau: at 0.55
    # one question drops out of the top 5, at 0.65 one loses first place. RRF reached at best
    # 0.773 / 0.955 / 0.850 (0.8/0.2). BM25 gets more weight because m3e-small is the weaker signal here
    # (dense alone: R@1 0.455, BM25 alone: 0.727).
    fusion: str = "zscore"
    rrf_k: int = 60
    bm25_weight: float = 0.6
    dense_weight: float = 0.4
    depth: int = 50  # candidates each signal contributes before fusion (at least k)
    references_first: bool = True
    bm25_k1: float = 1.5
    bm25_b: float = 0.75

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ValueError(f"search fusion {self.fusion!r} is not known; allowed: {', '.join(FUSIONS)}")
        for name in ("bm25_weight", "dense_weight"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"search parameter {name} must be a number in [0, 1], not {value!r}")
        for name in ("rrf_k", "depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"search parameter {name} must be a whole number ≥ 1, not {value!r}")
        if not isinstance(self.references_first, bool):
            raise TypeError(
                f"search parameter references_first must be true or false, not {self.references_first!r}"
            )
        for name in ("bm25_k1", "bm25_b"):
            if not isinstance(getattr(self, name), int | float) or getattr(self, name) < 0:
                raise ValueError(f"search parameter {name} must be a number ≥ 0, not {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchParams:
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(
                f"unknown search parameters {sorted(unknown)}; allowed: {', '.join(cls.__dataclass_fields__)}"
            )
        return cls(**d)


@dataclass(frozen=True)
class Hit:
    rank: int  # 1-based
    score: float
    clause: Clause
    signals: dict[str, float] = field(default_factory=dict)  # bm25, bm25_rank, dense, dense_rank, reference


@dataclass(frozen=True)
class Retrieval:
    """What one search did: the query as it was read (``PreparedQuery``) and the hits, so a reader of the
    results (the answerer, the app's highlighting) never prepares the query a second time."""

    query: PreparedQuery
    hits: list[Hit]


@dataclass(frozen=True)
class PreparedQuery:
    original: str
    zh: str  # Simplified Chinese form: what is embedded and tokenised
    lang: str
    tokens: list[str]  # BM25 tokens of zh and of the extra terms
    references: list[Reference]
    terms: tuple[str, ...] = ()  # extra Chinese keywords from query expansion
    forms: QueryForms | None = None

    @property
    def dense_text(self) -> str:
        """What is embedded: the Chinese form, and for an English question the English too — m3e was trained
        on mixed Chinese and English, and a word-by-word rendering loses what the sentence means."""
        return f"{self.original} {self.zh}" if self.lang == "en" else self.zh


class SearchIndex:
    """Everything one generation needs to answer a query, aligned by row (= reading order)."""

    def __init__(
        self,
        clauses: Sequence[Clause],
        titles: dict[str, str],
        vectors: VectorStore | None,
        keywords: KeywordIndex,
        params: SearchParams,
        tokens: Callable[[], Iterable[list[str]]] | None = None,
        columns: Columns | None = None,
    ):
        """``clauses``: the records of every row (a list, or ``records.ClauseRecords`` read on demand);
        ``columns``: their keys and filter and reference fields (made from ``clauses`` when not given);
        ``tokens``: a source of each row's BM25 tokens, so the query vocabulary needs no re-segmenting."""
        self.clauses = clauses
        self._tokens = tokens
        self.vectors = vectors
        self.keywords = keywords
        self.params = params
        self.columns = columns if columns is not None else Columns.of(clauses)
        self.keys = self.columns.keys
        self.row_of_key = KeyRows(self.keys)
        self.filters = FilterIndex(self.columns)
        self.references = ReferenceIndex.from_columns(self.columns, titles)
        self._vocabulary: Vocabulary | None = None
        self._lock = threading.Lock()

    def vocabulary(self) -> Vocabulary:
        """The query-expansion vocabulary of this generation, built on first use."""
        with self._lock:
            if self._vocabulary is None:
                self._vocabulary = self._build_vocabulary()
        return self._vocabulary

    def _build_vocabulary(self) -> Vocabulary:
        if self._tokens is not None:
            fields = {
                f for name in ("issuer", "region", "platform") for f in self.columns.fields[name].table if f
            }
            try:
                return Vocabulary.from_tokens(itertools.chain(self._tokens(), map(tokenize, sorted(fields))))
            except PolicyKBError as exc:  # the stored tokens are damaged: segment the clauses again
                log.warning("query vocabulary built from the clauses instead: %s", exc)
        return Vocabulary.from_clauses(self.clauses)

    def prepare(self, query: str) -> PreparedQuery:
        """The query as search sees it: Simplified form, expansion terms, tokens, references."""
        forms = expand_query(query, self.vocabulary() if needs_vocabulary(query) else None)
        zh, lang, terms = forms.zh, forms.lang, list(forms.terms)
        # An English question's rendering is a list of words: segmented one by one, since run together
        # (search_key drops the spaces between CJK) they form words nobody asked for (最长 时长 → 长短).
        tokens = [t for part in (zh.split() if lang == "en" else [zh]) for t in tokenize(part)]
        for term in terms:
            tokens.extend(tokenize(term))
        for title in self.references.titles_named(zh):  # 电商法 → 电子商务法: the title's own words
            if title not in terms:
                terms.append(title)
                tokens.extend(tokenize(title))
        refs = list(dict.fromkeys(parse_references(query) + parse_references(zh)))
        return PreparedQuery(query, zh, lang, list(dict.fromkeys(tokens)), refs, tuple(terms), forms)

    def search(
        self,
        query: str,
        embed_query: Callable[[str], np.ndarray],
        *,
        k: int = 10,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        return self.retrieve(query, embed_query, k=k, filters=filters, mode=mode).hits

    def retrieve(
        self,
        query: str,
        embed_query: Callable[[str], np.ndarray],
        *,
        k: int = 10,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
    ) -> Retrieval:
        """``search``, returning the prepared query with the hits."""
        if mode not in MODES:
            raise ValueError(f"search mode {mode!r} is not known; allowed: {', '.join(MODES)}")
        q = self.prepare(query)
        if k <= 0 or not self.clauses or not query.strip():
            return Retrieval(q, [])
        mask = self.filters.mask(filters)
        if mask is not None and not mask.any():
            return Retrieval(q, [])
        return Retrieval(q, self._rank(q, embed_query, k, mask, mode, self.filters.selection(filters)))

    def _rank(
        self,
        q: PreparedQuery,
        embed_query: Callable[[str], np.ndarray],
        k: int,
        mask: np.ndarray | None,
        mode: Mode,
        selection: Selection | None = None,
    ) -> list[Hit]:
        depth = max(self.params.depth, k)
        ranked: dict[str, list[tuple[int, float]]] = {}
        if mode in ("hybrid", "bm25"):
            ranked["bm25"] = self._keyword_ranking(q, depth, mask, selection)
        if mode in ("hybrid", "dense"):
            allowed = None if mask is None else self.keys[mask]
            assert self.vectors is not None
            found = self.vectors.search(embed_query(q.dense_text), depth, allowed, selection)
            ranked["dense"] = [(self.row_of_key[key], score) for key, score in found]
        if mode != "hybrid":
            only = ranked[mode]
            return [
                Hit(i + 1, score, self.clauses[row], {mode: score, f"{mode}_rank": i + 1})
                for i, (row, score) in enumerate(only[:k])
            ]
        return self._fuse(q, ranked, mask, k)

    def _keyword_ranking(
        self, q: PreparedQuery, depth: int, mask: np.ndarray | None, selection: Selection | None
    ) -> list[tuple[int, float]]:
        """BM25 (row, score), best first: bm25s over the stored tokens, or the vector store's own BM25 when
        it keeps one (Milvus with ``milvus_keywords``), asked the Simplified question and its expansion
        terms."""
        if self.vectors is None or not self.vectors.keywords:
            return self.keywords.search(q.tokens, depth, mask)
        allowed = None if mask is None else self.keys[mask]
        found = self.vectors.keyword_search(" ".join([q.zh, *q.terms]), depth, allowed, selection)
        return [(self.row_of_key[key], score) for key, score in found if key in self.row_of_key]

    def _fuse(
        self, q: PreparedQuery, ranked: dict[str, list[tuple[int, float]]], mask: np.ndarray | None, k: int
    ) -> list[Hit]:
        p = self.params
        fused, signals = (_zscore_fusion if p.fusion == "zscore" else _rrf_fusion)(ranked, p)
        order = sorted(fused, key=lambda row: (-fused[row], row))
        refs: list[int] = []
        if p.references_first and q.references:
            position = {row: i for i, row in enumerate(order)}
            refs = [r for r in self.references.lookup(q.references) if mask is None or mask[r]]
            # Documents by their best-ranked named clause; within one, clauses in reading order (第二章: its
            # articles in turn); the parts of one clause (第二条 split in several) by rank when the question
            # asks something besides the reference (第二条对通讯交易是怎么定义的), else in reading order.
            doc_rank: dict[str, int] = {}
            first_of: dict[tuple[str, str], int] = {}
            for r in refs:
                c = self.clauses[r]
                doc_rank[c.doc_id] = min(
                    doc_rank.get(c.doc_id, len(position)), position.get(r, len(position))
                )
                first_of.setdefault((c.doc_id, c.label), r)  # refs are in reading order
            by_rank = _asks_beyond_references(q.original)
            # 第七条第（八）项 of an article kept in several parts: the part holding item (八) first
            items = {ref.number for ref in q.references if ref.kind == "paren"}
            refs.sort(
                key=lambda r: (
                    doc_rank[self.clauses[r].doc_id],
                    first_of[(self.clauses[r].doc_id, self.clauses[r].label)],
                    not (items and items & item_numbers(self.clauses[r].text)),
                    position.get(r, len(position)) if by_rank else 0,
                    r,
                )
            )
        ref_set = set(refs)
        rows = refs + [row for row in order if row not in ref_set]
        out: list[Hit] = []
        for i, row in enumerate(rows[:k], start=1):
            sig = dict(signals.get(row, {}))
            score = fused.get(row, 0.0)
            if row in ref_set:
                sig["reference"] = 1.0
                score += 1.0
                if out:  # parts kept in reading order: scores must still never rise down the list
                    score = min(score, out[-1].score)
            out.append(Hit(i, score, self.clauses[row], sig))
        return out


def _asks_beyond_references(query: str) -> bool:
    """Whether ``query`` has a word besides its references, the laws they name and 规定了什么."""
    return any(t not in SAYS_WORDS for t in tokenize(words_besides_references(query)))


def _rrf_fusion(ranked: dict[str, list[tuple[int, float]]], p: SearchParams) -> _Fused:
    weights = {"bm25": p.bm25_weight, "dense": p.dense_weight}
    fused: dict[int, float] = {}
    signals: dict[int, dict[str, float]] = {}
    for name, hits in ranked.items():
        for rank, (row, score) in enumerate(hits, start=1):
            fused[row] = fused.get(row, 0.0) + weights[name] / (p.rrf_k + rank)
            signals.setdefault(row, {}).update({name: score, f"{name}_rank": rank})
    return fused, signals


def _zscore_fusion(ranked: dict[str, list[tuple[int, float]]], p: SearchParams) -> _Fused:
    """Weighted sum of standardised scores. A row one signal did not return gets that signal's lowest
    standardised score (it ranked below every candidate the signal returned)."""
    weights = {"bm25": p.bm25_weight, "dense": p.dense_weight}
    signals: dict[int, dict[str, float]] = {}
    z: dict[str, dict[int, float]] = {}
    for name, hits in ranked.items():
        scores = np.array([s for _, s in hits], dtype=np.float64)
        if len(scores) == 0:
            z[name] = {}
            continue
        std = scores.std() or 1.0
        z[name] = {row: float((s - scores.mean()) / std) for row, s in hits}
        for rank, (row, score) in enumerate(hits, start=1):
            signals.setdefault(row, {}).update({name: score, f"{name}_rank": rank})
    floor = {name: min(zs.values(), default=0.0) for name, zs in z.items()}
    fused = {row: sum(weights[name] * z[name].get(row, floor[name]) for name in z) for row in signals}
    return fused, signals
