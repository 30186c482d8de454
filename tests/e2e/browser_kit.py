"""Helpers for the browser tests: open the app, switch pages, wait for Streamlit to settle, click until
the click has taken effect. The fixtures (server, browser, page, shots) are in conftest.py."""

from __future__ import annotations

XSS = "<img src=x onerror=alert(1)>"


def open_app(page, url: str) -> None:
    page.goto(url)
    page.get_by_text("policykb", exact=True).first.wait_for()
    page.get_by_role("heading", name="问答 Ask").wait_for()


def go(page, label: str, heading: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()
    page.get_by_role("heading", name=heading).wait_for()
    settle(page)


def settle(page) -> None:
    """Wait until Streamlit has finished the current rerun: no stale elements, no skeletons left."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        '() => !document.querySelector(\'[data-stale="true"], [data-testid="stSkeleton"]\')'
        ' && !document.querySelector(\'[data-testid="stStatusWidget"] [data-testid="stSpinner"]\')',
        timeout=60_000,
    )
    page.wait_for_timeout(300)


def click_until(page, button, expected, attempts: int = 3) -> None:
    """Click `button` until `expected` shows: a click that lands while Streamlit is finishing a rerun
    can be dropped with the element it hit, so one click is not proof of one action."""
    for attempt in range(attempts):
        settle(page)
        button.click()
        try:
            expected.wait_for(timeout=15_000)
            return
        except Exception:
            if attempt == attempts - 1:
                raise
