"""The knowledge base on disk: numbered generations, a checksum manifest, an atomic CURRENT pointer, a lock.

::

    HOME/
      CURRENT                  "7\\n7 <sha256>\\n6 <sha256>\\n": the live generation, then the SHA-256 of the
                               manifest.json of each generation kept (the seal; replaced atomically)
      lock                     flock'ed by the one writer; readers never take it
      generations/
        6/                     the previous generation, kept so a failed save leaves one to load
        7/  clauses.jsonl documents.json ids.json tokens.jsonl vectors.faiss bm25/… manifest.json
        .tmp-8-<pid>-<rand>/   a save in progress (removed at start if its writer died)

A generation is written into a temp directory; every file is fsynced, the manifest (sizes and SHA-256 of
every file) is written last, the directory is renamed into place, and only then is CURRENT replaced
(temp → fsync → ``os.replace`` → fsync directory). A generation is never modified after it is named, so
readers need no lock, and files of two generations can never mix (RELIABILITY 1, 2, 6, 7).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from policykb.errors import IndexIncompleteError, LockBusyError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
GENERATIONS = "generations"
LOCK = "lock"
TMP_PREFIX = ".tmp-"
CURRENT_TMP_PREFIX = ".CURRENT.tmp-"
REBUILD = "run `policykb ingest` to rebuild"
LOCK_WAIT_SECONDS = 300.0  # a second writer waits its turn this long (settings: writer_wait_seconds)
PROGRESS_EVERY = 5.0
_CHUNK = 1 << 20


def incomplete(path: Path, problem: str) -> IndexIncompleteError:
    return IndexIncompleteError(f"{path}: {problem}; {REBUILD}")


# --- writing -------------------------------------------------------------------------------------------


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# A test hook, not a setting: a process started with POLICYKB_TEST_FAULT_AT=<point> dies (exit 9, as from
# kill -9: no cleanup runs) when a save reaches that point; tests/index/test_faults.py visits every point.
_FAULT_AT = os.environ.get("POLICYKB_TEST_FAULT_AT")
_FAULTS_SEEN: list[str] | None = [] if os.environ.get("POLICYKB_TEST_FAULT_RECORD") else None


def fault_point(name: str) -> None:
    if _FAULTS_SEEN is not None:
        _FAULTS_SEEN.append(name)
    if name == _FAULT_AT:
        os._exit(9)


def faults_seen() -> list[str]:
    return list(_FAULTS_SEEN or ())


def write_bytes(path: Path, data: bytes | memoryview) -> None:
    """Create ``path`` (it must not exist), write ``data`` and fsync it."""
    write_chunks(path, [data])


def write_chunks(path: Path, chunks: Iterable[bytes | memoryview]) -> None:
    """``write_bytes`` of the chunks joined, written as they come (a file larger than memory should hold
    at once)."""
    with writing(path) as write:
        for data in chunks:
            write(data)


@contextmanager
def writing(path: Path) -> Iterator[Callable[[bytes | memoryview], int]]:
    """Create ``path`` (it must not exist) and give a ``write(data)`` that appends to it (returning the
    bytes written); fsynced when the block ends. The fault point ``inside:`` is half-way through the
    first non-empty write."""
    name = path.name if not path.name.startswith(CURRENT_TMP_PREFIX) else CURRENT
    fault_point(f"before:{name}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    first = [True]

    def write(data: bytes | memoryview) -> int:
        view = memoryview(data)
        half = len(view) // 2 if first[0] and len(view) else -1
        first[0] = first[0] and not len(view)
        written = 0
        while view:
            n = os.write(fd, view[: min(_CHUNK, max(half - written, 1)) if written < half else _CHUNK])
            view = view[n:]
            written += n
            if written >= half >= 0 and written - n < half:
                fault_point(f"inside:{name}")  # half of the first write on disk
        return written

    try:
        yield write
        os.fsync(fd)
    finally:
        os.close(fd)
    fault_point(f"after:{name}")


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def digest(path: Path) -> tuple[int, str]:
    """(size, sha256 hex) of a file."""
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def digests(paths: list[Path]) -> dict[Path, tuple[int, str]]:
    """``digest`` of each of ``paths``, a file per core at once (hashlib releases the GIL), the largest
    first: 4.3 GB at 1M clauses."""
    biggest_first = sorted(paths, key=lambda p: -p.stat().st_size)
    with ThreadPoolExecutor(max(1, min(len(paths), os.cpu_count() or 1))) as pool:
        return dict(zip(biggest_first, pool.map(digest, biggest_first)))


def seal(directory: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """fsync every file under ``directory``, then write ``manifest.json`` (with their sizes and
    checksums) last and fsync the directories. Returns the manifest written."""
    paths = sorted(p for p in directory.rglob("*") if p.is_file())
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    found = digests(paths)
    files = {}
    for path in paths:
        size, sha = found[path]
        files[path.relative_to(directory).as_posix()] = {"size": size, "sha256": sha}
    manifest = {**manifest, "files": files}
    write_text(directory / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    for sub in sorted({p.parent for p in directory.rglob("*")} | {directory}, reverse=True):
        fsync_dir(sub)
    return manifest


def replace_text(path: Path, text: str) -> None:
    """Atomically replace ``path``: temp → fsync → ``os.replace`` → fsync the directory."""
    tmp = path.with_name(f"{CURRENT_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        write_text(tmp, text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fault_point("replaced:CURRENT")
    fsync_dir(path.parent)


# --- reading and verifying -----------------------------------------------------------------------------


def _listed(directory: Path, rel: str) -> Path:
    parts = PurePosixPath(rel).parts
    if not parts or rel.startswith("/") or ".." in parts:
        raise incomplete(directory / MANIFEST, f"lists an unsafe file name {rel!r}")
    return directory.joinpath(*parts)


def _check_size(path: Path, expected: int) -> None:
    if not path.is_file():
        raise incomplete(path, "file listed in the manifest is missing")
    size = path.stat().st_size
    if size == expected:
        return
    if size == 0:
        raise incomplete(path, f"file is empty (the manifest says {expected} bytes)")
    raise incomplete(path, f"file is {size} bytes, the manifest says {expected} (truncated or incomplete)")


def checksum_error(path: Path) -> IndexIncompleteError:
    return incomplete(path, "SHA-256 does not match the manifest (the file is corrupt)")


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise incomplete(path, "manifest is missing (the generation was not completely written)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise incomplete(path, f"manifest is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise incomplete(path, "manifest has no file list")
    return manifest


def verify(directory: Path, *, defer: tuple[str, ...] = (), seal: str | None = None) -> dict[str, Any]:
    """Check the manifest against its ``seal`` (when CURRENT records one), then every file it lists (size,
    then SHA-256); return the manifest.

    Files named in ``defer`` are only size-checked here; read them with ``read_verified``, which checks
    the checksum of the very bytes it returns. The others are hashed a file per core at once (hashlib
    releases the GIL)."""
    if broken_seal(directory, seal):
        raise incomplete(directory / MANIFEST, BROKEN_SEAL)
    manifest = read_manifest(directory)
    hashed: list[tuple[Path, str]] = []
    for rel, meta in manifest["files"].items():
        path = _listed(directory, rel)
        _check_size(path, int(meta["size"]))
        if rel not in defer:
            hashed.append((path, meta["sha256"]))
    found = digests([path for path, _ in hashed])
    for path, expected in hashed:  # the first corrupt file in the manifest's order is the one named
        if found[path][1] != expected:
            raise checksum_error(path)
    return manifest


def read_verified(directory: Path, manifest: dict[str, Any], rel: str) -> bytes:
    meta = manifest["files"].get(rel)
    path = _listed(directory, rel)
    if meta is None:
        raise incomplete(directory / MANIFEST, f"does not list {rel}")
    _check_size(path, int(meta["size"]))
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != meta["sha256"]:
        raise checksum_error(path)
    return data


# --- generations ---------------------------------------------------------------------------------------


def generations_dir(home: Path) -> Path:
    return home / GENERATIONS


def generation_path(home: Path, number: int) -> Path:
    return generations_dir(home) / str(number)


def generation_numbers(home: Path) -> list[int]:
    """Numbers of the named generation directories, ascending."""
    root = generations_dir(home)
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit())


def _current_lines(home: Path) -> list[str] | None:
    try:
        return (home / CURRENT).read_text(encoding="ascii").split("\n")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("%s is unreadable (%s); looking for the newest complete generation", home / CURRENT, exc)
        return None


def read_seals(home: Path) -> dict[int, str]:
    """Generation number → the SHA-256 its ``manifest.json`` was written with, as CURRENT records it."""
    seals = {}
    for line in (_current_lines(home) or [])[1:]:
        number, _, sha = line.strip().partition(" ")
        if number.isdigit() and len(sha) == 64:
            seals[int(number)] = sha
    return seals


def manifest_sha(directory: Path) -> str:
    return digest(directory / MANIFEST)[1]


BROKEN_SEAL = "does not match the checksum CURRENT sealed it with (it was changed after it was written)"


def broken_seal(directory: Path, seal: str | None) -> bool:
    """Whether the generation's manifest differs from the checksum CURRENT recorded for it (``seal``)."""
    return seal is not None and (directory / MANIFEST).is_file() and manifest_sha(directory) != seal


