"""The real embedding model (slow): offline loading, normalised vectors, length bucketing, a semantic hit.

The model is looked up at ``POLICYKB_TEST_EMBEDDING_MODEL`` or the default ``models/m3e-small``; the
tests are skipped when it is not there.
"""

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from kbdata import by_label, fill

from policykb.config import DEFAULT_MODEL_DIR, Settings
from policykb.index.embed import SentenceTransformerEmbedder
from policykb.index.store import KnowledgeBase

pytestmark = pytest.mark.slow

MODEL = Path(os.environ.get("POLICYKB_TEST_EMBEDDING_MODEL") or DEFAULT_MODEL_DIR)


@pytest.fixture(scope="session")
def model() -> SentenceTransformerEmbedder:
    if not MODEL.is_dir():
        pytest.skip(f"no embedding model at {MODEL}")
    return SentenceTransformerEmbedder(MODEL, batch_size=4)


def test_vectors_are_normalised_and_in_input_order(model):
    texts = [
        "电子商务经营者应当依法办理市场主体登记。",
        "短",
        "直播间不得虚假宣传，" * 20,
        "平台内经营者",
        "七日无理由退货",
    ]
    together = model.encode(texts)  # length-bucketed batches of 4
    alone = np.stack([model.encode([t])[0] for t in texts])
    assert together.shape == (5, model.dim) and together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-4)


def test_query_vectors_are_cached_and_read_only(model):
    a = model.encode_query("直播带货需要什么资质")
    assert model.encode_query("直播带货需要什么资质") is a
    assert not a.flags.writeable
    assert np.allclose(a, model.encode(["直播带货需要什么资质"])[0], atol=1e-5)


def test_paraphrase_is_closer_than_an_unrelated_text(model):
    q, near, far = model.encode(
        [
            "平台能不能对商家的定价设置不合理的限制",
            "平台不得对平台内经营者的交易价格进行不合理限制",
            "本法自二〇一九年一月一日起施行",
        ]
    )
    assert q @ near > q @ far


def test_hybrid_search_with_the_real_model(model, home):
    settings = Settings.load(embedding_model=MODEL, embedding_precision="fp32")
    kb = KnowledgeBase.open(settings, embedder=model)
    fill(kb)
    assert kb.manifest["model"] == {"name": MODEL.name, "dim": model.dim}
    hit = kb.search("平台可以限制商家的交易价格吗", k=3)[0]
    assert hit.clause == by_label(kb, "ecl", "第三十五条")
    assert KnowledgeBase.open(settings).search("电子商务法第三十五条")[0].clause.label == "第三十五条"


@pytest.mark.parametrize("backend", ["BareTransformerModel", "OnnxModel"])
def test_backends_embed_exactly_like_sentence_transformers(backend):
    """m3e-small has no modules.json: it runs on ONNX Runtime (or transformers) without
    sentence-transformers, to the same vectors."""
    from sentence_transformers import SentenceTransformer

    from policykb.index import models

    texts = ["微视收费吗", "腾讯微视平台对本次活动不收取费用。", "第三十五条 电子商务平台经营者" * 40]
    reference = SentenceTransformer(str(MODEL), device="cpu", local_files_only=True)
    expected = reference.encode(texts, convert_to_numpy=True, normalize_embeddings=False)
    model = getattr(models, backend)(MODEL)
    assert reference.max_seq_length == model.max_seq_length == 512 and model.dim == 512
    assert np.abs(model.encode(texts) - expected).max() < 1e-5
    assert model.count_tokens(texts[-1:])[0] > 512  # counted untruncated, for the window warning


def test_default_model_folder_runs_on_onnx():
    from policykb.index.models import OnnxModel, load_model

    assert isinstance(load_model(MODEL), OnnxModel)


def test_int8_vectors_stay_close_to_fp32(model):
    """The int8 copy setup quantizes: per-channel weights keep these vectors within cosine 0.997 of fp32
    (measured: 0.9983, 0.9980, 0.9992, 0.9980; over the 1,350 texts of bench_embed.py min 0.9955)."""
    from policykb.index.models import OnnxModel, load_model

    int8 = SentenceTransformerEmbedder(MODEL, batch_size=4, precision="int8")
    assert isinstance(int8.model, OnnxModel) and isinstance(load_model(MODEL, "int8"), OnnxModel)
    assert (int8.name, int8.dim) == (f"{MODEL.name}-int8", model.dim)
    texts = [
        "微视收费吗",
        "腾讯微视平台对本次活动不收取费用。",
        "直播间不得虚假宣传，" * 20,
        "七日无理由退货",
    ]
    vectors = int8.encode(texts)
    cosines = (vectors * model.encode(texts)).sum(1)
    assert cosines.min() >= 0.997, cosines
    # one text per forward pass, on two workers at once: a vector does not depend on its neighbours or worker
    assert np.array_equal(vectors, np.stack([int8.encode([t])[0] for t in texts]))


def test_setup_int8_file_is_quantize_int8_of_the_export(tmp_path):
    """``scripts/setup.sh``'s int8 file is what ``quantize_int8`` makes from ``model.onnx``, byte for byte: the
    24 weight matrix products (6 a layer) with int8 weights and one scale per output channel, the three
    embedding tables in uint8 with one scale each, the two activation products of each attention in float."""
    import onnx

    from policykb.index.models import INT8_FILE, ONNX_FILE, quantize_int8

    (tmp_path / ONNX_FILE).symlink_to((MODEL / ONNX_FILE).resolve())
    made = quantize_int8(tmp_path)
    assert made == tmp_path / INT8_FILE
    assert made.read_bytes() == (MODEL / INT8_FILE).read_bytes()
    graph = onnx.load(str(made)).graph
    ops = Counter(n.op_type for n in graph.node)
    assert (ops["MatMulInteger"], ops["DynamicQuantizeLinear"], ops["MatMul"]) == (24, 16, 8)
    weights = {
        i.name: (onnx.TensorProto.DataType.Name(i.data_type), tuple(i.dims)) for i in graph.initializer
    }
    quantized = {name: spec for name, spec in weights.items() if name.endswith("_quantized")}
    kinds = Counter(kind for kind, _ in quantized.values())
    assert kinds == {"INT8": 24, "UINT8": 3}
    scales = Counter(weights[name.removesuffix("_quantized") + "_scale"][1] for name in quantized)
    assert scales == {(512,): 20, (2048,): 4, (): 3}  # per output channel; the tables per tensor
    assert {name: spec for name, spec in quantized.items() if spec[0] == "UINT8"} == {
        "model.embeddings.word_embeddings.weight_quantized": ("UINT8", (21128, 512)),
        "model.embeddings.position_embeddings.weight_quantized": ("UINT8", (512, 512)),
        "model.embeddings.token_type_embeddings.weight_quantized": ("UINT8", (2, 512)),
    }


def test_a_knowledge_base_built_at_fp32_is_not_searched_at_int8(model, home):
    from policykb.errors import IndexMismatchError

    kb = KnowledgeBase.open(Settings.load(embedding_model=MODEL, embedding_precision="fp32"), embedder=model)
    fill(kb)
    with pytest.raises(IndexMismatchError) as exc:
        KnowledgeBase.open(Settings.load(embedding_model=MODEL, embedding_precision="int8"))
    assert str(exc.value) == (
        f"knowledge base at {home} was built with embedding model '{MODEL.name}' but the configured model is "
        f"'{MODEL.name}-int8'; run `policykb ingest` to rebuild"
    )
