"""Fit the abstention model (``qa/abstain.py``) on the team's question set and record it in ``qa/abstain.toml``.

    policykb calibrate                 # fit, print the curves, write qa/abstain.toml
    policykb calibrate --dry-run       # … without writing

Procedure:

1. One knowledge base holds every document of the set (``tests/data/eval/split.toml``); each question is
   searched (k = 30) and its ``Features`` computed. The development questions (on the seed notices, which
   are fit documents) join the fit part.
2. A logistic regression (L2, features standardised on the fit part) is fitted on the **fit** part only:
   answerable = 1, "none" = 0.
3. The operating point is chosen on the fit part from *out-of-fold* probabilities (folds by document, so a
   document's questions are never scored by a model that saw them): the threshold of least cost,
   cost = 2 × (unanswerable answered) + 1 × (answerable abstained); of the thresholds within one bootstrap
   standard error of the least cost (the fit cannot tell them apart) the lowest, answering most — needless
   abstentions are what users met — in the middle of its widest gap.
4. The **validation** part is only scored: its curve (share of "none" questions abstaining and of answerable
   questions abstaining at each threshold) is written beside the model, never used to choose it.

>>> fit_threshold([(0.9, False), (0.74, False), (0.29, True), (0.2, True)]).threshold
0.52
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from policykb.qa.abstain import ABSTAIN_PATH, FEATURES, KEYWORD_FEATURES, Features, Rule, features
from policykb.qa.answer import DEPTH, analyse
from policykb.qa.rerank import Reranker, rerank_retrieval

if TYPE_CHECKING:
    from policykb.index.store import KnowledgeBase
    from policykb.qa.evaluation import Question as EvalQuestion
    from policykb.qa.evaluation import QuestionSet

DEV_NAME = "dev_questions.jsonl"  # the development set, on the seed notices (fit documents)
NONE_COST = 2.0
BOOTSTRAP = 200  # resamples for the standard error of the least cost (fit_threshold)
L2 = 1.0
FOLDS = 5
WINDOW = 10
CURVE = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass(frozen=True)
class Fit:
    threshold: float
    cost: float
    low: float  # the chosen interval: the highest value below t …
    high: float  # … and the lowest value at or above t


def fit_threshold(
    points: Sequence[tuple[float, bool]], none_cost: float = NONE_COST, *, resamples: int = BOOTSTRAP
) -> Fit:
    """``points``: (score, is_unanswerable). Abstain when score < threshold.

    The cost of a threshold is ``none_cost`` × unanswerable answered + 1 × answerable abstained. Its least
    value is an estimate with an error: thresholds whose cost is within one standard error of it (from
    ``resamples`` bootstrap resamples of the points, seeded) cannot be told apart by the fit, and of those the
    lowest — the one answering most — is taken, because needless abstentions are what users met (the
    one-standard-error rule, leaning towards answering). Within its stretch, the middle of the widest gap.
    ``resamples=0``: the least cost alone.

    >>> fit_threshold([(0.95, False), (0.55, True), (0.52, False), (0.5, False), (0.2, True)], resamples=0).threshold
    0.35
    """
    if not points:
        raise ValueError("no questions to fit the abstention threshold on")
    values = sorted({round(v, 6) for v, _ in points})
    edges = [values[0] - 0.02, *values, values[-1] + 0.02]
    scores = np.array([v for v, _ in points])
    none = np.array([n for _, n in points], dtype=bool)

    def cost(t: float, rows: np.ndarray | slice = slice(None)) -> float:
        s, n = scores[rows], none[rows]
        return float(none_cost * np.sum((s >= t) & n) + np.sum((s < t) & ~n))

    gaps = [(cost((lo + hi) / 2), lo, hi) for lo, hi in itertools.pairwise(edges)]
    c, best_lo, best_hi = min(gaps, key=lambda g: (g[0], -(g[2] - g[1])))
    band = c
    if resamples:
        rng = np.random.default_rng(0)
        t_best = (best_lo + best_hi) / 2
        boot = [cost(t_best, rng.integers(0, len(points), len(points))) for _ in range(resamples)]
        band = c + float(np.std(boot))
    first = next(i for i, g in enumerate(gaps) if g[0] <= band)
    stretch = list(itertools.takewhile(lambda g: g[0] <= band, gaps[first:]))
    c, low, high = max(stretch, key=lambda g: g[2] - g[1])
    t = round((low + high) / 2, 2)
    if not low < t <= high:
        t = (low + high) / 2
    return Fit(max(0.0, min(1.0, t)), c, low, high)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method on the L2-penalised log-loss (the intercept is not penalised); ``x`` standardised."""
    n, d = x.shape
    a = np.hstack([np.ones((n, 1)), x])
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -50, 50)))
        grad = a.T @ (p - y) + penalty * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(penalty) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[1:], float(w[0])


