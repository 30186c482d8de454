"""`policykb ui --headless` as a child process, for bench/bench_cold_start.py and tests/e2e/test_browser.py:
start it on a free port, ask Streamlit's health endpoint, stop it with the server it started.

The bench scripts import it as a sibling (`python bench/...` puts bench/ first on sys.path); the e2e test
puts bench/ on sys.path first.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
POLICYKB = Path(sys.executable).with_name("policykb")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_ui(port: int, env: dict[str, str], **popen: Any) -> subprocess.Popen[bytes]:
    """`policykb ui --headless --port PORT` from the checkout, in a session of its own for `stop`;
    `popen` is passed on (stdout, stderr)."""
    return subprocess.Popen(
        [str(POLICYKB), "ui", "--headless", "--port", str(port)],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        **popen,
    )


def healthy(url: str, timeout: float = 1) -> bool:
    """Streamlit at `url` answers its health check with ok."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as r:
            return bool(r.read().strip() == b"ok")
    except OSError:
        return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop `policykb ui` and the Streamlit server it started: signal the whole process group
    (terminating only the `policykb` parent would leave the server running)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            proc.poll()  # reap the parent so an empty group reads as gone
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
