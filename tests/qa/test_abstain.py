"""Reading a question (concepts, synonyms, answer types), the abstention features and rule, and the
threshold fit recorded in qa/abstain.toml."""
# ruff: noqa: F811 — pytest fixtures (kb, fake_home) are imported from answer_kit and requested by name

import itertools
import math
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from answer_kit import FLAT, RULE, clause_of, fake_home, kb  # noqa: F401

from policykb.errors import ConfigError
from policykb.index.query_forms import QueryForms, expand_query
from policykb.index.search import Hit
from policykb.ingest.record import Metadata
from policykb.qa.abstain import (
    ABSTAIN_PATH,
    FEATURES,
    KEYWORD_FEATURES,
    SIGNALS,
    Features,
    Rule,
    elsewhere_names,
    features,
    read_rule,
    read_rules,
    rule_for,
)
from policykb.qa.answer import analyse
from policykb.qa.calibrate import Fit, data_hash, fit_logistic, fit_threshold, out_of_fold, train
from policykb.qa.evaluation import QUESTION_SET
from policykb.qa.question import AnswerLexicon, analyse_forms, load_names, names_in
from policykb.qa.retrieval import TermStats


def concepts(question, stats=FLAT, lang="zh", zh=None, terms=()):
    q = analyse_forms(QueryForms(question, zh or question, lang, terms), stats)
    return [(c.word, c.optional) for c in q.concepts], q


@pytest.mark.parametrize(
    "question, expected",
    [
        ("微视收费吗？", [("微视", False), ("收费", False)]),
        (
            "企业在微视开店前需要满足什么要求？",
            [
                ("企业", False),
                ("微视", False),
                ("开店", False),
                ("前", True),
                ("需要", True),
                ("满足", False),
                ("要求", True),
            ],
        ),
        (
            "上海对直播电商实行怎样的监管？",
            [("上海", False), ("直播", False), ("电商", False), ("实行", True), ("监管", False)],
        ),
        ("清远直播节一共有几个专场？", [("清远", False), ("直播", False), ("节", True), ("专场", False)]),
    ],
)
def test_question_words_go_light_verbs_are_optional(question, expected):
    assert concepts(question)[0] == expected


def test_a_function_character_glued_to_a_word_is_cut_off(kb):
    q = analyse(kb, "带货时能不能引导用户私下交易？")
    assert [c.word for c in q.concepts] == ["带货", "引导", "用户", "私下交易"]


def test_synonyms_come_from_the_lexicon_and_the_glossary(kb):
    q = analyse(kb, "违反规则会被怎样处理？")
    assert {c.word: c.alternatives for c in q.concepts if not c.optional} == {
        "违反": ("违反", "违规", "不符合", "违背"),
        "规则": ("规则",),
        "处理": ("处理", "处罚", "处置", "处理措施"),
    }
    q = analyse(kb, "拼多多退钱要运费吗")
    assert ("退钱", "退款") in [c.alternatives[:2] for c in q.concepts]  # index/data/glossary.toml


def test_a_question_about_taiwan_also_accepts_taiwans_wording():
    # [zh.taiwan] of index/data/glossary.toml read backwards: Taiwan's acts say 罚锾, 个资 and 网路
    alternatives = {c.word: c.alternatives for c in concepts("台湾网购个人信息泄露怎么罚款？")[1].concepts}
    assert "罚锾" in alternatives["罚款"] and alternatives["个人信息"] == ("个人信息", "个资", "个人资料")
    alternatives = {c.word: c.alternatives for c in concepts("网购个人信息泄露怎么罚款？")[1].concepts}
    assert "罚锾" not in alternatives["罚款"] and alternatives["个人信息"] == ("个人信息",)
    english = expand_query("What fine applies in Taiwan?")
    _, q = concepts(english.original, lang="en", zh=english.zh, terms=english.terms)
    assert "罚锾" in next(c.alternatives for c in q.concepts if c.word == "罚款")


def test_a_word_holding_a_phrase_inside_an_excepted_word_gets_none_of_its_renderings():
    # [zh.not_within]: 罚 and 惩罚 (→ 处罚) do not stand for themselves inside 惩罚性 (punitive damages)
    alternatives = {c.word: c.alternatives for c in concepts("惩罚性赔偿和罚款有什么区别？")[1].concepts}
    assert alternatives["惩罚性"] == ("惩罚性",) and "处罚" in alternatives["罚款"]


