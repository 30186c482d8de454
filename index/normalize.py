"""The search key: the one normalisation applied to indexed text and to queries alike.

Stored and cited text is never changed by this (RELIABILITY 18): NFKC turns ，（）① into ASCII,
which is right for matching and wrong for quoting.

>>> search_key("⼈民\u200b法院 電子商務 ＡＢＣ")  # spaces between CJK characters are layout debris
'人民法院电子商务 abc'
"""

from __future__ import annotations

import re
import unicodedata

from policykb.ingest.chinese import to_simplified

# Zero-width and invisible formatting characters that PDF/HTML extraction leaves inside words.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063"
                                    "\u2064\ufeff"), None)

# CJK Radicals Supplement code points that PDF text layers emit for ordinary characters. NFKC maps the
# Kangxi Radicals block (⼈ → 人) but leaves nearly all of these alone.
_RADICALS = str.maketrans({
    "⺠": "民", "⺧": "牛", "⺫": "目", "⺮": "竹", "⻄": "西", "⻅": "见", "⻆": "角", "⻈": "讠",
    "⻉": "贝", "⻋": "车", "⻌": "辶", "⻐": "钅", "⻓": "长", "⻔": "门", "⻖": "阝", "⻘": "青",
    "⻙": "韦", "⻚": "页", "⻛": "风", "⻜": "飞", "⻝": "食", "⻠": "饣", "⻢": "马", "⻣": "骨",
    "⻤": "鬼", "⻥": "鱼", "⻦": "鸟", "⻧": "卤", "⻨": "麦", "⻩": "黄", "⻪": "黾", "⻬": "齐",
    "⻮": "齿", "⻰": "龙",
})

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Whitespace between two CJK characters is layout debris ("电 子 商 务"), never a word boundary.
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")


def search_key(text: str) -> str:
    """NFKC, invisible characters removed, radicals unified, t2s, lower case, spaces collapsed."""
    text = text.translate(_INVISIBLE)
    text = unicodedata.normalize("NFKC", text).translate(_RADICALS)
    text = to_simplified(text).lower()
    text = _CJK_GAP.sub("", text)
    return _SPACES.sub(" ", text).strip()
