"""RELIABILITY 1–7: crashes mid-save, disk full, corrupt/empty/truncated/foreign files, stores that
disagree, two writers, stale temp files."""

import contextlib
import errno
import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from kbdata import PIPELINE, build_docs, make_doc, reseal, rewrite

from policykb.errors import IndexIncompleteError, IndexMismatchError, LockBusyError
from policykb.index import disk
from policykb.index.embed import FakeEmbedder
from policykb.index.store import IndexWriteError, KnowledgeBase
from policykb.index.vectors import FaissStore

REBUILD = "run `policykb ingest` to rebuild"


def gen_dir(home: Path, n: int = 1) -> Path:
    return home / "generations" / str(n)


def extra_doc(kb, i=0):
    return make_doc(f"extra{i}", f"补充通知{i}", kb.document("sz").metadata, [("", [], f"第{i}个补充说明。")])


def open_error(settings, error=IndexIncompleteError, **kw) -> str:
    with pytest.raises(error) as exc:
        KnowledgeBase.open(settings, **kw)
    return str(exc.value)


# --- crashes and full disks ------------------------------------------------------------------------------

CRASH = textwrap.dedent("""
    import contextlib, os, sys
    sys.path.insert(0, {tests!r})
    from kbdata import make_doc
    from policykb.config import Settings
    from policykb.index import disk, generation
    from policykb.index.store import KnowledgeBase

    point = sys.argv[1]
    if point == "before-manifest":      # every data file written, manifest not yet
        disk.seal = lambda *a, **k: os._exit(9)
    elif point == "inside-vectors":     # half of vectors.faiss on disk
        writing = disk.writing
        @contextlib.contextmanager
        def half(path):
            if path.name != "vectors.faiss":
                with writing(path) as write:
                    yield write
                return
            parts = []
            yield parts.append
            data = b"".join(bytes(p) for p in parts)
            with open(path, "wb") as f:
                f.write(data[: len(data) // 2])
            os._exit(9)
        disk.writing = half
    elif point == "before-current":     # generation renamed into place, CURRENT not replaced
        disk.replace_current = lambda *a, **k: os._exit(9)
    kb = KnowledgeBase.open(Settings.load())
    doc, clauses = make_doc("crash", "崩溃时写入的通知", kb.document("sz").metadata, [("", [], "这一条不应出现。")])
    with kb.writer() as w:
        w.remove("ecl")
        w.upsert(doc, clauses, "test-1")
    os._exit(0)
""")


@pytest.mark.parametrize("point", ["before-manifest", "inside-vectors", "before-current"])
def test_kill_during_save_leaves_the_previous_generation(kb, settings, home, point):
    script = CRASH.format(tests=str(Path(__file__).parent))
    proc = subprocess.run(
        [sys.executable, "-c", script, point], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 9, proc.stderr
    again = KnowledgeBase.open(settings, embedder=FakeEmbedder())
    assert again.generation == 1
    assert again.document("ecl") is not None and again.document("crash") is None
    assert again.search("电子商务法第三十五条")[0].clause.label == "第三十五条"
    with again.writer() as w:  # the next writer cleans up and carries on
        w.remove("dy")
    # an unpublished generation 2 (killed before CURRENT) is never reused: its number is skipped
    assert again.generation == (3 if point == "before-current" else 2)
    assert disk.generation_numbers(home) == [1, again.generation]
    assert not [p for p in (home / "generations").iterdir() if p.name.startswith(".tmp-")]


def test_disk_full_keeps_the_old_index(kb, settings, home, monkeypatch):
    writing = disk.writing

    @contextlib.contextmanager
    def full(path):
        with writing(path) as write:

            def write_or_fail(data):
                if path.name == "vectors.faiss" and len(data):  # the disk fills while the index is written
                    raise OSError(errno.ENOSPC, "No space left on device")
                return write(data)

            yield write_or_fail

    monkeypatch.setattr(disk, "writing", full)
    doc, clauses = extra_doc(kb)
    with pytest.raises(IndexWriteError) as exc, kb.writer() as w:
        w.upsert(doc, clauses, PIPELINE)
    assert str(exc.value) == (
        f"could not save the knowledge base at {home}: [Errno 28] No space left on device; "
        "generation 1 is still live"
    )
    assert kb.generation == 1 and kb.document("extra0") is None
    assert list((home / "generations").iterdir()) == [gen_dir(home)]
    monkeypatch.undo()
    assert KnowledgeBase.open(settings).generation == 1


def test_disk_full_while_replacing_current(kb, settings, home, monkeypatch):
    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(disk, "replace_current", full)
    doc, clauses = extra_doc(kb)
    with pytest.raises(IndexWriteError), kb.writer() as w:
        w.upsert(doc, clauses, PIPELINE)
    assert disk.generation_numbers(home) == [1]
    assert (home / "CURRENT").read_text() == f"1\n1 {disk.manifest_sha(gen_dir(home))}\n"
    assert KnowledgeBase.open(settings).generation == 1


# --- damaged files ---------------------------------------------------------------------------------------


def test_flipped_byte_in_vectors_is_rejected_by_checksum(kb, settings, home):
    path = gen_dir(home) / "vectors.faiss"
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01
    path.write_bytes(bytes(data))
    assert (
        open_error(settings)
        == f"{path}: SHA-256 does not match the manifest (the file is corrupt); {REBUILD}"
    )


@pytest.mark.parametrize(
    "name", ["clauses.jsonl", "ids.json", "documents.json", "tokens.jsonl", "bm25/data.csc.index.npy"]
)
def test_flipped_byte_in_any_file_is_rejected(kb, settings, home, name):
    path = gen_dir(home) / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))
    assert (
        open_error(settings)
        == f"{path}: SHA-256 does not match the manifest (the file is corrupt); {REBUILD}"
    )


