"""添加通知 Add a notice: upload files into the shared knowledge base, then show the ingest report.

An upload's name is never used as a path (RELIABILITY 22): each file is written under a generated name
in a fresh temporary folder; only a cleaned stem (letters, digits, CJK, - and _) survives, so the
document id stays readable. The type is decided by the loaders' magic-byte checks, which report a
file whose extension lies.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Protocol

import streamlit as st

from policykb.index.store import KnowledgeBase
from policykb.ingest.text import CJK_UNIFIED
from policykb.ui.app_common import go_to_document, settings
from policykb.ui.app_doc_manage import changed_kb
from policykb.ui.ingesting import waiting_message

TYPES = ("txt", "md", "pdf", "docx", "html", "htm")
MAX_BYTES = 20 * 1024 * 1024
MAX_FILES = 50
UPLOAD_FOLDER = "policykb-upload-"  # the prefix of the temporary folder an upload is ingested from
_UNSAFE = re.compile(rf"[^\w{CJK_UNIFIED}-]+")


class Upload(Protocol):
    """An uploaded file as ``st.file_uploader`` returns it: its name as sent, and its bytes."""

    name: str

    def getvalue(self) -> bytes: ...


def safe_name(uploaded: str) -> str:
    """A file name made from an uploaded name that cannot leave the folder it is written to."""
    base = PureWindowsPath(PurePosixPath(uploaded).name).name  # drops ../ and C:\ parts alike
    stem, _, ext = base.rpartition(".") if "." in base else (base, "", "")
    ext = ext.lower() if ext.lower() in TYPES else "bin"
    stem = _UNSAFE.sub("-", stem).strip("-_")[:60] or f"upload-{uuid.uuid4().hex[:8]}"
    return f"{stem}.{ext}"


def save_uploads(files: Sequence[Upload], folder: Path) -> list[str]:
    """Write the uploads into ``folder``; return problems for the ones refused before ingest."""
    problems: list[str] = []
    for f in files[:MAX_FILES]:
        data = f.getvalue()
        if len(data) > MAX_BYTES:
            problems.append(f"{f.name}: {len(data) / 1e6:.1f} MB is over the 20 MB limit; not added")
        elif not data:
            problems.append(f"{f.name}: the file is empty (0 bytes); not added")
        else:
            sub = folder / uuid.uuid4().hex  # one folder per file: two uploads with one name never collide
            sub.mkdir()
            (sub / safe_name(f.name)).write_bytes(data)
    if len(files) > MAX_FILES:
        problems.append(f"{len(files) - MAX_FILES} files over the limit of {MAX_FILES} per upload; not added")
    return problems


NEW_DOCUMENT = "（新文档）/ a new document"


def ingest_uploads(
    kb: KnowledgeBase,
    files: Sequence[Upload],
    replace: str | None = None,
    on_wait: Callable[[float], object] | None = None,
) -> tuple[str, bool]:
    """Uploads (objects with ``.name`` and ``.getvalue()``) → the shared knowledge base; (report, added?).
    ``replace``: the doc_id the one uploaded file is a new version of (the old version is kept)."""
    from policykb.ui.ingesting import format_report, ingest_paths

    folder = Path(tempfile.mkdtemp(prefix=UPLOAD_FOLDER))
    try:
        problems = save_uploads(files, folder)
        paths = sorted(folder.iterdir())
        report = (
            ingest_paths(kb, paths, max_chars=settings().max_clause_chars, replace=replace, on_wait=on_wait)
            if paths
            else None
        )
        text = format_report(report) if report else ""
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    text = re.sub(re.escape(str(folder)) + r"/[0-9a-f]{32}/", "", text)  # the generated folders mean nothing
    return "\n".join([*problems, text]).strip(), bool(report and not report.nothing_done)


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
            text, ok = ingest_uploads(
                kb,
                files,
                replace,
                on_wait=lambda s: waiting.info(f"另一个导入正在进行，排队等待中… / {waiting_message(s)}"),
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
