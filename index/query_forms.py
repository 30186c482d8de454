"""A question in Simplified, Traditional or English → the Simplified Chinese text that retrieval searches.

Retrieval (BM25 over jieba tokens, Chinese embeddings) only understands Simplified Chinese, and nothing
may be downloaded at run time, so English questions are rendered word by word, from three sources:

1. **Pinyin names from the corpus.** Every 2–4 character word of the indexed notices is keyed by its
   toneless pinyin (微视 → ``weishi``); an English token, or two or three adjacent ones ("Wei shi"), equal
   to a key becomes that word. Only words the notices contain can come out of this step.
2. **The domain glossary** ``data/glossary.toml``: e-commerce and policy vocabulary kept as data.
3. **CC-CEDICT** reversed into ``data/cedict_en_zh.tsv`` (CC BY-SA 4.0, see its header), for the words
   the glossary lacks. Candidates that occur in the notices are preferred.

>>> vocab = Vocabulary.from_texts(["腾讯微视平台对本次活动不收取费用"])
>>> forms = expand_query("What does Weishi charge?", vocab)
>>> forms.lang, forms.zh, forms.terms  # 费用, not 收费: the notice's own word goes first
('en', '微视 费用', ('微视', '费用', '收费'))
>>> expand_query("微視收費嗎", vocab).zh
'微视收费吗'
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import jieba

from policykb.errors import ConfigError
from policykb.index.keywords import ENGLISH_STOPWORDS
from policykb.ingest.text import CJK, to_simplified
from policykb.tomlfile import read_toml

if TYPE_CHECKING:
    from policykb.ingest.record import Clause

DATA_DIR = Path(__file__).resolve().parent / "data"
GLOSSARY_PATH = DATA_DIR / "glossary.toml"
TAIWAN_TABLE = "taiwan"  # [zh.taiwan]: Taiwan's wording → the mainland's
NOT_WITHIN_TABLE = "not_within"  # [zh.not_within]: colloquial phrase → longer words it does not fire in
_TAIWAN = re.compile(r"台湾|(?<![a-z])taiwan")  # over the Simplified, lower-case text
CEDICT_PATH = DATA_DIR / "cedict_en_zh.tsv"

Lang = Literal["zh", "zh-hant", "en"]
SOURCES = frozenset({"pinyin", "glossary", "dictionary"})

_CJK_WORD = re.compile(rf"^[{CJK}]{{2,4}}$")
# One query token: a run of CJK, a Latin word (with inner apostrophes: Xi'an, Weishi's) or a number.
_TOKEN = re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<lat>[A-Za-z]+(?:['’][A-Za-z]+)*)|(?P<num>\d+(?:[.:]\d+)*%?)")
# jieba's own block pattern (re_han_default): it never segments across anything else.
_BLOCK = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]+")
_MAX_PINYIN_SPAN = 3
_MAX_CEDICT_CANDIDATES = 2


@dataclass(frozen=True)
class QueryForms:
    original: str
    zh: str  # Simplified Chinese query text to embed and BM25-search
    lang: Lang
    terms: tuple[str, ...]  # extra Chinese keywords for BM25 (renderings of English words, synonyms)


class Vocabulary:
    """The words of the indexed notices, with a toneless-pinyin key for each 2–4 character word.

    Built once per index load; lookups are dictionary hits.

    >>> v = Vocabulary.from_texts(["腾讯微视平台", "抖音电商"])
    >>> v.word_for_pinyin("weishi"), "抖音" in v, v.word_for_pinyin("kuaishou")
    ('微视', True, None)
    """

    __slots__ = ("_by_pinyin", "_freq", "syllables")

    def __init__(self, frequencies: Mapping[str, int]):
        from pypinyin import Style, lazy_pinyin  # its phrase table takes ~0.4 s: only a vocabulary needs it

        self._freq: dict[str, int] = dict(frequencies)
        best: dict[str, tuple[int, int, str]] = {}
        syllables_seen: set[str] = set()
        for word, n in self._freq.items():
            if not _CJK_WORD.match(word):
                continue
            syllables = lazy_pinyin(word, style=Style.NORMAL, errors="ignore")
            if len(syllables) != len(word):
                continue
            syllables = [s.lower() for s in syllables]
            # pypinyin writes ü as "v" (绿 lv); people type "lu" as often.
            syllables_seen.update(syllables)
            syllables_seen.update(s.replace("v", "u") for s in syllables)
            key = "".join(syllables)
            for k in {key, key.replace("v", "u")}:
                rank = (n, len(word), word)
                if k not in best or rank > best[k]:
                    best[k] = rank
        self._by_pinyin = {k: r[2] for k, r in best.items()}
        # Pinyin syllables of the corpus words: "Wei shi" may be one name split in two only if both are.
        self.syllables: frozenset[str] = frozenset(syllables_seen)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        """Count the jieba (search-mode) words of Simplified Chinese texts.

        jieba segments each run of CJK/Latin/digit characters on its own, so each distinct run is segmented
        once and its words counted as often as the run occurs: boilerplate costs nothing twice.
        """
        blocks: Counter[str] = Counter()
        for text in texts:
            if text:
                blocks.update(_BLOCK.findall(text))
        counts: Counter[str] = Counter()
        for block, n in blocks.items():
            for token in jieba.cut_for_search(block):
                counts[token] += n
        return cls(counts)

    @classmethod
    def from_tokens(cls, token_lists: Iterable[Iterable[str]]) -> Vocabulary:
        """From token lists the index already made for BM25 (saves segmenting the corpus twice)."""
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        return cls(counts)

    @classmethod
    def from_clauses(cls, clauses: Iterable[Clause]) -> Vocabulary:
        """Words of each clause's text, its document title and section headings, issuer, region, platform."""

        def texts() -> Iterable[str]:
            for c in clauses:
                yield c.text
                yield c.title
                yield from c.section_path
                m = c.metadata
                yield from (f for f in (m.issuer, m.region, m.platform) if f)

        return cls.from_texts(texts())

    def __contains__(self, word: object) -> bool:
        return word in self._freq

    def __len__(self) -> int:
        return len(self._freq)

    def frequency(self, word: str) -> int:
        return self._freq.get(word, 0)

    def word_for_pinyin(self, key: str) -> str | None:
        """The most frequent corpus word whose toneless pinyin, without spaces, is ``key`` (lower-case)."""
        return self._by_pinyin.get(key)