def test_english_renderings_of_one_word_are_one_concept():
    _, q = concepts("Does Weishi charge fees?", lang="en", zh="微视 费用", terms=("微视", "费用", "收费"))
    assert [(c.word, c.alternatives[:2]) for c in q.concepts] == [
        ("微视", ("微视",)),
        ("费用", ("费用", "收费")),
    ]


def test_answer_types_and_spanning():
    _, q = concepts("清远直播节一共有几个专场？")
    assert [name for name, _ in q.cues] == ["total", "count"]
    assert q.counted.search("共包含三大专场直播活动") and not q.counted.search("专场直播活动")
    assert concepts("各地对农产品直播带货有什么支持？")[1].spanning
    assert not concepts("上海对农产品直播带货有什么支持？")[1].spanning
    _, q = concepts("When is the fashion session?", lang="en", zh="时间 时尚 专场")
    assert [name for name, _ in q.cues] == ["when"] and [c.optional for c in q.concepts] == [
        True,
        False,
        False,
    ]


@pytest.mark.parametrize(
    "question, lang, expected",
    [
        (
            "精神损害赔偿金最高可以要多少？",
            "zh",
            ["count", "money", "limit"],
        ),  # 多少 near 赔偿金: an amount of money
        ("需要提供多少担保金？", "zh", ["count", "money"]),
        ("最高人民法院的批复讲了什么？", "zh", []),  # 最高 of 最高人民法院 asks no bound
        ("跨境电商零售进口的退税率是多少？", "zh", ["count", "rate"]),
        ("When a business cannot pay both, which comes first?", "en", []),  # a condition, not a time
        ("When did the regulation take effect?", "en", ["when"]),
        ("How much is the fee for the training?", "en", ["count", "money"]),
        ("What VAT rate applies?", "en", ["rate"]),
        ("深圳线上购物节在哪几个月里举办？", "zh", ["count", "period"]),  # months, not a place (在哪)
        ("商家虚假宣传会被怎么处罚？", "zh", ["penalty"]),
        ("What penalty does an endorser face?", "en", ["penalty"]),
        ("Will I be fined for selling without a licence?", "en", ["penalty"]),
        ("商家被罚款后，消费者能要求赔偿吗？", "zh", []),  # asks about compensation, not the penalty
        ("电子商务法里的电子商务指的是什么？", "zh", ["define"]),
        ("How is a distance sale defined under the act?", "en", ["define"]),
        ("为什么是平台承担责任？", "zh", []),  # why, not what
        ("直播卖什么是否需要许可证？", "zh", []),  # whether
        ("What does this rule mean for small sellers?", "en", []),
    ],
)
def test_answer_types_asked_for(question, lang, expected):
    assert [name for name, _ in concepts(question, lang=lang)[1].cues] == expected


@pytest.mark.parametrize(
    "cue, sentence, met",
    [
        ("period", "自接到申请之日起四十五日内作出决定", True),  # Chinese numerals and 日
        ("period", "建议30秒左右为佳", True),  # a length
        ("period", "每年进行一次合规审计", True),  # how often
        ("period", "应当及时处理", False),
        (
            "count",
            "包括生成合成类、个性化推送类、排序精选类等算法技术",
            True,
        ),  # an enumeration answers 哪几类
        ("count", "增加赔偿的金额为价款的三倍", True),
        ("count", "将组织 2-3 次专项品类商品在腾讯微视购物专场", True),
        ("count", "现印发《2020深圳线上购物节——腾讯微视专场活动指引》", False),  # a year counts nothing
        ("count", "2021年起实施", False),
        ("count", "依照本法第十二条第二款的规定", False),  # an article, not a count
        ("count", "第2次违反的", False),
        ("count", "已吸引10余家企业入驻", True),
        ("count", "两个工作日内", True),
        ("count", "2021年3月起", False),  # a date's month
        ("count", "第十二次会议", False),
        ("count", "出台20条措施", True),
        ("money", "并处上一年度销售额百分之一以上百分之十以下的罚款", True),
        ("money", "全年投入近4亿元", True),
        ("money", "依法承担赔偿责任", False),
        ("penalty", "由市场监督管理部门没收违法所得，并处违法所得一倍以上二倍以下的罚款", True),
        ("penalty", "违反本办法第六条规定的，依照广告法第五十七条规定予以处罚", True),  # by reference
        ("penalty", "依法追究刑事责任", True),
        ("penalty", "平台应当依照本规定进行公示, 不得以公示代替处罚", False),  # a key's comma ends 依照…
        ("penalty", "广告代言人应当依据事实作推荐", False),
        ("define", "本法所称电子商务，是指通过互联网等信息网络销售商品或者提供服务的经营活动", True),
        ("define", "十、通讯交易：指企业经营者以广播、电视、电话方式", True),  # a Taiwanese act's 名词定义
        ("define", "电子商务经营者应当依法办理市场主体登记", False),
        ("who", "由经营者承担有关瑕疵的举证责任", True),
        ("who", "发生争议的，可以协商解决", False),
    ],
)
def test_what_meets_an_answer_type(cue, sentence, met):
    pattern = next(c.pattern for c in AnswerLexicon.load().cues if c.name == cue)
    assert bool(pattern.search(sentence)) is met


