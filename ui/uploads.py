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
from typing import TYPE_CHECKING, NamedTuple, Protocol

from policykb.ingest.loaders import KINDS
from policykb.ingest.text import CJK_UNIFIED

if TYPE_CHECKING:
    from policykb.index.store import KnowledgeBase
    from policykb.ui.ingesting import IngestReport

TYPES = tuple(ext.lstrip(".") for ext in KINDS)  # what the loaders read (scans and images by OCR)
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


TYPE_PROBLEMS = ("not a ", "unsupported file type")  # the loaders' words for a file whose bytes lie


class Refused(NamedTuple):
    """A file left out before ingest: its kind ("type", "size", "other") and the message naming it."""

    kind: str
    message: str


def save_uploads(files: Sequence[Upload], folder: Path) -> list[Refused]:
    """Write the uploads into ``folder``; return the ones refused before ingest."""
    refused: list[Refused] = []
    for f in files[:MAX_FILES]:
        data = f.getvalue()
        ext = extension(f.name)
        if ext not in TYPES:
            shown_ext = repr("." + ext) if ext else "no extension"
            allowed = " ".join("." + t for t in TYPES)
            message = f"{f.name}: unsupported file type ({shown_ext}); allowed: {allowed}; not added"
            refused.append(Refused("type", message))
        elif len(data) > MAX_BYTES:
            message = f"{f.name}: {len(data) / 1e6:.1f} MB is over the 20 MB limit; not added"
            refused.append(Refused("size", message))
        elif not data:
            refused.append(Refused("other", f"{f.name}: the file is empty (0 bytes); not added"))
        else:
            sub = folder / uuid.uuid4().hex  # one folder per file: two uploads with one name never collide
            sub.mkdir()
            (sub / safe_name(f.name)).write_bytes(data)
    if len(files) > MAX_FILES:
        message = f"{len(files) - MAX_FILES} files over the limit of {MAX_FILES} per upload; not added"
        refused.append(Refused("other", message))
    return refused


class UploadResult(NamedTuple):
    text: str  # the report as shown: the refusals, then the ingest report
    added: bool
    report: IngestReport | None  # None when no file got as far as ingest
    refused: list[Refused]

    def problems(self) -> set[str]:
        """The kinds of problem that kept files out: "type" (not a type policykb reads, by its extension
        or its bytes), "size", "other" (empty, no text, a duplicate…)."""
        from policykb.ui.ingesting import SAVED

        kinds = {r.kind for r in self.refused}
        for o in self.report.files if self.report else []:
            if o.status not in SAVED:
                lied = o.status == "skipped" and (o.reason or "").startswith(TYPE_PROBLEMS)
                kinds.add("type" if lied else "other")
        return kinds


def ingest_uploads(
    kb: KnowledgeBase,
    files: Sequence[Upload],
    replace: str | None = None,
    on_wait: Callable[[float], object] | None = None,
    *,
    max_chars: int,
) -> UploadResult:
    """Uploads (objects with ``.name`` and ``.getvalue()``) → the shared knowledge base. ``replace``: the
    doc_id the one uploaded file is a new version of (the old version is kept)."""
    from policykb.ui.ingesting import format_report, ingest_paths

    folder = Path(tempfile.mkdtemp(prefix=UPLOAD_FOLDER))
    try:
        refused = save_uploads(files, folder)
        paths = sorted(folder.iterdir())
        report = (
            ingest_paths(kb, paths, max_chars=max_chars, replace=replace, on_wait=on_wait) if paths else None
        )
        text = format_report(report) if report else ""
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    text = re.sub(re.escape(str(folder)) + r"/[0-9a-f]{32}/", "", text)  # the generated folders mean nothing
    lines = [*(r.message for r in refused), text]
    return UploadResult("\n".join(lines).strip(), bool(report and not report.nothing_done), report, refused)
