"""The Streamlit app, page by page, driven with AppTest on a small knowledge base (fake embedder).

Every test checks the safety rule too: notice text reaches the page as text, never as HTML.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))
from app_kit import APP, app, ask, go, notices_home

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ui.app_common import BASKET, DOCUMENTS, SEARCH, UPLOAD, highlight

XSS = "<img src=x onerror=alert(1)>"
FEES = "一、收费\n1. 平台对本次活动不收取费用。" + XSS + "\n2. 企业需注册账号。\n3. 报名截止后不再受理。\n"
RULES = (
    "第一条 为规范网络直播营销活动，制定本办法。\n第二条 直播间运营者不得进行虚假宣传。\n"
    "第三条 平台應當建立投訴舉報機制，收取費用應當公示。\n"
)

PENALTY = (
    "直播处罚办法\n第一条 为规范直播营销，制定本办法。\n第二条 直播间运营者不得虚构交易。\n"
    "第三条 平台应当公示规则。\n第四条 违反本办法第二条规定的，处一万元以下罚款。\n"
)


@pytest.fixture()
def kb_home(tmp_path, monkeypatch):
    return notices_home(tmp_path, monkeypatch, {"fees_notice.txt": FEES, "live_rules.txt": RULES})


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


ANCHOR = re.compile(r'^<span id="cite-\d+-\d+"></span>$')


def no_html(at: AppTest) -> None:
    """Nothing a notice says is ever in a Markdown element unescaped: no '<' that is not backslash-
    escaped (Markdown) or an entity (highlighted HTML), apart from the app's own citation anchors and
    the <mark>/<div>/<br> of highlighting."""
    for m in at.markdown:
        if ANCHOR.match(m.value):
            continue
        bare = re.sub(r"</?(mark|div|br)( class=\"pkb-text\")?>", "", m.value)
        assert not re.search(r"(?<!\\)<", bare), m.value


# -- Ask ---------------------------------------------------------------------------------------


def test_ask_answers_with_numbered_citations_in_expanders(kb_home):
    at = ask(app(), "活动收费吗")
    answer = next(m.value for m in at.markdown if "](#cite-0-1)" in m.value)  # [1] links to citation 1
    assert "不收取费用" in answer and "<" not in answer.replace("\\<", "")
    assert any(m.value == '<span id="cite-0-1"></span>' for m in at.markdown)
    assert at.expander and at.expander[0].label.startswith("\\[1\\]")
    assert not at.warning
    assert any(t == "平台对本次活动不收取费用。" + XSS for t in texts(at))  # the clause, verbatim
    assert any("企业需注册账号" in t for t in texts(at))  # its neighbour
    no_html(at)


def test_conversation_is_kept_and_examples_ask(kb_home):
    at = ask(app(), "活动收费吗")
    at.button(key="example-0").click().run()
    assert [m.name for m in at.chat_message] == ["user", "assistant", "user", "assistant"]
    assert "微视收费吗？" in texts(at)
    assert len(at.session_state["chat"]) == 2


def test_abstention_is_a_warning_with_related_reading_apart(kb_home):
    at = ask(app(), "火星探测器的发射窗口是哪一天？")
    assert at.warning and "no clause" in at.warning[0].value
    assert not any("[1]" in t for t in texts(at))
    result = at.session_state["chat"][0]["result"]
    assert result["abstained"]
    if result["related"]:
        assert any("相关阅读" in m.value for m in at.markdown)


def test_citation_opens_the_document_at_that_clause(kb_home):
    at = ask(app(), "活动收费吗")
    at.button(key="open-0-1").click().run()
    assert not at.exception
    assert at.session_state["page"] == DOCUMENTS
    cited = at.session_state["chat"][0]["result"]["citations"][0]
    assert at.session_state["doc_id"] == cited["doc_id"]
    assert at.info and "cited clause" in at.info[0].value
    assert any(t.startswith("▶ ") and cited["text"] in t for t in texts(at))
    no_html(at)


def test_citation_shows_the_article_it_refers_to_and_opens_it(kb_home):
    with kb_home.writer() as w:
        from policykb.ingest.pipeline import ingest_text

        r = ingest_text(PENALTY, source_path="penalty.txt", doc_id="penalty")
        w.upsert(r.document, r.clauses, "test")
    st.cache_resource.clear()
    at = ask(app(), "直播处罚办法第四条怎么罚？")
    result = at.session_state["chat"][0]["result"]
    cited = result["citations"][0]
    assert (cited["label"], [x["label"] for x in cited["references"]]) == ("第四条", ["第二条"])
    assert "本条引用的条款 / articles this clause refers to" in [c.value for c in at.caption]
    assert "第二条 直播间运营者不得虚构交易。" in texts(at)
    at.button(key="ref-0-1-0").click().run()
    assert at.session_state["page"] == DOCUMENTS and at.session_state["doc_id"] == "penalty"
    no_html(at)


# -- Search ------------------------------------------------------------------------------------


def test_search_highlights_escaped_text_and_counts(kb_home):
    at = go(app(), SEARCH)
    at.text_input(key="search_q").input("收取費用").run()  # Traditional query, Simplified text
    assert any("条结果" in t for t in texts(at))
    marked = [m.value for m in at.markdown if "<mark>" in m.value]
    assert marked and any("&lt;img src=x onerror=alert(1)&gt;" in m for m in marked)
    assert any("<mark>收取费用</mark>" in m for m in marked)
    no_html(at)


def test_search_filter_by_document_and_reference_lookup(kb_home):
    at = go(app(), SEARCH)
    at.multiselect(key="f_doc").set_value(["live-rules"]).run()
    at.text_input(key="search_q").input("第二条").run()
    hits = at.session_state["search_hits"]
    assert hits and {h["doc_id"] for h in hits} == {"live-rules"}
    assert hits[0]["label"] == "第二条"
    at.text_input(key="f_from").input("20x").run()
    assert at.error and "not a date" in at.error[0].value


def test_search_result_goes_to_basket_and_export(kb_home):
    at = go(app(), SEARCH)
    at.text_input(key="search_q").input("注册账号").run()
    first = at.session_state["search_hits"][0]
    at.button(key=f"add-s-{first['clause_id']}").click().run()
    assert [e["clause_id"] for e in at.session_state["basket"]] == [first["clause_id"]]


# -- Documents ---------------------------------------------------------------------------------


def test_documents_list_outline_and_original_beside(kb_home):
    at = go(app(), DOCUMENTS)
    assert at.dataframe
    at.selectbox(key="doc_id").set_value("live-rules").run()
    assert not at.exception
    shown = texts(at)
    assert any("第二条 直播间运营者不得进行虚假宣传。" in t for t in shown)
    assert any("第三条 平台應當建立投訴舉報機制" in t for t in shown)  # original beside
    assert any("平台应当建立投诉举报机制" in t for t in shown)  # simplified
    at.selectbox(key="doc_id").set_value("fees-notice").run()
    assert any(t.endswith(XSS) for t in texts(at))
    no_html(at)


# -- Basket ------------------------------------------------------------------------------------


def test_basket_reorder_note_remove_and_export(kb_home):
    at = ask(app(), "活动收费吗")
    at.button(key="add-0-1").click().run()
    rel = at.session_state["chat"][0]["result"]
    second = (rel["citations"][1:] or rel["related"])[0]
    key = "add-0-2" if rel["citations"][1:] else "add-0-r0"
    at.button(key=key).click().run()
    go(at, BASKET)
    ids = [e["clause_id"] for e in at.session_state["basket"]]
    assert ids[1] == second["clause_id"] and len(ids) == 2
    at.button(key=f"up-{ids[1]}").click().run()
    assert [e["clause_id"] for e in at.session_state["basket"]] == [ids[1], ids[0]]
    at.text_input(key=f"note-{ids[0]}").input("客户关心").run()
    assert at.session_state["basket"][1]["note"] == "客户关心"
    assert len(at.get("download_button")) == 4
    at.button(key=f"rm-{ids[1]}").click().run()
    assert [e["clause_id"] for e in at.session_state["basket"]] == [ids[0]]

    from policykb.ui.export import FORMATS, Excerpt

    excerpts = [Excerpt.from_clause(e, note=e["note"]) for e in at.session_state["basket"]]
    data = {fmt: f.export(excerpts, redact=True) for fmt, f in FORMATS.items()}
    assert data["docx"][:2] == b"PK"
    assert "客户关心" in data["md"].decode("utf-8")
    assert json.loads(data["json"])


def test_sessions_do_not_share_a_basket(kb_home):
    one = ask(app(), "活动收费吗")
    one.button(key="add-0-1").click().run()
    two = go(app(), BASKET)
    assert not two.session_state["basket"] if "basket" in two.session_state else True
    assert two.info and "empty" in two.info[0].value


# -- Add a notice ------------------------------------------------------------------------------


def upload(name: str, data: bytes) -> SimpleNamespace:
    return SimpleNamespace(name=name, getvalue=io.BytesIO(data).getvalue)


def ingest_uploads(kb: KnowledgeBase, files: list[SimpleNamespace], replace: str | None = None):
    from policykb.ui.uploads import ingest_uploads

    result = ingest_uploads(kb, files, replace, max_chars=Settings.load().max_clause_chars)
    return result.text, result.added


def test_upload_page_renders(kb_home):
    at = go(app(), UPLOAD)
    assert any("20 MB" in t for t in texts(at))


def test_upload_of_a_bad_file_reports_why(kb_home):
    text, ok = ingest_uploads(
        kb_home, [upload("../../etc/passwd.pdf", b"just text, not a PDF"), upload("empty.txt", b"")]
    )
    assert not ok
    assert "passwd.pdf" in text and "skipped" in text and "empty" in text
    assert "../" not in text
    assert len(kb_home.documents()) == 2


def test_upload_adds_a_notice_to_the_shared_kb(kb_home):
    text, ok = ingest_uploads(
        kb_home, [upload("新通知.txt", "一、总则\n1. 主播应当如实介绍商品。\n".encode())]
    )
    assert ok and "added" in text
    assert len(kb_home.documents()) == 3


def test_an_upload_named_like_a_notice_never_replaces_it(kb_home):
    before = [c.to_json() for c in kb_home.clauses("fees-notice")]
    text, ok = ingest_uploads(kb_home, [upload("fees_notice.txt", "平台收取每家企业5000元费用。\n".encode())])
    assert ok and "added as fees-notice-2" in text
    kb_home.reload()
    assert [c.to_json() for c in kb_home.clauses("fees-notice")] == before


def test_an_upload_chosen_as_a_new_version_keeps_the_old_one(kb_home):
    text, ok = ingest_uploads(
        kb_home, [upload("fees_v2.txt", "一、收费\n1. 平台不收取费用。\n".encode())], replace="fees-notice"
    )
    assert ok and "new version" in text
    kb_home.reload()
    assert [v.number for v in kb_home.versions("fees-notice")] == [1]
    assert [c.text for c in kb_home.clauses("fees-notice")] == ["平台不收取费用。"]


def test_upload_page_offers_new_document_or_new_version(kb_home):
    at = go(app(), UPLOAD)
    assert at.selectbox(key="replace_doc").options == [
        "（新文档）/ a new document",
        "fees-notice",
        "live-rules",
    ]


def test_safe_name_never_leaves_the_folder():
    from policykb.ui.uploads import safe_name

    assert safe_name("../a.pdf") == "a.pdf"
    assert safe_name("..\\..\\evil.exe") == "evil.bin"
    assert safe_name("/etc/passwd") == "passwd.bin"
    assert safe_name("...").endswith(".bin") and "/" not in safe_name("a/../../b.TXT")


def test_highlight_escapes_before_marking():
    out = highlight("收取費用<script>alert(1)</script>", ["收取费用", "script"])
    assert "<script>" not in out and "&lt;" in out
    assert out.count("<mark>") == 3 and "<mark>收取費用</mark>" in out


def test_a_configured_password_is_asked_before_anything_is_shown(kb_home, monkeypatch):
    monkeypatch.setenv("POLICYKB_UI_PASSWORD", "s3cret")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert [t.label for t in at.text_input] == ["密码 / password"] and not at.sidebar.radio
    at.text_input(key="password").input("wrong").run()
    assert at.error[0].value == "密码不对 / wrong password" and not at.sidebar.radio
    at.text_input(key="password").input("s3cret").run()
    assert at.sidebar.radio(key="page").value and not at.error


def test_the_english_path_is_warmed_after_the_load_and_not_after_a_failed_one(monkeypatch):
    from concurrent.futures import Future

    from policykb.ui import app_common

    monkeypatch.setattr(app_common, "ENGLISH_WARM_DELAY_S", 0.0)
    calls: list[str] = []
    loaded: Future[KnowledgeBase] = Future()
    loaded.set_result(SimpleNamespace(warm_english=lambda: calls.append("warmed")))  # type: ignore[arg-type]
    app_common._warm_english(loaded)
    failed: Future[KnowledgeBase] = Future()
    failed.set_exception(RuntimeError("the knowledge base could not be opened"))
    app_common._warm_english(failed)
    assert calls == ["warmed"]
