"""添加通知 Add a notice: upload files into the shared knowledge base, then show the ingest report.

How an upload is saved and checked (safe names, size cap, magic bytes) is ``ui/uploads.py``, shared with
the REST API's ``POST /v1/documents``.
"""

from __future__ import annotations

import streamlit as st

from policykb.index.store import KnowledgeBase
from policykb.ui.app_common import go_to_document, settings
from policykb.ui.app_doc_manage import changed_kb
from policykb.ui.ingesting import waiting_message
from policykb.ui.uploads import TYPES, ingest_uploads

NEW_DOCUMENT = "（新文档）/ a new document"


def upload_page(kb: KnowledgeBase) -> None:
    st.header("添加通知 Add a notice")
    st.text(f"支持 / accepted: {', '.join('.' + t for t in TYPES)} · 每个文件不超过 20 MB / up to 20 MB each")
    files = st.file_uploader(
        "选择文件 / choose files",
        type=list(TYPES),
        accept_multiple_files=True,
        key=f"uploader-{st.session_state.get('upload_round', 0)}",
    )
    titles = {d.doc_id: d.title for d in kb.documents()}
    target = st.selectbox(
        "上传的是哪份通知的新版本？/ a new version of",
        [NEW_DOCUMENT, *titles],
        key="replace_doc",
        help="选择后，新文件替换该通知的条款；原版本会保留，可在“文档”页查看变更 / the new file replaces its "
        "clauses; the earlier version is kept, and the Documents page shows what changed",
    )
    replace = None if target == NEW_DOCUMENT else target
    if replace and files and len(files) != 1:
        st.warning("新版本一次只能上传一个文件 / upload one file for a new version")
    elif files and st.button("导入 / ingest", key="ingest"):
        waiting = st.empty()
        with st.spinner("导入中 / ingesting…"):
            text, ok, _, _ = ingest_uploads(
                kb,
                files,
                replace,
                on_wait=lambda s: waiting.info(f"另一个导入正在进行，排队等待中… / {waiting_message(s)}"),
                max_chars=settings().max_clause_chars,
            )
        waiting.empty()
        changed_kb()
        st.session_state.update(
            upload_report=text,
            upload_ok=ok,
            upload_version=replace if ok else None,
            upload_round=st.session_state.get("upload_round", 0) + 1,
        )
        st.rerun()
    report = st.session_state.get("upload_report")
    if report:
        (st.success if st.session_state.get("upload_ok") else st.warning)(
            "导入完成 / ingested"
            if st.session_state.get("upload_ok")
            else "没有导入任何文件 / nothing was added"
        )
        st.code(report, language=None)
        version_of = st.session_state.get("upload_version")
        if version_of in titles:
            st.button(
                "查看变更 / see what changed",
                key="see-changes",
                on_click=see_changes,
                args=(version_of,),
            )


def see_changes(doc_id: str) -> None:
    go_to_document(doc_id)
    st.session_state["show_changes"] = doc_id
