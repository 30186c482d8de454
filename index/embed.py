"""Text → L2-normalised float32 vectors.

``SentenceTransformerEmbedder`` runs a local sentence-transformers model on the CPU and never downloads
anything; ``FakeEmbedder`` is a deterministic stand-in for unit tests (hashed character n-grams, so
texts sharing characters have similar vectors).

>>> e = FakeEmbedder(dim=64)
>>> v = e.encode(["电子商务法", "电子商务", "天气"])
>>> v.shape, bool(v[0] @ v[1] > v[0] @ v[2])
((3, 64), True)
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, cast, runtime_checkable

import numpy as np

from policykb.config import Settings
from policykb.errors import ConfigError
from policykb.index.models import load_model
from policykb.ingest.text import search_key

log = logging.getLogger(__name__)

FAKE_MODEL = "fake"
PROGRESS_MIN_TEXTS = 200  # below this a progress bar is noise
QUERY_CACHE_SIZE = 1024
INT8_SUFFIX = "-int8"
# A one-sentence query is too small to share between threads: on 2 busy cores, 2 torch threads took
# 270 ms at p50 where 1 took 28 ms (and 1 is within a few ms of 2 on idle cores). Batches keep the default.
QUERY_THREADS = 1


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row L2-normalised."""

    def encode_query(self, text: str) -> np.ndarray:
        """(dim,) float32, L2-normalised."""


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(m / norms, dtype=np.float32)


class _QueryCache:
    """A small LRU of query vectors: the same question asked twice is embedded once."""

    def __init__(self, size: int = QUERY_CACHE_SIZE):
        self.size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str, compute: Callable[[str], np.ndarray]) -> np.ndarray:
        with self._lock:
            vec = self._items.get(text)
            if vec is not None:
                self._items.move_to_end(text)
                return vec
        vec = compute(text)
        vec.setflags(write=False)
        with self._lock:
            self._items[text] = vec
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return vec


class FakeEmbedder:
    """Hashed character unigrams and bigrams of the search key, normalised. Fast and deterministic."""

    def __init__(self, dim: int = 64):
        self.dim = dim
        self.name = f"{FAKE_MODEL}-{dim}"
        self.calls = 0  # texts embedded so far; tests use it to check the embedding cache

    def _vector(self, text: str) -> np.ndarray:
        key = search_key(text)
        v = np.zeros(self.dim, dtype=np.float32)
        grams = list(key) + [key[i : i + 2] for i in range(len(key) - 1)]
        for g in grams:
            if g.isspace():
                continue
            h = int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        if not v.any():
            v[0] = 1.0
        return v

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise_rows(np.stack([self._vector(t) for t in texts]))

    def encode_query(self, text: str) -> np.ndarray:
        return cast(np.ndarray, self.encode([text])[0])


class SentenceTransformerEmbedder:
    """A local embedding model folder (e.g. m3e-small: BERT, mean pooling, 512-d) on the CPU; the
    backend (ONNX Runtime, transformers or sentence-transformers) is chosen in ``index/models.py``.

    >>> e = SentenceTransformerEmbedder("models/m3e-small")  # doctest: +SKIP
    >>> e.encode_query("直播带货需要什么资质").shape  # doctest: +SKIP
    (512,)
    """

    def __init__(self, path: str | Path, batch_size: int = 32, precision: str = "fp32"):
        path = Path(path)
        if not path.is_dir():
            raise ConfigError(
                f"embedding model not found at {path}; run scripts/setup.sh or set POLICYKB_EMBEDDING_MODEL"
            )
        # Weights are never downloaded at run time: a missing file must fail, not fetch.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        self.path = path
        self.name = model_name(path, precision)
        self.batch_size = batch_size
        self.model = load_model(path, precision)
        self._model_lock = threading.Lock()  # one forward pass at a time; a query waits for one batch at most
        self.dim = self.model.dim
        self._queries = _QueryCache()

    def _encode_batch(self, batch: list[str], threads: int | None = None) -> np.ndarray:
        with self._model_lock:
            return self.model.encode(batch, threads)

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        self._warn_truncation(texts)
        # Length-bucketed batches: neighbours in length pad to nearly the same size.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if len(texts) > PROGRESS_MIN_TEXTS:
            from tqdm import tqdm

            batches = tqdm(batches, desc="embedding", unit="batch")
        for idx in batches:
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return _normalise_rows(out)

    def encode_query(self, text: str) -> np.ndarray:
        return self._queries.get(text, lambda t: _normalise_rows(self._encode_batch([t], QUERY_THREADS))[0])

    def _warn_truncation(self, texts: list[str]) -> None:
        window = self.model.max_seq_length - 2  # [CLS] and [SEP]
        long = [t for t in texts if len(t) > window]  # a CJK character is at least one token
        if not long:
            return
        over = sum(n > window + 2 for n in self.model.count_tokens(long))
        if over:
            log.warning(
                "%d of %d texts exceed the %s window of %d tokens; their ends are not embedded",
                over,
                len(texts),
                self.name,
                window,
            )


def model_name(path: Path, precision: str) -> str:
    """``m3e-small`` or ``m3e-small-int8``: what a generation records, so vectors of the two never mix."""
    return path.name + (INT8_SUFFIX if precision == "int8" else "")


def weights_name(name: str) -> str:
    """The model whose weights produced vectors named ``name`` (``m3e-small-int8`` → ``m3e-small``): what the
    abstention model's dense signals were fitted on; int8 vectors are within cosine 0.006 of fp32 ones."""
    return name.removesuffix(INT8_SUFFIX)


def embedder_name(settings: Settings) -> str:
    """The name the configured embedder will report, without loading it."""
    if str(settings.embedding_model) == FAKE_MODEL:
        return FakeEmbedder().name
    return model_name(Path(settings.embedding_model), settings.embedding_precision)


def make_embedder(settings: Settings) -> Embedder:
    """``embedding_model = "fake"`` → ``FakeEmbedder``; otherwise the local model directory."""
    if str(settings.embedding_model) == FAKE_MODEL:
        return FakeEmbedder()
    return SentenceTransformerEmbedder(
        settings.embedding_model, settings.embedding_batch_size, settings.embedding_precision
    )
