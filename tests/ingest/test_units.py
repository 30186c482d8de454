"""Units of ingest: numbering markers, Chinese numerals, cleaning, OpenCC, offset-mapped text, layout, splitting."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import assert_no_text_lost

from policykb.index.references import label_key
from policykb.ingest.clean import clean, default_rules, mojibake_spans
from policykb.ingest.layout import build_units, join_wrapped, to_lines
from policykb.ingest.markers import Marker, inline_markers, line_marker
from policykb.ingest.mtext import MText
from policykb.ingest.numbering import cn_to_int, int_to_cn
from policykb.ingest.pipeline import ingest_text
from policykb.ingest.split import split_long
from policykb.ingest.text import display_text, to_simplified


def units_of(text: str, title: str | None = None):
    return build_units(to_lines(clean(text).lines), default_rules(), title)


# --- markers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, kind, label, number",
    [
        ("第 7-1 條", "article", "第 7-1 條", 7),
        ("第三十五条 为了规范", "article", "第三十五条", 35),
        ("第三十五条为了规范", "article", "第三十五条", 35),
        ("第二百零一条 附则", "article", "第二百零一条", 201),
        ("第十二条之一 补充", "article", "第十二条之一", 12),
        ("第３条 全角数字", "article", "第３条", 3),
        ("第一编 总则", "part", "第一编", 1),
        ("第一章 总则", "chapter", "第一章", 1),
        ("第 二 章 消費者權益", "chapter", "第 二 章", 2),
        ("第二节 一般规定", "section", "第二节", 2),
        ("第 一 節 健康與安全保障", "section", "第 一 節", 1),
        ("3.1.5 创作者常见易违规场景", "decimal3", "3.1.5", 5),
        ("1.1时间：10月23日", "decimal2", "1.1", 1),
        ("2.4.1.3 细目", "decimal4", "2.4.1.3", 3),
        ("一、总则", "cn_dun", "一、", 1),
        ("十、附则", "cn_dun", "十、", 10),
        ("（十二）提升夜间经济动能", "cn_paren", "（十二）", 12),
        ("(一)打造平台", "cn_paren", "(一)", 1),
        ("(1)违规营销蹭热点", "ar_paren", "(1)", 1),
        ("（3）虚假宣传", "ar_paren", "（3）", 3),
        ("1. 此次线上购物节", "ar_dot", "1.", 1),
        ("1、此次线上购物节", "ar_dot", "1、", 1),
        ("１. 全角", "ar_dot", "１.", 1),
        ("①应当公示", "circled", "①", 1),
        ("⑳最后一项", "circled", "⑳", 20),
        # An article whose text begins like a number word is a heading, not a cross reference.
        ("第五条 第三方平台应当建立规则", "article", "第五条", 5),
        ("第五条　第一次违反的，予以警告", "article", "第五条", 5),
        ("第 5 條 第三人代為受領", "article", "第 5 條", 5),
    ],
)
def test_line_marker(line, kind, label, number):
    m = line_marker(line)
    assert (m.kind, m.label, m.number) == (kind, label, number)
    assert line[: m.end].strip() == label


@pytest.mark.parametrize(
    "line",
    [
        "第十条规定的情形",
        "第五條第一項至第三項及第八條第一項規定",
        "第三方信用服务机构",
        "第一项",
        "第一項憑證實務作業基準",
        "3.1.2的规定",
        "2021年清远市",
        "10.5万元",
        "3.5倍",
        "12.30日",
        "（一）项",
        "第二款规定",
        "第十条、第十一条",
        "第四十二条和第四十三条",
        "本法第十条",
        "第五条第一款规定",
        "第五条 第二款规定的",
        "第五条、第六条",
        "平台经营者应当公示营业执照信息。",
        "",
        "第",
        "（）",
    ],
)
def test_not_a_marker(line):
    assert line_marker(line) is None


def test_inline_markers_of_a_digest_line():
    text = (
        "支持直播电商主体做大做强(一)打造具有全国影响力的直播电商平台形成示范引领。(二)建设若干特色直播电商基地"
        "形成集群效应。(三)培育优质MCN机构带动壮大市场主体。"
    )
    last: dict[str, int] = {}
    found = inline_markers(text, last, after_heading=True)
    assert [(text[p : p + 3], m.kind, m.number) for p, m in found] == [
        ("(一)", "cn_paren", 1),
        ("(二)", "cn_paren", 2),
        ("(三)", "cn_paren", 3),
    ]
    assert last == {"cn_paren": 3}


def test_inline_markers_need_a_sentence_end_and_the_next_number():
    last: dict[str, int] = {}
    text = "依照本法第一条、第二条规定(二)的情形。(五)不在序列中。统一、规范。(一)重新开始。"
    found = inline_markers(text, last, after_heading=False)
    assert [(m.label, m.number) for _, m in found] == [("(一)", 1)]


def test_inline_word_is_not_an_item():
    """ "统一、" is a word followed by a comma, not item 一、."""
    assert inline_markers("规范管理。统一、规范、有序。", {}, after_heading=False) == []
    found = inline_markers("规范管理。一、总则", {}, after_heading=False)
    assert [m for _, m in found] == [Marker("cn_dun", "一、", 1, 2)]


# --- numerals ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, n",
    [
        ("三十五", 35),
        ("一百零二", 102),
        ("两", 2),
        ("35", 35),
        ("十", 10),
        ("十八", 18),
        ("二十", 20),
        ("一千零一", 1001),
        ("〇", 0),
        ("壹佰贰拾", 120),
        ("①", 1),
        ("３５", 35),
    ],
)
def test_cn_to_int(text, n):
    assert cn_to_int(text) == n


@pytest.mark.parametrize("text", ["", "三方", "abc", "第一"])
def test_cn_to_int_rejects(text):
    assert cn_to_int(text) is None


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "零"),
        (10, "十"),
        (18, "十八"),
        (35, "三十五"),
        (102, "一百零二"),
        (110, "一百一十"),
        (1001, "一千零一"),
        (9999, "九千九百九十九"),
    ],
)
def test_int_to_cn(n, text):
    assert int_to_cn(n) == text


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(0, 9999))
def test_numerals_round_trip(n):
    assert cn_to_int(int_to_cn(n)) == n


@pytest.mark.parametrize(
    "a, b",
    [
        ("第三十五条", "第35条"),
        ("第三十五条", "第 35 條"),
        ("第 7-1 條", "第7-1条"),
        ("（十二）", "(十二)"),
        ("3.1.2", "3.1.2."),
        ("1.", "1、"),
    ],
)
def test_label_key_same_number(a, b):
    assert label_key(a) == label_key(b)


# --- cleaning ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, reason",
    [
        ("首页>新闻中心>通知公告", "breadcrumb"),
        ("幕思城>電商行情>抖音小店>開店入駐>抖音電商開放日", "breadcrumb"),
        ("阅读:1234", "publish line / view counter"),
        ("浏览次数: 99", "publish line / view counter"),
        ("2023-08-27|23:07|發布在分類 / 開店入駐| 閱讀:28", "publish line / view counter"),
        ("发表评论", "comment prompt"),
        ("評論(3)", "comment prompt"),
        ("別默默看了 登錄\\ 注冊 一起參與討論!", "comment prompt"),
        ("微信号：shopabc123", "advertisement with WeChat id"),
        ("可以加幕.思.城火星老師免費咨詢,微.信號是為: msc496。", "advertisement with WeChat id"),
        ("難題沒解決?加我微信給你講!", "advertisement with WeChat id"),
        ("更多资讯请关注本站", "advertisement with WeChat id"),
        ("页: [1] [2]", "pagination"),
        ("上一页 1 2 下一页", "pagination"),
        (">", "pagination"),
        ("<!-- 广告 -->", "markup comment"),
        ("分享到：朋友圈", "share buttons"),
    ],
)
def test_debris_line_is_removed_and_reported(line, reason):
    c = clean(f"第一条 正文。\n  {line}  \n第二条 正文。")
    assert [ln.text for ln in c.lines] == ["第一条 正文。", "", "第二条 正文。"]
    [removal] = [r for r in c.removals if r.reason != "pinyin annotation"]
    assert removal.reason == reason
    assert (removal.start, removal.end) == (10, 10 + len(line))


@pytest.mark.parametrize(
    "line",
    [
        "平台应当公示信息。",
        "浏览：12次以上的视频",
        "(2020-2022年)",
        "电子商务(e-commerce)",
        "电话(fee)",
        "分享到朋友圈的内容应当真实、准确，不得含有虚假信息，也不得误导消费者或者诱导他人转发。",
        "A B C D",
        "第一章 总则",
        "评论区不得发布广告。",
    ],
)
def test_text_is_not_debris(line):
    c = clean(line)
    assert (c.lines[0].text, c.removals) == (line, [])


def test_clean_example():
    c = clean("幕思城>電商行情>抖音小店\n消費(fèi)者體驗(yàn)\n深 圳 市 商 务 局")
    assert [ln.text for ln in c.lines] == ["", "消費者體驗", "深圳市商务局"]
    assert [(r.reason, r.start, r.end, r.text) for r in c.removals] == [
        ("breadcrumb", 0, 13, "幕思城>電商行情>抖音小店"),
        ("pinyin annotation", 16, 21, "(fèi)"),
        ("pinyin annotation", 24, 29, "(yàn)"),
    ]
    assert c.lines[2].span() == (30, 41)  # letter-spaced: the joined text still spans every source character
    assert list(c.lines[2].pos) == [30, 32, 34, 36, 38, 40]


def test_annotation_only_after_a_cjk_character():
    c = clean("消費(fèi)者 and (fèi) alone")
    assert c.lines[0].text == "消費者 and (fèi) alone"
    assert [r.text for r in c.removals] == ["(fèi)"]


def test_zero_width_characters_are_dropped():
    c = clean("\u200b第一条\u200d 内容\ufeff\u00ad")
    assert c.lines[0].text == "第一条 内容"
    assert c.lines[0].span() == (1, 8)


def test_mojibake_spans():
    t = "好體驗(yàn)?zāi)軇?(chuàng)造核心"
    assert [t[s:e] for s, e in mojibake_spans(t)] == ["?zāi)軇?(chuàng)"]


@pytest.mark.parametrize(
    "text", ["直播间能否退货?可以。", "What? 平台", "价格是否合理?", "第一条 是否适用本法?"]
)
def test_a_question_mark_is_not_mojibake(text):
    assert mojibake_spans(text) == []


def test_mojibake_removed_by_clean():
    c = clean("幫助他們?yōu)橄\ue386M(fèi)者提供更高質量的服務。")
    assert c.lines[0].text == "幫助他們者提供更高質量的服務。"
    assert [(r.reason, r.text) for r in c.removals] == [("mojibake", "?yōu)橄\ue386M(fèi)")]


# --- OpenCC (RELIABILITY 16, 17) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "traditional, simplified",
    [
        ("乾隆", "乾隆"),
        ("乾燥", "干燥"),
        ("瞭解", "了解"),
        ("執行", "执行"),
        ("行政程序", "行政程序"),
        ("消費者權益保護法", "消费者权益保护法"),
        ("乾隆年間，天氣乾燥", "乾隆年间，天气干燥"),
    ],
)
def test_opencc_golden_cases(traditional, simplified):
    assert to_simplified(traditional) == simplified


@pytest.mark.parametrize(
    "text", ["乾隆皇帝", "干燥的天气", "了解情况", "执行行政程序", "电子商务法第三十五条", "直播电商"]
)
def test_simplified_text_is_unchanged(text):
    assert to_simplified(text) == text


def test_never_tw2sp_which_rewrites_legal_wording():
    tw2sp = opencc.OpenCC("tw2sp")
    assert (tw2sp.convert("行政程序"), tw2sp.convert("執行")) == ("行政进程", "运行")  # what must not happen
    r = ingest_text("第一條 行政程序應依法執行，乾燥、瞭解與乾隆均照原意。", source_path="x", doc_id="x")
    [c] = r.clauses
    assert c.text == "行政程序应依法执行，干燥、了解与乾隆均照原意。"
    assert c.original == "行政程序應依法執行，乾燥、瞭解與乾隆均照原意。"
    assert c.label == "第一條"


def hard_wrapped(width: int) -> str:
    """A Traditional article hard-wrapped at ``width`` so that one line ends with 乾 and the next starts with 隆."""
    head = "第一條　本規範所稱消費者，係指為消費目的而購買、使用商品或接受服務者。企業經營者應確保其提供之商品或服務，"
    pad = "符合當時科技或專業水準可合理期待之安全性，並應注意清代"
    tail = "乾隆年間之商業規範，亦可作為瞭解歷史之參考資料，以供行政程序執行時參考，並應妥善保存相關檔案資料以備查考。"
    text = head + pad
    text += "商" * ((width - 1 - len(text)) % width) + tail  # 乾 lands on the last column
    return "\n".join(text[i : i + width] for i in range(0, len(text), width)) + "\n"


@pytest.mark.parametrize("width", [16, 20, 24])
def test_hard_wrapped_phrase_is_joined_before_conversion(width):
    text = hard_wrapped(width)
    lines = text.splitlines()
    assert len(lines) >= 6 and {len(ln) for ln in lines[:-1]} == {width}
    k = next(i for i, ln in enumerate(lines) if ln.endswith("乾"))
    assert lines[k + 1].startswith("隆")
    assert to_simplified("乾\n隆") == "干\n隆"  # converting line by line would break the phrase
    [c] = ingest_text(text, source_path="x", doc_id="x", max_chars=10**6).clauses
    assert "乾隆年间" in c.text and "干隆" not in c.text
    assert c.text == to_simplified("".join(lines)[len("第一條　") :])
    assert "\n" not in c.original


# --- offset-mapped text ---------------------------------------------------------------------------------------


def test_mtext_delete_keeps_source_offsets():
    m = MText.of("消費(fèi)者", base=100).delete([(2, 7)])
    assert (m.text, m.span(), m.span(2, 3)) == ("消費者", (100, 108), (107, 108))


def test_mtext_replace_keeps_positions_of_kept_characters():
    m = MText.of("x深 圳 市y").replace([(1, 6, "深圳市")])
    assert (m.text, list(m.pos)) == ("x深圳市y", [0, 1, 3, 5, 6])


def test_mtext_replace_with_new_characters_points_at_the_span_start():
    m = MText.of("abcdef").replace([(2, 4, "XYZ")])
    assert (m.text, list(m.pos)) == ("abXYZef", [0, 1, 2, 2, 2, 4, 5])


def test_mtext_extend_left_and_join():
    line = MText.of("## 第一章 总则")
    title = line[3:].extend_left(0)
    assert (title.text, title.span(), title[4:].span()) == ("第一章 总则", (0, 9), (7, 9))
    joined = MText.join([MText.of("ab"), MText.of("cd", base=10)], "\n")
    assert (joined.text, list(joined.pos)) == ("ab\ncd", [0, 1, 2, 10, 11])


# --- layout --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, joined",
    [
        (
            (
                "为贯彻落实中央和省、市抗击疫情支持企业复工复产的决策部署，深圳市商务局定于在今年3月至6月期间举办\n"
                "“2020深圳线上购物节”。\n1. 短视频内容质量及其引发的购买欲。\n2. 短视频本身的播放量。"
            ),
            [
                (
                    "为贯彻落实中央和省、市抗击疫情支持企业复工复产的决策部署，深圳市商务局定于在今年3月至6月期间举办"
                    "“2020深圳线上购物节”。"
                ),
                "1. 短视频内容质量及其引发的购买欲。",
                "2. 短视频本身的播放量。",
            ],
        ),
        (  # a closing quote ends a sentence only after an end mark: “小程序” at a wrap does not, 。” does
            (
                "方案明确，鼓励开展直播电商、社交电商、社群电商、“小程序”\n电商等智能营销新业态，加快建设国际消费城市。\n"
                "“好体验能创造核心竞争力。”\n新阶段对消费者体验工作提出更高要求。"
            ),
            [
                "方案明确，鼓励开展直播电商、社交电商、社群电商、“小程序”电商等智能营销新业态，加快建设国际消费城市。",
                "“好体验能创造核心竞争力。”",
                "新阶段对消费者体验工作提出更高要求。",
            ],
        ),
    ],
)
def test_wrapped_lines_are_joined_but_list_items_are_not(text, joined):
    assert [ln.text.text for ln in join_wrapped(to_lines(clean(text).lines))] == joined


def test_flattened_table_becomes_rows():
    text = "五、实施计划\n\n\t序号\n\t时间\n\n\t1\n\t10月23日\n\n\t2\n\t10月24日\n\n\n（一）专场活动。"
    units = units_of(text)
    assert [(u.kind, u.text.text) for u in units] == [
        ("marker", "实施计划"),
        ("table_header", "序号 时间"),
        ("row", "序号：1；时间：10月23日\n序号：2；时间：10月24日"),  # short: one unit
        ("marker", "专场活动。"),
    ]
    long = "\t序号\n\t说明\n\n" + "".join(f"\t{k}\n\t{'直播电商补贴说明' * 4}\n\n" for k in range(1, 7))
    assert [u.kind for u in units_of(long)] == ["table_header"] + [
        "row"
    ] * 6  # 6 × 39 characters: a unit a row


@pytest.mark.parametrize(
    "before, caption",
    [("表1：补贴标准", True), ("附件：直播基地名单", True), ("时间：11月12日-11月14日（3天）", False)],
)
def test_a_line_before_a_table_is_its_caption_unless_a_number_follows_its_colon(before, caption):
    units = units_of(f"通知\n\n一、补贴标准\n{before}\n\t项目\n\t金额\n\n\t培训\n\t500元\n", title="通知")
    assert [u.kind for u in units][2:] == ["caption" if caption else "para", "table_header", "row"]


def test_title_block_and_heading_run():
    text = "关于开展直播电商活动的通知\n\n各有关单位：\n\n附件\n\n活动指引\n\n一、活动时间\n"
    units = units_of(text, title="关于开展直播电商活动的通知")
    assert [(u.kind, u.text.text) for u in units] == [
        ("title", "关于开展直播电商活动的通知"),
        ("para", "各有关单位："),
        ("heading", "附件 活动指引"),
        ("marker", "活动时间"),
    ]


def test_heading_after_a_finished_paragraph_without_blank_lines():
    """PDF text has no blank lines: a short line after a paragraph end still opens a section."""
    text = (
        "特此通知。\n(联系人：张三，电话：12345678)\n附件\n活动指引\n一、活动简介\n"
        "本活动以腾讯微视为主要参与平台，依托其电商能力，助力企业提升品牌影响力，提升在线销量，并产生购买转化。"
    )
    r = ingest_text(text, source_path="x", doc_id="x")
    [item] = [c for c in r.clauses if c.label == "一、"]
    assert item.section_path == ("附件 活动指引",)


def test_markdown_heading_span_includes_its_marks():
    text = "# 某某条例\n\n## 第一章 总则\n\n第一条 为了规范管理，制定本条例。\n"
    r = ingest_text(text, source_path="x.md", doc_id="x")
    assert sorted(r.headings) == [(0, 6), (8, 17)]
    [c] = r.clauses
    assert (c.label, c.section_path, c.text) == ("第一条", ("第一章 总则",), "为了规范管理，制定本条例。")


def test_leading_word_is_split_from_the_text_it_introduces():
    body = (
        "直播电商作为新兴的产业链路，正在进入高速发展的阶段，但目前存在营销模式匮乏、专业人才匮乏、产品质量差的问题，"
        "《通知》针对这些痛点给予支持。"
    )
    r = ingest_text("第一条 正文。\n\n解读" + body, source_path="x", doc_id="x")
    assert [(c.label, c.section_path, c.text) for c in r.clauses] == [
        ("第一条", (), "正文。"),
        ("", ("解读",), body),
    ]


def test_table_after_an_item_that_ends_a_sentence_is_its_sibling():
    text = (
        "（一）活动安排\n1.活动形式：线上直播推广。\n\n\t时间\n\t内容\n\n\t11月12日\n\t宣传推广\n\n\n"
        "2.活动地点：科技城。\n3.数据要求如下：\n\n\t项目\n\t数量\n\n\t直播\n\t10场\n"
    )
    r = ingest_text(text, source_path="x", doc_id="x")
    assert [(c.label, c.section_path, c.text) for c in r.clauses] == [
        ("1.", ("（一）活动安排",), "活动形式：线上直播推广。"),
        ("", ("（一）活动安排",), "时间：11月12日；内容：宣传推广"),
        ("2.", ("（一）活动安排",), "活动地点：科技城。"),
        ("3.", ("（一）活动安排",), "数据要求如下："),
        ("", ("（一）活动安排", "3.数据要求如下："), "项目：直播；数量：10场"),
    ]


def test_text_after_an_items_children_is_not_its_body():
    """Otherwise the item's clause would span its children's clauses."""
    text = (
        "一、总则\n（一）平台经营者应当公示营业执照信息。\n（二）平台经营者不得虚构交易。\n\n"
        "\t名称\n\t时间\n\n\t专场\n\t十月\n\n\n平台经营者应当建立投诉举报机制。\n"
    )
    r = ingest_text(text, source_path="x", doc_id="x")
    assert [(c.label, c.section_path, c.text) for c in r.clauses] == [
        ("（一）", ("一、总则",), "平台经营者应当公示营业执照信息。"),
        ("（二）", ("一、总则",), "平台经营者不得虚构交易。"),
        ("", ("一、总则",), "名称：专场；时间：十月"),
        ("", ("一、总则",), "平台经营者应当建立投诉举报机制。"),
    ]
    assert r.headings[-1] == (0, 4)


def test_document_that_is_only_a_title_is_one_clause():
    r = ingest_text("通知", source_path="x", doc_id="x")
    assert [(c.label, c.text, c.source.start, c.source.end) for c in r.clauses] == [("", "通知", 0, 2)]
    assert (r.headings, r.document.warnings) == ([], ())


INFO_BLOCK = (
    "【法律名称】互联网广告管理办法\n"
    "【现行版本】2023年2月25日国家市场监督管理总局令第72号公布，自2023年5月1日起施行，现行有效\n"
    "【数据源URL】https://www.gov.cn/zhengce/202305/content_6858084.htm（来源：市场监管总局网站）\n"
    "【施行日期】2023年5月1日\n"
    "【条款数】2条\n"
    "\n"
    "==== 正文开始 ====\n"
    "互联网广告管理办法\n"
    "\n"
    "第一条 为了规范互联网广告活动，制定本办法。\n"
    "第二条 本办法自2023年5月1日起施行。\n"
    "==== 正文结束 ====\n"
)


def test_information_block_is_metadata_not_clauses():
    """A law database's fields between the title and the text, and the banner closing them: no clause, no
    section path, no text lost; the fields still give the dates."""
    r = ingest_text(INFO_BLOCK, source_path="x.md", doc_id="x")
    assert [(c.label, c.section_path, c.text) for c in r.clauses] == [
        ("第一条", (), "为了规范互联网广告活动，制定本办法。"),
        ("第二条", (), "本办法自2023年5月1日起施行。"),
    ]
    assert (r.document.title, r.document.valid_from) == ("互联网广告管理办法", "2023-05-01")
    assert [INFO_BLOCK[s:e].split("】")[0] for s, e in sorted(r.headings)] == [
        "【法律名称",
        "【现行版本",
        "【数据源URL",
        "【施行日期",
        "【条款数",
        "==== 正文开始 ====",
        "互联网广告管理办法",
        "==== 正文结束 ====",  # not in the last article's text
    ]
    assert_no_text_lost(r)


def test_a_document_that_is_only_an_information_block_is_one_clause():
    text = "【现行版本】2023年2月25日公布，自2023年5月1日起施行，现行有效\n【条款数】0条\n"
    r = ingest_text(text, source_path="x.md", doc_id="x")
    assert [c.text for c in r.clauses] == [text.strip()]
    assert_no_text_lost(r)


@pytest.mark.parametrize(
    "first",
    [
        "【活动时间】2021年10月23日至11月14日，每天上午10:00开始。",  # an event notice's fields are its text
        "【报名方式】登录平台后台，提交报名表。",
        "活动地点：顺盈时代广场中庭，请准时到场。",
        "==== 正文开始 ==== 之后的内容照常是正文，不是横幅。",
        # names law databases use in brackets, but after a bare colon the notice's own words
        "网址：https://px.example.cn，请于5月1日前登录报名，逾期不予受理。",
        "类别：本次大赛分为农产品组、文创组两个类别。",
        "来源：本市商务局官网，转载请注明。",
    ],
)
def test_fields_that_are_the_text_stay_clauses(first):
    r = ingest_text(
        f"关于举办直播节的通知\n\n{first}\n\n一、请各单位按时参加。\n", source_path="x", doc_id="x"
    )
    assert [c.text for c in r.clauses] == [first, "请各单位按时参加。"]


def test_a_wrapped_paragraph_that_starts_like_a_field_is_joined():
    wrapped = "来源：本办法所称数据来源，是指网络交易经营者收集\n、存储、使用的数据的出处，包括公开渠道。"
    text = "关于数据管理的通知\n\n" + "\n".join([wrapped] * 6)
    r = ingest_text(text, source_path="x", doc_id="x")
    assert all("\n" not in c.text.replace("。\n", "。") for c in r.clauses), [c.text for c in r.clauses]


# --- splitting and display text -----------------------------------------------------------------------------------


def test_split_long_cuts_at_sentence_ends():
    text = MText.of("甲乙丙。丁戊己。庚辛壬癸。子丑。")
    assert [p.text for p in split_long(text, 8)] == ["甲乙丙。丁戊己。", "庚辛壬癸。子丑。"]
    assert [p.text for p in split_long(text, 100)] == ["甲乙丙。丁戊己。庚辛壬癸。子丑。"]


def test_split_long_cuts_a_long_sentence_at_max_chars():
    text = MText.of("一二三四五六七八九十。")
    assert [p.text for p in split_long(text, 4)] == ["一二三四", "五六七八", "九十。"]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(alphabet="甲乙丙丁。；！\n ，", min_size=1, max_size=300), st.integers(1, 50))
def test_split_long_never_loses_a_character(text, max_chars):
    parts = split_long(MText.of(text), max_chars)
    assert all(len(p) <= max_chars for p in parts)
    assert "".join(p.text for p in parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    spans = [p.span() for p in parts]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_display_text_folds_pdf_artefacts():
    assert display_text("⼈民") == "人民"  # U+2F08 KANGXI RADICAL MAN
    assert display_text("\uf900") == "岂"  # CJK COMPATIBILITY IDEOGRAPH F900 (豈), then simplified
    assert display_text("電子商務") == "电子商务"


def test_article_text_starting_with_a_number_word_is_its_own_clause():
    text = "第四条 平台应当公示规则。\n第五条 第三方平台应当建立投诉机制。\n第六条 违反本法第五条规定的，予以警告。"
    clauses = ingest_text(text, source_path="x", doc_id="x").clauses
    assert [(c.label, c.text) for c in clauses] == [
        ("第四条", "平台应当公示规则。"),
        ("第五条", "第三方平台应当建立投诉机制。"),
        ("第六条", "违反本法第五条规定的，予以警告。"),
    ]


@pytest.mark.parametrize(
    "heading",
    ["**一、报名时间**", "<strong>一、</strong>报名时间", "## **一、报名时间**", "<b>一、报名时间</b>"],
)
def test_emphasised_heading_opens_its_clause(heading):
    text = f"关于举办直播节的通知\n\n{heading}\n\n10月1日至10月20日。\n\n**二、报名方式**\n\n通过小程序报名。"
    r = ingest_text(text, source_path="x.md", doc_id="x")
    assert [(c.label, c.text) for c in r.clauses] == [
        ("一、", "报名时间\n10月1日至10月20日。"),
        ("二、", "报名方式\n通过小程序报名。"),
    ]
    assert {x.reason for x in r.removals} == {"emphasis markup"}
