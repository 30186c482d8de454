"""The four seed notices in corpus/, end to end: file → clauses with labels, section paths and clean text."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import PINYIN, SEEDS, assert_no_text_lost, ingest_seed, t2s

from policykb.ingest.numbering import int_to_cn


def by_label(result, label: str):
    return [c for c in result.clauses if c.label == label]


# --- every seed ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SEEDS)
def test_seed_loses_no_text(name):
    assert_no_text_lost(ingest_seed(name))


@pytest.mark.parametrize("name", SEEDS)
def test_seed_clauses_are_simplified_and_cite_the_file(name):
    r = ingest_seed(name)
    assert r.clauses
    for c in r.clauses:
        assert t2s(c.text) == c.text
        assert all(t2s(h) == h for h in c.section_path)
        assert c.source.path == f"corpus/{name}"
        assert c.source.page is None
        assert c.doc_id == r.document.doc_id
        assert c.text.strip() == c.text and c.text
    assert [c.seq for c in r.clauses] == list(range(len(r.clauses)))
    assert len({c.clause_id for c in r.clauses}) == len(r.clauses)
    assert r.document.n_clauses == len(r.clauses)


@pytest.mark.parametrize("name", SEEDS)
def test_seed_clauses_in_reading_order(name):
    starts = [c.source.start for c in ingest_seed(name).clauses]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    "name, n_clauses",
    [
        ("shanghai_livestream_measures_2020.txt", 21),
        ("douyin_gov_media_rules_2023.txt", 44),
        ("shenzhen_weishi_2020.txt", 21),  # the addressees (主送) line is metadata
        ("qingyuan_livestream_festival_2021.txt", 38),
    ],
)
def test_seed_clause_counts(name, n_clauses):
    assert len(ingest_seed(name).clauses) == n_clauses


# --- Shanghai: 18 measures run together on one line --------------------------------------------------------

SH = "shanghai_livestream_measures_2020.txt"
SH_PARTS = {
    "一、": "一、支持直播电商主体做大做强",
    "二、": "二、促进直播电商与各行业融合发展",
    "三、": "三、营造多元化商业应用场景",
    "四、": "四、优化保障措施",
}


def sh_part(n: int) -> str:
    return SH_PARTS["一、" if n <= 4 else "二、" if n <= 9 else "三、" if n <= 13 else "四、"]


def test_shanghai_18_measures_are_18_clauses_in_order():
    r = ingest_seed(SH)
    labels = [c.label for c in r.clauses if c.label]
    assert labels == [f"({int_to_cn(n)})" for n in range(1, 19)]


@pytest.mark.parametrize("n", range(1, 19))
def test_shanghai_measure_is_under_its_part(n):
    [c] = by_label(ingest_seed(SH), f"({int_to_cn(n)})")
    assert c.section_path == ("原文节选", sh_part(n))
    assert c.part is None


def test_shanghai_measure_texts_start_with_their_titles_and_stop_at_the_next():
    r = ingest_seed(SH)
    first, last = by_label(r, "(一)")[0], by_label(r, "(十八)")[0]
    assert first.text.startswith("打造具有全国影响力的直播电商平台发挥上海电子商务发展的规模效应")
    assert first.text.endswith("在智慧商业、线上线下融合创新、人工智能、大数据应用等方面形成示范引领。")
    assert by_label(r, "(四)")[0].text.endswith("云转播等现代技术在直播领域的应用。")  # not "二、促进…"
    assert last.text.endswith(
        "鼓励各区结合自身发展定位,因地制宜出台区域支持直播电商发展政策。"
    )  # not "解读…"


def test_shanghai_intro_and_commentary():
    r = ingest_seed(SH)
    intro = [c for c in r.clauses if c.section_path == ()]
    assert [c.part for c in intro] == [(1, 2), (2, 2)]
    assert intro[0].text.startswith("目前,直播电商正在“二次爆发”成为新增长点")
    [commentary] = [c for c in r.clauses if c.section_path == ("解读",)]
    assert commentary.label == ""
    assert commentary.text.startswith("直播电商作为新兴的产业链路,正在进入高速发展的阶段")


def test_shanghai_pagination_is_removed():
    r = ingest_seed(SH)
    assert [(x.reason, x.text) for x in r.removals] == [("pagination", "页:"), ("pagination", "[1]")]
    assert r.text[r.headings[0][0] : r.headings[0][1]] == "直播电商政策扶持一览:上海篇(二)"  # the title line


# --- Douyin: Traditional web article with pinyin, mojibake and site debris --------------------------------

DY = "douyin_gov_media_rules_2023.txt"
DY_CHAPTERS = {
    "1": "第一章 概述",
    "2": "第二章 账号管理规则",
    "3": "第三章 内容发布规范",
    "4": "第四章 违规处理",
}
DY_DECIMALS = [
    "1.1",
    "1.2",
    "1.3",
    "2.1",
    "2.2",
    "2.3",
    "2.4",
    "3.1",
    "3.1.1",
    "3.1.2",
    "3.1.3",
    "3.1.4",
    "3.1.5",
    "3.2",
    "3.2.1",
    "3.2.2",
    "3.2.3",
    "4.1",
    "4.2",
]
DY_RULE = "抖音电商政务媒体相关内容宣传规范"


def test_douyin_every_decimal_clause_once_in_order():
    labels = [c.label for c in ingest_seed(DY).clauses if re.fullmatch(r"\d+(\.\d+)+", c.label)]
    assert labels == DY_DECIMALS


@pytest.mark.parametrize("label", DY_DECIMALS)
def test_douyin_clause_is_under_its_chapter(label):
    [c] = by_label(ingest_seed(DY), label)
    chapter = DY_CHAPTERS[label[0]]
    assert c.section_path[:2] == (DY_RULE, chapter)
    if label.count(".") == 2:  # 3.1.x under 3.1, 3.2.x under 3.2
        assert c.section_path[2].startswith(label[:3] + " ")
        assert len(c.section_path) == 3
    else:
        assert len(c.section_path) == 2


def test_douyin_numbered_cases_under_3_1_5_and_3_2_2():
    r = ingest_seed(DY)
    paren = [(c.label, c.section_path[-1].split(" ")[0]) for c in r.clauses if c.label.startswith("(")]
    assert paren == [
        ("(1)", "3.1.5"),
        ("(2)", "3.1.5"),
        ("(3)", "3.1.5"),
        ("(1)", "3.2.2"),
        ("(2)", "3.2.2"),
        ("(3)", "3.2.2"),
    ]


def test_douyin_clause_text_is_simplified_without_annotations():
    r = ingest_seed(DY)
    [c] = by_label(r, "1.1")
    assert c.text.startswith("目的及依据\n为保障消费者消费体验与权益,打造优质的商品分享交易环境")
    assert c.original.startswith("目的及依據\n為保障消費者消費體驗與權益")  # Traditional kept for citation
    assert r.document.script == "hant"
    for c in r.clauses:
        for s in (c.text, c.original, *c.section_path, c.title):
            assert PINYIN.search(s) is None, s
        assert t2s(c.text) == c.text


@pytest.mark.parametrize(
    "debris",
    [
        "幕思城",
        "阅读:",
        "閱讀",
        "发表评论",
        "發表評論",
        "微信号",
        "微信號",
        "msc496",
        "加我微信",
        ">",
        "登录",
        "注册",
        "666",
        "2023-08-27|23:07",
    ],
)
def test_douyin_no_site_debris_in_any_clause(debris):
    for c in ingest_seed(DY).clauses:
        for s in (c.text, c.original):
            assert debris not in re.sub(r"[\s.]", "", s)


def test_douyin_debris_is_reported_as_removed():
    r = ingest_seed(DY)
    reasons = {}
    for x in r.removals:
        reasons[x.reason] = reasons.get(x.reason, 0) + 1
    assert reasons == {
        "pinyin annotation": 681,
        "mojibake": 4,
        "breadcrumb": 1,
        "publish line / view counter": 1,
        "advertisement with WeChat id": 4,
        "pagination": 1,
        "comment prompt": 2,
    }


def test_douyin_mojibake_is_removed_and_reported():
    r = ingest_seed(DY)
    mojibake = [x for x in r.removals if x.reason == "mojibake"]
    assert [x.text for x in mojibake] == [
        "?zāi)軇?chuàng)",
        "?!叭\ue090蚺d",
        "?yōu)橄\ue386M(fèi)",
        "?;蛘\ue47f畽C(jī)",
    ]
    assert [(x.start, x.end) for x in mojibake] == [(553, 567), (587, 593), (2160, 2173), (5926, 5936)]
    for c in r.clauses:
        assert "?" not in c.text and "\ue090" not in c.text
    assert "“好体验造核心竞争力”趣电商”新阶段" in r.clauses[2].text  # the text around a garbled span stays


def test_douyin_article_before_the_rule_is_unlabelled_paragraphs():
    r = ingest_seed(DY)
    article = [c for c in r.clauses if c.section_path == ()]
    assert len(article) == 17 and all(c.label == "" for c in article)
    assert article[0].text.startswith("抖音电商于8月24日举办“抖音电商开放日-消费者体验专场”活动")


# --- Shenzhen: a notice and its attachment -------------------------------------------------------------

SZ = "shenzhen_weishi_2020.txt"
SZ_ATT = "附件 2020 深圳线上购物节——腾讯微视专场 活动指引"
SZ_PROC = "二、腾讯微视线上购物节总体业务流程简述"


def test_shenzhen_attachment_structure():
    r = ingest_seed(SZ)
    got = [(c.label, c.section_path) for c in r.clauses if c.section_path[:1] == (SZ_ATT,)]

    def step(s: str) -> tuple[str, str, str]:
        return (SZ_ATT, SZ_PROC, s)

    assert got == [
        ("一、", (SZ_ATT,)),
        ("1.", step("（一）活动报名。")),
        ("2.", step("（一）活动报名。")),
        ("3.", step("（一）活动报名。")),
        ("（二）", (SZ_ATT, SZ_PROC)),
        ("1.", step("（三）内容生产和账号运营。")),
        ("2.", step("（三）内容生产和账号运营。")),
        ("1.", step("（四）电商流程。")),
        ("2.", step("（四）电商流程。")),
        ("3.", step("（四）电商流程。")),
        ("1.", step("（五）平台扶持政策。")),
        ("2.", step("（五）平台扶持政策。")),
        ("三、", (SZ_ATT,)),
        ("1.", (SZ_ATT, "三、注意事项")),
        ("2.", (SZ_ATT, "三、注意事项")),
        ("3.", (SZ_ATT, "三、注意事项")),
        ("四、", (SZ_ATT,)),
    ]


def test_shenzhen_no_fee_item():
    r = ingest_seed(SZ)
    [c] = [c for c in r.clauses if c.label == "2." and c.section_path[-1] == "（一）活动报名。"]
    assert c.text == "腾讯微视平台对本次活动不收取费用，企业在第三方平台产生的费用按第三方平台规定执行。"
    assert r.text[c.source.start : c.source.end] == "2. " + c.text


def test_shenzhen_parts_with_a_body_are_clauses():
    r = ingest_seed(SZ)
    assert by_label(r, "一、")[0].text.startswith("腾讯微视简介\n腾讯微视是腾讯旗下的一款短视频 APP")
    assert by_label(r, "（二）")[0].text.startswith("在腾讯微视注册企业官方账号。\n在腾讯微视注册账号")
    assert by_label(r, "三、")[0].text.endswith("商品销售转化率取决于三大因素：")
    assert by_label(r, "四、")[0].text.startswith("报名渠道及联系方式\n报名入口：<https://docs.qq.com/")


def test_shenzhen_wrapped_lines_are_joined():
    r = ingest_seed(SZ)
    assert any("具体报名参与规则见附件。" in c.text for c in r.clauses)  # "参\n\n与" in the file
    assert any("商品是否可支持线上购买。" in c.text for c in r.clauses)


def test_shenzhen_letter_spaced_issuer_is_a_heading_and_the_signature_a_clause():
    r = ingest_seed(SZ)
    assert r.text[2:13] == "深 圳 市 商 务 局"
    assert (2, 13) in r.headings
    [signature] = [c for c in r.clauses if c.text.startswith("特此通知。")]
    assert "\n深圳市商务局\n2020 年 3 月 16 日\n" in signature.text


# --- Qingyuan: a flattened schedule table and nested numbering --------------------------------------------

QY = "qingyuan_livestream_festival_2021.txt"
QY_PLAN = "五、实施计划"
QY_FASHION = "（五）“粤贸全国，云上清远”直播节——时尚清远专场"


def test_qingyuan_schedule_table_is_one_clause_of_four_readable_rows():
    """224 characters together: one clause, as a PDF or DOCX table that short (``TABLE_AS_ONE``)."""
    r = ingest_seed(QY)
    [table] = [c for c in r.clauses if c.text.startswith("序号：")]
    assert table.text.split("\n序号：") == [
        "序号：1；时间：10月23日；项目：启动仪式专场\n（含启动仪式+展摊+清远乡村振兴成果图片展）；地点：清远清城区顺盈广场一楼中庭",
        "2；时间：10月24日-10月30日；项目：乡村振兴专场；地点：各县（市、区）电子商务产业园（7个）",
        "3；时间：10月26日-10月27日；项目：“直播业态”人才培训；地点：金创产业园一场；中大时尚科技城一场",
        "4；时间：11月11日；项目：时尚清远专场；地点：广清中大时尚科技城",
    ]
    assert (table.section_path, table.label) == ((QY_PLAN,), "")


@pytest.mark.parametrize("cell", ["序号", "时间", "1", "10月23日", "启动仪式专场", "广清中大时尚科技城", "4"])
def test_qingyuan_never_a_clause_per_cell(cell):
    assert all(c.text != cell for c in ingest_seed(QY).clauses)


def test_qingyuan_parts_one_to_four_are_clauses_five_is_a_heading():
    r = ingest_seed(QY)
    top = [(c.label, c.text.split("\n")[0]) for c in r.clauses if c.label.endswith("、")]
    second_part = (
        "直播活动分为活动预热、直播活动、后续推广三部分，联合知名直播平台、品牌企业、清远商家、网红主播，"
        "协同合作、相互赋能，助力清远产品宣传推广，推动活动圆满完成。"
    )
    assert top == [
        ("一、", "活动主题"),
        ("二、", "活动时间和地点"),
        ("三、", "活动形式"),
        ("三、", second_part),
        ("四、", "活动组织结构"),
    ]
    assert [c.part for c in by_label(r, "三、")] == [(1, 2), (2, 2)]
    assert all(c.section_path == () for c in r.clauses if c.label.endswith("、"))
    assert {c.section_path[0] for c in r.clauses if c.section_path} == {QY_PLAN}


def test_qingyuan_sub_plans_are_under_part_five():
    r = ingest_seed(QY)
    subs = sorted({c.section_path[1] for c in r.clauses if len(c.section_path) > 1})
    assert subs == sorted(
        [
            "（一）“粤贸全国，云上清远”直播节——启动仪式+趣摆摊惠生活专场",
            "（二）“粤贸全国，云上清远”直播节——趣摆摊惠生活专场",
            "（三）“粤贸全国，云上清远”直播节——乡村振兴专场",
            "（四）“粤贸全国，云上清远”直播节——“直播业态”抖音电商培训班",
            QY_FASHION,
        ]
    )
    [first] = by_label(r, "（一）")
    assert first.section_path == (QY_PLAN,)
    assert (
        first.text
        == "“粤贸全国，云上清远”直播节——启动仪式+趣摆摊惠生活专场\n活动时间：10月23日-10月29日（7天）"
    )


def test_qingyuan_fashion_items():
    r = ingest_seed(QY)
    items = [c for c in r.clauses if c.section_path == (QY_PLAN, QY_FASHION) and c.label]
    expected = [
        ("1.", None, "时间：11月11日"),
        ("2.", None, "活动地点：广清中大时尚科技城"),
        ("3.", (1, 2), "活动形式：春丰天集是抖音"),
        ("3.", (2, 2), "N个品牌企业直播间——"),
        ("4.", None, "直播及数据统计平台：全网"),
        ("5.", None, "数据统计要求：由各个县（"),
    ]
    assert [(c.label, c.part) for c in items] == [(label, part) for label, part, _ in expected]
    assert all(c.text.startswith(start) for c, (_, _, start) in zip(items, expected))
    assert items[0].text == "时间：11月11日"


def test_qingyuan_launch_ceremony_steps():
    r = ingest_seed(QY)
    ceremony = "1.“粤贸全国，云上清远”直播节启动仪式"
    steps = [c.label for c in r.clauses if c.section_path[-1:] == (ceremony,)]
    assert steps == ["1.1", "1.2", "1.3", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6"]


def test_qingyuan_table_after_a_finished_item_is_not_under_it():
    r = ingest_seed(QY)
    [row] = [c for c in r.clauses if c.text.startswith("时间：11月12日-11月14日；内容：")]
    # The last item "5.数据统计要求：…组织宣传。" ends in a sentence: the table is its sibling, not its child.
    assert row.section_path == (QY_PLAN, QY_FASHION)
