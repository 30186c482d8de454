"""Fit the abstention threshold on a labelled question set and record it in ``qa/abstain.toml``.

    python -m policykb.qa.calibrate                      # print the table and the fitted rule
    python -m policykb.qa.calibrate --write              # … and write qa/abstain.toml

It answers nothing: for each question it retrieves the top clauses from the knowledge base under
``$POLICYKB_HOME`` (built from the bundled corpus with ``policykb ingest``) and computes the abstention
features (``qa/abstain.py``). The threshold on coverage is then chosen as follows:

1. every candidate threshold t (abstain when coverage < t) costs 2 × (unanswerable questions answered)
   + 1 × (answerable questions abstained) — inventing an answer is worse than a needless "not found";
2. among the thresholds of least cost, the interval between two neighbouring observed values that is
   widest wins, and t is its midpoint, rounded to two decimals — the largest margin on both sides,
   because a larger held-out set has questions a little either side of the development ones.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from policykb.qa.abstain import ABSTAIN_PATH, Features, Rule, features, read_rule
from policykb.qa.answer import DEPTH, analyse

DEV_QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "eval" / "dev_questions.jsonl"
NONE_COST = 2.0
WINDOWS = (3, 5, 10)


@dataclass(frozen=True)
class Fit:
    threshold: float
    cost: float
    low: float  # the chosen interval: the highest value below t …
    high: float  # … and the lowest value at or above t
    answerable_min: float
    none_max: float


def fit_threshold(points: list[tuple[float, bool]], none_cost: float = NONE_COST) -> Fit:
    """``points``: (coverage, is_unanswerable). Abstain when coverage < threshold.

    >>> fit_threshold([(0.9, False), (0.74, False), (0.29, True), (0.2, True)]).threshold
    0.52
    """
    if not points:
        raise ValueError("no questions to fit the abstention threshold on")
    values = sorted({round(v, 6) for v, _ in points})
    edges = [values[0] - 0.02, *values, values[-1] + 0.02]  # below the lowest, above the highest

    def cost(t: float) -> float:
        return sum(none_cost if is_none else 0.0 for v, is_none in points if v >= t and is_none) + sum(
            1.0 for v, is_none in points if v < t and not is_none
        )

    best: tuple[float, float, float, float] | None = None  # (cost, -width, low, high)
    for low, high in itertools.pairwise(edges):
        t = (low + high) / 2
        key = (cost(t), -(high - low), low, high)
        if best is None or key < best:
            best = key
    assert best is not None
    c, _, low, high = best
    t = round((low + high) / 2, 2)
    if not low < t <= high:  # rounding left the interval (a very narrow one): keep the exact midpoint
        t = (low + high) / 2
    answerable = [v for v, is_none in points if not is_none]
    nones = [v for v, is_none in points if is_none]
    return Fit(
        threshold=max(0.0, min(1.0, t)),
        cost=c,
        low=low,
        high=high,
        answerable_min=min(answerable, default=float("nan")),
        none_max=max(nones, default=float("nan")),
    )


def question_features(kb, questions: list[dict], windows=WINDOWS) -> list[dict[int, Features]]:
    out = []
    for q in questions:
        hits = kb.search(q["q"], k=DEPTH)
        parsed = analyse(kb, q["q"])
        out.append({w: features(parsed, hits, w) for w in windows})
    return out


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def render_toml(
    rule: Rule,
    fit: Fit,
    questions: list[dict],
    feats: list[dict[int, Features]],
    *,
    source: str,
    model: str,
    windows: dict[int, Fit],
) -> str:
    lines = [
        "# The answerer's abstention rule (qa/abstain.py).",
        "# Written by `python -m policykb.qa.calibrate --write`;",
        "# the procedure is in that module's docstring and summarised under [fit].",
        "",
        "[rule]",
        f"window = {rule.window}  # top clauses examined",
        f"min_coverage = {rule.min_coverage}  # abstain below (weighted share of required concepts found)",
        (
            f"require_content_word = {'true' if rule.require_content_word else 'false'}  "
            "# abstain when no required concept is in the top 5 clauses"
        ),
        "",
        "[fit]",
        f"questions = {_toml_str(source)}",
        f"embedding_model = {_toml_str(model)}",
        f"date = {_toml_str(date.today().isoformat())}",
        f"answerable = {sum(q['doc'] != 'none' for q in questions)}",
        f"unanswerable = {sum(q['doc'] == 'none' for q in questions)}",
        f"answerable_min_coverage = {fit.answerable_min:.4f}",
        f"unanswerable_max_coverage = {fit.none_max:.4f}",
        f"chosen_interval = [{fit.low:.4f}, {fit.high:.4f}]",
        f"cost = {fit.cost}  # 2 x unanswerable answered + 1 x answerable abstained, at the threshold",
        'procedure = """',
        "For each question: hybrid search (k = 30); coverage = max over the top `window` clauses of the",
        "IDF-weighted share of the question's required concepts (question words removed, light verbs",
        "optional, synonyms from the glossary and qa/lexicon.toml) found in full in the clause text or its",
        "headings, title, issuer, region, platform. Candidate thresholds lie between neighbouring observed",
        "values; cost = 2 x (unanswerable answered) + 1 x (answerable abstained); among the least-cost",
        "intervals the widest wins and the threshold is its midpoint rounded to 2 decimals (largest margin",
        "both sides).",
        'The window (3, 5 or 10 clauses) with the least cost, then the widest interval, is used."""',
        "",
        "# The other windows, for comparison: [threshold, cost, interval width]",
        "[fit.windows]",
    ]
    for w, f in sorted(windows.items()):
        lines.append(f"top{w} = [{f.threshold}, {f.cost}, {f.high - f.low:.4f}]")
    lines += [
        "",
        "# Feature values of every question (coverage in the chosen window; retrieval scores of the top",
        "# hit).",
    ]
    for q, fs in zip(questions, feats):
        f = fs[rule.window]
        lines += [
            "[[fit.question]]",
            f"id = {_toml_str(q.get('id', ''))}",
            f"doc = {_toml_str(q['doc'])}",
            f"coverage = {f.coverage:.4f}",
            f"content_found = {'true' if f.content_found else 'false'}",
            f"dense = {f.dense:.4f}",
            f"bm25 = {f.bm25:.4f}",
            f"fused = {f.fused:.4f}",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m policykb.qa.calibrate", description=__doc__.split("\n")[0])
    p.add_argument(
        "--questions", type=Path, default=DEV_QUESTIONS, help="JSONL with q and doc ('none' = unanswerable)"
    )
    p.add_argument("--write", action="store_true", help=f"write {ABSTAIN_PATH}")
    p.add_argument("--out", type=Path, default=ABSTAIN_PATH)
    args = p.parse_args(argv)

    from policykb.config import Settings
    from policykb.index.store import KnowledgeBase

    settings = Settings.load()
    kb = KnowledgeBase.open(settings)
    if not kb.documents():
        print(f"the knowledge base at {settings.home} is empty: run `policykb ingest` first", file=sys.stderr)
        return 1
    questions = [
        json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    feats = question_features(kb, questions)
    fits = {
        w: fit_threshold([(fs[w].coverage, q["doc"] == "none") for q, fs in zip(questions, feats)])
        for w in WINDOWS
    }
    window = min(fits, key=lambda w: (fits[w].cost, -(fits[w].high - fits[w].low), w))
    fit = fits[window]
    try:
        require = read_rule(args.out).require_content_word
    except Exception:  # noqa: BLE001 — a missing or broken file is being replaced
        require = True
    rule = Rule(min_coverage=fit.threshold, window=window, require_content_word=require)

    print(
        f"{'id':<8} {'doc':<9} " + " ".join(f"top{w:<3}" for w in WINDOWS) + "  dense   bm25  found  question"
    )
    for q, fs in zip(questions, feats):
        covs = " ".join(f"{fs[w].coverage:6.3f}" for w in WINDOWS)
        f = fs[window]
        print(
            f"{q.get('id', ''):<8} {q['doc']:<9} {covs}  {f.dense:.3f} {f.bm25:6.2f}  "
            f"{f.content_found!s:<5}  {q['q']}"
        )
    for w, f in fits.items():
        print(
            f"top{w}: threshold {f.threshold} cost {f.cost} interval [{f.low:.3f}, {f.high:.3f}] "
            f"answerable min {f.answerable_min:.3f} unanswerable max {f.none_max:.3f}"
        )
    print(f"rule: window {rule.window}, min_coverage {rule.min_coverage}")
    if args.write:
        model = kb.manifest.get("model") or settings.embedding_model
        if isinstance(model, dict):
            model = model.get("name", model)
        args.out.write_text(
            render_toml(
                rule, fit, questions, feats, source=str(args.questions.name), model=str(model), windows=fits
            ),
            encoding="utf-8",
        )
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
