"""Batch ingest: files and folders → the knowledge base, with a report.

A bad file is reported and skipped; the rest of the batch goes on; what is already in the
knowledge base stays unless a file replaces its own document. The whole batch is committed
as one new generation at the end (or nothing is, if the commit fails).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from policykb.errors import ConfigError, PolicyKBError
from policykb.index.store import KnowledgeBase
from policykb.ingest.loaders import KINDS as SUPPORTED_SUFFIXES
from policykb.ingest.metadata import MANIFEST_NAME, load_manifest
from policykb.ingest.pipeline import PIPELINE_VERSION, ingest_file

SKIP_NAMES = ("readme", "license", "changelog", "sources")  # folder documentation, not notices


@dataclass
class FileOutcome:
    path: str
    status: str  # added | replaced | unchanged | skipped
    doc_id: str | None = None
    clauses: int = 0
    reason: str | None = None
    guessed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    removed: dict[str, int] = field(default_factory=dict)


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    documents: int = 0
    clauses: int = 0
    error: str | None = None  # the batch could not be committed

    @property
    def counts(self) -> Counter[str]:
        return Counter(f.status for f in self.files)

    @property
    def nothing_done(self) -> bool:
        c = self.counts
        return self.error is not None or not self.files or c["skipped"] == len(self.files)

    def to_dict(self) -> dict:
        return {"files": [vars(f) for f in self.files], "documents": self.documents, "clauses": self.clauses,
                "counts": dict(self.counts), "error": self.error}


def discover(paths: list[Path]) -> tuple[list[tuple[Path, Path]], list[FileOutcome]]:
    """(file, folder whose manifest applies) for each file to ingest; problems as outcomes."""
    found: list[tuple[Path, Path]] = []
    problems: list[FileOutcome] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES and f.name != MANIFEST_NAME \
                        and not f.stem.lower().startswith(SKIP_NAMES) and not f.name.startswith("."):
                    found.append((f, f.parent))
        elif p.is_file():
            found.append((p, p.parent))
        else:
            problems.append(FileOutcome(str(p), "skipped", reason="no such file or folder"))
    return found, problems


def ingest_paths(kb: KnowledgeBase, paths: list[Path], *, max_chars: int) -> IngestReport:
    report = IngestReport()
    files, problems = discover(paths)
    report.files.extend(problems)
    manifests: dict[Path, dict] = {}
    try:
        with kb.writer() as w:
            for f, folder in files:
                report.files.append(_one(w, f, folder, manifests, max_chars))
    except PolicyKBError as exc:
        report.error = str(exc)
    except OSError as exc:
        report.error = f"could not save the knowledge base: {exc}; the previous one is unchanged"
    kb.reload()
    report.documents = len(kb.documents())
    report.clauses = len(kb.clauses())
    return report


def _one(w, f: Path, folder: Path, manifests: dict[Path, dict], max_chars: int) -> FileOutcome:
    try:
        if folder not in manifests:
            manifests[folder] = load_manifest(folder)
        entry = manifests[folder].get(f.name)
        result = ingest_file(f, entry, display_path=_display(f), max_chars=max_chars)
    except ConfigError as exc:
        return FileOutcome(str(f), "skipped", reason=str(exc))
    except PolicyKBError as exc:
        return FileOutcome(str(f), "skipped", reason=getattr(exc, "problem", str(exc)))
    except OSError as exc:
        return FileOutcome(str(f), "skipped", reason=f"cannot read: {exc.strerror or exc}")
    doc = result.document
    if not result.clauses:
        return FileOutcome(str(f), "skipped", doc.doc_id, reason="no clauses found (no text?)",
                           warnings=doc.warnings)
    if w.is_unchanged(doc.doc_id, doc.sha256, PIPELINE_VERSION):
        return FileOutcome(str(f), "unchanged", doc.doc_id, doc.n_clauses)
    status = "replaced" if doc.doc_id in w.documents else "added"
    w.upsert(doc, result.clauses, PIPELINE_VERSION)
    removed = Counter(r.reason for r in result.removals)
    return FileOutcome(str(f), status, doc.doc_id, len(result.clauses), guessed=doc.guessed,
                       warnings=doc.warnings, removed=dict(removed))


def _display(f: Path) -> str:
    try:
        return str(f.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(f.resolve())


def format_report(report: IngestReport) -> str:
    lines = []
    for f in report.files:
        if f.status == "skipped":
            lines.append(f"  skipped    {f.path}: {f.reason}")
            continue
        lines.append(f"  {f.status:<10} {f.doc_id:<36} {f.clauses:>4} clauses  {f.path}")
        if f.guessed:
            lines.append(f"             guessed from the text: {', '.join(f.guessed)}")
        for warning in f.warnings:
            lines.append(f"             warning: {warning}")
        if f.removed:
            parts = ", ".join(f"{k} {v}" for k, v in sorted(f.removed.items()))
            lines.append(f"             removed (not in any clause): {parts}")
    c = report.counts
    summary = ", ".join(f"{c[k]} {k}" for k in ("added", "replaced", "unchanged", "skipped") if c[k])
    lines.append(f"files: {len(report.files)} ({summary or 'none'}); knowledge base: {report.documents} documents, "
                 f"{report.clauses} clauses")
    if report.error:
        lines.append(f"error: {report.error}")
    return "\n".join(lines)
