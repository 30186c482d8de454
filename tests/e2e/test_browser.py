"""The app in a real browser: `policykb ui --headless` on the bundled corpus (real model), driven by
Debian's chromium through Playwright. Screenshots of every page go to a folder under tmp_path (printed).

Needs `chromium` (Debian) and `playwright` (PyPI; no downloaded browsers): `scripts/setup.sh --test`.
Missing either is a failure, not a skip — this test exists to prove the app works in a browser.
Fixtures and helpers (server, browser, page, shots, open_app, go, settle, click_until): conftest.py.
"""

from __future__ import annotations

import pytest
from browser_kit import XSS, click_until, go, open_app, settle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_ask_cite_basket_export_docx(server, page, shots, tmp_path):
    open_app(page, server)
    # Streamlit's developer toolbar is hidden from the people using the app
    assert page.get_by_role("button", name="Deploy").count() == 0
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.fill("微视收费吗")
    box.press("Enter")
    citation = page.locator('[data-testid="stExpander"]').filter(has_text="[1]").first
    citation.wait_for()
    settle(page)
    page.screenshot(path=shots / "1-ask.png", full_page=True)
    # The [1] in the answer is a link to citation 1, in this page (no new tab).
    pages_before = len(page.context.pages)
    page.locator('[data-testid="stChatMessage"] a[href="#cite-0-1"]').first.click()
    page.wait_for_function("location.hash === '#cite-0-1'")
    assert len(page.context.pages) == pages_before
    assert page.locator("#cite-0-1").count() == 1
    body = citation.locator('[data-testid="stExpanderDetails"]')  # the click opened citation 1
    body.get_by_text("不收取费用").first.wait_for()
    assert "不收取费用" in body.inner_text()
    page.screenshot(path=shots / "2-ask-citation.png", full_page=True)
    body.get_by_role("button", name="加入摘录 / add to basket").click()
    settle(page)
    go(page, "摘录 Basket", "摘录 Basket")
    settle(page)
    page.get_by_text("不收取费用").first.wait_for()
    page.screenshot(path=shots / "3-basket.png", full_page=True)
    with page.expect_download() as dl:
        page.get_by_role("button", name="DOCX (Word)").click()
    target = tmp_path / "excerpts.docx"
    dl.value.save_as(target)

    import docx

    d = docx.Document(str(target))
    parts = [p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells]
    text = "\n".join(parts)
    assert "不收取费用" in text
    assert "微视" in text  # the notice's title in the reference
    assert any(ch in text for ch in ("、", "（", ">")), "the section reference is missing"

    # open in document: back to Ask (conversation kept in the session), then the citation's button
    go(page, "问答 Ask", "问答 Ask")
    citation = page.locator('[data-testid="stExpander"]').filter(has_text="[1]").first
    citation.locator("summary").click()
    opener = citation.get_by_role("button", name="在文档中查看 / open in document")
    opener.wait_for()
    click_until(page, opener, page.get_by_role("heading", name="文档 Documents"))
    page.get_by_text("the cited clause").wait_for()
    settle(page)
    page.screenshot(path=shots / "4-document.png", full_page=True)
    assert not page.dialogs


def test_hostile_notice_is_shown_as_text(server, page, shots, tmp_path):
    open_app(page, server)
    go(page, "检索 Search", "检索 Search")
    page.get_by_label("检索条款 / Search clauses (e.g. 第三十五条, 3.1.2, 收取费用)").fill("测试页面安全")
    page.keyboard.press("Enter")
    page.get_by_text("条结果").first.wait_for()
    settle(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text(XSS).first.wait_for()  # the literal characters, as text
    shown = main.inner_text()
    assert XSS in shown, shown[:3000]
    assert main.locator('img[src="x"]').count() == 0
    page.screenshot(path=shots / "5-search-xss.png", full_page=True)

    # uploading: a real notice and one whose extension lies
    go(page, "添加通知 Add a notice", "添加通知 Add a notice")
    good = tmp_path / "upload_notice.txt"
    good.write_text("一、规则\n1. 上传测试：" + XSS + " 必须显示为文字。\n", encoding="utf-8")
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"this is not a pdf at all")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files([str(good), str(fake)])
    page.get_by_role("button", name="导入 / ingest").click()
    page.get_by_text("导入完成 / ingested").wait_for(timeout=120_000)
    report = page.locator('[data-testid="stCode"]').inner_text()
    assert "added" in report and "fake.pdf" in report and "skipped" in report
    settle(page)
    page.screenshot(path=shots / "6-upload.png", full_page=True)

    go(page, "文档 Documents", "文档 Documents")
    settle(page)
    page.screenshot(path=shots / "7-documents.png", full_page=True)
    go(page, "检索 Search", "检索 Search")
    page.get_by_label("检索条款 / Search clauses (e.g. 第三十五条, 3.1.2, 收取费用)").fill("上传测试")
    page.keyboard.press("Enter")
    page.get_by_text("上传测试").first.wait_for()
    settle(page)
    assert main.locator('img[src="x"]').count() == 0
    assert not page.dialogs, page.dialogs
