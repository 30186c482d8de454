"""The 文档 Documents page's changes to a notice: correct its metadata, delete it (after a confirmation),
upload a new version of it, and see what changed between versions.

Every change goes through ``KnowledgeBase.edit_document`` / ``remove_document`` / ``ingest_paths`` on the
app's shared knowledge base, which commits a new generation and serves it at once: search, the
documents list and every session see it on their next run. This session's remembered search results
are dropped so the search page runs its query again.
"""

from __future__ import annotations

import streamlit as st

from policykb.errors import PolicyKBError
from policykb.index.changes import Changes, what_changed
from policykb.index.store import KnowledgeBase, Version
from policykb.ingest.record import EDITABLE, METADATA_FIELDS, Clause
from policykb.ui.app_common import md_escape, settings

FIELDS = {
    "title": "标题 Title",
    "issuer": "发布机构 Issuer",
    "region": "地区 Region",
    "platform": "平台 Platform",
    "date": "日期 Date (yyyy-mm-dd)",
    "doc_type": "类型 Doc type",
    "doc_number": "文号 Document number",
    "signed": "成文日期 Signed (yyyy-mm-dd)",
    "published": "印发日期 Published (yyyy-mm-dd)",
    "addressees": "主送 Addressees",
    "copy_to": "抄送 Copy to",
    "printed": "印发 Printed by",
    "valid_from": "生效 Valid from (yyyy-mm-dd)",
    "valid_to": "失效 Valid to (yyyy-mm-dd)",
}
assert tuple(FIELDS) == EDITABLE, "one input per editable field"


def changed_kb() -> None:
    """After a change: this session's search results are stale."""
    for key in ("search_sig", "search_hits"):
        st.session_state.pop(key, None)


def reason(exc: Exception) -> str:
    return str(exc.args[0]) if isinstance(exc, KeyError) else str(exc)  # str(KeyError) adds quotes


def current_values(kb: KnowledgeBase, doc_id: str) -> dict[str, str]:
    """The document's editable fields (``EDITABLE``: what ``policykb docs edit`` corrects), "" for none."""
    doc = kb.document(doc_id)
    assert doc is not None
    return {
        name: (getattr(doc.metadata, name) if name in METADATA_FIELDS else getattr(doc, name)) or ""
        for name in EDITABLE
    }


def manage_document(kb: KnowledgeBase, doc_id: str) -> None:
    with st.expander(
        "管理 Manage：编辑、删除、上传新版本 / edit, delete, upload a new version", expanded=False
    ):
        edit_form(kb, doc_id)
        st.divider()
        new_version_form(kb, doc_id)
        st.divider()
        delete_step(kb, doc_id)


def edit_form(kb: KnowledgeBase, doc_id: str) -> None:
    before = current_values(kb, doc_id)
    with st.form(key=f"edit-{doc_id}", border=False):
        st.markdown("**编辑信息 / edit the details**")
        values: dict[str, str] = {}
        cols = st.columns(2)
        for n, (name, label) in enumerate(FIELDS.items()):
            values[name] = cols[n % 2].text_input(label, value=before[name], key=f"e-{name}-{doc_id}")
        saved = st.form_submit_button("保存 / save")
    if not saved:
        return
    changes: dict[str, str | None] = {k: v.strip() for k, v in values.items() if v.strip() != before[k]}
    if not changes:
        st.info("没有改动 / nothing changed")
        return
    try:
        kb.edit_document(doc_id, changes)
    except (KeyError, ValueError, PolicyKBError) as exc:
        st.error(f"无法保存 / cannot save: {md_escape(reason(exc))}")
        return
    changed_kb()
    names = ", ".join(FIELDS[k] for k in changes)
    st.session_state["docs_flash"] = ("ok", f"已保存 / saved: {names}")
    st.rerun()


def delete_step(kb: KnowledgeBase, doc_id: str) -> None:
    doc = kb.document(doc_id)
    assert doc is not None
    if st.session_state.get("confirm_delete") != doc_id:
        st.button(
            "删除此文档… / delete this document…",
            key=f"del-{doc_id}",
            on_click=st.session_state.update,
            kwargs={"confirm_delete": doc_id},
        )
        return
    st.warning(
        f"确定删除《{md_escape(doc.title)}》及其 {doc.n_clauses} 条条款吗？检索中将不再出现。"
        f" / Delete this document and its {doc.n_clauses} clauses? Search will no longer find them."
    )
    yes, no = st.columns(2)
    yes.button("确认删除 / yes, delete", key="del-yes", type="primary", on_click=remove, args=(kb, doc_id))
    no.button("取消 / cancel", key="del-no", on_click=st.session_state.pop, args=("confirm_delete", None))


