"""Checking a knowledge base on disk and rebuilding what can be rebuilt, without losing a notice.

A generation's clauses and documents (``clauses.jsonl``, ``documents.json``, ``versions.jsonl``) are the
knowledge; vectors, BM25 and tokens are derived from them. So when a generation is damaged:

- if its knowledge files still verify, they are **salvaged**: re-embedded and re-indexed into a new
  generation (``policykb repair``, and automatically before any write would build on an older one);
- if they do not, nothing is deleted: ``lost`` names the documents only that generation held (when its
  ``documents.json`` can still be read) and where their files were, so they can be ingested again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policykb.errors import IndexError_, IndexIncompleteError
from policykb.index import disk
from policykb.index.generation import CLAUSES, DOCUMENTS, VERSIONS
from policykb.ingest.record import Clause, Document


@dataclass
class Salvaged:
    documents: dict[str, Document]
    pipeline: dict[str, str]
    clauses: dict[str, list[Clause]]
    versions: list[dict[str, Any]] = field(default_factory=list)


def _verified_json_lines(path: Path, manifest: dict[str, Any], name: str) -> list[str]:
    return disk.read_verified(path, manifest, name).decode("utf-8").splitlines()


def salvage(home: Path, number: int) -> Salvaged:
    """The knowledge of generation ``number`` (documents, clauses, earlier versions), each file checked
    against the sealed manifest; ``IndexIncompleteError`` naming the file when that is not possible."""
    path = disk.generation_path(home, number)
    if disk.broken_seal(path, disk.read_seals(home).get(number)):
        raise disk.incomplete(path / disk.MANIFEST, disk.BROKEN_SEAL)
    manifest = disk.read_manifest(path)
    try:
        entries = json.loads(disk.read_verified(path, manifest, DOCUMENTS).decode("utf-8"))["documents"]
        documents = {e["document"]["doc_id"]: Document.from_dict(e["document"]) for e in entries}
        pipeline = {e["document"]["doc_id"]: e["pipeline_version"] for e in entries}
        clauses: dict[str, list[Clause]] = {doc_id: [] for doc_id in documents}
        for line in _verified_json_lines(path, manifest, CLAUSES):
            c = Clause.from_dict(json.loads(line))
            clauses[c.doc_id].append(c)
        versions = (
            [json.loads(v) for v in _verified_json_lines(path, manifest, VERSIONS)]
            if VERSIONS in manifest["files"]
            else []
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise disk.incomplete(
            path, f"its documents or clauses cannot be read ({type(exc).__name__}: {exc})"
        ) from exc
    return Salvaged(documents, pipeline, clauses, versions)


def readable_documents(home: Path, number: int) -> dict[str, tuple[str, str | None]] | None:
    """doc_id → (source path, sha256 or None) of what a damaged generation held: from its documents.json
    when that still parses, else from the lines of its clauses.jsonl that do (each names its document and
    file); None when neither can be read."""
    path = disk.generation_path(home, number)
    try:
        data = json.loads((path / DOCUMENTS).read_text(encoding="utf-8"))
        return {
            e["document"]["doc_id"]: (e["document"]["source_path"], e["document"]["sha256"])
            for e in data["documents"]
        }
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found: dict[str, tuple[str, str | None]] = {}
    try:
        lines = (path / CLAUSES).read_bytes().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        try:
            c = json.loads(line)
            found.setdefault(c["doc_id"], (c["source"]["path"], None))
        except (ValueError, KeyError, TypeError):
            continue
    return found or None


def lost_message(home: Path, damaged: int, serving: dict[str, Document], problem: str) -> str:
    """What would be lost if generation ``damaged`` were given up, and how to get it back."""
    listed = readable_documents(home, damaged)
    if listed is None:
        return (
            f"generation {damaged} is damaged ({problem}) and its document list cannot be read either, so "
            f"the documents only it held cannot be named. Nothing was deleted; ingest your notices again "
            f"to restore them"
        )
    only = [
        (doc_id, source)
        for doc_id, (source, sha) in listed.items()
        if doc_id not in serving or (sha is not None and serving[doc_id].sha256 != sha)
    ]
    if not only:
        return f"generation {damaged} is damaged ({problem}); every document it held is in the one served"
    files = "; ".join(f"{doc_id} ({source})" for doc_id, source in only)
    return (
        f"generation {damaged} is damaged ({problem}) and cannot be rebuilt from its own files; "
        f"{len(only)} document(s) it held are not in the generation served: {files}. Nothing was deleted; "
        f"restore them with `policykb ingest` of those files, then `policykb repair`"
    )


@dataclass
class FileCheck:
    name: str
    problem: str | None  # None: size and SHA-256 match the manifest


@dataclass
class GenerationCheck:
    number: int
    current: bool
    problem: str | None  # None: the generation verifies and loads
    files: list[FileCheck] = field(default_factory=list)


def check_generation(
    home: Path, number: int, current: bool, load: Callable[[int], object]
) -> GenerationCheck:
    """Every file of generation ``number`` against its manifest, then a full load (``load(number)``)."""
    path = disk.generation_path(home, number)
    files: list[FileCheck] = []
    if disk.broken_seal(path, disk.read_seals(home).get(number)):
        files.append(FileCheck(disk.MANIFEST, disk.BROKEN_SEAL))
    try:
        manifest = disk.read_manifest(path)
        for rel, meta in sorted(manifest["files"].items()):
            f = path / rel
            if not f.is_file():
                files.append(FileCheck(rel, "missing"))
            elif f.stat().st_size != int(meta["size"]):
                files.append(FileCheck(rel, f"{f.stat().st_size} bytes, the manifest says {meta['size']}"))
            elif disk.digest(f)[1] != meta["sha256"]:
                files.append(FileCheck(rel, "SHA-256 does not match the manifest (corrupt)"))
            else:
                files.append(FileCheck(rel, None))
    except IndexIncompleteError as exc:
        files.append(FileCheck(disk.MANIFEST, str(exc)))
    try:
        load(number)
        problem = None
    except IndexError_ as exc:
        problem = str(exc)
    return GenerationCheck(number, current, problem, files)


def restorable(
    home: Path, damaged: int, serving: dict[str, Document]
) -> tuple[list[tuple[str, Path]], list[str]]:
    """For a generation whose own files cannot rebuild it: (doc_id, file) for each document only it held
    whose original file is still there with the same bytes, and the reasons the others are not."""
    from policykb.ingest.pipeline import file_sha256

    listed = readable_documents(home, damaged) or {}
    ok, missing = [], []
    for doc_id, (source, sha) in listed.items():
        if doc_id in serving and (sha is None or serving[doc_id].sha256 == sha):
            continue
        path = Path(source)
        if not path.is_file():
            missing.append(f"{doc_id}: its file {source} is gone")
        elif sha is not None and file_sha256(path) != sha:
            missing.append(f"{doc_id}: its file {source} has changed since it was ingested")
        else:
            ok.append((doc_id, path))
    if not listed:
        missing.append(f"generation {damaged}: its documents cannot be named")
    return ok, missing
