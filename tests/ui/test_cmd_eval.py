"""``policykb eval`` end to end with the fake embedder: every pipeline, LawBench, JSON and usage errors."""

import json

import pytest

from policykb.ui.cli import main


@pytest.fixture(autouse=True)
def _fake_model(monkeypatch):
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")


def test_eval_json_has_every_pipeline_and_lawbench(capsys):
    assert main(["eval", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["pipelines"]) == ["policykb hybrid", "BM25 only", "dense only", "naive LlamaIndex"]
    for scores in out["pipelines"].values():
        assert scores["n"] == 22 and 0 <= scores["recall_1"] <= scores["recall_5"] <= 1
        assert set(scores["recall_5_by_lang"]) == {"zh", "zh-hant", "en"}
        assert scores["chars_per_unit"] > 0
    chars = {name: s["chars_per_unit"] for name, s in out["pipelines"].items()}
    assert chars["naive LlamaIndex"] > 3 * chars["BM25 only"]  # 1,024-token chunks against clauses
    assert out["lawbench"]["n"] == 16 and out["lawbench"]["hit_at_1"] == 1.0  # references need no model
    assert any("was empty; ingested" in n for n in out["notes"])
    answers = out["answers"]
    assert (answers["questions"], answers["none_questions"], answers["answerable_questions"]) == (25, 3, 22)
    assert len(answers["per_question"]) == 25
    assert answers["faithfulness"] == 1.0  # extractive: every sentence is verbatim whatever the ranking
    assert answers["answer_ms_median"] >= 0 and answers["search_ms_median"] >= 0


def test_eval_table(capsys):
    assert main(["eval", "--lawbench", "none", "--k", "5"]) == 0
    out = capsys.readouterr().out
    assert "nDCG@5" in out and "naive LlamaIndex" in out and "LawBench" not in out
    assert "Answers (policykb ask, extractive; 25 questions):" in out
    assert "faithfulness (sentences verbatim)" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["eval", "--k", "3"], "--k must be at least 5"),
        (["eval", "--questions", "missing.jsonl"], "no questions file"),
        (["eval", "--lawbench", "missing.jsonl"], "no LawBench file"),
    ],
)
def test_usage_errors(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
