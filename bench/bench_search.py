"""Search and build benchmarks at seed size and on a synthetic corpus of ≥100,000 clauses; prints a table.

    .venv/bin/python bench/bench_search.py                        # seed + 100k, table on stdout
    .venv/bin/python bench/bench_search.py --clauses 20000 --repeats 2
    .venv/bin/python bench/bench_search.py --markdown docs/benchmarks.md

Each scenario runs in two child processes, so peak RSS is per phase: one builds the knowledge base
(ingest, embedding throughput, index build, size on disk), the other opens it and times warm queries.

- Synthetic corpus: every law in ``tests/data/external/`` is ingested, then its clauses are replicated
  under new doc_ids, titles ("…（副本N）"), regions and dates until there are ``--clauses`` of them. Only
  the unique texts are embedded (once, timed as the throughput); replicas reuse those vectors, so "index
  build" excludes embedding in both scenarios and the projected time to embed everything is shown apart.
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


def child_build(home: Path, scenario: str, target: int) -> dict:
    from policykb.index.embed import make_embedder
    from policykb.index.store import KnowledgeBase
    from policykb.ingest.pipeline import PIPELINE_VERSION

    settings = _settings(home)
    inner = make_embedder(settings)
    t = time.perf_counter()
    docs = ingest_folder(settings.corpus) if scenario == "seed" else ingest_folder(EXTERNAL)
    ingest_s = time.perf_counter() - t
    texts = list(dict.fromkeys(c.embedding_text for _, cs in docs for c in cs))
    vectors, bucketed, unbucketed, torch_rate = embed_rates(inner, texts)
    emb = BenchEmbedder(inner)
    if scenario != "seed":
        docs = replicate(docs, target)
        for _, clauses in docs:  # a replica's vector is its original's: the text differs only in title
            for c in clauses:
                emb.vectors[c.embedding_text] = vectors[_original_text(c)]
    else:
        emb.vectors.update(vectors)
    kb = KnowledgeBase.open(settings, embedder=emb, fresh=True)
    t = time.perf_counter()
    with kb.writer(fresh=True) as w:
        for doc, clauses in docs:
            w.upsert(doc, clauses, PIPELINE_VERSION)
    build_s = time.perf_counter() - t
    n = sum(len(cs) for _, cs in docs)
    return {
        "clauses": n,
        "documents": len(docs),
        "unique_texts": len(texts),
        "ingest_s": round(ingest_s, 2),
        "embed_bucketed": bucketed,
        "embed_unbucketed": unbucketed,
        "embed_torch": torch_rate,
        "backend": type(inner.model).__name__,
        "embed_unique_s": round(len(texts) / bucketed, 1),
        "embed_all_projected_s": round(n / bucketed),
        "build_s": round(build_s, 2),
        "size_mb": round(dir_size(home) / 2**20, 1),
        "peak_rss_mb": peak_rss_mb(),
    }


def _original_text(c) -> str:
    head = " > ".join([c.title.rsplit("（副本", 1)[0], *c.section_path])
    return f"{head}\n{c.label} {c.text}".strip()


def _percentiles(ms: list[float]) -> list[float]:
    q = statistics.quantiles(ms, n=20, method="inclusive")
    return [round(statistics.median(ms), 1), round(q[18], 1)]


def child_query(home: Path, repeats: int) -> dict:
    from policykb.index.embed import make_embedder
    from policykb.index.store import KnowledgeBase
    from policykb.qa.evaluation import load_questions

    settings = _settings(home)
    emb = BenchEmbedder(make_embedder(settings))
    t = time.perf_counter()
    kb = KnowledgeBase.open(settings, embedder=emb)
    open_s = time.perf_counter() - t
    queries = [q.q for q in load_questions(QUESTIONS)]
    out = {"open_s": round(open_s, 2), "queries": len(queries) * repeats}
    runs = (
        ("hybrid", "hybrid", False),
        ("bm25", "bm25", False),
        ("dense", "dense", False),
        ("hybrid_cached", "hybrid", True),
    )
    for label, mode, cached in runs:
        emb.cache_queries = cached
        for q in queries:  # warm-up: jieba, the query vocabulary, the query cache when it is on
            kb.search(q, k=10, mode=mode)
        ms = []
        for _ in range(repeats):
            for q in queries:
                t = time.perf_counter()
                kb.search(q, k=10, mode=mode)
                ms.append((time.perf_counter() - t) * 1000)
        out[label] = _percentiles(ms)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run_child(*args: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_scenario(scenario: str, target: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"policykb-bench-{scenario}-") as tmp:
        print(f"[{scenario}] building…", file=sys.stderr)
        built = run_child("_build", tmp, scenario, str(target))
        print(f"[{scenario}] querying…", file=sys.stderr)
        return {"build": built, "query": run_child("_query", tmp, str(repeats))}


# -- output ---------------------------------------------------------------------------------------


def rows(results: dict[str, dict]) -> list[tuple[str, list[str]]]:
    def each(f):
        return [f(r["build"], r["query"]) for r in results.values()]

    return [
        ("clauses / documents", each(lambda b, q: f"{b['clauses']:,} / {b['documents']:,}")),
        ("unique texts embedded", each(lambda b, q: f"{b['unique_texts']:,}")),
        ("embedding, length-bucketed", each(lambda b, q: f"{b['embed_bucketed']:.0f} clauses/s")),
        ("embedding, file order", each(lambda b, q: f"{b['embed_unbucketed']:.0f} clauses/s")),
        ("embedding, torch backend, bucketed", each(lambda b, q: f"{b['embed_torch']:.0f} clauses/s")),
        ("embedding time, unique texts", each(lambda b, q: f"{b['embed_unique_s']:.1f} s")),
        ("embedding time, all (projected)", each(lambda b, q: _duration(b["embed_all_projected_s"]))),
        ("ingest (files → clauses)", each(lambda b, q: f"{b['ingest_s']:.2f} s")),
        ("index build (vectors given)", each(lambda b, q: f"{b['build_s']:.2f} s")),
        ("index size on disk", each(lambda b, q: f"{b['size_mb']:.1f} MB")),
        ("open (load + verify)", each(lambda b, q: f"{q['open_s']:.2f} s")),
        *[
            (f"{name} p50 / p95", each(lambda b, q, k=key: f"{q[k][0]:.1f} / {q[k][1]:.1f} ms"))
            for name, key in LATENCY_ROWS
        ],
        ("peak RSS, build process", each(lambda b, q: f"{b['peak_rss_mb']:,.0f} MB")),
        ("peak RSS, query process", each(lambda b, q: f"{q['peak_rss_mb']:,.0f} MB")),
    ]


LATENCY_ROWS = (
    ("query hybrid", "hybrid"),
    ("query bm25 only", "bm25"),
    ("query dense only", "dense"),
    ("query hybrid, vector cached", "hybrid_cached"),
)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def format_table(results: dict[str, dict], markdown: bool = False) -> str:
    heads = ["", *results]
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


def describe(m: dict) -> str:
    start, end = (" / ".join(map(str, m.get(k, ()))) for k in ("load", "load_end"))
    return (
        f"machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['ram_gb']} GB RAM; Python {m['python']}; model m3e-small on CPU; "
        f"load average at start {start}, at end {end} (1/5/15 min; above {m['cores']} means other work "
        f"shared the CPU)"
    )


BEGIN, END = "<!-- bench_search.py: begin -->", "<!-- bench_search.py: end -->"


def write_markdown(path: Path, m: dict, results: dict[str, dict], repeats: int) -> None:
    """Replace the measured block of ``path`` (between the BEGIN/END markers), keeping any notes around it."""
    method = __doc__.split("\n\n", 2)[2].strip()
    block = (
        f"{BEGIN}\nMeasured with `bench/bench_search.py` (repeats = {repeats}) on "
        f"{time.strftime('%Y-%m-%d')}.\n\n{describe(m)}\n\n{format_table(results, markdown=True)}\n\n"
        f"### Method\n\n{method}\n{END}"
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("_build", "_query"):  # child process: one JSON line on stdout
        result = (
            child_build(Path(argv[1]), argv[2], int(argv[3]))
            if argv[0] == "_build"
            else child_query(Path(argv[1]), int(argv[2]))
        )
        print(json.dumps(result))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clauses", type=int, default=100_000, help="size of the synthetic corpus (0: seed only)")
    p.add_argument("--repeats", type=int, default=4, help="passes over the dev questions per mode")
    p.add_argument("--markdown", type=Path, help="also write the table (and method) to this file")
    args = p.parse_args(argv)
    m = machine()
    results = {"seed corpus": run_scenario("seed", 0, args.repeats)}
    if args.clauses > 0:
        results[f"synthetic ≥{args.clauses:,}"] = run_scenario("synthetic", args.clauses, args.repeats)
    m["load_end"] = [round(x, 1) for x in os.getloadavg()]
    print(describe(m))
    print(format_table(results))
    if args.markdown:
        write_markdown(args.markdown, m, results, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
