"""The 检索 Search page tells the truth: what contains the query's words (counted), what is only related by
meaning (capped, and said so), whole words highlighted, filters in words, bad dates refused in Chinese.

AppTest on a small knowledge base (fake embedder) of three notices: 深圳 (5 articles, one 第三十五条),
上海 (3 articles) and one of 25 articles that all say 网店.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))
from app_kit import app, fresh_app, go

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ingest.metadata import ManifestEntry
from policykb.ingest.numbering import int_to_cn
from policykb.ingest.pipeline import ingest_text
from policykb.ui.app_common import SEARCH, highlight, matched_terms, query_words
from policykb.ui.app_search import search_words

SZ = (
    "第一条 为规范直播营销活动，制定本办法。\n第二条 平台不得向商家收取费用。\n"
    "第三条 第三方服务机构应当登记。\n第四条 平台应当公示收费标准。\n"
    "第三十五条 违反本办法第二条规定的，责令改正。\n"
)
SH = "第一条 直播间运营者应当公示规则。\n第二条 平台应当建立投诉机制。\n第三条 主播不得虚假宣传。\n"
SHOPS = "".join(f"第{int_to_cn(n)}条 网店经营者应当履行第{n}项义务。\n" for n in range(1, 26))
NOTICES = {
    "sz": (
        SZ,
        {
            "title": "深圳直播营销办法",
            "region": "广东省深圳市",
            "issuer": "深圳市商务局",
            "date": "2020-03-16",
            "doc_number": "深商务电商字〔2020〕12号",
        },
    ),
    "sh": (
        SH,
        {"title": "上海直播服务指引", "region": "上海市", "issuer": "上海市商务委员会", "date": "2021-05-01"},
    ),
    "shops": (SHOPS, {"title": "网店经营者义务清单"}),
}
RESULTS = "{n} 条结果包含检索词或条款号 / {n} results contain your words or reference"
CONTAINS, RELATED = "包含检索词或条款号 / contains your words or reference", "语义相关 / related by meaning"


@pytest.fixture()
def kb_home(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYKB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    kb = KnowledgeBase.open(Settings.load())
    with kb.writer() as w:
        for doc_id, (text, values) in NOTICES.items():
            r = ingest_text(
                text,
                source_path=f"{doc_id}.txt",
                doc_id=doc_id,
                entry=ManifestEntry(doc_id, f"{doc_id}.txt", values),
            )
            w.upsert(r.document, r.clauses, "test")
    assert len(kb.clauses()) == 33
    fresh_app()
    return kb


def search(query: str, **inputs: object) -> AppTest:
    """The Search page with the given filter widgets set (key → value), then ``query`` searched."""
    at = go(app(), SEARCH)
    for key, value in inputs.items():
        if isinstance(value, list):
            at.multiselect(key=key).set_value(value)
        else:
            at.text_input(key=key).input(str(value))
    at.text_input(key="search_q").input(query).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def headings(at: AppTest) -> list[str]:
    """The clause cards' headings ([n] title · … · label), in page order."""
    return [t for t in texts(at) if re.match(r"\[\d+\] ", t)]


def marked(at: AppTest) -> list[str]:
    return [m for markdown in at.markdown for m in re.findall(r"<mark>(.*?)</mark>", markdown.value)]


def matched(at: AppTest) -> list[str]:
    return [t for t in texts(at) if t.startswith("匹配 matched: ")]


# -- words nobody wrote, references nobody has ------------------------------------------------------


def test_a_word_no_clause_contains_says_so_then_ten_related(kb_home):
    at = search("退税")
    assert [w.value for w in at.warning] == ["没有条款包含“退税” / no clause contains “退税”"]
    assert RESULTS.format(n=0) in texts(at)
    assert [h.value for h in at.subheader] == [CONTAINS, RELATED]
    assert (
        "意思相近的前 10 条（最多 10 条），不包含检索词或条款号 / the 10 closest in meaning (at most 10), without your words or reference"
        in texts(at)
    )
    assert len(headings(at)) == 10 and at.session_state["search_contained"] == 0
    assert not marked(at) and not matched(at)
    assert not any("100" in t for t in texts(at))


def test_a_reference_no_document_has_says_so(kb_home):
    at = search("第九十九条")
    assert [w.value for w in at.warning] == ["没有条款是第九十九条 / no clause is 第九十九条"]
    assert RESULTS.format(n=0) in texts(at)
    assert at.session_state["search_contained"] == 0 and not marked(at)


