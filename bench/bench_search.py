"""Search and build benchmarks on synthetic corpora of 10k, 100k (and 1M) clauses, policykb against the
naive stack (the same model's vectors in a flat FAISS ``IndexFlatIP``); prints a table.

    .venv/bin/python bench/bench_search.py                                  # 10k and 100k
    .venv/bin/python bench/bench_search.py --sizes 10000,100000,1000000 --markdown docs/benchmarks.md
    .venv/bin/python bench/bench_search.py --clauses 20000 --repeats 2      # one size

Every phase runs in a child process of its own, so peak RSS is per phase: embedding (throughput, once),
then for each size the policykb build (index build, size on disk), the naive build, the policykb query
process (open, warm queries) and the naive query process (open, warm queries, exact top 10).

- Synthetic corpus: every law in ``tests/data/external/`` is ingested, then its clauses are replicated
  under new doc_ids, titles ("…（副本N）"), regions and dates until there are N of them. Only the unique
  texts are embedded (once, timed as the throughput); each replica gets its original's vector plus
  Gaussian noise (norm 0.5, renormalised: cosine ≈ 0.89 to the original), so no two vectors are equal and
  an approximate index has to tell near neighbours apart; made 16,384 rows at a time as the build asks for
  them (as an embedder yields batches), so the build process never holds them all twice. "Index build"
  excludes embedding for both stacks.
- Naive stack: the same vectors under the same keys in ``IndexIDMap(IndexFlatIP)``, written with
  ``faiss.write_index``, read back with ``faiss.read_index``; a query is the same model's vector of the
  question and an exact scan (dense only: it has no keyword side). Ratios are policykb ÷ naive.
- Recall@10: policykb's dense top 10 (its vector index as configured: exact below ``ann_min_clauses``,
  IVF above) against the exact top 10 of the same query vector over the same vectors.
- Embedding throughput: ``Embedder.encode`` sorts texts by length before batching ("length-bucketed");
  "file order" feeds the same model the same batch size without sorting; both on the default backend
  (ONNX Runtime). "torch backend" runs the same model through transformers, length-bucketed, for
  comparison. Each is timed after a warm-up batch.
- Query latency: the dev questions, after one warm-up pass, repeated ``--repeats`` times per mode; the
  query vector is computed for every query (the embedder's LRU cache bypassed), except in the last row.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXTERNAL = REPO / "tests" / "data" / "external"
QUESTIONS = REPO / "tests" / "data" / "eval" / "dev_questions.jsonl"
REGIONS = ("北京市", "上海市", "广东省", "浙江省", "江苏省", "四川省", "湖北省", "福建省", "山东省", "全国")


# -- helpers --------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kb = next(
        int(ln.split()[1])
        for ln in Path("/proc/meminfo").read_text().splitlines()
        if ln.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "load": [round(x, 1) for x in os.getloadavg()],
    }


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


NOISE = 0.5  # norm of the Gaussian noise added to a replica's vector before renormalising
BLOCK = 16_384  # rows of the synthetic vectors made at once (1M × 512 at once would be 2 GB)


def perturbed_block(unique, base, block: int, seed: int):
    """Rows ``block·BLOCK`` … of the synthetic vectors: row i is ``unique[base[i]]`` moved by Gaussian
    noise of norm ≈ ``NOISE`` and renormalised; the same rows every time (seeded by size and block)."""
    import numpy as np

    rng = np.random.default_rng([seed, block])
    part = unique[base[block * BLOCK : (block + 1) * BLOCK]]
    part += rng.standard_normal(part.shape, np.float32) * (NOISE / np.sqrt(part.shape[1]))
    part /= np.linalg.norm(part, axis=1, keepdims=True)
    return part


def save_vectors(path: Path, unique, base, seed: int) -> None:
    """All the synthetic vectors as one ``.npy`` file (for the naive stack), written block by block."""
    import numpy as np

    with open(path, "wb") as f:
        header = {"descr": "<f4", "fortran_order": False, "shape": (len(base), unique.shape[1])}
        np.lib.format.write_array_header_1_0(f, header)
        blocks = range((len(base) + BLOCK - 1) // BLOCK)
        f.writelines(perturbed_block(unique, base, b, seed).tobytes() for b in blocks)


class BenchEmbedder:
    """The real embedder with a vector cache for build and a switch for the query cache.

    ``encode`` returns cached vectors for known texts (replicas) and embeds only the rest;
    ``encode_query`` embeds every time unless ``cache_queries`` (the real embedder's LRU) is on."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.vectors: dict[str, object] = {}
        self.cache_queries = False

    def encode(self, texts: list[str]):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.inner.encode(missing)))
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_query(self, text: str):
        return self.inner.encode_query(text) if self.cache_queries else self.inner.encode([text])[0]


