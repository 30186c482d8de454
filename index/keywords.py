"""BM25 over jieba tokens of each clause's search key.

bm25s's default token pattern is English (``\\w\\w+``) and would turn a whole Chinese clause into one
token, so documents and queries are segmented here and bm25s only ever sees token lists.

>>> tokenize("《电子商务法》的第三十五条")
['电子', '商务', '电子商务', '法', '第三', '三十', '十五', '五条', '第三十', '三十五', '十五条', '第三十五条']
"""

from __future__ import annotations

import logging
import marshal
import tempfile
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, overload

import numpy as np

from policykb.errors import ConfigError
from policykb.ingest.text import search_key
from policykb.tomlfile import read_toml, string_list

STOPWORDS_PATH = Path(__file__).resolve().parent / "data" / "stopwords.toml"


def load_stopwords(path: Path = STOPWORDS_PATH) -> dict[str, frozenset[str]]:
    """``{"search": …, "english": …}`` from ``path`` (see its header for what each list is for)."""
    data = read_toml(path, "the stop words", allowed={"search", "english"})
    out = {}
    for name in ("search", "english"):
        table = data.get(name, {})
        if not isinstance(table, dict) or set(table) != {"words"}:
            raise ConfigError(f'{path}: [{name}] must hold exactly words = ["…", …]')
        out[name] = frozenset(string_list(path, table["words"], f"[{name}] words"))
    return out


_STOPWORDS = load_stopwords()
STOPWORDS = _STOPWORDS["search"]  # function and question words: no evidence (BM25, question concepts)
ENGLISH_STOPWORDS = _STOPWORDS["english"]  # English words an English question is rendered without


def _is_noise(token: str) -> bool:
    if token in STOPWORDS:
        return True
    # Only punctuation, symbols or spaces (NFKC has already folded ，（）into ASCII).
    return all(unicodedata.category(ch)[0] in "PSZC" for ch in token)


@lru_cache(maxsize=1)
def _jieba() -> Any:
    """jieba's default tokenizer, initialised: the one the answerer and the app segment with too, so its
    dictionary is loaded once per process (nothing adds words to it)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    _load_jieba_cache(jieba.dt)
    jieba.dt.initialize()  # builds and caches the dictionary when the cache could not be read
    return jieba.dt


def _load_jieba_cache(dt: Any) -> None:
    """Read jieba's own cache of its default dictionary the way ``initialize`` would, but in one read:
    ``marshal.load`` on a file reads it in small pieces (1.5 s against 0.5 s under load, most of a
    warm start). Any problem leaves ``dt`` as it was, for ``initialize``."""
    if dt.initialized or dt.dictionary is not None or dt.cache_file:
        return  # not the default dictionary, or not jieba's default cache: jieba's own rules apply
    path = Path(dt.tmp_dir or tempfile.gettempdir()) / "jieba.cache"
    try:
        freq, total = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return
    if isinstance(freq, dict) and isinstance(total, int):
        with dt.lock:
            dt.FREQ, dt.total, dt.initialized = freq, total, True


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens of ``search_key(text)``, without punctuation and stopwords."""
    return [t for t in _jieba().cut_for_search(search_key(text)) if not _is_noise(t)]


def _cut_block(block: str) -> list[str]:
    return [t for t in _jieba().cut_for_search(block) if not _is_noise(t)]


