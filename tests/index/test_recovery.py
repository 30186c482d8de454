"""Recovery never loses a notice (issue 9, item 2). Each test reproduces a failure of the earlier product:
a damaged newest generation was served silently, the next ingest built on the older one and pruned the
damaged one (its documents lost though their clauses were intact), and an ingest on a corrupt home
rebuilt from the given files alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from policykb.config import Settings
from policykb.index import disk
from policykb.index.store import KnowledgeBase
from policykb.ui.ingesting import ingest_paths

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
POLICYKB = Path(sys.executable).with_name("policykb")
SEEDS = [
    "douyin-gov-media-rules-2023",
    "qingyuan-livestream-festival-2021",
    "shanghai-livestream-measures-2020",
    "shenzhen-weishi-2020",
]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYKB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    return tmp_path / "home"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(POLICYKB), *args], capture_output=True, text=True, env=os.environ, timeout=300, check=False
    )


def kb() -> KnowledgeBase:
    return KnowledgeBase.open(Settings.load())


def two_generations(tmp_path) -> tuple[Path, dict[str, list[str]]]:
    """Generation 1: two seeds; generation 2: all four. Returns a new notice file and gen 2's clauses."""
    ingest_paths(
        kb(), [CORPUS / "shenzhen_weishi_2020.txt", CORPUS / "douyin_gov_media_rules_2023.txt"], max_chars=360
    )
    ingest_paths(kb(), [CORPUS], max_chars=360)
    new = tmp_path / "one.txt"
    new.write_text("第一条 平台应当公示规则。\n", encoding="utf-8")
    k = kb()
    return new, {d: [c.to_json() for c in k.clauses(d)] for d in SEEDS}


def flip(path: Path, at: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_serving_an_older_generation_is_visible(tmp_path, home):
    two_generations(tmp_path)
    flip(disk.generation_path(home, 2) / "vectors.faiss")
    out = cli("search", "微视收费吗", "--json")
    assert out.returncode == 0
    stale = json.loads(out.stdout)["stale_generation"]
    assert (stale["current"], stale["serving"], stale["repair"]) == (2, 1, "policykb repair")
    assert "vectors.faiss" in stale["reason"]
    assert "warning: serving generation 1, not the newest (2: " in out.stderr
    ask = cli("ask", "微视收费吗", "--json")
    assert json.loads(ask.stdout)["stale_generation"]["serving"] == 1


def test_the_next_ingest_rebuilds_the_damaged_generation_instead_of_dropping_it(tmp_path, home):
    new, before = two_generations(tmp_path)
    flip(disk.generation_path(home, 2) / "vectors.faiss")
    out = cli("ingest", str(new))
    assert out.returncode == 0, out.stderr
    k = kb()
    assert k.stale is None
    assert {d: [c.to_json() for c in k.clauses(d)] for d in SEEDS} == before  # all four, byte-identical
    assert [d.doc_id for d in k.documents()][-1] == "one"


def test_ingest_on_a_home_nothing_of_which_opens_keeps_every_notice(tmp_path, home):
    new, before = two_generations(tmp_path)
    for n in disk.generation_numbers(home):
        flip(disk.generation_path(home, n) / "vectors.faiss")
    out = cli("ingest", str(new))
    assert out.returncode == 0, out.stderr
    assert "rebuilt as generation 3 from its own 4 documents" in out.stderr
    k = kb()
    assert {d: [c.to_json() for c in k.clauses(d)] for d in SEEDS} == before
    assert k.document("one") is not None


def test_when_the_clauses_are_damaged_too_nothing_is_deleted_and_the_loss_is_named(tmp_path, home):
    new, _ = two_generations(tmp_path)
    gen2 = disk.generation_path(home, 2)
    flip(gen2 / "vectors.faiss")
    flip(gen2 / "clauses.jsonl")
    out = cli("ingest", str(new))
    assert out.returncode == 1
    assert (
        "cannot be rebuilt from its own files; 2 document(s) it held are not in the generation served: "
        "qingyuan-livestream-festival-2021 (" in out.stdout
    )
    assert "Nothing was deleted" in out.stdout
    assert disk.generation_numbers(home) == [1, 2] and disk.read_current(home) == 2


def test_check_reports_each_damaged_file_and_repair_rebuilds(tmp_path, home):
    two_generations(tmp_path)
    flip(disk.generation_path(home, 2) / "tokens.jsonl", at=5)
    flip(disk.generation_path(home, 2) / "vectors.faiss")
    out = cli("check")
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0] == "generation 2 (current): DAMAGED"
    assert "  tokens.jsonl: SHA-256 does not match the manifest (corrupt)" in lines
    assert "  vectors.faiss: SHA-256 does not match the manifest (corrupt)" in lines
    assert "generation 1: ok" in lines
    rep = cli("repair")
    assert rep.returncode == 0 and rep.stdout.startswith("generation 2 was damaged (")
    again = cli("check", "--json")
    assert again.returncode == 0
    gens = json.loads(again.stdout)["generations"]
    # the damaged generation goes only now, its clauses being in generation 3
    assert [(g["number"], g["current"], g["ok"]) for g in gens] == [(3, True, True), (1, False, True)]
    assert cli("repair").stdout == "generation 3 is intact; nothing to repair\n"


def test_repair_restores_from_the_original_files_what_the_damaged_clauses_held(tmp_path, home):
    _, before = two_generations(tmp_path)
    gen2 = disk.generation_path(home, 2)
    flip(gen2 / "vectors.faiss")
    flip(gen2 / "clauses.jsonl")
    out = cli("repair")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "generation 2 could not be rebuilt from its own files; generation 3 is generation 1 plus the documents only "
        "it held, ingested again from their original files: qingyuan-livestream-festival-2021, "
        "shanghai-livestream-measures-2020"
    )
    k = kb()
    assert k.stale is None and {d: [c.to_json() for c in k.clauses(d)] for d in SEEDS} == before


def test_repair_from_files_refuses_when_a_file_is_gone(tmp_path, home):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("shenzhen_weishi_2020.txt", "qingyuan_livestream_festival_2021.txt"):
        (inbox / name).write_bytes((CORPUS / name).read_bytes())
    ingest_paths(kb(), [inbox / "shenzhen_weishi_2020.txt"], max_chars=360)
    ingest_paths(kb(), [inbox / "qingyuan_livestream_festival_2021.txt"], max_chars=360)
    gen2 = disk.generation_path(home, 2)
    flip(gen2 / "vectors.faiss")
    flip(gen2 / "clauses.jsonl")
    (inbox / "qingyuan_livestream_festival_2021.txt").unlink()
    out = cli("repair")
    assert out.returncode == 1
    assert (
        "cannot restore from the original files either: qingyuan-livestream-festival-2021: its file "
        in out.stderr
    )
    assert out.stderr.rstrip().endswith("Nothing was deleted")
    assert disk.generation_numbers(home) == [1, 2]
