"""Excerpt export (``ui/export.py``): the basket, every format read back, formula-safe CSV, control characters
in DOCX, and redaction of personal data (RELIABILITY 25, 27)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from docx import Document as DocxDocument

from policykb.ingest.record import Clause, Document, Metadata, Source
from policykb.ui.export import (
    CSV_COLUMNS,
    FIELDS,
    FORMATS,
    Basket,
    Excerpt,
    UnknownFormatError,
    excerpt_fields,
    excerpts_from_answer,
    export,
    find_pii,
    groups,
    redact,
    reference_lines,
    to_csv,
    to_docx,
    to_json,
    to_markdown,
)

FEE = "腾讯微视平台对本次活动不收取费用，企业在第三方平台产生的费用按第三方平台规定执行。"
SZ_META = Metadata(issuer="深圳市商务局", region="广东省深圳市", date="2020-03-16", doc_type="notice")
DY_META = Metadata(issuer="抖音电商", date="2023-08-27", doc_type="platform_rule")


def clause(
    text: str = FEE,
    *,
    doc_id: str = "sz",
    label: str = "2.",
    path=("二、业务流程", "（一）活动报名。"),
    original: str | None = None,
    page: int | None = None,
    meta: Metadata = SZ_META,
    title: str = "深圳市商务局关于印发腾讯微视专场活动指引的通知",
) -> Clause:
    return Clause.create(
        doc_id=doc_id,
        title=title,
        label=label,
        section_path=list(path),
        text=text,
        original=original or text,
        source=Source(f"corpus/{doc_id}.txt", 10, 10 + len(text), page),
        metadata=meta,
        seq=0,
    )


SZ = clause()
DY = clause(
    "引导私下交易的行为属于违规玩法。",
    doc_id="dy",
    label="3.2.2",
    path=("第三章 内容发布规范",),
    original="引導私下交易的行為屬於違規玩法。",
    page=4,
    meta=DY_META,
    title="抖音电商政务媒体相关内容宣传规范",
)


def ex(c: Clause = SZ, **kw) -> Excerpt:
    return Excerpt.from_clause(c, **kw)


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 Chinese correctly
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def docx_paragraphs(data: bytes) -> list[str]:
    return [p.text for p in DocxDocument(io.BytesIO(data)).paragraphs]


# -- Excerpt and Basket --------------------------------------------------------------------------


def test_excerpt_from_a_citation_dict_keeps_the_clause_fields_and_time_note():
    citation = {
        "n": 1,
        **SZ.to_dict(),
        "issuer": "深圳市商务局",
        "section": "x",
        "time_note": "时效性通知（已结束）",
        "rank": 1,
        "score": 0.9,
    }
    e = Excerpt.from_clause(citation, answer=FEE + "[1]", question="微视收费吗？")
    assert e.clause == SZ.to_dict() and e.time_note == "时效性通知（已结束）"
    assert (e.clause_id, e.section) == (SZ.clause_id, "二、业务流程 > （一）活动报名。 > 2.")


def test_excerpt_from_something_that_is_not_a_clause_says_what_is_missing():
    with pytest.raises(ValueError, match="'title' is missing"):
        Excerpt.from_clause({"clause_id": "x", "doc_id": "x"})


def test_excerpts_from_answer_dict_carry_the_answer_text():
    answer = {
        "question": "微视收费吗？",
        "answer": FEE + "[1]",
        "abstained": False,
        "citations": [{"n": 1, **SZ.to_dict(), "time_note": None}],
        "related": [],
    }
    [e] = excerpts_from_answer(answer)
    assert (e.clause_id, e.question, e.answer) == (SZ.clause_id, "微视收费吗？", FEE + "[1]")


def test_basket_add_without_duplicates_remove_move_clear():
    third = clause("第三条内容。", label="3.")
    b = Basket()
    assert [b.add(ex(SZ)), b.add(ex(DY)), b.add(ex(third)), b.add(ex(SZ, note="again"))] == [
        True,
        True,
        True,
        False,
    ]
    assert b.ids() == [SZ.clause_id, DY.clause_id, third.clause_id] and len(b) == 3
    assert b.excerpts[0].note == ""  # the duplicate did not replace the first
    assert b.move_up(third.clause_id) and b.ids() == [SZ.clause_id, third.clause_id, DY.clause_id]
    assert not b.move_up(SZ.clause_id)  # already first
    assert b.move_down(SZ.clause_id) and b.ids() == [third.clause_id, SZ.clause_id, DY.clause_id]
    assert not b.move_down(DY.clause_id)  # already last
    assert not b.move_up("nope") and not b.remove("nope")
    assert b.set_note(SZ.clause_id, "报名免费") and b.excerpts[1].note == "报名免费"
    assert b.remove(third.clause_id) and b.ids() == [SZ.clause_id, DY.clause_id]
    assert SZ.clause_id in b and third.clause_id not in b
    b.clear()
    assert len(b) == 0 and b.ids() == []


def test_basket_json_round_trip_and_export_json_reads_back():
    b = Basket()
    b.add(ex(SZ, note="报名免费", question="微视收费吗？", answer=FEE + "[1]", time_note="时效性通知"))
    b.add(ex(DY))
    again = Basket.from_json(b.to_json())
    assert again == b and again.excerpts[0].note == "报名免费"
    assert Basket.from_json(to_json(b.excerpts)) == b  # an exported file is a basket too
    assert Basket.from_json("") == Basket()
    with pytest.raises(ValueError, match="not a policykb excerpt list"):
        Basket.from_json('{"format": "something-else"}')


def test_json_export_exact_shape():
    d = json.loads(to_json([ex(SZ, note="n")]))
    assert d == {
        "format": "policykb-excerpts",
        "version": 1,
        "excerpts": [
            {
                "n": 1,
                "clause": SZ.to_dict(),
                "note": "n",
                "question": None,
                "answer": None,
                "time_note": None,
                "valid_from": None,
                "valid_to": None,
                "fields": {
                    "title": "深圳市商务局关于印发腾讯微视专场活动指引的通知",
                    "issuer": "深圳市商务局",
                    "date": "2020-03-16",
                    "section": "二、业务流程 > （一）活动报名。",
                    "label": "2.",
                    "validity": "",
                    "source": "sz.txt",
                    "original": "",
                    "note": "n",
                },
            }
        ],
    }


# -- references and formats ----------------------------------------------------------------------


SZ_FIELDS = [
    "文档：深圳市商务局关于印发腾讯微视专场活动指引的通知",
    "发布机构：深圳市商务局",
    "发布日期：2020-03-16",
    "章节：二、业务流程 > （一）活动报名。",
    "条款：2.",
]
DY_FIELDS = [
    "文档：抖音电商政务媒体相关内容宣传规范",
    "发布机构：抖音电商",
    "发布日期：2023-08-27",
    "章节：第三章 内容发布规范",
    "条款：3.2.2",
]
ENDED = "时效性通知，有效期 2020-03-01 至 2020-06-30（已结束）"  # a past period: "ended" on any day we run


def sz_timed(**kw) -> Excerpt:
    return ex(SZ, valid_from="2020-03-01", valid_to="2020-06-30", **kw)


def test_reference_lines():
    assert reference_lines(ex(DY, note="注意")) == [
        *DY_FIELDS,
        "来源文件：dy.txt，第 4 页",
        "原文：引導私下交易的行為屬於違規玩法。",
        "备注：注意",
    ]
    assert reference_lines(sz_timed()) == [*SZ_FIELDS, f"时效：{ENDED}", "来源文件：sz.txt"]


def test_validity_is_computed_from_the_document_as_ask_does():
    doc = Document(
        "sz", "通知", "corpus/sz.txt", "0" * 64, SZ_META, valid_from="2020-03-01", valid_to="2020-06-30"
    )
    e = ex(SZ).with_document(doc)
    assert (e.valid_from, e.valid_to, e.validity) == ("2020-03-01", "2020-06-30", ENDED)
    assert ex(SZ).with_document(None).validity == ""  # no document, no period: nothing claimed
    standing = ex(SZ, valid_from="2019-01-01")
    assert standing.validity == "自 2019-01-01 起施行"
    citation = {
        **SZ.to_dict(),
        "time_note": "time-bound notice",
        "valid_from": "2020-03-01",
        "valid_to": "2020-06-30",
    }
    assert Excerpt.from_clause(citation).validity == ENDED  # Chinese, whatever language the answer was in
    assert ex(SZ, time_note="活动通知（仅适用于该活动）").validity == "活动通知（仅适用于该活动）"


def test_answer_excerpts_form_one_group_in_order():
    qa = {"question": "微视收费吗？", "answer": FEE + "[1][2]"}
    items = [ex(SZ), ex(DY, **qa), ex(SZ, **qa), ex(DY)]
    assert [(g.question, [e.clause_id for e in g.excerpts]) for g in groups(items)] == [
        (None, [SZ.clause_id]),
        ("微视收费吗？", [DY.clause_id, SZ.clause_id]),
        (None, [DY.clause_id]),
    ]


QA = {"question": "微视收费吗？", "answer": FEE + "[1]\n引导私下交易属于违规[2]"}
BASKET = [sz_timed(note="报名*免费*"), ex(DY, **QA), ex(SZ, note="见 a_b.txt", **QA)]


def test_markdown_exact_output():
    assert to_markdown(BASKET).decode("utf-8") == "\n".join(
        [
            "# 条款摘录",
            "",
            "## [1] 深圳市商务局关于印发腾讯微视专场活动指引的通知",
            "",
            f"> {FEE}",
            "",
            *(f"- {line}" for line in SZ_FIELDS),
            f"- 时效：{ENDED}",
            "- 来源文件：sz.txt",
            "- 备注：报名\\*免费\\*",
            "",
            "## [2] 问题：微视收费吗？",
            "",
            "回答：",
            "",
            f"> {FEE}[1]",
            ">",
            "> 引导私下交易属于违规[2]",
            "",
            "### 引文 [1] 抖音电商政务媒体相关内容宣传规范",
            "",
            "> 引导私下交易的行为属于违规玩法。",
            "",
            *(f"- {line}" for line in DY_FIELDS),
            "- 来源文件：dy.txt，第 4 页",
            "- 原文：引導私下交易的行為屬於違規玩法。",
            "",
            "### 引文 [2] 深圳市商务局关于印发腾讯微视专场活动指引的通知",
            "",
            f"> {FEE}",
            "",
            *(f"- {line}" for line in SZ_FIELDS),
            "- 来源文件：sz.txt",
            "- 备注：见 a_b.txt",
            "",
        ]
    )


def test_markdown_leaves_urls_ids_and_file_names_unescaped():
    text = "详见 https://www.gov.cn/zhengce/a_b*c.html 或邮件 li_si@example.com，附件 fees_notice.txt，编号 sz:9b09"
    md = to_markdown([ex(clause(text))]).decode("utf-8")
    assert f"> {text}\n" in md and "\\" not in md
    assert "> \\_强调\\_ a\\*b\\*c \\`code\\`" in to_markdown([ex(clause("_强调_ a*b*c `code`"))]).decode(
        "utf-8"
    )


def test_markdown_keeps_the_lines_of_a_notice_and_its_links_as_written():
    text = "报名渠道及联系方式\n报名入口：<https://docs.qq.com/form/fill/DV1V#/fill>\n\n<javascript:alert(1)> *x*"
    md = to_markdown([ex(clause(text))]).decode("utf-8")
    assert (
        "> 报名渠道及联系方式\n>\n> 报名入口：<https://docs.qq.com/form/fill/DV1V#/fill>\n>\n"
        "> \\<javascript:alert(1)> \\*x\\*\n"
    ) in md


def test_only_json_holds_clause_ids_and_character_offsets():
    for fmt in ("docx", "md", "csv"):
        data, _, _ = export(BASKET, fmt)
        text = "\n".join(docx_paragraphs(data)) if fmt == "docx" else data.decode("utf-8-sig")
        assert SZ.clause_id not in text and DY.clause_id not in text
        assert "10–51" not in text and "corpus/" not in text and ":10" not in text
    data = json.loads(to_json(BASKET))
    assert [e["clause"]["clause_id"] for e in data["excerpts"]] == [SZ.clause_id, DY.clause_id, SZ.clause_id]
    assert data["excerpts"][1]["clause"]["source"] == {
        "path": "corpus/dy.txt",
        "start": 10,
        "end": 26,
        "page": 4,
        "ocr_confidence": None,  # read from a scan: the lowest confidence of its lines
    }


def test_markdown_quotes_every_line_and_renders_nothing_from_a_notice():
    md = to_markdown([ex(clause("第一行<script>x</script>\n\n# 不是标题\n[点此](http://x) [1]: u"))]).decode(
        "utf-8"
    )
    assert "> 第一行\\<script>x\\</script>\n>\n> \\# 不是标题\n>\n> [点此\\](http://x) [1\\]: u\n" in md


def test_docx_exact_paragraphs():
    assert docx_paragraphs(to_docx(BASKET)) == [
        "条款摘录",
        f"[1] {FEE}",
        *SZ_FIELDS,
        f"时效：{ENDED}",
        "来源文件：sz.txt",
        "备注：报名*免费*",
        "[2] 问题：微视收费吗？",
        f"回答：{FEE}[1]\n引导私下交易属于违规[2]",
        "引文 [1] 引导私下交易的行为属于违规玩法。",
        *DY_FIELDS,
        "来源文件：dy.txt，第 4 页",
        "原文：引導私下交易的行為屬於違規玩法。",
        f"引文 [2] {FEE}",
        *SZ_FIELDS,
        "来源文件：sz.txt",
        "备注：见 a_b.txt",
    ]


@pytest.mark.parametrize("char", ["\x0b", "\x1f", "\x00", "\x0c"])
def test_docx_strips_control_characters(char):
    text = f"第一句{char}第二句。"
    paragraphs = docx_paragraphs(to_docx([ex(clause(text), note=f"备{char}注")]))  # does not raise
    assert "[1] 第一句第二句。" in paragraphs and "备注：备注" in paragraphs
    assert not any(char in p for p in paragraphs)


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x","点击")', "+86 领取", "-5 元", "@SUM(A1)", "\t=1+1", "\r=1+1"]
)
def test_csv_neutralises_formula_cells(text):
    rows = csv_rows(to_csv([ex(clause(text), note=text)]))
    assert rows[1][CSV_COLUMNS.index("text")] == "'" + text
    assert rows[1][CSV_COLUMNS.index("note")] == "'" + text


@pytest.mark.parametrize(
    "text", ["\x7f=1+1", "＝SUM(A1:A2)", "\u3000=1+1", "　＋1", " -2+3", "﹦1+1", "＠SUM(A1)"]
)
def test_csv_neutralises_formulas_behind_del_spaces_and_full_width_signs(text):
    assert csv_rows(to_csv([ex(clause(text))]))[1][CSV_COLUMNS.index("text")] == "'" + text


@pytest.mark.parametrize("text", ["报名免费", "2021年=活动", "　报名", "第一条"])
def test_csv_leaves_ordinary_text_alone(text):
    assert csv_rows(to_csv([ex(clause(text))]))[1][CSV_COLUMNS.index("text")] == text


def test_csv_strips_control_characters_before_neutralising():
    rows = csv_rows(to_csv([ex(clause("\x0b=1+1 报名"))]))
    assert rows[1][CSV_COLUMNS.index("text")] == "'=1+1 报名"


def test_csv_exact_rows():
    rows = csv_rows(to_csv(BASKET))
    sz = [
        FEE,
        "深圳市商务局关于印发腾讯微视专场活动指引的通知",
        "深圳市商务局",
        "2020-03-16",
        "二、业务流程 > （一）活动报名。",
        "2.",
    ]
    assert rows == [
        [
            "序号 n",
            "引文 citation",
            "问题 question",
            "回答 answer",
            "条款内容 text",
            "文档 title",
            "发布机构 issuer",
            "发布日期 date",
            "章节 section",
            "条款 label",
            "时效 validity",
            "来源文件 source",
            "原文 original",
            "备注 note",
        ],
        ["1", "", "", "", *sz, ENDED, "sz.txt", "", "报名*免费*"],
        [
            "2",
            "[1]",
            QA["question"],
            QA["answer"],
            "引导私下交易的行为属于违规玩法。",
            "抖音电商政务媒体相关内容宣传规范",
            "抖音电商",
            "2023-08-27",
            "第三章 内容发布规范",
            "3.2.2",
            "",
            "dy.txt，第 4 页",
            "引導私下交易的行為屬於違規玩法。",
            "",
        ],
        ["2", "[2]", QA["question"], QA["answer"], *sz, "", "sz.txt", "", "见 a_b.txt"],
    ]
    assert CSV_COLUMNS == ("n", "citation", "question", "answer", "text", *(k for k, _ in FIELDS))


def test_every_format_carries_the_same_fields():
    """Each field of FIELDS, and the question and answer, in DOCX, Markdown, CSV and JSON alike."""
    e = sz_timed(note="客户关心", **QA)
    values = {**excerpt_fields(e), "question": QA["question"], "answer": QA["answer"].split("\n")[0]}
    assert all(
        values[k] for k in ("title", "issuer", "date", "section", "label", "validity", "source", "note")
    )
    for fmt in FORMATS:
        data, _, _ = export([e], fmt)
        text = "\n".join(docx_paragraphs(data)) if fmt == "docx" else data.decode("utf-8-sig")
        missing = [k for k, v in values.items() if v and v not in text]
        assert missing == [], fmt


# -- redaction -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("联系人手机13812345678。", "联系人手机[手机号已隐去]。"),
        ("手机：+86 138 1234 5678", "手机：[手机号已隐去]"),
        ("电话 199-1234-5678 转", "电话 [手机号已隐去] 转"),
        ("身份证号110101199003071234，", "身份证号[身份证号已隐去]，"),
        ("身份证号11010119900307123X", "身份证号[身份证号已隐去]"),
        ("旧身份证110101900307123。", "旧身份证[身份证号已隐去]。"),
        ("邮箱 zhang.san+ec@example.com.cn 联系", "邮箱 [邮箱已隐去] 联系"),
        ("办公电话0755-83456789", "办公电话[电话已隐去]"),
        ("电话（010）12345678转123", "电话[电话已隐去]"),
        ("电话 (020) 8765432", "电话 [电话已隐去]"),
    ],
)
def test_redact_each_kind(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2020年3月16日",
        "2020-03-16",
        "自2020.03.01起",
        "《电子商务法》第35条",
        "第三十五条",
        "单笔不超过50 元",
        "13.8亿元",
        "客单价50元",
        "20200316",
        "编号12345678901",
        "粤商务〔2020〕123号",
        "3.1.2",
        "400-800-1234 是热线",
    ],
)
def test_redact_keeps_dates_numbers_and_amounts(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("联系人：张三，电话：13812345678", "联系人：[姓名已隐去]，电话：[手机号已隐去]"),
        (
            "联系人：张三丰，电话：13812345678；李四 13987654321。",
            "联系人：[姓名已隐去]，电话：[手机号已隐去]；[姓名已隐去] [手机号已隐去]。",
        ),
        ("报名联系人：张先生，手机 13812345678。", "报名联系人：[姓名已隐去]，手机 [手机号已隐去]。"),
        ("请联系王先生 13812345678。", "请联系[姓名已隐去] [手机号已隐去]。"),
        ("联系人张三电话13812345678", "联系人[姓名已隐去]电话[手机号已隐去]"),
        (
            "联系人 欧阳娜娜 13812345678，赵老师 zhao@example.com",
            "联系人 [姓名已隐去] [手机号已隐去]，[姓名已隐去] [邮箱已隐去]",
        ),
        ("经办人：李四（身份证号110101199003071234）", "经办人：[姓名已隐去]（身份证号[身份证号已隐去]）"),
        ("联系人：张三。平台负责人应当公示。", "联系人：[姓名已隐去]。平台负责人应当公示。"),
        # as the bundled Shenzhen notice writes them: organisation, then the name, then the number
        (
            "（联系人：腾讯微视崔岩，电话：18614098051；",
            "（联系人：腾讯微视[姓名已隐去]，电话：[手机号已隐去]；",
        ),
        ("深圳市商业联合会邵琪，电话：18676658712；", "深圳市商业联合会[姓名已隐去]，电话：[手机号已隐去]；"),
        ("深圳市商务局张文雅，电话：18566663739）", "深圳市商务局[姓名已隐去]，电话：[手机号已隐去]）"),
        ("腾讯联系人：崔岩，18614098051（微信同号）", "腾讯联系人：[姓名已隐去]，[手机号已隐去]（微信同号）"),
        ("报名咨询：高明 13812345678", "报名咨询：[姓名已隐去] [手机号已隐去]"),
    ],
)
def test_redact_contact_names_beside_numbers(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "咨询电话 [手机号已隐去]，投诉热线：[电话已隐去]。",
        "平台负责人应当建立投诉机制，联系电话 [手机号已隐去]。",
        "客服 [手机号已隐去]",
        "市场监管局，电话：[手机号已隐去]",
        "技术支持：[手机号已隐去]",
        "办公室电话：[电话已隐去]",
        "王先生参加了活动。",  # a name with no contact data beside it is not a contact line
    ],
)
def test_redact_leaves_words_that_are_not_names(text):
    assert (
        redact(text.replace("[手机号已隐去]", "13812345678").replace("[电话已隐去]", "0755-83456789")) == text
    )


def test_find_pii_lists_what_redaction_removes():
    found = find_pii("联系人：张三，电话：13812345678，邮箱 zs@example.com。")
    assert [(f.kind, f.text) for f in found] == [
        ("name", "张三"),
        ("mobile", "13812345678"),
        ("email", "zs@example.com"),
    ]
    e = ex(clause("联系人：张三，电话：13812345678。"), note="身份证 110101199003071234")
    assert [(f.kind, f.text) for f in e.pii()] == [
        ("name", "张三"),
        ("mobile", "13812345678"),
        ("id", "110101199003071234"),
    ]


def test_redact_in_english():
    assert redact("call 13812345678", lang="en") == "call [redacted phone]"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_redacts_on_request_only(fmt):
    pii = clause("联系人：张先生 13812345678，zhang@example.com。")
    e = ex(pii, note="身份证 110101199003071234")
    plain, mime, ext = export([e], fmt)
    masked, _, _ = export([e], fmt, redact=True)
    text = (lambda b: "\n".join(docx_paragraphs(b))) if fmt == "docx" else (lambda b: b.decode("utf-8-sig"))
    assert "13812345678" in text(plain) and "zhang@example.com" in text(plain)
    for secret in ("13812345678", "zhang@example.com", "110101199003071234"):
        assert secret not in text(masked)
    assert (
        "[手机号已隐去]" in text(masked)
        and "[邮箱已隐去]" in text(masked)
        and "[身份证号已隐去]" in text(masked)
    )
    assert "联系人：[姓名已隐去]" in text(masked) and "张先生" not in text(masked)
    assert pii.title in text(masked)  # the reference stays whole
    assert (mime, ext) == (FORMATS[fmt].mime, fmt)


def test_unknown_format_names_the_allowed_ones():
    with pytest.raises(UnknownFormatError, match="'xlsx' is not known; allowed: docx, md, csv, json"):
        export([ex()], "xlsx")
