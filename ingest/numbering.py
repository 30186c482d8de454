"""Chinese numerals and the numbering markers Chinese notices use.

>>> cn_to_int("三十五"), cn_to_int("一百零二"), cn_to_int("两"), cn_to_int("35")
(35, 102, 2, 35)
>>> int_to_cn(35), int_to_cn(102), int_to_cn(10), int_to_cn(18)
('三十五', '一百零二', '十', '十八')
"""

from __future__ import annotations

import re

CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9, "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4,
             "伍": 5, "陆": 6, "陸": 6, "柒": 7, "捌": 8, "玖": 9}
CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CN_NUM = "零〇○一二两兩三四五六七八九十百千壹贰貳叁參肆伍陆陸柒捌玖拾佰仟"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def cn_to_int(s: str) -> int | None:
    """Chinese (or Arabic, or full-width) numeral → int; None if it is not a numeral."""
    s = s.strip()
    if not s:
        return None
    if s.isdecimal():
        return int(s)
    if len(s) == 1 and s in CIRCLED:
        return CIRCLED.index(s) + 1
    total, digit = 0, None
    for ch in s:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in CN_UNITS:
            total += (1 if digit is None else digit) * CN_UNITS[ch]
            digit = None
        else:
            return None
    return total + (digit or 0)


def int_to_cn(n: int) -> str:
    """int (0..9999) → Chinese numeral as written in legal text (十, 十八, 一百零二)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            if zero:
                out += "零"
            out += digits[d] + unit
            zero = False
        elif out:
            zero = True
    return out


def label_key(label: str) -> str:
    """A canonical key for a clause label, equal for every way of writing the same number.

    >>> label_key("第三十五条") == label_key("第35条") == label_key("第 35 條")
    True
    >>> label_key("（十二）") == label_key("(12)") , label_key("3.1.2"), label_key("第 7-1 條")
    (False, 'd:3.1.2', 'art:7-1')
    """
    s = re.sub(r"\s+", "", label).translate(str.maketrans("（）．、", "().,"))
    if m := re.fullmatch(r"第([0-9" + CN_NUM + r"]+)(?:-([0-9]+))?([条條章节節编編款项項])", s):
        kind = {"条": "art", "條": "art", "章": "chap", "节": "sec", "節": "sec", "编": "part", "編": "part",
                "款": "para", "项": "item", "項": "item"}[m.group(3)]
        n = cn_to_int(m.group(1))
        return f"{kind}:{n}" + (f"-{m.group(2)}" if m.group(2) else "")
    if m := re.fullmatch(r"\(([" + CN_NUM + r"]+)\)", s):
        return f"pcn:{cn_to_int(m.group(1))}"
    if m := re.fullmatch(r"\(([0-9]+)\)", s):
        return f"pn:{int(m.group(1))}"
    if m := re.fullmatch(r"([" + CN_NUM + r"]+)[,、]", s):
        return f"cn:{cn_to_int(m.group(1))}"
    if m := re.fullmatch(r"([0-9]+(?:\.[0-9]+)+)\.?", s):
        return f"d:{m.group(1)}"
    if m := re.fullmatch(r"([0-9]+)[.,、]?", s):
        return f"n:{int(m.group(1))}"
    if len(s) == 1 and s in CIRCLED:
        return f"c:{CIRCLED.index(s) + 1}"
    return f"raw:{s}"
