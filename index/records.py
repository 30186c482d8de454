"""Clause records of a generation as the query process holds them: the records themselves stay on disk
(``clauses.jsonl``) and are read and decoded when a hit needs one; what every query needs of every row
(its vector key, the fields filters and references look at) is held as compact columns.

``columns.npz`` (written beside ``clauses.jsonl``):

- ``keys``     int64, the vector key of row i (``clause_key`` of its clause id)
- ``offsets``  int64, n + 1 byte offsets: row i is ``clauses.jsonl[offsets[i]:offsets[i + 1]]``
- ``<field>``  int32 codes of row i's value of each of ``COLUMN_FIELDS`` in ``tables[<field>]`` (-1: none)
- ``tables``   UTF-8 JSON ``{field: [value, …]}``: each field's distinct values, in order of first use

>>> columns = Columns.of([])
>>> len(columns), columns.value("region", 0) if len(columns) else None
(0, None)
"""

from __future__ import annotations

import io
import itertools
import json
import os
import weakref
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, overload

import numpy as np

from policykb.errors import IndexMismatchError
from policykb.index import disk
from policykb.index.vectors import clause_key
from policykb.ingest.record import Clause

# Fields filters (``filters.VALUE_FIELDS`` and the date) and references (label, section path) look at.
COLUMN_FIELDS = (
    "doc_id",
    "region",
    "issuer",
    "platform",
    "doc_type",
    "doc_number",
    "date",
    "label",
    "section_path",
)
CACHED_RECORDS = 4096  # decoded records kept per generation (a query reads a few dozen)
_READ_ROWS = 2048  # rows read at once when iterating over every record


def field_value(clause: Clause, name: str) -> str | None:
    """``clause``'s value of column ``name`` (a section path as a JSON list)."""
    if name in ("doc_id", "label"):
        return str(getattr(clause, name))
    if name == "section_path":
        return json.dumps(list(clause.section_path), ensure_ascii=False)
    value = getattr(clause.metadata, name)
    return None if value is None else str(value)


@dataclass(frozen=True)
class Column:
    """Row codes into a table of distinct values (code -1: no value)."""

    codes: np.ndarray
    table: list[str]

    def value(self, row: int) -> str | None:
        code = int(self.codes[row])
        return None if code < 0 else self.table[code]


class ColumnsBuilder:
    """Columns collected one clause at a time (while its line is written)."""

    def __init__(self) -> None:
        self.keys = array("q")
        self.offsets = array("q", [0])
        self.codes = {name: array("i") for name in COLUMN_FIELDS}
        self.code_of: dict[str, dict[str | None, int]] = {name: {None: -1} for name in COLUMN_FIELDS}

    def add(self, clause: Clause, size: int = 0) -> None:
        """Add ``clause`` as the next row; ``size``: the bytes of its line in ``clauses.jsonl``."""
        self.keys.append(clause_key(clause.clause_id))
        self.offsets.append(self.offsets[-1] + size)
        for name in COLUMN_FIELDS:
            value = field_value(clause, name)
            code_of = self.code_of[name]
            code = code_of.get(value)
            if code is None:
                code = code_of[value] = len(code_of) - 1
            self.codes[name].append(code)

    def finish(self) -> Columns:
        fields = {}
        for name in COLUMN_FIELDS:
            table = [v for v in self.code_of[name] if v is not None]  # dicts keep insertion order
            fields[name] = Column(np.frombuffer(self.codes[name], dtype=np.int32).copy(), table)
        return Columns(
            np.frombuffer(self.keys, dtype=np.int64).copy(),
            np.frombuffer(self.offsets, dtype=np.int64).copy(),
            fields,
        )


