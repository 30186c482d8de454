"""Chinese text in one place: character classes, Traditional → Simplified, the patterns cleaning removes,
sentences, and the keys every stage compares text by.

Stored and cited text is never changed by a key (RELIABILITY 18). What each name folds:

    name             t2s  radicals  NFKC  case       whitespace        also
    display_text     yes  yes       no    kept       kept              the clause text that is quoted
    search_key       yes  yes       yes   lower      collapsed         invisibles dropped, CJK gaps closed
    comparison_key   yes  yes       yes   optional   dropped           only letters, digits, CJK, '.'
    evidence_key     yes  no        no    kept       dropped           the evaluation's rule
    compact_key      yes  no        no    kept       dropped           headings ("第 一 章 總則")
    match_key        yes  no        no    lower      kept              highlighting (length kept)

>>> display_text("为⼈⺠服务，電子商務")  # Kangxi ⼈ U+2F08 and supplement ⺠ U+2EA0 from a PDF text layer
'为人民服务，电子商务'
>>> search_key("⼈民\u200b法院 電子商務 ＡＢＣ")  # spaces between CJK characters are layout debris
'人民法院电子商务 abc'
>>> comparison_key("攔截了超300萬件(fèi)劣質商品。")
'拦截了超300万件劣质商品'
>>> [s.text for s in split_sentences("一、 简介\\n平台不收取费用。企业自愿参加；“报名”免费！")]
['一、 简介', '平台不收取费用。', '企业自愿参加；', '“报名”免费！']
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import opencc

# -- character classes ------------------------------------------------------------------------------------

# Han ideographs of the Basic Multilingual Plane, as a regex class body: Extension A, the Unified block,
# compatibility ideographs. The class of the cleaning, search-key, query and quote patterns.
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Only the Unified block: patterns whose matches become identifiers or metadata (doc ids, issuers, regions).
CJK_UNIFIED = r"\u4e00-\u9fff"
# Extensions B–G on the supplementary planes: ``is_cjk`` counts them, the patterns above do not.
CJK_SUPPLEMENTARY = r"\U00020000-\U0003134f"
CJK_CHAR = re.compile(f"[{CJK}]")
_ANY_CJK = re.compile(f"[{CJK}{CJK_SUPPLEMENTARY}]")


def is_cjk(ch: str) -> bool:
    """Whether ``ch`` is one Han ideograph (BMP or supplementary planes); ``""`` is not."""
    return _ANY_CJK.fullmatch(ch) is not None


# -- Traditional → Simplified ----------------------------------------------------------------------------


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """OpenCC ``t2s`` (phrase-aware; RELIABILITY 16). Never ``tw2sp``: it rewrites legal wording
    (行政程序→行政进程, 執行→运行).

    >>> to_simplified("乾隆 乾燥 瞭解 執行 行政程序")
    '乾隆 干燥 了解 执行 行政程序'
    """
    if not text:
        return text
    if len(text) > _CACHED_CHARS:
        long: str = _t2s().convert(text)
        return long
    converted = _converted.get(text)
    if converted is None:
        if len(_converted) >= _CACHE_SIZE:
            _converted.clear()
        converted = _converted[text] = _t2s().convert(text)
    return converted


# Ingest converts the same line several times (cleaning's debris check, metadata, layout, the clause text).
_CACHED_CHARS = 1000
_CACHE_SIZE = 16384
_converted: dict[str, str] = {}


def convert_ahead(texts: Iterable[str]) -> None:
    """Convert the texts ``to_simplified`` has not seen yet in one call to OpenCC, and remember them: a
    call costs about as much as converting a line, and ingest converts every line and every clause.

    One call over the texts joined by line breaks gives each text's own conversion: no entry of OpenCC's
    dictionaries holds a line break, so no phrase is matched across one.
    """
    todo = list(dict.fromkeys(t for t in texts if t and len(t) <= _CACHED_CHARS and t not in _converted))
    if not todo:
        return
    todo = todo[:_CACHE_SIZE]
    if len(_converted) + len(todo) > _CACHE_SIZE:
        _converted.clear()
    lines = _t2s().convert("\n".join(todo)).split("\n")
    if len(lines) != sum(t.count("\n") + 1 for t in todo):
        return  # never seen; ``to_simplified`` converts them one by one
    i = 0
    for text in todo:
        n = text.count("\n") + 1
        _converted[text] = "\n".join(lines[i : i + n])
        i += n


def forget_conversions() -> None:
    """Empty ``to_simplified``'s cache (ingest does, per document)."""
    _converted.clear()


# -- radicals and compatibility ideographs ------------------------------------------------------------------

