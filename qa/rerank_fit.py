"""Fit the re-ranking model (``qa/rerank.py``) on the team's question set; ``policykb calibrate`` runs it
before the abstention model, which is then fitted on re-ranked hits.

1. Each answerable question of the **fit** part (and the development set) is searched without re-ranking;
   its top ``WINDOW`` hits get their ``candidate_features`` and a label: the clause holds the evidence (the
   evaluation's hit rule).
2. Every pair (answering clause, other clause) of one question, neither named by reference, gives the
   difference of their features, both ways round: a logistic regression on them (L2, differences
   standardised) is a linear score that puts answering clauses above the others.
3. Reported, never used to choose anything: R@1 and R@5 out-of-fold on the fit part (folds by document) and
   on the **validation** part, before and after re-ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from policykb.index.search import Hit
from policykb.qa.answer import analyse
from policykb.qa.calibrate import FOLDS, L2, fit_logistic
from policykb.qa.evaluation import is_hit
from policykb.qa.question import Question
from policykb.qa.rerank import (
    FEATURES,
    RERANK_PATH,
    WINDOW,
    Reranker,
    candidate_features,
    render_toml,
    rerank,
)

if TYPE_CHECKING:
    from policykb.index.store import KnowledgeBase
    from policykb.qa.evaluation import Question as EvalQuestion


@dataclass(frozen=True)
class Searched:
    group: str  # the document, for folds
    question: Question
    hits: list[Hit]
    labels: list[bool]  # per hit: it holds the evidence
    rows: list[dict[str, float]]  # per hit: its candidate_features


@dataclass(frozen=True)
class RerankFit:
    model: Reranker
    info: dict[str, object]  # what rerank.toml's [fit] records


def searched(kb: KnowledgeBase, questions: Sequence[EvalQuestion]) -> list[Searched]:
    out = []
    for q in questions:
        if not q.answerable:
            continue
        found = kb.retrieve(q.q, k=WINDOW, rerank=False)
        labels = [is_hit(h.clause.text, q.evidence_keys) for h in found.hits]
        question = analyse(kb, q.q, found.query.forms)
        rows = candidate_features(question, found.hits)
        out.append(Searched(q.doc, question, found.hits, labels, rows))
    return out


def pair_differences(data: Sequence[Searched], names: tuple[str, ...]) -> np.ndarray:
    """(answering − other) feature differences of every pair, over clauses not named by reference."""
    diffs = []
    for s in data:
        x = np.array([[r[n] for n in names] for r in s.rows], dtype=np.float64)
        free = [i for i, h in enumerate(s.hits) if "reference" not in h.signals]
        for i in free:
            for j in free:
                if s.labels[i] and not s.labels[j]:
                    diffs.append(x[i] - x[j])
    return np.array(diffs, dtype=np.float64).reshape(-1, len(names))


def train(data: Sequence[Searched], names: tuple[str, ...], model_name: str, l2: float = L2) -> Reranker:
    d = pair_differences(data, names)
    if not len(d):
        return Reranker(names, tuple(0.0 for _ in names), WINDOW, model_name)
    x = np.vstack([d, -d])
    y = np.r_[np.ones(len(d)), np.zeros(len(d))]
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    coef, _ = fit_logistic(x / scale, y, l2)
    return Reranker(names, tuple(float(w) for w in coef / scale), WINDOW, model_name)


def recall(data: Sequence[Searched], model: Reranker | None) -> tuple[float, float]:
    """(R@1, R@5) of the questions, with the hits re-ranked by ``model`` (as searched when ``None``)."""
    if not data:
        return 0.0, 0.0
    r1 = r5 = 0
    for s in data:
        good = {h.clause.clause_id for h, label in zip(s.hits, s.labels) if label}
        hits = rerank(s.question, s.hits, model) if model else s.hits
        ranks = [i for i, h in enumerate(hits, 1) if h.clause.clause_id in good]
        r1 += bool(ranks and ranks[0] == 1)
        r5 += bool(ranks and ranks[0] <= 5)
    return round(r1 / len(data), 3), round(r5 / len(data), 3)


def out_of_fold(data: Sequence[Searched], names: tuple[str, ...], model_name: str) -> tuple[float, float]:
    """(R@1, R@5) on ``data``, each question re-ranked by a model fitted without its document's fold."""
    docs = sorted({s.group for s in data})
    fold_of = {d: i % FOLDS for i, d in enumerate(docs)}
    r1 = r5 = 0.0
    for k in range(FOLDS):
        held = [s for s in data if fold_of[s.group] == k]
        model = train([s for s in data if fold_of[s.group] != k], names, model_name)
        a, b = recall(held, model)
        r1, r5 = r1 + a * len(held), r5 + b * len(held)
    return round(r1 / len(data), 3), round(r5 / len(data), 3)


def fit_reranker(
    kb: KnowledgeBase,
    fit: Sequence[EvalQuestion],
    validation: Sequence[EvalQuestion],
    data_hash: str,
    names: tuple[str, ...] = FEATURES,
) -> RerankFit:
    model_name = kb.embedding_model_name
    fit_data, val_data = searched(kb, fit), searched(kb, validation)
    model = train(fit_data, names, model_name)
    pairs = len(pair_differences(fit_data, names))
    info: dict[str, object] = {
        "questions": "tests/data/eval (split.toml + questions/*.jsonl + dev_questions.jsonl)",
        "data_hash": data_hash,
        "date": date.today().isoformat(),
        "fit_questions": len(fit_data),
        "validation_questions": len(val_data),
        "pairs": pairs,
        "l2": L2,
        "fit_searched": list(recall(fit_data, None)),
        "fit_reranked_out_of_fold": list(out_of_fold(fit_data, names, model_name)),
        "validation_searched": list(recall(val_data, None)),
        "validation_reranked": list(recall(val_data, model)),
    }
    return RerankFit(model, info)


def format_fit(f: RerankFit) -> str:
    i = f.info
    return "\n".join(
        [
            f"[rerank] {len(f.model.names)} features, {i['pairs']} pairs; [R@1, R@5]",
            f"  fit: searched {i['fit_searched']}  re-ranked (out of fold) {i['fit_reranked_out_of_fold']}",
            f"  validation: searched {i['validation_searched']}  re-ranked {i['validation_reranked']}",
            "  " + "  ".join(f"{n} {w:+.3g}" for n, w in zip(f.model.names, f.model.coef)),
        ]
    )


def write_reranker(f: RerankFit, path: Path = RERANK_PATH) -> None:
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(render_toml(f.model, f.info), encoding="utf-8")
    tmp.replace(path)
