"""Metadata filters, applied before ranking: a filter becomes a boolean row mask, and both the keyword
and the vector search only ever consider the rows it lets through.

Value fields are compared after ``search_key`` (Traditional matches Simplified); region, issuer, platform and
doc_number match a part of the stored name (深圳 matches 广东省深圳市, 广东 its cities too, 微视 matches 腾讯微视,
国办发 every 国办发〔…〕…号; the brackets around a number's year may be any kind), doc_type
and doc_id match exactly; several values mean "any of". Dates are intervals: a clause dated "2023-05" lies in May 2023, and a
filter from "2023" starts on 2023-01-01. Clauses without a date are excluded by a date filter.

>>> Filters(region="深圳", date_from="2023").describe()
"region='深圳', date_from='2023'"
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from policykb.ingest.text import search_key

if TYPE_CHECKING:
    from policykb.index.records import Columns

VALUE_FIELDS = ("region", "issuer", "platform", "doc_type", "doc_id", "doc_number")
# Names people shorten: 深圳 for 广东省深圳市, 国办发 for 国办发〔2018〕129号.
PARTIAL_FIELDS = ("region", "issuer", "platform", "doc_number")
# A document number is written with 〔〕, [], （）or 【】 around its year: all the same number.
_YEAR_BRACKETS = str.maketrans("([【", "〔〔〔") | str.maketrans(")]】", "〕〕〕")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def filter_key(name: str, value: str) -> str:
    """The key a stored value and a wanted one are compared by: ``search_key``, and for ``doc_number``
    one kind of bracket (国办发[2018]129号 is 国办发〔2018〕129号).

    >>> filter_key("doc_number", "國辦發（2018）129號")
    '国办发〔2018〕129号'
    """
    key = search_key(value)
    return key.translate(_YEAR_BRACKETS) if name == "doc_number" else key


def date_bounds(value: str) -> tuple[int, int]:
    """'2023-05' → (20230501, 20230531) as yyyymmdd integers; ValueError if not a date."""
    m = _DATE.match(value.strip())
    if not m:
        raise ValueError(f"date {value!r} is not a date; use yyyy-mm-dd, yyyy-mm or yyyy")
    year, month, day = int(m[1]), int(m[2] or 0), int(m[3] or 0)
    if month > 12 or (m[2] and month < 1):
        raise ValueError(f"date {value!r} has no month {month}; use yyyy-mm-dd, yyyy-mm or yyyy")
    if not month:
        return year * 10000 + 101, year * 10000 + 1231
    last = calendar.monthrange(year, month)[1]
    if day > last or (m[3] and day < 1):
        raise ValueError(f"date {value!r} has no day {day}; use yyyy-mm-dd, yyyy-mm or yyyy")
    base = year * 10000 + month * 100
    return (base + day, base + day) if day else (base + 1, base + last)


@dataclass(frozen=True)
class Filters:
    """Restrict a search to clauses whose document metadata match. ``None`` means "any"."""

    region: str | tuple[str, ...] | None = None
    issuer: str | tuple[str, ...] | None = None
    platform: str | tuple[str, ...] | None = None
    doc_type: str | tuple[str, ...] | None = None
    doc_id: str | tuple[str, ...] | None = None
    doc_number: str | tuple[str, ...] | None = None
    date_from: str | None = None
    date_to: str | None = None

    def __post_init__(self) -> None:
        for name in VALUE_FIELDS:
            value = getattr(self, name)
            if isinstance(value, list | set | frozenset):
                object.__setattr__(self, name, tuple(value))
        for name in ("date_from", "date_to"):
            if getattr(self, name):
                date_bounds(getattr(self, name))  # reject a bad date now, not at search time

    def values(self, name: str) -> tuple[str, ...] | None:
        value = getattr(self, name)
        if value is None:
            return None
        return (value,) if isinstance(value, str) else tuple(value)

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, ()) for f in fields(self))

    def describe(self) -> str:
        return ", ".join(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) not in (None, ())
        )


@dataclass(frozen=True)
class Selection:
    """What a filter keeps, in terms of stored values: for each filtered field the raw metadata values
    (as the clauses hold them) any of which a row must have, and the yyyymmdd bounds a row's date interval
    must reach. The same decision as ``FilterIndex.mask``, for a store that filters by itself (Milvus)."""

    values: dict[str, tuple[str, ...]]
    date_from: int | None = None  # a row's date_hi must be ≥ this
    date_to: int | None = None  # a row's date_lo must be ≤ this
    dated: bool = False  # rows without a date are left out


class FilterIndex:
    """Per-row codes of each metadata field and date intervals, precomputed once per generation from the
    generation's columns (``records.Columns``): a code of the column's table mapped to a code of the
    ``filter_key`` of its value, so no per-row value is ever looked at again."""

    def __init__(self, columns: Columns):
        self.n = len(columns)
        self.codes: dict[str, np.ndarray] = {}
        self.vocab: dict[str, dict[str, int]] = {}
        self.raw: dict[str, dict[int, list[str]]] = {}  # code → the values as stored that it stands for
        for name in VALUE_FIELDS:
            column = columns.fields[name]
            vocab: dict[str, int] = {}
            # table code → filter code; the last entry stands for a row without a value (code -1)
            code_of = [vocab.setdefault(filter_key(name, v), len(vocab)) if v else -1 for v in column.table]
            self.codes[name] = np.asarray([*code_of, -1], dtype=np.int32)[column.codes]
            self.vocab[name] = vocab
            self.raw[name] = {}
            for value, code in zip(column.table, code_of):
                if value and code >= 0:
                    self.raw[name].setdefault(code, []).append(value)
        dates = columns.fields["date"]
        bounds = []
        for date in dates.table:
            try:
                bounds.append(date_bounds(date) if date else (-1, -1))
            except ValueError:
                bounds.append((-1, -1))  # an unreadable date is treated as no date
        table = np.asarray([*bounds, (-1, -1)], dtype=np.int64).reshape(-1, 2)
        self.date_lo, self.date_hi = table[dates.codes, 0], table[dates.codes, 1]

    def _codes(self, name: str, wanted: tuple[str, ...]) -> list[int]:
        keys = [k for v in wanted if (k := filter_key(name, v))]
        vocab = self.vocab[name]
        if name in PARTIAL_FIELDS:
            return [code for stored, code in vocab.items() if any(k in stored for k in keys)]
        return [vocab[k] for k in keys if k in vocab]

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Rows the filters allow, or ``None`` when nothing is filtered."""
        if filters is None or filters.is_empty():
            return None
        keep = np.ones(self.n, dtype=bool)
        for name in VALUE_FIELDS:
            wanted = filters.values(name)
            if wanted is None:
                continue
            keep &= np.isin(self.codes[name], np.asarray(self._codes(name, wanted), dtype=np.int32))
        if filters.date_from or filters.date_to:
            keep &= self.date_lo >= 0
        if filters.date_from:
            keep &= self.date_hi >= date_bounds(filters.date_from)[0]
        if filters.date_to:
            keep &= self.date_lo <= date_bounds(filters.date_to)[1]
        return keep

    def selection(self, filters: Filters | None) -> Selection | None:
        """``mask``'s decision as stored values and date bounds (see ``Selection``); None: no filter."""
        if filters is None or filters.is_empty():
            return None
        values = {}
        for name in VALUE_FIELDS:
            wanted = filters.values(name)
            if wanted is not None:
                codes = self._codes(name, wanted)
                values[name] = tuple(v for code in codes for v in self.raw[name].get(code, ()))
        return Selection(
            values,
            date_bounds(filters.date_from)[0] if filters.date_from else None,
            date_bounds(filters.date_to)[1] if filters.date_to else None,
            dated=bool(filters.date_from or filters.date_to),
        )
