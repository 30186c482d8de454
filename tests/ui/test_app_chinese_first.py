"""Chinese first, English second: on every page of the app, after a question and a search (so answers,
citations, results and their buttons are drawn), every widget's label, placeholder and every message holds
Chinese — no English-only text (issue 11: "no widget shows English-only text in the Chinese UI")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ui.app_common import ASK, BASKET, DOCUMENTS, PAGES, SEARCH, UPLOAD
from policykb.ui.ingesting import ingest_paths

APP = str(Path(__file__).parents[2] / "ui" / "app.py")
CORPUS = Path(__file__).parents[2] / "corpus"
CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z]{2,}")  # English: a word of letters (a label "1." or "3.1.2" is a number)
WIDGETS = (
    "button",
    "checkbox",
    "toggle",
    "text_input",
    "text_area",
    "selectbox",
    "multiselect",
    "radio",
    "date_input",
    "number_input",
    "expander",
    "tabs",
)
MESSAGES = ("info", "warning", "error", "success", "caption")


@pytest.fixture()
def kb_home(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYKB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    settings = Settings.load()
    kb = KnowledgeBase.open(settings)
    ingest_paths(kb, [CORPUS / "shenzhen_weishi_2020.txt"], max_chars=settings.max_clause_chars)
    st.cache_resource.clear()
    return kb


def english_only(at: AppTest) -> list[str]:
    """Every label, placeholder and message on the page with English words and no Chinese character."""
    found = []
    for kind in WIDGETS:
        for w in getattr(at, kind, []):
            if str(getattr(w, "key", "") or "").startswith("example-"):
                continue  # example questions, one of them in English on purpose (captioned in Chinese)
            for attr in ("label", "placeholder"):
                text = getattr(w, attr, None)
                if isinstance(text, str) and WORD.search(text) and not CJK.search(text):
                    found.append(f"{kind}.{attr}: {text!r}")
    for kind in MESSAGES:
        for m in getattr(at, kind, []):
            text = str(m.value)
            if WORD.search(text) and not CJK.search(text):
                found.append(f"{kind}: {text!r}")
    return found


def test_no_widget_or_message_on_any_page_is_english_only(kb_home):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.chat_input[0].set_value("微视收费吗？").run()  # an answer, its citations and their buttons
    assert not at.exception, at.exception
    seen = {ASK: english_only(at)}
    at.sidebar.radio(key="page").set_value(SEARCH).run()
    at.text_input(key="search_q").set_value("收取费用").run()  # results, their buttons, the filters
    seen[SEARCH] = english_only(at)
    for page in (DOCUMENTS, BASKET, UPLOAD):
        at.sidebar.radio(key="page").set_value(page).run()
        assert not at.exception, at.exception
        seen[page] = english_only(at)
    assert set(seen) == set(PAGES)
    assert {page: found for page, found in seen.items() if found} == {}
