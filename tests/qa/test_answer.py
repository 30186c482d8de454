"""The extractive answerer on a small hand-made knowledge base (fake embedder): quoted, cited answers,
abstention, several documents, English and Traditional questions, time-bound notices, hidden instructions."""
# ruff: noqa: F811 — pytest fixtures (kb, fake_home) are imported from answer_kit and requested by name

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from answer_kit import INJECTION, RULE, TODAY, clause_of, fake_home, kb  # noqa: F401

from policykb.ingest.text import comparison_key, search_key, split_sentences
from policykb.qa.answer import NO_CLAUSE, answer
from policykb.qa.citations import validity_note
from policykb.qa.metrics import answer_metrics, evidence_cited, faithful_sentences
from policykb.qa.question import default_qa_lexicon

FEE = "腾讯微视平台对本次活动不收取费用，企业在第三方平台产生的费用按第三方平台规定执行。"
SZ_NOTE = "时效性通知，有效期 2020-03-01 至 2020-06-30（已结束）"
QY_NOTE = "活动方案，有效期 2021-10-23 至 2021-11-14（已结束）"


def ask(kb, q, **kw):
    return answer(kb, q, rule=RULE, today=TODAY, **kw)


def test_fee_question_is_answered_with_the_clause_quoted_and_cited(kb):
    a = ask(kb, "微视收费吗？")
    assert not a.abstained
    assert a.text == FEE + "[1]"
    assert [(s.text, s.citations) for s in a.sentences] == [(FEE, (1,))]
    c = a.citations[0]
    assert (c.n, c.clause, c.clause.metadata.issuer, c.clause.metadata.date, c.section) == (
        1,
        clause_of(kb, "sz-weishi", "2."),
        "深圳市商务局",
        "2020-03-16",
        "二、业务流程 > （一）活动报名。 > 2.",
    )
    assert c.clause.title == "深圳市商务局关于印发腾讯微视专场活动指引的通知"
    assert c.note == SZ_NOTE and c.time_bound
    assert (c.valid_from, c.valid_to) == ("2020-03-01", "2020-06-30")
    assert a.lead is None and a.groups == ()


def test_two_sentences_of_one_clause_share_one_number(kb):
    a = ask(kb, "微视账号注册有什么要求？")
    assert (
        a.text
        == "在腾讯微视注册企业官方账号。[1] 要求所有企业注册账号时必须选择 QQ 号注册，而非微信号注册。[1]"
    )
    assert len(a.citations) == 1 and a.citations[0].clause == clause_of(kb, "sz-weishi", "（二）")


@pytest.mark.parametrize(
    "question",
    [
        "微视收费吗？",
        "微视账号注册有什么要求？",
        "各地对农产品直播带货有什么支持？",
        "Does Weishi charge fees?",
        "創作者賬號違規會被怎樣處理？",
        "时尚清远专场什么时候举办？",
        "清远直播节由谁主办？",
        "上海对直播电商实行怎样的监管？",
        "微视短视频拍多长时间？",
    ],
)
def test_every_sentence_is_verbatim_from_a_clause_it_cites(kb, question):
    a = ask(kb, question)
    assert not a.abstained and a.sentences
    texts = {c.n: c.clause.text for c in a.citations}
    for s in a.sentences:
        assert s.citations, s
        assert all(s.text in texts[n] for n in s.citations)
        assert texts[s.citations[0]][s.start : s.end] == s.text
        assert s.text + "".join(f"[{n}]" for n in s.citations) in a.text
    assert faithful_sentences(a) == (len(a.sentences), len(a.sentences))
    assert [c.n for c in a.citations] == list(range(1, len(a.citations) + 1))


COVERAGE_TOO_LOW = "p(answered)"
NO_WORD_IN_TOP = "no word of the question occurs in the top clauses"


