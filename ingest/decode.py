"""Bytes → text for .txt / .md / .html: the codec is chosen by *scoring* the decoded text.

Charset detectors guess from byte statistics, and short GBK texts fool them; Big5 bytes even decode
as GB18030 without an error, into garbage (RELIABILITY 13). So every candidate codec that decodes
the bytes strictly is scored by how much the result looks like ordinary Chinese, and the best wins.

>>> d = decode_text("关于开展直播电商活动的公告".encode("gbk"), path="a.txt")
>>> d.text, d.encoding, d.confidence
('关于开展直播电商活动的公告', 'gb18030', 0.88)
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from dataclasses import dataclass

from policykb.errors import EmptyDocumentError, InvalidFileError
from policykb.ingest.charfreq import char_frequencies
from policykb.ingest.text import TONED

# Tried in this order; on equal scores the earlier one wins (mainland notices are the common case).
CANDIDATES = ("utf-8", "gb18030", "big5", "cp950", "big5hkscs")
# UTF-32 before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE one.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# GB2312 and GBK are subsets of GB18030; decoding with the superset never loses a character.
SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030"}
SAMPLE_BYTES = 256 * 1024  # scoring looks at this much, so a 50 MB file costs one full decode
SCORE_LIMIT = 20_000  # non-ASCII characters scored per candidate
LOW_CONFIDENCE = 0.6
UTF8_PRIOR = 0.25  # bonus per multi-byte character of a valid UTF-8 reading ...
UTF8_PRIOR_MAX = 2.0  # ... up to this much
COMMON_SYMBOLS = "×÷°±§·¥￥£€©®™№‰′″℃①②③④⑤⑥⑦⑧⑨⑩ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ→←↑↓★☆●○■□▲△◆◇※"
PINYIN = TONED + "üńňǹ"  # letters of pinyin annotations (the Douyin seed annotates characters)
# Characters weighing at least 0: in ``_char_weights`` (0.4 and up), or in a block ``_other_weight`` gives
# 0 or more. Every other character weighs -3 at the least.
_NOT_NEGATIVE = re.compile(
    "[\u00c0-\u024f\u2010-\u2027\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
    + re.escape(PINYIN + COMMON_SYMBOLS)
    + "]+"
)
MAX_CONTROL_SHARE = 0.05
MAX_REPLACED_SHARE = 0.05  # bytes no candidate decodes; more than this is not a damaged text file
MIN_REPLACED_CONFIDENCE = 0.3  # ... nor is a damaged file that does not even look like Chinese
COMMON_PUNCT = "，。、；：？！“”‘’（）《》〈〉【】—…·「」『』．～－／％＋＝＜＞　"
_CONTROL_BYTES = bytes([*range(0x01, 0x09), 0x0B, *range(0x0E, 0x1A), *range(0x1C, 0x20), 0x7F])
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_ASCII = re.compile(r"[\x00-\x7f]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x19\x1c-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    confidence: float
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Candidate:
    encoding: str
    sample: str
    score: float  # mean weight of the sample's non-ASCII characters, -3..1

    @functools.cached_property
    def multibyte(self) -> int:
        """How many of the scored characters are not ASCII."""
        return _non_ascii(self.sample[:SCORE_LIMIT])

    @functools.cached_property
    def ranked(self) -> float:
        if self.encoding != "utf-8":
            return self.score
        # Legacy bytes rarely form valid UTF-8 by chance, and ever more rarely the more multi-byte
        # characters there are: 通知 in GBK is valid UTF-8, a GBK sentence practically never is.
        return self.score + min(UTF8_PRIOR_MAX, UTF8_PRIOR * self.multibyte)


def decode_text(data: bytes, *, path: str, declared: str | None = None) -> DecodedText:
    """Decode a text file's bytes: BOM, then the ``declared`` charset (HTML), then scoring.

    Raises ``EmptyDocumentError`` for 0 bytes and ``InvalidFileError`` for binary data.
    """
    if not data:
        raise EmptyDocumentError(path, "empty file (0 bytes)")
    bom = next((enc for mark, enc in BOMS if data.startswith(mark)), None)
    if bom is not None:
        result = _decode_lenient(data, bom, confidence=1.0)
    elif b"\x00" in data or _control_share(data[:SAMPLE_BYTES]) > MAX_CONTROL_SHARE:
        raise InvalidFileError(path, "binary data, not text")
    elif data.isascii():
        result = DecodedText(data.decode("ascii"), "utf-8", 1.0)
    else:
        declared_result = _decode_declared(data, declared, path) if declared else None
        result = declared_result or _decode_by_scoring(data, path)
    _reject_control_chars(result.text[:SAMPLE_BYTES], path)
    return result


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and ``\\r`` become ``\\n``: the only change made to text besides decoding."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def score_text(text: str) -> float:
    """Mean plausibility of the non-ASCII characters, from -3 (garbage) to 1 (common Chinese).

    ASCII is skipped: it decodes identically under every candidate, so it cannot tell them apart.
    """
    chars = _ASCII.sub("", text)[:SCORE_LIMIT]
    if not chars:
        return 1.0
    weights = _weights_seen()
    for ch in set(chars).difference(weights):
        weights[ch] = _other_weight(ch)
    # sum() adds left to right as a loop would: the same float, ~10× faster than a loop over characters
    return sum(map(weights.__getitem__, chars)) / len(chars)


def _non_ascii(text: str) -> int:
    """How many characters of ``text`` are not ASCII."""
    return len(_ASCII.sub("", text))


@functools.cache
def _weights_seen() -> dict[str, float]:
    """``_char_weights`` and the weight of every other character scored so far (``_other_weight``)."""
    return dict(_char_weights())


def _decode_declared(data: bytes, declared: str, path: str) -> DecodedText | None:
    """Use an HTML page's declared charset when it decodes the bytes; ``None`` means fall back."""
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        return _with_warning(_decode_by_scoring(data, path), f"unknown declared charset {declared!r}")
    name = SUPERSETS.get(name, name)
    try:
        text = data.decode(name)
    except UnicodeDecodeError:
        return _with_warning(
            _decode_by_scoring(data, path), f"declared charset {declared} does not decode the file"
        )
    if len(text) == len(data):
        # A single-byte charset (often a wrong "iso-8859-1") decodes anything; trust it only if
        # no Chinese reading is clearly better.
        guess = _decode_by_scoring(data, path)
        if guess.confidence >= 0.9 and guess.encoding != name:
            return _with_warning(guess, f"declared charset {declared} contradicts the content")
    return _result(text, _Candidate(name, text[:SAMPLE_BYTES], score_text(text[:SAMPLE_BYTES])), [])


