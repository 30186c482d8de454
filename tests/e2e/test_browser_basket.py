"""The 摘录 basket in a real browser: add an answer from Ask and a clause from Search, reload the page —
the basket is still there (its id is in the link); redaction shows what it will remove; the Markdown
export carries the question and answer; another browser starts with an empty basket.

Fixtures and helpers (server, browser, page, shots, open_app, go, settle, click_until): conftest.py.
"""

from __future__ import annotations

import re

import pytest
from browser_kit import click_until, go, open_app, settle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BASKET_LINK = re.compile(r"[?&]basket=([A-Za-z0-9_-]{22})(?:&|$)")


def basket_id(url: str) -> str:
    m = BASKET_LINK.search(url)
    assert m, url
    return m[1]


def test_basket_survives_a_reload_and_is_not_shared(server, browser, page, shots, tmp_path):
    open_app(page, server)
    page.wait_for_url(BASKET_LINK)
    bid = basket_id(page.url)

    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.fill("微视收费吗")
    box.press("Enter")
    add_answer = page.get_by_role("button", name="加入摘录 / add this answer")
    add_answer.wait_for()
    click_until(page, add_answer, page.get_by_role("button", name="回答已在摘录中 / answer in basket"))
    settle(page)
    page.screenshot(path=shots / "b1-ask-answer-added.png", full_page=True)

    go(page, "检索 Search", "检索 Search")
    page.get_by_label("检索条款 / Search clauses (e.g. 第三十五条, 3.1.2, 收取费用)").fill("崔岩")
    page.keyboard.press("Enter")
    page.get_by_text("条结果").first.wait_for()
    settle(page)
    add = page.get_by_role("button", name="加入摘录 / add to basket").first
    click_until(page, add, page.get_by_role("button", name="已在摘录中 / in basket").first)
    settle(page)
    page.screenshot(path=shots / "b2-search-added.png", full_page=True)

    go(page, "摘录 Basket", "摘录 Basket")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("2 条摘录 / excerpts").wait_for()
    page.screenshot(path=shots / "b3-basket.png", full_page=True)

    page.reload()  # a new session at the same link: the Ask page first
    page.get_by_role("heading", name="问答 Ask").wait_for()
    settle(page)
    assert basket_id(page.url) == bid
    go(page, "摘录 Basket", "摘录 Basket")
    main.get_by_text("2 条摘录 / excerpts").wait_for()
    shown = main.inner_text()
    assert "问 Q：微视收费吗" in shown and "崔岩" in shown
    assert "时效 Time: 时效性通知，有效期 2020-03-01 至 2020-06-30（已结束）" in shown  # Search excerpt too
    assert (
        "sidebar" not in shown and "摘录 basket: 2" in page.locator('[data-testid="stSidebar"]').inner_text()
    )
    page.screenshot(path=shots / "b4-basket-after-reload.png", full_page=True)

    page.get_by_text("隐去个人信息 / redact personal data").click()
    preview = page.locator(".st-key-redact-preview")
    preview.get_by_text("导出时将隐去 / to be removed from the exports").wait_for()
    settle(page)
    preview.scroll_into_view_if_needed()
    removed = preview.inner_text()
    assert "姓名 name：崔岩" in removed and "手机号 mobile：18614098051" in removed
    page.screenshot(path=shots / "b5-redaction-preview.png", full_page=True)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Markdown").click()
    target = tmp_path / "excerpts.md"
    dl.value.save_as(target)
    md = target.read_text(encoding="utf-8")
    assert md.startswith("# 条款摘录\n\n## [1] 问题：微视收费吗\n\n回答：\n\n> ")
    assert "18614098051" not in md and "崔岩" not in md and "[姓名已隐去]" in md
    assert "- 时效：时效性通知，有效期 2020-03-01 至 2020-06-30（已结束）" in md
    assert "> 报名入口：<https://docs.qq.com/form/fill/DV1VuSm5uY2FJaUFU#/fill>\n" in md  # as written
    assert "- 来源文件：shenzhen_weishi_2020.txt\n" in md  # the file by name: no path, offsets or ids
    assert "\\" not in md.split("## [2]")[1]  # nothing in that clause needed escaping

    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        stranger = other.new_page()
        stranger.set_default_timeout(60_000)
        open_app(stranger, server)
        stranger.wait_for_url(BASKET_LINK)
        assert basket_id(stranger.url) != bid
        go(stranger, "摘录 Basket", "摘录 Basket")
        stranger.get_by_text("摘录为空 / The basket is empty", exact=False).wait_for()
        stranger.screenshot(path=shots / "b6-another-browser.png", full_page=True)
    finally:
        other.close()
    assert not page.dialogs
