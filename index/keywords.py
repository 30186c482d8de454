"""BM25 over jieba tokens of each clause's search key.

bm25s's default token pattern is English (``\\w\\w+``) and would turn a whole Chinese clause into one
token, so documents and queries are segmented here and bm25s only ever sees token lists.

>>> tokenize("《电子商务法》的第三十五条")
['电子', '商务', '电子商务', '法', '第三', '三十', '十五', '五条', '第三十', '三十五', '十五条', '第三十五条']
"""

from __future__ import annotations

import itertools
import json
import logging
import marshal
import math
import tempfile
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, cast, overload

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
        self._encoded: list[str] = []  # JSON of words[i] (``json_line``)

    def append(self, tokens: list[str]) -> None:
        vocab, words = self.vocab, self.words
        ids = list(map(vocab.get, tokens))  # every token known: the common case, looked up in one C loop
        if None in ids:
            for at, token in enumerate(tokens):
                i = vocab.get(token)
                if i is None:
                    i = vocab[token] = len(words)
                    words.append(token)
                ids[at] = i
        self.ids.append(array("i", cast(list[int], ids)))  # no None is left

    def json_line(self, row: int) -> str:
        """``json.dumps(self[row], ensure_ascii=False)``, joined from each word's JSON, encoded once."""
        encoded = self._encoded
        for word in self.words[len(encoded) :]:
            encoded.append(json.dumps(word, ensure_ascii=False))
        return "[" + ", ".join([encoded[i] for i in self.ids[row]]) + "]"

    def repeat(self, row: int) -> None:
        """Append the tokens of ``row`` again (the same array: rows are never changed)."""
        self.ids.append(self.ids[row])

    @classmethod
    def extending(cls, base: TokenRows) -> TokenRows:
        """No rows yet, and ``base``'s vocabulary: a row of ``base`` can be appended as it is (``reuse``)."""
        rows = cls()
        rows.vocab, rows.words = dict(base.vocab), list(base.words)
        return rows

    def reuse(self, base: TokenRows, row: int) -> None:
        """Append ``base``'s row ``row`` (the same array), ``base`` being what this extends."""
        self.ids.append(base.ids[row])

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


SCORE_CHUNK = 16_384  # rows whose (token, row) pairs are sorted at once while the score matrix is built


def _pairs(
    rows: Sequence[Any], start: int, lengths: np.ndarray, n_vocab: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(token ids, row numbers, term counts) of the distinct (token, row) pairs of ``SCORE_CHUNK`` rows
    from ``start``, sorted by token, then row: a stable sort by token keeps each token's rows in order (a
    radix sort while the ids fit in 16 bits), and a row's repeats of a token are then neighbours."""
    part = rows[start : start + SCORE_CHUNK]
    n = len(part)
    total = int(lengths[start : start + n].sum())
    if not total:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    if isinstance(part[0], array):  # TokenRows' int32 arrays: their bytes joined, not one array each
        tokens = np.frombuffer(b"".join(part), dtype=np.int32)
    else:
        tokens = np.fromiter(itertools.chain.from_iterable(part), np.int32, total)
    order = np.argsort(tokens.astype(np.uint16 if n_vocab <= 1 << 16 else np.int32), kind="stable")
    tokens = tokens[order].astype(np.int64)
    docs = np.repeat(np.arange(start, start + n, dtype=np.int64), lengths[start : start + n])[order]
    first = np.flatnonzero(np.r_[True, (tokens[1:] != tokens[:-1]) | (docs[1:] != docs[:-1])])
    return tokens[first], docs[first], np.diff(np.r_[first, total])


def lucene_scores(rows: Sequence[Any], n_vocab: int, k1: float, b: float) -> dict[str, Any]:
    """bm25s's score matrix for ``rows`` (lists or arrays of token ids below ``n_vocab``), method "lucene",
    built as bm25s builds it (the same float32 scores, column by column in row order) but from sorted
    (token, row) pairs a chunk of rows at a time, straight into the CSC arrays: bm25s holds three arrays of
    every pair and scipy's copies of them (2 GB at 1M clauses, the build's peak) and scores row by row in
    Python. Two passes: the document frequencies, then the scores."""
    n_docs = len(rows)
    lengths = np.fromiter(map(len, rows), np.int64, n_docs)
    avg_doc_len = lengths.mean()  # as bm25s: the mean of the row lengths
    df = np.zeros(n_vocab, np.int64)
    for start in range(0, n_docs, SCORE_CHUNK):
        df += np.bincount(_pairs(rows, start, lengths, n_vocab)[0], minlength=n_vocab)
    idf = np.zeros(n_vocab, np.float32)  # bm25s: math.log per token, stored as float32
    for token in np.flatnonzero(df).tolist():
        idf[token] = math.log(1 + (n_docs - int(df[token]) + 0.5) / (int(df[token]) + 0.5))
    nnz = int(df.sum())
    index_dtype = np.int32 if max(nnz, n_docs) < 2**31 else np.int64  # the dtypes scipy gives bm25s
    indptr = np.zeros(n_vocab + 1, np.int64)
    np.cumsum(df, out=indptr[1:])
    data = np.empty(nnz, np.float32)
    indices = np.empty(nnz, index_dtype)
    filled = indptr[:-1].copy()  # the next free place of each token's column
    for start in range(0, n_docs, SCORE_CHUNK):
        tokens, docs, tf = _pairs(rows, start, lengths, n_vocab)
        if not len(tokens):
            continue
        first = np.flatnonzero(np.r_[True, tokens[1:] != tokens[:-1]])
        runs = np.diff(np.r_[first, len(tokens)])
        place = filled[tokens] + np.arange(len(tokens)) - np.repeat(first, runs)
        filled[tokens[first]] += runs
        tf_f = tf.astype(np.float32).astype(np.float64)  # bm25s: float32 counts, float64 arithmetic
        tfc = tf_f / (k1 * ((1 - b) + b * lengths[docs] / avg_doc_len) + tf_f)
        data[place] = (idf[tokens].astype(np.float64) * tfc).astype(np.float32)
        indices[place] = docs
    return {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}


@lru_cache(maxsize=1)
def _lean_bm25() -> type[Any]:
    """bm25s.BM25 with its score matrix built by ``lucene_scores`` (bm25s names ``build_index_from_ids``
    as the method to override to build the index another way)."""
    import bm25s

    class LeanBM25(bm25s.BM25):  # type: ignore[misc]
        def build_index_from_ids(
            self,
            unique_token_ids: list[int],
            corpus_token_ids: Sequence[Any],
            show_progress: bool = True,
            leave_progress: bool = False,
        ) -> dict[str, Any]:
            self.nonoccurrence_array = None  # as bm25s sets it for "lucene", which has none
            return lucene_scores(corpus_token_ids, len(unique_token_ids), self.k1, self.b)

    return LeanBM25


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
        from bm25s.tokenization import Tokenized

        retriever = _lean_bm25()(k1=k1, b=b, method="lucene")
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