@dataclass(frozen=True)
class Lexicon:
    """The glossary and the CC-CEDICT reverse map, keyed by tuples of lower-case English words."""

    glossary: Mapping[tuple[str, ...], tuple[str, ...]]
    stopwords: frozenset[str]
    colloquial: tuple[tuple[str, tuple[str, ...]], ...]  # (Chinese phrase, formal renderings)
    glossary_words: frozenset[str]  # the English words used in glossary keys, for finding base forms
    cedict_path: Path | None = None  # read on the first English word (~0.4 s): a Chinese query never needs it
    # the mainland's legal wording → Taiwan's for the same concept (罚款 → 罚锾): [zh.taiwan] read backwards,
    # for a question about Taiwan, whose acts use Taiwan's wording whatever words the question uses
    taiwan: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # a colloquial phrase → longer words it does not stand for inside them (续费 in 手续费): [zh.not_within]
    not_within: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def _cedict(self) -> tuple[Glossary, frozenset[tuple[str, ...]]]:
        return _read_cedict(self.cedict_path) if self.cedict_path else ({}, frozenset())

    @property
    def dictionary(self) -> Mapping[tuple[str, ...], tuple[str, ...]]:
        return self._cedict[0]

    @property
    def names(self) -> frozenset[tuple[str, ...]]:
        """Dictionary keys that are only the pinyin of proper nouns (weishi)."""
        return self._cedict[1]

    @cached_property
    def dictionary_words(self) -> frozenset[str]:
        return frozenset(w for k in self.dictionary for w in k)

    @cached_property
    def glossary_phrase(self) -> int:
        return max((len(k) for k in self.glossary), default=1)

    @cached_property
    def dictionary_phrase(self) -> int:
        return max((len(k) for k in self.dictionary), default=1)

    @classmethod
    def load(
        cls,
        glossary_path: Path = GLOSSARY_PATH,
        cedict_path: Path | None = CEDICT_PATH,
        stopwords: frozenset[str] = ENGLISH_STOPWORDS,
    ) -> Lexicon:
        """``stopwords``: English words an English question is rendered without (``data/stopwords.toml``)."""
        glossary, colloquial, taiwan, not_within = _read_glossary(glossary_path)
        stopwords = frozenset(w.lower().replace("'", "") for w in stopwords)
        return cls(
            glossary,
            stopwords | _CONTRACTIONS,
            tuple(colloquial.items()),
            frozenset(w for k in glossary for w in k),
            cedict_path,
            taiwan,
            not_within,
        )

    def colloquial_in(self, zh: str) -> list[tuple[str, tuple[str, ...]]]:
        """The colloquial phrases ``zh`` (a Simplified question) says, with their renderings: a phrase counts
        where it occurs outside the longer words of ``not_within`` (罚 in 怎么罚, not in 惩罚性赔偿)."""
        return [(p, v) for p, v in self.colloquial if p in zh and self.says(p, zh)]

    def says(self, phrase: str, zh: str) -> bool:
        """Whether ``zh`` says colloquial ``phrase`` somewhere outside the longer words ``not_within`` lists for
        it (True for a phrase with none)."""
        for word in self.not_within.get(phrase, ()):
            zh = zh.replace(word, "\0")  # a separator: no phrase spans what is left on either side
        return phrase in zh

    def taiwan_wording(self, words: Iterable[str]) -> tuple[str, ...]:
        """Taiwan's wording for each of ``words`` that has one (罚款 → 罚锾, 格式条款 → 定型化契约), in order."""
        given = tuple(words)
        return _unique(t for w in given for t in self.taiwan.get(w, ()) if t not in given)

    def is_english(self, word: str) -> bool:
        """Whether ``word`` (or a base form of it) is a stop word or a one-word key of the lexicon."""
        return any(
            w in self.stopwords
            or (w,) in self.glossary
            or ((w,) in self.dictionary and (w,) not in self.names)
            for w in (word, *_base_forms(word))
        )


