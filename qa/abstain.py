"""Whether the retrieved clauses answer the question at all — or the answer is "no clause on this".

The deciding feature is **coverage**: the weighted share of the question's required concepts (after
synonym expansion; ``qa/question.py``) that the best of the top ``window`` clauses mentions in full —
its text or its headings, title, issuer, region, platform. A word no notice uses weighs most, so a
question about 广州 or 快手 or 保证金 loses most of its coverage when the notices never say it; a
question phrased in other words than the notice ("实行" for "实施") loses little, because light verbs are
optional and the lexicon maps near-synonyms.

The rule and its threshold live in ``qa/abstain.toml``, written by ``python -m policykb.qa.calibrate``
(which also records the fitting data and procedure). Retrieval scores (fused, dense cosine, BM25) are
reported with every decision for evaluation but are not part of the rule: on the development set they do
not separate answerable from unanswerable questions (m3e-small gives an off-topic question a cosine of
0.70–0.79, an answerable one 0.68–0.84).
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from policykb.errors import ConfigError
from policykb.index.search import Hit
from policykb.qa.extractive import clause_key, context_key
from policykb.qa.question import Question

ABSTAIN_PATH = Path(__file__).resolve().parent / "abstain.toml"
CONTENT_WINDOW = 5  # "no content word of the question in any of the top 5 clauses" ⇒ abstain


@dataclass(frozen=True)
class Features:
    coverage: float  # best full-word coverage of the required concepts among the top `window` clauses
    content_found: bool  # some required concept (or a synonym) occurs in one of the top 5 clauses
    fused: float  # the top hit's score (fused RRF; +1 for a reference hit)
    dense: float  # the top hit's dense cosine (0 if it came from BM25 only)
    bm25: float  # the top hit's BM25 score (0 if it came from the dense side only)
    best_clause_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        for name in ("coverage", "fused", "dense", "bm25"):
            d[name] = round(float(d[name]), 4)
        return d


@dataclass(frozen=True)
class Rule:
    """Abstain when no required concept is in the top clauses, or coverage < ``min_coverage``."""

    min_coverage: float
    window: int = 5
    require_content_word: bool = True

    def abstains(self, f: Features) -> tuple[bool, str]:
        """(abstain?, why) — the reason is shown to people and recorded by the evaluation."""
        if self.require_content_word and not f.content_found:
            return True, "no word of the question occurs in the top clauses"
        if f.coverage < self.min_coverage:
            return True, f"coverage {f.coverage:.2f} < {self.min_coverage:.2f}"
        return False, f"coverage {f.coverage:.2f} ≥ {self.min_coverage:.2f}"


def features(question: Question, hits: list[Hit], window: int = 5) -> Features:
    top = hits[0] if hits else None
    best, best_id = 0.0, None
    found = False
    for hit in hits[: max(window, CONTENT_WINDOW)]:
        c = hit.clause
        text, frame = clause_key(c.text), context_key(c)
        if hit.rank <= CONTENT_WINDOW and not found:
            found = question.mentions_any(text) or question.mentions_any(frame)
        if hit.rank <= window:
            cov = question.coverage_of_keys(text, ((frame, 1.0),), partial=False, optional=False)
            if cov > best:
                best, best_id = cov, c.clause_id
    signals = top.signals if top else {}
    return Features(
        coverage=best,
        content_found=found,
        fused=float(top.score) if top else 0.0,
        dense=float(signals.get("dense", 0.0)),
        bm25=float(signals.get("bm25", 0.0)),
        best_clause_id=best_id,
    )


def read_rule(path: Path = ABSTAIN_PATH) -> Rule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the abstention rule ({exc}); "
            "refit it with `python -m policykb.qa.calibrate`"
        ) from exc
    rule = data.get("rule")
    allowed = {"min_coverage", "window", "require_content_word"}
    if not isinstance(rule, dict) or "min_coverage" not in rule or set(rule) - allowed:
        raise ConfigError(
            f"{path}: [rule] needs min_coverage (and optionally window, require_content_word); "
            f"allowed keys: {', '.join(sorted(allowed))}"
        )
    value = rule["min_coverage"]
    if not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{path}: [rule] min_coverage must be a number in [0, 1], not {value!r}")
    return Rule(
        min_coverage=float(value),
        window=int(rule.get("window", 5)),
        require_content_word=bool(rule.get("require_content_word", True)),
    )


@lru_cache(maxsize=1)
def default_rule() -> Rule:
    return read_rule()
