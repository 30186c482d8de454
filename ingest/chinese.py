"""Traditional → Simplified, in one place: OpenCC ``t2s`` (phrase-aware; RELIABILITY 16).

Never ``tw2sp``: it rewrites legal wording (行政程序→行政进程, 執行→运行).

>>> to_simplified("乾隆 乾燥 瞭解 執行 行政程序")
'乾隆 干燥 了解 执行 行政程序'
"""

from __future__ import annotations

import functools

import opencc


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text) if text else text
