"""文档 Documents: the notices with their metadata, and one notice read in full — outline, then every
clause in order; the clause a citation pointed at is marked; Traditional originals beside the text."""

from __future__ import annotations

import streamlit as st

from policykb.index.store import KnowledgeBase
from policykb.ingest.record import Clause
from policykb.ui.app_common import clause_actions


def documents_page(kb: KnowledgeBase) -> None:
    st.header("文档 Documents")
    docs = kb.documents()
    if not docs:
        st.info("知识库为空 / The knowledge base is empty: add a notice first.")
        return
    rows = [
        {
            "doc_id": d.doc_id,
            "标题 title": d.title,
            "发布 issuer": d.metadata.issuer or "",
            "地区 region": d.metadata.region or "",
            "平台 platform": d.metadata.platform or "",
            "日期 date": d.metadata.date or "",
            "类型 type": d.metadata.doc_type or "",
            "条款 clauses": d.n_clauses,
        }
        for d in docs
    ]
    st.dataframe(rows, hide_index=True, use_container_width=True)
    titles = {d.doc_id: d.title for d in docs}
    if st.session_state.get("doc_id") not in titles:
        st.session_state["doc_id"] = docs[0].doc_id
    doc_id = st.selectbox(
        "打开文档 / open a document", list(titles), key="doc_id", format_func=lambda i: f"{titles[i]} ({i})"
    )
    show_document(kb, doc_id)


def outline(clauses: list[Clause]) -> str:
    """The section tree as indented plain text: each heading once, in reading order."""
    lines, seen = [], set()
    for c in clauses:
        for depth in range(1, len(c.section_path) + 1):
            path = c.section_path[:depth]
            if path not in seen:
                seen.add(path)
                lines.append("  " * (depth - 1) + path[-1])
        if c.label:
            lines.append("  " * len(c.section_path) + c.label)
    return "\n".join(lines)


def show_document(kb: KnowledgeBase, doc_id: str) -> None:
    doc, clauses = kb.document(doc_id), kb.clauses(doc_id)
    assert doc is not None  # doc_id is one of kb.documents()
    m = doc.metadata
    facts = [
        ("标题 Title", doc.title),
        ("发布 Issuer", m.issuer),
        ("地区 Region", m.region),
        ("平台 Platform", m.platform),
        ("日期 Date", m.date),
        ("类型 Type", m.doc_type),
        ("有效期 Valid", " – ".join(v for v in (doc.valid_from, doc.valid_to) if v)),
        ("来源 Source", doc.source_path),
        ("条款 Clauses", str(len(clauses))),
    ]
    st.text("\n".join(f"{k}: {v}" for k, v in facts if v))
    focus = st.session_state.get("focus_clause")
    focused = next((c for c in clauses if c.clause_id == focus), None)
    if focused:
        st.info("引用的条款 / the cited clause (marked ▶ below)")
        st.text(f"{' > '.join(focused.section_path)} {focused.label}\n{focused.text}".strip())
    two = any(c.original != c.text for c in clauses)
    show_original = two and st.checkbox(
        "并排显示原文 / show the original text beside", value=True, key="show_orig"
    )
    with st.expander("目录 Outline", expanded=False):
        st.text(outline(clauses) or "（无章节 / no sections）")
    st.subheader("正文 Text")
    shown_path: tuple[str, ...] = ()
    for c in clauses:
        if c.section_path != shown_path and c.section_path:
            st.text(" > ".join(c.section_path))
            shown_path = c.section_path
        mark = "▶ " if c.clause_id == focus else ""
        with st.container(border=bool(mark)):
            if show_original:
                left, right = st.columns(2)
                left.text(f"{mark}{c.label} {c.text}".strip())
                right.text(f"{c.label} {c.original}".strip() if c.original != c.text else "")
            else:
                st.text(f"{mark}{c.label} {c.text}".strip())
            if mark:
                clause_actions(c.to_dict(), f"d-{c.clause_id}")