def remove(kb: KnowledgeBase, doc_id: str) -> None:
    st.session_state.pop("confirm_delete", None)
    try:
        doc = kb.remove_document(doc_id)
    except (KeyError, PolicyKBError) as exc:
        st.session_state["docs_flash"] = ("error", f"无法删除 / cannot delete: {md_escape(reason(exc))}")
        return
    for key in ("doc_id", "focus_clause"):
        st.session_state.pop(key, None)
    changed_kb()
    st.session_state["docs_flash"] = (
        "ok",
        f"已删除 / deleted: {md_escape(doc.title)} ({doc.n_clauses} 条款 clauses)",
    )


def new_version_form(kb: KnowledgeBase, doc_id: str) -> None:
    from policykb.ui.uploads import TYPES, ingest_uploads

    st.markdown("**上传新版本 / upload a new version**（旧版本保留，可查看变更 / the earlier one is kept）")
    round_ = st.session_state.get("version_round", 0)
    f = st.file_uploader(
        "新版本文件 / the new version's file", type=list(TYPES), key=f"ver-{doc_id}-{round_}"
    )
    if f is None or not st.button("导入新版本 / ingest as the new version", key=f"ver-go-{doc_id}"):
        return
    with st.spinner("导入中 / ingesting…"):
        report, ok, _, _ = ingest_uploads(kb, [f], replace=doc_id, max_chars=settings().max_clause_chars)
    st.session_state["version_round"] = round_ + 1
    changed_kb()
    if ok:
        st.session_state["show_changes"] = doc_id
        st.session_state["docs_flash"] = ("ok", "已导入新版本 / new version ingested")
    else:
        st.session_state["docs_flash"] = ("error", f"没有导入 / not ingested: {md_escape(report)}")
    st.rerun()


# -- what changed --------------------------------------------------------------------------------


def where(c: Clause) -> str:
    return " › ".join([*c.section_path, c.label]).strip(" ›") or "（无编号 / unnumbered）"


def when(iso: str) -> str:
    """``2026-12-07T05:38:08+00:00`` → ``2026-12-07 05:38 UTC``."""
    return iso[:16].replace("T", " ") + (" UTC" if iso.endswith(("+00:00", "Z")) else "")


def summary(changes: Changes) -> str:
    return (
        f"新增 {len(changes.added)} 条、删除 {len(changes.removed)} 条、修改 {len(changes.changed)} 条、"
        f"未变 {changes.unchanged} 条 / {len(changes.added)} added, {len(changes.removed)} removed, "
        f"{len(changes.changed)} changed, {changes.unchanged} unchanged"
    )


def show_changes(kb: KnowledgeBase, doc_id: str) -> None:
    """变更 What changed: the document against an earlier version, clause by clause."""
    versions = kb.versions(doc_id)
    if not versions:
        return
    label = f"变更 What changed（{len(versions)} 个旧版本 / earlier versions）"
    with st.expander(label, expanded=st.session_state.get("show_changes") == doc_id):
        by_number = {v.number: v for v in versions}
        number = st.selectbox(
            "与哪个旧版本比较 / compare with",
            sorted(by_number, reverse=True),
            key=f"ver-of-{doc_id}",
            format_func=lambda n: (
                f"第 {n} 版 / version {n}（替换于 / replaced {when(by_number[n].replaced)}）"
            ),
        )
        show_diff(by_number[number], what_changed(by_number[number].clauses, kb.clauses(doc_id)))


def show_diff(version: Version, changes: Changes) -> None:
    st.text(f"第 {version.number} 版 → 现在 / version {version.number} → now: {summary(changes)}")
    if changes.added:
        st.markdown(f"**新增 Added ({len(changes.added)})**")
        for c in changes.added:
            st.text(f"+ {where(c)}  {c.text}")
    if changes.removed:
        st.markdown(f"**删除 Removed ({len(changes.removed)})**")
        for c in changes.removed:
            st.text(f"− {where(c)}  {c.text}")
    if changes.changed:
        st.markdown(f"**修改 Changed ({len(changes.changed)})**")
        for old, new in changes.changed:
            with st.container(border=True):
                st.text(f"~ {where(new)}")
                left, right = st.columns(2)
                left.text(f"旧 Old: {old.text}")
                right.text(f"新 New: {new.text}")
