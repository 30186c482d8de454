"""The approximate FAISS index (IVF of 8-bit codes, re-scored on float16 vectors) used from
``ann_min_clauses`` up: its hits against exact search, filters, its parameters on disk, and generations
written before it existed (a flat index, or an IVF index of float16 codes without re-scoring)."""

import json

import numpy as np
import pytest
from kbdata import build_docs, fill

from policykb.config import Settings
from policykb.errors import IndexMismatchError
from policykb.index import disk
from policykb.index.embed import FakeEmbedder
from policykb.index.filters import Filters
from policykb.index.store import KnowledgeBase
from policykb.index.vectors import FaissStore, ivf_lists, ivf_probes

DIM = 32
IVF = {"kind": "ivf", "codes": "sq8", "refine": "fp16", "k_factor": 4}


def clustered(n_centres: int = 40, copies: int = 30, noise: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """(keys, vectors): ``copies`` noisy copies of each of ``n_centres`` random unit vectors."""
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((n_centres, DIM)).astype(np.float32)
    vectors = np.repeat(centres, copies, axis=0)
    vectors += rng.standard_normal(vectors.shape).astype(np.float32) * noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = np.arange(len(vectors), dtype=np.int64) * 11 + 5
    return keys, vectors


def stores(keys: np.ndarray, vectors: np.ndarray, **ann: int) -> tuple[FaissStore, FaissStore]:
    exact, approx = FaissStore(DIM), FaissStore(DIM, ann_min=len(keys), **ann)
    exact.add(keys, vectors)
    approx.add(keys, vectors)
    return exact, approx


def test_above_the_threshold_the_index_is_ivf_with_its_parameters():
    keys, vectors = clustered()
    exact, approx = stores(keys, vectors)
    assert exact.describe() == {"kind": "flat"}
    nlist = ivf_lists(len(keys))
    assert (nlist, ivf_probes(nlist)) == (128, 16)
    assert approx.describe() == IVF | {"nlist": 128, "nprobe": 16}
    below = FaissStore(DIM, ann_min=len(keys) + 1)
    below.add(keys, vectors)
    assert below.describe() == {"kind": "flat"}


def test_lists_and_probes_for_small_and_large_sets():
    assert [ivf_lists(n) for n in (7, 30, 1_200, 100_000, 1_000_000)] == [1, 3, 128, 1024, 4096]
    assert [ivf_probes(n) for n in (1, 3, 128, 1024, 4096)] == [1, 3, 16, 128, 512]


def test_clear_queries_find_what_exact_search_finds():
    keys, vectors = clustered()
    exact, approx = stores(keys, vectors)
    for row in range(0, len(keys), 97):  # a stored vector is its own best match
        want = exact.search(vectors[row], 10)
        got = approx.search(vectors[row], 10)
        assert got[0][0] == want[0][0] == keys[row]
        assert len({k for k, _ in got} & {k for k, _ in want}) >= 9
        assert got[0][1] == pytest.approx(1.0, abs=1e-3)  # re-scored on float16: scores to ~3 decimals


@pytest.mark.parametrize("exact_filter_max", [0, 10_000])
def test_filters_are_respected_probing_lists_or_scanning(exact_filter_max):
    keys, vectors = clustered()
    exact, approx = stores(keys, vectors, exact_filter_max=exact_filter_max)
    allowed = keys[1::3]
    for row in (0, 301, 902):
        want = exact.search(vectors[row], 5, allowed)
        got = approx.search(vectors[row], 5, allowed)
        assert {k for k, _ in got} <= set(allowed.tolist())
        assert [k for k, _ in got][:3] == [k for k, _ in want][:3]
    few = keys[[3, 500, 1100]]
    assert sorted(k for k, _ in approx.search(vectors[0], 10, few)) == sorted(few.tolist())


def test_parameters_are_saved_with_the_index_and_read_back():
    keys, vectors = clustered()
    _, approx = stores(keys, vectors)
    again = FaissStore.load(approx.save())
    assert again.describe() == approx.describe()
    assert again.search(vectors[42], 10) == approx.search(vectors[42], 10)
    got_keys, got_vectors = again.vectors()
    assert np.array_equal(got_keys, keys)
    assert np.allclose(got_vectors, vectors, atol=1e-3)  # decoded from the float16 copy, not the 8-bit codes


def test_a_build_for_an_ivf_index_may_hold_its_vectors_in_float16():
    keys, vectors = clustered()
    store = FaissStore(DIM, ann_min=len(keys))
    assert store.staging_dtype(len(keys) - 1) is np.float32  # a flat index keeps float32
    assert store.staging_dtype(len(keys)) is np.float16
    _, from32 = stores(keys, vectors)
    store.add(keys, vectors.astype(np.float16))
    assert store.describe() == from32.describe()
    assert np.allclose(store.vectors_of(keys[::50]), vectors[::50], atol=2e-3)
    for row in range(0, len(keys), 97):
        got, want = store.search(vectors[row], 10), from32.search(vectors[row], 10)
        assert got[0][0] == keys[row] and len({k for k, _ in got} & {k for k, _ in want}) >= 9


def test_vectors_are_added_a_chunk_at_a_time_with_the_same_result(monkeypatch):
    keys, vectors = clustered()
    _, whole = stores(keys, vectors)
    monkeypatch.setattr("policykb.index.vectors.ADD_CHUNK", 100)
    _, chunked = stores(keys, vectors)
    assert chunked.count == whole.count == len(keys)
    assert np.array_equal(chunked.keys(), whole.keys())
    for row in range(0, len(keys), 61):
        assert chunked.search(vectors[row], 10) == whole.search(vectors[row], 10)


def float16_ivf(keys: np.ndarray, vectors: np.ndarray) -> FaissStore:
    """An IVF index of float16 codes without re-scoring, as generations were written before 8-bit codes."""
    import faiss

    ivf = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(DIM), DIM, 8, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    ivf.train(vectors)
    ivf.nprobe = 8
    index = faiss.IndexIDMap2(ivf)
    index.add_with_ids(vectors, keys)
    ivf.make_direct_map()
    return FaissStore.load(faiss.serialize_index(index).data)


def test_an_ivf_index_of_float16_codes_is_read_and_searched_as_it_is():
    keys, vectors = clustered()
    old = float16_ivf(keys, vectors)
    assert old.describe() == {"kind": "ivf", "codes": "fp16", "nlist": 8, "nprobe": 8}
    exact, _ = stores(keys, vectors)
    allowed = keys[1::3]
    old.exact_filter_max = 0  # the filter probes the lists with a selector (not an exact scan)
    for row in (0, 301, 902):
        assert old.search(vectors[row], 1)[0][0] == keys[row]
        got = [k for k, _ in old.search(vectors[row], 5, allowed)]
        assert got[:3] == [k for k, _ in exact.search(vectors[row], 5, allowed)][:3]
    assert np.allclose(old.vectors_of(keys[:5]), vectors[:5], atol=1e-3)


def ann_settings(home) -> Settings:
    return Settings.load(home=home, embedding_model="fake", ann_min_clauses=10)


def test_a_knowledge_base_above_the_threshold_searches_like_the_exact_one(home, tmp_path):
    flat = KnowledgeBase.open(Settings.load(home=tmp_path / "flat"), embedder=FakeEmbedder())
    fill(flat)
    kb = KnowledgeBase.open(ann_settings(home), embedder=FakeEmbedder())
    fill(kb)
    manifest = json.loads((home / "generations" / "1" / "manifest.json").read_text())
    assert manifest["vector_index"] == IVF | {"nlist": 2, "nprobe": 2}
    again = KnowledgeBase.open(ann_settings(home), embedder=FakeEmbedder())
    only = Filters(doc_id="ecl")
    for query in ("电子商务平台经营者不得利用服务协议", "直播营销"):
        for mode in ("dense", "hybrid"):
            want = [h.clause.clause_id for h in flat.search(query, k=5, mode=mode)]
            assert [h.clause.clause_id for h in again.search(query, k=5, mode=mode)] == want
        hits = again.search(query, k=5, mode="dense", filters=only)
        assert hits and {h.clause.doc_id for h in hits} == {"ecl"}


def test_a_generation_written_before_the_ann_index_still_opens(kb, home, settings):
    """Its manifest has no ``vector_index``: the flat index it holds is read as it is."""
    gen = home / "generations" / "1"
    manifest = json.loads((gen / "manifest.json").read_text())
    assert manifest.pop("vector_index") == {"kind": "flat"}
    (gen / "manifest.json").write_text(json.dumps(manifest))
    disk.replace_current(home, 1, {1: disk.manifest_sha(gen)})
    again = KnowledgeBase.open(settings, embedder=FakeEmbedder())
    assert again.generation == 1
    q = "电子商务平台经营者不得利用服务协议"
    assert [h.clause for h in again.search(q)] == [h.clause for h in kb.search(q)]


def test_a_manifest_that_names_another_index_is_refused(kb, home, settings):
    gen = home / "generations" / "1"
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["vector_index"] = {"kind": "ivf", "codes": "fp16", "nlist": 2, "nprobe": 2}
    (gen / "manifest.json").write_text(json.dumps(manifest))
    disk.replace_current(home, 1, {1: disk.manifest_sha(gen)})
    with pytest.raises(IndexMismatchError, match="vectors.faiss is {'kind': 'flat'}, the manifest says"):
        KnowledgeBase.open(settings, embedder=FakeEmbedder())


def test_the_next_generation_reuses_the_vectors_of_an_opened_ivf_index(home):
    """A reopened (memory-mapped) IVF index hands its vectors to the next save: only a changed clause is
    embedded again, and the new generation is an IVF index again."""
    fill(KnowledgeBase.open(ann_settings(home), embedder=FakeEmbedder()))
    fresh = FakeEmbedder()
    kb = KnowledgeBase.open(ann_settings(home), embedder=fresh)
    doc, clauses = build_docs()[0]
    changed = [
        clauses[0].__class__.create(**{**clauses[0].identity_fields(), "text": "改过的条文。", "seq": 0}),
        *clauses[1:],
    ]
    with kb.writer() as w:
        w.upsert(doc, changed, "test-2")
    assert fresh.calls == 1 and kb.generation == 2
    assert kb.manifest["vector_index"]["kind"] == "ivf"
    assert kb.search("改过的条文", mode="dense", k=1)[0].clause == changed[0]


def test_the_float16_copies_follow_the_index_in_its_file_and_are_read_from_there(tmp_path, monkeypatch):
    keys, vectors = clustered()
    _, approx = stores(keys, vectors)
    path = tmp_path / "vectors.faiss"
    with open(path, "wb") as f:
        approx.save_to(f.write)
    data = path.read_bytes()
    assert data == bytes(approx.save())
    at = len(data) - 16 - len(keys) * DIM * 2
    assert data[-16:] == b"PKBF16\0\0" + at.to_bytes(8, "little")
    copies = np.frombuffer(data[at:-16], dtype="<f2").reshape(len(keys), DIM)
    assert np.array_equal(copies, vectors.astype(np.float16))  # row i: the vector of the i-th key
    mapped = FaissStore.load_file(path)
    assert mapped.copies is None and mapped.copies_at == (path, at)
    allowed = keys[::2]
    for row in (0, 301, 902):
        assert mapped.search(vectors[row], 10) == approx.search(vectors[row], 10)
        assert mapped.search(vectors[row], 5, allowed) == approx.search(vectors[row], 5, allowed)
    path.unlink()  # a later write pruned the generation: the open file is still read
    assert mapped.search(vectors[301], 10) == approx.search(vectors[301], 10)
    for rows_max in (4_096, 10):  # a row at a time, and in blocks
        monkeypatch.setattr("policykb.index.vectors.PREAD_ROWS_MAX", rows_max)
        some = keys[[5, 900, 17, 1100]] if rows_max > 10 else keys[::7]
        assert np.array_equal(mapped.vectors_of(some), approx.vectors_of(some))


def test_an_index_file_without_its_copies_is_refused(tmp_path):
    keys, vectors = clustered()
    _, approx = stores(keys, vectors)
    path = tmp_path / "vectors.faiss"
    path.write_bytes(bytes(approx.save())[: -16 - len(keys) * DIM * 2])  # the index alone
    with pytest.raises(ValueError) as err:
        FaissStore.load_file(path)
    assert str(err.value) == f"does not end with the float16 copies of its {len(keys)} vectors"
