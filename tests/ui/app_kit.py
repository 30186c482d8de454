"""What the app's AppTest modules share: a knowledge base of given notices under the test's home (fake
embedder), and a session of the app driven page by page. Import it after putting this folder on sys.path.

    kb = notices_home(tmp_path, monkeypatch, {"fees_notice.txt": FEES})
    at = ask(app(), "微视收费吗？")
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ui.ingesting import ingest_paths

APP = str(Path(__file__).parents[2] / "ui" / "app.py")


def notices_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notices: dict[str, str]) -> KnowledgeBase:
    """A knowledge base under ``tmp_path/home`` holding ``notices`` (file name → text), one document each."""
    monkeypatch.setenv("POLICYKB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    for name, text in notices.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    settings = Settings.load()
    kb = KnowledgeBase.open(settings)
    report = ingest_paths(kb, [tmp_path / name for name in notices], max_chars=settings.max_clause_chars)
    assert report.documents == len(notices), report
    fresh_app()
    return kb


def fresh_app() -> None:
    """The app's knowledge base is one per process: never reuse one from another test's home."""
    st.cache_resource.clear()


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def app(basket_id: str | None = None) -> AppTest:
    """A new browser session; with ``basket_id`` it is the page reloaded at that ``?basket=`` link."""
    at = AppTest.from_file(APP, default_timeout=60)
    if basket_id is not None:
        at.query_params["basket"] = basket_id
    return run(at)


def go(at: AppTest, page: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(page)
    return run(at)


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input(key="chat_q").set_value(question)
    return run(at)