def test_empty_file(kb, settings, home):
    path = gen_dir(home) / "vectors.faiss"
    size = path.stat().st_size
    path.write_bytes(b"")
    assert open_error(settings) == f"{path}: file is empty (the manifest says {size} bytes); {REBUILD}"


def test_truncated_file(kb, settings, home):
    path = gen_dir(home) / "vectors.faiss"
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:100])
    assert open_error(settings) == (
        f"{path}: file is 100 bytes, the manifest says {size} (truncated or incomplete); {REBUILD}"
    )


def test_missing_file(kb, settings, home):
    path = gen_dir(home) / "ids.json"
    path.unlink()
    assert open_error(settings) == f"{path}: file listed in the manifest is missing; {REBUILD}"


def test_missing_manifest(kb, settings, home):
    path = gen_dir(home) / "manifest.json"
    path.unlink()
    assert open_error(settings) == (
        f"{path}: manifest is missing (the generation was not completely written); {REBUILD}"
    )


def test_garbage_manifest(kb, settings, home):
    path = gen_dir(home) / "manifest.json"
    path.write_text("{not json")
    reseal(gen_dir(home))
    assert open_error(settings).startswith(f"{path}: manifest is not valid JSON (")


def test_wrong_magic_vectors_never_reach_faiss(kb, settings, home):
    path = gen_dir(home) / "vectors.faiss"
    rewrite(path, b"JUNK" + path.read_bytes()[4:])  # passes the checksum: a foreign file, not a corrupt one
    assert open_error(settings) == (
        f"{path}: could not be read (ValueError: not a FAISS IndexIDMap2 "
        f"file (starts with b'JUNK', expected b'IxM2')); {REBUILD}"
    )


@pytest.mark.parametrize(
    "name, named",
    [
        ("bm25/data.csc.index.npy", "bm25"),
        ("bm25/vocab.index.json", "bm25"),
        ("clauses.jsonl", "clauses.jsonl"),
        ("ids.json", "ids.json"),
        ("documents.json", "documents.json"),
    ],
)
def test_wrong_content_with_matching_checksum_is_a_handled_error(kb, settings, home, name, named):
    rewrite(gen_dir(home) / name, b"\x00garbage\xff" * 3)
    message = open_error(settings)
    assert message.startswith(f"{gen_dir(home) / named}: could not be read (") and message.endswith(REBUILD)


def test_damaged_tokens_file_is_not_fatal(kb, settings, home, caplog):
    rewrite(gen_dir(home) / "tokens.jsonl", b"\x00garbage\xff")
    again = KnowledgeBase.open(settings)
    assert again.search("电子商务法第三十五条")[0].clause.label == "第三十五条"
    doc, clauses = extra_doc(again)
    with again.writer() as w:
        w.upsert(doc, clauses, PIPELINE)
    assert KnowledgeBase.open(settings).search("补充说明", mode="bm25")[0].clause.doc_id == "extra0"
    assert "tokens.jsonl: could not be read" in caplog.text


def test_corrupt_current_falls_back_to_the_previous_generation(kb, settings, home, caplog):
    doc, clauses = extra_doc(kb)
    with kb.writer() as w:
        w.upsert(doc, clauses, PIPELINE)
    path = gen_dir(home, 2) / "vectors.faiss"
    path.write_bytes(path.read_bytes()[:-8])
    again = KnowledgeBase.open(settings)
    assert again.generation == 1 and again.document("extra0") is None
    assert "using generation 1 of the knowledge base" in caplog.text
    assert f"{path}: file is" in caplog.text


