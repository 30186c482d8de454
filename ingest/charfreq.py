"""How common a Chinese character is, from jieba's word-frequency dictionary.

Used to spot mojibake (garbage characters are rare ones) without a hand-made list.
"""

from __future__ import annotations

import functools
import os
from collections import Counter

import jieba

from policykb.ingest.text import is_cjk, to_simplified

RARE_BELOW = 1000  # summed word frequency; 叭 ≈ 945, 趣 ≈ 8700, 軇 = 0


def char_frequencies() -> Counter[str]:
    """Each character's summed word frequency in jieba's dictionary (cached; do not mutate)."""
    return _table()


@functools.cache
def _table() -> Counter[str]:
    freq: Counter[str] = Counter()
    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            word, count, *_ = line.split(" ")
            n = int(count)
            for ch in word:
                freq[ch] += n
    return freq


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
    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    with open(path, encoding="utf-8") as fh:
        return frozenset(line.split(" ", 1)[0] for line in fh)
