"""The 文档 Documents page in a real browser (issue 11): open in document lands on the clause, the outline
jumps to a clause, a new version shows what changed, a deleted notice is gone from search.
Fixtures (server, browser, page, shots) in conftest.py; screenshots go to the folder `shots` prints."""

from __future__ import annotations

import pytest
from browser_kit import click_until, go, open_app, settle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SEARCH_BOX = "检索条款 / Search clauses (e.g. 第三十五条, 3.1.2, 收取费用)"
VIEWPORT = {"width": 1400, "height": 1000}  # conftest's page


def search(page, query: str) -> None:
    go(page, "检索 Search", "检索 Search")
    page.get_by_label(SEARCH_BOX).fill(query)
    page.keyboard.press("Enter")
    page.get_by_text("条结果").first.wait_for()
    settle(page)


def in_viewport(page, locator) -> dict[str, float]:
    """The element's box once the page has stopped scrolling to it; asserted to be inside the window."""
    locator.wait_for()
    handle = locator.element_handle()
    page.wait_for_function(
        "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }",
        arg=handle,
        timeout=15_000,
    )
    settle(page)
    box = locator.bounding_box()
    assert box is not None
    assert 0 <= box["y"] and box["y"] + box["height"] <= VIEWPORT["height"], box
    return box


def focused(page):
    return page.locator('[class*="st-key-pkb-c-"]').filter(has_text="▶ ")


def choose(page, selectbox_label: str, option: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has_text=selectbox_label).click()
    page.get_by_role("option", name=option).click()
    settle(page)


def upload(page, path) -> None:
    """Choose ``path`` in the upload page's file box: its ingest button shows once the file is there."""
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(path))
    page.get_by_role("button", name="导入 / ingest").wait_for()
    settle(page)


def test_open_in_document_scrolls_to_the_clause_and_the_outline_jumps(server, page, shots):
    open_app(page, server)
    search(page, "构建人才支撑体系")
    page.screenshot(path=shots / "docs-1-search.png", full_page=True)
    opener = page.get_by_role("button", name="在文档中查看 / open in document").first  # the best hit
    click_until(page, opener, page.get_by_role("heading", name="文档 Documents"))
    page.get_by_text("the cited clause").wait_for()
    clause = focused(page)
    box = in_viewport(page, clause)
    assert box["y"] > 0  # scrolled: the clause is far below the top of this document
    assert clause.inner_text().startswith("▶ (十七) 构建人才支撑体系")
    assert clause.get_by_role("button", name="加入摘录 / add to basket").count() == 1
    assert page.get_by_role("button", name="在文档中查看 / open in document").count() == 0
    scrolled = page.evaluate('document.querySelector("[data-testid=stMain]").scrollTop')
    assert scrolled > 500, scrolled
    page.screenshot(path=shots / "docs-2-landed-on-clause.png")

    toc = page.locator(".st-key-pkb-toc")
    entry = toc.get_by_role("button", name="(十五)", exact=True)
    entry.scroll_into_view_if_needed()
    click_until(page, entry, page.get_by_text("the chosen clause"))
    clause = focused(page)
    in_viewport(page, clause)
    assert "优化包容审慎监管" in clause.inner_text()
    page.screenshot(path=shots / "docs-3-outline-jump.png")
    assert not page.dialogs


V1 = "第一条 平台应当公示收费标准。\n第二条 商家报名截止日期为三月一日。\n第三条 违者取消资格。\n"
V2 = "第一条 平台应当公示收费标准。\n第二条 商家报名截止日期为三月十五日。\n第三条 违者取消资格。\n"


def test_a_new_version_shows_what_changed(server, page, shots, tmp_path):
    first = tmp_path / "version_notice.txt"
    first.write_text(V1, encoding="utf-8")
    second = tmp_path / "version_notice_v2.txt"
    second.write_text(V2, encoding="utf-8")
    open_app(page, server)
    go(page, "添加通知 Add a notice", "添加通知 Add a notice")
    upload(page, first)
    page.get_by_role("button", name="导入 / ingest").click()
    page.get_by_text("导入完成 / ingested").wait_for(timeout=120_000)
    settle(page)
    upload(page, second)
    choose(page, "a new version of", "version-notice")
    page.get_by_role("button", name="导入 / ingest").click()
    code = page.locator('[data-testid="stCode"]').filter(has_text="new version")  # not the first report
    code.wait_for(timeout=120_000)
    settle(page)
    report = code.inner_text()
    assert "new version" in report and "changed: 0 added, 0 removed, 1 changed, 2 unchanged" in report
    page.screenshot(path=shots / "docs-4-upload-new-version.png", full_page=True)
    see = page.get_by_role("button", name="查看变更 / see what changed")
    click_until(page, see, page.get_by_role("heading", name="文档 Documents"))
    changes = page.locator('[data-testid="stExpander"]').filter(has_text="变更 What changed")
    changes.get_by_text("旧 Old: 商家报名截止日期为三月一日。").wait_for()
    text = changes.inner_text()
    assert "1 added" not in text and "0 added, 0 removed, 1 changed, 2 unchanged" in text
    assert "~ 第二条" in text and "新 New: 商家报名截止日期为三月十五日。" in text
    changes.scroll_into_view_if_needed()
    settle(page)
    page.screenshot(path=shots / "docs-5-what-changed.png", full_page=True)
    assert not page.dialogs


def test_a_deleted_document_is_gone_from_search(server, page, shots, tmp_path):
    notice = tmp_path / "delete_me.txt"
    notice.write_text("一、说明\n1. 删除测试专用条款：青蛙跳水比赛报名。\n", encoding="utf-8")
    open_app(page, server)
    go(page, "添加通知 Add a notice", "添加通知 Add a notice")
    upload(page, notice)
    page.get_by_role("button", name="导入 / ingest").click()
    page.get_by_text("导入完成 / ingested").wait_for(timeout=120_000)
    search(page, "青蛙跳水比赛")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("删除测试专用条款").first.wait_for()

    go(page, "文档 Documents", "文档 Documents")
    choose(page, "open a document", "delete_me (delete-me)")
    page.get_by_text("管理 Manage").click()
    delete = page.get_by_role("button", name="删除此文档… / delete this document…")
    click_until(page, delete, page.get_by_text("确定删除《delete_me》"))
    page.screenshot(path=shots / "docs-6-confirm-delete.png", full_page=True)
    yes = page.get_by_role("button", name="确认删除 / yes, delete")
    click_until(page, yes, page.get_by_text("已删除 / deleted: delete_me"))
    settle(page)
    page.screenshot(path=shots / "docs-7-deleted.png", full_page=True)
    assert page.get_by_text("delete_me (delete-me)").count() == 0

    search(page, "青蛙跳水比赛")  # the same query as before: run again, not remembered
    assert main.get_by_text("删除测试专用条款").count() == 0
    page.screenshot(path=shots / "docs-8-search-after-delete.png", full_page=True)
    assert not page.dialogs
