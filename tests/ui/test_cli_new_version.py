"""`policykb ingest FILE --replace DOC_ID` of a new version says what changed, in clauses (issue 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

POLICYKB = Path(sys.executable).with_name("policykb")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYKB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    return tmp_path / "home"


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [str(POLICYKB), *map(str, args)],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out


def write(path: Path, *articles: str) -> Path:
    path.write_text("".join(f"第{n}条 {t}\n" for n, t in zip("一二三四五", articles)), encoding="utf-8")
    return path


def test_ingest_of_a_new_version_prints_what_changed(tmp_path):
    cli("ingest", write(tmp_path / "rule.txt", "平台应当公示规则。", "商家不得虚构交易。", "违者依法处理。"))
    v2 = write(tmp_path / "rule_v2.txt", "平台应当公示规则。", "商家不得虚构交易或者刷单。")
    out = cli("ingest", v2, "--replace", "rule").stdout.splitlines()
    assert out[0].split() == ["new", "version", "rule", "2", "clauses", str(v2)]
    assert out[1] == "             version 2; the earlier one is kept (policykb diff rule)"
    assert out[-2] == "             changed: 0 added, 1 removed, 1 changed, 1 unchanged"
    v3 = write(tmp_path / "rule_v3.txt", "平台应当公示规则。")
    [f] = json.loads(cli("ingest", v3, "--replace", "rule", "--json").stdout)["files"]
    assert (f["status"], f["changes"]) == (
        "new version",
        {"added": 0, "removed": 1, "changed": 0, "unchanged": 1},
    )


def test_a_new_document_prints_no_changes_line(tmp_path):
    out = cli("ingest", write(tmp_path / "rule.txt", "平台应当公示规则。")).stdout
    assert "changed:" not in out