def test_missing_current_uses_the_newest_complete_generation(kb, settings, home):
    (home / "CURRENT").unlink()
    assert KnowledgeBase.open(settings).generation == 1


# --- stores that disagree --------------------------------------------------------------------------------


def test_clause_count_mismatch(kb, settings, home):
    path = gen_dir(home) / "clauses.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    rewrite(path, "".join(lines[:-1]).encode())
    assert open_error(settings, IndexMismatchError) == (
        f"knowledge base generation at {gen_dir(home)} is inconsistent: row counts differ (clauses.jsonl has 15, "
        f"ids.json has 16, vectors.faiss has 16, bm25 has 16; the manifest says 16); {REBUILD}"
    )


def test_vectors_of_other_clauses(kb, settings, home):
    store = FaissStore(64)
    store.add(np.arange(16, dtype=np.int64), np.eye(16, 64, dtype=np.float32))
    rewrite(gen_dir(home) / "vectors.faiss", store.save())
    assert open_error(settings, IndexMismatchError) == (
        f"knowledge base generation at {gen_dir(home)} is inconsistent: vectors.faiss holds vectors for other "
        f"clauses than clauses.jsonl; {REBUILD}"
    )


def test_vector_dimension_mismatch(kb, settings, home):
    store = FaissStore(32)
    keys = np.asarray(json.loads((gen_dir(home) / "ids.json").read_text())["keys"], dtype=np.int64)
    store.add(keys, np.eye(16, 32, dtype=np.float32))
    rewrite(gen_dir(home) / "vectors.faiss", store.save())
    assert open_error(settings, IndexMismatchError) == (
        f"knowledge base generation at {gen_dir(home)} is inconsistent: vectors.faiss has dimension 32, "
        f"the manifest says 64; {REBUILD}"
    )


def test_reordered_ids(kb, settings, home):
    path = gen_dir(home) / "ids.json"
    ids = json.loads(path.read_text())
    ids["clause_ids"].reverse()
    ids["keys"].reverse()
    rewrite(path, json.dumps(ids).encode())
    assert open_error(settings, IndexMismatchError) == (
        f"knowledge base generation at {gen_dir(home)} is inconsistent: ids.json does not list the clauses "
        f"of clauses.jsonl in order; {REBUILD}"
    )


def test_model_name_mismatch(kb, settings, home):
    other = settings.model_copy(update={"embedding_model": Path("models/bge-small-zh")})
    assert open_error(other, IndexMismatchError) == (
        f"knowledge base at {home} was built with embedding model 'fake-64' but the configured model is "
        f"'bge-small-zh-int8'; {REBUILD}"  # int8, the default precision, is part of the name
    )


def test_embedder_dimension_mismatch(kb, settings, home):
    class SameNameOtherDim(FakeEmbedder):
        def __init__(self):
            super().__init__(dim=32)
            self.name = "fake-64"

    assert open_error(settings, IndexMismatchError, embedder=SameNameOtherDim()) == (
        f"knowledge base at {home} was built with embedding model 'fake-64' (dim 64) but the configured model "
        f"is 'fake-64' (dim 32); {REBUILD}"
    )


# --- writers, readers, stale files -----------------------------------------------------------------------


def test_second_writer_is_refused_while_searches_continue(kb, settings, home):
    entered, release = threading.Event(), threading.Event()

    def first_writer():
        with kb.writer() as w:
            w.remove("dy")
            entered.set()
            release.wait(10)

    t = threading.Thread(target=first_writer)
    t.start()
    try:
        assert entered.wait(10)
        other = KnowledgeBase.open(settings, embedder=FakeEmbedder())  # readers take no lock
        with pytest.raises(LockBusyError) as exc, other.writer(wait=0.2):
            pass
        assert str(exc.value) == (
            f"another process is still writing to the knowledge base at {home} after 0 s; "
            "nothing was changed, try again when it is done (or raise writer_wait_seconds)"
        )
        assert kb.search("电子商务法第三十五条")[0].clause.label == "第三十五条"
        assert other.search("直播间虚假宣传", mode="bm25")[0].clause.doc_id == "dy"
    finally:
        release.set()
        t.join()
    assert kb.generation == 2
    with other.writer(wait=0.2) as w:  # the lock is free again
        w.remove("sz")
    assert other.generation == 3 and other.document("dy") is None


