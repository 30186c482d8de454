"""Chinese numerals both ways (clause labels are keyed by ``policykb.index.references.label_key``).

>>> cn_to_int("三十五"), cn_to_int("一百零二"), cn_to_int("两"), cn_to_int("35")
(35, 102, 2, 35)
>>> int_to_cn(35), int_to_cn(102), int_to_cn(10), int_to_cn(18)
('三十五', '一百零二', '十', '十八')
"""

from __future__ import annotations

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "壹": 1,
    "贰": 2,
    "貳": 2,
    "叁": 3,
    "參": 3,
    "肆": 4,
    "伍": 5,
    "陆": 6,
    "陸": 6,
    "柒": 7,
    "捌": 8,
    "玖": 9,
}
UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
NUMERAL_CHARS = "".join(DIGITS) + "".join(UNITS) + "万"
_PLAIN = "零一二三四五六七八九"


def cn_to_int(text: str) -> int | None:
    """Arabic or Chinese numeral → int; ``None`` when ``text`` is not a numeral."""
    text = text.strip()
    if not text:
        return None
    if text.isdecimal():  # ASCII or full-width digits
        return int(text)
    if len(text) == 1 and text in CIRCLED:
        return CIRCLED.index(text) + 1
    if "万" in text:
        high, _, low = text.partition("万")
        high_n = cn_to_int(high) if high else 1
        low_n = cn_to_int(low) if low else 0
        return None if high_n is None or low_n is None else high_n * 10000 + low_n
    if len(text) > 1 and all(ch in DIGITS for ch in text):  # 一〇二: digit by digit
        return int("".join(str(DIGITS[ch]) for ch in text))
    total, digit = 0, None
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in UNITS:
            total += (1 if digit is None else digit) * UNITS[ch]
            digit = None
        else:
            return None
    return total + (digit or 0)


def int_to_cn(n: int) -> str:
    """int (0–99,999,999) → Chinese numeral as legal text writes it (十, 十八, 一百零二)."""
    if n < 0:
        raise ValueError(f"no Chinese numeral for negative {n}")
    if n >= 10000:
        high, low = divmod(n, 10000)
        if not low:
            return int_to_cn(high) + "万"
        tail = _below_10k(low)
        return (
            int_to_cn(high) + "万" + ("零" if low < 1000 else "") + ("一" + tail if 10 <= low < 20 else tail)
        )
    return _below_10k(n)


def _below_10k(n: int) -> str:
    if n < 10:
        return _PLAIN[n]
    if n < 20:
        return "十" + (_PLAIN[n % 10] if n % 10 else "")
    out, gap = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            out += ("零" if gap else "") + _PLAIN[d] + unit
            gap = False
        elif out:
            gap = True
    return out


CN_NUM = NUMERAL_CHARS + "貳參陸兩"