def train(
    feats: Sequence[Features],
    answerable: Sequence[bool],
    threshold: float = 0.5,
    names: tuple[str, ...] = FEATURES,
    embedding_model: str | None = None,
) -> Rule:
    x = np.array([[f.value(n) for n in names] for f in feats], dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    coef, intercept = fit_logistic((x - mean) / scale, np.array(answerable, dtype=np.float64))
    return Rule(
        names,
        tuple(map(float, mean)),
        tuple(map(float, scale)),
        tuple(map(float, coef)),
        intercept,
        threshold,
        WINDOW,
        embedding_model,
    )


def out_of_fold(
    feats: Sequence[Features],
    answerable: Sequence[bool],
    groups: Sequence[str],
    names: tuple[str, ...] = FEATURES,
) -> list[float]:
    """p(answerable) of each question from a model fitted without its document's fold."""
    docs = sorted(set(groups))
    fold_of = {d: i % FOLDS for i, d in enumerate(docs)}
    probs = [0.0] * len(feats)
    for k in range(FOLDS):
        train_idx = [i for i, g in enumerate(groups) if fold_of[g] != k]
        rule = train([feats[i] for i in train_idx], [answerable[i] for i in train_idx], names=names)
        for i, g in enumerate(groups):
            if fold_of[g] == k:
                probs[i] = rule.decision_score(feats[i])
    return probs


def curve(
    probs: Sequence[float], answerable: Sequence[bool], thresholds: Sequence[float] = CURVE
) -> list[tuple[float, float, float]]:
    """(threshold, share of "none" questions abstaining, share of answerable questions abstaining)."""
    none = [p for p, a in zip(probs, answerable) if not a]
    ans = [p for p, a in zip(probs, answerable) if a]
    return [
        (t, sum(p < t for p in none) / max(len(none), 1), sum(p < t for p in ans) / max(len(ans), 1))
        for t in thresholds
    ]


def question_features(
    kb: KnowledgeBase, questions: Sequence[EvalQuestion], reranker: Reranker | None = None
) -> list[Features]:
    """``Features`` of each question's search (re-ranked by ``reranker``, default ``qa/rerank.toml``)."""
    out = []
    for q in questions:
        found = kb.retrieve(q.q, k=DEPTH, rerank=reranker is None)
        if reranker is not None:
            found = rerank_retrieval(kb, found, reranker)
        out.append(features(analyse(kb, q.q, found.query.forms), found.hits, WINDOW))
    return out


def data_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in [folder / "split.toml", *sorted((folder / "questions").glob("*.jsonl")), folder / DEV_NAME]:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


@dataclass
class Fitted:
    rule: Rule
    fit_curve: list[tuple[float, float, float]]
    validation_curve: list[tuple[float, float, float]]


@dataclass
class Calibration:
    models: dict[str, Fitted]  # "model" (dense signals too) and "keyword_model" (no dense signal)
    n_fit: tuple[int, int]  # answerable, none
    n_validation: tuple[int, int]
    data_hash: str
    model_name: str

    @property
    def rule(self) -> Rule:
        return self.models["model"].rule


def _fit_one(
    fit_f: list[Features],
    fit_y: list[bool],
    groups: list[str],
    val_f: list[Features],
    val_y: list[bool],
    names: tuple[str, ...],
    model_name: str | None,
) -> Fitted:
    oof = out_of_fold(fit_f, fit_y, groups, names)
    t = fit_threshold([(p, not a) for p, a in zip(oof, fit_y)]).threshold
    rule = train(fit_f, fit_y, t, names, model_name)
    val_p = [rule.decision_score(f) for f in val_f]
    thresholds = tuple(sorted({*CURVE, t}))
    return Fitted(rule, curve(oof, fit_y, thresholds), curve(val_p, val_y, thresholds))


def calibrate(
    kb: KnowledgeBase,
    qset: QuestionSet,
    folder: Path,
    model_name: str,
    extra_fit: Sequence[EvalQuestion] = (),
    reranker: Reranker | None = None,
) -> Calibration:
    """``extra_fit``: more questions on fit documents (the development set on the seeds), grouped with
    them for the folds by their ``doc`` field; ``reranker``: the search's re-ranking model the answerer
    will see (default ``qa/rerank.toml``)."""
    fit_qs = [*qset.fit, *extra_fit]
    fit_f = question_features(kb, fit_qs, reranker)
    fit_y = [q.answerable for q in fit_qs]
    groups = [q.near or f"dev:{q.doc}" if not q.answerable else q.doc for q in fit_qs]
    val_f = question_features(kb, qset.validation, reranker)
    val_y = [q.answerable for q in qset.validation]
    models = {
        "model": _fit_one(fit_f, fit_y, groups, val_f, val_y, FEATURES, model_name),
        "keyword_model": _fit_one(fit_f, fit_y, groups, val_f, val_y, KEYWORD_FEATURES, ""),
    }
    return Calibration(
        models,
        (sum(fit_y), len(fit_y) - sum(fit_y)),
        (sum(val_y), len(val_y) - sum(val_y)),
        data_hash(folder),
        model_name,
    )


def _floats(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"


def render_toml(c: Calibration) -> str:
    lines = [
        "# The answerer's abstention models (qa/abstain.py), written by `policykb calibrate`",
        "# (qa/calibrate.py has the procedure). Do not edit by hand: refit.",
        "# [model] reads the dense signals too and is used when the knowledge base embeds with `embedding_model`;",
        "# [keyword_model] reads no dense score and is used with any other embedding model.",
    ]
    for name, fitted in c.models.items():
        r = fitted.rule
        lines += [
            "",
            f"[{name}]",
            f"names = {json.dumps(list(r.names))}",
            f"mean = {_floats(r.mean)}",
            f"scale = {_floats(r.scale)}",
            f"coef = {_floats(r.coef)}",
            f"intercept = {r.intercept:.6g}",
            f"threshold = {r.threshold}  # abstain when p(answered) is below; chosen out-of-fold on the fit part",
            f"window = {r.window}  # top clauses examined",
            f"embedding_model = {json.dumps(r.embedding_model or '')}",
        ]
    lines += [
        "",
        "[fit]",
        'questions = "tests/data/eval (split.toml + questions/*.jsonl)"',
        f"data_hash = {json.dumps(c.data_hash)}",
        f"date = {json.dumps(date.today().isoformat())}",
        f"fit_answerable = {c.n_fit[0]}",
        f"fit_unanswerable = {c.n_fit[1]}",
        f"validation_answerable = {c.n_validation[0]}",
        f"validation_unanswerable = {c.n_validation[1]}",
        f"none_cost = {NONE_COST}",
        f"l2 = {L2}",
        "",
        "# [threshold, share of 'none' questions abstaining, share of answerable questions abstaining]",
        "# fit: out-of-fold (folds by document); validation: the final model, never used to choose anything.",
    ]
    for name, fitted in c.models.items():
        lines += [
            f"[curves.{name}]",
            "fit = [" + ", ".join(_floats(row) for row in fitted.fit_curve) + "]",
            "validation = [" + ", ".join(_floats(row) for row in fitted.validation_curve) + "]",
        ]
    return "\n".join(lines) + "\n"


def format_curves(c: Calibration) -> str:
    lines = [
        (
            f"fit {c.n_fit[0]} answerable + {c.n_fit[1]} none; validation {c.n_validation[0]} + "
            f"{c.n_validation[1]}; data {c.data_hash}"
        )
    ]
    for name, fitted in c.models.items():
        r = fitted.rule
        lines += [
            f"[{name}] {len(r.names)} features, threshold {r.threshold}",
            "  " + "  ".join(f"{n} {w:+.2f}" for n, w in zip(r.names, r.coef)),
            "  threshold  fit: none abstain / answerable abstain   validation: none / answerable",
        ]
        for (t, fn, fa), (_, vn, va) in zip(fitted.fit_curve, fitted.validation_curve):
            mark = " ←" if math.isclose(t, r.threshold) else ""
            lines.append(
                f"    {t:.2f}       {fn:.3f} / {fa:.3f}                       {vn:.3f} / {va:.3f}{mark}"
            )
    return "\n".join(lines)


def write(c: Calibration, path: Path = ABSTAIN_PATH) -> None:
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(render_toml(c), encoding="utf-8")
    tmp.replace(path)
