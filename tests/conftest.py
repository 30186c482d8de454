"""Fixtures for every test: nothing ever touches a real data directory."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _policykb_home(tmp_path, monkeypatch):
    """Point ``POLICYKB_HOME`` at a fresh folder under ``tmp_path`` (a folder's own conftest may narrow it)."""
    home = tmp_path / "policykb-home"
    monkeypatch.setenv("POLICYKB_HOME", str(home))
    return home


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """With POLICYKB_NO_SKIPS=1 (set by .ci/run) a skipped test fails the run: a missing model, font or
    browser must not pass CI by skipping the tests that need it."""
    import os

    skipped = terminalreporter.stats.get("skipped", [])
    if os.environ.get("POLICYKB_NO_SKIPS") == "1" and skipped:
        terminalreporter.write_line(
            f"POLICYKB_NO_SKIPS: {len(skipped)} skipped test(s) fail this run:", red=True
        )
        for report in skipped:
            terminalreporter.write_line(f"  {report.nodeid}: {report.longrepr[2] if report.longrepr else ''}")


def pytest_sessionfinish(session, exitstatus):
    import os

    if os.environ.get("POLICYKB_NO_SKIPS") == "1":
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and reporter.stats.get("skipped"):
            session.exitstatus = 1
