"""Re-ranking the top of a hybrid search (qa/rerank.py), its fit (qa/rerank_fit.py) and the recorded model."""
# ruff: noqa: F811 — pytest fixtures (kb, fake_home) are imported from answer_kit and requested by name

import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from answer_kit import FLAT, fake_home, kb  # noqa: F401

from policykb.errors import ConfigError
from policykb.index.query_forms import QueryForms
from policykb.qa.answer import analyse
from policykb.qa.calibrate import data_hash
from policykb.qa.evaluation import QUESTION_SET
from policykb.qa.question import analyse_forms
from policykb.qa.rerank import (
    FEATURES,
    RERANK_PATH,
    Reranker,
    candidate_features,
    character_pairs,
    load_reranker,
    question_pairs,
    rerank,
    rerank_retrieval,
)
from policykb.qa.rerank_fit import Searched, out_of_fold, recall, train

BY_COVERAGE = Reranker(("coverage",), (1.0,), 10, "fake-64")
AGAINST_SEARCH = Reranker(("inv_rank",), (-1.0,), 10, "fake-64")  # turns the order round


def searched(kb, question):
    found = kb.retrieve(question, k=10, rerank=False)
    return analyse(kb, question, found.query.forms), found.hits


def test_features_of_each_hit(kb):
    q, hits = searched(kb, "微视收费吗？")
    rows = candidate_features(q, hits)
    assert len(rows) == len(hits) and all(set(r) == set(FEATURES) for r in rows)
    first = rows[0]
    assert first["inv_rank"] == 1.0 and [r["score"] for r in rows] == [h.score for h in hits]
    assert first["coverage"] == pytest.approx(1.0) and first["text_coverage"] == pytest.approx(1.0)
    assert [r["inv_rank"] for r in rows] == [1 / h.rank for h in hits]


def test_the_character_pairs_of_the_question_found_in_a_clause(kb):
    """``bigram`` counts pairs of adjacent characters, not words: 收费 is found in 收费标准 whatever jieba
    makes of either; a pair across a space or punctuation mark is none."""
    assert character_pairs("微视 收费吗？") == {"微视", "收费", "费吗"}
    assert character_pairs("收费吗？微视") == {"收费", "费吗", "微视"}  # none across the ？
    rendered = analyse_forms(QueryForms("after how many years", "后 多少 年", "en", ()), FLAT)
    assert question_pairs(rendered) == {"多少"}  # an English question's renderings word by word: no 少年
    q, hits = searched(kb, "微视收费吗？")
    clause = replace(hits[0].clause, text="微视平台的收费标准")
    [row] = candidate_features(q, [replace(hits[0], clause=clause)])
    assert row["bigram"] == pytest.approx(2 / 4)  # of 微视 视收 收费 费吗, 微视 and 收费


def test_the_top_is_reordered_by_the_model_and_scores_never_rise(kb):
    q, hits = searched(kb, "微视收费吗？")
    out = rerank(q, hits, AGAINST_SEARCH)
    assert [h.clause.clause_id for h in out] == [h.clause.clause_id for h in reversed(hits)]
    assert [h.rank for h in out] == list(range(1, len(hits) + 1))
    assert [h.score for h in out] == [h.score for h in hits]  # the score of the place each now holds
    assert [h.signals["fused"] for h in out] == [h.score for h in reversed(hits)]
    assert all("rerank" in h.signals for h in out)


def test_only_the_window_is_reordered(kb):
    q, hits = searched(kb, "活动")
    assert len(hits) >= 4
    out = rerank(q, hits, replace(AGAINST_SEARCH, window=2))
    assert [h.clause for h in out[:2]] == [hits[1].clause, hits[0].clause]
    assert out[2:] == hits[2:]


def test_a_clause_named_by_reference_stays_first(kb):
    q, hits = searched(kb, "上海直播电商措施（十五）是什么？")
    assert "reference" in hits[0].signals
    out = rerank(q, hits, AGAINST_SEARCH)
    assert out[0].clause == hits[0].clause and "rerank" not in out[0].signals
    assert [h.clause for h in out[1:]] == [h.clause for h in reversed(hits[1:])]


def test_search_is_not_reranked_for_a_model_it_was_not_fitted_on(kb):
    found = kb.retrieve("微视收费吗？", k=5, rerank=False)
    assert rerank_retrieval(kb, found, replace(AGAINST_SEARCH, embedding_model="m3e-small")) is found
    changed = rerank_retrieval(kb, found, AGAINST_SEARCH)
    assert [h.clause for h in changed.hits] == [h.clause for h in reversed(found.hits)]


def _searched(kb, question, good_labels):
    q, hits = searched(kb, question)
    labels = [h.clause.label in good_labels for h in hits]
    return Searched(question, q, hits, labels, candidate_features(q, hits))


def test_the_fit_learns_the_signal_that_puts_answering_clauses_first(kb):
    # Answering clauses ranked low by search but covering the question: the fit must weigh coverage up.
    data = [
        _searched(kb, "微视短视频时长多久？", {"1."}),
        _searched(kb, "微视收费吗？", {"2."}),
        _searched(kb, "清远直播节的主办单位是谁？", {"四、"}),
    ]
    model = train(data, ("coverage", "inv_rank"), "fake-64")
    assert model.names == ("coverage", "inv_rank") and model.coef[0] > 0
    assert recall(data, model) == (1.0, 1.0)
    assert recall(data, None)[1] == 1.0


def test_out_of_fold_recall_is_a_share_of_the_questions(kb):
    data = [
        replace(_searched(kb, "微视收费吗？", {"2."}), group="a"),
        replace(_searched(kb, "清远直播节的主办单位是谁？", {"四、"}), group="b"),
    ]
    assert out_of_fold(data, ("coverage",), "fake-64") == (1.0, 1.0)


def test_the_recorded_model_is_complete_and_fitted_on_the_question_set():
    model = load_reranker()
    assert model is not None and model.names == FEATURES and model.embedding_model == "m3e-small"
    data = tomllib.loads(RERANK_PATH.read_text(encoding="utf-8"))
    assert data["fit"]["data_hash"] == data_hash(QUESTION_SET)
    assert data["fit"]["pairs"] > 0 and len(data["fit"]["validation_reranked"]) == 2


def test_no_model_file_means_no_reranking(tmp_path):
    assert load_reranker(tmp_path / "rerank.toml") is None


@pytest.mark.parametrize(
    "content, message",
    [
        ("[model\n", "not valid|cannot read"),
        ("[model]\nnames = ['coverage']\n", "needs exactly these keys: coef, embedding_model, names, window"),
        (
            "[model]\nnames=['size']\ncoef=[1]\nwindow=10\nembedding_model=''\n",
            r"unknown features \['size'\]; known: score, inv_rank",
        ),
        (
            "[model]\nnames=['coverage']\ncoef=[1, 2]\nwindow=10\nembedding_model=''\n",
            r"needs one coef per name \(1\), found 2",
        ),
    ],
)
def test_a_bad_model_file_is_a_config_error(tmp_path, content, message):
    path = tmp_path / "rerank.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_reranker(path)