@pytest.mark.parametrize(
    "question, message, rule",
    [
        ("微视的佣金比例是多少？", NO_CLAUSE["zh"], COVERAGE_TOO_LOW),
        # Every clause found is from a notice of another platform or region than the one asked about.
        ("淘宝直播的佣金比例是多少？", NO_CLAUSE["zh"], "the question is about 淘宝; no clause found is"),
        (
            "How do I apply for a business license in Hong Kong?",
            "The knowledge base has no clause on this.",
            "the question is about 香港; no clause found is",
        ),
        # None of 京东/退货/政策 is in the top clauses of this small corpus: the stricter rule fires first.
        ("京東的退貨政策是什麼？", "知識庫中沒有回答這個問題的條款。", NO_WORD_IN_TOP),
    ],
)
def test_unanswered_question_abstains_and_offers_related_reading(kb, question, message, rule):
    a = ask(kb, question)
    assert a.abstained and a.text == message
    assert a.sentences == () and a.citations == ()
    assert 0 < len(a.related) <= 5
    if rule == COVERAGE_TOO_LOW:
        assert a.reason.startswith("p(answered) ") and a.reason.endswith("< 0.50")
    else:
        assert a.reason == rule
    d = a.to_dict()
    assert d["abstained"] is True and d["citations"] == [] and d["answer"] == message
    assert all("n" not in r and r["clause_id"] for r in d["related"])


def test_the_question_is_prepared_once_by_search_and_reused(kb, monkeypatch):
    from policykb.index.search import SearchIndex

    calls: list[str] = []
    prepare = SearchIndex.prepare
    monkeypatch.setattr(SearchIndex, "prepare", lambda self, q: calls.append(q) or prepare(self, q))
    found = kb.retrieve("Does Weishi charge fees?", k=5)
    assert found.query.lang == "en" and "微视" in found.query.zh
    assert [h.clause.clause_id for h in found.hits] == [
        h.clause.clause_id for h in kb.search("Does Weishi charge fees?", k=5)
    ]
    calls.clear()
    a = answer(kb, "微视收费吗？")
    assert not a.abstained and calls == ["微视收费吗？"]  # search prepared it; the answerer read those forms


def test_empty_question_abstains_without_searching(kb):
    a = ask(kb, "   ")
    assert a.abstained and a.related == () and a.reason == "no word of the question occurs in the top clauses"


def test_question_spanning_documents_is_grouped_by_document(kb):
    a = ask(kb, "各地对农产品直播带货有什么支持？")
    assert a.text == (
        "广东省清远市 · 清远市人民政府：\n"
        "以各县（市、区）农产品、服装等为带货产品，采用线下摆摊+线上直播下单相结合的方式，助力乡村振兴。[1]\n"
        "广东省深圳市 · 深圳市商务局：\n"
        "如有从事三农产品销售的企业，请特别说明，平台有特殊政策予以支持。[2]"
    )
    assert [(g.doc_id, g.sentences) for g in a.groups] == [("qy-festival", (0,)), ("sz-weishi", (1,))]
    assert [c.note for c in a.citations] == [QY_NOTE, SZ_NOTE]


def test_english_question_gets_an_english_lead_and_chinese_quotes(kb):
    a = ask(kb, "Does Weishi charge fees?")
    assert a.lead == (
        "Answered by 深圳市商务局 《深圳市商务局关于印发腾讯微视专场活动指引的通知》 (2020-03-16), "
        "section 二、业务流程 > （一）活动报名。 > 2. [1]; quoted in Chinese below."
    )
    assert a.text == a.lead + "\n" + FEE + "[1]"
    assert a.citations[0].note == "time-bound notice, valid 2020-03-01 to 2020-06-30 (ended)"


def test_traditional_question_shows_the_original_wording_alongside(kb):
    a = ask(kb, "創作者賬號違規會被怎樣處理？")
    assert a.lang == "zh-hant"
    assert (
        a.text
        == "创作者账号,不符合上述第二章相关规则的,平台有权采取以下处理措施:[1] 重置个人信息、公示警告、扣除信用分。[1]"
    )
    assert [s.original for s in a.sentences] == [
        "創作者賬號,不符合上述第二章相關規則的,平台有權採取以下處理措施:",
        "重置個人信息、公示警告、扣除信用分。",
    ]
    assert a.citations[0].note is None  # a platform rule without a validity period


def test_a_sentence_that_introduces_a_list_brings_the_list(kb):
    a = ask(kb, "创作者账号违规会被怎样处理？")
    assert [s.text for s in a.sentences][-1] == "重置个人信息、公示警告、扣除信用分。"


def test_table_row_is_quoted_whole_with_the_event_note(kb):
    a = ask(kb, "时尚清远专场什么时候举办？")
    assert a.text == "序号：4；时间：11月11日；项目：时尚清远专场；地点：广清中大时尚科技城[1]"
    assert a.citations[0].note == QY_NOTE