def test_places_and_platforms_a_question_names():
    assert names_in("广州市直播电商人才补贴是多少") == ("广州市",)
    assert names_in("拼多多和抖音的退货规则") == ("拼多多", "抖音")
    assert names_in("在大陆用电子签名签的合约") == ()  # 大陆 and 台湾 name no notice's region
    assert names_in("白银价格") == () and names_in("白银市的补贴") == (
        "白银市",
    )  # an everyday word is no place
    assert len(load_names()) > 600


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "[places]\nnames = ['广州']\n[people]\nnames = []\n",
            r"unknown tables \['people'\]; allowed: \[places\], \[platforms\]",
        ),
        ("[places]\nlist = ['广州']\n", r"\[places\] must hold exactly names = "),
        ("[places]\nnames = '广州'\n", r"\[places\] names must be a list of strings"),
        ("[places\n", "cannot read the place and platform names"),
    ],
)
def test_a_bad_names_file_is_a_config_error(tmp_path, content, message):
    path = tmp_path / "names.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_names(path)


def test_coverage_weighs_words_the_notices_never_use_most():
    stats = TermStats(100, lambda word: {"直播": 60, "电商": 70, "人才": 5}.get(word, 0))
    q = analyse_forms(
        QueryForms("广州市直播电商人才补贴是多少？", "广州市直播电商人才补贴是多少？", "zh", ()), stats
    )
    weights = {c.word: round(c.weight, 3) for c in q.concepts}
    assert weights == {
        "广州市": 5.308,
        "直播": 0.512,
        "电商": 0.36,
        "人才": 2.91,
        "补贴": 5.308,
    }  # ln(101 / (df + .5))
    text = "加强直播电商人才培训"
    assert round(q.coverage(text, partial=False), 3) == 0.263  # (直播 + 电商 + 人才) / all
    assert q.coverage("广州直播", partial=True) > q.coverage(
        "广州直播", partial=False
    )  # 广州 is part of 广州市


def test_abbreviations_and_context_count(kb):
    _, q = concepts("微视收费吗？")
    assert q.coverage("平台对本次活动不收取费用") == pytest.approx(0.5)  # 收费 ≈ 收取费用; 微视 missing
    assert q.coverage("平台对本次活动不收取费用", "腾讯微视", 0.5) == pytest.approx(0.75)


# --- features and rule ----------------------------------------------------------------------------------


def test_features_of_an_answered_and_an_unanswered_question(kb):
    q = analyse(kb, "微视收费吗？")
    f = features(q, kb.search("微视收费吗？", k=30), 10)
    assert (f.coverage, f.content, f.sentence, f.reference) == (1.0, 1.0, 1.0, 0.0)
    assert f.best_clause_id == next(c.clause_id for c in kb.clauses("sz-weishi") if c.label == "2.")
    q = analyse(kb, "广州市直播电商人才补贴是多少？")
    f = features(q, kb.search("广州市直播电商人才补贴是多少？", k=30), 10)
    assert round(f.coverage, 4) == 0.1643 and f.content == 1.0
    assert f.cue_missing == 1.0  # asks 多少 and no top sentence that mentions it has a number
    assert f.missing > 0  # 广州市 / 人才 / 补贴: in none of the top clauses
    assert set(f.to_dict()) == {*SIGNALS, "best_clause_id", "elsewhere"}


