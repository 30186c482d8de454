"""The 问答 Ask page with AppTest (fake embedder): a follow-up read with the previous question and shown as
such, the switch that turns it off, the page's own script, and the sidebar script after a page choice."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))
from app_kit import app, ask, notices_home

from policykb.ui.app_ask import FOLLOW_UP, UNDERSTOOD, page_script
from policykb.ui.app_common import ASK, SEARCH

XSS = "<img src=x onerror=alert(1)>"
WEISHI = "一、收费\n1. 微视平台对本次活动不收取费用。\n2. 企业需注册微视账号。\n"
DOUYIN = "一、收费\n1. 抖音平台对入驻商家收取技术服务费。" + XSS + "\n2. 抖音商家需缴纳保证金。\n"


@pytest.fixture()
def kb_home(tmp_path, monkeypatch):
    return notices_home(tmp_path, monkeypatch, {"weishi_fees.txt": WEISHI, "douyin_fees.txt": DOUYIN})


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def cited_texts(at: AppTest, turn: int) -> list[str]:
    return [c["text"] for c in at.session_state["chat"][turn]["result"]["citations"]]


def test_a_follow_up_is_asked_with_the_previous_subject_and_says_so(kb_home):
    at = ask(app(), "微视收费吗？")
    assert not any(c.startswith(UNDERSTOOD) for c in captions(at))  # a first question is asked as typed
    assert at.session_state["chat"][0]["asked"] is None
    assert at.toggle(key="follow_up").label == FOLLOW_UP and at.toggle(key="follow_up").value is True
    at = ask(at, "那抖音呢？")
    turn = at.session_state["chat"][1]
    assert (turn["q"], turn["asked"]) == ("那抖音呢？", "抖音收费吗？")
    assert UNDERSTOOD + "抖音收费吗？" in captions(at)
    assert captions(at).count(UNDERSTOOD + "抖音收费吗？") == 1
    assert "那抖音呢？" in [t.value for t in at.text]  # the person's own words stay as the question
    assert "抖音平台对入驻商家收取技术服务费。" + XSS in cited_texts(at, 1)
    assert all("抖音" in t for t in cited_texts(at, 1)), cited_texts(at, 1)
    # a third question leans on the second as it was understood
    at = ask(at, "还有呢？")
    assert at.session_state["chat"][2]["asked"] == "抖音收费吗？"


def test_switched_off_the_follow_up_is_asked_alone(kb_home):
    at = ask(app(), "微视收费吗？")
    at.toggle(key="follow_up").set_value(False).run()
    at = ask(at, "那抖音呢？")
    turn = at.session_state["chat"][1]
    assert (turn["q"], turn["asked"]) == ("那抖音呢？", None)
    assert not any(c.startswith(UNDERSTOOD) for c in captions(at))
    assert at.toggle(key="follow_up").value is False


def test_a_question_of_its_own_is_not_rewritten(kb_home):
    at = ask(app(), "微视收费吗？")
    at = ask(at, "抖音平台收取技术服务费吗？")
    assert at.session_state["chat"][1]["asked"] is None
    assert not any(c.startswith(UNDERSTOOD) for c in captions(at))


def test_the_rewrite_is_shown_escaped(kb_home):
    at = ask(app(), "微视收费吗？")
    at = ask(at, "那抖音<b>呢？")
    assert at.session_state["chat"][1]["asked"] == "收费，抖音<b>呢？"
    assert UNDERSTOOD + "收费，抖音\\<b\\>呢？" in captions(at)  # Markdown-escaped: shown as typed


def test_the_page_script_scrolls_to_the_new_answer_only_after_a_question(kb_home):
    at = ask(app(), "微视收费吗？")
    assert [h.proto.body for h in at.html] == [page_script(0)]
    at.button(key="clear-chat").click().run()
    assert [h.proto.body for h in at.html] == [page_script(None)]
    at = ask(at, "微视收费吗？")
    at = ask(at, "那抖音呢？")
    assert [h.proto.body for h in at.html] == [page_script(1)]
    at.run()  # a rerun without a question scrolls nowhere
    assert [h.proto.body for h in at.html] == [page_script(None)]


def test_the_page_script_holds_no_text_from_a_notice_or_a_person():
    for turn in (None, 0, 7):
        script = page_script(turn)
        assert f"const turn = {-1 if turn is None else turn};" in script
        assert not any(ch in script for ch in "微视抖音收费")
        assert "<img" not in script


def test_choosing_a_page_sends_the_sidebar_script_once(kb_home):
    at = app()
    assert not any("mousedown" in h.proto.body for h in at.html)
    at.sidebar.radio(key="page").set_value(SEARCH).run()
    closers = [h.proto.body for h in at.html if "mousedown" in h.proto.body]
    assert len(closers) == 1 and 'data-choice="1"' in closers[0]
    at.run()  # not on a rerun that did not choose a page
    assert not any("mousedown" in h.proto.body for h in at.html)
    at.sidebar.radio(key="page").set_value(ASK).run()
    closers = [h.proto.body for h in at.html if "mousedown" in h.proto.body]
    assert len(closers) == 1 and 'data-choice="2"' in closers[0]
