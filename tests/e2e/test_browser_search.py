"""The 检索 Search page in a real browser on the bundled corpus (real model): a word no notice has is said
to be in no clause, with a short, labelled list related by meaning; so is an article no notice has; a partial region name filters and is
described in words. Screenshots go to the folder the `shots` fixture prints.
"""

from __future__ import annotations

import re

import pytest
from browser_kit import go, open_app, settle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

QUERY = "检索条款 / Search clauses (e.g. 第三十五条, 3.1.2, 收取费用)"


def _search(page, query: str) -> None:
    page.get_by_label(QUERY).fill(query)
    page.keyboard.press("Enter")
    page.get_by_text("条结果包含检索词或条款号").first.wait_for()
    settle(page)


def test_a_word_no_notice_has_is_said_to_be_in_no_clause(server, page, shots):
    open_app(page, server)
    go(page, "检索 Search", "检索 Search")
    _search(page, "退税")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("没有条款包含“退税” / no clause contains “退税”").wait_for()
    shown = main.inner_text()
    assert "0 条结果包含检索词或条款号 / 0 results contain your words or reference" in shown
    assert "100+" not in shown
    page.get_by_role("heading", name="语义相关 / related by meaning").wait_for()
    related = re.search(r"意思相近的前 (\d+) 条（最多 10 条）", shown)
    assert related and 1 <= int(related[1]) <= 10, shown[:2000]
    assert main.locator("mark").count() == 0  # nothing contains the word: nothing is highlighted
    page.screenshot(path=shots / "search-1-no-match.png", full_page=True)

    # no bundled notice has a 第三十五条: said so, and 第三 is never marked inside 第三方
    _search(page, "第三十五条")
    main.get_by_text("没有条款是第三十五条 / no clause is 第三十五条").wait_for()
    assert main.locator("mark").count() == 0
    assert "第三方" in main.inner_text()  # the clauses about third-party platforms are still listed, unmarked
    page.screenshot(path=shots / "search-2-no-such-article.png", full_page=True)
    assert not page.dialogs


def test_a_partial_region_name_filters_and_reads_as_words(server, page, shots):
    open_app(page, server)
    go(page, "检索 Search", "检索 Search")
    page.get_by_text("筛选 Filters").click()
    page.get_by_label("或输入地区名称的一部分（如 深圳）/ or part of a name").fill("深圳")
    page.keyboard.press("Enter")
    settle(page)
    _search(page, "收取费用")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("筛选 filters — 地区：深圳（广东省深圳市）").wait_for()
    shown = main.inner_text()
    count = re.search(r"(\d+) 条结果包含检索词或条款号", shown)
    assert count and int(count[1]) >= 1, shown[:2000]
    assert "region=" not in shown and "('" not in shown
    marks = main.locator("mark").all_inner_texts()
    assert marks and set(marks) <= {"收取费用", "收取", "费用"}, marks
    page.screenshot(path=shots / "search-3-region.png", full_page=True)
    assert not page.dialogs
