"""The 摘录 Basket page with AppTest: kept across sessions of the same basket id (a reload), never shown to
another id; "add this answer" from Ask; the validity line on excerpts from Search; the redaction preview."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))
from app_kit import app, ask, fresh_app, go, notices_home

from policykb.index.store import KnowledgeBase
from policykb.ui.app_common import BASKET, SEARCH
from policykb.ui.basket_store import basket_path, read_basket, write_basket

FEES = "一、收费\n1. 平台对本次活动不收取费用。\n2. 企业需注册账号。\n3. 报名截止后不再受理。\n"
CONTACT = "一、联系方式\n1. 报名联系人：张三，电话：13812345678，邮箱 zhangsan@example.com。\n"
ENDED = "时效性通知，有效期 2020-03-01 至 2020-06-30（已结束）"


@pytest.fixture()
def kb_home(tmp_path, monkeypatch) -> KnowledgeBase:
    kb = notices_home(tmp_path, monkeypatch, {"fees_notice.txt": FEES, "contact_notice.txt": CONTACT})
    kb.edit_document("fees-notice", {"valid_from": "2020-03-01", "valid_to": "2020-06-30"})
    fresh_app()
    return kb


def search_and_add(at: AppTest, query: str) -> dict:
    go(at, SEARCH)
    at.text_input(key="search_q").input(query).run()
    first = at.session_state["search_hits"][0]
    at.button(key=f"add-s-{first['clause_id']}").click().run()
    assert not at.exception, at.exception
    return first


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_a_new_session_gets_a_random_basket_id_in_the_url(kb_home):
    one, two = app(), app()
    ids = [one.query_params["basket"], two.query_params["basket"]]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids) and ids[0] != ids[1]
    assert one.session_state["basket_id"] == ids[0]


def test_the_basket_survives_a_reload_with_the_same_id_only(kb_home):
    at = app()
    bid = at.query_params["basket"]
    hit = search_and_add(at, "注册账号")
    assert read_basket(kb_home.settings.home, bid)[0]["clause_id"] == hit["clause_id"]  # saved at once

    again = go(app(bid), BASKET)  # the same link, a new session: a reload
    assert [e["clause_id"] for e in again.session_state["basket"]] == [hit["clause_id"]]
    assert hit["text"] in texts(again) and "1 条摘录 / excerpts" in texts(again)
    assert again.query_params["basket"] == bid

    other = go(app(), BASKET)  # another browser
    assert other.session_state["basket"] == [] and other.query_params["basket"] != bid
    assert other.info[0].value.startswith("摘录为空 / The basket is empty")


def test_changes_on_the_basket_page_are_saved(kb_home):
    at = app()
    bid = at.query_params["basket"]
    first = search_and_add(at, "注册账号")
    second = search_and_add(at, "联系人")
    go(at, BASKET)
    at.button(key=f"up-{second['clause_id']}").click().run()
    at.text_input(key=f"note-{first['clause_id']}").input("客户关心").run()
    at.button(key=f"rm-{second['clause_id']}").click().run()
    saved = read_basket(kb_home.settings.home, bid)
    assert [(e["clause_id"], e["note"]) for e in saved] == [(first["clause_id"], "客户关心")]
    reloaded = go(app(bid), BASKET)
    assert reloaded.text_input(key=f"note-{first['clause_id']}").value == "客户关心"


@pytest.mark.parametrize("given", ["../../etc/passwd", "short", "a" * 65, "bad id with spaces 123"])
def test_an_unsafe_basket_id_is_replaced_by_a_new_one(kb_home, given):
    at = app(given)
    bid = at.query_params["basket"]
    assert bid != given and re.fullmatch(r"[A-Za-z0-9_-]{22}", bid)
    with pytest.raises(ValueError, match="is not allowed"):
        basket_path(kb_home.settings.home, given)


def test_a_damaged_basket_file_is_set_aside_and_an_empty_basket_starts(kb_home):
    home, bid = kb_home.settings.home, "x" * 22
    write_basket(home, bid, [])
    path = basket_path(home, bid)
    path.write_text("{not json", encoding="utf-8")
    at = go(app(bid), BASKET)
    assert at.session_state["basket"] == [] and not at.exception
    assert path.with_name(path.name + ".damaged").read_text(encoding="utf-8") == "{not json"  # kept
    path.write_text(
        json.dumps({"format": "policykb-basket", "items": [{"clause_id": "no other fields"}, "x"]}),
        encoding="utf-8",
    )
    assert read_basket(home, bid) == []  # items that are not clauses are left out
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".damaged"]  # no temp


def test_add_this_answer_keeps_question_answer_and_citations_as_one_item(kb_home):
    at = ask(app(), "活动收费吗")
    result = at.session_state["chat"][0]["result"]
    assert not result["abstained"]
    button = at.button(key="add-answer-0")
    assert button.label == "加入摘录 / add this answer"
    button.click().run()
    assert at.button(key="add-answer-0").label == "回答已在摘录中 / answer in basket"
    assert at.button(key="add-answer-0").disabled
    [item] = at.session_state["basket"]
    assert (item["kind"], item["question"], item["answer"]) == ("answer", "活动收费吗", result["answer"])
    assert [c["clause_id"] for c in item["citations"]] == [c["clause_id"] for c in result["citations"]]

    go(at, BASKET)
    assert f"问 Q：活动收费吗\n答 A：{result['answer']}" in texts(at)
    assert f"时效 Time: {ENDED}" in texts(at)

    from policykb.ui.app_basket import item_excerpts
    from policykb.ui.export import to_markdown

    md = to_markdown(item_excerpts(item)).decode("utf-8")
    assert md.startswith(
        f"# 条款摘录\n\n## [1] 问题：活动收费吗\n\n回答：\n\n> {result['answer']}\n\n### 引文 [1] "
    )


def test_an_excerpt_from_search_has_the_validity_line(kb_home):
    at = app()
    hit = search_and_add(at, "注册账号")
    [item] = at.session_state["basket"]
    assert (item["valid_from"], item["valid_to"]) == ("2020-03-01", "2020-06-30")
    go(at, BASKET)
    shown = texts(at)
    assert f"时效 Time: {ENDED}" in shown and hit["text"] in shown


def test_redaction_preview_lists_what_will_be_removed(kb_home):
    at = app()
    search_and_add(at, "联系人")
    go(at, BASKET)
    assert not [c for c in at.caption if "导出时将隐去" in c.value]  # only when asked for
    at.checkbox(key="redact").check().run()
    assert "导出时将隐去 / to be removed from the exports" in [c.value for c in at.caption]
    assert (
        "[1] 姓名 name：张三\n[1] 手机号 mobile：13812345678\n[1] 邮箱 e-mail：zhangsan@example.com"
        in texts(at)
    )
    assert len(at.get("download_button")) == 4


def test_redaction_preview_says_when_there_is_nothing_to_remove(kb_home):
    at = app()
    search_and_add(at, "注册账号")
    go(at, BASKET)
    at.checkbox(key="redact").check().run()
    assert "没有找到要隐去的个人信息 / no personal data found" in [c.value for c in at.caption]
