"""What qa/ needs from index/ beyond ``KnowledgeBase.search``: the query forms the retriever computed
(Simplified text, English renderings, synonyms) and keyword document frequencies, through the
knowledge base's public ``prepare`` and ``document_frequency``. Term statistics are cached per
generation, so a warm ``ask`` pays a dictionary lookup.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jieba

from policykb.index.query_forms import QueryForms, expand_query

if TYPE_CHECKING:
    from policykb.index.store import KnowledgeBase

_lock = threading.Lock()
_stats: weakref.WeakKeyDictionary[KnowledgeBase, tuple[int | None, TermStats]] = (
    weakref.WeakKeyDictionary()
)  # kb → (generation, TermStats)


def query_forms(kb: KnowledgeBase, question: str) -> QueryForms:
    """The forms ``kb.search`` computes for ``question`` (same vocabulary, same lexicon)."""
    if not kb.documents():
        return expand_query(question)
    forms = kb.prepare(question).forms
    assert forms is not None  # prepare always expands the query
    return forms


@dataclass(frozen=True)
class TermStats:
    """Keyword document frequencies of one generation; ``idf`` of a word the index never saw is the
    largest there is (a word no notice uses is as specific as a word can be)."""

    n_docs: int
    df_of: Callable[[str], int]

    def df(self, word: str) -> int:
        """Clauses whose keyword tokens include ``word``; for a phrase that is not one token, the smallest
        frequency of its sub-words (an upper bound: the phrase cannot be more frequent than its parts)."""
        n = self.df_of(word)
        if n or len(word) < 3:
            return n
        parts = [p for p in jieba.cut_for_search(word) if len(p) >= 2 and p != word]
        return min((self.df_of(p) for p in parts), default=0)

    def idf(self, word: str) -> float:
        return math.log((self.n_docs + 1) / (self.df(word) + 0.5))

    @property
    def max_idf(self) -> float:
        return math.log((self.n_docs + 1) / 0.5)


def term_stats(kb: KnowledgeBase) -> TermStats:
    """Keyword statistics of the knowledge base's live generation."""
    with _lock:
        cached = _stats.get(kb)
        if cached is None or cached[0] != kb.generation:
            cached = (kb.generation, TermStats(kb.clause_count(), kb.document_frequency))
            _stats[kb] = cached
    return cached[1]