_CONTRACTIONS = frozenset({"s", "t", "d", "ll", "re", "ve", "m"})


def _english_key(phrase: str) -> tuple[str, ...]:
    """A glossary phrase as the query's words: lower-case, possessive and apostrophes removed, the way
    ``_Token.word`` reads a question ("people's court" → people court)."""
    words = re.sub(r"[-_/]+", " ", phrase.lower()).split()
    return tuple(re.sub(r"['’]s$", "", w).replace("'", "").replace("’", "") for w in words)


Glossary = dict[tuple[str, ...], tuple[str, ...]]


def _read_glossary(
    path: Path,
) -> tuple[Glossary, dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(English key → Chinese, colloquial Chinese → formal, mainland wording → Taiwan's, colloquial phrase →
    the longer words it does not fire in) from the glossary TOML; the third is ``[zh.taiwan]`` read backwards,
    the last ``[zh.not_within]``."""
    data = read_toml(path, "the query glossary", allowed={"en", "zh"})
    en = {_english_key(k): v for k, v in _read_section(path, data, "en", _english_key).items()}
    zh_tables = dict(data.get("zh", {}))
    exceptions = zh_tables.pop(NOT_WITHIN_TABLE, {})
    # keys are matched against a question's Simplified form: a Traditional key is read as Simplified
    zh = {to_simplified(k): v for k, v in _read_section(path, {"zh": zh_tables}, "zh", str).items()}
    not_within = {
        to_simplified(k): v
        for k, v in _read_section(path, {"zh": {NOT_WITHIN_TABLE: exceptions}}, "zh", str).items()
    }
    for phrase, words in not_within.items():
        if phrase not in zh:
            raise ConfigError(
                f"{path}: [zh.{NOT_WITHIN_TABLE}] {phrase!r} is not a colloquial phrase of [zh.*]"
            )
        if any(phrase not in w for w in words):
            raise ConfigError(
                f"{path}: [zh.{NOT_WITHIN_TABLE}] every word listed for {phrase!r} must contain it, not {words!r}"
            )
    # backwards, only from an entry's first value, its equivalent (歇业 = ["停业", "终止"]: 停业 → 歇业, but
    # 终止 of a contract is no 歇业), and not from a value that is Taiwan's wording itself (个人资料)
    table = [to_simplified(k) for k in data.get("zh", {}).get(TAIWAN_TABLE, {})]
    taiwan: dict[str, list[str]] = {}
    for phrase in table:
        first = zh[phrase][0]
        if first not in table:
            taiwan.setdefault(first, []).append(phrase)
    return en, zh, {k: tuple(v) for k, v in taiwan.items()}, not_within


def _read_section(
    path: Path, data: dict[str, Any], section: str, keyfn: Callable[[str], object]
) -> dict[str, tuple[str, ...]]:
    """Merge the topic tables of one section; two phrases with the same key (per ``keyfn``) are an error."""
    out: dict[str, tuple[str, ...]] = {}
    where: dict[object, tuple[str, str]] = {}
    for topic, entries in data.get(section, {}).items():
        if not isinstance(entries, dict):
            raise ConfigError(f'{path}: [{section}.{topic}] must be a table of "phrase" = ["中文", …]')
        for phrase, values in entries.items():
            if (
                not isinstance(values, list)
                or not values
                or not all(isinstance(v, str) and v.strip() for v in values)
            ):
                raise ConfigError(
                    f"{path}: [{section}.{topic}] {phrase!r} must map to a non-empty list "
                    f"of Chinese strings, not {values!r}"
                )
            key = keyfn(phrase)
            if not key:
                raise ConfigError(f"{path}: [{section}.{topic}] has an empty key")
            if key in where:
                raise ConfigError(
                    f"{path}: {phrase!r} in [{section}.{topic}] is the same key as "
                    f"{where[key][1]!r} in [{section}.{where[key][0]}] (case, hyphens and "
                    "apostrophes do not count); keep one"
                )
            where[key] = (topic, phrase)
            out[phrase] = tuple(to_simplified(v.strip()) for v in values)
    return out


def _read_cedict(path: Path) -> tuple[Glossary, frozenset[tuple[str, ...]]]:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the CC-CEDICT reverse map ({exc}); rebuild it with "
            "scripts/build_cedict_en_zh.py"
        ) from exc
    out: dict[tuple[str, ...], tuple[str, ...]] = {}
    names: set[tuple[str, ...]] = set()
    for line in lines:
        if not line or line[0] == "#" or "\t" not in line:
            continue
        en, zh, *flag = line.rstrip("\r").split("\t")
        key = tuple(en.split())
        out[key] = tuple(zh.split())
        if flag == ["name"]:
            names.add(key)
    return out, frozenset(names)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The packaged glossary and CC-CEDICT map, read once (about 0.1 s)."""
    return Lexicon.load()


# --------------------------------------------------------------------------------------------- the query


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["cjk", "lat", "num"]
    text: str
    start: int
    end: int

    @property
    def word(self) -> str:
        """Lower-case, possessive and apostrophes removed: "Weishi's" → "weishi", "Xi'an" → "xian"."""
        w = re.sub(r"['’]s$", "", self.text).lower()
        return w.replace("'", "").replace("’", "")


def _tokens(text: str) -> list[_Token]:
    return [
        _Token(m.lastgroup, m.group(), m.start(), m.end())  # type: ignore[arg-type]
        for m in _TOKEN.finditer(text)
    ]


def detect_language(query: str) -> Lang:
    """ "en" when Latin words outnumber CJK characters; else "zh-hant" if OpenCC t2s changes it, else "zh"."""
    text = unicodedata.normalize("NFKC", query)
    toks = _tokens(text)
    n_cjk = sum(len(t.text) for t in toks if t.kind == "cjk")
    n_lat = sum(1 for t in toks if t.kind == "lat")
    if n_lat > n_cjk:
        return "en"
    return "zh-hant" if to_simplified(query) != query else "zh"


def _base_forms(word: str, shortest: int = 4) -> list[str]:
    """Candidate base forms, most likely first: charges → charg, charge; shipping → shipp, shippe, ship.
    Words shorter than ``shortest`` have none."""
    if len(word) < shortest:
        return []
    cands: list[str] = []
    if word.endswith("ies"):
        cands.append(word[:-3] + "y")
    if word.endswith("es"):
        cands.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        cands.append(word[:-1])
    if word.endswith("ied"):
        cands.append(word[:-3] + "y")
    for suffix in ("ed", "ing"):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            cands += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                cands.append(stem[:-1])
    return cands


def _lemma(word: str, known: frozenset[str], shortest: int = 4) -> str:
    """The first base form of ``word`` that ``known`` has, else ``word`` (phrases try ``word`` first)."""
    return next((c for c in _base_forms(word, shortest) if c in known), word)


@dataclass(frozen=True, slots=True)
class _Rendering:
    first: int  # token indices: toks[first:last + 1] are the English words rendered
    last: int
    values: tuple[str, ...]  # Chinese, best first
    unseen: bool = False  # a dictionary sense no notice uses (调节器 for "regulators"): noise to embed


class _English:
    """Renders the Latin tokens of a query, left to right, longest match first."""

    def __init__(self, toks: list[_Token], vocab: Vocabulary | None, lex: Lexicon, sources: frozenset[str]):
        self.toks, self.vocab, self.lex, self.sources = toks, vocab, lex, sources
        self.words = [t.word for t in toks]
        self.lemmas = {
            # the glossary's own words are few and chosen: "ads" may be read as "ad" there, not in CC-CEDICT;
            # not a word typed with capitals (UPS, IPs) nor a stop word (its)
            "glossary": [
                _lemma(w, lex.glossary_words, 3 if t.text.islower() and w not in lex.stopwords else 4)
                for t, w in zip(toks, self.words)
            ],
            "dictionary": [_lemma(w, lex.dictionary_words) for w in self.words],
        }

    def _latin_run(self, i: int, n: int) -> bool:
        return i + n <= len(self.toks) and all(t.kind == "lat" for t in self.toks[i : i + n])

    def _phrase(self, source: str, i: int) -> tuple[int, tuple[str, ...]] | None:
        if source == "glossary":
            table, longest = self.lex.glossary, self.lex.glossary_phrase
        else:
            table, longest = self.lex.dictionary, self.lex.dictionary_phrase
        lemmas = self.lemmas[source]
        for n in range(min(longest, len(self.toks) - i), 0, -1):
            if not self._latin_run(i, n):
                continue
            # as typed, in base forms, or as typed but the last word ("live-streaming hosts" is the phrase
            # "live streaming host"); not other mixes: "consumers rights to know" must leave "rights to know"
            typed, base = tuple(self.words[i : i + n]), tuple(lemmas[i : i + n])
            for key in dict.fromkeys((typed, base, typed[:-1] + base[-1:])):
                if key in table:
                    return n, table[key]
        return None

    def _pinyin(self, i: int) -> tuple[int, tuple[str, ...]] | None:
        if self.vocab is None:
            return None
        for n in range(min(_MAX_PINYIN_SPAN, len(self.toks) - i), 0, -1):
            if not self._latin_run(i, n):
                continue
            words = self.words[i : i + n]
            if any(w in self.lex.stopwords for w in words) or any(
                _is_acronym(t.text) for t in self.toks[i : i + n]
            ):
                continue
            if n > 1:
                ok = all(w in self.vocab.syllables for w in words)
            else:  # an English word typed in lower case is English, not a name ("women" ≠ 我们)
                ok = self.toks[i].text[0].isupper() or not self.lex.is_english(words[0])
            key = "".join(words)
            if ok and len(key) >= (3 if self.toks[i].text[0].isupper() else 4):
                word = self.vocab.word_for_pinyin(key)
                if word:
                    return n, (word,)
        return None

    def _choose(self, values: tuple[str, ...], limit: int | None = None) -> tuple[str, ...]:
        """Corpus words first (keeping their order), then the rest; optionally cut to ``limit``."""
        if self.vocab is None:
            return values[:1] if limit else values
        present = tuple(v for v in values if v in self.vocab)
        if limit:
            return present[:limit] or values[:1]
        return present + tuple(v for v in values if v not in present)

    def _match(self, i: int) -> tuple[int, tuple[str, ...], bool] | None:
        """(number of tokens, Chinese renderings, unseen) for the words starting at token ``i``, by priority;
        ``unseen``: a dictionary sense that no notice uses."""
        if "glossary" in self.sources and (m := self._phrase("glossary", i)):
            return m[0], self._choose(m[1]), False
        if self.words[i] in self.lex.stopwords:
            return None
        if "pinyin" in self.sources and (m := self._pinyin(i)):
            return m[0], m[1], False
        if "dictionary" in self.sources and (m := self._phrase("dictionary", i)):
            values = self._choose(m[1], _MAX_CEDICT_CANDIDATES)
            return m[0], values, self.vocab is not None and values[0] not in self.vocab
        if _is_acronym(self.toks[i].text):  # QQ, MCN, APP: the notices write them so
            return 1, (self.toks[i].text,), False
        return None

    def render(self) -> list[_Rendering]:
        out: list[_Rendering] = []
        i = 0
        while i < len(self.toks):
            found = self._match(i) if self.toks[i].kind == "lat" else None
            if found:
                n, values, unseen = found
                out.append(_Rendering(i, i + n - 1, values, unseen))
                i += n
            else:
                i += 1
        return out


def _is_acronym(text: str) -> bool:
    """QQ, MCN, APP, GMV — but not a name typed in capitals (WEISHI)."""
    return text.isupper() and 2 <= len(text) <= 4


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(x for x in items if x))


