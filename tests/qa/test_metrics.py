"""The evidence key and the retrieval metrics, on tiny hand-made rankings with exact values."""

import json
import math

import pytest

from policykb.qa.evaluation import (
    Pipeline,
    Question,
    evidence_key,
    first_hit_rank,
    format_table,
    is_hit,
    load_questions,
    mrr,
    ndcg_at,
    recall_at,
    score_pipeline,
)


@pytest.mark.parametrize(
    "text, key",
    [
        ("消費(fèi)者體驗(yàn)", "消费者体验"),  # t2s and pinyin annotations
        ("建议 30 秒左右为佳。", "建议30秒左右为佳"),  # spaces and punctuation dropped
        ("必须选择 QQ 号注册", "必须选择QQ号注册"),  # letters kept, case kept
        ("承办单位：各县（市、区）人民政府", "承办单位各县市区人民政府"),
        ("第 3.1.2 条", "第3.1.2条"),  # '.' kept
        ("共包含三大专场直播活动+一场培训", "共包含三大专场直播活动一场培训"),
        ("(fèi)", ""),
    ],
)
def test_evidence_key(text, key):
    assert evidence_key(text) == key


def test_hit_matches_across_scripts_and_layout():
    keys = [evidence_key("攔截了超300萬件劣質商品")]
    assert is_hit("通过升级识别策略，拦截了超 300 万件劣质(zhì)商品。", keys)
    assert not is_hit("拦截了超200万件劣质商品", keys)
    assert not is_hit("anything", [])


def test_rank_recall_mrr():
    assert first_hit_rank([False, False, True, True]) == 3
    assert first_hit_rank([False, False]) is None
    ranks = [1, 2, 5, 6, None]
    assert recall_at(ranks, 1) == 0.2
    assert recall_at(ranks, 5) == 0.6
    assert mrr(ranks) == pytest.approx((1 + 1 / 2 + 1 / 5 + 1 / 6) / 5)
    assert math.isnan(recall_at([], 5))


def test_ndcg_binary():
    assert ndcg_at([True], 1) == 1.0
    assert ndcg_at([False, True], 1) == round(1 / math.log2(3), 4)  # 0.6309
    # two relevant units in the collection, found at ranks 1 and 3
    assert ndcg_at([True, False, True], 2) == round((1 + 0.5) / (1 + 1 / math.log2(3)), 4)
    # a relevant unit beyond k does not count; nothing relevant anywhere gives 0
    assert ndcg_at([False] * 10 + [True], 1, k=10) == 0.0
    assert ndcg_at([False, False], 0) == 0.0
    # more relevant units than k: the ideal is k relevant units
    assert ndcg_at([True] * 3, 5, k=3) == 1.0


def _pipeline(rankings: dict[str, list[str]], units: list[str]) -> Pipeline:
    return Pipeline("toy", lambda q, k: rankings[q][:k], lambda: units)


def test_score_pipeline_per_language_and_exclusions():
    units = ["甲条：活动免费", "乙条：时长30秒", "丙条：QQ注册", "丁条：其他"]
    questions = [
        Question("a", "收费吗", "zh", "sz", ("活动免费",)),
        Question("b", "拍多久", "zh-hant", "sz", ("时长 30 秒",)),
        Question("c", "WeChat?", "en", "sz", ("QQ注册",)),
        Question("x", "香港执照", "en", "none", ()),  # excluded: the corpus cannot answer it
    ]
    rankings = {
        "收费吗": [units[0], units[3]],
        "拍多久": [units[3], units[1]],
        "WeChat?": [units[3], units[0]],
        "香港执照": [units[3]],
    }
    s = score_pipeline(_pipeline(rankings, units), questions)
    assert s.n == 3
    assert (s.recall_1, s.recall_5) == (0.3333, 0.6667)
    assert s.mrr == round((1 + 0.5 + 0) / 3, 4)
    assert s.ndcg == round((1 + 1 / math.log2(3) + 0) / 3, 4)
    assert s.recall_5_by_lang == {"zh": 1.0, "zh-hant": 1.0, "en": 0.0}
    assert s.chars_per_unit == round((7 + 5 + 5 + 8 + 5 + 7) / 6, 1)  # 6.2: every retrieved unit
    assert [r.id for r in s.misses(5)] == ["c"]
    table = format_table([s])
    assert "R@5 zh-hant (1)" in table and "0.333" in table


def test_load_questions(tmp_path):
    f = tmp_path / "q.jsonl"
    rows = [
        {"id": "1", "q": "问", "lang": "zh", "doc": "sz", "evidence": ["证据"]},
        {"id": "2", "q": "无", "lang": "en", "doc": "none", "evidence": []},
    ]
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", encoding="utf-8")
    qs = load_questions(f)
    assert [q.answerable for q in qs] == [True, False]
    assert qs[0].evidence_keys == ("证据",)
    f.write_text('{"id": "bad"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="q.jsonl:1"):
        load_questions(f)


def test_dev_questions_evidence_keys_are_not_empty():
    for q in load_questions():
        assert q.answerable == bool(q.evidence_keys), q.id
