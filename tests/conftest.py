"""Fixtures for every test: nothing ever touches a real data directory."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _policykb_home(tmp_path, monkeypatch):
    """Point ``POLICYKB_HOME`` at a fresh folder under ``tmp_path`` (a folder's own conftest may narrow it)."""
    home = tmp_path / "policykb-home"
    monkeypatch.setenv("POLICYKB_HOME", str(home))
    return home