def _sample(data: bytes) -> tuple[bytes, bool]:
    """Up to SAMPLE_BYTES from the first non-ASCII byte on (which always starts a character, since
    only ASCII precedes it): an ASCII preamble must not leave the sample with nothing to score."""
    start = _NON_ASCII.search(data).start()  # type: ignore[union-attr]  # callers checked isascii()
    return data[start : start + SAMPLE_BYTES], start + SAMPLE_BYTES >= len(data)


def _decode_by_scoring(data: bytes, path: str) -> DecodedText:
    sample, final = _sample(data)
    if _clearly_utf8(sample, final):
        try:
            return DecodedText(data.decode("utf-8"), "utf-8", 1.0)
        except UnicodeDecodeError:
            pass  # the sample decoded but a later part of the file does not: score every candidate
    strict = [c for enc in CANDIDATES if (c := _candidate(sample, enc, final, "strict"))]
    ranked = sorted(strict, key=lambda c: -c.ranked)  # stable: ties keep CANDIDATES order
    for cand in ranked:
        try:
            text = data.decode(cand.encoding)
        except UnicodeDecodeError:
            continue  # the sample decoded but a later part of the file does not
        return _result(text, cand, ranked)
    return _decode_replacing(data, path)


def _clearly_utf8(sample: bytes, final: bool) -> bool:
    """Whether scoring would choose UTF-8 with confidence 1.0 whatever the other readings score — what
    most files are, told without weighing each character (most of decoding's time).

    At least 8 multi-byte characters give UTF-8 its full prior of 2 and a quality that rounds to 1.00
    (``_confidence``); a score of at least -0.5 then ranks it ≥ 1.5, above every rival (a score is at most
    1) by a margin of 1 or more. At most 2/15 of the scored characters outside ``_NOT_NEGATIVE`` (weight
    ≥ -3, the rest ≥ 0) is a score of at least -0.4.
    """
    try:
        text = codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=final)
    except UnicodeDecodeError:
        return False
    if _non_ascii(text[:SCORE_LIMIT]) < 8:
        return False
    chars = _ASCII.sub("", text)[:SCORE_LIMIT]
    return 3 * len(_NOT_NEGATIVE.sub("", chars)) <= 0.4 * len(chars)