def test_a_reference_is_highlighted_whole_never_its_fragments(kb_home):
    at = search("第三十五条", f_doc=["sz"])
    assert RESULTS.format(n=1) in texts(at)
    first = at.session_state["search_hits"][0]
    assert (first["doc_id"], first["label"]) == ("sz", "第三十五条")
    assert matched(at) == ["匹配 matched: 第三十五条"]  # not 第三, 三十, 十五
    assert not marked(at)  # the clause text does not repeat its own number; nothing else is 第三十五条
    assert any("第三方服务机构应当登记。" in m.value for m in at.markdown)  # shown (related), unmarked
    assert not at.warning


def test_a_law_article_query_asks_no_words():
    """规定 in 第三十五条规定了什么 only asks what the article says: no word, no synonym (规范, 规则)."""
    assert query_words("第三十五条") == [] and query_words("第三十五条规定了什么", references=True) == []
    assert query_words("第三十五条 收取费用", references=True) == ["收取", "费用"]
    assert query_words("退税") == ["退税"] and query_words("税") == ["税"]


def test_search_words_leave_out_what_only_asks(kb_home):
    prepared = kb_home.prepare("第三十五条规定了什么")
    assert prepared.terms and search_words(prepared, kb_home.prepare) == ([], [])
    own, words = search_words(kb_home.prepare("平台收费吗"), kb_home.prepare)
    assert own == ["平台", "收费"] and {"平台", "收费"} <= set(words)


def test_highlight_marks_references_as_written_and_whole_words():
    out = highlight("第三方依照第三十五条和第35条<b>", [], ["条:35"])
    assert re.findall(r"<mark>(.*?)</mark>", out) == ["第三十五条", "第35条"]
    assert "&lt;b&gt;" in out and "<b>" not in out
    assert matched_terms("第三方依照第三十五条和第35条", ["第三方"], ["条:35"]) == [
        "第三方",
        "第三十五条",
        "第35条",
    ]
    assert matched_terms("第三方服务机构", [], ["条:35"]) == []


# -- true counts -----------------------------------------------------------------------------------


def test_counts_are_the_clauses_that_contain_the_word(kb_home):
    at = search("平台")
    assert RESULTS.format(n=3) in texts(at)
    contained = at.session_state["search_hits"][:3]
    assert sorted((c["doc_id"], c["label"]) for c in contained) == [
        ("sh", "第二条"),
        ("sz", "第二条"),
        ("sz", "第四条"),
    ]
    assert set(marked(at)[:3]) == {"平台"}
    assert (
        "意思相近的前 10 条（最多 10 条），不包含检索词或条款号 / the 10 closest in meaning (at most 10), without your words or reference"
        in texts(at)
    )


def test_more_than_a_page_is_counted_and_paged(kb_home):
    at = search("网店")
    assert RESULTS.format(n=25) in texts(at)
    assert "第 1 / 3 页 · page 1 of 3" in texts(at)
    assert not at.warning
    related = "意思相近的前 8 条（最多 10 条），不包含检索词或条款号 / the 8 closest in meaning (at most 10), without your words or reference"
    assert related in texts(at)
    first_page = headings(at)
    assert [h.split("]")[0] for h in first_page[:10]] == [f"[{i}" for i in range(1, 11)]
    at.button(key="next-page").click().run()
    assert "第 2 / 3 页 · page 2 of 3" in texts(at)
    assert headings(at)[0].startswith("[11] ")


def test_words_present_and_absent_are_both_told(kb_home):
    at = search("平台 退税")
    assert RESULTS.format(n=3) in texts(at)
    assert not at.warning
    assert [c.value for c in at.main.caption] == ["没有条款包含“退税” / no clause contains “退税”"]


# -- filters ---------------------------------------------------------------------------------------


def test_a_partial_region_filters_and_is_described_in_words(kb_home):
    at = search("平台", f_region_text="深圳")
    assert "筛选 filters — 地区：深圳（广东省深圳市）" in texts(at)
    assert RESULTS.format(n=2) in texts(at)
    assert {h["doc_id"] for h in at.session_state["search_hits"]} == {"sz"}
    assert not any("region=" in t or "('" in t for t in texts(at))


