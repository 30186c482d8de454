"""A question → the concepts an answering clause must mention, with weights and synonyms.

The retriever's query forms give the Simplified text (Traditional converted, English rendered word by
word); this module takes the question words out (什么, 怎么, 吗 … — they ask, they are not evidence), cuts
the rest into words, and gives each word

- its **alternatives**: the word and the notices' wording for it (``[zh.colloquial]`` of the retriever's
  glossary: 退货 → 退款, 售后; for English the other renderings of the same English word),
- its **parts** (广州市 → 广州), which earn half credit when the whole word is missing,
- a **weight**: the keyword IDF of the word in the knowledge base — a word no notice uses weighs most,
- whether it is **optional** (light verbs and function words, ``qa/lexicon.toml``).

>>> q = analyse_forms(QueryForms("微视收费吗？", "微视收费吗？", "zh", ()), TermStats(10, lambda w: 1))
>>> [(c.word, c.optional) for c in q.concepts]
[('微视', False), ('收费', False)]
>>> q.coverage("腾讯微视平台对本次活动不收取费用。")  # 收费 ≈ 费用 (qa/lexicon.toml [synonyms])
1.0
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import jieba

from policykb.errors import ConfigError
from policykb.index.keywords import STOPWORDS
from policykb.index.query_forms import QueryForms, default_lexicon, names_taiwan
from policykb.ingest.text import CJK_CHAR, search_key
from policykb.qa.retrieval import TermStats
from policykb.tomlfile import read_toml, string_list

LEXICON_PATH = Path(__file__).resolve().parent / "lexicon.toml"
NAMES_PATH = Path(__file__).resolve().parent / "names.toml"

# Places with a legal system of their own, and how a question names them (Chinese or English). The
# mainland's national laws do not govern Taiwan, Hong Kong or Macao, nor their laws the mainland: a question
# about one is not answered from a notice of another (qa/abstain.py ``_scoped_elsewhere``).
MAINLAND = "大陆"
JURISDICTIONS: dict[str, re.Pattern[str]] = {  # over the Chinese search key and the NFKC lower-case text
    "台湾": re.compile(r"台湾|港澳台|台港澳|\btaiwan"),
    "香港": re.compile(r"香港|港澳|\bhong ?kong\b"),
    "澳门": re.compile(r"澳门|港澳|\bmaca[uo]\b"),
    # not 大陆法系 (civil law); 内地 when the question also names Hong Kong, Macao or Taiwan (else 国内地区 would
    # be read); English "China", but not "Republic of China"
    MAINLAND: re.compile(
        r"(?<!欧亚)(?<!新)大陆(?!法系|架)|中国内地|(?:香港|澳门|港澳|台湾).*内地|内地.*(?:香港|澳门|港澳|台湾)|"
        r"(?<!republic of )\b(?:mainland(?:ers?)?|china|prc)\b"
    ),
}
ABBREVIATION_CREDIT = 0.9  # 收费 found as 收取费用: the same word, written out
PART_CREDIT = 0.5  # 广州 of 广州市: some of the word
OPTIONAL_WEIGHT = 1.0  # at most: a light verb never outweighs what is asked about
COUNT_CUES = ("count", "total")
QUESTION_SENTENCE = re.compile(r"[?？。!！;；]")
# a yes/no question: 吗, 有没有 …, or in English an auxiliary verb first ("Is there a fee…")
YES_NO = re.compile(
    r"有没有|是否|能否|能不能|可不可以|会不会|要不要|是不是|吗|^\s*(?:is|are|does|do|can|could|must|should|will|has|have|may)\b"
)
_NUMBER = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万亿]+)"


CUE_KEYS = frozenset({"ask", "ask_pattern", "pattern", "abstains"})  # what a [cues.NAME] table may hold


@dataclass(frozen=True)
class Cue:
    """An answer type: asked for by one of ``ask`` (or a match of ``ask_pattern``), met by ``pattern``."""

    name: str
    ask: tuple[str, ...]
    ask_pattern: re.Pattern[str] | None
    pattern: re.Pattern[str]
    abstains: bool = True  # a question whose clauses lack it is taken for unanswered (``qa/abstain.py``)

    def asked(self, zh: str, original: str) -> bool:
        """``zh``: the Simplified search key of the question; ``original``: its NFKC lower-case text."""
        if self.ask_pattern is not None and (
            self.ask_pattern.search(zh) or self.ask_pattern.search(original)
        ):
            return True
        return any(a in zh or (a.isascii() and re.search(rf"\b{re.escape(a)}\b", original)) for a in self.ask)


@dataclass(frozen=True)
class Measure:
    """A quantity asked for in a unit (几个工作日, 多少人, how many days): a clause answers the question
    only if it states such a quantity (``pattern``: a number and the unit, or a word that settles it,
    such as 免费 for an amount of money)."""

    name: str
    ask: re.Pattern[str]
    unless: re.Pattern[str] | None  # what the question must not say for this to hold (罚多少: fines are
    # often set by reference to another law, with no amount in the clause)
    pattern: re.Pattern[str]

    def asked(self, zh: str, original: str) -> bool:
        """Whether a sentence of the question (``zh`` or ``original``) asks for this quantity, and is not
        a yes/no question that merely mentions it."""
        if self.unless is not None and (self.unless.search(zh) or self.unless.search(original)):
            return False
        return any(
            self.ask.search(part) and not YES_NO.search(part)
            for text in (zh, original)
            for part in QUESTION_SENTENCE.split(text)
        )


@dataclass(frozen=True)
class AnswerLexicon:
    question: tuple[str, ...]  # longest first
    optional: frozenset[str]
    spanning: tuple[str, ...]
    spanning_en: tuple[str, ...]
    english_fields: frozenset[str]
    synonyms: dict[str, tuple[str, ...]]
    cues: tuple[Cue, ...]
    measures: tuple[Measure, ...] = ()

    @classmethod
    def load(cls, path: Path = LEXICON_PATH) -> AnswerLexicon:
        data = read_toml(path, "the answerer's lexicon", allowed={"words", "synonyms", "cues", "measures"})
        synonyms = data.get("synonyms", {})
        if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in synonyms.values()):
            raise ConfigError(f'{path}: [synonyms] entries must be "word" = ["同义词", …]')
        words = data.get("words", {})
        allowed = {"question", "optional", "spanning", "spanning_en", "english_fields"}
        if set(words) - allowed:
            raise ConfigError(
                f"{path}: unknown keys {sorted(set(words) - allowed)} in [words]; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        cues = []
        for name, cue in data.get("cues", {}).items():
            unknown, missing = set(cue) - CUE_KEYS, {"ask", "pattern"} - set(cue)
            abstains = cue.get("abstains", True)
            if unknown or missing or not isinstance(abstains, bool):
                wrong = [
                    *(f"unknown {k!r}" for k in sorted(unknown)),
                    *(f"no {k!r}" for k in sorted(missing)),
                    *([f"abstains = {abstains!r}"] if not isinstance(abstains, bool) else []),
                ]
                raise ConfigError(
                    f"{path}: [cues.{name}] needs `ask` (list) and `pattern` (regex), and may have `ask_pattern`"
                    f" (regex) and `abstains` (true or false); found {', '.join(wrong)}"
                )
            try:
                asked = re.compile(cue["ask_pattern"]) if "ask_pattern" in cue else None
                pattern = re.compile(cue["pattern"])
                cues.append(Cue(name, tuple(cue["ask"]), asked, pattern, abstains))
            except re.error as exc:
                raise ConfigError(
                    f"{path}: [cues.{name}] pattern is not a regular expression ({exc})"
                ) from exc
        return cls(
            measures=_measures(path, data.get("measures", {})),
            question=tuple(sorted(set(words.get("question", [])), key=len, reverse=True)),
            optional=frozenset(words.get("optional", [])),
            spanning=tuple(words.get("spanning", [])),
            spanning_en=tuple(w.lower() for w in words.get("spanning_en", [])),
            english_fields=frozenset(words.get("english_fields", [])),
            synonyms={search_key(k): tuple(map(search_key, v)) for k, v in synonyms.items()},
            cues=tuple(cues),
        )


def _measures(path: Path, table: object) -> tuple[Measure, ...]:
    """``[measures.NAME]`` tables: ``ask`` and ``pattern`` (regular expressions; ``{number}`` in ``pattern``
    stands for a number in digits or Chinese numerals), and an optional ``unless``."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [measures] must hold [measures.NAME] tables")
    out = []
    for name, m in table.items():
        if not isinstance(m, dict) or not {"ask", "pattern"} <= set(m) <= {"ask", "pattern", "unless"}:
            raise ConfigError(
                f"{path}: [measures.{name}] needs `ask` and `pattern` (regex), and may have `unless`"
            )
        try:
            out.append(
                Measure(
                    name,
                    re.compile(m["ask"]),
                    re.compile(m["unless"]) if "unless" in m else None,
                    re.compile(m["pattern"].replace("{number}", _NUMBER)),
                )
            )
        except re.error as exc:
            raise ConfigError(f"{path}: [measures.{name}] is not a regular expression ({exc})") from exc
    return tuple(out)