# CJK Radicals Supplement (U+2E80–2EFF) → the ideograph it looks like: NFKC leaves this block alone, so
# PDF text layers that emit ⺠ for 民 need a table. From the Unicode Character Database,
# EquivalentUnifiedIdeograph.txt (15.1.0), lines U+2E81–2EF3 (U+2E80 and U+2E9A have no entry), except
# ⺮ U+2EAE: Unicode gives the component 𥫗 U+25AD7; we keep 竹, which the search key has always used.
_SUPPLEMENT = {
    0x2E81: 0x5382,
    0x2E82: 0x4E5B,
    0x2E83: 0x4E5A,
    0x2E84: 0x4E59,
    0x2E85: 0x4EBB,
    0x2E86: 0x5182,
    0x2E87: 0x20628,
    0x2E88: 0x5200,
    0x2E89: 0x5202,
    0x2E8A: 0x535C,
    0x2E8B: 0x353E,
    0x2E8C: 0x5C0F,
    0x2E8D: 0x5C0F,
    0x2E8E: 0x5140,
    0x2E8F: 0x5C23,
    0x2E90: 0x5C22,
    0x2E91: 0x21BC2,
    0x2E92: 0x5DF3,
    0x2E93: 0x5E7A,
    0x2E94: 0x5F51,
    0x2E95: 0x2B739,
    0x2E96: 0x5FC4,
    0x2E97: 0x5FC3,
    0x2E98: 0x624C,
    0x2E99: 0x6535,
    0x2E9B: 0x65E1,
    0x2E9C: 0x65E5,
    0x2E9D: 0x6708,
    0x2E9E: 0x6B7A,
    0x2E9F: 0x6BCD,
    0x2EA0: 0x6C11,
    0x2EA1: 0x6C35,
    0x2EA2: 0x6C3A,
    0x2EA3: 0x706C,
    0x2EA4: 0x722B,
    0x2EA5: 0x722B,
    0x2EA6: 0x4E2C,
    0x2EA7: 0x725B,
    0x2EA8: 0x72AD,
    0x2EA9: 0x738B,
    0x2EAA: 0x24D14,
    0x2EAB: 0x76EE,
    0x2EAC: 0x793A,
    0x2EAD: 0x793B,
    0x2EAE: 0x7AF9,
    0x2EAF: 0x7CF9,
    0x2EB0: 0x7E9F,
    0x2EB1: 0x7F53,
    0x2EB2: 0x7F52,
    0x2EB3: 0x34C1,
    0x2EB4: 0x5197,
    0x2EB5: 0x2626B,
    0x2EB6: 0x7F8A,
    0x2EB7: 0x2634C,
    0x2EB8: 0x2634B,
    0x2EB9: 0x8002,
    0x2EBA: 0x8080,
    0x2EBB: 0x807F,
    0x2EBC: 0x8089,
    0x2EBD: 0x26951,
    0x2EBE: 0x8279,
    0x2EBF: 0x8279,
    0x2EC0: 0x8279,
    0x2EC1: 0x864E,
    0x2EC2: 0x8864,
    0x2EC3: 0x8980,
    0x2EC4: 0x897F,
    0x2EC5: 0x89C1,
    0x2EC6: 0x89D2,
    0x2EC7: 0x278B2,
    0x2EC8: 0x8BA0,
    0x2EC9: 0x8D1D,
    0x2ECA: 0x27FB7,
    0x2ECB: 0x8F66,
    0x2ECC: 0x8FB6,
    0x2ECD: 0x8FB6,
    0x2ECE: 0x8FB6,
    0x2ECF: 0x9091,
    0x2ED0: 0x9485,
    0x2ED1: 0x9577,
    0x2ED2: 0x9578,
    0x2ED3: 0x957F,
    0x2ED4: 0x95E8,
    0x2ED5: 0x28E0F,
    0x2ED6: 0x961D,
    0x2ED7: 0x96E8,
    0x2ED8: 0x9752,
    0x2ED9: 0x97E6,
    0x2EDA: 0x9875,
    0x2EDB: 0x98CE,
    0x2EDC: 0x98DE,
    0x2EDD: 0x98DF,
    0x2EDE: 0x2967F,
    0x2EDF: 0x98E0,
    0x2EE0: 0x9963,
    0x2EE1: 0x29810,
    0x2EE2: 0x9A6C,
    0x2EE3: 0x9AA8,
    0x2EE4: 0x9B3C,
    0x2EE5: 0x9C7C,
    0x2EE6: 0x9E1F,
    0x2EE7: 0x5364,
    0x2EE8: 0x9EA6,
    0x2EE9: 0x9EC4,
    0x2EEA: 0x9EFE,
    0x2EEB: 0x6589,
    0x2EEC: 0x9F50,
    0x2EED: 0x6B6F,
    0x2EEE: 0x9F7F,
    0x2EEF: 0x7ADC,
    0x2EF0: 0x9F99,
    0x2EF1: 0x9F9C,
    0x2EF2: 0x4E80,
    0x2EF3: 0x9F9F,
}


