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


@functools.cache
def _table() -> Counter[str]:
    # Σ count × occurrences of each character over the dictionary's words, summed by numpy: a Python loop
    # over every character of 349,000 words took ~1 s, paid by the first notice ingested in a process.
    words, counts = _entries()
    chars = "".join(words)
    codes = np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32)
    weights = np.repeat(np.asarray(counts, dtype=np.float64), [len(w) for w in words])
    sums = np.bincount(codes, weights=weights)  # exact: the dictionary's counts sum to ~6e7, far below 2**53
    seen = np.flatnonzero(np.bincount(codes))
    return Counter(dict(zip(map(chr, seen.tolist()), sums[seen].astype(np.int64).tolist())))


@functools.cache
def _entries() -> tuple[list[str], list[int]]:
    """The words of jieba's dictionary and their counts, in file order."""
    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    if lines and not lines[-1]:
        lines.pop()  # the file ends with a line break
    fields = [line.split(" ", 2) for line in lines]
    return [f[0] for f in fields], [int(f[1]) for f in fields]


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


@functools.cache
def _words() -> frozenset[str]:
    return frozenset(_entries()[0])
