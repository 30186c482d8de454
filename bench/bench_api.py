"""Load on the REST API: requests/s and p50/p99 latency of search and ask at 1, 10 and 50 users.

    .venv/bin/pip install -e '.[bench]'          # locust
    .venv/bin/python bench/bench_api.py                        # prints the table
    .venv/bin/python bench/bench_api.py --markdown docs/benchmarks.md

`policykb serve` runs as a child process on a free loopback port, over a fresh knowledge base of the bundled
corpus (real model), and locust runs headless against it, bounded in time (``--seconds`` per user count,
after a warm-up request of each kind).

Each simulated user picks, without waiting, a search (3 of 4 requests) or an ask (1 of 4) with a question
drawn from the development questions (``tests/data/eval/dev_questions.jsonl``). Latency is measured by the
client, loopback included; p50/p99 are locust's percentiles (rounded to its buckets). Nothing leaves the
machine. Client and server share the 2 cores, so more users mostly measure queueing: requests/s is the number
to read, and it is bounded by the server's one process (``--workers`` splits it across processes).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from bench_search import machine, replace_block
from ui_server import POLICYKB, free_port, stop

QUESTIONS = ROOT / "tests" / "data" / "eval" / "dev_questions.jsonl"
USERS = (1, 10, 50)
BEGIN, END = "<!-- bench_api.py: begin -->", "<!-- bench_api.py: end -->"

LOCUSTFILE = """
import json, random
from locust import FastHttpUser, task, constant

QUESTIONS = [json.loads(l)["q"] for l in open({questions!r}, encoding="utf-8") if l.strip()]

class Officer(FastHttpUser):
    wait_time = constant(0)

    @task(3)
    def search(self):
        self.client.get("/v1/search", params={{"q": random.choice(QUESTIONS), "k": 10}}, name="search")

    @task(1)
    def ask(self):
        self.client.post("/v1/ask", json={{"question": random.choice(QUESTIONS)}}, name="ask")
"""


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"policykb serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=5) as r:
                if json.loads(r.read())["ready"]:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"policykb serve not ready after {timeout}s")


def run_locust(url: str, users: int, seconds: int, folder: Path, locustfile: Path) -> dict[str, dict]:
    prefix = folder / f"u{users}"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("locust")),
            "-f",
            str(locustfile),
            "--headless",
            "--host",
            url,
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "ERROR",
        ],
        check=False,
        capture_output=True,
    )
    rows: dict[str, dict] = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["Name"] in ("search", "ask"):
                rows[row["Name"]] = {
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "rps": float(row["Requests/s"]),
                    "p50": float(row["50%"]),
                    "p99": float(row["99%"]),
                }
    return rows


def measure(seconds: int) -> dict[int, dict[str, dict]]:
    home = Path(tempfile.mkdtemp(prefix="policykb-bench-api-"))
    env = {**os.environ, "POLICYKB_HOME": str(home), "POLICYKB_API_RATE_LIMIT": "0"}
    env.pop("POLICYKB_EMBEDDING_MODEL", None)
    subprocess.run([str(POLICYKB), "ingest"], env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(POLICYKB), "serve", "--port", str(port)], env=env, cwd=ROOT, start_new_session=True
    )
    locustfile = home / "locustfile.py"
    locustfile.write_text(LOCUSTFILE.format(questions=str(QUESTIONS)), encoding="utf-8")
    try:
        wait_ready(url, proc)
        for path in ("/v1/search?q=%E5%BE%AE%E8%A7%86", "/v1/documents"):  # warm-up
            urllib.request.urlopen(url + path, timeout=60).read()
        return {users: run_locust(url, users, seconds, home, locustfile) for users in USERS}
    finally:
        stop(proc)


def format_table(results: dict[int, dict[str, dict]], markdown: bool = False) -> str:
    head = ["users", "route", "requests", "failures", "requests/s", "p50 ms", "p99 ms"]
    rows = [
        [
            str(u),
            name,
            str(r["requests"]),
            str(r["failures"]),
            f"{r['rps']:.1f}",
            f"{r['p50']:.0f}",
            f"{r['p99']:.0f}",
        ]
        for u, by_route in results.items()
        for name, r in by_route.items()
    ]
    if markdown:
        return "\n".join(
            ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            + ["| " + " | ".join(r) + " |" for r in rows]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [head, *rows])


def write_markdown(path: Path, m: dict, results: dict[int, dict[str, dict]], seconds: int) -> None:
    start, end = (" / ".join(map(str, m.get(k, ()))) for k in ("load", "load_end"))
    method = __doc__.split("\n\n", 2)[2].strip() if __doc__ else ""
    block = (
        f"{BEGIN}\n## REST API under load\n\nMeasured with `bench/bench_api.py` ({seconds} s per user count) on "
        f"{time.strftime('%Y-%m-%d')}.\n\nmachine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; "
        f"Python {m['python']}; load average at start {start}, at end {end}\n\n"
        f"{format_table(results, markdown=True)}\n\n### Method\n\n{method}\n{END}"
    )
    replace_block(path, BEGIN, END, block)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--seconds", type=int, default=20, help="how long each user count runs (default 20)")
    p.add_argument("--markdown", type=Path, help="also write the table (and method) to this file")
    args = p.parse_args()
    m = machine()
    results = measure(args.seconds)
    m["load_end"] = [round(x, 1) for x in os.getloadavg()]
    print(format_table(results))
    if args.markdown:
        write_markdown(args.markdown, m, results, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