def _ideograph_table() -> dict[int, str]:
    # Kangxi Radicals (U+2F00–2FDF) and compatibility ideographs (U+F900–FAFF) fold with NFKC.
    table = {
        o: folded
        for block in (range(0x2F00, 0x2FE0), range(0xF900, 0xFB00))
        for o in block
        if len(folded := unicodedata.normalize("NFKC", chr(o))) == 1 and folded != chr(o)
    }
    return table | {o: chr(u) for o, u in _SUPPLEMENT.items()}


_IDEOGRAPHS = _ideograph_table()
# Any character the table maps: most texts have none, and a search for one is ~20× cheaper than translate.
_UNIFIABLE = re.compile("[" + "".join(map(chr, sorted(_IDEOGRAPHS))) + "]")


def unify_ideographs(text: str) -> str:
    """Kangxi radicals, CJK Radicals Supplement and compatibility ideographs → the ordinary ideograph
    (⼈ → 人, ⺠ → 民, 豈 U+F900 → 豈 U+8C48); one character for one, so positions are kept."""
    return text.translate(_IDEOGRAPHS) if _UNIFIABLE.search(text) else text


# -- patterns cleaning removes ------------------------------------------------------------------------------

TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# One pinyin syllable with a tone mark.
PINYIN = rf"[a-zü]*[{TONED}][a-zü]*"
# A pinyin annotation: 消費(fèi)者, and the toneless syllables the notices annotate too.
ANNOTATION = re.compile(rf"\((?:{PINYIN}|de|le|me|men|zi|ma|ne|ba|zhe)\)")
# An annotation follows the character it annotates: removed only after one (消費(fèi)者 → 消費者).
ANNOTATION_AFTER_CJK = re.compile(rf"(?<=[{CJK}]){ANNOTATION.pattern}")
# OCR reads a tone mark unreliably (guī as gui or guīi) and a bracket's width from the glyph: after a CJK
# character, OCR'd text takes a toned syllable, or a toneless pinyin-shaped one, in either bracket as an
# annotation. A toneless one has two letters at least, so a list item (a) is kept.
_TONES = {"a": "āáǎà", "e": "ēéěè", "i": "īíǐì", "o": "ōóǒò", "u": "ūúǔù", "ü": "ǖǘǚǜü"}
_FINALS = (
    "iang iong uang ang eng ing ong iao ian uai uan üan ai ei ui ao ou iu ie üe ue er an en in un ün ia ua uo"
)
_INITIAL = "(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])"


def _any_tone(final: str) -> str:
    return "".join(f"[{c}{_TONES[c]}]" if c in _TONES else c for c in final)


_OCR_SYLLABLE = (
    rf"(?:{_INITIAL}(?:{'|'.join(map(_any_tone, [*_FINALS.split(), *'aeiouü']))})"
    rf"|{'|'.join(map(_any_tone, _FINALS.split()))})"
)
OCR_ANNOTATION_AFTER_CJK = re.compile(rf"(?<=[{CJK}])[(（](?:{PINYIN}|{_OCR_SYLLABLE})[)）]")
# Mojibake: pieces of an annotation left where bytes were garbled ("?zāi)軇?").
ORPHAN_PINYIN = re.compile(rf"\(?{PINYIN}\)")
# The evidence rule's annotation: a toned syllable in ASCII brackets, any case.
_TONED_ANNOTATION = re.compile(rf"\({PINYIN}\)", re.IGNORECASE)
# The comparison key's: up to eight letters, toned or not, in ASCII or full-width brackets.
_BRACKETED_LETTERS = re.compile(rf"[(（][a-zA-Z{TONED}üÜ]{{1,8}}[)）]")


# -- sentences -----------------------------------------------------------------------------------------------

SENTENCE_END = "。！？；!?;"
CLOSING = "”’」』）)》〉】\"'"
# One sentence: everything up to an end mark and the closing quotes/brackets after it, or up to a line
# break (clause headings sit on their own line), or to the end.
SENTENCE = re.compile(rf"[^{SENTENCE_END}\n]*(?:[{SENTENCE_END}]+[{CLOSING}]*|\n|$)")
# "field：value" before a ；: a flattened table row's cell, not a sentence.
_FIELD = re.compile(r"^[^，。；,;:：\s]{1,8}[:：]")