@lru_cache(maxsize=1)
def default_qa_lexicon() -> AnswerLexicon:
    return AnswerLexicon.load()


def load_name_tables(path: Path = NAMES_PATH) -> dict[str, frozenset[str]]:
    """The place and the platform names of ``qa/names.toml``, by table, as search keys."""
    data = read_toml(path, "the place and platform names", allowed={"places", "platforms"})
    tables: dict[str, frozenset[str]] = {}
    for table, content in data.items():
        if not isinstance(content, dict) or set(content) != {"names"}:
            raise ConfigError(f'{path}: [{table}] must hold exactly names = ["…", …]')
        tables[table] = frozenset(
            search_key(n) for n in string_list(path, content["names"], f"[{table}] names") if n.strip()
        )
    return tables


def load_names(path: Path = NAMES_PATH) -> tuple[str, ...]:
    """Place and platform names (``qa/names.toml``), as search keys, longest first."""
    return _longest_first(load_name_tables(path))


def _longest_first(tables: dict[str, frozenset[str]]) -> tuple[str, ...]:
    return tuple(sorted(frozenset().union(*tables.values()), key=len, reverse=True))


@lru_cache(maxsize=1)
def _default_tables() -> dict[str, frozenset[str]]:
    return load_name_tables()


@lru_cache(maxsize=1)
def default_names() -> tuple[str, ...]:
    return _longest_first(_default_tables())