def test_a_penalty_asked_for_and_not_found_is_no_reason_to_abstain(kb):
    """The penalty answer type (``abstains = false``) ranks and picks sentences, but its absence does not
    make the question unanswered: "可以吗？被查到怎么罚？" is answered by the rule it breaks."""
    assert {c.name for c in AnswerLexicon.load().cues if not c.abstains} == {"penalty", "define"}
    q = analyse(kb, "微视收费吗？被查到怎么罚？")
    assert [name for name, _ in q.cues] == ["penalty"] and q.open_cues == {"penalty"}
    hits = kb.search(q.text, k=30)
    assert features(q, hits, 10).cue_missing == 0.0
    assert features(replace(q, open_cues=frozenset()), hits, 10).cue_missing == 1.0  # no top clause has one
    q = analyse(kb, "微视收费吗？收多少钱？")
    assert q.open_cues == frozenset() and features(q, kb.search(q.text, k=30), 10).cue_missing == 1.0


@pytest.mark.parametrize(
    "question, elsewhere, why",
    [
        ("快手直播带货收费吗？", ("快手",), "the question is about 快手; no clause found is"),
        ("广州市直播电商人才补贴是多少？", ("广州市",), "the question is about 广州市; no clause found is"),
    ],
)
def test_a_question_about_a_place_or_platform_no_notice_found_is_about_abstains(kb, question, elsewhere, why):
    f = features(analyse(kb, question), kb.search(question, k=30), 10)
    assert (f.name_missing, f.elsewhere) == (1.0, elsewhere)
    assert RULE.abstains(f) == (True, why) and RULE.decision_score(f) == 0.0


def test_a_place_the_notices_are_about_or_a_nationwide_law_is_not_elsewhere(kb):
    f = features(analyse(kb, "深圳的购物节几月举办？"), kb.search("深圳的购物节几月举办？", k=30), 10)
    assert (f.name_missing, f.elsewhere) == (0.0, ())  # 深圳 is in the region 广东省深圳市
    national = replace(clause_of(kb, "sz-weishi", "2."), metadata=Metadata(region=None, platform=None))
    hit = Hit(clause=national, score=1.0, rank=1, signals={})
    f = features(analyse(kb, "广州市直播电商人才补贴是多少？"), [hit], 10)
    assert f.name_missing == 0.0  # a nationwide notice applies to 广州 too


@pytest.mark.parametrize(
    "question, names",
    [
        ("在大陸用電子簽名簽的合約，需要繳印花稅嗎？", ("大陆",)),
        ("台湾电子签章法的主管机关是哪个部门？", ("台湾",)),
        ("In Taiwan, how much notice must a certification authority give?", ("台湾",)),
        ("How long is the warranty on a phone bought in mainland China?", ("大陆",)),
        ("香港特别行政区的网店要不要办营业执照？", ("香港特别行政区",)),  # a place, and so its jurisdiction
        ("Do Hong Kong or Macao sellers need a licence?", ("香港", "澳门")),
        ("广州市直播电商人才补贴是多少？", ("广州市",)),
        ("Can a Taiwanese company sell on Douyin?", ("抖音", "台湾")),
        ("大陆法系国家怎么认定电子签名？", ()),  # the civil-law tradition, not the mainland
        ("Can a Taiwanese company sell in China?", ("台湾", "大陆")),
        ("Is the Republic of China's rule the same?", ()),
        ("香港商家在内地开店要不要办执照？", ("香港", "大陆")),
        ("台港澳居民可以开网店吗？", ("台湾", "香港", "澳门")),
    ],
)
def test_the_jurisdictions_a_question_names(kb, question, names):
    assert analyse(kb, question).names == names


def test_a_question_about_another_jurisdiction_is_not_answered_from_a_national_law(kb):
    national = replace(clause_of(kb, "sz-weishi", "2."), metadata=Metadata(region=None, platform=None))
    taiwanese = replace(national, metadata=Metadata(region="台湾"))
    hong_kong = replace(national, metadata=Metadata(region="香港特别行政区"))
    shenzhen = clause_of(kb, "sz-weishi", "2.")
    cases = {
        "在台灣開網店要不要收費？": (("台湾",), (), ("台湾",), ("台湾",)),
        "在大陆开网店要不要收费？": ((), ("大陆",), ("大陆",), ()),
        "How much does Hong Kong charge an online shop?": (("香港",), ("香港",), (), ("香港",)),
        # a notice of either jurisdiction named is about the question
        "台湾居民在大陆开网店要不要收费？": ((), (), ("台湾", "大陆"), ()),
        # a place on the mainland makes the mainland one of the jurisdictions asked about
        "台湾居民在广州开网店要不要收费？": ((), ("广州",), ("广州", "台湾"), ("广州",)),
    }
    for question, expected in cases.items():
        q = analyse(kb, question)
        assert tuple(elsewhere_names(q, c) for c in (national, taiwanese, hong_kong, shenzhen)) == expected
    # A clause that names the place itself is about it, whatever its notice's jurisdiction.
    mentions = replace(national, text="台湾地区的经营者在大陆开展电子商务的，适用本法。")
    assert elsewhere_names(analyse(kb, "在台灣開網店要不要收費？"), mentions) == ()


