"""The 问答 Ask page in a real browser (fixtures in conftest.py): a click on [n] shows its clause on screen,
below the top bar; on a 390x844 phone screen the answer stays in view after asking and a follow-up is
read with the previous question; choosing a page on a phone closes the sidebar. Screenshots of each step
go to the `shots` folder."""

from __future__ import annotations

import pytest
from browser_kit import open_app, settle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
CLAUSE = "腾讯微视平台对本次活动不收取费用"


@pytest.fixture()
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def ask(page, question: str) -> None:
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.fill(question)
    box.press("Enter")


def top_bar_bottom(page) -> float:
    header = page.locator('[data-testid="stHeader"]').bounding_box()
    return header["y"] + header["height"] if header else 0.0


def on_screen(page, locator, below: float = 0.0, above: float | None = None) -> bool:
    """The whole box of `locator` is between `below` (the top bar) and `above` (default: the viewport's
    bottom), and it is what the browser shows at its centre — nothing lies over it."""
    box = locator.bounding_box()
    height = page.viewport_size["height"] if above is None else above
    if box is None or box["y"] < below or box["y"] + box["height"] > height:
        return False
    return bool(
        locator.evaluate(
            "(e, p) => e.contains(document.elementFromPoint(p.x, p.y))",
            {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2},
        )
    )


def wait_on_screen(page, locator) -> None:
    """Wait until the whole box of `locator` is between the top bar and the viewport's bottom."""
    page.wait_for_function(
        "([e, below]) => { const r = e.getBoundingClientRect(); return r.top >= below && r.bottom <= innerHeight; }",
        arg=[locator.element_handle(), top_bar_bottom(page)],
    )


def wait_at_top(page, locator) -> None:
    """Wait until `locator` has been brought up to just under the top bar (its scroll margin)."""
    below = top_bar_bottom(page)
    page.wait_for_function(
        "([e, below]) => { const top = e.getBoundingClientRect().top; return top >= below && top < below + 40; }",
        arg=[locator.element_handle(), below],
    )


def answer_text(page, turn: int):
    """The answer itself in turn `turn`: the first Markdown (or the not-found warning) of the assistant's
    message."""
    message = page.locator(f".st-key-ask-turn-{turn} [data-testid='stChatMessage']").nth(1)
    return message.locator('[data-testid="stAlert"], [data-testid="stMarkdownContainer"]').first


def chat_box_top(page) -> float:
    box = page.locator(".st-key-ask-input").bounding_box()
    assert box is not None
    return float(box["y"])


def test_a_citation_number_opens_its_clause_below_the_top_bar(server, page, shots):
    open_app(page, server)
    ask(page, "微视收费吗")
    answer = answer_text(page, 0)
    answer.get_by_text("不收取费用").wait_for()
    settle(page)
    page.screenshot(path=shots / "ask-1-answer.png")
    citations = page.locator('[data-testid="stExpander"]').filter(has_text="[")
    first, second = citations.nth(0), citations.nth(1)
    assert not first.locator("details").evaluate("d => d.open")
    page.locator('[data-testid="stChatMessage"] a[href="#cite-0-1"]').first.click()
    page.wait_for_function("location.hash === '#cite-0-1'")
    clause = first.locator('[data-testid="stExpanderDetails"]').get_by_text(CLAUSE).first
    clause.wait_for()
    wait_at_top(page, first)
    assert first.locator("details").evaluate("d => d.open")
    assert first.locator("summary [data-testid=stMarkdownContainer]").inner_text().startswith("[1]")
    assert on_screen(page, first.locator("summary"), below=top_bar_bottom(page))
    assert on_screen(page, clause, below=top_bar_bottom(page))
    page.screenshot(path=shots / "ask-2-cite-1-open.png")
    # [2]: near the end of the page it cannot come up to the top bar, but it opens on screen; [1] stays open
    page.locator('[data-testid="stChatMessage"] a[href="#cite-0-2"]').first.click()
    page.wait_for_function("location.hash === '#cite-0-2'")
    clause = second.locator('[data-testid="stExpanderDetails"]').get_by_text("代运营").first
    clause.wait_for()
    wait_on_screen(page, clause)
    assert second.locator("details").evaluate("d => d.open")
    assert second.locator("summary [data-testid=stMarkdownContainer]").inner_text().startswith("[2]")
    assert on_screen(page, clause, below=top_bar_bottom(page))
    assert first.locator("details").evaluate("d => d.open")
    page.screenshot(path=shots / "ask-3-cite-2-open.png")


