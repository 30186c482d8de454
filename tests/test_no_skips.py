"""``.ci/run`` sets POLICYKB_NO_SKIPS=1: a test skipped for a missing model, font or browser fails the run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).with_name("conftest.py")


def run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_x.py").write_text(
        "import pytest\n\ndef test_a():\n    pytest.skip('no model')\n\ndef test_b():\n    pass\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={**os.environ, **env},
    )


def test_a_skip_fails_the_run_under_ci(tmp_path):
    out = run(tmp_path, {"POLICYKB_NO_SKIPS": "1"})
    assert out.returncode == 1
    assert "POLICYKB_NO_SKIPS: 1 skipped test(s) fail this run:" in out.stdout
    assert "test_x.py::test_a: Skipped: no model" in out.stdout


def test_a_skip_is_a_skip_otherwise(tmp_path):
    out = run(tmp_path, {"POLICYKB_NO_SKIPS": "0"})
    assert out.returncode == 0 and "1 passed, 1 skipped" in out.stdout