@dataclass(frozen=True)
class Columns:
    """Per-row keys, byte offsets and field codes of a generation's clauses (see the module docstring)."""

    keys: np.ndarray
    offsets: np.ndarray
    fields: dict[str, Column]

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def of(cls, clauses: Iterable[Clause]) -> Columns:
        """Columns of clauses held in memory (their offsets all 0)."""
        builder = ColumnsBuilder()
        for clause in clauses:
            builder.add(clause)
        return builder.finish()

    def value(self, name: str, row: int) -> str | None:
        return self.fields[name].value(row)

    def save(self) -> bytes:
        tables = json.dumps({name: c.table for name, c in self.fields.items()}, ensure_ascii=False)
        out = io.BytesIO()
        arrays: dict[str, Any] = {name: c.codes for name, c in self.fields.items()}
        arrays |= {"keys": self.keys, "offsets": self.offsets}
        np.savez(out, tables=np.frombuffer(tables.encode("utf-8"), dtype=np.uint8), **arrays)
        return out.getvalue()

    @classmethod
    def load(cls, data: bytes) -> Columns:
        """Columns from ``save``'s bytes (checked against the manifest by the caller); ``ValueError`` or
        ``KeyError`` when they are not columns of this layout."""
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            tables = json.loads(npz["tables"].tobytes().decode("utf-8"))
            keys, offsets = npz["keys"].astype(np.int64), npz["offsets"].astype(np.int64)
            fields = {name: Column(npz[name].astype(np.int32), list(tables[name])) for name in COLUMN_FIELDS}
        n = len(keys)
        if len(offsets) != n + 1 or any(len(c.codes) != n for c in fields.values()):
            raise ValueError(f"columns of unequal length ({n} keys, {len(offsets)} offsets)")
        if any(len(c.codes) and int(c.codes.max()) >= len(c.table) for c in fields.values()):
            raise ValueError("a column code beyond its table")
        return cls(keys, offsets, fields)


def decode(line: bytes) -> Clause:
    return Clause.from_dict(json.loads(line))


class ClauseRecords(Sequence[Clause]):
    """The clauses of ``clauses.jsonl``, row by row, read from disk and decoded when asked for.

    The file is kept open, so a generation a writer prunes meanwhile is still read (its file unlinked,
    not gone). Each record read is checked to be the clause whose key the row has: a file of another
    generation is never served for this one's vectors."""

    def __init__(self, path: Path, columns: Columns):
        self.path = path
        self.keys = columns.keys
        self.offsets = columns.offsets
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)
        self._cached = lru_cache(maxsize=CACHED_RECORDS)(self._read)

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> Clause: ...

    @overload
    def __getitem__(self, index: slice) -> list[Clause]: ...

    def __getitem__(self, index: int | slice) -> Clause | list[Clause]:
        if isinstance(index, slice):
            return [self._cached(r) for r in range(*index.indices(len(self)))]
        row = int(index)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"row {index} of {len(self)}")
        return self._cached(row)

    def __iter__(self) -> Iterator[Clause]:
        for start in range(0, len(self), _READ_ROWS):
            stop = min(start + _READ_ROWS, len(self))
            data = self._bytes(start, stop)
            base = int(self.offsets[start])
            for row in range(start, stop):
                line = data[int(self.offsets[row]) - base : int(self.offsets[row + 1]) - base]
                yield self._checked(row, line)

    def _bytes(self, start: int, stop: int) -> bytes:
        """The lines of rows ``start`` … ``stop - 1``."""
        offset, size = int(self.offsets[start]), int(self.offsets[stop] - self.offsets[start])
        data = os.pread(self._fd, size, offset)
        if len(data) != size:
            raise disk.incomplete(
                self.path,
                f"could not be read (it ends at byte {offset + len(data)}, before row {stop - 1} does)",
            )
        return data

    def _read(self, row: int) -> Clause:
        return self._checked(row, self._bytes(row, row + 1))

    def _checked(self, row: int, line: bytes) -> Clause:
        try:
            clause = decode(line)
        except (ValueError, KeyError, TypeError) as exc:
            raise disk.incomplete(
                self.path, f"could not be read (row {row}: {type(exc).__name__}: {exc})"
            ) from exc
        if clause_key(clause.clause_id) != int(self.keys[row]):
            raise IndexMismatchError(
                f"knowledge base generation at {self.path.parent} is inconsistent: row {row} of "
                f"{self.path.name} is clause {clause.clause_id!r}, not the one its key names; {disk.REBUILD}"
            )
        return clause


class KeyRows:
    """Vector key → row, by binary search over the sorted keys (no dict of a million ints)."""

    def __init__(self, keys: np.ndarray):
        self._order = np.argsort(keys, kind="stable")
        self._sorted = keys[self._order]

    def get(self, key: int, default: Any = None) -> Any:
        i = int(np.searchsorted(self._sorted, key))
        if i < len(self._sorted) and int(self._sorted[i]) == key:
            return int(self._order[i])
        return default

    def __getitem__(self, key: int) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return int(row)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int | np.integer) and self.get(int(key)) is not None


def doc_ranges(doc_ids: Column) -> dict[str, range]:
    """Document id → its rows (a document's clauses are consecutive rows)."""
    codes = doc_ids.codes
    if not len(codes):
        return {}
    starts = np.concatenate([[0], np.flatnonzero(np.diff(codes)) + 1, [len(codes)]]).tolist()
    return {doc_ids.table[int(codes[a])]: range(a, b) for a, b in itertools.pairwise(starts)}
