"""Uploaded files → the knowledge base, for the app's upload page and ``POST /v1/documents`` alike.

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
from typing import TYPE_CHECKING, Protocol

from policykb.ingest.text import CJK_UNIFIED

if TYPE_CHECKING:
    from policykb.index.store import KnowledgeBase
    from policykb.ui.ingesting import IngestReport

TYPES = ("txt", "md", "pdf", "docx", "html", "htm")
MAX_BYTES = 20 * 1024 * 1024
MAX_FILES = 50
UPLOAD_FOLDER = "policykb-upload-"  # the prefix of the temporary folder an upload is ingested from
_UNSAFE = re.compile(rf"[^\w{CJK_UNIFIED}-]+")


class Upload(Protocol):
    """An uploaded file as ``st.file_uploader`` returns it: its name as sent, and its bytes."""

    @property
    def name(self) -> str: ...

    def getvalue(self) -> bytes: ...


def safe_name(uploaded: str) -> str:
    """A file name made from an uploaded name that cannot leave the folder it is written to."""
    base = PureWindowsPath(PurePosixPath(uploaded).name).name  # drops ../ and C:\ parts alike
    stem, _, ext = base.rpartition(".") if "." in base else (base, "", "")
    ext = ext.lower() if ext.lower() in TYPES else "bin"
    stem = _UNSAFE.sub("-", stem).strip("-_")[:60] or f"upload-{uuid.uuid4().hex[:8]}"
    return f"{stem}.{ext}"


def extension(uploaded: str) -> str:
    """The lower-case extension of an uploaded name ("" when it has none)."""
    base = PureWindowsPath(PurePosixPath(uploaded).name).name
    return base.rpartition(".")[2].lower() if "." in base else ""


def save_uploads(files: Sequence[Upload], folder: Path) -> list[str]:
    """Write the uploads into ``folder``; return problems for the ones refused before ingest."""
    problems: list[str] = []
    for f in files[:MAX_FILES]:
        data = f.getvalue()
        ext = extension(f.name)
        if ext not in TYPES:
            shown_ext = repr("." + ext) if ext else "no extension"
            allowed = " ".join("." + t for t in TYPES)
            problems.append(f"{f.name}: unsupported file type ({shown_ext}); allowed: {allowed}; not added")
        elif len(data) > MAX_BYTES:
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


def ingest_uploads(
    kb: KnowledgeBase,
    files: Sequence[Upload],
    replace: str | None = None,
    on_wait: Callable[[float], object] | None = None,
    *,
    max_chars: int,
) -> tuple[str, bool, IngestReport | None]:
    """Uploads (objects with ``.name`` and ``.getvalue()``) → the shared knowledge base; (the report as
    text, added?, the report — None when no file got as far as ingest). ``replace``: the doc_id the one
    uploaded file is a new version of (the old version is kept)."""
    from policykb.ui.ingesting import format_report, ingest_paths

    folder = Path(tempfile.mkdtemp(prefix=UPLOAD_FOLDER))
    try:
        problems = save_uploads(files, folder)
        paths = sorted(folder.iterdir())
        report = (
            ingest_paths(kb, paths, max_chars=max_chars, replace=replace, on_wait=on_wait) if paths else None
        )
        text = format_report(report) if report else ""
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    text = re.sub(re.escape(str(folder)) + r"/[0-9a-f]{32}/", "", text)  # the generated folders mean nothing
    return "\n".join([*problems, text]).strip(), bool(report and not report.nothing_done), report


TYPE_PROBLEMS = ("not a ", "unsupported file type")  # the loaders' words for a file whose bytes lie


def upload_problem(f: Upload, max_bytes: int, report: IngestReport | None) -> str:
    """Why ``f`` was not added, as a kind: "type" (not a type policykb reads, by extension or by its
    bytes), "size" (over ``max_bytes``), "other" (empty, no text, a duplicate…) or "" (it was added)."""
    if extension(f.name) not in TYPES:
        return "type"
    if len(f.getvalue()) > max_bytes:
        return "size"
    stem = safe_name(f.name).rpartition(".")[0]
    for outcome in report.files if report else []:
        if Path(outcome.path).stem == stem:
            if outcome.status == "skipped" and (outcome.reason or "").startswith(TYPE_PROBLEMS):
                return "type"
            return "" if outcome.status in ("added", "new version", "updated") else "other"
    return "other"