def test_a_question_naming_a_clause_has_the_reference_feature(kb):
    q = analyse(kb, "4.1是什么规定？")
    f = features(q, kb.search("4.1是什么规定？", k=30), 10)
    assert f.reference == 1.0


@pytest.mark.parametrize(
    "coverage, expected",
    [
        (0.49, (True, "p(answered) 0.40 < 0.50")),
        (0.5, (False, "p(answered) 0.50 ≥ 0.50")),
    ],
)
def test_rule_threshold(coverage, expected):
    assert RULE.abstains(Features(coverage=coverage, content=1.0)) == expected


def test_probability_is_the_logistic_of_the_standardised_features():
    rule = Rule(("coverage", "dense"), (0.5, 0.8), (0.25, 0.05), (2.0, -1.0), 0.5, 0.5)
    z = 0.5 + 2.0 * (0.75 - 0.5) / 0.25 - 1.0 * (0.9 - 0.8) / 0.05
    assert rule.probability(Features(coverage=0.75, dense=0.9)) == pytest.approx(1 / (1 + math.exp(-z)))


def test_a_signal_far_outside_the_fit_range_counts_as_three_standard_deviations():
    rule = Rule(("bm25",), (2.5,), (0.4,), (-1.0,), 0.0, 0.5)
    z = -1.0 * -3.0  # (0.1 - 2.5) / 0.4 = -6, read as -3
    assert rule.probability(Features(bm25=0.1)) == pytest.approx(1 / (1 + math.exp(-z)))


def test_fit_picks_the_middle_of_the_widest_error_free_gap():
    points = [(1.0, False), (0.74, False), (0.8, False), (0.29, True), (0.26, True), (0.29, True)]
    f = fit_threshold(points)
    assert (f.threshold, f.cost, f.low, f.high) == (0.52, 0, 0.29, 0.74)


def test_fit_prefers_a_needless_abstention_to_an_invented_answer():
    # An unanswerable question scores above an answerable one: answering it costs 2, abstaining costs 1.
    f = fit_threshold([(0.9, False), (0.6, True), (0.5, False), (0.2, True)])
    assert f.cost == 1 and f.threshold == 0.75


def test_fit_breaks_a_tie_between_separate_stretches_towards_answering():
    # Answering the 0.55 "none" question costs 2, abstaining on the two answerable ones below it costs 2 too:
    # the lower stretch (0.2, 0.5] wins over the wider upper one (0.55, 0.95].
    f = fit_threshold([(0.95, False), (0.55, True), (0.52, False), (0.5, False), (0.2, True)])
    assert (f.threshold, f.cost, f.low, f.high) == (0.35, 2, 0.2, 0.5)


def test_fit_takes_the_lowest_threshold_within_one_standard_error_of_the_least_cost():
    points = [(v, False) for v in (0.3, 0.6, 0.62, 0.64, 0.9, 0.91, 0.92, 0.93)]
    points += [(v, True) for v in (0.1, 0.5, 0.65, 0.66)]
    assert fit_threshold(points, resamples=0) == Fit(0.78, 4.0, 0.66, 0.9)  # the least cost alone
    assert fit_threshold(points) == Fit(0.55, 5.0, 0.5, 0.6)  # one more cost, within the error: answers more


def test_fit_needs_questions():
    with pytest.raises(ValueError, match="no questions"):
        fit_threshold([])


def test_logistic_fit_separates_separable_data_and_recovers_the_sign():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - 0.5 * x[:, 1] + 0.3 * rng.normal(size=400) > 0).astype(float)
    coef, intercept = fit_logistic(x, y, l2=1.0)
    assert coef[0] > 0 > coef[1] and abs(intercept) < 0.5
    p = 1 / (1 + np.exp(-(x @ coef + intercept)))
    assert ((p > 0.5) == (y == 1)).mean() > 0.9


