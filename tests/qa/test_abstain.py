"""Reading a question (concepts, synonyms, answer types), the abstention features and rule, and the
threshold fit recorded in qa/abstain.toml."""
# ruff: noqa: F811 — pytest fixtures (kb, fake_home) are imported from answer_kit and requested by name

import math
import sys
import tomllib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from answer_kit import RULE, fake_home, kb  # noqa: F401

from policykb.errors import ConfigError
from policykb.index.query_forms import QueryForms
from policykb.qa.abstain import ABSTAIN_PATH, Features, Rule, default_rule, features, read_rule
from policykb.qa.answer import analyse
from policykb.qa.calibrate import fit_threshold
from policykb.qa.question import Lexicon, analyse_forms
from policykb.qa.retrieval import TermStats

FLAT = TermStats(10, lambda word: 1)  # every known word equally frequent: weights are all equal


def concepts(question, stats=FLAT, lang="zh", zh=None, terms=()):
    q = analyse_forms(QueryForms(question, zh or question, lang, terms), stats)
    return [(c.word, c.optional) for c in q.concepts], q


@pytest.mark.parametrize("question, expected", [
    ("微视收费吗？", [("微视", False), ("收费", False)]),
    ("企业在微视开店前需要满足什么要求？",
     [("企业", False), ("微视", False), ("开店", False), ("前", True), ("需要", True), ("满足", False), ("要求", True)]),
    ("上海对直播电商实行怎样的监管？", [("上海", False), ("直播", False), ("电商", False), ("实行", True), ("监管", False)]),
    ("清远直播节一共有几个专场？", [("清远", False), ("直播", False), ("节", True), ("专场", False)]),
])
def test_question_words_go_light_verbs_are_optional(question, expected):
    assert concepts(question)[0] == expected


def test_a_function_character_glued_to_a_word_is_cut_off(kb):
    q = analyse(kb, "带货时能不能引导用户私下交易？")
    assert [c.word for c in q.concepts] == ["带货", "引导", "用户", "私下交易"]


def test_synonyms_come_from_the_lexicon_and_the_glossary(kb):
    q = analyse(kb, "违反规则会被怎样处理？")
    assert {c.word: c.alternatives for c in q.concepts if not c.optional} == {
        "违反": ("违反", "违规", "不符合", "违背"), "规则": ("规则",), "处理": ("处理", "处罚", "处置", "处理措施")}
    q = analyse(kb, "拼多多退货要运费吗")
    assert ("退货", "退款", "售后") in [c.alternatives[:3] for c in q.concepts]  # index/data/glossary.toml


def test_english_renderings_of_one_word_are_one_concept():
    _, q = concepts("Does Weishi charge fees?", lang="en", zh="微视 费用", terms=("微视", "费用", "收费"))
    assert [(c.word, c.alternatives[:2]) for c in q.concepts] == [("微视", ("微视",)), ("费用", ("费用", "收费"))]


def test_answer_types_and_spanning():
    _, q = concepts("清远直播节一共有几个专场？")
    assert [name for name, _ in q.cues] == ["total", "count"]
    assert q.counted.search("共包含三大专场直播活动") and not q.counted.search("专场直播活动")
    assert concepts("各地对农产品直播带货有什么支持？")[1].spanning
    assert not concepts("上海对农产品直播带货有什么支持？")[1].spanning
    _, q = concepts("When is the fashion session?", lang="en", zh="时间 时尚 专场")
    assert [name for name, _ in q.cues] == ["when"] and [c.optional for c in q.concepts] == [True, False, False]


def test_coverage_weighs_words_the_notices_never_use_most():
    stats = TermStats(100, lambda word: {"直播": 60, "电商": 70, "人才": 5}.get(word, 0))
    q = analyse_forms(QueryForms("广州市直播电商人才补贴是多少？", "广州市直播电商人才补贴是多少？", "zh", ()), stats)
    weights = {c.word: round(c.weight, 3) for c in q.concepts}
    assert weights == {"广州市": 5.308, "直播": 0.512, "电商": 0.36, "人才": 2.91, "补贴": 5.308}  # ln(101 / (df + .5))
    text = "加强直播电商人才培训"
    assert round(q.coverage(text, partial=False), 3) == 0.263  # (直播 + 电商 + 人才) / all
    assert q.coverage("广州直播", partial=True) > q.coverage("广州直播", partial=False)  # 广州 is part of 广州市


