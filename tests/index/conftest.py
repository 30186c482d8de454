"""Fixtures for the index tests: a small hand-made knowledge base searched with ``FakeEmbedder``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from policykb.config import Settings
from policykb.index.embed import FakeEmbedder
from policykb.index.store import KnowledgeBase

sys.path.insert(0, str(Path(__file__).parent))  # the test modules `import kbdata` (the shared corpus)
from kbdata import fill


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    """Never touch a real data directory."""
    monkeypatch.setenv("POLICYKB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    return tmp_path / "home"


@pytest.fixture
def home(_home) -> Path:
    return _home


@pytest.fixture
def settings(home) -> Settings:
    return Settings.load()


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def kb(settings, embedder) -> KnowledgeBase:
    kb = KnowledgeBase.open(settings, embedder=embedder)
    fill(kb)
    return kb
