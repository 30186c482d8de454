"""Retrieval quality on the dev question set and LawBench, with the real model (thresholds from the issue)."""

from __future__ import annotations

import pytest

from policykb.config import DEFAULT_CORPUS, DEFAULT_MODEL_DIR, Settings
from policykb.qa.evaluation import DEV_QUESTIONS, format_misses
from policykb.qa.lawbench import LAWBENCH_SUBSET

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DEFAULT_MODEL_DIR.is_dir(), reason="m3e-small not unpacked (scripts/setup.sh)"),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from policykb.ui.cmd_eval import open_kb, run

    settings = Settings.load(
        home=tmp_path_factory.mktemp("home"), embedding_model=DEFAULT_MODEL_DIR, corpus=DEFAULT_CORPUS
    )
    kb = open_kb(settings)
    return run(settings, questions=DEV_QUESTIONS, lawbench=LAWBENCH_SUBSET, k=10, kb=kb, baseline=False)


@pytest.fixture(scope="module")
def hybrid(report):
    scores = {s.name: s for s in report.scores}
    return scores["policykb hybrid"]


def test_hybrid_recall_at_5(hybrid):
    assert hybrid.recall_5 >= 0.95, format_misses(hybrid)


def test_hybrid_recall_at_1(hybrid):
    assert hybrid.recall_1 >= 0.80, format_misses(hybrid, 1)


def test_hybrid_mrr(hybrid):
    assert hybrid.mrr >= 0.85


def test_every_english_question_in_top_5(hybrid):
    english = [r for r in hybrid.results if r.lang == "en"]
    assert english
    assert all(r.rank is not None and r.rank <= 5 for r in english), [(r.id, r.rank) for r in english]


def test_lawbench_hit_at_1(report):
    assert report.lawbench is not None
    assert report.lawbench.hit_at_1 == 1.0, report.lawbench.misses


# -- the team's question set: validation documents (nothing is tuned on them) ---------------------------
# Thresholds sit MARGIN below what `policykb eval` last measured (the closing note and docs/benchmarks.md
# have the numbers), so a change that loses quality on documents nobody tuned on fails here; none is a
# fitted value itself.
MARGIN = 0.05
# measured 2026-12-08, stop 25 (policykb eval, validation part, int8 embeddings; the re-ranker refitted at stop 25,
# the abstention model of stop 23; stop 25's question forms and glossary): R@1 0.753, R@5 0.957, 'none' abstain
# 0.556, answerable abstain 0.032, evidence in citations 0.914
MEASURED = {
    "recall_1": 0.753,
    "recall_5": 0.957,
    "none_abstain": 0.556,
    "evidence": 0.914,
    "false_abstention": 0.032,
}


@pytest.fixture(scope="module")
def validation(tmp_path_factory):
    from policykb.ui.cmd_eval import run_set

    settings = Settings.load(home=tmp_path_factory.mktemp("home"), embedding_model=DEFAULT_MODEL_DIR)
    [part] = run_set(settings, parts=["validation"], set_home=tmp_path_factory.mktemp("set"), baseline=False)
    return part


def test_validation_retrieval(validation):
    hybrid = validation.scores[0]
    assert hybrid.name == "policykb hybrid"
    assert hybrid.recall_1 >= MEASURED["recall_1"] - MARGIN, format_misses(hybrid, 1)
    assert hybrid.recall_5 >= MEASURED["recall_5"] - MARGIN, format_misses(hybrid)


def test_validation_answers(validation):
    m = validation.answers
    assert m["abstention_accuracy"] >= MEASURED["none_abstain"] - MARGIN
    assert m["false_abstention_rate"] <= MEASURED["false_abstention"] + MARGIN
    assert m["evidence_in_citations"] >= MEASURED["evidence"] - MARGIN
    assert m["faithfulness"] == 1.0
