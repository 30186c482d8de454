"""BM25 over jieba tokens of each clause's search key.

bm25s's default token pattern is English (``\\w\\w+``) and would turn a whole Chinese clause into one
token, so documents and queries are segmented here and bm25s only ever sees token lists.

>>> tokenize("《电子商务法》的第三十五条")
['电子', '商务', '电子商务', '法', '第三', '三十', '十五', '五条', '第三十', '三十五', '十五条', '第三十五条']
"""

from __future__ import annotations

import logging
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from policykb.ingest.text import search_key

# Function words and question words: frequent in questions, useless as evidence.
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "在",
        "是",
        "为",
        "对",
        "等",
        "之",
        "其",
        "该",
        "以",
        "于",
        "由",
        "将",
        "被",
        "把",
        "并",
        "而",
        "且",
        "也",
        "都",
        "就",
        "个",
        "这",
        "那",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "什么",
        "如何",
        "怎么",
        "怎样",
        "哪些",
        "哪个",
        "哪里",
        "多少",
        "是否",
        "请问",
        "一下",
        "我",
        "我们",
        "你",
        "你们",
        "他们",
        "它",
        "有关",
        "关于",
        "内容",
        "问题",
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "was",
        "be",
        "what",
        "which",
        "how",
        "does",
        "do",
    ]
)


def _is_noise(token: str) -> bool:
    if token in STOPWORDS:
        return True
    # Only punctuation, symbols or spaces (NFKC has already folded ，（）into ASCII).
    return all(unicodedata.category(ch)[0] in "PSZC" for ch in token)


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens of ``search_key(text)``, without punctuation and stopwords."""
    return [t for t in _jieba().cut_for_search(search_key(text)) if not _is_noise(t)]


def clause_search_text(title: str, section_path: tuple[str, ...], label: str, text: str) -> str:
    return "\n".join([title, *section_path, label, text])


class KeywordIndex:
    """bm25s over pre-tokenised rows; row i is the i-th clause of the generation."""

    dirname = "bm25"

    def __init__(self, retriever: Any = None, n_rows: int = 0):
        self.retriever = retriever
        self.n_rows = n_rows

    @classmethod
    def build(cls, rows: list[list[str]], k1: float = 1.5, b: float = 0.75) -> KeywordIndex:
        if not rows:
            return cls(None, 0)
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        retriever.index(rows, show_progress=False)
        return cls(retriever, len(rows))

    def search(self, tokens: list[str], k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (row, score) with score > 0; rows outside ``mask`` are never returned."""
        if self.retriever is None or not tokens:
            return []
        vocab = self.retriever.vocab_dict
        known = [t for t in dict.fromkeys(tokens) if t in vocab]
        if not known:
            return []
        scores = self.retriever.get_scores(known)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def document_frequency(self, token: str) -> int:
        """Rows whose tokens include ``token`` (0 for a token the index never saw)."""
        if self.retriever is None:
            return 0
        i = self.retriever.vocab_dict.get(token)
        if i is None:
            return 0
        indptr = self.retriever.scores["indptr"]
        return int(indptr[i + 1] - indptr[i])

    def save(self, directory: Path) -> None:
        if self.retriever is not None:
            self.retriever.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, n_rows: int) -> KeywordIndex:
        if n_rows == 0:
            return cls(None, 0)
        import bm25s

        retriever = bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
        return cls(retriever, n_rows)

    @property
    def doc_count(self) -> int:
        """Rows the bm25s matrix holds (checked against the clause count on load)."""
        if self.retriever is None:
            return 0
        return int(self.retriever.scores["num_docs"])
