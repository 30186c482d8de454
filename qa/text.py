"""Sentences of a clause, the evidence rule, and the key quotes are checked with.

Answers quote clause text verbatim, so a sentence is a *span* of ``Clause.text``: splitting never
rewrites a character. Chinese sentences end at 。！？； (and their ASCII forms), or at a line break
(clause headings sit on their own line); closing quotes and brackets stay with their sentence.

>>> [s.text for s in split_sentences("一、 简介\\n平台不收取费用。企业自愿参加；“报名”免费！")]
['一、 简介', '平台不收取费用。', '企业自愿参加；', '“报名”免费！']
>>> [s.text for s in split_sentences("序号：4；时间：11月11日；项目：时尚清远专场")]
['序号：4；时间：11月11日；项目：时尚清远专场']
>>> comparison_key("攔截了超300萬件(fèi)劣質商品。")
'拦截了超300万件劣质商品'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from policykb.ingest.chinese import to_simplified

_END = "。！？；!?;"
_CLOSE = "”’」』）)》〉】\"'"
# One sentence: everything up to an end mark (plus closing quotes/brackets), or up to a line break.
_SENTENCE = re.compile(rf"[^{_END}\n]*(?:[{_END}]+[{_CLOSE}]*|\n|$)")
# Pinyin annotations the notices carry after a character: (fèi), （fèi）.
_PINYIN = re.compile(r"[(（][a-zA-ZāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüÜ]{1,8}[)）]")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_MARKER = re.compile(r"\s*\[(\d{1,3})\]")


@dataclass(frozen=True, slots=True)
class Span:
    """``text == clause_text[start:end]``, stripped of surrounding whitespace."""

    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Span]:
    """Sentences of ``text`` as spans, in order; blank pieces and bare punctuation dropped.

    A flattened table row ("序号：4；时间：11月11日；项目：时尚清远专场") is one sentence: a ；after a
    "field：value" piece separates cells, not sentences."""
    out: list[Span] = []
    for span in _pieces(text):
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.text.endswith(("；", ";"))
            and _FIELD.match(prev.text)
            and "\n" not in text[prev.end : span.start]
        ):
            out[-1] = Span(text[prev.start : span.end], prev.start, span.end)
        else:
            out.append(span)
    return out


_FIELD = re.compile(r"^[^，。；,;:：\s]{1,8}[:：]")


def _pieces(text: str) -> list[Span]:
    out: list[Span] = []
    for m in _SENTENCE.finditer(text):
        piece = m.group()
        if not piece:
            continue
        lead = len(piece) - len(piece.lstrip())
        body = piece.strip()
        if not body or not any(ch.isalnum() for ch in body):
            continue
        start = m.start() + lead
        out.append(Span(body, start, start + len(body)))
    return out


@lru_cache(maxsize=4096)
def cached_sentences(text: str) -> tuple[Span, ...]:
    return tuple(split_sentences(text))


# -- the evidence rule of tests/data/eval/README.md ----------------------------------------------------

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_TONED_PINYIN = re.compile(rf"\((?:[a-zü]*[{_TONED}][a-zü]*)\)", re.IGNORECASE)


def _kept(ch: str) -> bool:
    # Letters (category L*, which includes CJK ideographs), decimal digits and '.'.
    return ch == "." or unicodedata.category(ch) in ("Lu", "Ll", "Lt", "Lm", "Lo", "Nd")


@lru_cache(maxsize=65536)
def evidence_key(text: str) -> str:
    """The evidence rule: OpenCC t2s, pinyin annotations like ``(fèi)`` removed, then only letters,
    digits, CJK ideographs and '.' kept. A unit is a hit when its key contains an evidence key."""
    text = _TONED_PINYIN.sub("", to_simplified(text))
    return "".join(ch for ch in text if _kept(ch))


def is_hit(unit_text: str, evidence_keys: Sequence[str]) -> bool:
    key = evidence_key(unit_text)
    return any(e and e in key for e in evidence_keys)


# -- the quote key ----------------------------------------------------------------------------------

def _keep(ch: str) -> bool:
    return ch == "." or ch.isalnum() or bool(re.match(f"[{_CJK}]", ch))


def comparison_key(text: str, *, lower: bool = False) -> str:
    """The key quotes are matched by: like ``evidence_key``, and also NFKC-folded and with any short
    bracketed letters dropped, so a quote still matches its clause after an LLM retyped punctuation or
    width (``lower`` also folds case). ``key_with_positions`` mirrors it character by character."""
    text = _PINYIN.sub("", to_simplified(unicodedata.normalize("NFKC", text)))
    key = "".join(ch for ch in text if _keep(ch))
    return key.lower() if lower else key


def key_with_positions(text: str) -> tuple[str, list[int]]:
    """``comparison_key(text, lower=True)`` of an already Simplified ``text`` and, for each key character,
    its index in ``text`` — to map a match in the key back to a verbatim span of ``text``."""
    masked = _PINYIN.sub(lambda m: "\0" * len(m.group()), text)
    chars, pos = [], []
    for i, ch in enumerate(masked):
        if ch == "\0":
            continue
        for out in unicodedata.normalize("NFKC", ch):
            if _keep(out):
                chars.append(out.lower())
                pos.append(i)
    return "".join(chars), pos


def strip_markers(sentence: str) -> tuple[str, list[int]]:
    """``"……执行。[1][2]"`` → ``("……执行。", [1, 2])``."""
    found = [int(n) for n in _MARKER.findall(sentence)]
    return _MARKER.sub("", sentence).strip(), found
