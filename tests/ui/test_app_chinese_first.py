"""Chinese first, English second: on every page of the app, after a question and a search (so answers,
citations, results and their buttons are drawn), every widget's label, placeholder and every message holds
Chinese — no English-only text (issue 11: "no widget shows English-only text in the Chinese UI")."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))
from app_kit import app, ask, go, notices_home

from policykb.ui.app_common import ASK, BASKET, DOCUMENTS, PAGES, SEARCH, UPLOAD

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
    weishi = (CORPUS / "shenzhen_weishi_2020.txt").read_text(encoding="utf-8")
    return notices_home(tmp_path, monkeypatch, {"shenzhen_weishi_2020.txt": weishi})


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
    at = ask(app(), "微视收费吗？")  # an answer, its citations and their buttons
    seen = {ASK: english_only(at)}
    at = go(at, SEARCH)
    at.text_input(key="search_q").set_value("收取费用").run()  # results, their buttons, the filters
    seen[SEARCH] = english_only(at)
    for page in (DOCUMENTS, BASKET, UPLOAD):
        seen[page] = english_only(go(at, page))
    assert set(seen) == set(PAGES)
    assert {page: found for page, found in seen.items() if found} == {}