def test_out_of_fold_never_scores_a_document_with_a_model_that_saw_it():
    # Two documents whose questions contradict each other: trained on the other one alone, each is misjudged.
    feats = [Features(coverage=0.9)] * 10 + [Features(coverage=0.1)] * 10
    answerable = [True] * 10 + [False] * 10
    groups = ["a"] * 10 + ["b"] * 10
    flipped = [Features(coverage=0.9)] * 10 + [Features(coverage=0.1)] * 10
    probs = out_of_fold(
        feats + flipped, answerable + [not a for a in answerable], groups + ["c"] * 10 + ["d"] * 10
    )
    assert len(probs) == 40 and all(0 <= p <= 1 for p in probs)
    in_sample = train(feats + flipped, answerable + [not a for a in answerable])
    assert in_sample.probability(Features(coverage=0.9)) == pytest.approx(0.5, abs=0.05)


def test_recorded_models_are_complete_and_their_curves_are_consistent():
    data = tomllib.loads(ABSTAIN_PATH.read_text(encoding="utf-8"))
    rules = read_rules()
    assert rules["model"].names == FEATURES and rules["model"].embedding_model == "m3e-small"
    assert rules["keyword_model"].names == KEYWORD_FEATURES and rules["keyword_model"].embedding_model is None
    assert len(data["fit"]["data_hash"]) == 16
    assert data["fit"]["fit_answerable"] > 0 and data["fit"]["fit_unanswerable"] > 0
    for name, rule in rules.items():
        for part in ("fit", "validation"):
            rows = data["curves"][name][part]
            assert [r[0] for r in rows] == sorted(r[0] for r in rows)
            # a higher threshold abstains at least as often, on both kinds of question
            assert all(a[1] <= b[1] and a[2] <= b[2] for a, b in itertools.pairwise(rows))
        assert rule.threshold in [r[0] for r in data["curves"][name]["fit"]]


def test_the_keyword_model_decides_for_another_embedding_model():
    assert rule_for("m3e-small") is read_rules()["model"] or rule_for("m3e-small") == read_rules()["model"]
    assert rule_for("fake-64") == read_rules()["keyword_model"]


def test_recorded_data_hash_is_the_hash_of_the_question_set():
    data = tomllib.loads(ABSTAIN_PATH.read_text(encoding="utf-8"))
    assert data["fit"]["data_hash"] == data_hash(QUESTION_SET)


@pytest.mark.parametrize(
    "content, message",
    [
        ("[model\n", "not valid|cannot read"),
        ("[model]\nthreshold = 0.5\n", "needs exactly these keys"),
        (
            "[model]\nnames=['coverage']\nmean=[0]\nscale=[1]\ncoef=[1]\nintercept=0\nthreshold=1.5\nwindow=10\nembedding_model=''\n",
            r"must be a number in \[0, 1\]",
        ),
        (
            "[model]\nnames=['size']\nmean=[0]\nscale=[1]\ncoef=[1]\nintercept=0\nthreshold=0.5\nwindow=10\nembedding_model=''\n",
            r"unknown features \['size'\]; known: coverage, partial",
        ),
        (
            "[model]\nnames=['coverage']\nmean=[0, 1]\nscale=[1]\ncoef=[1]\nintercept=0\nthreshold=0.5\nwindow=10\nembedding_model=''\n",
            "one value per feature",
        ),
    ],
)
def test_a_bad_model_file_is_a_config_error(tmp_path, content, message):
    path = tmp_path / "abstain.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        read_rule(path)


def test_a_bad_lexicon_is_a_config_error(tmp_path):
    path = tmp_path / "lexicon.toml"
    path.write_text("[words]\nquestion = []\nverbs = []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown keys \['verbs'\] in \[words\]"):
        AnswerLexicon.load(path)
    path.write_text("[cues.x]\nask = ['a']\npattern = '('\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a regular expression"):
        AnswerLexicon.load(path)
    path.write_text("[cues.x]\nask = ['a']\npattern = 'b'\nabstains = 'no'\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"\[cues.x\] .* and `abstains` \(true or false\); found abstains = 'no'$"
    ):
        AnswerLexicon.load(path)
    path.write_text("[cues.x]\nask = ['a']\nabstain = false\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"found unknown 'abstain', no 'pattern'$"):
        AnswerLexicon.load(path)