def _decode_replacing(data: bytes, path: str) -> DecodedText:
    """No codec decodes every byte: take the best-scoring one and replace the bad bytes, unless
    so many are bad that this is not text at all."""
    sample, final = _sample(data)
    cands = [c for enc in CANDIDATES if (c := _candidate(sample, enc, final, "replace"))]
    cands.sort(key=lambda c: -c.ranked)
    best = cands[0]
    non_ascii = _non_ascii(best.sample) or 1
    text = data.decode(best.encoding, errors="replace")
    result = _result(text, best, cands)
    replaced = best.sample.count("\ufffd")
    if replaced > max(1, MAX_REPLACED_SHARE * non_ascii) or result.confidence < MIN_REPLACED_CONFIDENCE:
        raise InvalidFileError(path, f"not text in a known encoding (tried {', '.join(CANDIDATES)})")
    replaced = text.count("\ufffd")
    warning = f"{replaced} undecodable byte sequences replaced with U+FFFD ({best.encoding})"
    return _with_warning(result, warning)


def _candidate(sample: bytes, encoding: str, final: bool, errors: str) -> _Candidate | None:
    # An incremental decoder holds back a character cut in half at the end of the sample.
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    try:
        text = decoder.decode(sample, final=final)
    except UnicodeDecodeError:
        return None
    return _Candidate(encoding, text, score_text(text))


def _result(text: str, chosen: _Candidate, ranked: list[_Candidate]) -> DecodedText:
    confidence = _confidence(chosen, [c for c in ranked if c.sample != chosen.sample])
    warnings: tuple[str, ...] = ()
    if confidence < LOW_CONFIDENCE:
        warnings = (f"low confidence in encoding {chosen.encoding} ({confidence:.2f})",)
    return DecodedText(text, chosen.encoding, confidence, warnings)


def _confidence(chosen: _Candidate, rivals: list[_Candidate]) -> float:
    """How plausible the chosen text is × how clearly it beats the best reading that differs."""
    quality = max(0.0, min(1.0, chosen.score))
    if chosen.encoding == "utf-8":
        quality = max(quality, 1 - 0.5**chosen.multibyte)
    margin = 1.0
    if rivals:
        margin = max(0.0, min(1.0, 0.5 + chosen.ranked - max(r.ranked for r in rivals)))
    return round(quality * margin, 2)


def _decode_lenient(data: bytes, encoding: str, *, confidence: float) -> DecodedText:
    try:
        return DecodedText(data.decode(encoding), encoding, confidence)
    except UnicodeDecodeError:
        text = data.decode(encoding, errors="replace")
        warning = f"{text.count(chr(0xFFFD))} undecodable byte sequences replaced with U+FFFD ({encoding})"
        return DecodedText(text, encoding, confidence, (warning,))


