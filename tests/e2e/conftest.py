"""What every browser test shares: a `policykb ui` server on the bundled corpus (real model) plus a hostile
notice, Debian's chromium through Playwright, a page per test, and the helpers that wait for Streamlit.

Screenshots go to the folder the `shots` fixture prints.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
sys.path.insert(0, str(Path(__file__).parent))  # browser_kit, for the test modules too

from browser_kit import XSS
from ui_server import CHROMIUM, CHROMIUM_ARGS, POLICYKB, ROOT, free_port, healthy, start_ui, stop

XSS_NOTICE = f"一、说明\n1. 本条用于测试页面安全：{XSS} 应当原样显示。\n2. javascript:alert(2) 也是文字。\n"


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"policykb ui exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        if healthy(url, timeout=2):
            return
        time.sleep(0.5)
    pytest.fail(f"policykb ui not healthy after {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("policykb-home")
    env = {**os.environ, "POLICYKB_HOME": str(home)}
    env.pop("POLICYKB_EMBEDDING_MODEL", None)  # the real model
    xss = tmp_path_factory.mktemp("notices") / "xss_notice.txt"
    xss.write_text(XSS_NOTICE, encoding="utf-8")
    for args in ([], [str(xss)]):  # the bundled corpus, then the hostile notice
        subprocess.run([str(POLICYKB), "ingest", *args], env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    log = home / "ui.log"
    with open(log, "wb") as out:
        proc = start_ui(port, env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail(
            "Debian chromium is not installed: run scripts/setup.sh --test (apt-get install chromium)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: run scripts/setup.sh --test (pip install playwright)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()
