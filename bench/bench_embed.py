"""Embedding throughput: policykb's embedder (ONNX Runtime, fp32 and int8) against plain sentence-transformers
on the same texts and the same model, in one run; prints a table of clauses/s, ratios and query latency.

    .venv/bin/python bench/bench_embed.py                          # all clauses of the test corpus
    .venv/bin/python bench/bench_embed.py --sweep 120              # + threads × batch size, on 120 texts
    .venv/bin/python bench/bench_embed.py --rounds 3               # each contender 3 times, interleaved
    .venv/bin/python bench/bench_embed.py --markdown docs/benchmarks.md

Texts: ``Clause.embedding_text`` of every clause of ``corpus/``, ``tests/data/external/`` and
``tests/data/external2/`` (distinct texts, what ``policykb ingest`` embeds), in file order. Each contender runs
in its own child process (no thread pool or import of one affects the next), loads the model (timed apart),
embeds one warm-up batch, then all the texts once. With ``--rounds N`` the contenders run in turn N times
(naive, fp32, int8, …, naive, …) and each one's median rate is reported (every round's in brackets),
so that a burst of other work on a shared machine does not land on one contender only. CPU ms per clause
(of that median round) is the child's own CPU time, all its threads, which moves less than the wall clock
when other work shares the cores.

- naive: ``SentenceTransformer(models/m3e-small).encode(texts)`` with its defaults (batch 32; it sorts by
  length itself), torch on the CPU: what a plain sentence-transformers stack does.
- policykb fp32 / int8: ``SentenceTransformerEmbedder.encode`` with ``embedding_precision`` fp32 / int8 (texts
  sorted by length, ONNX Runtime, the batch size and threads of ``index/models.py``).
- int8, one 2-thread pool: the same int8 model as ONNX Runtime's intra-op pool of 2 threads runs it, one
  text per forward pass (how policykb ran it before the 2 workers of one thread each).
- int8, tables fp32: a variant made here in a temporary folder (only the matrix products quantized, the
  embedding tables left in float32), run like int8; measured, not shipped.

Query latency: each dev question embedded alone (no cache), after a warm-up pass; p50 in ms.
``--sweep`` times the ONNX model directly for intra-op threads 1 and 2 (and 2 with ONNX Runtime's
spin-waiting pool threads, and 1 thread on each of 2 workers running batches at once) × batch sizes 1–32 on
the same texts (sorted by length): how ``ONNX_BATCH``, ``INT8_BATCH`` and the threads of
``index/models.py`` were chosen.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from bench_search import machine, replace_block

REPO = Path(__file__).resolve().parent.parent
FOLDERS = (REPO / "corpus", REPO / "tests" / "data" / "external", REPO / "tests" / "data" / "external2")
QUESTIONS = REPO / "tests" / "data" / "eval" / "dev_questions.jsonl"
CONTENDERS = ("naive", "fp32", "int8-pool", "int8", "int8-tables")
LABELS = {
    "naive": "sentence-transformers (torch)",
    "fp32": "policykb, ONNX fp32",
    "int8-pool": "policykb, ONNX int8, one 2-thread pool",
    "int8": "policykb, ONNX int8 (2 workers × 1 thread)",
    "int8-tables": "ONNX int8, tables fp32 (not shipped)",
}
# (precision, intra-op threads, spin-waiting threads, workers): ONNX Runtime's default (spinning), without
# spinning, and one thread on each of 2 workers.
SWEEP_ROWS = (
    ("fp32", 1, False, 1),
    ("fp32", 2, False, 1),
    ("fp32", 2, True, 1),
    ("fp32", 1, False, 2),
    ("int8", 1, False, 1),
    ("int8", 2, False, 1),
    ("int8", 2, True, 1),
    ("int8", 1, False, 2),
)
SWEEP_BATCHES = (1, 4, 8, 16, 32)
BEGIN, END = "<!-- bench_embed.py: begin -->", "<!-- bench_embed.py: end -->"


def corpus_texts() -> list[str]:
    from policykb.ingest.pipeline import ingest_file
    from policykb.ui.ingesting import discover

    files, _ = discover(list(FOLDERS))
    texts: list[str] = []
    for path, _folder in files:
        texts += [c.embedding_text for c in ingest_file(path).clauses]
    return list(dict.fromkeys(texts))


def questions() -> list[str]:
    return [json.loads(line)["q"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]


def _timed_encode(encode, texts: list[str], warm: int) -> tuple[np.ndarray, float, float]:
    """The vectors, wall seconds and CPU seconds (the process's, all threads) of embedding ``texts``."""
    encode(sorted(texts, key=len)[-warm:])  # warm-up on the longest texts: the arena reaches its size
    t, cpu = time.perf_counter(), time.process_time()
    vectors = encode(texts)
    return np.asarray(vectors, dtype=np.float32), time.perf_counter() - t, time.process_time() - cpu


def _query_ms(encode_one, qs: list[str]) -> float:
    for q in qs:
        encode_one(q)
    times = []
    for q in qs:
        t = time.perf_counter()
        encode_one(q)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def make_tables_fp32(folder: Path) -> Path:
    """The int8 variant with float32 embedding tables in ``folder`` (as ``quantize_int8``, MatMul only)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from policykb.config import DEFAULT_MODEL_DIR
    from policykb.index.models import INT8_FILE, ONNX_FILE

    folder.mkdir()
    for name in ("config.json", "tokenizer.json", ONNX_FILE):
        (folder / name).symlink_to((DEFAULT_MODEL_DIR / name).resolve())
    target = folder / INT8_FILE  # where the int8 precision looks for it
    quantize_dynamic(
        str(folder / ONNX_FILE),
        str(target),
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        weight_type=QuantType.QInt8,
    )
    return folder


def child_contender(kind: str, texts_file: Path, out: Path, variant: Path) -> dict:
    from policykb.config import DEFAULT_MODEL_DIR

    texts = json.loads(texts_file.read_text(encoding="utf-8"))
    t = time.perf_counter()
    if kind == "naive":
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(DEFAULT_MODEL_DIR), device="cpu", local_files_only=True)
        loaded = time.perf_counter() - t

        def encode(ts: list[str]) -> np.ndarray:
            v = model.encode(ts, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
            return np.asarray(v)

        warm = 32
    else:
        from policykb.index.embed import SentenceTransformerEmbedder
        from policykb.index.models import INT8_BATCH, INT8_FILE, OnnxModel

        folder = variant if kind == "int8-tables" else DEFAULT_MODEL_DIR
        embedder = SentenceTransformerEmbedder(folder, precision="fp32" if kind == "fp32" else "int8")
        if kind == "int8-pool":
            embedder.model = OnnxModel(folder, INT8_FILE, batch=INT8_BATCH)
        loaded = time.perf_counter() - t
        encode = embedder.encode
        warm = embedder.batch_size
    vectors, seconds, cpu = _timed_encode(encode, texts, warm)
    np.save(out, vectors)
    query = _query_ms(lambda q: encode([q]), questions())
    imported = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "load_s": loaded,
        "query_ms": query,
        "imports": imported,
    }


def child_sweep(precision: str, threads: int, batch: int, spin: bool, workers: int, texts_file: Path) -> dict:
    from policykb.config import DEFAULT_MODEL_DIR
    from policykb.index.models import INT8_FILE, ONNX_FILE, OnnxModel

    texts = sorted(json.loads(texts_file.read_text(encoding="utf-8")), key=len)
    file = INT8_FILE if precision == "int8" else ONNX_FILE
    model = OnnxModel(DEFAULT_MODEL_DIR, file, batch=batch, threads=threads, spin=spin, workers=workers)
    _, seconds, _ = _timed_encode(model.encode, texts, max(batch, 8))
    return {"seconds": seconds}


def run_child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True, cwd=REPO
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def cosines(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    c = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(c.min()), float(c.mean())


def spread(texts: list[str], n: int) -> list[str]:
    """``n`` of ``texts`` taken evenly across them (all when ``n`` is 0 or not smaller)."""
    if not n or n >= len(texts):
        return texts
    step = len(texts) / n
    return [texts[int(i * step)] for i in range(n)]


def median_run(runs: list[dict], n_texts: int) -> dict:
    """The run of median rate among ``runs`` of one contender, with every run's rate beside it."""
    rates = [n_texts / r["seconds"] for r in runs]
    mid = sorted(range(len(runs)), key=lambda i: rates[i])[(len(runs) - 1) // 2]
    return {**runs[mid], "rate": rates[mid], "rates": rates}


def measure(texts: list[str], sweep: int, rounds: int = 1) -> dict:
    """Every contender on ``texts`` ``rounds`` times, in turn; with ``sweep`` > 0, the sweep on that many."""
    results: dict = {"contenders": {}, "sweep": {}}
    with tempfile.TemporaryDirectory(prefix="policykb-bench-embed-") as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        sweep_file = Path(tmp) / "sweep.json"
        sweep_file.write_text(json.dumps(spread(texts, sweep), ensure_ascii=False), encoding="utf-8")
        variant = make_tables_fp32(Path(tmp) / "tables-fp32")
        runs: dict[str, list[dict]] = {kind: [] for kind in CONTENDERS}
        vectors = {}
        for round_ in range(rounds):
            for kind in CONTENDERS:
                out = Path(tmp) / f"{kind}.npy"
                r = run_child("_contender", kind, str(texts_file), str(out), str(variant))
                runs[kind].append(r)
                vectors[kind] = np.load(out)
                rate = len(texts) / r["seconds"]
                print(f"  round {round_ + 1}: {LABELS[kind]}: {rate:.1f} clauses/s", file=sys.stderr)
        for kind in CONTENDERS:
            results["contenders"][kind] = median_run(runs[kind], len(texts))
            results["contenders"][kind]["cosine_to_fp32"] = cosines(vectors[kind], vectors["fp32"])
        if sweep:
            for precision, threads, spin, workers in SWEEP_ROWS:
                for batch in SWEEP_BATCHES:
                    args = (precision, str(threads), str(batch), "spin" if spin else "-", str(workers))
                    r = run_child("_sweep", *args, str(sweep_file))
                    results["sweep"][" ".join(args)] = len(spread(texts, sweep)) / r["seconds"]
                    print(f"  sweep {' '.join(args)}", file=sys.stderr)
    return results


def format_table(n_texts: int, results: dict) -> str:
    c = results["contenders"]
    naive = c["naive"]
    rounds = len(naive["rates"])
    lines = [
        (
            f"| {n_texts:,} distinct clause texts | clauses/s{' (median; all rounds)' if rounds > 1 else ''} | "
            "× naive | CPU ms per clause | × naive, CPU | model load s | query p50 ms | "
            "cosine to fp32, min / mean | imports torch |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in CONTENDERS:
        r = c[kind]
        lo, mean = r["cosine_to_fp32"]
        rate = f"{r['rate']:.1f}" + (f" ({', '.join(f'{x:.1f}' for x in r['rates'])})" if rounds > 1 else "")
        cpu_ms = r["cpu_s"] / n_texts * 1000
        lines.append(
            f"| {LABELS[kind]} | {rate} | {r['rate'] / naive['rate']:.2f} | {cpu_ms:.1f} | "
            f"{naive['cpu_s'] / r['cpu_s']:.2f} | {r['load_s']:.1f} | {r['query_ms']:.1f} | "
            f"{lo:.4f} / {mean:.4f} | {'yes' if 'torch' in r['imports'] else 'no'} |"
        )
    if results["sweep"]:
        lines += [
            "",
            (
                "ONNX model alone, texts sorted by length, clauses/s by intra-op threads × batch size "
                "(spinning: idle pool threads spin-wait, ONNX Runtime's default; policykb turns it off):"
            ),
            "",
            "| precision, threads | " + " | ".join(f"batch {b}" for b in SWEEP_BATCHES) + " |",
            "|---" * (len(SWEEP_BATCHES) + 1) + "|",
        ]
        for precision, threads, spin, workers in SWEEP_ROWS:
            key = f"{precision} {threads} {{}} {'spin' if spin else '-'} {workers}"
            rates = [results["sweep"][key.format(b)] for b in SWEEP_BATCHES]
            name = f"{precision}, {threads}{', spinning' if spin else ''}" + (
                f" on each of {workers} workers" if workers > 1 else ""
            )
            lines.append(f"| {name} | " + " | ".join(f"{r:.1f}" for r in rates) + " |")
    return "\n".join(lines)


def describe(m: dict, end_load: list[float]) -> str:
    load = " / ".join(f"{x:.1f}" for x in m["load"])
    return (
        f"machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; Python {m['python']}; model m3e-small on "
        f"CPU; load average at start {load}, at end {' / '.join(f'{x:.1f}' for x in end_load)} (1/5/15 min; "
        "above 2 means other work shared the CPU)"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_contender":
        print(json.dumps(child_contender(argv[1], Path(argv[2]), Path(argv[3]), Path(argv[4]))))
        return 0
    if argv and argv[0] == "_sweep":
        sweep_args = (argv[1], int(argv[2]), int(argv[3]), argv[4] == "spin", int(argv[5]), Path(argv[6]))
        print(json.dumps(child_sweep(*sweep_args)))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=0, help="embed only this many texts, spread over the corpus")
    p.add_argument(
        "--sweep",
        type=int,
        default=0,
        metavar="N",
        help="also time threads × batch sizes of the ONNX model on N of the texts (0: no sweep)",
    )
    p.add_argument(
        "--rounds", type=int, default=1, help="run the contenders in turn this many times (median)"
    )
    p.add_argument("--markdown", type=Path, help="also write the table between its markers in this file")
    args = p.parse_args(argv)
    m = machine()
    texts = spread(corpus_texts(), args.limit)
    print(f"embedding {len(texts)} texts with each contender", file=sys.stderr)
    results = measure(texts, args.sweep, args.rounds)
    end_load = [round(x, 1) for x in os.getloadavg()]
    table = format_table(len(texts), results)
    print(describe(m, end_load))
    print()
    print(table)
    if args.markdown:
        flags = (
            (f" --limit {args.limit}" if args.limit else "")
            + (f" --rounds {args.rounds}" if args.rounds > 1 else "")
            + (f" --sweep {args.sweep}" if args.sweep else "")
        )
        block = "\n\n".join(
            [
                BEGIN + "\n## Embedding throughput",
                f"Measured with `bench/bench_embed.py{flags}` on {date.today()}.",
                describe(m, end_load),
                table,
                "### Method\n\n" + __doc__.split("\n\n", 2)[2].strip(),
            ]
        )
        replace_block(args.markdown, BEGIN, END, block + "\n" + END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
