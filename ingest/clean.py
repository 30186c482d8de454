"""Cleaning: remove what is not the notice, keep a map back to the source characters.

Site debris (breadcrumbs, view counters, comment prompts, ads), pinyin annotations
(``消費(fèi)者``) and mojibake spans (``?zāi)軇?``) are removed and each removal is
reported; spaces inside letter-spaced CJK (``深 圳 市``) and zero-width characters are
dropped. Nothing is converted to Simplified here: that happens after lines are joined.

>>> c = clean("幕思城>電商行情>抖音小店\\n消費(fèi)者體驗(yàn)\\n深 圳 市 商 务 局")
>>> [l.text for l in c.lines], sorted({r.reason for r in c.removals})
(['', '消費者體驗', '深圳市商务局'], ['breadcrumb', 'pinyin annotation'])
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from policykb.ingest.charfreq import is_rare_cjk
from policykb.ingest.mtext import MText
from policykb.ingest.text import (
    ANNOTATION,
    ANNOTATION_AFTER_CJK,
    CJK,
    OCR_ANNOTATION_AFTER_CJK,
    ORPHAN_PINYIN,
    convert_ahead,
    is_cjk,
    to_simplified,
)

RULES_FILE = Path(__file__).with_name("cleaning.toml")

# Emphasis around a heading or phrase (**一、报名时间**, <strong>二、</strong>): markup, not text; removed so the
# marker under it opens its line and no debris rule mistakes the tag for navigation.
EMPHASIS = re.compile(r"\*\*|</?(?:strong|b|em)\s*>", re.IGNORECASE)
ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Letter-spaced CJK ("深 圳 市 商 务 局", "第 一 章"): three or more single characters apart.
LETTER_SPACED = re.compile(rf"(?<![{CJK}])[{CJK}](?:[ \u3000]+[{CJK}](?![{CJK}])){{2,}}")
SPACES = re.compile(r"[ \u3000]+")


def _orphan_pinyin_end(text: str, j: int) -> int | None:
    """End of a broken annotation at j: "zāi)" (no opening bracket) or "(fèi)" after a non-CJK."""
    m = ORPHAN_PINYIN.match(text, j)
    if not m:
        return None
    opened = text[j] == "("
    if opened and j and is_cjk(text[j - 1]):
        return None  # an ordinary annotation: 競(jìng)
    if not opened and j and text[j - 1] == "(":
        return None
    return m.end()


@dataclass(frozen=True, slots=True)
class Removal:
    reason: str
    start: int  # source span of the removed characters
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Cleaned:
    lines: list[MText]  # one per source line; a removed line is an empty MText
    removals: list[Removal]


@dataclass(frozen=True)
class Rules:
    debris: tuple[tuple[str, re.Pattern[str]], ...]
    leading_words: tuple[str, ...]
    min_line_chars: int

    @classmethod
    def load(cls, path: Path = RULES_FILE) -> Rules:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        debris = tuple((r["name"], re.compile(r["pattern"])) for r in data.get("debris_line", []))
        sections = data.get("sections", {})
        words = sorted(sections.get("leading_words", []), key=len, reverse=True)
        return cls(debris, tuple(words), int(sections.get("min_line_chars", 60)))


@functools.cache
def default_rules() -> Rules:
    return Rules.load()


def clean(text: str, rules: Rules | None = None, *, ocr: bool = False) -> Cleaned:
    """``ocr``: the text was read from page images, so a pinyin annotation may have lost its tone marks
    or come with full-width brackets (``規(gui)則``, ``費（fèi）``)."""
    rules = rules or default_rules()
    m = MText.of(text).sub(ZERO_WIDTH)
    removals: list[Removal] = []
    annotation = OCR_ANNOTATION_AFTER_CJK if ocr else ANNOTATION_AFTER_CJK
    raw = list(m.lines())
    convert_ahead(line.text.strip() for line in raw)  # the debris check's Simplified shadows, at once
    lines = [_clean_line(line, rules, removals, annotation) for line in raw]
    return Cleaned(lines, removals)


def _clean_line(line: MText, rules: Rules, removals: list[Removal], annotation: re.Pattern[str]) -> MText:
    # Each pass only runs on a line holding a character its pattern needs (the passes only delete, so they
    # never bring one in): most lines have no "**", "?", "(" or letter spacing, and the regexes were most of
    # cleaning's time.
    if "*" in line.text or "<" in line.text:
        spans = [(e.start(), e.end()) for e in EMPHASIS.finditer(line.text)]
        line = _remove_spans(line, spans, "emphasis markup", removals)
    if "?" in line.text:
        line = _remove_spans(line, mojibake_spans(line.text), "mojibake", removals)
    if "(" in line.text or (annotation is OCR_ANNOTATION_AFTER_CJK and "（" in line.text):
        spans = [(a.start(), a.end()) for a in annotation.finditer(line.text)]
        line = _remove_spans(line, spans, "pinyin annotation", removals)
    stripped = line.strip()
    if stripped.text:
        shadow = to_simplified(stripped.text)
        for name, pattern in rules.debris:
            if pattern.search(shadow):
                removals.append(_removal(name, stripped, 0, len(stripped)))
                return line[0:0]
    if " " not in line.text and "\u3000" not in line.text:
        return line
    return line.replace(
        (m.start(), m.end(), SPACES.sub("", m.group(0))) for m in LETTER_SPACED.finditer(line.text)
    )


def _remove_spans(line: MText, spans: list[tuple[int, int]], reason: str, removals: list[Removal]) -> MText:
    for s, e in spans:
        removals.append(_removal(reason, line, s, e))
    return line.delete(spans) if spans else line


def _removal(reason: str, line: MText, s: int, e: int) -> Removal:
    start, end = line.span(s, e)
    return Removal(reason, start, end, line.text[s:e])


def mojibake_spans(text: str, max_gap: int = 3) -> list[tuple[int, int]]:
    """Spans of garbled text: an ASCII '?' inside CJK text, extended over the suspicious
    characters after it (orphan pinyin pieces, rare CJK, stray Latin letters, '?', '!')
    while no more than `max_gap` ordinary characters separate them.

    >>> t = "好體驗(yàn)?zāi)軇?(chuàng)造核心"
    >>> [t[s:e] for s, e in mojibake_spans(t)]
    ['?zāi)軇?(chuàng)']
    """
    spans: list[tuple[int, int]] = []
    i = 0
    while (q := text.find("?", i)) >= 0:
        if not _in_cjk_context(text, q):
            i = q + 1
            continue
        end = q + 1
        j, gap = q + 1, 0
        while j < len(text) and gap <= max_gap:
            if (legit := ANNOTATION.match(text, j)) and j and is_cjk(text[j - 1]):
                j = legit.end()  # an ordinary annotation belongs to the character before it
            elif (stop := _orphan_pinyin_end(text, j)) is not None:
                j = end = stop
                gap = 0
            elif _suspicious(text, j):
                j = end = j + 1
                gap = 0
            else:
                j += 1
                gap += 1
        if end > q + 1:  # a lone '?' is an ASCII question mark, not garbage
            spans.append((q, end))
        i = end
    return spans


def _in_cjk_context(text: str, q: int) -> bool:
    before = text[q - 1] if q else ""
    after = text[q + 1] if q + 1 < len(text) else ""
    return is_cjk(before) or is_cjk(after) or before in "”）)" or (after.isalpha() and after.islower())


def _suspicious(text: str, j: int) -> bool:
    ch = text[j]
    if unicodedata.category(ch) == "Co":  # private use: never in a real notice
        return True
    if ch in "?!；;":
        return text[j - 1] in "?!" or ch == "?"
    if ch.isascii() and ch.isalpha():
        return is_cjk(text[j - 1]) or (j + 1 < len(text) and text[j + 1] == "(")
    return is_rare_cjk(ch)
