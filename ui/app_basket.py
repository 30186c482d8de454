"""摘录 Basket: the excerpts a consultant collected — reorder, annotate, remove, export.

The basket is a list of items in ``app_common.basket()`` (a clause, or an answer with its citations),
saved after every change so it survives a reload. Exports come from ``policykb.ui.export`` (imported
here only, lazily): each item becomes one or more ``Excerpt``s and ``FORMATS[fmt] = (func, mime, ext)``
with ``func(excerpts, redact=bool) -> bytes``. With redaction on, the page lists what will be masked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from policykb.errors import PolicyKBError
from policykb.ui.app_common import basket, clause_heading, item_id, save_basket

if TYPE_CHECKING:
    from policykb.ui.export import Excerpt

LABELS = {"docx": "DOCX (Word)", "md": "Markdown", "markdown": "Markdown", "csv": "CSV", "json": "JSON"}


def _move(i: int, step: int) -> None:
    items = basket()
    j = i + step
    if 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]
        save_basket()


def _remove(i: int) -> None:
    del basket()[i]
    save_basket()


def _note(i: int, key: str, j: int | None = None) -> None:
    item = basket()[i]
    (item if j is None else item["citations"][j])["note"] = st.session_state[key]
    save_basket()


def item_excerpts(item: dict[str, Any]) -> list[Excerpt]:
    """A basket item as excerpts: one clause, or an answer's citations each carrying the Q/A."""
    from policykb.ui.export import Excerpt

    if item.get("kind") == "answer":
        q, a = item["question"], item["answer"]
        return [
            Excerpt.from_clause(c, note=c.get("note") or "", question=q, answer=a) for c in item["citations"]
        ]
    return [Excerpt.from_clause(item, note=item.get("note") or "")]


def basket_page() -> None:
    st.header("摘录 Basket")
    items = basket()
    error = st.session_state.pop("basket_error", None)
    if error:
        st.error(error)
    if not items:
        st.info("摘录为空 / The basket is empty: add clauses from Ask, Search or a document.")
        return
    st.text(f"{len(items)} 条摘录 / excerpts")
    st.caption(
        "摘录随本页链接保存，重新加载后仍在；链接请勿外传。/ "
        "The basket is saved with this page's link and survives a reload; keep the link to yourself."
    )
    for i, item in enumerate(items):
        iid = item_id(item)
        with st.container(border=True):
            excerpts = item_excerpts(item)
            if item.get("kind") == "answer":
                st.text(f"[{i + 1}] 问答 / question and answer")
                st.text(f"问 Q：{item['question']}\n答 A：{item['answer']}")
                for j, (c, e) in enumerate(zip(item["citations"], excerpts, strict=True)):
                    _show_clause(c, e, f"引文 [{j + 1}]", f"note-{iid}-{j}", (i, f"note-{iid}-{j}", j))
            else:
                _show_clause(item, excerpts[0], f"[{i + 1}]", f"note-{iid}", (i, f"note-{iid}"))
            a, b, c = st.columns(3)
            a.button("上移 / up", key=f"up-{iid}", disabled=i == 0, on_click=_move, args=(i, -1))
            b.button(
                "下移 / down", key=f"down-{iid}", disabled=i == len(items) - 1, on_click=_move, args=(i, 1)
            )
            c.button("移除 / remove", key=f"rm-{iid}", on_click=_remove, args=(i,))
    export(items)


def _show_clause(c: dict[str, Any], e: Excerpt, n: str, key: str, args: tuple[Any, ...]) -> None:
    st.text(f"{n} {clause_heading(c)}")
    if e.validity:
        st.text(f"时效 Time: {e.validity}")
    st.text(c["text"])
    st.session_state[key] = c.get("note", "")
    st.text_input("备注 / note", key=key, on_change=_note, args=args)


def export(items: list[dict[str, Any]]) -> None:
    st.subheader("导出 Export")
    redact = st.checkbox("隐去个人信息 / redact personal data", key="redact")
    try:
        from policykb.ui.export import FORMATS, KIND_LABELS
    except ImportError as exc:
        st.error(f"导出不可用 / export unavailable: {exc}")
        return
    per_item = [item_excerpts(item) for item in items]
    if redact:
        lines = []
        for n, excerpts in enumerate(per_item, 1):
            found = dict.fromkeys((f.kind, f.text) for e in excerpts for f in e.pii())
            lines += [f"[{n}] {KIND_LABELS[kind]}：{text}" for kind, text in found]
        with st.container(border=True, key="redact-preview"):
            if lines:
                st.caption("导出时将隐去 / to be removed from the exports")
                st.text("\n".join(lines))
            else:
                st.caption("没有找到要隐去的个人信息 / no personal data found")
    excerpts = [e for group in per_item for e in group]
    cols = st.columns(len(FORMATS))
    for col, (fmt, (func, mime, ext)) in zip(cols, FORMATS.items(), strict=True):
        try:
            data = func(excerpts, redact=redact)
        except (PolicyKBError, ValueError, OSError) as exc:  # one broken format must not take the page down
            col.error(f"{fmt}: {exc}")
            continue
        col.download_button(
            LABELS.get(fmt, fmt.upper()),
            data,
            file_name=f"policykb-excerpts.{ext.lstrip('.')}",
            mime=mime,
            key=f"dl-{fmt}",
        )
