"""A follow-up question → the question it stands for, with the previous question's subject filled in.

In a conversation the second question often names only what changed: "微视收费吗？" then "那抖音呢？".
Asked alone, "那抖音呢？" finds anything about 抖音. ``follow_up`` reads it as "抖音收费吗？":

- a question **leans on the previous one** when it has no content word at all (还有呢？), only one (处罚呢？ —
  the thing asked for, no subject), or starts with a connective (那, 那么, 还有, and, what about …) and has
  at most two;
- a place or platform it names (``qa/names.toml``), or a capitalised English name, **replaces** the
  previous question's name of the same kind, in the previous question's own words
  (那广州呢？ after 上海对直播电商有什么扶持政策？ → 广州对直播电商有什么扶持政策？);
- otherwise the previous question's content words that it lacks are put in front as its **topic**
  (那处罚呢？ after 抖音电商对虚假宣传有什么规定？ → 抖音电商虚假宣传，处罚呢？);
- a bare "还有呢？" asks the previous question again.

The rule knows word classes (question words, function words, names), never particular questions.
Pure functions of two strings: no knowledge base, no state.

>>> follow_up("那抖音呢？", "微视收费吗？")
'抖音收费吗？'
>>> follow_up("抖音電商對虛假宣傳有什麼規定？", "微视收费吗？") is None  # a question of its own
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import jieba

from policykb.index.keywords import ENGLISH_STOPWORDS, STOPWORDS
from policykb.ingest.text import CJK_CHAR, search_key, to_simplified
from policykb.qa.question import NAMES_PATH, default_qa_lexicon, names_in
from policykb.tomlfile import read_toml, string_list

# Words that hand the subject over from the previous question. Longest first: 那么 before 那.
CONNECTIVES_ZH = ("那如果", "那要是", "那么", "那", "还有", "另外", "此外", "以及", "至于", "换成", "要是")
CONNECTIVES_EN = ("and what about", "and how about", "what about", "how about", "and", "also", "then")
QUESTION_WORDS_EN = frozenset({"when", "where", "whom", "why", "how", "what", "which", "who"})
_EDGE = " \t,，、:：;；.。!！"
_TAIL = re.compile(r"[\s?？!！.。…]+$")
_CAPITALISED = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Za-z0-9]+")
_ASCII_WORD = re.compile(r"^[a-z0-9][a-z0-9'\-]*$")
_PARTICLES = re.compile(r"[呢吗吧啊呀么嘛]")


@dataclass(frozen=True)
class Word:
    """A content word: its search key, where it starts in the question's search key, and its kind
    ("place", "platform", "name" for a capitalised English word, "" for any other word)."""

    text: str
    start: int
    kind: str = ""


@lru_cache(maxsize=1)
def name_kinds() -> dict[str, str]:
    """Each place and platform name of ``qa/names.toml`` (a search key) → "place" or "platform"."""
    data = read_toml(NAMES_PATH, "the place and platform names", allowed={"places", "platforms"})
    kinds: dict[str, str] = {}
    for table, kind in (("places", "place"), ("platforms", "platform")):
        content = data.get(table, {})
        for name in string_list(NAMES_PATH, content.get("names", []), f"[{table}] names"):
            if name.strip():
                kinds[search_key(name)] = kind
    return kinds


def split_connective(question: str) -> tuple[str, str]:
    """``question`` → (its leading connective, the rest). A name that starts like one (那曲) is no
    connective.

    >>> split_connective("那么，广州呢？")
    ('那么', '广州呢？')
    >>> split_connective("What about Douyin?")
    ('What about', 'Douyin?')
    >>> split_connective("那曲有直播补贴吗？")
    ('', '那曲有直播补贴吗？')
    """
    text = question.strip()
    lowered = text.lower()
    for c in CONNECTIVES_EN:
        if re.match(rf"{re.escape(c)}(?![a-z])", lowered):
            return text[: len(c)], text[len(c) :].lstrip(_EDGE)
    simplified = to_simplified(text)
    pos = 0
    while True:
        rest = simplified[pos:]
        if any(rest.startswith(n) for n in name_kinds()):
            break
        first = next((c for c in CONNECTIVES_ZH if rest.startswith(c) and _opens(c, rest)), None)
        if first is None:
            break
        pos += len(first)
        while pos < len(simplified) and simplified[pos] in _EDGE:
            pos += 1
    if pos == 0:
        return "", text
    source = text if len(simplified) == len(text) else simplified  # t2s kept the length: slice the original
    return source[:pos].rstrip(_EDGE), source[pos:]


def _opens(connective: str, text: str) -> bool:
    """Whether ``text`` starts with ``connective`` as a word of its own: jieba's first word is the
    connective, a piece of it (那 of 那如果), or a glued form no dictionary has (那抖音, 那快) — but not a
    word that merely starts like it (那些, 那个)."""
    first = jieba.lcut(text)[0]
    if first == connective or connective.startswith(first):
        return True
    return first.startswith(connective) and not jieba.dt.FREQ.get(first)


def content_words(question: str, whole: str | None = None) -> tuple[Word, ...]:
    """The words of ``question`` that say what it is about: no question words, function words, light
    verbs, single Chinese characters or connectives; names kept whole. A capitalised English word is a
    name unless it starts ``whole`` (the full question, when ``question`` is the part after a connective).

    >>> [w.text for w in content_words("抖音電商對虛假宣傳有什麼規定？")]
    ['抖音', '电商', '虚假', '宣传']
    >>> [(w.text, w.kind) for w in content_words("What does Weishi charge?")]
    [('weishi', 'name'), ('charge', '')]
    """
    lex = default_qa_lexicon()
    key = search_key(question)
    kinds = name_kinds()
    capitalised = {m[0].lower() for m in _CAPITALISED.finditer(whole or question) if m.start() > 0}
    words: list[Word] = []
    masked = key
    for name in names_in(key, tuple(sorted(kinds, key=len, reverse=True))):
        start = key.find(name)
        while start >= 0:
            masked = masked[:start] + " " * len(name) + masked[start + len(name) :]
            start = key.find(name, start + len(name))
        words.append(Word(name, key.find(name), kinds[name]))
    for phrase in lex.question:  # longest first: 多少钱 before 多少
        masked = masked.replace(phrase, " " * len(phrase))
    pos = 0
    seen = {w.text for w in words}
    for raw in jieba.lcut(masked):  # the pieces add up to ``masked``: positions stay right
        start, pos = pos, pos + len(raw)
        token = raw.strip()
        if not _is_content(token, lex.optional) or token in seen:
            continue
        seen.add(token)
        kind = "name" if token in capitalised else ""
        words.append(Word(token, start + raw.find(token), kind))
    return tuple(sorted(words, key=lambda w: w.start))


def _is_content(token: str, optional: frozenset[str]) -> bool:
    if not any(ch.isalnum() for ch in token) or len(token) == 1 and CJK_CHAR.match(token):
        return False
    if token in STOPWORDS or token in ENGLISH_STOPWORDS or token in QUESTION_WORDS_EN:
        return False
    return token not in optional and token not in CONNECTIVES_ZH and token not in CONNECTIVES_EN


def leans_on_previous(question: str) -> bool:
    """Whether ``question`` lacks a subject of its own: no content word, one, or a connective and at
    most two.

    >>> leans_on_previous("还有呢？"), leans_on_previous("处罚呢？"), leans_on_previous("那广州的补贴呢？")
    (True, True, True)
    >>> leans_on_previous("快手小店的保证金是多少？")
    False
    """
    connective, core = split_connective(question)
    n = len(content_words(core, question))
    return n <= 1 or (bool(connective) and n <= 2)


def follow_up(question: str, previous: str | None) -> str | None:
    """The question ``question`` stands for after ``previous``, or None when it stands on its own (or
    the previous question adds nothing to it).

    >>> follow_up("那广州呢？", "上海对直播电商有什么扶持政策？")
    '广州对直播电商有什么扶持政策？'
    >>> follow_up("那处罚呢？", "抖音电商对虚假宣传有什么规定？")
    '抖音电商虚假宣传，处罚呢？'
    >>> follow_up("还有呢？", "微视收费吗？")
    '微视收费吗？'
    >>> follow_up("and Douyin?", "What does Weishi charge?")
    'What does Douyin charge?'
    """
    if not previous or not previous.strip() or not question.strip() or not leans_on_previous(question):
        return None
    _, core = split_connective(question)
    new = content_words(core, question)
    old = content_words(previous)
    if not old:
        return None
    swaps = _swaps(new, old)
    swapped_in = {n.text for _, n in swaps}
    if swaps and all(w.text in swapped_in for w in new):
        return _substitute(previous.strip(), swaps, question)
    core_key = search_key(core)
    replaced = {o.text for o, _ in swaps}
    carried = [
        w
        for w in old
        if w.text not in replaced
        and w.text not in core_key
        and not any(w.text in n.text or n.text in w.text for n in new)
    ]
    if not new and not _PARTICLES.sub("", _TAIL.sub("", search_key(core))).strip(_EDGE):
        return previous.strip()  # 还有呢？ — the same question again
    if not carried:
        return None
    ascii_core = core.isascii()
    return _join([_surface(w.text, previous) for w in carried]) + (", " if ascii_core else "，") + core


def _swaps(new: tuple[Word, ...], old: tuple[Word, ...]) -> list[tuple[Word, Word]]:
    """(old name, new name) pairs: a name of the new question replaces the previous question's first
    name of the same kind that the new question does not also name; an English name, any name."""
    named = {w.text for w in new}
    pairs: list[tuple[Word, Word]] = []
    taken: set[str] = set()
    for n in new:
        if not n.kind:
            continue
        free = [o for o in old if o.kind and o.text not in named and o.text not in taken]
        same = [o for o in free if o.kind == n.kind]
        loose = [o for o in free if "name" in (o.kind, n.kind)]
        for match in (same or loose)[:1]:
            pairs.append((match, n))
            taken.add(match.text)
    return pairs


def _substitute(previous: str, swaps: list[tuple[Word, Word]], question: str) -> str:
    """``previous`` in its own words with each old name replaced by the new one as the question wrote it."""
    text = previous
    for old, new in swaps:
        pattern = re.compile(re.escape(old.text), re.IGNORECASE)
        if not pattern.search(text):
            text = to_simplified(text)  # a Traditional name: replace in the Simplified text
        text = pattern.sub(_surface(new.text, question).replace("\\", "\\\\"), text, count=1)
    return text


def _surface(word: str, text: str) -> str:
    """``word`` (a search key) as ``text`` writes it: an English word keeps its capitals."""
    if word.isascii():
        m = re.search(re.escape(word), text, re.IGNORECASE)
        if m:
            return m[0]
    return word


def _join(words: list[str]) -> str:
    out = ""
    for w in words:
        if out and (w[0].isascii() or out[-1].isascii()):
            out += " "
        out += w
    return out


def in_conversation(question: str, previous: Sequence[str]) -> str | None:
    """``follow_up`` after a whole conversation (``previous``: the earlier questions, oldest first), each
    earlier question read as it was understood in its turn: 微视收费吗？ → 那抖音呢？ → 快手呢？ is
    快手收费吗？.

    >>> in_conversation("快手呢？", ["微视收费吗？", "那抖音呢？"])
    '快手收费吗？'
    >>> in_conversation("微视收费吗？", []) is None
    True
    """
    understood: str | None = None
    for earlier in previous:
        understood = follow_up(earlier, understood) or earlier
    return follow_up(question, understood)
