"""Whether the retrieved clauses answer the question at all — or the answer is "no clause on this".

The decision is a small logistic model over signals of the evidence, not a word count:

- ``coverage``: the IDF-weighted share of the question's required concepts (after term mapping:
  ``qa/question.py``) that the best of the top ``window`` clauses mentions in full — text or headings;
- ``partial``: the same with partial credit (广州 of 广州市, 收取…费用 for 收费);
- ``missing``: the IDF of the most specific question word found in none of those clauses (税率, 快手);
- ``dense`` / ``dense_gap``: the best dense cosine among the top 5 and how far it stands above the top 10;
- ``bm25`` / ``bm25_gap``: the best BM25 score (log) and the lead of the first over the second;
- ``fused_gap``: the fused lead of the first hit over the second;
- ``agreement``: the first hit is in the top 3 of both BM25 and dense rankings;
- ``reference``: the question names a clause (第三十八条, 3.1.2) and the index has it;
- ``content``: some required concept occurs in the top 5 clauses at all;
- ``sentence``: the best full-word coverage of a single sentence (an answer is said in one place);
- ``name_missing``: the question names a place or platform (``qa/names.toml``: 广州, 拼多多) and every one of
  the top 5 clauses belongs to a notice of another region or platform — not a decision weight but a rule:
  such a question abstains (a nationwide law applies to every place and platform, so it never counts —
  except for a question naming another jurisdiction, 台湾, 香港, 澳门 or the mainland: ``_scoped_elsewhere``);
- ``cue_missing``: the question asks for an answer type (an amount of money, a period, a number, a date, a
  place, who) and no sentence of the top 3 clauses that mentions the question has one of each. Answer types
  marked ``abstains = false`` in ``qa/lexicon.toml`` (a penalty, a definition) do not count.

The coefficients, the standardisation and the operating point live in ``qa/abstain.toml``, written by
``policykb calibrate`` (``qa/calibrate.py``) from the fit part of the team's question set, with the data
hash, the fit and the validation curve beside them.

>>> rule = Rule(("coverage",), (0.5,), (0.25,), (4.0,), 0.0, 0.5)
>>> round(rule.probability(Features(coverage=0.9)), 3), rule.abstains(Features(coverage=0.2))[0]
(0.998, True)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path

from policykb.errors import ConfigError
from policykb.index.search import Hit
from policykb.ingest.record import Clause
from policykb.ingest.text import search_key
from policykb.qa.extractive import clause_key, context_key, sentence_keys
from policykb.qa.question import JURISDICTIONS, MAINLAND, Question, jurisdiction_of
from policykb.tomlfile import read_toml

ABSTAIN_PATH = Path(__file__).resolve().parent / "abstain.toml"
CONTENT_WINDOW = 5  # `content`, `dense`, `bm25` look at the top 5 clauses
GAP_WINDOW = 10
# What the model reads: signals whose scale does not grow with the knowledge base (raw BM25 and IDF do: a
# model fitted on 30 documents would misread them on a user's four), and not near-copies of each other.
# The rest are reported with every decision.
FEATURES = ("coverage", "dense", "dense_gap", "fused_gap", "reference", "content", "sentence", "cue_missing")
CLIP = 3.0  # standardised values beyond ±3 are read as ±3: a knowledge base unlike the fit one cannot
# push one signal into deciding alone
# Dense scores are the embedding model's own scale: with another model than the one fitted on, a model of
# the keyword-side signals alone decides.
KEYWORD_FEATURES = tuple(n for n in FEATURES if n not in ("dense", "dense_gap", "fused_gap", "agreement"))
TABLES = ("model", "keyword_model")
NATIONWIDE = frozenset({"全国", "中国", "中华人民共和国"})
CUE_WINDOW = 3
CUE_COVERAGE = 0.2  # a sentence answers an answer type only when it also mentions what is asked about


@dataclass(frozen=True)
class Features:
    coverage: float = 0.0
    partial: float = 0.0
    missing: float = 0.0
    dense: float = 0.0
    dense_gap: float = 0.0
    bm25: float = 0.0
    bm25_gap: float = 0.0
    fused_gap: float = 0.0
    agreement: float = 0.0
    reference: float = 0.0
    content: float = 0.0
    sentence: float = 0.0
    cue_missing: float = 0.0
    name_missing: float = 0.0
    best_clause_id: str | None = None
    elsewhere: tuple[str, ...] = ()  # the names behind ``name_missing``

    def value(self, name: str) -> float:
        return float(getattr(self, name))

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        for name in SIGNALS:
            d[name] = round(float(d[name]), 4)
        return d


SIGNALS = tuple(
    f.name for f in fields(Features) if f.name not in ("best_clause_id", "elsewhere")
)  # every signal, reported


@dataclass(frozen=True)
class Rule:
    """p(answerable) = σ(intercept + Σ coef·(x − mean)/scale); abstain when p < ``threshold``."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    window: int = 10
    embedding_model: str | None = None  # the dense scores it was fitted on; None: it reads none

    def probability(self, f: Features) -> float:
        z = self.intercept + sum(
            c * max(-CLIP, min(CLIP, (f.value(n) - m) / s))
            for n, m, s, c in zip(self.names, self.mean, self.scale, self.coef)
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def decision_score(self, f: Features) -> float:
        """What the threshold is compared with: 1 for a question naming a held clause, 0 when no word of
        the question is in the top clauses (see ``abstains``), else ``probability``."""
        if f.reference:
            return 1.0
        return self.probability(f) if f.content and not f.name_missing else 0.0

    def abstains(self, f: Features) -> tuple[bool, str]:
        """(abstain?, why) — the reason is shown to people and recorded by the evaluation. A question none of
        whose words occurs in the top clauses abstains, and one naming a clause the index holds (第三十八条,
        3.1.2) is answered from it, whatever the model says: the fit data has no such cases to learn from. A
        question about a place or platform abstains when every top clause is from a notice of another one."""
        if f.reference:
            return False, "the question names a clause the knowledge base holds"
        if not f.content:
            return True, "no word of the question occurs in the top clauses"
        if f.name_missing:
            return True, f"the question is about {'、'.join(f.elsewhere)}; no clause found is"
        p = self.probability(f)
        if p < self.threshold:
            return True, f"p(answered) {p:.2f} < {self.threshold:.2f}"
        return False, f"p(answered) {p:.2f} ≥ {self.threshold:.2f}"


def features(question: Question, hits: list[Hit], window: int = 10) -> Features:
    top = hits[:window]
    best = partial = 0.0
    best_id = None
    found: set[str] = set()
    content = False
    elsewhere = set(question.names)  # places and platforms asked about that every top clause is not about
    asked = question.jurisdictions
    for hit in top:
        c = hit.clause
        text, frame = clause_key(c.text), context_key(c)
        if hit.rank <= CONTENT_WINDOW:
            content = content or question.mentions_any(text) or question.mentions_any(frame)
            elsewhere = {n for n in elsewhere if _scoped_elsewhere(n, c, text, frame, asked)}
        cov = question.coverage_of_keys(text, ((frame, 1.0),), partial=False, optional=False)
        if cov > best:
            best, best_id = cov, c.clause_id
        partial = max(partial, question.coverage_of_keys(text, ((frame, 1.0),), optional=False))
        found.update(k.word for k in question.required if k.credit(text, False) or k.credit(frame, False))
    missing = max((k.weight for k in question.required if k.word not in found), default=0.0)
    sentence = 0.0
    unmet = {name for name, _ in question.cues} - question.open_cues  # asked for and not yet seen
    for hit in top:
        for key in sentence_keys(hit.clause.text):
            cov = question.coverage_of_keys(key, partial=False, optional=False)
            sentence = max(sentence, cov)
            if hit.rank <= CUE_WINDOW and cov >= CUE_COVERAGE:
                unmet -= {name for name, pattern in question.cues if pattern.search(key)}
    dense = [h.signals["dense"] for h in hits[:GAP_WINDOW] if "dense" in h.signals]
    bm25 = sorted((h.signals["bm25"] for h in hits[:GAP_WINDOW] if "bm25" in h.signals), reverse=True)
    first = hits[0].signals if hits else {}
    return Features(
        coverage=best,
        partial=partial,
        missing=missing,
        dense=max(dense[:CONTENT_WINDOW], default=0.0),
        dense_gap=(max(dense) - sum(dense) / len(dense)) if dense else 0.0,
        bm25=math.log1p(max(bm25[:CONTENT_WINDOW], default=0.0)),
        bm25_gap=(bm25[0] - bm25[1]) / bm25[0] if len(bm25) > 1 and bm25[0] > 0 else 0.0,
        fused_gap=min(1.0, hits[0].score - hits[1].score) if len(hits) > 1 else 0.0,
        agreement=float(first.get("bm25_rank", 99) <= 3 and first.get("dense_rank", 99) <= 3),
        reference=float("reference" in first),
        content=float(content),
        sentence=sentence,
        cue_missing=float(bool(unmet)),
        name_missing=float(bool(elsewhere)),
        best_clause_id=best_id,
        elsewhere=tuple(n for n in question.names if n in elsewhere),
    )


def elsewhere_names(question: Question, c: Clause) -> tuple[str, ...]:
    """The places and platforms ``question`` names that clause ``c`` is not about (see
    ``_scoped_elsewhere``): an answer about 抖音 is not quoted from a 微视 notice."""
    if not question.names:
        return ()
    text, frame = clause_key(c.text), context_key(c)
    asked = question.jurisdictions
    return tuple(n for n in question.names if _scoped_elsewhere(n, c, text, frame, asked))


def _scoped_elsewhere(name: str, c: Clause, text: str, frame: str, asked: frozenset[str]) -> bool:
    """Whether clause ``c`` is about another place or platform than ``name``: it does not name it, and its
    notice is scoped to a region (not nationwide) or a platform. A nationwide law with no platform applies
    to 广州 and to 拼多多 alike, so it is never "elsewhere" — except for a question about another
    jurisdiction (台湾, 香港, 澳门 or the mainland, ``qa/question.py``): the mainland's national laws do not
    govern Taiwan, nor Taiwan's acts the mainland. A notice of any jurisdiction the question names
    (``asked``: 台湾居民在大陆开网店 names two) is not elsewhere for either."""
    if name in text or name in frame:
        return False
    m = c.metadata
    if jurisdiction_of(name) is not None:
        return notice_jurisdiction(m.region) not in asked
    regional = bool(m.region and search_key(m.region) not in NATIONWIDE)
    return regional or bool(m.platform)


def notice_jurisdiction(region: str | None) -> str:
    """The jurisdiction of a notice of ``region`` (metadata): 台湾, 香港 or 澳门 when it is theirs, else the
    mainland (a national law has no region, or 全国)."""
    key = search_key(region or "")
    return next((j for j in JURISDICTIONS if j != MAINLAND and j in key), MAINLAND)


def _read_table(path: Path, name: str, model: object) -> Rule:
    allowed = {"names", "mean", "scale", "coef", "intercept", "threshold", "window", "embedding_model"}
    if not isinstance(model, dict) or set(model) != allowed:
        raise ConfigError(f"{path}: [{name}] needs exactly these keys: {', '.join(sorted(allowed))}")
    names = tuple(model["names"])
    unknown = set(names) - set(SIGNALS)
    if unknown:
        raise ConfigError(f"{path}: [{name}] unknown features {sorted(unknown)}; known: {', '.join(SIGNALS)}")
    vectors = [tuple(float(x) for x in model[k]) for k in ("mean", "scale", "coef")]
    if any(len(v) != len(names) for v in vectors) or any(s <= 0 for s in vectors[1]):
        raise ConfigError(f"{path}: [{name}] mean, scale and coef need one value per feature; scale > 0")
    threshold = model["threshold"]
    if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise ConfigError(f"{path}: [{name}] threshold must be a number in [0, 1], not {threshold!r}")
    return Rule(
        names,
        vectors[0],
        vectors[1],
        vectors[2],
        float(model["intercept"]),
        float(threshold),
        int(model["window"]),
        str(model["embedding_model"]) or None,
    )


def read_rules(path: Path = ABSTAIN_PATH) -> dict[str, Rule]:
    """``{"model": …, "keyword_model": …}`` from ``path``."""
    data = read_toml(path, "the abstention model", hint="refit it with `policykb calibrate`")
    return {name: _read_table(path, name, data.get(name)) for name in TABLES}


def read_rule(path: Path = ABSTAIN_PATH) -> Rule:
    return read_rules(path)["model"]


@lru_cache(maxsize=1)
def default_rules() -> dict[str, Rule]:
    return read_rules()


def default_rule() -> Rule:
    return default_rules()["model"]


def rule_for(embedding_model: str) -> Rule:
    """The fitted model when the knowledge base embeds with the model it was fitted on, else the keyword one."""
    rules = default_rules()
    full = rules["model"]
    return full if full.embedding_model == embedding_model else rules["keyword_model"]
