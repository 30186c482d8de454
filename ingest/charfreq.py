"""How common a Chinese character is, from jieba's word-frequency dictionary.

Used to spot mojibake (garbage characters are rare ones) without a hand-made list.
"""

from __future__ import annotations

import functools
import os
from collections import Counter

import jieba
import numpy as np

from policykb.ingest.text import is_cjk, to_simplified

RARE_BELOW = 1000  # summed word frequency; 叭 ≈ 945, 趣 ≈ 8700, 軇 = 0


def char_frequencies() -> Counter[str]:
    """Each character's summed word frequency in jieba's dictionary (cached; do not mutate)."""
    return _table()


def _table() -> Counter[str]:
    return _dictionary()[0]


@functools.cache
def _dictionary() -> tuple[Counter[str], frozenset[str]]:
    """Each character's summed word frequency, and the set of words, from one read of jieba's dictionary.

    Σ count × occurrences over the words is summed by numpy (bincount): a Python loop over every character
    of 349,000 words took ~1 s, paid by the first notice ingested in a process."""
    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    words: list[str] = []
    counts: list[int] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            word, count = line.split(" ", 2)[:2]
            words.append(word)
            counts.append(int(count))
    codes = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32)
    weights = np.repeat(np.asarray(counts, dtype=np.float64), [len(w) for w in words])
    sums = np.bincount(codes, weights=weights)  # exact: the counts sum to ~6e7, far below 2**53
    seen = np.flatnonzero(np.bincount(codes))
    table = Counter(dict(zip(map(chr, seen.tolist()), sums[seen].astype(np.int64).tolist())))
    return table, frozenset(words)


def char_freq(ch: str) -> int:
    table = _table()
    # jieba lists a few Traditional characters with tiny counts: take the Simplified form's too.
    return max(table.get(ch, 0), table.get(to_simplified(ch), 0))


def is_rare_cjk(ch: str) -> bool:
    return is_cjk(ch) and char_freq(ch) < RARE_BELOW


@functools.cache
def is_word(text: str) -> bool:
    """True if jieba's dictionary knows `text` as a word (统一 yes, 选一 no)."""
    return text in _words()


def _words() -> frozenset[str]:
    return _dictionary()[1]