def test_a_region_without_the_word_lists_nothing_as_containing_it(kb_home):
    at = search("收取费用", f_region=["上海市"])
    assert "筛选 filters — 地区：上海市" in texts(at)
    assert [w.value for w in at.warning] == [
        "没有条款包含“收取”或“费用” / no clause contains “收取” or “费用”"
    ]
    assert RESULTS.format(n=0) in texts(at)
    assert {h["doc_id"] for h in at.session_state["search_hits"]} == {"sh"}
    assert len(headings(at)) == 3 and not marked(at)


def test_chosen_and_typed_regions_work_together(kb_home):
    at = search("平台", f_region=["上海市"], f_region_text="深圳")
    assert "筛选 filters — 地区：上海市、深圳（广东省深圳市）" in texts(at)
    assert RESULTS.format(n=3) in texts(at)


def test_a_typed_region_no_notice_has_is_named(kb_home):
    at = search("平台", f_region_text="火星")
    assert [w.value for w in at.warning] == [
        "没有地区名称包含“火星” / no region name contains “火星”",
        "没有符合筛选条件的条款 / no clause matches the filters",
    ]
    assert not headings(at)


def test_issuer_part_and_dates_are_described(kb_home):
    at = search("平台", f_issuer_text="商务", f_from="2021")
    assert "筛选 filters — 发布机构：商务（上海市商务委员会、深圳市商务局） · 日期：2021 至 不限" in texts(at)
    assert RESULTS.format(n=1) in texts(at)
    assert {h["doc_id"] for h in at.session_state["search_hits"]} == {"sh"}


def test_a_part_of_a_document_number_in_any_brackets_filters_and_is_described(kb_home):
    at = search("平台", f_doc_number_text="[2020]12号")
    assert "筛选 filters — 文号：[2020]12号（深商务电商字〔2020〕12号）" in texts(at)
    assert {h["doc_id"] for h in at.session_state["search_hits"]} == {"sz"}
    at = search("平台", f_doc_number_text="〔2020〕99号")
    assert [w.value for w in at.warning] == [
        "没有文号包含“〔2020〕99号” / no document number contains “〔2020〕99号”",
        "没有符合筛选条件的条款 / no clause matches the filters",
    ]


def test_a_start_after_the_end_is_an_error_not_zero_results(kb_home):
    at = search("平台", f_from="2024", f_to="2023-05")
    assert [e.value for e in at.error] == [
        "起始日期 2024 晚于截止日期 2023-05，请调换或修改 / the From date 2024 is after the To date 2023-05"
    ]
    assert not headings(at) and not any("条结果" in t for t in texts(at))


def test_a_bad_date_is_refused_in_chinese_and_english(kb_home):
    at = search("平台", f_to="2023-13")
    message = (
        "截止日期“2023-13”不是有效日期，请写 yyyy-mm-dd、yyyy-mm 或 yyyy / "
        "To date: date '2023-13' has no month 13; use yyyy-mm-dd, yyyy-mm or yyyy"
    )
    assert [e.value for e in at.error] == [message]
    assert not headings(at)


def test_an_english_reference_is_the_article_not_its_words(kb_home):
    at = search("Article 35", f_doc=["sz"])
    assert RESULTS.format(n=1) in texts(at) and not at.warning
    assert at.session_state["search_hits"][0]["label"] == "第三十五条"
    assert matched(at) == ["匹配 matched: 第三十五条"]  # not 文章 (article) or 35


def test_a_query_of_stop_words_says_it_has_nothing_to_match(kb_home):
    at = search("的")
    assert [w.value for w in at.warning] == ["检索内容里没有可以匹配的词 / the query has no word to match"]
    assert RESULTS.format(n=0) in texts(at) and not marked(at)


def test_a_result_goes_to_the_basket_as_a_clause(kb_home):
    at = search("第三十五条")
    first = at.session_state["search_hits"][0]
    at.button(key=f"add-s-{first['clause_id']}").click().run()
    (excerpt,) = at.session_state["basket"]
    assert excerpt["clause_id"] == first["clause_id"] and "is_reference" not in excerpt


def test_an_empty_knowledge_base_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYKB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    st.cache_resource.clear()
    at = search("退税")
    assert [w.value for w in at.warning] == [
        "知识库里还没有文档，请先在“添加通知”页导入 / the knowledge base has no documents yet: add a notice first"
    ]
    assert not headings(at)