def _with_warning(result: DecodedText, warning: str) -> DecodedText:
    return DecodedText(result.text, result.encoding, result.confidence, (warning, *result.warnings))


def _reject_control_chars(sample: str, path: str) -> None:
    if sample and len(_CONTROL.findall(sample)) / len(sample) > MAX_CONTROL_SHARE:
        raise InvalidFileError(path, "binary data, not text")


def _control_share(sample: bytes) -> float:
    # Bytes below 0x20 never occur inside a GBK, Big5 or UTF-8 multi-byte character, so this needs no codec.
    return (len(sample) - len(sample.translate(None, _CONTROL_BYTES))) / len(sample)


def _other_weight(ch: str) -> float:
    """Weight of a character outside the common-character table."""
    o = ord(ch)
    if 0x4E00 <= o <= 0x9FFF:
        return 0.2  # a real but uncommon ideograph
    if ch in PINYIN:
        return 0.5
    if ch in COMMON_SYMBOLS:
        return 0.5
    if 0xC0 <= o <= 0x24F and o not in (0xD7, 0xF7):
        return 0.0  # other Latin letters with diacritics: plausible in UTF-8, rare in Chinese text
    if 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF or 0x2010 <= o <= 0x2027:
        return 0.3  # CJK / full-width punctuation
    if 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3FFFF or 0xF900 <= o <= 0xFAFF:
        return -1.0  # rare extension blocks and compatibility ideographs
    if 0xE000 <= o <= 0xF8FF or o >= 0xF0000:
        return -2.0  # private use: what GB18030 maps unassigned Big5 byte pairs to
    if o == 0xFFFD or o <= 0x9F:
        return -3.0  # replacement character, C1 controls
    if unicodedata.category(ch).startswith("M"):
        return -1.0  # a combining mark with nothing sensible to combine with ("通知" in GBK read as UTF-8)
    return -0.5  # another script or a symbol


@functools.cache
def _char_weights() -> dict[str, float]:
    """Common Chinese characters, Simplified and Traditional, weighted by frequency rank.

    The character set is GB2312 (6,763 curated common characters, read from the codec itself),
    ranked by character frequency in jieba's word dictionary (jieba alone has noisy rare characters).
    Traditional forms come from OpenCC and inherit the weight of their Simplified form.
    """
    gb2312 = _gb2312_chars()
    freq = char_frequencies()
    ranked = sorted(gb2312, key=lambda ch: -freq.get(ch, 0))  # stable: GB2312 order on ties
    weights = {ch: _rank_weight(rank) for rank, ch in enumerate(ranked)}
    for variant, simplified in _traditional_forms("".join(ranked)):
        weights.setdefault(variant, weights[simplified])
    weights.update((ch, 1.0) for ch in COMMON_PUNCT)
    return weights


def _rank_weight(rank: int) -> float:
    # Fine steps at the top: a Big5 pair and its GB18030 misreading are often both "common" (第條 / 材兵).
    for limit, weight in ((300, 1.0), (1000, 0.95), (2000, 0.9), (3000, 0.8), (4500, 0.6)):
        if rank < limit:
            return weight
    return 0.4


def _gb2312_chars() -> list[str]:
    chars = []
    for hi in range(0xB0, 0xF8):  # rows 16-87: level 1 (by pinyin) then level 2 (by radical)
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                pass  # unassigned cells at the end of row 55
    return chars


def _traditional_forms(simplified: str) -> list[tuple[str, str]]:
    try:
        import opencc
    except ImportError:
        return []
    pairs: list[tuple[str, str]] = []
    for config in ("s2t", "s2tw", "s2hk"):
        converted = opencc.OpenCC(config).convert(simplified)
        if len(converted) == len(simplified):  # character-for-character, so positions line up
            pairs.extend((t, s) for t, s in zip(converted, simplified) if t != s)
    return pairs
