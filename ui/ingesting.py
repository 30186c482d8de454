"""Batch ingest: files and folders → the knowledge base, with a report.

A bad file is reported and skipped; the rest of the batch goes on. The whole batch is committed as one
new generation at the end (or nothing is, if the commit fails).

A document's identity is not its file name. A file becomes a **new version** of a stored document only
when the user says so — ``--replace DOC_ID``, a manifest entry naming the doc_id, or ingesting again the
very file (same path) the document was made from — and the old version is kept (``policykb docs
--versions``, ``policykb diff``). Any other file whose name matches a stored document is a new document
(``notice-2``); a file with the exact bytes of a stored document is reported as a duplicate.

Folder ingest never follows a symbolic link, and lists every file it leaves out with the reason (hidden,
unsupported type, folder documentation, link); names are printed with control characters escaped.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from policykb.errors import ConfigError, PolicyKBError
from policykb.index.changes import what_changed
from policykb.index.store import KnowledgeBase, Writer
from policykb.ingest.loaders import ALLOWED, PARSE_TIMEOUT_S
from policykb.ingest.loaders import KINDS as SUPPORTED_SUFFIXES
from policykb.ingest.metadata import MANIFEST_NAME, ManifestEntry, doc_id_for, load_manifest
from policykb.ingest.pipeline import PIPELINE_VERSION, file_sha256, ingest_file
from policykb.ingest.validity import DateSource

SKIP_NAMES = ("readme", "license", "changelog", "sources")  # folder documentation, not notices


@dataclass
class FileOutcome:
    path: str
    status: str  # added | new version | updated | unchanged | duplicate | skipped
    doc_id: str | None = None
    clauses: int = 0
    reason: str | None = None
    guessed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    removed: dict[str, int] = field(default_factory=dict)
    dates: tuple[DateSource, ...] = ()  # valid_from / valid_to read from the text, with where
    changes: dict[str, int] = field(default_factory=dict)  # a new version: added/removed/changed/unchanged


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

    def to_dict(self) -> dict[str, Any]:
        files = [{**vars(f), "dates": [asdict(d) for d in f.dates]} for f in self.files]
        return {
            "files": files,
            "documents": self.documents,
            "clauses": self.clauses,
            "counts": dict(self.counts),
            "error": self.error,
        }


def discover(paths: list[Path]) -> tuple[list[tuple[Path, Path]], list[FileOutcome]]:
    """(file, folder whose manifest applies) for each file to ingest; everything left out as an outcome."""
    found: list[tuple[Path, Path]] = []
    problems: list[FileOutcome] = []
    for p in paths:
        if p.is_dir():
            _walk(p, found, problems)
        elif p.is_file():
            found.append((p, p.parent))
        else:
            problems.append(FileOutcome(str(p), "skipped", reason="no such file or folder"))
    return found, problems


def _walk(root: Path, found: list[tuple[Path, Path]], problems: list[FileOutcome]) -> None:
    def skip(path: Path, reason: str) -> None:
        problems.append(FileOutcome(str(path), "skipped", reason=reason))

    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        for d in sorted(dirs):
            if (here / d).is_symlink():
                skip(here / d, "symbolic link to a folder; not followed")
            elif d.startswith("."):
                skip(here / d, "hidden folder; not searched")
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (here / d).is_symlink())
        for name in sorted(files):
            f = here / name
            if name == MANIFEST_NAME:
                continue
            if f.is_symlink():
                target = os.path.realpath(f)
                where = "inside" if Path(target).is_relative_to(root.resolve()) else "outside"
                skip(f, f"symbolic link to a file {where} the folder; not followed")
            elif name.startswith("."):
                skip(f, "hidden file")
            elif f.suffix.lower() not in SUPPORTED_SUFFIXES:
                suffix = repr(f.suffix) if f.suffix else "no extension"
                skip(f, f"unsupported file type ({suffix}); allowed: {ALLOWED}")
            elif f.stem.lower().startswith(SKIP_NAMES):
                skip(f, "folder documentation (README, LICENSE, CHANGELOG, SOURCES), not a notice")
            else:
                found.append((f, f.parent))


def waiting_message(seconds: float) -> str:
    return f"waiting for another ingest to finish… ({seconds:.0f} s)"


def ingest_paths(
    kb: KnowledgeBase,
    paths: list[Path],
    *,
    max_chars: int,
    replace: str | None = None,
    on_wait: Callable[[float], object] | None = None,
) -> IngestReport:
    """``replace``: the doc_id the (single) file is a new version of; ``on_wait(seconds)``: called while
    another writer holds the knowledge base (see ``KnowledgeBase.writer``)."""
    report = IngestReport()
    files, problems = discover(paths)
    report.files.extend(problems)
    if replace is not None and len(files) != 1:
        report.error = f"--replace {replace} takes exactly one file, not {len(files)}"
        return report
    manifests: dict[Path, dict[str, ManifestEntry]] = {}
    try:
        with kb.writer(on_wait=on_wait) as w:
            if replace is not None and replace not in w.documents:
                report.error = f"--replace {replace}: no such document (policykb docs lists them)"
                return report
            for f, folder in files:
                limit = kb.settings.parse_timeout_s
                report.files.append(_one(w, f, folder, manifests, max_chars, replace, limit))
    except PolicyKBError as exc:
        report.error = str(exc)
    except OSError as exc:
        report.error = f"could not save the knowledge base: {exc}; the previous one is unchanged"
    if report.error:  # nothing of this batch was saved, whatever each file's outcome was going to be
        for outcome in report.files:
            if outcome.status in SAVED:
                outcome.status = "not saved"
                outcome.reason = "the batch could not be saved (see the error below)"
    kb.reload()
    report.documents = len(kb.documents())
    report.clauses = kb.clause_count()
    return report


def _one(
    w: Writer,
    f: Path,
    folder: Path,
    manifests: dict[Path, dict[str, ManifestEntry]],
    max_chars: int,
    replace: str | None = None,
    parse_timeout_s: float = PARSE_TIMEOUT_S,
) -> FileOutcome:
    display = _display(f)
    try:
        if folder not in manifests:
            manifests[folder] = load_manifest(folder)
        entry = manifests[folder].get(f.name)
        target, mode, note = _identity(w, f, display, entry, replace)
        if mode == "duplicate":
            return FileOutcome(str(f), "duplicate", target, len(w.clauses.get(target, [])), reason=note)
        values = entry.values if entry else {}
        result = ingest_file(
            f,
            ManifestEntry(target, f.name, values),
            display_path=display,
            max_chars=max_chars,
            parse_timeout_s=parse_timeout_s,
        )
    except ConfigError as exc:
        return FileOutcome(str(f), "skipped", reason=str(exc))
    except PolicyKBError as exc:
        return FileOutcome(str(f), "skipped", reason=getattr(exc, "problem", str(exc)))
    except OSError as exc:
        return FileOutcome(str(f), "skipped", reason=f"cannot read: {exc.strerror or exc}")
    doc = result.document
    if not result.clauses:
        return FileOutcome(
            str(f), "skipped", doc.doc_id, reason="no clauses found (no text?)", warnings=doc.warnings
        )
    if mode == "update" and w.is_unchanged(doc.doc_id, doc.sha256, PIPELINE_VERSION):
        return FileOutcome(str(f), "unchanged", doc.doc_id, doc.n_clauses)
    changes: dict[str, int] = {}
    if mode == "version":
        diff = what_changed(w.clauses.get(doc.doc_id, []), result.clauses)
        changes = {k: len(getattr(diff, k)) for k in ("added", "removed", "changed")}
        changes["unchanged"] = diff.unchanged
        number = w.new_version(doc, result.clauses, PIPELINE_VERSION)
        status, note = (
            "new version",
            f"version {number}; the earlier one is kept (policykb diff {doc.doc_id})",
        )
    else:
        w.upsert(doc, result.clauses, PIPELINE_VERSION)
        status = "updated" if mode == "update" else "added"
    removed = Counter(r.reason for r in result.removals)
    return FileOutcome(
        str(f),
        status,
        doc.doc_id,
        len(result.clauses),
        reason=note,
        guessed=doc.guessed,
        warnings=doc.warnings,
        removed=dict(removed),
        dates=result.dates,
        changes=changes,
    )


def _identity(
    w: Writer, f: Path, display: str, entry: ManifestEntry | None, replace: str | None
) -> tuple[str, str, str | None]:
    """(doc_id, mode, note) for file ``f``: mode "update" (same bytes as that document: re-processed only
    if the pipeline changed), "version" (a new version of that document), "add" or "duplicate"."""
    sha = file_sha256(f)
    explicit = replace or (entry.doc_id if entry else None)
    base_id = explicit or doc_id_for(f)
    same = w.same_content(sha)
    if same is not None:
        if same == base_id or (explicit is None and w.documents[same].source_path == display):
            return same, "update", None
        return same, "duplicate", f"same content as {same}; not added twice"
    if explicit is not None:
        return explicit, ("version" if explicit in w.documents else "add"), None
    stored = w.documents.get(base_id)
    if stored is not None and stored.source_path == display:
        return base_id, "version", None  # the very file this document was made from, changed
    doc_id = w.free_id(base_id)
    note = None
    if doc_id != base_id:
        note = (
            f"another document is stored as {base_id}; this file is added as {doc_id} "
            f"(to make it a new version instead: policykb ingest FILE --replace {base_id})"
        )
    return doc_id, "add", note


def _display(f: Path) -> str:
    try:
        return str(f.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(f.resolve())


_CONTROL = {i: f"\\x{i:02x}" for i in [*range(0x20), 0x7F]} | {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}


def shown(name: str) -> str:
    """A file name as printed: control characters escaped, so a name cannot forge a report line.

    >>> shown("a\\nfiles: 0 (none)")
    'a\\\\nfiles: 0 (none)'
    """
    return name.translate(_CONTROL)


STATUSES = ("added", "new version", "updated", "unchanged", "duplicate", "skipped", "not saved")
SAVED = ("added", "new version", "updated")


DATE_RULES = {"validity": "its validity", "event": "event period", "effective": "effective date"}


def date_lines(dates: tuple[DateSource, ...], width: int = 40) -> list[str]:
    """Where the dates read from the text came from, one line per statement.

    >>> said = "本法自2019年1月1日起施行"
    >>> d = DateSource("valid_from", "2019-01-01", "effective", said, said, (10, 26))
    >>> date_lines((d,))
    ['valid_from 2019-01-01 from the text (effective date, chars 10–26): 本法自2019年1月1日起施行']
    """
    groups: dict[tuple[str, str, tuple[int, int]], list[DateSource]] = {}
    for d in dates:
        groups.setdefault((d.rule, d.phrase, d.span), []).append(d)
    out = []
    for (rule, phrase, (start, end)), found in groups.items():
        values = ", ".join(f"{d.field} {d.value}" for d in found)
        quote = phrase if len(phrase) <= width else phrase[:width] + "…"
        how = DATE_RULES.get(rule, rule)
        out.append(f"{values} from the text ({how}, chars {start}–{end}): {shown(quote)}")
    return out


def changes_line(changes: dict[str, int]) -> str:
    """A new version against the one it replaced, in clauses.

    >>> changes_line({"added": 3, "removed": 1, "changed": 2, "unchanged": 14})
    'changed: 3 added, 1 removed, 2 changed, 14 unchanged'
    """
    return "changed: " + ", ".join(
        f"{changes.get(k, 0)} {k}" for k in ("added", "removed", "changed", "unchanged")
    )


def format_report(report: IngestReport) -> str:
    lines = []
    for f in report.files:
        if f.status == "skipped":
            lines.append(f"  skipped    {shown(f.path)}: {shown(f.reason or '')}")
            continue
        lines.append(f"  {f.status:<11} {f.doc_id:<36} {f.clauses:>4} clauses  {shown(f.path)}")
        if f.reason:
            lines.append(f"             {shown(f.reason)}")
        if f.guessed:
            lines.append(f"             guessed from the text: {', '.join(f.guessed)}")
        lines.extend(f"             {line}" for line in date_lines(f.dates))
        for warning in f.warnings:
            lines.append(f"             warning: {warning}")
        if f.removed:
            parts = ", ".join(f"{k} {v}" for k, v in sorted(f.removed.items()))
            lines.append(f"             removed (not in any clause): {parts}")
        if f.changes:
            lines.append(f"             {changes_line(f.changes)}")
    if report.error and not report.files:  # refused before any file was read: the error says it all
        return f"error: {report.error}"
    c = report.counts
    summary = ", ".join(f"{c[k]} {k}" for k in STATUSES if c[k])
    lines.append(
        f"files: {len(report.files)} ({summary or 'none'}); knowledge base: {report.documents} documents, "
        f"{report.clauses} clauses"
    )
    if report.error:
        lines.append(f"error: {report.error}")
    return "\n".join(lines)
