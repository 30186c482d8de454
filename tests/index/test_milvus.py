"""The Milvus vector store (``vector_store = "milvus"``) on Milvus Lite: the same results as FAISS on the same
data, with every filter; generations in collections of their own behind the home's alias; deletes,
reopening, and a missing or short collection refused with a message naming the uri and the collection.

Every test's home is its own; they share one Milvus Lite file (collections are named per home), which is
also what shows that one home's commits never drop another's collections.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from kbdata import PIPELINE, fill, make_doc

from policykb.config import Settings
from policykb.errors import IndexIncompleteError, IndexMismatchError
from policykb.index import disk
from policykb.index.embed import FakeEmbedder
from policykb.index.filters import Filters
from policykb.index.milvus import (
    MilvusStore,
    alias_name,
    alias_target,
    client,
    home_collections,
    home_prefix,
    milvus_uri,
    selection_expression,
    shown_uri,
)
from policykb.index.store import KnowledgeBase

QUERIES = (
    "电子商务平台经营者不得利用服务协议",
    "直播间虚假宣传",
    "腾讯微视专场活动由谁主办",
    "消费者的安全权利",
    "企业经营者的举证责任",
)
FILTERS = {
    "none": (None, 16),
    "region": (Filters(region="全国"), 9),
    "region-two": (Filters(region=("上海", "深圳")), 5),
    "issuer": (Filters(issuer="全国人民代表大会常务委员会"), 7),
    "platform": (Filters(platform="抖音"), 2),
    "doc_id": (Filters(doc_id="ecl"), 6),
    "doc_ids": (Filters(doc_id=("tw", "sz")), 5),
    "date-range": (Filters(date_from="2015", date_to="2021-12"), 10),
    "date-from": (Filters(date_from="2022-11-15"), 5),
    "combined": (Filters(region="全国", date_to="2018-12"), 7),
}


@pytest.fixture(scope="session")
def milvus_db(tmp_path_factory):
    return tmp_path_factory.mktemp("milvus") / "lite.db"


@pytest.fixture
def msettings(home, milvus_db) -> Settings:
    return Settings.load(vector_store="milvus", milvus_uri=str(milvus_db))


@pytest.fixture
def mkb(msettings) -> KnowledgeBase:
    kb = KnowledgeBase.open(msettings, embedder=FakeEmbedder())
    fill(kb)
    return kb


@pytest.fixture
def fkb(tmp_path) -> KnowledgeBase:
    kb = KnowledgeBase.open(Settings.load(home=tmp_path / "faiss-home"), embedder=FakeEmbedder())
    fill(kb)
    return kb


def descriptor(kb: KnowledgeBase) -> dict:
    path = disk.generation_path(kb.home, kb.generation) / MilvusStore.filename
    return json.loads(path.read_text())


def ranked(kb: KnowledgeBase, query: str, filters: Filters | None, mode: str) -> list[tuple[str, float]]:
    return [
        (h.clause.clause_id, round(h.score, 4)) for h in kb.search(query, k=5, filters=filters, mode=mode)
    ]


@pytest.mark.parametrize("name", FILTERS)
def test_same_top_k_as_faiss_with_each_filter(mkb, fkb, name):
    filters, allowed = FILTERS[name]
    mask = mkb._gen.index.filters.mask(filters)
    assert (16 if mask is None else int(mask.sum())) == allowed
    for query in QUERIES:
        dense = ranked(mkb, query, filters, "dense")
        assert len(dense) == min(5, allowed)
        assert dense == ranked(fkb, query, filters, "dense"), query
        assert ranked(mkb, query, filters, "hybrid") == ranked(fkb, query, filters, "hybrid"), query


def test_a_filter_reaches_milvus_as_an_expression_over_metadata_not_a_list_of_keys(mkb, monkeypatch):
    sent: list[str] = []
    store = mkb._gen.index.vectors
    search = type(store).search
    monkeypatch.setattr(
        type(store),
        "search",
        lambda self, vector, k, allowed=None, selection=None: (
            sent.append(selection_expression(selection) if selection else "keys"),
            search(self, vector, k, allowed, selection),
        )[1],
    )
    hits = mkb.search("直播间虚假宣传", k=5, filters=Filters(region="深", date_from="2023"), mode="dense")
    assert sent == ['region in ["深圳"] and date_lo >= 0 and date_hi >= 20230101']
    assert {h.clause.doc_id for h in hits} == {"sz"}
    mkb.search("直播间虚假宣传", k=5, filters=Filters(doc_id="nosuch"), mode="dense")
    assert len(sent) == 1  # a filter no row passes is answered before Milvus is asked
    assert store.search(np.zeros(64, dtype=np.float32), 3, mkb._gen.index.keys[:2])  # keys alone still work
    assert sent[1:] == ["keys"]


def test_selection_expression_quotes_what_a_name_holds(mkb):
    from policykb.index.filters import Selection

    got = selection_expression(Selection({"issuer": ('某"局\\', "另一局"), "doc_type": ("law",)}))
    assert got == 'issuer in ["某\\"局\\\\", "另一局"] and doc_type in ["law"]'
    store = mkb._gen.index.vectors
    hostile = Selection({"issuer": ('某"局\\',)})  # Milvus parses the quoted name: no clause has it
    assert store.search(np.ones(64, dtype=np.float32) / 8, 3, selection=hostile) == []


def test_filtered_dense_search_returns_only_allowed_clauses(mkb):
    hits = mkb.search("电子商务", k=20, filters=Filters(doc_id="sh"), mode="dense")
    assert sorted(h.clause.label for h in hits) == ["第35条", "第36条"]
    assert {h.clause.doc_id for h in hits} == {"sh"}


def test_generation_holds_a_checksummed_descriptor(mkb, msettings, milvus_db):
    gen = disk.generation_path(mkb.home, 1)
    manifest = json.loads((gen / "manifest.json").read_text())
    assert manifest["vector_store"] == "milvus"
    assert manifest["counts"] == {"documents": 6, "clauses": 16, "vectors": 16}
    assert "vectors.milvus.json" in manifest["files"] and "vectors.faiss" not in manifest["files"]
    d = descriptor(mkb)
    assert d["collection"].startswith(home_prefix(mkb.home) + "_g1_")
    assert {k: v for k, v in d.items() if k != "collection"} == {
        "store": "milvus",
        "uri": str(milvus_db),
        "alias": alias_name(mkb.home),
        "dim": 64,
        "count": 16,
        "metric": "IP",
        "index": "FLAT",
        "keywords": False,
    }
    assert alias_target(msettings) == d["collection"]


@pytest.fixture
def kwkb(home, milvus_db) -> KnowledgeBase:
    settings = Settings.load(vector_store="milvus", milvus_uri=str(milvus_db), milvus_keywords=True)
    kb = KnowledgeBase.open(settings, embedder=FakeEmbedder())
    fill(kb)
    return kb


def test_milvus_keywords_make_milvus_bm25_the_keyword_side(kwkb):
    assert descriptor(kwkb)["keywords"] is True
    store = kwkb._gen.index.vectors
    sent: list[str] = []
    search = store.keyword_search
    store.keyword_search = lambda text, *a: (sent.append(text), search(text, *a))[1]
    hits = kwkb.search("腾讯微视平台收费", k=3, mode="bm25")
    assert sent == [
        kwkb.prepare("腾讯微视平台收费").zh + " " + " ".join(kwkb.prepare("腾讯微视平台收费").terms)
    ]
    assert hits[0].clause.text == "腾讯微视平台对本次活动不收取任何费用。"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1)) and hits[0].score >= hits[-1].score > 0
    traditional = kwkb.search("騰訊微視平台收費", k=1, mode="bm25")  # asked in Simplified: t2s first
    assert traditional[0].clause.clause_id == hits[0].clause.clause_id
    only_sh = kwkb.search("电子商务平台经营者", k=5, filters=Filters(doc_id="sh"), mode="bm25")
    assert only_sh and {h.clause.doc_id for h in only_sh} == {"sh"}
    both = kwkb.search("腾讯微视平台收费", k=3)  # hybrid: Milvus BM25 fused with the vectors
    assert both[0].clause.clause_id == hits[0].clause.clause_id


def test_metadata_is_stored_as_scalar_fields(mkb, milvus_db):
    name = descriptor(mkb)["collection"]
    fields = ["doc_id", "region", "issuer", "platform", "doc_type", "date", "date_lo", "date_hi"]
    rows = client(str(milvus_db)).query(name, filter='doc_id == "sz"', output_fields=fields)
    assert len(rows) == 3
    assert {tuple(r[f] for f in fields) for r in rows} == {
        ("sz", "深圳", "深圳市商务局", "腾讯微视", "event_plan", "2023-05", 20230501, 20230531)
    }
    # what a Milvus-side filter could do with them: region and a date range, as Filters does
    rows = client(str(milvus_db)).query(
        name, filter='region == "全国" and date_hi >= 20180101 and date_lo <= 20181231', output_fields=["id"]
    )
    assert sorted(r["id"] for r in rows) == sorted(int(k) for k in mkb._gen.index.keys[:6])


def test_a_rebuild_switches_the_alias_and_prunes_old_collections(mkb, msettings):
    first = descriptor(mkb)["collection"]
    doc, clauses = make_doc(
        "sh",
        "上海市促进电子商务发展规定",
        mkb.document("sh").metadata,
        [("第35条", [], "本市鼓励电子商务企业开展直播营销活动。")],
    )
    with mkb.writer() as w:
        w.upsert(doc, clauses, PIPELINE)
    assert mkb.generation == 2
    second = descriptor(mkb)["collection"]
    assert second.startswith(home_prefix(mkb.home) + "_g2_")
    assert alias_target(msettings) == second
    assert home_collections(msettings) == sorted([first, second])  # generation 1 is kept until the next
    assert descriptor(mkb)["count"] == 15

    mkb.remove_document("tw")
    third = descriptor(mkb)["collection"]
    assert alias_target(msettings) == third
    assert home_collections(msettings) == sorted([second, third])
    assert disk.generation_numbers(mkb.home) == [2, 3]


def test_one_homes_commits_leave_anothers_collections(mkb, msettings, tmp_path, milvus_db):
    other = Settings.load(home=tmp_path / "other", vector_store="milvus", milvus_uri=str(milvus_db))
    kb2 = KnowledgeBase.open(other, embedder=FakeEmbedder())
    fill(kb2)
    kb2.remove_document("tw")
    kb2.remove_document("sh")
    assert home_collections(msettings) == [descriptor(mkb)["collection"]]
    assert len(home_collections(other)) == 2
    assert alias_target(msettings) == descriptor(mkb)["collection"]


def test_a_removed_document_is_gone_from_search(mkb):
    assert {h.clause.doc_id for h in mkb.search("腾讯微视", k=16, mode="dense")} >= {"sz"}
    mkb.remove_document("sz")
    hits = mkb.search("腾讯微视", k=16, mode="dense")
    assert len(hits) == 13 and "sz" not in {h.clause.doc_id for h in hits}
    assert mkb.search("腾讯微视", k=5, filters=Filters(doc_id="sz"), mode="dense") == []
    assert descriptor(mkb)["count"] == 13


def test_reopened_from_disk_gives_the_same_results(mkb, msettings):
    again = KnowledgeBase.open(msettings, embedder=FakeEmbedder())
    assert again.generation == mkb.generation == 1
    assert again.clauses() == mkb.clauses()
    for query in QUERIES:
        for filters in (None, Filters(region="全国")):
            assert ranked(again, query, filters, "dense") == ranked(mkb, query, filters, "dense")
            assert ranked(again, query, filters, "hybrid") == ranked(mkb, query, filters, "hybrid")


def test_next_generation_reuses_the_stored_vectors(mkb):
    embedder = FakeEmbedder()
    kb = KnowledgeBase.open(mkb.settings, embedder=embedder)
    kb.remove_document("tw")
    assert embedder.calls == 0  # every vector came back out of the collection
    assert ranked(kb, "直播间虚假宣传", None, "dense")[:3] == ranked(mkb, "直播间虚假宣传", None, "dense")[:3]


def test_a_missing_collection_is_a_clear_error(mkb, msettings, milvus_db):
    name = descriptor(mkb)["collection"]
    client(str(milvus_db)).release_collection(name)
    client(str(milvus_db)).drop_alias(alias_name(mkb.home))
    client(str(milvus_db)).drop_collection(name)
    with pytest.raises(IndexIncompleteError) as err:
        KnowledgeBase.open(msettings, embedder=FakeEmbedder())
    path = disk.generation_path(mkb.home, 1) / "vectors.milvus.json"
    assert str(err.value) == (
        f"{path}: could not be read (ValueError: Milvus collection {name!r} at {milvus_db} does not exist "
        "(dropped, or milvus_uri points elsewhere than when the generation was built)); "
        f"{disk.REBUILD}"
    )


def test_a_collection_short_of_vectors_is_refused(mkb, msettings, milvus_db):
    name = descriptor(mkb)["collection"]
    key = int(mkb._gen.index.keys[0])
    client(str(milvus_db)).delete(name, filter=f"id in [{key}]")
    with pytest.raises(
        IndexIncompleteError, match=f"at {milvus_db} holds 15 vectors, the descriptor says 16"
    ):
        KnowledgeBase.open(msettings, embedder=FakeEmbedder())


def test_a_faiss_home_is_moved_to_milvus_by_recover(fkb, tmp_path, milvus_db):
    """What `policykb ingest` does when the configured store is not the one the home was built with: the
    documents and clauses of the FAISS generation are re-embedded into a Milvus one."""
    settings = Settings.load(home=tmp_path / "faiss-home", vector_store="milvus", milvus_uri=str(milvus_db))
    with pytest.raises(IndexMismatchError, match="built for vector store 'faiss' but 'milvus' is configured"):
        KnowledgeBase.open(settings, embedder=FakeEmbedder())
    kb, message = KnowledgeBase.recover(settings, embedder=FakeEmbedder())
    assert message.endswith(
        "rebuilt as generation 2 from its own 6 documents and 16 clauses, re-embedded and re-indexed"
    )
    assert kb.manifest["vector_store"] == "milvus" and kb.clauses() == fkb.clauses()
    assert alias_target(settings) == descriptor(kb)["collection"]
    for query in QUERIES:
        assert ranked(kb, query, None, "dense") == ranked(fkb, query, None, "dense")


def test_rows_read_by_the_iterator_and_by_one_query_agree(mkb):
    """A server is read with query_iterator, Milvus Lite with one query: both on Lite here."""
    store = mkb._gen.index.vectors
    by_iterator = sorted(int(r["id"]) for r in store._rows(["id"], iterate=True))
    by_query = sorted(int(r["id"]) for r in store._rows(["id"], iterate=False))
    assert by_iterator == by_query == sorted(mkb._gen.index.keys.tolist())


@pytest.mark.slow
def test_dev_questions_same_top_5_with_the_real_model(tmp_path, milvus_db):
    """The bundled corpus embedded once with m3e-small, searched on FAISS and on Milvus."""
    from policykb.config import DEFAULT_CORPUS, DEFAULT_MODEL_DIR
    from policykb.index.embed import make_embedder
    from policykb.qa.evaluation import DEV_QUESTIONS, load_questions
    from policykb.ui.cmd_eval import open_kb

    common = {"corpus": DEFAULT_CORPUS, "embedding_model": DEFAULT_MODEL_DIR}
    faiss_settings = Settings.load(home=tmp_path / "faiss", **common)
    embedder = make_embedder(faiss_settings)
    faiss_kb = open_kb(faiss_settings, embedder=embedder)
    milvus_kb = open_kb(
        Settings.load(home=tmp_path / "milvus", vector_store="milvus", milvus_uri=str(milvus_db), **common),
        embedder=embedder,
    )
    assert milvus_kb.clauses() == faiss_kb.clauses() and len(faiss_kb.clauses()) > 100
    questions = load_questions(DEV_QUESTIONS)
    assert len(questions) >= 22
    for q in questions:
        for mode in ("dense", "hybrid"):
            top = [h.clause.clause_id for h in milvus_kb.search(q.q, k=5, mode=mode)]
            assert top == [h.clause.clause_id for h in faiss_kb.search(q.q, k=5, mode=mode)], (q.id, mode)


def test_a_lite_file_open_in_another_process_is_a_clear_error(mkb, msettings, milvus_db):
    """Milvus Lite locks its file: a second process (an ingest while the app runs) is told why it cannot
    open the knowledge base, and nothing is written."""
    script = (
        "from policykb.config import Settings\n"
        "from policykb.errors import PolicyKBError\n"
        "from policykb.index.embed import FakeEmbedder\n"
        "from policykb.index.store import KnowledgeBase\n"
        "try:\n"
        f"    KnowledgeBase.open(Settings.load(vector_store='milvus', milvus_uri={str(milvus_db)!r}),"
        " embedder=FakeEmbedder())\n"
        "except PolicyKBError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"MilvusError cannot connect to Milvus at {milvus_db}: <ConnectionConfigException: (code=1, message=Open local "
        "milvus failed)>; a Milvus Lite file is open in one process at a time: stop the other one (the "
        "app, an ingest) or set milvus_uri to a Milvus server"
    )
    assert disk.generation_numbers(mkb.home) == [1]


def test_a_dropped_live_collection_is_served_from_the_one_before_and_repaired(mkb, msettings, milvus_db):
    mkb.remove_document("tw")  # generation 2; generation 1 and its collection are kept
    name = descriptor(mkb)["collection"]
    client(str(milvus_db)).drop_alias(alias_name(mkb.home))
    client(str(milvus_db)).drop_collection(name)
    kb = KnowledgeBase.open(msettings, embedder=FakeEmbedder())
    assert kb.generation == 1 and kb.document("tw") is not None
    assert kb.stale is not None and kb.stale["current"] == 2
    assert f"Milvus collection {name!r} at {milvus_db} does not exist" in kb.stale["reason"]
    message = kb.repair()
    assert message.startswith("generation 2 was damaged (")
    assert message.endswith(
        "rebuilt as generation 3 from its own 5 documents and 14 clauses, re-embedded and re-indexed"
    )
    assert kb.generation == 3 and kb.document("tw") is None and kb.stale is None
    assert alias_target(msettings) == descriptor(kb)["collection"]
    assert len(kb.search("直播间虚假宣传", k=20, mode="dense")) == 14


def test_milvus_uri_defaults_to_a_lite_file_in_the_home(home):
    assert milvus_uri(Settings.load(vector_store="milvus")) == str(home / "milvus.db")
    assert milvus_uri(Settings.load(vector_store="milvus", milvus_uri="kb/vectors.db")) == str(
        home / "kb/vectors.db"
    )
    assert milvus_uri(Settings.load(vector_store="milvus", milvus_uri="/srv/m.db")) == "/srv/m.db"
    server = "http://milvus.internal:19530"
    assert milvus_uri(Settings.load(vector_store="milvus", milvus_uri=server)) == server
    assert shown_uri("https://root:secret@milvus.internal:19530") == "https://milvus.internal:19530"