def test_hidden_instruction_in_a_notice_is_never_quoted(kb):
    a = ask(kb, "报名方式是什么？")
    assert a.text == "报名方式另行通知。[1]"
    assert INJECTION not in a.text
    # The instruction does not make a question it "answers" look answered either.
    b = ask(kb, "本平台所有服务免费吗？")
    assert b.abstained
    assert all(INJECTION not in s.text for s in b.sentences)


def test_filters_restrict_the_clauses_read(kb):
    from policykb.index.filters import Filters

    a = ask(kb, "各地对农产品直播带货有什么支持？", filters=Filters(region="上海市"))
    assert {c.clause.doc_id for c in a.citations} <= {"sh-measures"}


def test_to_dict_is_json_with_the_cli_fields(kb):
    d = ask(kb, "微视收费吗？").to_dict()
    json.dumps(d, ensure_ascii=False)
    assert list(d)[:5] == ["question", "answer", "abstained", "citations", "related"]
    c = d["citations"][0]
    assert {
        k: c[k]
        for k in (
            "n",
            "doc_id",
            "issuer",
            "date",
            "section",
            "label",
            "text",
            "time_bound",
            "time_note",
            "valid_from",
            "valid_to",
        )
    } == {
        "n": 1,
        "doc_id": "sz-weishi",
        "issuer": "深圳市商务局",
        "date": "2020-03-16",
        "section": "二、业务流程 > （一）活动报名。 > 2.",
        "label": "2.",
        "text": FEE,
        "time_bound": True,
        "time_note": SZ_NOTE,
        "valid_from": "2020-03-01",
        "valid_to": "2020-06-30",
    }
    assert d["sentences"] == [
        {
            "text": FEE,
            "citations": [1],
            "clause_id": c["clause_id"],
            "start": 0,
            "end": len(FEE),
            "original": None,
        }
    ]


def test_unknown_mode_is_an_error(kb):
    with pytest.raises(ValueError, match="answer mode 'creative' is not known; allowed: extractive, llm"):
        ask(kb, "微视收费吗？", mode="creative")


# --- small pieces ---------------------------------------------------------------------------------------