def test_on_a_phone_the_answer_stays_in_view_and_a_follow_up_is_understood(server, phone, shots):
    open_app(phone, server)
    side = phone.locator('[data-testid="stSidebar"]')
    assert side.get_attribute("data-collapsed") == "true"  # a phone starts with the sidebar closed
    ask(phone, "微视收费吗")
    answer = answer_text(phone, 0)
    answer.get_by_text("不收取费用").wait_for()
    settle(phone)
    phone.screenshot(path=shots / "phone-1-answer.png")
    assert on_screen(phone, answer, below=top_bar_bottom(phone), above=chat_box_top(phone))
    # related reading comes after the answer, its clauses folded
    related = phone.get_by_text("相关阅读 / related reading").first
    assert related.bounding_box()["y"] > answer.bounding_box()["y"]
    assert phone.locator(".st-key-ask-turn-0 details[open]").count() == 0

    ask(phone, "那抖音呢？")
    phone.get_by_text("理解为 / understood as: 抖音收费吗").wait_for()
    settle(phone)
    phone.screenshot(path=shots / "phone-2-follow-up.png")
    understood = phone.locator(".st-key-ask-turn-1").get_by_text("理解为 / understood as: 抖音收费吗")
    assert on_screen(phone, understood, below=top_bar_bottom(phone), above=chat_box_top(phone))
    second = answer_text(phone, 1)
    assert on_screen(phone, second, below=top_bar_bottom(phone), above=chat_box_top(phone))

    # the switch off: the next follow-up is asked as typed
    phone.get_by_text("结合上一轮 / use the previous question").click()
    settle(phone)
    ask(phone, "那快手呢？")
    phone.locator(".st-key-ask-turn-2").get_by_text("那快手呢？").wait_for()
    settle(phone)
    assert phone.locator(".st-key-ask-turn-2").get_by_text("理解为").count() == 0
    assert on_screen(phone, answer_text(phone, 2), below=top_bar_bottom(phone), above=chat_box_top(phone))
    phone.screenshot(path=shots / "phone-3-switched-off.png")


def test_on_a_phone_choosing_a_page_closes_the_sidebar(server, phone, page, shots):
    open_app(phone, server)
    side = phone.locator('[data-testid="stSidebar"]')
    phone.locator('[data-testid="stExpandSidebarButton"]').click()
    phone.wait_for_function("document.querySelector('[data-testid=stSidebar]').dataset.collapsed === 'false'")
    side.get_by_text("检索 Search", exact=True).wait_for()
    settle(phone)
    phone.screenshot(path=shots / "phone-4-sidebar-open.png")
    side.get_by_text("检索 Search", exact=True).click()
    heading = phone.get_by_role("heading", name="检索 Search")
    heading.wait_for()
    phone.wait_for_function("document.querySelector('[data-testid=stSidebar]').dataset.collapsed === 'true'")
    settle(phone)
    box = side.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0  # off the screen
    assert on_screen(phone, heading)  # nothing lies over the page
    phone.screenshot(path=shots / "phone-5-page-chosen.png")

    # on a wide screen the sidebar stays where it is
    open_app(page, server)
    page.locator('[data-testid="stSidebar"]').get_by_text("检索 Search", exact=True).click()
    page.get_by_role("heading", name="检索 Search").wait_for()
    settle(page)
    assert page.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "false"
    assert page.locator('[data-testid="stSidebar"]').get_by_text("检索 Search", exact=True).is_visible()
    page.screenshot(path=shots / "wide-page-chosen.png")
