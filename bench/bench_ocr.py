"""OCR engines on scanned seed pages: pages per second on 2 cores and character accuracy, in one run.

Each seed notice in corpus/ is drawn on A4 page images at 200 dpi (``tests/data/loaders/make_scan.py``: the
CJK font setup installs, the first page under a red banner, pages turned by 0, +0.6 and -0.5 degrees), and
every engine reads the same pages:

- ``rapidocr``: rapidocr-onnxruntime (PP-OCRv4 det + rec, models inside the wheel), as ``ingest/ocr.py`` runs
  it (no angle classifier), ONNX Runtime on 2 threads;
- ``tesseract``: Debian tesseract-ocr 5 with tesseract-ocr-chi-sim through pytesseract (``--psm 6`` and the
  default ``--psm 3``), OMP_THREAD_LIMIT=2.

Accuracy is 1 - edit distance / characters of the page's text, whitespace ignored and character widths folded
(NFKC: "，" and "," count as one; ``make_scan.char_accuracy``).
The engines' model loading is not timed. Prints a table and writes it into docs/benchmarks.md.

    .venv/bin/python bench/bench_ocr.py [--pages 8] [--no-write]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_search import machine, replace_block

REPO = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- bench_ocr.py: begin -->", "<!-- bench_ocr.py: end -->"
THREADS = 2


def scan_tools() -> Any:
    path = REPO / "tests" / "data" / "loaders" / "make_scan.py"
    spec = importlib.util.spec_from_file_location("make_scan", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pages(n: int) -> list[tuple[str, Any, str]]:
    """Up to ``n`` pages, taken in turn from each seed: (name, image, text it shows)."""
    scan = scan_tools()
    per_seed = []
    for src in sorted((REPO / "corpus").glob("*.txt")):
        text = src.read_text(encoding="utf-8")
        header = "深圳市商务局文件" if src.name.startswith("shenzhen") else None
        images = scan.scan_pages(text, red_header=header, angles=(0.0, 0.6, -0.5))
        truths = scan.expected_page_texts(text, header)
        per_seed.append(
            [(f"{src.stem} p{i + 1}", im, t) for i, (im, t) in enumerate(zip(images, truths, strict=True))]
        )
    out: list[tuple[str, Any, str]] = []
    for k in range(max(len(p) for p in per_seed)):
        out += [p[k] for p in per_seed if k < len(p)]
    return out[:n]


def rapidocr() -> Callable[[Any], str]:
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR

    from policykb.ingest.ocr import OcrLine, page_text

    engine = RapidOCR(intra_op_num_threads=THREADS, inter_op_num_threads=1)

    def run(image: Any) -> str:
        found, _ = engine(np.asarray(image.convert("RGB")), use_cls=False)
        lines = [
            OcrLine(
                t,
                float(s),
                (min(p[0] for p in b), min(p[1] for p in b), max(p[0] for p in b), max(p[1] for p in b)),
            )
            for b, t, s in found or []
            if float(s) >= 0.5
        ]
        return page_text(lines, image.width)[0]

    return run


def tesseract(psm: int) -> Callable[[Any], str]:
    import pytesseract

    os.environ["OMP_THREAD_LIMIT"] = str(THREADS)

    def run(image: Any) -> str:
        return str(pytesseract.image_to_string(image, lang="chi_sim", config=f"--psm {psm}"))

    return run


ENGINES: dict[str, Callable[[], Callable[[Any], str]]] = {
    "rapidocr-onnxruntime 1.4.4 (PP-OCRv4)": rapidocr,
    "tesseract 5 chi_sim, --psm 6": lambda: tesseract(6),
    "tesseract 5 chi_sim, --psm 3": lambda: tesseract(3),
}


def measure(work: list[tuple[str, Any, str]]) -> list[dict[str, Any]]:
    scan = scan_tools()
    rows = []
    for name, make in ENGINES.items():
        run = make()
        run(work[0][1])  # warm-up: first-call allocations are not a page's cost
        accuracies, start = [], time.perf_counter()
        for _, image, truth in work:
            accuracies.append(scan.char_accuracy(run(image), truth))
        seconds = time.perf_counter() - start
        rows.append(
            {
                "engine": name,
                "pages": len(work),
                "pages_per_s": len(work) / seconds,
                "mean": statistics.mean(accuracies),
                "min": min(accuracies),
                "at_98": sum(a >= 0.98 for a in accuracies),
            }
        )
        print(
            f"{name}: {rows[-1]['pages_per_s']:.3f} pages/s, mean accuracy {rows[-1]['mean']:.4f}",
            file=sys.stderr,
        )
    return rows


def table(rows: list[dict[str, Any]], before: str, after: str) -> str:
    m = machine()
    lines = [
        BEGIN,
        "## OCR engines on scanned seed pages",
        "",
        f"Measured with `bench/bench_ocr.py` on {time.strftime('%Y-%m-%d')}.",
        "",
        (
            f"machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; Python {m['python']}; "
            f"load average at start {before}, at end {after}"
        ),
        "",
        "| engine | pages | pages/s (2 cores) | mean char accuracy | worst page | pages ≥ 98% |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['pages']} | {r['pages_per_s']:.3f} | {r['mean']:.4f} | {r['min']:.4f} "
            f"| {r['at_98']}/{r['pages']} |"
        )
    lines += [
        "",
        "### Method",
        "",
        "Pages drawn from the four seed notices at 200 dpi (A4, 1654×2339 px) in WenQuanYi Zen Hei, the first",
        "page of the Shenzhen notice under a red banner, pages turned by 0, +0.6 and −0.5 degrees; taken in turn",
        "from each seed. Accuracy: 1 − edit distance / characters of the page's text, whitespace ignored and",
        "widths folded (NFKC). The Douyin seed is Traditional Chinese with pinyin tone marks after many characters:",
        "its pages pull both engines' means down. Model loading and a warm-up page are not timed.",
        "ingest/ocr.py uses the engine chosen here (RapidOCR).",
        END,
    ]
    return "\n".join(lines)


def load_average() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=8, help="pages to read with each engine (default 8)")
    p.add_argument("--no-write", action="store_true", help="print the table only; leave docs/benchmarks.md")
    args = p.parse_args(argv)
    work = pages(args.pages)
    before = load_average()
    rows = measure(work)
    block = table(rows, before, load_average())
    print(block)
    if not args.no_write:
        replace_block(REPO / "docs" / "benchmarks.md", BEGIN, END, block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
