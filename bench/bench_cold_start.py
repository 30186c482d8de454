"""Cold start of the app: from starting `policykb ui --headless` to the first cited answer to "微视收费吗" in a
real browser, and the same work in one process without a server.

    .venv/bin/python bench/bench_cold_start.py [--home DIR] [--runs 3]
    .venv/bin/python bench/bench_cold_start.py --first-run [--runs 3]

Without --home a temporary knowledge base is built from the bundled corpus first (not timed). With
--first-run every run starts from an empty POLICYKB_HOME, as on a new machine: the ingest of the bundled
corpus and its embedding are part of the time. Needs Debian chromium and playwright for the browser columns
(scripts/setup.sh --test). Targets: ≤ 3 s with the index built, ≤ 10 s on a first run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ui_server import CHROMIUM, CHROMIUM_ARGS, POLICYKB, ROOT, free_port, healthy, start_ui, stop

QUESTION = "微视收费吗"
IN_PROCESS = """
import time; t0 = time.perf_counter()
from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.qa.answer import answer
from policykb.ui.ingesting import ingest_paths
t1 = time.perf_counter(); settings = Settings.load(); kb = KnowledgeBase.open(settings)
if not kb.documents():
    ingest_paths(kb, [settings.corpus], max_chars=settings.max_clause_chars)
t2 = time.perf_counter(); kb.warm()
t3 = time.perf_counter(); a = answer(kb, QUESTION)
t4 = time.perf_counter()
assert a.citations and "不收取费用" in a.citations[0].clause.text, a.text
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
""".replace("QUESTION", repr(QUESTION))


def one_browser_run(env: dict, browser) -> tuple[float, float, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = start_ui(port, env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not healthy(url):
            if proc.poll() is not None:
                raise SystemExit(f"policykb ui exited with {proc.returncode}")
            time.sleep(0.05)
        t_health = time.perf_counter() - t0
        page = browser.new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        page.get_by_role("heading", name="问答 Ask").wait_for()  # the knowledge base is loaded by now
        t_page = time.perf_counter() - t0
        box = page.locator('[data-testid="stChatInputTextArea"]')
        box.fill(QUESTION)
        box.press("Enter")
        page.locator('[data-testid="stExpander"]').filter(has_text="[1]").first.wait_for()
        t_answer = time.perf_counter() - t0
        page.close()
        return t_health, t_page, t_answer
    finally:
        stop(proc)


def in_process_run(env: dict) -> tuple[float, float, float, float, float]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", IN_PROCESS], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    total = time.perf_counter() - t0
    imports, ingest, load, ask = map(float, out[-4:])
    return imports, ingest, load, ask, total


def fresh_home(env: dict, first_run: bool) -> dict:
    """``env`` itself, or with a new empty POLICYKB_HOME for a first run."""
    return {**env, "POLICYKB_HOME": tempfile.mkdtemp(prefix="policykb-first-")} if first_run else env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, help="POLICYKB_HOME with a built knowledge base")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--first-run", action="store_true", help="each run from an empty knowledge base")
    args = ap.parse_args()
    env = {**os.environ}
    env.pop("POLICYKB_EMBEDDING_MODEL", None)
    target = 10 if args.first_run else 3
    print(f"load average at start: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.home:
        env["POLICYKB_HOME"] = str(args.home)
    elif not args.first_run:
        env["POLICYKB_HOME"] = tempfile.mkdtemp(prefix="policykb-bench-")
        print(
            f"building a knowledge base from corpus/ in {env['POLICYKB_HOME']} (not timed)", file=sys.stderr
        )
        subprocess.run([str(POLICYKB), "ingest"], env=env, cwd=ROOT, check=True, capture_output=True)

    print(f"\nin one process (python start → imports → open (+ ingest) → warm → answer({QUESTION!r}))")
    print(
        f"{'run':>3}  {'imports s':>9}  {'open+ingest s':>13}  {'warm s':>6}  {'answer s':>8}  {'total s':>7}"
    )
    for i in range(1, args.runs + 1):
        imports, ingest, load, ask, total = in_process_run(fresh_home(env, args.first_run))
        print(f"{i:>3}  {imports:>9.2f}  {ingest:>13.2f}  {load:>6.2f}  {ask:>8.2f}  {total:>7.2f}")

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("\nbrowser runs skipped: playwright is not installed (scripts/setup.sh --test)")
        return
    print("\n`policykb ui --headless` in chromium (seconds since the process started)")
    print(f"{'run':>3}  {'health ok':>9}  {'page ready':>10}  {'first answer':>12}  {f'≤ {target} s':>6}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for i in range(1, args.runs + 1):
            health, page, first = one_browser_run(fresh_home(env, args.first_run), browser)
            ok = "yes" if first <= target else "no"
            print(f"{i:>3}  {health:>9.2f}  {page:>10.2f}  {first:>12.2f}  {ok:>6}")
        browser.close()
    print(f"load average at end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
