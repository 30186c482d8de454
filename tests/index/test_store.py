"""KnowledgeBase reading, writing, persistence and the embedding cache."""

import json

import pytest
from kbdata import CORPUS, PIPELINE, build_docs, fill, make_doc

from policykb.config import Settings
from policykb.index import disk
from policykb.index.embed import FakeEmbedder, make_embedder
from policykb.index.filters import Filters
from policykb.index.keywords import Segmenter
from policykb.index.store import KnowledgeBase


def test_reading_order_and_lookups(kb):
    assert [d.doc_id for d in kb.documents()] == [spec[0] for spec in CORPUS]
    ecl = kb.clauses("ecl")
    assert [c.seq for c in ecl] == list(range(len(ecl)))
    assert kb.clauses()[: len(ecl)] == ecl
    assert kb.document("ecl").title == "中华人民共和国电子商务法"
    assert kb.document("nope") is None
    assert kb.clause(ecl[2].clause_id) == ecl[2]
    assert kb.clause("nope") is None
    assert kb.clauses("nope") == []


def test_neighbours_stay_inside_the_document(kb):
    ecl = kb.clauses("ecl")
    assert kb.neighbours(ecl[2].clause_id) == ecl[1:4]
    assert kb.neighbours(ecl[0].clause_id, before=3, after=0) == ecl[:1]
    assert kb.neighbours(ecl[-1].clause_id, before=0, after=5) == ecl[-1:]
    assert kb.neighbours("nope") == []


def test_persisted_and_reopened(kb, settings):
    again = KnowledgeBase.open(settings, embedder=FakeEmbedder())
    assert again.generation == kb.generation == 1
    assert again.documents() == kb.documents()
    assert again.clauses() == kb.clauses()
    q = "电子商务平台经营者不得利用服务协议"
    assert [h.clause for h in again.search(q)] == [h.clause for h in kb.search(q)]


def test_manifest_records_build(kb, home):
    manifest = json.loads((home / "generations" / "1" / "manifest.json").read_text())
    assert manifest["format"] == disk.FORMAT_VERSION and manifest["generation"] == 1
    assert manifest["model"] == {"name": "fake-64", "dim": 64}
    assert manifest["counts"] == {"documents": 6, "clauses": 16, "vectors": 16}
    assert manifest["search_params"]["rrf_k"] == 60
    assert {"faiss-cpu", "bm25s", "sentence-transformers", "torch", "numpy", "policykb"} <= set(
        manifest["versions"]
    )
    assert {
        "clauses.jsonl",
        "documents.json",
        "ids.json",
        "vectors.faiss",
        "tokens.jsonl",
        "bm25/params.index.json",
    } <= set(manifest["files"])
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in manifest["files"].values())
    current = (home / "CURRENT").read_text().splitlines()
    assert current[0] == "1" and current[1] == f"1 {disk.manifest_sha(home / 'generations' / '1')}"


def test_upsert_replaces_the_documents_clauses(kb):
    old = kb.clauses("sz")
    doc, clauses = make_doc(
        "sz",
        "关于举办腾讯微视直播电商专场活动的通知",
        old[0].metadata,
        [
            ("一、", ["一、活动主办"], "本专场活动由市商务局主办，腾讯微视与快手共同承办。"),
        ],
    )
    with kb.writer() as w:
        w.upsert(doc, clauses, PIPELINE)
    assert kb.generation == 2
    assert kb.clauses("sz") == clauses
    assert all(kb.clause(c.clause_id) is None for c in old)
    assert all(h.clause.doc_id != "sz" or h.clause in clauses for h in kb.search("短视频30秒", k=20))
    assert [d.doc_id for d in kb.documents()] == [spec[0] for spec in CORPUS]  # kept its place


def test_remove(kb):
    with kb.writer() as w:
        w.remove("sz")
        w.remove("never-stored")
    assert kb.document("sz") is None and kb.clauses("sz") == []
    assert all(h.clause.doc_id != "sz" for h in kb.search("腾讯微视活动", k=20))


