"""Adding one notice to a large knowledge base: time and peak RSS of the write, phase by phase; prints a table.

    .venv/bin/python bench/bench_add_notice.py                      # 100,000 clauses
    .venv/bin/python bench/bench_add_notice.py --clauses 1000000

The knowledge base is ``bench_search.py``'s synthetic corpus (the laws of ``tests/data/external/``
replicated, with perturbed vectors), built in a child process of its own; a second child opens it with the
real embedder and adds one more replica of the first law (a new doc_id, so every clause of it is new), as
``policykb ingest`` of one file does. Each phase's time and the process's RSS after it and at its peak
(sampled every 50 ms) are printed; the peak of the whole write last.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_search


def rss_mb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


def child_add(work: Path) -> dict:
    from policykb.index import keywords, store, vectors
    from policykb.index.embed import make_embedder
    from policykb.ingest.pipeline import PIPELINE_VERSION

    peak = [0]

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    phases: list[dict] = []

    def timed(owner, name: str, label: str) -> None:
        f = getattr(owner, name)

        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            peak[0] = rss_mb()
            t = time.perf_counter()
            out = f(*args, **kwargs)
            after = rss_mb()
            s = round(time.perf_counter() - t, 1)
            phases.append({"phase": label, "s": s, "after": after, "peak": max(peak[0], after)})
            return out

        setattr(owner, name, wrapper)

    timed(store.Writer, "__init__", "writer: the base's clauses")
    timed(store.KnowledgeBase, "_vectors_for", "vectors (reused, new embedded)")
    timed(vectors.FaissStore, "add", "vector index")
    timed(store.KnowledgeBase, "_tokens_for", "tokens (reused, new segmented)")
    timed(keywords.KeywordIndex, "build", "BM25")
    timed(store, "write_generation", "writing the generation")
    settings = bench_search._settings(work / "home")
    docs = bench_search.ingest_folder(bench_search.EXTERNAL)
    doc, clauses = bench_search._replica(*docs[0], 99_999)
    kb = store.KnowledgeBase.open(settings, embedder=make_embedder(settings))
    start_rss = rss_mb()
    t = time.perf_counter()
    with kb.writer() as w:
        w.upsert(doc, clauses, PIPELINE_VERSION)
    write_s = time.perf_counter() - t
    return {
        "clauses_before": kb.clause_count() - len(clauses),
        "added": len(clauses),
        "open_rss": start_rss,
        "write_s": round(write_s, 1),
        "peak": max(p["peak"] for p in phases),
        "phases": phases,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_add":
        print(json.dumps(child_add(Path(argv[1]))))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clauses", type=int, default=100_000, help="clauses in the knowledge base before")
    args = p.parse_args(argv)
    m = bench_search.machine()
    with tempfile.TemporaryDirectory(prefix="policykb-bench-") as tmp:
        print("[embedding]…", file=sys.stderr)
        bench_search.run_child("_embed", tmp)
        print(f"[{args.clauses:,}] build…", file=sys.stderr)
        built = bench_search.run_child("_build", tmp, str(args.clauses))
        print("[one notice] add…", file=sys.stderr)
        cmd = [sys.executable, str(Path(__file__).resolve()), "_add", tmp]
        import subprocess

        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        added = json.loads(done.stdout.strip().splitlines()[-1])
    m["load_end"] = [round(x, 1) for x in bench_search.os.getloadavg()]
    print(bench_search.describe(m))
    print(
        f"one notice ({added['added']} clauses) added to {added['clauses_before']:,} clauses "
        f"({built['index'].get('kind', 'flat')} vector index): {added['write_s']} s, peak RSS {added['peak']:,} MB "
        f"(after open: {added['open_rss']:,} MB)"
    )
    print(f"{'phase':<34}{'s':>8}{'RSS after':>12}{'peak':>10}")
    for ph in added["phases"]:
        print(f"{ph['phase']:<34}{ph['s']:>8}{ph['after']:>9,} MB{ph['peak']:>7,} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
