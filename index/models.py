"""The model behind ``SentenceTransformerEmbedder``: one small interface, three ways to run it.

Every backend returns mean-pooled token vectors (not yet normalised) for a batch of texts:

- ``OnnxModel``: ``model.onnx`` (exported once by ``scripts/setup.sh`` from the checked weights) on
  ONNX Runtime with the model's fast tokenizer. No torch or transformers import, which is most of a
  cold start (≈ 0.3 s against ≈ 3.5 s); the same vectors as the other two (max |Δ| ≈ 1e-6).
  With ``precision="int8"`` it runs ``model.int8.onnx`` instead: the same graph with its weights
  quantized to int8 per channel (``quantize_int8``, also run once by setup), ≈ 2× as fast, cosine
  ≥ 0.994 to the fp32 vectors on the bundled corpus and the test laws.
- ``BareTransformerModel``: a bare Hugging Face model folder (no ``modules.json``, like m3e-small)
  loaded with transformers: what sentence-transformers builds for such a folder, without importing it.
- ``SentenceTransformerModel``: any sentence-transformers folder, as such.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

import numpy as np

from policykb.errors import ConfigError

ONNX_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
PRECISIONS = ("fp32", "int8")
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Texts per forward pass (bench/bench_embed.py --sweep; texts sorted by length, 2 shared cores): fp32 runs
# fastest in batches of 8 (40 clauses/s against 28/s in batches of 32 on a quiet machine, less padding);
# int8 one text at a time (no padding at all; 28 clauses/s against 20/s in batches of 8 under load), and
# then a text's vector does not depend on its batch neighbours (activations are quantized per forward pass).
ONNX_BATCH = 8
INT8_BATCH = 1
# int8 runs those single texts on one worker thread per core, each forward pass on one intra-op thread,
# rather than each pass on a 2-thread pool (bench_embed.py --rounds 3, 600 clauses, load ~6: median 30.6
# against 28.1 clauses/s, 18.5 against 20.1 CPU ms per clause, a query 2.7 against 7.5 ms at p50); same vectors.


def load_model(
    path: Path, precision: str = "fp32"
) -> OnnxModel | SentenceTransformerModel | BareTransformerModel:
    """int8 needs ``model.int8.onnx`` (made by ``quantize_int8``); fp32 runs ``model.onnx`` when there is
    one, else the weights through transformers or sentence-transformers."""
    if precision == "int8":
        if not (path / INT8_FILE).is_file() or not (path / "tokenizer.json").is_file():
            raise ConfigError(
                f"embedding_precision is int8 but {path / INT8_FILE} is missing; run scripts/setup.sh "
                f"(or `python -m policykb.index.models --int8 {path}` for a folder with {ONNX_FILE}), "
                'or set embedding_precision = "fp32"'
            )
        return OnnxModel(path, INT8_FILE, batch=INT8_BATCH, threads=1, workers=_cores())
    if precision != "fp32":
        raise ConfigError(f"unknown embedding precision {precision!r}; allowed: {', '.join(PRECISIONS)}")
    if (path / "modules.json").is_file():
        return SentenceTransformerModel(path)
    if (path / ONNX_FILE).is_file() and (path / "tokenizer.json").is_file():
        return OnnxModel(path)
    return BareTransformerModel(path)


def _cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mask = mask[..., None].astype(tokens.dtype)
    return cast(np.ndarray, (tokens * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None))


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    import torch

    default = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if threads:
            torch.set_num_threads(default)


class OnnxModel:
    """``batch``: texts per forward pass; ``threads``: ONNX Runtime's intra-op threads (0: one per core);
    ``spin``: let idle pool threads spin-wait for work (ONNX Runtime's default, off here: on 2 cores shared
    with other work, spinning threads took the CPU from the ones with work — 12 clauses/s against 20/s at
    int8 in batches of 8 — while the one- and two-thread pools ran alike without it); ``workers``: forward
    passes run at once on Python threads (each on its own calling thread when ``threads`` is 1), for many
    small batches: no pool thread waits at a barrier for another that the OS has parked."""

    def __init__(
        self,
        path: Path,
        file: str = ONNX_FILE,
        *,
        batch: int = ONNX_BATCH,
        threads: int = 0,
        spin: bool = False,
        workers: int = 1,
    ):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        self.dim = int(config["hidden_size"])
        self.max_seq_length = int(config.get("max_position_embeddings", 512))
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        self.batch = batch
        self.session = ort.InferenceSession(str(path / file), options, providers=["CPUExecutionProvider"])
        # ONNX Runtime runs one session from several threads at once; the fast tokenizer too.
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="onnx") if workers > 1 else None

    def encode(self, texts: list[str], threads: int | None = None) -> np.ndarray:
        """``threads`` is ignored: ONNX Runtime keeps one thread pool per session."""
        if len(texts) > self.batch:
            batches = [texts[i : i + self.batch] for i in range(0, len(texts), self.batch)]
            done = map(self._encode, batches) if self._pool is None else self._pool.map(self._encode, batches)
            return np.concatenate(list(done))
        return self._encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
        }
        tokens = self.session.run(None, feeds)[0]
        return _mean_pool(tokens, feeds["attention_mask"]).astype(np.float32)

    def count_tokens(self, texts: list[str]) -> list[int]:
        self.tokenizer.no_truncation()
        try:
            return [len(e.ids) for e in self.tokenizer.encode_batch(texts)]
        finally:
            self.tokenizer.enable_truncation(self.max_seq_length)


class BareTransformerModel:
    def __init__(self, path: Path):
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a weight-loading bar on every CLI call is noise on stderr
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        self.dim = int(self.model.config.hidden_size)
        self.max_seq_length = min(self.model.config.max_position_embeddings, self.tokenizer.model_max_length)

    def encode(self, texts: list[str], threads: int | None = None) -> np.ndarray:
        import torch

        enc = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="pt"
        )
        with _torch_threads(threads), torch.inference_mode():
            tokens = self.model(**enc).last_hidden_state
        return _mean_pool(tokens.numpy(), enc["attention_mask"].numpy()).astype(np.float32)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(texts)["input_ids"]]


class SentenceTransformerModel:
    def __init__(self, path: Path):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        assert dim is not None
        self.dim = int(dim)
        # sentence-transformers types it int | None; a model with a transformer module has one
        self.max_seq_length = cast(int, self.model.max_seq_length)

    def encode(self, texts: list[str], threads: int | None = None) -> np.ndarray:
        with _torch_threads(threads):
            return self.model.encode(
                texts,
                batch_size=len(texts),
                convert_to_numpy=True,
                normalize_embeddings=False,
                show_progress_bar=False,
            )

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.model.tokenizer(texts)["input_ids"]]


def export_onnx(path: Path) -> Path:
    """Write ``path/model.onnx`` from a bare Hugging Face model folder (run once by scripts/setup.sh)."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            return cast(
                torch.Tensor,
                self.model(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state,
            )

    ids = torch.ones(2, 8, dtype=torch.long)
    target = path / ONNX_FILE
    tmp = target.with_suffix(".onnx.tmp")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*ONNX_INPUTS, "last_hidden_state")}
    torch.onnx.export(
        LastHiddenState(),
        (ids, ids, torch.zeros_like(ids)),
        str(tmp),
        input_names=list(ONNX_INPUTS),
        output_names=["last_hidden_state"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    tmp.replace(target)
    return target


def quantize_int8(path: Path) -> Path:
    """Write ``path/model.int8.onnx`` from ``path/model.onnx`` (run once by scripts/setup.sh, ≈ 5 s).

    Dynamic quantization (int8 weights, activations quantized per batch at run time), per channel: on the
    bundled corpus and the test laws per-tensor scales gave cosine ≥ 0.985 to the fp32 vectors, per-channel
    ones ≥ 0.994, at about the same speed. Measured and not taken (docs/benchmarks.md, "int8 against fp32"):
    ONNX Runtime's transformer optimizer before quantizing (fused attention, LayerNorm and GELU, on a graph
    exported with eager attention: CPU time per clause the same within noise, the session's own graph
    optimizations fuse most of it), and embedding tables kept in float32 (cosine to fp32 min 0.9964 against
    0.9955, but validation R@1 0.742 against 0.774 with the same R@5)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = path / ONNX_FILE
    if not source.is_file():
        raise ConfigError(
            f"{source} is missing: export the model first (python -m policykb.index.models {path})"
        )
    target = path / INT8_FILE
    tmp = target.with_suffix(".onnx.tmp")
    quantize_dynamic(str(source), str(tmp), per_channel=True, weight_type=QuantType.QInt8)
    tmp.replace(target)
    return target


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--int8"]:
        print(quantize_int8(Path(sys.argv[2])))
    else:
        print(export_onnx(Path(sys.argv[1])))