def embed_rates(inner, texts: list[str]) -> tuple[dict, float, float, float]:
    """(vectors by text, clauses/s bucketed, clauses/s in file order with the same batch size, and
    clauses/s bucketed on the transformers (torch) backend, for comparison with ONNX Runtime)."""
    from policykb.index.models import BareTransformerModel

    inner.encode(texts[: inner.batch_size])  # warm-up, so neither timing pays for the first batch
    t = time.perf_counter()
    vectors = dict(zip(texts, inner.encode(texts)))
    bucketed = len(texts) / (time.perf_counter() - t)
    size = inner.batch_size
    t = time.perf_counter()
    for i in range(0, len(texts), size):
        inner.model.encode(texts[i : i + size])
    unbucketed = len(texts) / (time.perf_counter() - t)
    torch_model = BareTransformerModel(inner.path)
    ordered = sorted(texts, key=len)
    torch_model.encode(ordered[:size])
    t = time.perf_counter()
    for i in range(0, len(ordered), size):
        torch_model.encode(ordered[i : i + size])
    torch_rate = len(texts) / (time.perf_counter() - t)
    return vectors, round(bucketed, 1), round(unbucketed, 1), round(torch_rate, 1)


# -- corpora --------------------------------------------------------------------------------------


def ingest_folder(folder: Path, names: tuple[str, ...] = ()) -> list:
    """(Document, clauses) for the notices in ``folder`` (with its manifest), as ``policykb ingest`` does."""
    from policykb.ingest.metadata import load_manifest
    from policykb.ingest.pipeline import ingest_file
    from policykb.ui.ingesting import discover

    files, _ = discover([folder])
    manifest = load_manifest(folder)
    results = [ingest_file(f, manifest.get(f.name)) for f, _ in files if not names or f.name in names]
    return [(r.document, r.clauses) for r in results if r.clauses]


def _replica(doc, clauses, r: int):
    from policykb.ingest.record import Clause, Metadata

    doc_id, title = f"{doc.doc_id}-r{r:03d}", f"{doc.title}（副本{r}）"
    year = 2000 + r % 25
    meta = replace(doc.metadata, region=REGIONS[r % len(REGIONS)], date=f"{year}-{1 + r % 12:02d}-01")
    fields = ("issuer", "region", "platform", "date", "doc_type")
    clause_meta = Metadata(**{f: getattr(meta, f) for f in fields})
    new = [
        Clause.create(
            doc_id=doc_id,
            title=title,
            label=c.label,
            section_path=c.section_path,
            text=c.text,
            original=c.original,
            source=c.source,
            metadata=clause_meta,
            seq=c.seq,
            part=c.part,
            occurrence=i,
        )
        for i, c in enumerate(clauses)
    ]
    return replace(doc, doc_id=doc_id, title=title, metadata=meta, n_clauses=len(new)), new


def replicate(docs: list, target: int) -> list:
    """Copies of ``docs`` with varied ids, titles and metadata, until there are ``target`` clauses."""
    out, total, r = [], 0, 0
    while total < target:
        for doc, clauses in docs:
            out.append(_replica(doc, clauses, r))
            total += len(clauses)
            if total >= target:
                break
        r += 1
    return out


# -- child processes ------------------------------------------------------------------------------


def _settings(home: Path):
    from policykb.config import DEFAULT_MODEL_DIR, Settings

    return Settings.load(home=home, embedding_model=DEFAULT_MODEL_DIR)


