"""The 文档 Documents page (issue 11): open in document lands on the clause, a clickable outline, delete and
edit a notice, a new version and what changed — driven with AppTest on a small knowledge base (fake embedder).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))
from app_kit import app, go, notices_home, run

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ingest.pipeline import ingest_text
from policykb.ui.app_common import DOCUMENTS, SEARCH, UPLOAD
from policykb.ui.app_documents import outline, outline_entries

XSS = "<img src=x onerror=alert(1)>"
FEES = "一、收费\n1. 平台对本次活动不收取费用。" + XSS + "\n2. 企业需注册账号。\n3. 报名截止后不再受理。\n"
RULES = (
    "第一条 为规范网络直播营销活动，制定本办法。\n第二条 直播间运营者不得进行虚假宣传。\n"
    "第三条 平台應當建立投訴舉報機制，收取費用應當公示。\n"
)
RULES_V2 = (
    "第一条 为规范网络直播营销活动，制定本办法。\n第二条 直播间运营者不得进行虚假宣传或者虚构交易。\n"
    "第四条 本办法自发布之日起施行。\n"
)
CHAPTERS = (
    "第一章 总则\n第一条 为规范直播营销，制定本办法。\n第二条 本办法适用于本市。\n"
    "第二章 监督管理\n第三条 平台应当公示规则。\n第四条 违反本办法的，依法处理。\n"
)


@pytest.fixture()
def kb_home(tmp_path, monkeypatch):
    return notices_home(tmp_path, monkeypatch, {"fees_notice.txt": FEES, "live_rules.txt": RULES})


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    [b] = [b for b in at.button if b.label == label]
    return b


def no_html(at: AppTest) -> None:
    """Notice text never reaches a Markdown element unescaped."""
    for m in [*at.markdown, *at.success, *at.info, *at.warning, *at.error]:
        assert not re.search(r"(?<!\\)<(?!/?(mark|div|br)\b)", m.value), m.value


def open_doc(doc_id: str) -> AppTest:
    at = go(app(), DOCUMENTS)
    at.selectbox(key="doc_id").set_value(doc_id)
    return run(at)


def search(at: AppTest, query: str) -> list[dict]:
    go(at, SEARCH)
    at.text_input(key="search_q").input(query)
    run(at)
    return list(at.session_state["search_hits"])


# -- open in document ----------------------------------------------------------------------------


def test_open_in_document_marks_the_clause_scrolls_to_it_and_offers_only_the_basket(kb_home):
    at = go(app(), SEARCH)
    at.text_input(key="search_q").input("虚假宣传")
    run(at)
    hit = next(h for h in at.session_state["search_hits"] if h["label"] == "第二条")
    at.button(key=f"open-s-{hit['clause_id']}").click()
    run(at)
    assert at.session_state["page"] == DOCUMENTS and at.session_state["doc_id"] == "live-rules"
    assert at.info[0].value == "引用的条款 / the cited clause: 第二条（下文标 ▶ / marked ▶ below）"
    assert "▶ 第二条 直播间运营者不得进行虚假宣传。" in texts(at)
    keys = [b.key for b in at.button]
    assert f"add-d-{hit['clause_id']}" in keys
    assert not any(k.startswith("open-") for k in keys)  # the clause is open already
    assert "在文档中查看 / open in document" not in [b.label for b in at.button]
    scripts = [h.value for h in at.get("html") if "<script" in h.value]
    assert len(scripts) == 1 and '.querySelector(".st-key-pkb-c-1")' in scripts[0]  # 第二条 is clause 1
    styles = [h.value for h in at.get("html") if "<style>" in h.value]
    assert ".st-key-pkb-c-1 { background" in styles[0]
    at.button(key=f"add-d-{hit['clause_id']}").click()
    run(at)
    assert [e["clause_id"] for e in at.session_state["basket"]] == [hit["clause_id"]]
    assert not [h for h in at.get("html") if "<script" in h.value]  # scrolled once, not on every run
    no_html(at)


def test_outline_is_a_tree_of_headings_once_and_a_click_focuses_the_clause(kb_home):
    with kb_home.writer() as w:
        r = ingest_text(CHAPTERS, source_path="chapters.txt", doc_id="chapters")
        w.upsert(r.document, r.clauses, "test")
    st.cache_resource.clear()
    at = open_doc("chapters")
    toc = [b for b in at.button if b.key.startswith("toc-")]
    assert [b.label for b in toc] == [
        "**第一章 总则**",
        "第一条",
        "第二条",
        "**第二章 监督管理**",
        "第三条",
        "第四条",
    ]
    assert toc[4].help == "第二章 监督管理 › 第三条"
    [style] = [h.value for h in at.get("html") if "<style>" in h.value]
    assert ".st-key-toc-1, .st-key-toc-2, .st-key-toc-4, .st-key-toc-5 { padding-left: 1em; }" in style
    toc[4].click()
    run(at)
    third = next(c for c in kb_home.clauses("chapters") if c.label == "第三条")
    assert at.session_state["focus_clause"] == third.clause_id
    assert at.info[0].value.startswith("所选的条款 / the chosen clause: 第二章 监督管理 › 第三条")
    assert "▶ 第三条 平台应当公示规则。" in texts(at)
    assert [b.key for b in at.button if b.key.startswith(("add-", "open-"))] == [f"add-d-{third.clause_id}"]
    assert [m.value for m in at.markdown if m.value in ("**第一章 总则**", "**第二章 监督管理**")] == [
        "**第一章 总则**",
        "**第二章 监督管理**",
    ]  # each heading once in the text too


def test_outline_labels_and_tooltips_show_a_hostile_heading_as_text(kb_home):
    with kb_home.writer() as w:
        r = ingest_text(
            f"第一章 {XSS}总则\n第一条 平台应当公示规则。\n", source_path="h.txt", doc_id="hostile"
        )
        w.upsert(r.document, r.clauses, "test")
    st.cache_resource.clear()
    at = open_doc("hostile")
    toc = [b for b in at.button if b.key.startswith("toc-")]
    escaped = "\\<img src=x onerror=alert\\(1\\)\\>总则"
    assert [b.label for b in toc] == ["**第一章 \\<img src=x onerror=a…**", "第一条"]  # long: cut
    assert toc[0].help == f"第一章 {escaped}" and toc[1].help == f"第一章 {escaped} › 第一条"
    no_html(at)


def test_outline_entries_skip_the_later_parts_of_a_split_clause():
    r = ingest_text(
        "第一条 " + "平台应当公示规则。" * 60 + "\n第二条 完。\n", source_path="x.txt", doc_id="x"
    )
    assert len(r.clauses) > 2  # 第一条 was split
    assert [e.text for e in outline_entries(r.clauses)] == ["第一条", "第二条"]
    assert outline(r.clauses) == "第一条\n第二条"


def test_original_and_simplified_columns_have_headings_and_the_table_no_doc_id(kb_home):
    at = open_doc("live-rules")
    shown = [m.value for m in at.markdown]
    assert "**简体 Simplified**" in shown and "**原文 Original**" in shown
    assert list(at.dataframe[0].value.columns) == [
        "标题 Title",
        "发布 Issuer",
        "地区 Region",
        "日期 Date",
        "类型 Type",
        "条款 Clauses",
    ]
    at = open_doc("fees-notice")  # Simplified only: no second column, no headings for it
    assert "**原文 Original**" not in [m.value for m in at.markdown]
    no_html(at)


# -- delete and edit -----------------------------------------------------------------------------


def test_delete_asks_first_then_the_document_is_gone_from_documents_and_search(kb_home):
    at = app()
    assert {h["doc_id"] for h in search(at, "虚假宣传")} >= {"live-rules"}
    go(at, DOCUMENTS)
    at.selectbox(key="doc_id").set_value("live-rules")
    run(at)
    at.button(key="del-live-rules").click()
    run(at)
    assert at.warning[0].value == (
        "确定删除《live\\_rules》及其 3 条条款吗？检索中将不再出现。 / Delete this document and its 3 clauses? "
        "Search will no longer find them."
    )
    button(at, "取消 / cancel").click()
    run(at)
    assert [d.doc_id for d in KnowledgeBase.open(Settings.load()).documents()] == [
        "fees-notice",
        "live-rules",
    ]
    at.button(key="del-live-rules").click()
    run(at)
    button(at, "确认删除 / yes, delete").click()
    run(at)
    assert at.success[0].value.startswith("已删除 / deleted: ")
    assert at.selectbox(key="doc_id").options == ["fees_notice (fees-notice)"]
    assert len(at.dataframe[0].value) == 1
    assert [d.doc_id for d in KnowledgeBase.open(Settings.load()).documents()] == ["fees-notice"]
    assert "live-rules" not in {h["doc_id"] for h in search(at, "虚假宣传")}  # the same query, run again
    fresh = search(app(), "虚假宣传")  # and in another session
    assert "live-rules" not in {h["doc_id"] for h in fresh}


def test_opening_a_document_deleted_meanwhile_says_so(kb_home):
    at = app()
    hit = next(h for h in search(at, "虚假宣传") if h["doc_id"] == "live-rules")
    kb_home.remove_document("live-rules")  # by another session, or the CLI
    at.button(key=f"open-s-{hit['clause_id']}").click()
    run(at)
    assert (
        at.warning[0].value == "要打开的文档已不在知识库中 / that document is no longer in the knowledge base"
    )
    assert at.selectbox(key="doc_id").value == "fees-notice" and not at.info


def test_edit_saves_the_new_details_shown_at_once_and_in_search(kb_home):
    at = open_doc("live-rules")
    at.text_input(key="e-title-live-rules").input("网络直播营销管理办法（修订）")
    at.text_input(key="e-issuer-live-rules").input("市市场监管局")
    at.text_input(key="e-date-live-rules").input("2024-05-01")
    button(at, "保存 / save").click()
    run(at)
    assert at.success[0].value == "已保存 / saved: 标题 Title, 发布机构 Issuer, 日期 Date (yyyy-mm-dd)"
    assert at.dataframe[0].value["标题 Title"].tolist()[1] == "网络直播营销管理办法（修订）"
    assert "标题 Title: 网络直播营销管理办法（修订）" in texts(at)[0]
    assert "发布 Issuer: 市市场监管局" in texts(at)[0]
    doc = KnowledgeBase.open(Settings.load()).document("live-rules")
    assert doc is not None and (doc.title, doc.metadata.issuer, doc.metadata.date) == (
        "网络直播营销管理办法（修订）",
        "市市场监管局",
        "2024-05-01",
    )
    hits = search(at, "虚假宣传")
    assert {h["title"] for h in hits if h["doc_id"] == "live-rules"} == {"网络直播营销管理办法（修订）"}


def test_edit_refuses_a_bad_date_and_an_empty_title_and_says_why(kb_home):
    at = open_doc("live-rules")
    at.text_input(key="e-date-live-rules").input("2024-13-45")
    button(at, "保存 / save").click()
    run(at)
    assert at.error[0].value.startswith("无法保存 / cannot save: ")
    at.text_input(key="e-date-live-rules").input("")
    at.text_input(key="e-title-live-rules").input(" ")
    button(at, "保存 / save").click()
    run(at)
    assert at.error[0].value == "无法保存 / cannot save: a document needs a title"
    assert KnowledgeBase.open(Settings.load()).document("live-rules").title == "live_rules"  # type: ignore[union-attr]


# -- a new version -------------------------------------------------------------------------------


def changes_texts(at: AppTest) -> list[str]:
    [exp] = [e for e in at.expander if e.label.startswith("变更 What changed")]
    return [t.value for t in exp.text]


def test_a_new_version_uploaded_on_the_upload_page_shows_what_changed(kb_home):
    at = go(app(), UPLOAD)
    at.selectbox(key="replace_doc").set_value("live-rules")
    at.file_uploader[0].set_value(("live_rules_v2.txt", RULES_V2.encode(), "text/plain"))
    run(at)
    at.button(key="ingest").click()
    run(at)
    report = at.code[0].value
    assert "new version live-rules" in " ".join(report.split())
    assert "changed: 1 added, 1 removed, 1 changed, 1 unchanged" in report
    at.button(key="see-changes").click()
    run(at)
    assert at.session_state["page"] == DOCUMENTS and at.session_state["doc_id"] == "live-rules"
    assert changes_texts(at) == [
        (
            "第 1 版 → 现在 / version 1 → now: 新增 1 条、删除 1 条、修改 1 条、未变 1 条 / 1 added, 1 removed, "
            "1 changed, 1 unchanged"
        ),
        "+ 第四条  本办法自发布之日起施行。",
        "− 第三条  平台应当建立投诉举报机制，收取费用应当公示。",
        "~ 第二条",
        "旧 Old: 直播间运营者不得进行虚假宣传。",
        "新 New: 直播间运营者不得进行虚假宣传或者虚构交易。",
    ]
    assert "第二条 直播间运营者不得进行虚假宣传或者虚构交易。" in texts(at)  # the text is the new one
    assert (
        "来源 Source: 上传 / uploaded: live_rules_v2.txt" in texts(at)[0].splitlines()
    )  # no temporary folder


def test_a_new_version_uploaded_on_the_documents_page_replaces_its_clauses(kb_home):
    at = open_doc("live-rules")
    [uploader] = at.file_uploader
    uploader.set_value(("v2.txt", RULES_V2.encode(), "text/plain"))
    run(at)
    at.button(key="ver-go-live-rules").click()
    run(at)
    assert at.success[0].value == "已导入新版本 / new version ingested"
    assert "~ 第二条" in changes_texts(at)
    kb = KnowledgeBase.open(Settings.load())
    assert [c.label for c in kb.clauses("live-rules")] == ["第一条", "第二条", "第四条"]
    assert [v.number for v in kb.versions("live-rules")] == [1]
    hits = search(at, "投诉举报机制")
    assert not any(h["doc_id"] == "live-rules" and h["label"] == "第三条" for h in hits)  # the old clause


def test_a_document_without_earlier_versions_has_no_changes_view(kb_home):
    at = open_doc("live-rules")
    assert not [e for e in at.expander if e.label.startswith("变更")]