def test_a_second_writer_waits_its_turn_and_says_so(kb, settings):
    entered, waits = threading.Event(), []

    def first_writer():
        with kb.writer() as w:
            w.remove("dy")
            entered.set()
            time.sleep(1.0)

    t = threading.Thread(target=first_writer)
    t.start()
    assert entered.wait(10)
    other = KnowledgeBase.open(settings, embedder=FakeEmbedder())
    with other.writer(wait=30, on_wait=waits.append) as w:  # queued behind the first, then it runs
        w.remove("sz")
    t.join()
    assert waits and waits[0] < 0.5  # told at once that it waits
    assert other.generation == 3 and other.document("dy") is None and other.document("sz") is None


def test_searches_during_a_commit_see_old_or_new(kb):
    stop, errors = threading.Event(), []

    def search():
        while not stop.is_set():
            try:
                hits = kb.search("电子商务法第三十五条")
                assert hits[0].clause.label == "第三十五条"
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=search) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(3):
        doc, clauses = extra_doc(kb, i)
        with kb.writer() as w:
            w.upsert(doc, clauses, PIPELINE)
    stop.set()
    for t in threads:
        t.join()
    assert errors == [] and kb.generation == 4


def test_lock_busy_in_another_process(kb, settings, home):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import fcntl, os, sys, time
        fd = os.open({str(home / "lock")!r}, os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("locked", flush=True)
        time.sleep(30)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockBusyError), kb.writer(wait=0.1):
            pass
        assert KnowledgeBase.open(settings).search("第三十五条", mode="bm25")
    finally:
        holder.kill()
        holder.wait()


def test_stale_temp_files_are_cleaned_at_start(kb, settings, home):
    stale_dir = home / "generations" / ".tmp-2-999999-dead"
    stale_dir.mkdir()
    (stale_dir / "vectors.faiss").write_bytes(b"half")
    stale_current = home / ".CURRENT.tmp-999999-dead"
    stale_current.write_text("2\n")
    KnowledgeBase.open(settings)
    assert not stale_dir.exists() and not stale_current.exists()


def test_a_live_writers_temp_files_are_left_alone(kb, settings, home):
    live = home / "generations" / ".tmp-2-1-live"
    with kb.writer():  # cleans at its start, then "writes" its temp directory
        live.mkdir()
        KnowledgeBase.open(settings)  # a reader must not take it for debris while the lock is held
        assert live.exists()
    assert live.exists() and kb.generation == 1  # nothing changed, nothing committed
    KnowledgeBase.open(settings)
    assert not live.exists()


def test_unsafe_manifest_path(kb, settings, home):
    manifest_path = gen_dir(home) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["../../etc/passwd"] = {"size": 1, "sha256": "0" * 64}
    manifest_path.write_text(json.dumps(manifest))
    reseal(gen_dir(home))  # past the seal: the manifest's own check must still hold
    assert open_error(settings) == f"{manifest_path}: lists an unsafe file name '../../etc/passwd'; {REBUILD}"


@pytest.mark.parametrize(
    "edit", [('"fusion": "zscore"', '"fusion": "zscorm"'), ('"bm25_weight": 0.6', '"bm25_weight": 0.9')]
)
def test_an_edited_manifest_is_refused_by_its_seal(kb, settings, home, edit):
    path = gen_dir(home) / "manifest.json"
    text = path.read_text()
    assert edit[0] in text
    path.write_text(text.replace(*edit))
    assert open_error(settings) == (
        f"{path}: does not match the checksum CURRENT sealed it with (it was changed "
        f"after it was written); {REBUILD}"
    )


def test_an_unknown_search_setting_is_an_error_not_a_default(kb, settings, home):
    path = gen_dir(home) / "manifest.json"
    path.write_text(path.read_text().replace('"fusion": "zscore"', '"fusion": "zscorm"'))
    reseal(gen_dir(home))
    assert open_error(settings) == (
        f"{path}: could not be read (ValueError: search fusion 'zscorm' is not "
        f"known; allowed: zscore, rrf); {REBUILD}"
    )


def test_a_home_written_before_seals_still_opens_and_is_sealed_by_its_next_save(kb, settings, home):
    (home / "CURRENT").write_text("1\n")
    again = KnowledgeBase.open(settings)
    assert again.generation == 1
    doc, clauses = extra_doc(again)
    with again.writer() as w:
        w.upsert(doc, clauses, PIPELINE)
    assert sorted(disk.read_seals(home)) == [1, 2]


def test_build_docs_fixture_is_independent():
    assert build_docs()[0][0].doc_id == "ecl"
