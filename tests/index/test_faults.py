"""Fault injection (issue 9; RELIABILITY 1–7): a save killed at every point of its way to disk, a bit flipped
in every file of a generation. After each, every document stored before the fault is still there with
byte-identical clauses (or kept as the earlier version of a document the fault's save replaced), or the
command says precisely what was lost and deletes nothing.

The kill is real (``os._exit(9)``: no cleanup, no ``finally``) and placed by a test hook
(``POLICYKB_TEST_FAULT_AT``, ``index/disk.py``), not by timing."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from kbdata import PIPELINE, fill, make_doc

from policykb.config import Settings
from policykb.errors import IndexError_
from policykb.index import disk
from policykb.index.embed import FakeEmbedder
from policykb.index.store import KnowledgeBase

FILES = ("documents.json", "clauses.jsonl", "columns.npz", "ids.json", "tokens.jsonl")
POINTS = [
    *(f"{when}:{name}" for name in FILES for when in ("before", "inside", "after")),
    "before:bm25",
    "after:bm25",
    "before:vectors.faiss",
    "inside:vectors.faiss",
    "after:vectors.faiss",
    "before:versions.jsonl",
    "inside:versions.jsonl",
    "after:versions.jsonl",
    "before:manifest.json",
    "inside:manifest.json",
    "after:manifest.json",
    "before:rename",
    "after:rename",
    "before:CURRENT",
    "inside:CURRENT",
    "after:CURRENT",
    "replaced:CURRENT",
    "prune:1",
]
PUBLISHED = ("replaced:CURRENT", "prune:1")  # CURRENT already names the new generation

SAVE = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from kbdata import make_doc
    from policykb.config import Settings
    from policykb.index import disk
    from policykb.index.embed import FakeEmbedder
    from policykb.index.store import KnowledgeBase

    kb = KnowledgeBase.open(Settings.load(), embedder=FakeEmbedder())
    sz = kb.document("sz")
    new, clauses = make_doc("sz", sz.title, sz.metadata, [("2.", [], "平台对本次活动收取服务费。")], sha="v2")
    crash, crash_clauses = make_doc("crash", "保存时写入的通知", sz.metadata, [("", [], "这一条在保存完成前写入。")])
    with kb.writer() as w:
        w.new_version(new, clauses, "test-1")
        w.upsert(crash, crash_clauses, "test-1")
    print(" ".join(disk.faults_seen()))
""")


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("POLICYKB_HOME", str(home))
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    return home


def open_kb() -> KnowledgeBase:
    return KnowledgeBase.open(Settings.load(), embedder=FakeEmbedder())


def state(kb: KnowledgeBase) -> dict[str, list[str]]:
    return {d.doc_id: [c.to_json() for c in kb.clauses(d.doc_id)] for d in kb.documents()}


@pytest.fixture
def before(home) -> dict[str, list[str]]:
    """Generations 1 and 2 (six documents, then one more): what must survive any fault of the next save."""
    kb = open_kb()
    fill(kb)
    doc, clauses = make_doc("extra", "补充通知", kb.document("sz").metadata, [("", [], "补充说明。")])
    with kb.writer() as w:
        w.upsert(doc, clauses, PIPELINE)
    assert disk.generation_numbers(home) == [1, 2]
    return state(open_kb())


def save(home: Path, **env: str) -> subprocess.CompletedProcess:
    script = SAVE.format(tests=str(Path(__file__).parent))
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


def test_the_points_are_every_step_of_a_save(home, before):
    out = save(home, POLICYKB_TEST_FAULT_RECORD="1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == POINTS


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_every_point_of_a_save_loses_nothing(home, before, point):
    out = save(home, POLICYKB_TEST_FAULT_AT=point)
    assert out.returncode == 9, out.stderr
    kb = open_kb()
    assert kb.stale is None  # a kill is not damage: the generation served is the one CURRENT names
    now = state(kb)
    if point in PUBLISHED:
        assert kb.generation == 3 and "crash" in now
        [old] = kb.versions("sz")
        assert [c.to_json() for c in old.clauses] == before["sz"]  # replaced, and kept
        assert {d: c for d, c in now.items() if d not in ("sz", "crash")} == {
            d: c for d, c in before.items() if d != "sz"
        }
    else:
        assert kb.generation == 2 and now == before
    with kb.writer() as w:  # the next writer cleans up after the dead one and carries on
        w.remove("extra")
    assert not [p for p in (home / "generations").iterdir() if p.name.startswith(".")]
    assert open_kb().document("extra") is None


def generation_files(home: Path, number: int) -> list[str]:
    return sorted(disk.read_manifest(disk.generation_path(home, number))["files"])


def test_every_file_of_a_generation_is_flipped_below(home, before):
    assert save(home).returncode == 0
    assert set(generation_files(home, 3)) == {
        *FILES,
        "vectors.faiss",
        "versions.jsonl",
        "bm25/data.csc.index.npy",
        "bm25/indices.csc.index.npy",
        "bm25/indptr.csc.index.npy",
        "bm25/params.index.json",
        "bm25/vocab.index.json",
    }


FLIPPABLE = [
    *FILES,
    "vectors.faiss",
    "versions.jsonl",
    "bm25/data.csc.index.npy",
    "bm25/indices.csc.index.npy",
    "bm25/indptr.csc.index.npy",
    "bm25/params.index.json",
    "bm25/vocab.index.json",
    "manifest.json",
]
# The knowledge itself, and the manifest that vouches for it: with one of these damaged the generation cannot
# be rebuilt from its own files, and the loss is named instead. The rest is derived from them.
KNOWLEDGE = ("documents.json", "clauses.jsonl", "versions.jsonl", "manifest.json")


@pytest.mark.parametrize("name", FLIPPABLE)
def test_a_flipped_bit_in_any_file_is_detected_and_repaired_or_named(home, before, name):
    assert save(home).returncode == 0
    after = state(open_kb())
    path = disk.generation_path(home, 3) / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    kb = open_kb()
    assert kb.stale is not None and (kb.stale["current"], kb.stale["serving"]) == (
        3,
        2,
    )  # visible, not silent
    assert state(kb) == before  # the previous generation, intact
    doc, clauses = make_doc("later", "之后的通知", kb.document("ecl").metadata, [("", [], "之后写入。")])
    if name in KNOWLEDGE:
        with pytest.raises(IndexError_) as exc, kb.writer() as w:
            w.upsert(doc, clauses, PIPELINE)
        assert "cannot be rebuilt from its own files" in str(exc.value) and "crash" in str(exc.value)
        assert "Nothing was deleted" in str(exc.value)
        assert disk.generation_numbers(home) == [2, 3] and disk.read_current(home) == 3
        return
    with kb.writer() as w:  # the damaged generation is rebuilt from its clauses first, then this write
        w.upsert(doc, clauses, PIPELINE)
    now = state(open_kb())
    assert now.pop("later") and now == after  # nothing the damaged generation held was lost
    assert open_kb().stale is None


def test_a_garbled_current_serves_the_newest_generation_that_verifies(home, before):
    assert save(home).returncode == 0
    (home / "CURRENT").write_text("x\n")
    kb = open_kb()
    assert kb.generation == 3  # no CURRENT to trust: the newest generation that verifies
    assert dataclasses.asdict(kb.versions("sz")[0].document)["doc_id"] == "sz"