class Segmenter:
    """``tokenize`` for a whole build, each distinct jieba block segmented once.

    jieba splits a text into blocks (runs of the characters it segments together: CJK, letters, digits,
    ``+#&._%-``, see ``jieba.re_han_default``) and segments each block on its own, so the tokens of a text
    are the concatenation of its blocks' tokens. Clauses repeat blocks: the title (up to its first
    bracket), a section heading after punctuation, the same text under another title. Cutting each
    distinct block once gives the very tokens ``tokenize`` gives. Title and section path are not cut
    apart from the clause text: ``search_key`` drops the line break between two CJK characters, so they
    are one block with it and jieba may place a word across the join.

    >>> seg = Segmenter()
    >>> seg("《电子商务法》的第三十五条") == tokenize("《电子商务法》的第三十五条")
    True
    """

    def __init__(self) -> None:
        self._cache: dict[str, list[str]] = {}

    def blocks(self, text: str) -> list[str]:
        """The jieba blocks of ``search_key(text)`` (non-empty; separators included)."""
        import jieba

        return [b for b in jieba.re_han_default.split(search_key(text)) if b]

    def missing(self, blocks: Iterable[str]) -> list[str]:
        """The distinct blocks among ``blocks`` not segmented yet."""
        return [b for b in dict.fromkeys(blocks) if b not in self._cache]

    def join(self, blocks: list[str]) -> list[str]:
        out: list[str] = []
        cache = self._cache
        for block in blocks:
            tokens = cache.get(block)
            if tokens is None:
                tokens = cache[block] = _cut_block(block)
            out.extend(tokens)
        return out

    def __call__(self, text: str) -> list[str]:
        return self.join(self.blocks(text))


def clause_search_text(title: str, section_path: tuple[str, ...], label: str, text: str) -> str:
    return "\n".join([title, *section_path, label, text])


class TokenRows(Sequence[list[str]]):
    """The token lists of a build's rows, each held as an array of int32 ids into one vocabulary: 4 bytes a
    token instead of a list's 8, and bm25s indexes the ids without converting every row again.

    >>> rows = TokenRows()
    >>> rows.append(["电子", "商务"]); rows.append(["商务"])
    >>> rows[1], len(rows), rows.vocab
    (['商务'], 2, {'电子': 0, '商务': 1})
    """

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.words: list[str] = []
        self.ids: list[array[int]] = []

    def append(self, tokens: list[str]) -> None:
        vocab, words = self.vocab, self.words
        row = array("i")
        for token in tokens:
            i = vocab.get(token)
            if i is None:
                i = vocab[token] = len(words)
                words.append(token)
            row.append(i)
        self.ids.append(row)

    def repeat(self, row: int) -> None:
        """Append the tokens of ``row`` again (the same array: rows are never changed)."""
        self.ids.append(self.ids[row])

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> list[str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[str]]: ...

    def __getitem__(self, index: int | slice) -> list[str] | list[list[str]]:
        words = self.words
        if isinstance(index, slice):
            return [[words[i] for i in row] for row in self.ids[index]]
        return [words[i] for i in self.ids[index]]


class KeywordIndex:
    """bm25s over pre-tokenised rows; row i is the i-th clause of the generation."""

    dirname = "bm25"

    def __init__(self, retriever: Any = None, n_rows: int = 0):
        self.retriever = retriever
        self.n_rows = n_rows

    @classmethod
    def build(cls, rows: Sequence[list[str]], k1: float = 1.5, b: float = 0.75) -> KeywordIndex:
        """bm25s over ``rows``; given as ``TokenRows``, their ids are indexed as they are (the same scores:
        BM25 depends on the counts of each token, not on which id it has)."""
        if not rows:
            return cls(None, 0)
        import bm25s
        from bm25s.tokenization import Tokenized

        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        if isinstance(rows, TokenRows):
            retriever.index(Tokenized(ids=rows.ids, vocab=dict(rows.vocab)), show_progress=False)
        else:
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
        # only the rows a query token occurs in are ranked (not every row: 6.5 ms a query at 1M clauses);
        # equal scores in row order
        top = np.flatnonzero(scores > 0)
        if len(top) > k:
            top = top[np.argpartition(-scores[top], k - 1)[:k]]
        top = top[np.lexsort((top, -scores[top]))]
        return [(int(i), float(scores[i])) for i in top]

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

        # Memory-mapped: the score matrix (most of the index: ~2 GB at 1M clauses) stays in the page cache,
        # shared between processes and read only where a query's tokens point.
        retriever = bm25s.BM25.load(str(directory), mmap=True, show_progress=False, verbosity=0)
        return cls(retriever, n_rows)

    @property
    def doc_count(self) -> int:
        """Rows the bm25s matrix holds (checked against the clause count on load)."""
        if self.retriever is None:
            return 0
        return int(self.retriever.scores["num_docs"])