def test_is_unchanged(kb):
    doc = kb.document("ecl")
    with kb.writer() as w:
        assert w.is_unchanged("ecl", doc.sha256, PIPELINE)
        assert not w.is_unchanged("ecl", "0" * 64, PIPELINE)
        assert not w.is_unchanged("ecl", doc.sha256, "test-2")
        assert not w.is_unchanged("nope", doc.sha256, PIPELINE)


def test_unchanged_upsert_writes_no_generation(kb, home):
    fill(kb)
    assert kb.generation == 1
    assert disk.generation_numbers(home) == [1]


def test_unchanged_clauses_are_not_embedded_again(kb, settings, embedder):
    before = embedder.calls
    docs = build_docs()
    with kb.writer() as w:  # a new pipeline version re-ingests everything: same texts, no embedding
        for doc, clauses in docs:
            w.upsert(doc, clauses, "test-2")
    assert kb.generation == 2 and embedder.calls == before
    # across processes too: the cache is the persisted generation
    fresh = FakeEmbedder()
    kb2 = KnowledgeBase.open(settings, embedder=fresh)
    doc, clauses = docs[0]
    changed = [
        clauses[0].__class__.create(**{**clauses[0].identity_fields(), "text": "改过的条文。", "seq": 0}),
        *clauses[1:],
    ]
    with kb2.writer() as w:
        w.upsert(doc, changed, "test-3")
    assert fresh.calls == 1
    assert kb2.search("改过的条文", mode="bm25")[0].clause == changed[0]


def test_upsert_rejects_clauses_of_another_document(kb):
    doc, _ = build_docs()[0]
    _, others = build_docs()[1]
    with pytest.raises(ValueError) as exc, kb.writer() as w:
        w.upsert(doc, others, PIPELINE)
    assert str(exc.value) == "clauses of document 'ecl' name other documents: ['sh']"


def test_duplicate_clauses_are_kept_once(kb, caplog):
    doc, clauses = build_docs()[1]
    with kb.writer() as w:
        w.upsert(doc, clauses + [clauses[0]], "test-2")
    assert kb.clauses("sh") == clauses
    assert "duplicate clause" in caplog.text


def test_exception_in_writer_writes_nothing(kb, home):
    with pytest.raises(RuntimeError), kb.writer() as w:
        w.remove("ecl")
        raise RuntimeError("boom")
    assert kb.generation == 1 and kb.document("ecl") is not None
    assert disk.generation_numbers(home) == [1]
    assert KnowledgeBase.open(kb.settings).document("ecl") is not None


def test_old_generations_are_pruned_keeping_the_previous(kb, home):
    for i in range(3):
        with kb.writer() as w:
            doc, clauses = make_doc(
                f"extra{i}", f"补充通知{i}", kb.document("sz").metadata, [("", [], f"第{i}个补充说明。")]
            )
            w.upsert(doc, clauses, PIPELINE)
    assert kb.generation == 4
    assert disk.generation_numbers(home) == [3, 4]


def test_reload_picks_up_another_writer(kb, settings):
    other = KnowledgeBase.open(settings, embedder=FakeEmbedder())
    with other.writer() as w:
        w.remove("dy")
    assert kb.document("dy") is not None
    kb.reload()
    assert kb.generation == 2 and kb.document("dy") is None


def test_writer_starts_from_the_latest_generation(kb, settings):
    other = KnowledgeBase.open(settings, embedder=FakeEmbedder())
    with other.writer() as w:
        w.remove("dy")
    with kb.writer() as w:  # kb is stale; its writer must not resurrect "dy"
        w.remove("sz")
    assert kb.document("dy") is None and kb.document("sz") is None


def test_fresh_rebuild_replaces_everything(kb, settings):
    rebuilt = KnowledgeBase.open(settings, embedder=FakeEmbedder(), fresh=True)
    assert rebuilt.documents() == []
    doc, clauses = build_docs()[0]
    with rebuilt.writer() as w:
        w.upsert(doc, clauses, PIPELINE)
    assert [d.doc_id for d in KnowledgeBase.open(settings).documents()] == ["ecl"]