def default_places() -> frozenset[str]:
    return _default_tables().get("places", frozenset())


def names_in(zh: str, names: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The place and platform names ``zh`` (a search key) mentions, longest match first, no overlaps:
    广州市 counts once, as 广州市, not also as 广州.

    >>> names_in("广州市和深圳的直播补贴", ("广州市", "广州", "深圳"))
    ('广州市', '深圳')
    """
    found: list[str] = []
    taken = [False] * len(zh)
    for name in names if names is not None else default_names():
        start = zh.find(name)
        while start >= 0:
            end = start + len(name)
            if not any(taken[start:end]):
                taken[start:end] = [True] * len(name)
                if name not in found:
                    found.append(name)
            start = zh.find(name, end)
    return tuple(sorted(found, key=zh.find))


def jurisdictions_in(zh: str, original: str) -> tuple[str, ...]:
    """The jurisdictions (``JURISDICTIONS``) a question names, in its Chinese search key ``zh`` or its
    ``original`` text (NFKC, lower case).

    >>> jurisdictions_in("", "can a taiwanese notary sign remotely?"), jurisdictions_in("港澳台居民在大陆开网店", "")
    (('台湾',), ('台湾', '香港', '澳门', '大陆'))
    >>> jurisdictions_in("大陆法系国家的电子签名", "")
    ()
    """
    return tuple(j for j, pattern in JURISDICTIONS.items() if pattern.search(zh) or pattern.search(original))


def jurisdiction_of(name: str) -> str | None:
    """The jurisdiction a place name is (香港特别行政区 → 香港), None for a place within one (广州)."""
    return next((j for j in JURISDICTIONS if name.startswith(j)), None)


@dataclass(frozen=True)
class Concept:
    word: str
    alternatives: tuple[str, ...]  # search keys: the word first, then synonyms
    parts: tuple[tuple[str, float], ...]  # (sub-word, weight) for partial credit
    weight: float
    optional: bool
    abbreviation: re.Pattern[str] | None = None  # 收费 → 收.{0,2}费

    def credit(self, key: str, partial: bool = True) -> float:
        """How much of this concept ``key`` (a search key) mentions: 1, 0.9 (abbreviation), ≤ 0.5 (some of
        its parts, when ``partial``), 0."""
        if any(a in key for a in self.alternatives):
            return 1.0
        if self.abbreviation is not None and self.abbreviation.search(key):
            return ABBREVIATION_CREDIT
        if partial and self.parts:
            total = sum(w for _, w in self.parts)
            found = sum(w for p, w in self.parts if p in key)
            return PART_CREDIT * found / total if total else 0.0
        return 0.0


@dataclass(frozen=True)
class Question:
    text: str
    zh: str
    lang: str
    concepts: tuple[Concept, ...]
    cues: tuple[tuple[str, re.Pattern[str]], ...]  # answer types asked for
    spanning: bool  # asks about several documents ("各地…")
    counted: re.Pattern[str] | None = (
        None  # a count question: a number right before what is counted (三大专场)
    )
    names: tuple[str, ...] = ()  # places and platforms it names (qa/names.toml)
    measures: tuple[Measure, ...] = ()  # quantities asked for in a unit (几个工作日, 多少人)
    open_cues: frozenset[str] = frozenset()  # answer types asked for that are no reason to abstain (penalty)

    @cached_property
    def jurisdictions(self) -> frozenset[str]:
        """The jurisdictions among ``names`` (香港特别行政区 → 香港; ``JURISDICTIONS``), the mainland's for a
        place on it (台湾居民在广州开网店 asks about Taiwan and the mainland)."""
        found: set[str] = set()
        for name in self.names:
            if (j := jurisdiction_of(name)) is not None:
                found.add(j)
            elif name in default_places():
                found.add(MAINLAND)
        return frozenset(found)

    def measure_unmet(self, texts: list[str]) -> Measure | None:
        """The first quantity asked for that none of ``texts`` (search keys) states, if any."""
        return next((m for m in self.measures if not any(m.pattern.search(t) for t in texts)), None)

    @property
    def required(self) -> tuple[Concept, ...]:
        return tuple(c for c in self.concepts if not c.optional)

    def credits(self, key: str) -> list[float]:
        return [c.credit(key) for c in self.concepts]

    def coverage(
        self,
        text: str,
        context: str = "",
        context_factor: float = 1.0,
        *,
        partial: bool = True,
        optional: bool = True,
    ) -> float:
        """Weighted share of the required concepts that ``text`` mentions (``context`` — headings, title,
        issuer — counts ``context_factor`` as much). Optional concepts count only when present, and only
        with ``optional``; ``partial`` gives parts of a word (广州 of 广州市) some credit.
        0 when the question has no required concept."""
        contexts = ((search_key(context), context_factor),) if context else ()
        return self.coverage_of_keys(search_key(text), contexts, partial=partial, optional=optional)

    def coverage_of_keys(
        self,
        key: str,
        contexts: tuple[tuple[str, float], ...] = (),
        *,
        partial: bool = True,
        optional: bool = True,
    ) -> float:
        """``coverage`` of search keys; ``contexts``: (key, factor) pairs, each credited ``factor``
        as much."""
        num = den = 0.0
        has_required = False
        for c in self.concepts:
            if c.optional and not optional:
                continue
            got = c.credit(key, partial)
            for context_key, factor in contexts:
                if got >= factor:
                    continue
                got = max(got, factor * c.credit(context_key, partial))
            if c.optional:
                num += c.weight * got
                den += c.weight * got
            else:
                has_required = True
                num += c.weight * got
                den += c.weight
        return num / den if has_required and den > 0 else 0.0

    def mentions_any(self, key: str) -> bool:
        """Whether ``key`` has any required concept (or a synonym of it) in full."""
        return any(any(a in key for a in c.alternatives) for c in self.required)


# ------------------------------------------------------------------------------------------ analysis

_SEPARATOR = " "


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def _abbreviation(word: str) -> re.Pattern[str] | None:
    if 2 <= len(word) <= 4 and all(CJK_CHAR.match(ch) for ch in word):
        return re.compile(".{0,2}".join(map(re.escape, word)))
    return None


def _parts(word: str, stats: TermStats) -> tuple[tuple[str, float], ...]:
    if len(word) < 3:
        return ()
    parts = dict.fromkeys(p for p in jieba.cut_for_search(word) if len(p) >= 2 and p != word)
    return tuple((p, stats.idf(p)) for p in parts)


def _strip_glued(token: str, lex: AnswerLexicon, stats: TermStats) -> str:
    """jieba glues a function character to a word it does not know (带货时, 节在): cut it off when the
    word alone is in the index and the glued form is not."""
    if len(token) < 3 or stats.df(token):
        return token
    if token[-1] in lex.optional and stats.df(token[:-1]):
        return token[:-1]
    if token[0] in lex.optional and stats.df(token[1:]):
        return token[1:]
    return token


def _remove(text: str, phrases: tuple[str, ...]) -> str:
    for p in phrases:
        if p in text:
            text = text.replace(p, _SEPARATOR)
    return text


def _synonyms(
    word: str, said: list[tuple[str, tuple[str, ...]]], lex: AnswerLexicon, taiwan: bool = False
) -> tuple[str, ...]:
    """The notices' wording for ``word``: ``[synonyms]`` of the answerer's lexicon, and the retriever's
    glossary entries for the colloquial phrases the question says (``said``: ``Lexicon.colloquial_in``) that
    overlap ``word``; for a question about Taiwan (``taiwan``), Taiwan's wording for all of them too
    (罚款 → 罚锾)."""
    glossary = default_lexicon()
    out: list[str] = list(lex.synonyms.get(word, ()))
    for phrase, values in said:
        # a word holding the phrase inside a longer word the phrase does not stand for (手续费, 惩罚性) gets
        # none of its renderings
        if (phrase in word and glossary.says(phrase, word)) or (len(word) > 1 and word in phrase):
            out.extend(search_key(v) for v in values)
    if taiwan:
        out.extend(glossary.taiwan_wording([word, *out]))
    return tuple(dict.fromkeys(v for v in out if v and v != word))


def _concept(word: str, alternatives: tuple[str, ...], optional: bool, stats: TermStats) -> Concept:
    optional = optional or (len(word) == 1 and bool(CJK_CHAR.match(word)))
    weight = stats.idf(word) if stats.n_docs else 1.0
    if optional:
        weight = min(weight, OPTIONAL_WEIGHT)
    return Concept(
        word=word,
        alternatives=(word, *alternatives),
        parts=_parts(word, stats),
        weight=weight,
        optional=optional,
        abbreviation=_abbreviation(word),
    )


def _english_groups(forms: QueryForms) -> dict[str, tuple[str, ...]]:
    """Each rendered piece of ``forms.zh`` → the other renderings of the same English word(s).

    ``terms`` lists each English word's renderings together, the chosen one (the piece in ``zh``) first."""
    pieces = [search_key(p) for p in forms.zh.split()]
    groups: dict[str, list[str]] = {p: [] for p in pieces}
    current: str | None = None
    for term in map(search_key, forms.terms):
        if term in groups:
            current = term
        elif current is not None:
            groups[current].append(term)
    return {k: tuple(v) for k, v in groups.items()}


def analyse_forms(forms: QueryForms, stats: TermStats, lexicon: AnswerLexicon | None = None) -> Question:
    lex = lexicon or default_qa_lexicon()
    original = unicodedata.normalize("NFKC", forms.original).lower()
    zh = search_key(forms.zh)
    asked = [cue for cue in lex.cues if cue.asked(zh, original)]
    cues = tuple((cue.name, cue.pattern) for cue in asked)
    spanning = any(w in zh for w in lex.spanning) or any(w in original for w in lex.spanning_en)
    concepts: list[Concept] = []
    seen: set[str] = set()
    if forms.lang == "en":
        groups = _english_groups(forms)
        for piece, alternatives in groups.items():
            if not _is_word(piece) or piece in seen or piece in lex.question or piece in STOPWORDS:
                continue
            seen.add(piece)
            optional = piece in lex.english_fields or piece in lex.optional
            extra = tuple(s for s in lex.synonyms.get(piece, ()) if s not in alternatives)
            concepts.append(_concept(piece, alternatives + extra, optional, stats))
    else:
        rest = _remove(_remove(zh, lex.question), lex.spanning)
        said = default_lexicon().colloquial_in(zh)  # once a question, not once a word
        taiwan = names_taiwan(forms.original)  # as search reads it (``expand_query``)
        for token in jieba.lcut(rest):
            token = _strip_glued(token.strip(), lex, stats)
            if not _is_word(token) or token in seen or token in lex.question or token in STOPWORDS:
                continue
            seen.add(token)
            alternatives = _synonyms(token, said, lex, taiwan)
            concepts.append(_concept(token, alternatives, token in lex.optional, stats))
    return Question(
        text=forms.original,
        zh=forms.zh,
        lang=forms.lang,
        concepts=tuple(concepts),
        cues=tuple(cues),
        spanning=spanning,
        counted=_counted(concepts, cues, lex),
        names=_names(zh, original),
        measures=tuple(m for m in lex.measures if m.asked(zh, original)),
        open_cues=frozenset(cue.name for cue in asked if not cue.abstains),
    )


def _names(zh: str, original: str) -> tuple[str, ...]:
    """Places and platforms named (``names_in``), then the jurisdictions named that none of them is in."""
    names = names_in(zh)
    named = {jurisdiction_of(n) for n in names}
    return names + tuple(j for j in jurisdictions_in(zh, original) if j not in named)


def _counted(
    concepts: list[Concept], cues: tuple[tuple[str, re.Pattern[str]], ...], lex: AnswerLexicon
) -> re.Pattern[str] | None:
    """For a question asking how many: a number followed, within three characters, by one of its words."""
    if not any(name in COUNT_CUES for name, _ in cues):
        return None
    words = sorted(
        {a for c in concepts if c.word not in lex.optional for a in c.alternatives},
        key=lambda w: (-len(w), w),
    )
    if not words:
        return None
    return re.compile(_NUMBER + r"[^，。；,;]{0,3}?(?:" + "|".join(map(re.escape, words)) + ")")
