"""What qa/ needs from index/ beyond ``KnowledgeBase.search``: the query forms the retriever computed
(Simplified text, English renderings, synonyms) and keyword document frequencies.

``KnowledgeBase`` exposes neither yet, so this module is the one place that reaches into the live
generation's ``SearchIndex``; when index/ grows public accessors only this file changes. Both are cached
per generation, so a warm ``ask`` pays a dictionary lookup.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import jieba

from policykb.index.query_forms import QueryForms, Vocabulary, expand_query

_lock = threading.Lock()
_stats: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _search_index(kb):
    gen = getattr(kb, "_gen", None)
    return getattr(gen, "index", None)


def query_forms(kb, question: str) -> QueryForms:
    """The forms ``kb.search`` computes for ``question`` (same vocabulary, same lexicon)."""
    index = _search_index(kb)
    vocabulary: Vocabulary | None = None
    if index is not None and getattr(index, "clauses", None):
        vocabulary = index.vocabulary()
    return expand_query(question, vocabulary)


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


def term_stats(kb) -> TermStats:
    index = _search_index(kb)
    retriever = getattr(getattr(index, "keywords", None), "retriever", None)
    if retriever is None:
        return TermStats(0, lambda word: 0)
    with _lock:
        stats = _stats.get(index)
        if stats is None:
            vocab = retriever.vocab_dict
            indptr = retriever.scores["indptr"]

            def df_of(word: str) -> int:
                i = vocab.get(word)
                return 0 if i is None else int(indptr[i + 1] - indptr[i])

            stats = TermStats(int(retriever.scores["num_docs"]), df_of)
            _stats[index] = stats
    return stats