def names_taiwan(text: str) -> bool:
    """Whether a question names Taiwan, in Chinese (Traditional, Simplified or mixed: 臺湾) or in English,
    glued to Chinese or not (在Taiwan).

    >>> names_taiwan("在Taiwan罚款多少"), names_taiwan("臺湾罚款多少"), names_taiwan("Taiwanese law"), names_taiwan("泰国")
    (True, True, True, False)
    """
    return bool(_TAIWAN.search(to_simplified(unicodedata.normalize("NFKC", text)).lower()))


def needs_vocabulary(query: str) -> bool:
    """Whether ``expand_query`` reads the corpus vocabulary for ``query``: only its Latin words are looked
    up there (pinyin names, corpus-aware renderings), so a query in Chinese alone does not."""
    return any(t.kind == "lat" for t in _tokens(unicodedata.normalize("NFKC", query)))


def expand_query(
    query: str,
    vocabulary: Vocabulary | None = None,
    *,
    sources: frozenset[str] = SOURCES,
    lexicon: Lexicon | None = None,
) -> QueryForms:
    """Render ``query`` for retrieval.

    Chinese: ``zh`` is the query (Traditional → Simplified with OpenCC t2s); English words inside it are
    replaced by their rendering and, with colloquial synonyms from the glossary, become ``terms``.
    English: ``zh`` is the best rendering of each word, space-separated (Chinese fragments kept);
    ``terms`` holds every rendering. ``sources`` switches the three English sources on and off (for
    measuring what each contributes); ``vocabulary`` enables pinyin names and corpus-aware choices.
    """
    lex = lexicon or default_lexicon()
    lang = detect_language(query)
    text = unicodedata.normalize("NFKC", query)
    toks = _tokens(text)
    has_latin = any(t.kind == "lat" for t in toks)
    renderings = _English(toks, vocabulary, lex, sources).render() if has_latin else []
    taiwan = bool(lex.taiwan) and names_taiwan(text)
    # each word's renderings together (qa/question.py groups them by the rendering in ``zh``), Taiwan's
    # wording for them right after when the question is about Taiwan
    translated = _unique(
        v for r in renderings for v in (*r.values, *(lex.taiwan_wording(r.values) if taiwan else ()))
    )

    if lang == "en":  # renderings and any Chinese or numbers, in question order
        starts = {r.first: r for r in renderings}
        covered = {i for r in renderings for i in range(r.first, r.last + 1)}
        parts = [
            starts[i].values[0] if i in starts else to_simplified(t.text)
            for i, t in enumerate(toks)
            if (i in starts and not starts[i].unseen) or (i not in covered and t.kind != "lat")
        ]
        return QueryForms(original=query, zh=" ".join(_unique(parts)), lang=lang, terms=translated)

    if renderings:  # a Chinese question with English words in it ("Weishi 收费吗")
        pieces, pos = [], 0
        for r in renderings:
            pieces += [text[pos : toks[r.first].start], f" {r.values[0]} "]
            pos = toks[r.last].end
        pieces.append(text[pos:])
        zh = to_simplified(re.sub(r"\s+", " ", "".join(pieces)).strip())
    else:
        zh = to_simplified(query) if lang == "zh-hant" else query
    synonyms = [v for _, values in lex.colloquial_in(zh) for v in values]
    if taiwan:
        synonyms += lex.taiwan_wording([*(w for w in lex.taiwan if w in zh), *synonyms])
    terms = _unique([*translated, *(t for t in synonyms if t not in zh)])
    return QueryForms(original=query, zh=zh, lang=lang, terms=terms)