def test_facets(kb):
    facets = kb.facets()
    assert facets["region"] == sorted({"全国", "上海", "台湾", "深圳"})
    assert facets["platform"] == ["抖音", "腾讯微视"]
    assert "ecl" in facets["doc_id"]


def test_real_model_setting_without_the_model_says_how_to_fix(settings, tmp_path):
    missing = tmp_path / "models" / "m3e-small"
    kb = KnowledgeBase.open(settings.model_copy(update={"embedding_model": missing}))
    doc, clauses = build_docs()[0]
    from policykb.errors import ConfigError

    with pytest.raises(ConfigError) as exc, kb.writer() as w:
        w.upsert(doc, clauses, PIPELINE)
    assert str(exc.value) == (
        f"embedding model not found at {missing}; run scripts/setup.sh or set POLICYKB_EMBEDDING_MODEL"
    )


def test_int8_without_its_model_file_says_how_to_fix(settings, tmp_path):
    folder = tmp_path / "m3e-small"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    from policykb.errors import ConfigError

    with pytest.raises(ConfigError) as exc:
        make_embedder(settings.model_copy(update={"embedding_model": folder, "embedding_precision": "int8"}))
    assert str(exc.value) == (
        f"embedding_precision is int8 but {folder / 'model.int8.onnx'} is missing; run scripts/setup.sh "
        f"(or `python -m policykb.index.models --int8 {folder}` for a folder with model.onnx), "
        'or set embedding_precision = "fp32"'
    )


def test_quantizing_without_the_onnx_export_says_how_to_fix(tmp_path):
    from policykb.errors import ConfigError
    from policykb.index.models import quantize_int8

    with pytest.raises(ConfigError) as exc:
        quantize_int8(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path / 'model.onnx'} is missing: export the model first (python -m policykb.index.models {tmp_path})"
    )
    assert not (tmp_path / "model.int8.onnx").exists()


def test_int8_vectors_are_named_apart_but_share_the_weights_name(settings, tmp_path):
    from policykb.index.embed import embedder_name, weights_name

    int8 = settings.model_copy(
        update={"embedding_model": tmp_path / "m3e-small", "embedding_precision": "int8"}
    )
    fp32 = settings.model_copy(
        update={"embedding_model": tmp_path / "m3e-small", "embedding_precision": "fp32"}
    )
    assert (embedder_name(int8), embedder_name(fp32)) == ("m3e-small-int8", "m3e-small")
    assert weights_name("m3e-small-int8") == weights_name("m3e-small") == "m3e-small"
    assert KnowledgeBase.open(int8).embedding_model_name == "m3e-small"


def test_document_without_clauses_round_trips(settings):
    kb = KnowledgeBase.open(settings, embedder=FakeEmbedder())
    doc, _ = build_docs()[0]
    with kb.writer() as w:
        w.upsert(doc, [], PIPELINE)
    again = KnowledgeBase.open(settings)
    assert [d.doc_id for d in again.documents()] == ["ecl"] and again.clauses() == []
    assert again.search("电子商务") == []
    with again.writer() as w:
        w.remove("ecl")
    assert KnowledgeBase.open(settings).manifest["counts"] == {"documents": 0, "clauses": 0, "vectors": 0}


def test_prepare_and_document_frequency(kb):
    q = kb.prepare("《電子商務法》第三十五條")
    assert q.zh == "《电子商务法》第三十五条"
    assert "电子商务" in q.tokens and [r.key for r in q.references] == ["条:35"]
    assert kb.document_frequency("电子商务") >= 5
    assert kb.document_frequency("从未出现过的词") == 0


