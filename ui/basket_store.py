"""Where a browser's 摘录 basket is kept between page loads: ``$POLICYKB_HOME/baskets/<id>.json``.

The id is a random URL-safe token the app keeps in the page's link (``?basket=…``); only a token of
16–64 letters, digits, "-" or "_" names a file, so no id can reach outside the folder. A file is replaced
atomically (temp → fsync → ``os.replace`` → fsync the folder); one that cannot be read is set aside as
``<id>.json.damaged`` and the basket starts empty.

>>> import tempfile
>>> home = Path(tempfile.mkdtemp())
>>> write_basket(home, "a" * 22, [])
>>> read_basket(home, "a" * 22), read_basket(home, "b" * 22)
([], [])
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from policykb.index.disk import fsync_dir
from policykb.ingest.record import Clause

BASKET_FORMAT = "policykb-basket"
_BASKET_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
log = logging.getLogger(__name__)


def new_basket_id() -> str:
    """128 random bits: nobody guesses another browser's basket."""
    return secrets.token_urlsafe(16)


def is_basket_id(bid: str) -> bool:
    return _BASKET_ID.fullmatch(bid) is not None


def basket_path(home: Path, bid: str) -> Path:
    if not is_basket_id(bid):
        raise ValueError(f"basket id {bid!r} is not allowed: 16–64 letters, digits, '-' or '_'")
    return home / "baskets" / f"{bid}.json"


def read_basket(home: Path, bid: str) -> list[dict[str, Any]]:
    """The saved items of basket ``bid``; [] when there is none. A damaged file is set aside."""
    path = basket_path(home, bid)
    try:
        items = _items(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        items, problem = None, str(exc)
    else:
        problem = f"not a {BASKET_FORMAT} file"
    if items is None:
        log.warning("basket %s cannot be read (%s); set aside, starting an empty one", path, problem)
        path.replace(path.with_name(path.name + ".damaged"))
        return []
    return [i for i in items if isinstance(i, dict) and _valid_item(i)]


def _items(text: str) -> list[Any] | None:
    data = json.loads(text)
    if isinstance(data, dict) and data.get("format") == BASKET_FORMAT and isinstance(data.get("items"), list):
        return list(data["items"])
    return None


def _valid_item(item: dict[str, Any]) -> bool:
    """A clause item, or an answer item with at least one citation, each holding a clause's fields."""
    clauses = item.get("citations") if item.get("kind") == "answer" else [item]
    if not isinstance(clauses, list) or not clauses:
        return False
    try:
        for c in clauses:
            Clause.from_dict(c)
    except (KeyError, TypeError, ValueError):
        return False
    return True


def write_basket(home: Path, bid: str, items: list[dict[str, Any]]) -> None:
    path = basket_path(home, bid)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"format": BASKET_FORMAT, "version": 1, "items": items}, ensure_ascii=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{bid}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