def read_current(home: Path) -> int | None:
    """The generation CURRENT names; ``None`` if there is no CURRENT (or it is unreadable)."""
    lines = _current_lines(home)
    if lines is None:
        return None
    text = lines[0].strip()
    if not text.isdigit():
        log.warning(
            "%s holds %r, not a generation number; looking for the newest complete generation",
            home / CURRENT,
            text[:40],
        )
        return None
    return int(text)


def new_temp_dir(home: Path, number: int) -> Path:
    root = generations_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{TMP_PREFIX}{number}-{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()
    return path


def publish(home: Path, temp: Path, number: int, keep: int | None = None) -> Path:
    """Rename a sealed temp directory to generation ``number`` and point CURRENT at it, recording the
    manifest checksums of it and of generation ``keep`` (the one it was built from)."""
    seals = {n: sha for n, sha in read_seals(home).items() if n == keep}
    if keep is not None and keep not in seals and (generation_path(home, keep) / MANIFEST).is_file():
        seals[keep] = manifest_sha(generation_path(home, keep))  # verified when loaded; written before seals
    seals[number] = manifest_sha(temp)
    final = generation_path(home, number)
    fault_point("before:rename")
    os.rename(temp, final)
    try:
        fsync_dir(final.parent)
        fault_point("after:rename")
        replace_current(home, number, seals)
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
    return final


def replace_current(home: Path, number: int, seals: dict[int, str] | None = None) -> None:
    lines = [str(number)] + [f"{n} {sha}" for n, sha in sorted((seals or {}).items(), reverse=True)]
    replace_text(home / CURRENT, "\n".join(lines) + "\n")


def prune(home: Path, keep: set[int]) -> None:
    """Remove named generations not in ``keep`` (failures are logged: the new generation is live)."""
    for number in generation_numbers(home):
        if number not in keep:
            fault_point(f"prune:{number}")
            try:
                shutil.rmtree(generation_path(home, number))
            except OSError as exc:
                log.warning("could not remove old generation %s: %s", generation_path(home, number), exc)


def clean_stale(home: Path) -> list[Path]:
    """Remove temp directories and files left by writers that died. Call only while holding the lock."""
    stale = []
    root = generations_dir(home)
    if root.is_dir():
        stale += [p for p in root.iterdir() if p.name.startswith(TMP_PREFIX)]
    if home.is_dir():
        stale += [p for p in home.iterdir() if p.name.startswith(CURRENT_TMP_PREFIX)]
    for path in stale:
        log.info("removing stale %s", path)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


# --- the writer lock -----------------------------------------------------------------------------------


@contextmanager
def exclusive_lock(
    home: Path, wait: float = LOCK_WAIT_SECONDS, on_wait: Callable[[float], object] | None = None
) -> Iterator[None]:
    """Hold ``HOME/lock`` exclusively, waiting for another writer up to ``wait`` seconds (then
    ``LockBusyError``); ``on_wait(seconds waited so far)`` is called when the wait starts and every
    ``PROGRESS_EVERY`` seconds after, so a person sees why nothing happens."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        start = time.monotonic()
        told = None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - start
                if waited >= wait:
                    raise LockBusyError(
                        f"another process is still writing to the knowledge base at {home} "
                        f"after {waited:.0f} s; nothing was changed, try again when it is "
                        f"done (or raise writer_wait_seconds)"
                    ) from None
                if on_wait is not None and (told is None or waited - told >= PROGRESS_EVERY):
                    on_wait(waited)
                    told = waited
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def try_clean_stale(home: Path) -> None:
    """Clean stale temp files if no writer is active right now; never waits."""
    if not home.is_dir():
        return
    try:
        with exclusive_lock(home, wait=0):
            clean_stale(home)
    except LockBusyError:
        pass
    except OSError as exc:  # a read-only home: readers must still work
        log.debug("could not check for stale files in %s: %s", home, exc)
