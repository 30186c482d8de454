"""The first Streamlit app: ask and search work on a small knowledge base, text is not HTML."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ui.ingesting import ingest_paths

APP = str(Path(__file__).parents[2] / "ui" / "app.py")


@pytest.fixture()
def kb_home(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYKB_HOME", str(tmp_path))
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    notice = tmp_path / "notice.txt"
    notice.write_text("一、收费\n1. 平台对本次活动不收取费用。<img src=x onerror=alert(1)>\n2. 企业需注册账号。\n",
                      encoding="utf-8")
    settings = Settings.load()
    ingest_paths(KnowledgeBase.open(settings), [notice], max_chars=settings.max_clause_chars)
    return tmp_path


def test_search_shows_clause_text_as_plain_text(kb_home):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="search_q").input("收取费用").run()
    assert not at.exception
    texts = [t.value for t in at.text]
    assert any("平台对本次活动不收取费用。<img src=x onerror=alert(1)>" == t for t in texts)
    assert not at.markdown or all("<img" not in m.value for m in at.markdown)


def test_ask_shows_a_cited_answer(kb_home):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="ask_q").input("活动收费吗").run()
    assert not at.exception
    assert any("[1]" in t.value for t in at.text)