def test_an_english_question_is_segmented_word_by_word(kb):
    q = kb.prepare("What is the maximum length of a short video?")
    assert q.lang == "en" and q.zh.split()[:2] == ["最长", "短视频"]  # "maximum length" is one phrase
    assert "长短" not in q.tokens  # 最长短视频 run together would read 长短 ("length") into it
    assert {"最长", "视频"} <= set(q.tokens)


def test_warm_loads_the_embedder_and_warm_english_the_vocabulary(settings, kb):
    again = KnowledgeBase.open(settings)
    again.warm()
    assert again._embedder is not None and again._gen.index._vocabulary is None
    again.prepare("微视收费吗？")  # Chinese alone: no vocabulary needed
    assert again._gen.index._vocabulary is None
    again.warm_english()
    assert again._gen.index._vocabulary is not None and "微视" in again._gen.index._vocabulary


def test_a_query_with_latin_words_builds_the_vocabulary_it_reads(settings, kb):
    again = KnowledgeBase.open(settings)
    assert again.prepare("Weishi 收费吗？").zh == "微视 收费吗?"  # the pinyin name, from the corpus
    assert again._gen.index._vocabulary is not None


def test_edit_document_reaches_its_clauses_and_search(kb):
    before = {c.clause_id for c in kb.clauses("sz")}
    doc = kb.edit_document("sz", {"title": "微视专场指引", "region": "广东省深圳市", "platform": ""})
    assert (doc.title, doc.metadata.region, doc.metadata.platform) == ("微视专场指引", "广东省深圳市", None)
    clauses = kb.clauses("sz")
    assert {c.clause_id for c in clauses} == before  # the same clauses, ids kept
    assert {(c.title, c.metadata.region, c.metadata.platform) for c in clauses} == {
        ("微视专场指引", "广东省深圳市", None)
    }
    assert {h.clause.doc_id for h in kb.search("活动", k=50, filters=Filters(region="广东"))} == {"sz"}
    with pytest.raises(ValueError, match=r"cannot edit \['sha256'\]; editable: title, issuer"):
        kb.edit_document("sz", {"sha256": "x"})
    with pytest.raises(KeyError, match="no document 'zz'; documents: crl, dy, ecl, sh, sz, tw"):
        kb.edit_document("zz", {"title": "x"})


def test_remove_document_writes_a_new_generation_and_keeps_the_one_before(kb, home):
    served = disk.read_current(home)
    doc = kb.remove_document("sz")
    assert doc.doc_id == "sz" and kb.document("sz") is None and not kb.clauses("sz")
    assert disk.read_current(home) == served + 1 and served in disk.generation_numbers(home)
    with pytest.raises(KeyError, match="no document 'sz'"):
        kb.remove_document("sz")


def test_a_knowledge_base_written_in_steps_holds_the_tokens_and_ranking_of_one_written_at_once(
    tmp_path, embedder, monkeypatch
):
    """The second write reuses the first's tokens (its row ids, not lists of strings read back) and segments
    only the new document's clauses."""
    docs = build_docs()
    at_once = KnowledgeBase.open(Settings.load(home=tmp_path / "once"), embedder=FakeEmbedder())
    fill(at_once, docs)
    steps = KnowledgeBase.open(Settings.load(home=tmp_path / "steps"), embedder=embedder)
    fill(steps, docs[:-1])
    segmented: list[str] = []
    real = Segmenter.__call__
    monkeypatch.setattr(Segmenter, "__call__", lambda self, text: segmented.append(text) or real(self, text))
    fill(steps, docs[-1:])
    assert len(segmented) == len(docs[-1][1])
    tokens = [
        (home / "generations" / n / "tokens.jsonl").read_bytes()
        for home, n in ((tmp_path / "once", "1"), (tmp_path / "steps", "2"))
    ]
    assert tokens[0] == tokens[1]
    for q in ("电子商务平台经营者", "直播营销人员", "第三十五条"):
        want = [(h.clause.clause_id, round(h.score, 6)) for h in at_once.search(q, mode="bm25")]
        assert [(h.clause.clause_id, round(h.score, 6)) for h in steps.search(q, mode="bm25")] == want
