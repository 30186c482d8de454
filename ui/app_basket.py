"""摘录 Basket: the excerpts a consultant collected — reorder, annotate, remove, export.

The basket itself is a list of clause dicts (plus "note") in ``st.session_state``; exports come from
``policykb.ui.export`` (imported here only, lazily): each item becomes an ``Excerpt`` and
``FORMATS[fmt] = (func, mime, ext)`` with ``func(excerpts, redact=bool) -> bytes``.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from policykb.errors import PolicyKBError
from policykb.ui.app_common import basket, clause_heading

LABELS = {"docx": "DOCX (Word)", "md": "Markdown", "markdown": "Markdown", "csv": "CSV", "json": "JSON"}


def _move(i: int, step: int) -> None:
    items = basket()
    j = i + step
    if 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]


def _remove(i: int) -> None:
    del basket()[i]


def _note(i: int, key: str) -> None:
    basket()[i]["note"] = st.session_state[key]


def basket_page() -> None:
    st.header("摘录 Basket")
    items = basket()
    if not items:
        st.info("摘录为空 / The basket is empty: add clauses from Ask, Search or a document.")
        return
    st.text(f"{len(items)} 条摘录 / excerpts")
    for i, e in enumerate(items):
        with st.container(border=True):
            st.text(clause_heading(e, i + 1))
            st.text(e["text"])
            key = f"note-{e['clause_id']}"
            st.session_state[key] = e.get("note", "")
            st.text_input("备注 / note", key=key, on_change=_note, args=(i, key))
            a, b, c = st.columns(3)
            a.button("上移 / up", key=f"up-{e['clause_id']}", disabled=i == 0, on_click=_move, args=(i, -1))
            b.button(
                "下移 / down",
                key=f"down-{e['clause_id']}",
                disabled=i == len(items) - 1,
                on_click=_move,
                args=(i, 1),
            )
            c.button("移除 / remove", key=f"rm-{e['clause_id']}", on_click=_remove, args=(i,))
    export(items)


def export(items: list[dict[str, Any]]) -> None:
    st.subheader("导出 Export")
    redact = st.checkbox("隐去个人信息 / redact personal data", key="redact")
    try:
        from policykb.ui.export import FORMATS, Excerpt
    except ImportError as exc:
        st.error(f"导出不可用 / export unavailable: {exc}")
        return
    excerpts = [Excerpt.from_clause(e, note=e.get("note") or "", time_note=e.get("time_note")) for e in items]
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
