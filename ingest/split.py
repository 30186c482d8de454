"""Pieces → Clause records: text assembled, converted to Simplified, long ones cut in parts."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from typing import Any

from policykb.ingest.mtext import MText
from policykb.ingest.outline import Piece
from policykb.ingest.record import Clause, Metadata, Source
from policykb.ingest.text import SENTENCE, convert_ahead, display_text, unify_ideographs


def piece_text(piece: Piece) -> MText:
    parts = ([piece.title] if piece.title is not None and piece.title.text else []) + piece.body
    return MText.join(parts, "\n") if parts else piece.full[0:0]


def split_long(text: MText, max_chars: int) -> list[MText]:
    """Cut at sentence ends into parts of at most max_chars (a sentence longer than that is
    cut at max_chars): nothing is truncated, every character lands in one part."""
    if len(text) <= max_chars:
        return [text]
    parts: list[MText] = []
    start = cur = 0
    for m in SENTENCE.finditer(text.text):
        if m.end() == m.start():
            continue
        if m.end() - start > max_chars and cur > start:
            parts.append(text[start:cur])
            start = cur
        while m.end() - start > max_chars:
            parts.append(text[start : start + max_chars])
            start += max_chars
        cur = m.end()
    if start < len(text):
        parts.append(text[start:])
    return [p for p in (q.strip() for q in parts) if p.text]


def to_clauses(
    pieces: list[Piece],
    *,
    doc_id: str,
    title: str,
    source_path: str,
    metadata: Metadata,
    pages: tuple[tuple[int, int], ...] | None,
    max_chars: int,
    ocr_spans: tuple[tuple[int, int, float], ...] = (),
) -> list[Clause]:
    clauses: list[Clause] = []
    seen: set[str] = set()
    confidence = confidences(ocr_spans)
    ordered = sorted(pieces, key=lambda p: p.full.span()[0])  # reading order
    split = [split_long(body, max_chars) if (body := piece_text(p)).text else [body] for p in ordered]
    convert_ahead(unify_ideographs(t) for p in ordered for t in p.path)
    convert_ahead(unify_ideographs(part.text) for parts in split for part in parts)
    for piece, parts in zip(ordered, split):
        path = tuple(display_text(h) for h in piece.path)
        for k, part in enumerate(parts):
            start, end = part.span()
            if k == 0:
                start = min(start, piece.full.span()[0])  # the label belongs to the first part
            original = part.text
            clauses.append(
                _unique(
                    clauses,
                    seen,
                    {
                        "doc_id": doc_id,
                        "title": title,
                        "label": piece.label,
                        "section_path": path,
                        "text": display_text(original),
                        "original": original,
                        "source": Source(
                            source_path, start, end, _page(pages, start), confidence(start, end)
                        ),
                        "metadata": metadata,
                        "seq": len(clauses),
                        "part": (k + 1, len(parts)) if len(parts) > 1 else None,
                    },
                )
            )
    return clauses


def _unique(clauses: list[Clause], seen: set[str], fields: dict[str, Any]) -> Clause:
    occurrence = 0
    while (clause := Clause.create(**fields, occurrence=occurrence)).clause_id in seen:
        occurrence += 1
    seen.add(clause.clause_id)
    return clause


def confidences(spans: tuple[tuple[int, int, float], ...]) -> Callable[[int, int], float | None]:
    """``(start, end)`` → the lowest confidence of the OCR lines that overlap [start, end), or None when the
    text was not OCR'd (no spans) or none does. The lines are found by bisection, not by reading them all for
    each clause (a long scan has thousands of both).

    >>> lowest = confidences(((0, 5, 0.9), (6, 9, 0.7), (10, 20, 0.95)))
    >>> lowest(2, 7), lowest(10, 12), lowest(9, 10), confidences(())(0, 5)
    (0.7, 0.95, None, None)
    """
    if not spans:
        return lambda start, end: None
    ordered = sorted(spans)
    starts = [s for s, _, _ in ordered]
    reach = list(itertools.accumulate((e for _, e, _ in ordered), max))  # the furthest end so far

    def lowest(start: int, end: int) -> float | None:
        lo, hi = bisect.bisect_right(reach, start), bisect.bisect_left(starts, end)
        return min((c for s, e, c in ordered[lo:hi] if e > start), default=None)

    return lowest


def _page(pages: tuple[tuple[int, int], ...] | None, offset: int) -> int | None:
    if not pages:
        return None
    for n, (s, e) in enumerate(pages, start=1):
        if s <= offset < e:
            return n
    return len(pages) if offset >= pages[-1][0] else None
