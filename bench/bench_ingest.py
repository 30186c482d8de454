"""Ingest throughput: the four seed notices and the fourteen external laws, repeated to at least 5 MB of text.

Runs the real ``ingest_file`` on every file and prints a table of seconds and MB/s (of decoded text, counted as
UTF-8) for each stage of ``policykb.ingest.pipeline`` — load, clean, layout+outline, metadata, split/convert —
and end to end; then the time to ingest a regulation of 1,000 and of 3,000 one-line articles (a case that
once grew with the cube of its length), and the peak memory. Timing lives here, never in a test assertion.

    .venv/bin/python bench/bench_ingest.py [--mb 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from policykb.ingest import pipeline
from policykb.ingest.pipeline import ingest_file, ingest_text

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted((REPO / "corpus").glob("*.txt")) + sorted(
    p for p in (REPO / "tests" / "data" / "external").glob("*.md") if p.name != "SOURCES.md"
)  # 4 seeds, 14 laws
# Which stage each function that ``pipeline._ingest`` / ``ingest_file`` calls belongs to. The functions are
# wrapped in the pipeline module itself, so the timed run is the real ``ingest_file``, whatever its order.
STAGE_OF = {
    "load": "load",
    "clean": "clean",
    "to_lines": "layout+outline",
    "drop_toc": "layout+outline",
    "build_units": "layout+outline",
    "build_outline": "layout+outline",
    "guess": "metadata",
    "metadata_from": "metadata",
    "to_clauses": "split/convert",
    "display_text": "split/convert",
}
STAGES = ("load", "clean", "layout+outline", "metadata", "split/convert")


def prepare(folder: Path, min_mb: float) -> tuple[list[Path], int]:
    """Copies of the sources (distinct names, so every file is read from disk) until ``min_mb`` MB of text."""
    one_round = sum(len(p.read_text(encoding="utf-8").encode("utf-8")) for p in SOURCES)
    copies = math.ceil(min_mb * 1e6 / one_round)
    files = []
    for k in range(copies):
        for src in SOURCES:
            dst = folder / f"{k:03d}_{src.name}"
            shutil.copyfile(src, dst)
            files.append(dst)
    return files, one_round * copies


@contextmanager
def stage_timers(times: dict[str, float]) -> Iterator[None]:
    """Time the pipeline's stage functions while the block runs (nested calls are not counted twice)."""
    originals = {name: getattr(pipeline, name) for name in STAGE_OF if hasattr(pipeline, name)}
    missing = sorted(set(STAGE_OF) - set(originals))
    if missing:
        raise SystemExit(f"bench_ingest: pipeline no longer calls {missing}; update STAGE_OF")
    depth = [0]

    def timed(fn: Callable, stage: str) -> Callable:
        def wrapper(*args, **kwargs):
            if depth[0]:
                return fn(*args, **kwargs)
            depth[0] += 1
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                times[stage] += time.perf_counter() - started
                depth[0] -= 1

        return wrapper

    for name, fn in originals.items():
        setattr(pipeline, name, timed(fn, STAGE_OF[name]))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(pipeline, name, fn)


def short_articles_law(n: int) -> str:
    """A regulation of ``n`` one-line articles, a chapter heading every 100: every article line is a bare
    heading by its length, the case that made the table-of-contents pass cubic (49 s for 3,000)."""
    from policykb.ingest.numbering import int_to_cn

    lines = ["某某管理条例", ""]
    for k in range(1, n + 1):
        if k % 100 == 1:
            lines.append(f"第{int_to_cn(k // 100 + 1)}章 第{k // 100 + 1}部分")
        lines.append(f"第{int_to_cn(k)}条 本条从略。")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=5.0, help="minimum MB of text (default 5)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed rounds; the best is reported (default 3)"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="policykb-bench-") as tmp:
        files, n_bytes = prepare(Path(tmp), args.mb)
        mb = n_bytes / 1e6
        for f in files[: len(SOURCES)]:  # warm up: OpenCC, jieba's dictionary, regexes, the OS page cache
            ingest_file(f)

        best: dict[str, float] = {}
        n_clauses = 0
        for _ in range(args.rounds):
            times = dict.fromkeys(STAGES, 0.0)
            with stage_timers(times):
                started, cpu = time.perf_counter(), time.process_time()
                n_clauses = sum(len(ingest_file(f).clauses) for f in files)
                times["total"] = time.perf_counter() - started
                times["cpu"] = time.process_time() - cpu
            if not best or times["total"] < best["total"]:
                best = times

        tracemalloc.start()
        for f in files[: len(SOURCES)]:
            ingest_file(f)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    total = best["total"]
    best["other"] = total - sum(best[stage] for stage in STAGES)  # hashing, records, warnings
    print(
        f"ingest benchmark: {len(files)} files ({len(SOURCES)} sources x {len(files) // len(SOURCES)}), "
        f"{mb:.2f} MB of text, {n_clauses} clauses; best of {args.rounds} rounds"
    )
    print()
    print(f"{'stage':<16} {'seconds':>9} {'MB/s':>9} {'share':>7}")
    print(f"{'-' * 16} {'-' * 9} {'-' * 9} {'-' * 7}")
    for stage in (*STAGES, "other"):
        s = best[stage]
        print(f"{stage:<16} {s:>9.3f} {mb / s:>9.2f} {s / total:>6.1%}")
    print(f"{'-' * 16} {'-' * 9} {'-' * 9} {'-' * 7}")
    print(f"{'ingest_file':<16} {total:>9.3f} {mb / total:>9.2f} {1:>6.1%}")
    print()
    for n in (1000, 3000):
        text = short_articles_law(n)
        started = time.perf_counter()
        ingest_text(text, source_path="law.txt", doc_id="law")
        print(
            f"a law of {n:,} one-line articles ({len(text.encode()) / 1e3:.0f} KB): {time.perf_counter() - started:.3f} s"
        )
    print()
    # One process on one core: CPU seconds are what "MB/s per core" means, and unlike the wall clock they
    # barely move when other work shares the machine.
    print(
        f"CPU time of that round: {best['cpu']:.3f} s, {mb / best['cpu']:.2f} MB/s per core; "
        f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        f"peak memory: {rss_mb:.0f} MB resident (whole process); "
        f"{traced_peak / 1e6:.1f} MB traced by tracemalloc while ingesting one copy of the {len(SOURCES)} sources"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