def child_embed(work: Path) -> dict:
    """Embed the unique texts of the laws (timed), saved to ``work`` for the builds of every size."""
    import numpy as np

    from policykb.index.embed import make_embedder

    inner = make_embedder(_settings(work / "home"))
    t = time.perf_counter()
    docs = ingest_folder(EXTERNAL)
    ingest_s = time.perf_counter() - t
    texts = list(dict.fromkeys(c.embedding_text for _, cs in docs for c in cs))
    vectors, bucketed, unbucketed, torch_rate = embed_rates(inner, texts)
    np.save(work / "unique.npy", np.stack([vectors[t] for t in texts]))
    (work / "unique.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    return {
        "unique_texts": len(texts),
        "ingest_s": round(ingest_s, 2),
        "embed_bucketed": bucketed,
        "embed_unbucketed": unbucketed,
        "embed_torch": torch_rate,
        "backend": type(inner.model).__name__,
    }


class ReplicaEmbedder(BenchEmbedder):
    """Build-time vectors of the synthetic corpus: each clause's row of the perturbed vectors, made a block
    at a time as the build asks for them (as a real embedder makes them batch by batch): the build process
    never holds them all beside its own matrix. Texts are looked up by their hash (no second copy)."""

    def __init__(self, inner, rows: dict[int, int], unique, base, seed: int):
        super().__init__(inner)
        self.rows, self.unique, self.base, self.seed = rows, unique, base, seed
        self.block: tuple[int, object] | None = None

    def encode(self, texts: list[str]):
        import numpy as np

        rows = np.fromiter((self.rows[hash(t)] for t in texts), np.int64, len(texts))
        out = np.empty((len(rows), self.dim), np.float32)
        for block in np.unique(rows // BLOCK).tolist():
            if self.block is None or self.block[0] != block:
                self.block = (block, perturbed_block(self.unique, self.base, block, self.seed))
            at = np.flatnonzero(rows // BLOCK == block)
            out[at] = self.block[1][rows[at] - block * BLOCK]
        return out


def _original_text(c) -> str:
    head = " > ".join([c.title.rsplit("（副本", 1)[0], *c.section_path])
    return f"{head}\n{c.label} {c.text}".strip()


def _corpus(work: Path, target: int):
    """(documents with clauses, the unique vectors, the unique row of each clause in order) of ``target``
    clauses; row i's vector is ``perturbed_block`` of its block."""
    import numpy as np

    unique = np.load(work / "unique.npy")
    row_of = {t: i for i, t in enumerate(json.loads((work / "unique.json").read_text(encoding="utf-8")))}
    docs = replicate(ingest_folder(EXTERNAL), target)
    base = np.fromiter((row_of[_original_text(c)] for _, cs in docs for c in cs), np.int64)
    return docs, unique, base


def child_build(work: Path, target: int) -> dict:
    import numpy as np

    from policykb.index.embed import make_embedder
    from policykb.index.store import KnowledgeBase
    from policykb.index.vectors import clause_key
    from policykb.ingest.pipeline import PIPELINE_VERSION

    settings = _settings(work / "home")
    docs, unique, base = _corpus(work, target)
    clauses = [c for _, cs in docs for c in cs]
    keys = np.fromiter((clause_key(c.clause_id) for c in clauses), np.int64, len(clauses))
    np.save(work / "keys.npy", keys)
    save_vectors(work / "vectors.npy", unique, base, target)  # for the naive stack: the very same vectors
    rows = {hash(c.embedding_text): i for i, c in enumerate(clauses)}
    emb = ReplicaEmbedder(make_embedder(settings), rows, unique, base, target)
    n_clauses = len(clauses)
    del clauses
    kb = KnowledgeBase.open(settings, embedder=emb, fresh=True)
    t = time.perf_counter()
    with kb.writer(fresh=True) as w:
        for doc, cs in docs:
            w.upsert(doc, cs, PIPELINE_VERSION)
    build_s = time.perf_counter() - t
    return {
        "clauses": n_clauses,
        "documents": len(docs),
        "build_s": round(build_s, 2),
        "size_mb": round(dir_size(work / "home") / 2**20, 1),
        "index": kb.manifest.get("vector_index", {}),
        "peak_rss_mb": peak_rss_mb(),
    }


def child_naive_build(work: Path) -> dict:
    import faiss
    import numpy as np

    keys, matrix = np.load(work / "keys.npy"), np.load(work / "vectors.npy", mmap_mode="r")
    t = time.perf_counter()
    index = faiss.IndexIDMap(faiss.IndexFlatIP(matrix.shape[1]))
    index.add_with_ids(np.ascontiguousarray(matrix, dtype=np.float32), keys)
    faiss.write_index(index, str(work / "naive.faiss"))
    build_s = time.perf_counter() - t
    return {
        "build_s": round(build_s, 2),
        "size_mb": round((work / "naive.faiss").stat().st_size / 2**20, 1),
        "peak_rss_mb": peak_rss_mb(),
    }


def _percentiles(ms: list[float]) -> list[float]:
    q = statistics.quantiles(ms, n=20, method="inclusive")
    return [round(statistics.median(ms), 1), round(q[18], 1)]


def _timed(run, items: list, repeats: int) -> list[float]:
    """p50 / p95 ms of ``run(item)`` over ``repeats`` passes, after one warm-up pass."""
    for item in items:
        run(item)
    ms = []
    for _ in range(repeats):
        for item in items:
            t = time.perf_counter()
            run(item)
            ms.append((time.perf_counter() - t) * 1000)
    return _percentiles(ms)


def child_query(work: Path, repeats: int) -> dict:
    from policykb.index.embed import make_embedder
    from policykb.index.store import KnowledgeBase
    from policykb.index.vectors import clause_key
    from policykb.qa.evaluation import load_questions

    settings = _settings(work / "home")
    emb = BenchEmbedder(make_embedder(settings))
    t = time.perf_counter()
    kb = KnowledgeBase.open(settings, embedder=emb)
    open_s = time.perf_counter() - t
    queries = [q.q for q in load_questions(QUESTIONS)]
    out: dict = {"open_s": round(open_s, 2), "queries": len(queries) * repeats}
    for label, mode in (("hybrid", "hybrid"), ("bm25", "bm25"), ("dense", "dense")):
        out[label] = _timed(lambda q, m=mode: kb.search(q, k=10, mode=m), queries, repeats)
    emb.cache_queries = True
    out["hybrid_cached"] = _timed(lambda q: kb.search(q, k=10), queries, repeats)
    dense = [
        {
            "text": kb.prepare(q).dense_text,
            "keys": [clause_key(h.clause.clause_id) for h in kb.search(q, mode="dense")],
        }
        for q in queries
    ]
    (work / "dense.json").write_text(json.dumps(dense, ensure_ascii=False), encoding="utf-8")
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def child_naive_query(work: Path, repeats: int) -> dict:
    """The naive stack's open and dense queries; recall@10 of policykb's dense top 10 (``dense.json``)
    against this exact scan of the same query vectors."""
    import faiss

    from policykb.index.embed import make_embedder

    inner = make_embedder(_settings(work / "home"))
    t = time.perf_counter()
    index = faiss.read_index(str(work / "naive.faiss"))
    open_s = time.perf_counter() - t
    faiss.omp_set_num_threads(1)  # as policykb searches: one query at a time
    dense = json.loads((work / "dense.json").read_text(encoding="utf-8"))
    texts = [d["text"] for d in dense]
    out: dict = {"open_s": round(open_s, 2)}
    out["dense"] = _timed(lambda q: index.search(inner.encode([q]), 10), texts, repeats)
    hits = [
        len(set(d["keys"]) & set(index.search(inner.encode([d["text"]]), 10)[1][0].tolist())) for d in dense
    ]
    out["recall"] = round(sum(hits) / (10 * len(dense)), 3)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run_child(*args: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_size(work: Path, target: int, repeats: int) -> dict:
    """Build and query both stacks at ``target`` clauses; the work files of the size are removed after."""
    out = {}
    for phase, args in (
        ("build", ("_build", str(work), str(target))),
        ("naive_build", ("_naive_build", str(work))),
        ("query", ("_query", str(work), str(repeats))),
        ("naive_query", ("_naive_query", str(work), str(repeats))),
    ):
        print(f"[{target:,}] {phase}…", file=sys.stderr)
        out[phase] = run_child(*args)
    for name in ("home", "naive.faiss", "vectors.npy", "keys.npy", "dense.json"):
        path = work / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    return out


# -- output ---------------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "—"


def _triple(pk: float, naive: float | None, fmt: str) -> list[str]:
    if naive is None:
        return [fmt.format(pk), "—", "—"]
    return [fmt.format(pk), fmt.format(naive), _ratio(pk, naive)]


def _latency(pk: list[float], naive: list[float] | None) -> list[str]:
    if naive is None:
        return [f"{pk[0]:.1f} / {pk[1]:.1f} ms", "—", "—"]
    return [f"{pk[0]:.1f} / {pk[1]:.1f} ms", f"{naive[0]:.1f} / {naive[1]:.1f} ms", _ratio(pk[0], naive[0])]


def rows(results: dict[int, dict]) -> list[tuple[str, list[str]]]:
    def each(f) -> list[str]:
        return [
            cell
            for r in results.values()
            for cell in f(r["build"], r["naive_build"], r["query"], r["naive_query"])
        ]

    def index_kind(b: dict) -> str:
        i = b["index"]
        return (
            f"IVF {i['codes']}, {i['nlist']:,} lists, {i['nprobe']} probed"
            if i.get("kind") == "ivf"
            else "exact (flat)"
        )

    return [
        (
            "clauses / documents",
            each(lambda b, nb, q, nq: [f"{b['clauses']:,} / {b['documents']:,}", "", ""]),
        ),
        ("vector index", each(lambda b, nb, q, nq: [index_kind(b), "exact (flat)", ""])),
        (
            "index build (vectors given)",
            each(lambda b, nb, q, nq: _triple(b["build_s"], nb["build_s"], "{:.1f} s")),
        ),
        ("build rate", each(lambda b, nb, q, nq: [f"{b['clauses'] / b['build_s']:,.0f} clauses/s", "", ""])),
        ("size on disk", each(lambda b, nb, q, nq: _triple(b["size_mb"], nb["size_mb"], "{:,.0f} MB"))),
        ("open (load + verify)", each(lambda b, nb, q, nq: _triple(q["open_s"], nq["open_s"], "{:.2f} s"))),
        ("query hybrid p50 / p95", each(lambda b, nb, q, nq: _latency(q["hybrid"], None))),
        ("query dense p50 / p95", each(lambda b, nb, q, nq: _latency(q["dense"], nq["dense"]))),
        ("query keyword (BM25) p50 / p95", each(lambda b, nb, q, nq: _latency(q["bm25"], None))),
        ("query hybrid, vector cached", each(lambda b, nb, q, nq: _latency(q["hybrid_cached"], None))),
        ("recall@10 of dense vs exact", each(lambda b, nb, q, nq: [f"{nq['recall']:.3f}", "1.000", ""])),
        (
            "peak RSS, build process",
            each(lambda b, nb, q, nq: _triple(b["peak_rss_mb"], nb["peak_rss_mb"], "{:,.0f} MB")),
        ),
        (
            "peak RSS, query process",
            each(lambda b, nb, q, nq: _triple(q["peak_rss_mb"], nq["peak_rss_mb"], "{:,.0f} MB")),
        ),
    ]


def format_table(results: dict[int, dict], markdown: bool = False) -> str:
    heads = ["", *(f"{h} {n:,}" for n in results for h in ("policykb", "naive", "ratio"))]
    body = rows(results)
    if markdown:
        lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
        return "\n".join(lines + [f"| {name} | " + " | ".join(cells) + " |" for name, cells in body])
    w0 = max(len(name) for name, _ in body)
    widths = [max(len(h), *(len(cells[i]) for _, cells in body)) for i, h in enumerate(heads[1:])]
    lines = [f"{'':<{w0}}  " + "  ".join(f"{h:>{w}}" for h, w in zip(heads[1:], widths))]
    return "\n".join(
        lines
        + [f"{name:<{w0}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths)) for name, cells in body]
    )


def embedding_line(e: dict) -> str:
    return (
        f"embedding ({e['unique_texts']} unique texts, {e['backend']}): policykb length-bucketed "
        f"{e['embed_bucketed']:.0f} clauses/s; file order {e['embed_unbucketed']:.0f} clauses/s; "
        f"naive (torch backend, as sentence-transformers runs it) {e['embed_torch']:.0f} clauses/s; "
        f"ratio {_ratio(e['embed_bucketed'], e['embed_torch'])}"
    )


def describe(m: dict) -> str:
    start, end = (" / ".join(map(str, m.get(k, ()))) for k in ("load", "load_end"))
    return (
        f"machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['ram_gb']} GB RAM; Python {m['python']}; model m3e-small on CPU; "
        f"load average at start {start}, at end {end} (1/5/15 min; above {m['cores']} means other work "
        f"shared the CPU)"
    )


BEGIN, END = "<!-- bench_search.py: begin -->", "<!-- bench_search.py: end -->"


def write_markdown(path: Path, m: dict, embedded: dict, results: dict[int, dict], repeats: int) -> None:
    """Replace the measured block of ``path`` (between the BEGIN/END markers), keeping any notes around it."""
    method = __doc__.split("\n\n", 2)[2].strip()
    block = (
        f"{BEGIN}\nMeasured with `bench/bench_search.py` (repeats = {repeats}) on "
        f"{time.strftime('%Y-%m-%d')}.\n\n{describe(m)}\n\n{embedding_line(embedded)}\n\n"
        f"{format_table(results, markdown=True)}\n\n### Method\n\n{method}\n{END}"
    )
    replace_block(path, BEGIN, END, block)


def replace_block(path: Path, begin: str, end: str, block: str) -> None:
    """Put ``block`` (which starts with ``begin`` and ends with ``end``) where the file's own block between
    those markers is, keeping the rest of the file; at its end when it has none (a new file: a heading)."""
    old = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    if begin in old and end in old:
        text = old[: old.index(begin)] + block + old[old.index(end) + len(end) :]
    else:
        text = old.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


CHILDREN = {
    "_embed": lambda a: child_embed(Path(a[0])),
    "_build": lambda a: child_build(Path(a[0]), int(a[1])),
    "_naive_build": lambda a: child_naive_build(Path(a[0])),
    "_query": lambda a: child_query(Path(a[0]), int(a[1])),
    "_naive_query": lambda a: child_naive_query(Path(a[0]), int(a[1])),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in CHILDREN:  # child process: one JSON line on stdout
        print(json.dumps(CHILDREN[argv[0]](argv[1:])))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000", help="clause counts, comma-separated")
    p.add_argument("--clauses", type=int, help="one size instead of --sizes")
    p.add_argument("--repeats", type=int, default=4, help="passes over the dev questions per mode")
    p.add_argument("--markdown", type=Path, help="also write the table (and method) to this file")
    args = p.parse_args(argv)
    try:
        sizes = [args.clauses] if args.clauses else [int(n) for n in args.sizes.split(",")]
    except ValueError:
        p.error(f"--sizes must be clause counts separated by commas, not {args.sizes!r}")
    m = machine()
    results = {}
    with tempfile.TemporaryDirectory(prefix="policykb-bench-") as tmp:
        print("[embedding]…", file=sys.stderr)
        embedded = run_child("_embed", tmp)
        for n in sizes:
            results[n] = run_size(Path(tmp), n, args.repeats)
            print(format_table(results), file=sys.stderr)  # what is measured so far, should a size fail
    m["load_end"] = [round(x, 1) for x in os.getloadavg()]
    print(describe(m))
    print(embedding_line(embedded))
    print(format_table(results))
    if args.markdown:
        write_markdown(args.markdown, m, embedded, results, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