def test_abbreviations_and_context_count(kb):
    _, q = concepts("微视收费吗？")
    assert q.coverage("平台对本次活动不收取费用") == pytest.approx(0.5)  # 收费 ≈ 收取费用; 微视 missing
    assert q.coverage("平台对本次活动不收取费用", "腾讯微视", 0.5) == pytest.approx(0.75)


# --- features and rule ----------------------------------------------------------------------------------

def test_features_of_an_answered_and_an_unanswered_question(kb):
    q = analyse(kb, "微视收费吗？")
    f = features(q, kb.search("微视收费吗？", k=30), 10)
    assert (f.coverage, f.content_found) == (1.0, True)
    assert f.best_clause_id == next(c.clause_id for c in kb.clauses("sz-weishi") if c.label == "2.")
    q = analyse(kb, "广州市直播电商人才补贴是多少？")
    f = features(q, kb.search("广州市直播电商人才补贴是多少？", k=30), 10)
    assert round(f.coverage, 4) == 0.1643 and f.content_found
    assert set(f.to_dict()) == {"coverage", "content_found", "fused", "dense", "bm25", "best_clause_id"}


def test_no_content_word_in_the_top_clauses_abstains(kb):
    q = analyse(kb, "个体户怎么办理营业执照？")
    f = features(q, kb.search("个体户怎么办理营业执照？", k=30), 10)
    assert not f.content_found
    assert RULE.abstains(f) == (True, "no word of the question occurs in the top clauses")


@pytest.mark.parametrize("coverage, expected", [
    (0.49, (True, "coverage 0.49 < 0.50")), (0.5, (False, "coverage 0.50 ≥ 0.50")),
])
def test_rule_threshold(coverage, expected):
    assert RULE.abstains(Features(coverage, True, 0.03, 0.7, 3.0)) == expected


def test_fit_picks_the_middle_of_the_widest_error_free_gap():
    points = [(1.0, False), (0.74, False), (0.8, False), (0.29, True), (0.26, True), (0.29, True)]
    f = fit_threshold(points)
    assert (f.threshold, f.cost, f.low, f.high, f.answerable_min, f.none_max) == (0.52, 0, 0.29, 0.74, 0.74, 0.29)


def test_fit_prefers_a_needless_abstention_to_an_invented_answer():
    # An unanswerable question scores above an answerable one: answering it costs 2, abstaining costs 1.
    f = fit_threshold([(0.9, False), (0.6, True), (0.5, False), (0.2, True)])
    assert f.cost == 1 and f.threshold == 0.75


def test_fit_needs_questions():
    with pytest.raises(ValueError, match="no questions"):
        fit_threshold([])


def test_recorded_threshold_is_the_fit_of_the_recorded_values():
    data = tomllib.loads(ABSTAIN_PATH.read_text(encoding="utf-8"))
    rule = default_rule()
    assert (rule.min_coverage, rule.window) == (data["rule"]["min_coverage"], data["rule"]["window"])
    rows = data["fit"]["question"]
    assert len(rows) == data["fit"]["answerable"] + data["fit"]["unanswerable"]
    fit = fit_threshold([(r["coverage"], r["doc"] == "none") for r in rows])
    assert fit.threshold == rule.min_coverage and fit.cost == 0
    assert all(r["coverage"] < rule.min_coverage for r in rows if r["doc"] == "none")
    assert sum(r["coverage"] < rule.min_coverage for r in rows if r["doc"] != "none") <= 1
    assert not math.isnan(data["fit"]["answerable_min_coverage"]) and "procedure" in data["fit"]


@pytest.mark.parametrize("content, message", [
    ("[rule\n", "not valid|cannot read"),
    ("[rule]\nwindow = 5\n", "needs min_coverage"),
    ("[rule]\nmin_coverage = 1.5\n", r"must be a number in \[0, 1\]"),
    ("[rule]\nmin_coverage = 0.5\nthreshold = 1\n", "allowed keys: min_coverage, require_content_word, window"),
])
def test_a_bad_rule_file_is_a_config_error(tmp_path, content, message):
    path = tmp_path / "abstain.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        read_rule(path)


def test_a_bad_lexicon_is_a_config_error(tmp_path):
    path = tmp_path / "lexicon.toml"
    path.write_text("[words]\nquestion = []\nverbs = []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown keys \['verbs'\] in \[words\]"):
        Lexicon.load(path)
    path.write_text("[cues.x]\nask = ['a']\npattern = '('\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a regular expression"):
        Lexicon.load(path)


def test_rule_defaults():
    assert Rule(0.4) == Rule(min_coverage=0.4, window=5, require_content_word=True)
