"""Reading the TOML data files (glossary, lexicon, names, stop words, the abstention model): one way to open
them and one wording for what is wrong, always naming the file.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.toml"
>>> _ = p.write_text("[words]\\nlist = ['a', 'b']\\n", encoding="utf-8")
>>> data = read_toml(p, "the test words", allowed={"words"})
>>> string_list(p, data["words"]["list"], "[words] list")
['a', 'b']
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from policykb.errors import ConfigError


def read_toml(
    path: Path, what: str, *, allowed: Iterable[str] | None = None, hint: str = ""
) -> dict[str, Any]:
    """The tables of ``path`` (``what`` it holds, for the message); ``allowed``: the only top-level tables it
    may have; ``hint``: how to repair it, appended to a read error."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc}){'; ' + hint if hint else ''}") from exc
    if allowed is not None:
        unknown = set(data) - set(allowed)
        if unknown:
            raise ConfigError(
                f"{path}: unknown tables {sorted(unknown)}; allowed: "
                + ", ".join(f"[{a}]" for a in sorted(allowed))
            )
    return data


def string_list(path: Path, value: object, where: str) -> list[str]:
    """``value`` when it is a list of strings, else a ``ConfigError`` naming ``where`` in ``path``."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {where} must be a list of strings")
    return value