def test_sentences_are_spans_and_table_rows_stay_whole():
    text = "一、 简介\n平台不收取费用。企业自愿参加；“报名”免费！序号：1；时间：10月23日"
    spans = split_sentences(text)
    assert [s.text for s in spans] == [
        "一、 简介",
        "平台不收取费用。",
        "企业自愿参加；",
        "“报名”免费！",
        "序号：1；时间：10月23日",
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_comparison_key_follows_the_evidence_rule():
    assert comparison_key("攔截了超300萬件(fèi)劣質商品。") == "拦截了超300万件劣质商品"
    assert comparison_key("必须选择 QQ 号注册") == "必须选择QQ号注册"


def test_validity_notes():
    from datetime import date

    from policykb.ingest.record import Metadata

    assert (
        validity_note(Metadata(doc_type="event_plan"), None, None, lang="zh") == "活动方案（仅适用于该活动）"
    )
    assert (
        validity_note(Metadata(doc_type="notice"), None, "2030-01-01", lang="en", today=date(2024, 1, 1))
        == "time-bound notice, valid until 2030-01-01"
    )
    assert (
        validity_note(Metadata(doc_type="event"), "2020-01-01", None, lang="zh")
        == "活动通知，自 2020-01-01 起施行"
    )
    assert validity_note(Metadata(doc_type="law"), "2019-01-01", None, lang="zh") == "自 2019-01-01 起施行"
    assert (
        validity_note(Metadata(doc_type="law"), "2019-01-01", None, lang="en") == "in force from 2019-01-01"
    )


def test_answer_metrics_count_abstentions_evidence_and_faithfulness(kb):
    questions = [
        {"id": "a", "q": "微视收费吗？", "doc": "sz", "evidence": ["不收取費用"]},
        {"id": "b", "q": "微视账号注册有什么要求？", "doc": "sz", "evidence": ["不在这里"]},
        {"id": "c", "q": "淘宝直播的佣金比例是多少？", "doc": "none", "evidence": []},
        {"id": "d", "q": "本平台所有服务免费吗？", "doc": "sz", "evidence": ["永久免费"]},
    ]
    answers = [ask(kb, q["q"]) for q in questions]
    m = answer_metrics(answers, questions)
    rows = m.pop("per_question")
    assert m == {
        "questions": 4,
        "none_questions": 1,
        "abstention_accuracy": 1.0,
        "answerable_questions": 3,
        "false_abstentions": 1,
        "false_abstention_rate": 0.3333,
        "evidence_in_citations": 0.3333,
        "evidence_in_citations_answered": 0.5,
        "faithfulness": 1.0,
        "answer_sentences": 3,
    }
    assert [(r["id"], r["evidence_cited"], r["correct_abstention"]) for r in rows] == [
        ("a", True, True),
        ("b", False, True),
        ("c", None, True),
        ("d", False, False),
    ]
    assert evidence_cited(answers[0], ["不收取费用"]) and not evidence_cited(answers[0], [])
    with pytest.raises(ValueError, match="1 answers for 4 questions"):
        answer_metrics(answers[:1], questions)


def test_a_question_about_one_platform_is_never_answered_from_another_platforms_notice(kb):
    """抖音收费吗: the 微视 notice's fee clause matches every word but 抖音, and a 抖音 rule is in the top
    clauses (so the question is not "about a platform no clause is about"); whether to answer, and from
    what, is judged on the clauses about 抖音 alone, and none of them says anything about fees."""
    a = ask(kb, "抖音收费吗？")
    assert all(c.clause.doc_id != "sz-weishi" for c in a.citations)
    assert a.abstained and a.reason.startswith("p(answered) ")
    assert not ask(kb, "微视收费吗？").abstained  # the same question about 微视 is still answered


@pytest.mark.parametrize(
    ("question", "answered"),
    [
        # 不收取费用 settles "how much": nothing to pay
        ("微视报名要交钱吗？交多少？", FEE),
        (
            "微视上转化率高的商品客单价一般不高于多少元？",
            "据统计，目前在微视平台上转化率较高的商品，其客单价一般不高于 50 元。",
        ),
    ],
)
def test_a_quantity_asked_in_a_unit_is_answered_by_a_clause_that_states_one(kb, question, answered):
    a = ask(kb, question)
    assert not a.abstained and a.sentences[0].text == answered


def test_a_quantity_asked_in_a_unit_that_no_clause_states_abstains(kb):
    # The clause on video length speaks of 1 分钟, not of hours.
    a = ask(kb, "微视发布的短视频时长最多几个小时？")
    assert a.abstained and a.reason == "the question asks for a quantity (hours); no clause found states one"
    assert a.citations == () and a.related[0].clause.label == "1."


@pytest.mark.parametrize(
    ("question", "measures"),
    [
        ("保健食品广告审查要几个工作日？", ["days"]),
        ("How many days does the platform take to review it?", ["days"]),
        ("听证会一般要有多少人？", ["people"]),
        ("可以收取保管费吗？收多少？", ["money"]),
        ("申报费用是多少？", ["money"]),
        # which months, which day: not how many
        ("购物节在哪几个月举办？", []),
        ("第几天可以退货？", []),
        # a quantity inside a yes/no question is part of what is asked about
        ("平台有没有义务限制小孩一天能花多少钱？", []),
        # a fine is often set by reference to another law: no amount required
        ("不明码标价要罚多少钱？", []),
        ("要交多少人民币？", ["money"]),
    ],
)
def test_quantities_asked_in_a_unit(question, measures):
    zh = search_key(question)
    assert [m.name for m in default_qa_lexicon().measures if m.asked(zh, question.lower())] == measures


@pytest.mark.parametrize(
    ("measure", "text", "states"),
    [
        ("days", "应当自收到申请之日起十五日内作出决定", True),
        ("days", "应当在5个工作日内办理", True),
        ("days", "本办法自2015年3月15日起施行", False),  # a date, not a number of days
        ("days", "三月十五日", False),
        ("years", "保存时间不少于3年", True),
        ("years", "有效期为三年", True),
        ("years", "自2015年起施行", False),  # a year, not a number of years
        ("years", "二〇一五年", False),
        ("money", "不收取任何费用", True),
        ("money", "处一万元以上十万元以下罚款", True),
        ("people", "由五名以上委员组成", True),
    ],
)
def test_what_states_a_quantity(measure, text, states):
    [m] = [m for m in default_qa_lexicon().measures if m.name == measure]
    assert bool(m.pattern.search(search_key(text))) is states
