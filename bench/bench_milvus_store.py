"""The Milvus store (Milvus Lite in a temporary folder) against FAISS at the store level: building, searching
with and without an allowed-key filter, and reading every vector back (what the next commit does). Random
normalised vectors; prints a table.

    .venv/bin/python bench/bench_milvus_store.py [N] [DIM]
"""

from __future__ import annotations

import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from policykb.config import Settings
from policykb.index.milvus import MilvusStore
from policykb.index.vectors import FaissStore, VectorStore

QUERIES = 20
K = 50  # SearchParams.depth: what the dense signal asks for


def timed(run: object) -> float:
    start = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    dim = int(sys.argv[2]) if len(sys.argv) > 2 else 512
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = rng.integers(0, 2**62, n)
    queries = vectors[:QUERIES] + 0.01
    home = Path(tempfile.mkdtemp(prefix="policykb-milvus-"))
    milvus = MilvusStore.configured(Settings.load(home=home, vector_store="milvus"))(dim, generation=1)
    faiss = FaissStore(dim)
    print(
        f"milvus-lite {metadata.version('milvus-lite')}, pymilvus {metadata.version('pymilvus')}; {n} x {dim}"
    )
    print(f"{'store':8} {'build s':>8} {'search ms':>10} {'half allowed ms':>16} {'read all s':>11}")
    stores: list[tuple[str, VectorStore]] = [("faiss", faiss), ("milvus", milvus)]
    for name, store in stores:
        build = timed(lambda s=store: (s.add(keys, vectors), s.save()))
        plain = timed(lambda s=store: [s.search(q, K) for q in queries]) / QUERIES
        half = timed(lambda s=store: [s.search(q, K, keys[: n // 2]) for q in queries]) / QUERIES
        read = timed(store.vectors)
        print(f"{name:8} {build:8.1f} {plain * 1000:10.1f} {half * 1000:16.1f} {read:11.1f}")
    same = all(
        [k for k, _ in faiss.search(q, K, keys[: n // 2])]
        == [k for k, _ in milvus.search(q, K, keys[: n // 2])]
        for q in queries
    )
    print(f"same top {K} with half the keys allowed, {QUERIES} queries: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
