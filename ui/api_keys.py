"""API keys for ``policykb serve``, kept hashed in the knowledge base's home (``api_keys.json``).

A key is shown once, when it is made (``policykb keys add NAME``); the file holds only its SHA-256, its name
and when it was made, so reading the home never reveals a key. A request's bearer token is hashed and compared
with every stored hash in constant time.

>>> import tempfile; home = Path(tempfile.mkdtemp())
>>> entry, secret = add_key(home, "ci")
>>> secret.startswith("pkb_"), entry.name, [e.name for e in list_keys(home)]
(True, 'ci', ['ci'])
>>> key_name(home, secret), key_name(home, "pkb_wrong")
('ci', None)
>>> remove_key(home, "ci").name, list_keys(home)
('ci', [])
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from policykb.errors import ConfigError
from policykb.index.disk import replace_text

KEYS_FILE = "api_keys.json"
PREFIX = "pkb_"
NAME = re.compile(r"^[\w.@-]{1,40}$")


@dataclass(frozen=True)
class KeyEntry:
    id: str  # the first characters of the hash: enough to name a key in `keys list` / `keys rm`
    name: str
    sha256: str
    created: str

    def public(self) -> dict[str, str]:
        """What may be shown: everything but the hash."""
        return {"id": self.id, "name": self.name, "created": self.created}


def _path(home: Path) -> Path:
    return Path(home) / KEYS_FILE


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


_read: dict[Path, tuple[tuple[int, int, int], list[KeyEntry]]] = {}  # path → (its stat, its keys)


def list_keys(home: Path) -> list[KeyEntry]:
    """The stored keys, oldest first (none when the file does not exist). The file is read again only
    when it changed (a write replaces it: a new inode), so a server asks on every request at the cost of
    one stat."""
    path = _path(home)
    try:
        st = path.stat()
    except FileNotFoundError:
        return []
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    cached = _read.get(path)
    if cached is not None and cached[0] == stamp:
        return list(cached[1])
    try:
        entries = [KeyEntry(**row) for row in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the API keys ({exc}); remove the file to start again"
        ) from exc
    _read[path] = (stamp, entries)
    return list(entries)


def _write(home: Path, entries: list[KeyEntry]) -> None:
    Path(home).mkdir(parents=True, exist_ok=True)
    path = _path(home)
    replace_text(path, json.dumps([asdict(e) for e in entries], ensure_ascii=False, indent=1))
    path.chmod(0o600)


def add_key(home: Path, name: str) -> tuple[KeyEntry, str]:
    """A new key named ``name``: (its entry, the key itself — shown once, never stored)."""
    if not NAME.match(name):
        raise ValueError(f"key name {name!r}: use 1-40 letters, digits, '.', '_', '@' or '-'")
    entries = list_keys(home)
    if any(e.name == name for e in entries):
        raise ValueError(f"a key named {name!r} exists; remove it first (policykb keys rm {name})")
    secret = PREFIX + secrets.token_urlsafe(32)
    digest = _digest(secret)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = KeyEntry(digest[:8], name, digest, created)
    _write(home, [*entries, entry])
    return entry, secret


def remove_key(home: Path, which: str) -> KeyEntry:
    """Remove the key whose id or name is ``which``; ``KeyError`` naming the keys there are otherwise."""
    entries = list_keys(home)
    gone = next((e for e in entries if which in (e.id, e.name)), None)
    if gone is None:
        known = ", ".join(f"{e.name} ({e.id})" for e in entries) or "none"
        raise KeyError(f"no API key {which!r}; keys: {known}")
    _write(home, [e for e in entries if e is not gone])
    return gone


def key_name(home: Path, secret: str) -> str | None:
    """The name of the stored key ``secret`` is, or None. Every hash is compared (constant time each)."""
    if not secret:
        return None
    digest = _digest(secret)
    found = None
    for e in list_keys(home):
        if hmac.compare_digest(digest, e.sha256):
            found = e.name
    return found