@dataclass(frozen=True, slots=True)
class Span:
    """``text == clause_text[start:end]``, stripped of surrounding whitespace."""

    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Span]:
    """Sentences of ``text`` as spans, in order; blank pieces and bare punctuation dropped. Splitting
    never rewrites a character, so a quoted sentence is verbatim clause text.

    A flattened table row ("序号：4；时间：11月11日；项目：时尚清远专场") is one sentence: a ；after a
    "field：value" piece separates cells, not sentences.

    >>> [s.text for s in split_sentences("序号：4；时间：11月11日；项目：时尚清远专场")]
    ['序号：4；时间：11月11日；项目：时尚清远专场']
    """
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


def _pieces(text: str) -> list[Span]:
    out: list[Span] = []
    for m in SENTENCE.finditer(text):
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


@functools.lru_cache(maxsize=4096)
def cached_sentences(text: str) -> tuple[Span, ...]:
    return tuple(split_sentences(text))


# -- keys -----------------------------------------------------------------------------------------------------


def display_text(original: str) -> str:
    """The text a clause is quoted and searched by: radicals and compatibility ideographs (PDF artefacts)
    unified, then t2s. Nothing else changes: punctuation, width, case and spaces are the notice's own."""
    return to_simplified(unify_ideographs(original))


# Zero-width and invisible formatting characters that PDF/HTML extraction leaves inside words.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"), None
)
# Whitespace between two CJK characters is layout debris ("电 子 商 务"), never a word boundary.
_CJK_GAP = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")
_SPACES = re.compile(r"\s+")


def search_key(text: str) -> str:
    """The one normalisation applied to indexed text and to queries alike: invisible characters removed,
    NFKC (，（）① → ASCII), radicals unified, t2s, lower case, spaces between CJK removed, other runs of
    whitespace collapsed to one space."""
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE))
    text = to_simplified(unify_ideographs(text)).lower()
    text = _CJK_GAP.sub("", text)
    return _SPACES.sub(" ", text).strip()


def _keep(ch: str) -> bool:
    return ch == "." or ch.isalnum() or CJK_CHAR.match(ch) is not None


def comparison_key(text: str, *, lower: bool = False) -> str:
    """The key a quote is matched to its clause by: NFKC, radicals unified, t2s, short bracketed letters
    (``(fèi)``, ``（QQ）``) dropped, then only letters, digits, CJK and '.' kept — so a quote still matches
    after an LLM retyped punctuation, width or spacing (``lower`` also folds case).
    ``key_with_positions`` mirrors it character by character."""
    text = unify_ideographs(unicodedata.normalize("NFKC", text))
    text = _BRACKETED_LETTERS.sub("", to_simplified(text))
    key = "".join(ch for ch in text if _keep(ch))
    return key.lower() if lower else key


def key_with_positions(text: str) -> tuple[str, list[int]]:
    """``comparison_key(text, lower=True)`` of an already Simplified ``text`` and, for each key character,
    its index in ``text`` — to map a match in the key back to a verbatim span of ``text``."""
    masked = _BRACKETED_LETTERS.sub(lambda m: "\0" * len(m.group()), text)
    chars, pos = [], []
    for i, ch in enumerate(masked):
        if ch == "\0":
            continue
        for out in unify_ideographs(unicodedata.normalize("NFKC", ch)):
            if _keep(out):
                chars.append(out.lower())
                pos.append(i)
    return "".join(chars), pos


def _kept(ch: str) -> bool:
    # Letters (category L*, which includes CJK ideographs), decimal digits and '.'.
    return ch == "." or unicodedata.category(ch) in ("Lu", "Ll", "Lt", "Lm", "Lo", "Nd")


@functools.lru_cache(maxsize=65536)
def evidence_key(text: str) -> str:
    """The evidence rule of ``tests/data/eval/README.md``: t2s, pinyin annotations like ``(fèi)`` removed,
    then only letters, digits, CJK ideographs and '.' kept. A unit is a hit when its key contains an
    evidence key."""
    text = _TONED_ANNOTATION.sub("", to_simplified(text))
    return "".join(ch for ch in text if _kept(ch))


def compact_key(text: str) -> str:
    """t2s with every whitespace removed: the same heading written two ways ("第 一 章 總則" in a table of
    contents, "第一章 总则" in the body) has one key."""
    return _SPACES.sub("", to_simplified(text))


def match_key(text: str) -> str:
    """t2s and lower case, nothing else: nearly always as long as ``text``, so a term found in the key is
    a span of ``text`` (callers check the lengths) — for highlighting search terms."""
    return to_simplified(text).lower()
