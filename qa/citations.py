"""A citation: the clause a marker [n] opens, with its document, issuer, date and section — and, for an
event notice or a notice with a validity period, a note that it is time-bound.

>>> from policykb.ingest.record import Metadata
>>> validity_note(Metadata(doc_type="event_plan"), "2021-10-23", "2021-11-14", lang="zh",
...               today=date(2024, 1, 1))
'活动方案，有效期 2021-10-23 至 2021-11-14（已结束）'
>>> validity_note(Metadata(doc_type="notice"), "2020-03-01", "2020-06-30", lang="en", today=date(2020, 4, 1))
'time-bound notice, valid 2020-03-01 to 2020-06-30'
>>> validity_note(Metadata(doc_type="measures"), None, None, lang="en") is None
True
>>> validity_note(Metadata(doc_type="law"), "2019-01-01", None, lang="zh")  # in force, not time-bound
'自 2019-01-01 起施行'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from policykb.index.search import Hit
from policykb.ingest.record import Clause, Document, Metadata

EVENT_TYPES = ("event", "activity", "campaign", "festival")  # doc_type values naming a one-off event


def is_event(metadata: Metadata) -> bool:
    kind = (metadata.doc_type or "").lower()
    return any(word in kind for word in EVENT_TYPES)


def _iso(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def validity_note(
    metadata: Metadata,
    valid_from: str | None,
    valid_to: str | None,
    *,
    lang: str = "zh",
    today: date | None = None,
) -> str | None:
    """What a reader must know about the notice's time limits, or ``None`` if it has none."""
    event = is_event(metadata)
    if not event and not valid_from and not valid_to:
        return None
    if not event and not valid_to:  # a standing rule: in force since a date, with no end
        return f"in force from {valid_from}" if lang == "en" else f"自 {valid_from} 起施行"
    end = _iso(valid_to)
    ended = end is not None and end < (today or date.today())
    if lang == "en":
        kind = "event notice" if event else "time-bound notice"
        if valid_from and valid_to:
            span = f", valid {valid_from} to {valid_to}"
        elif valid_to:
            span = f", valid until {valid_to}"
        elif valid_from:
            span = f", valid from {valid_from}"
        else:
            span = " (applies to that event only)"
        return f"{kind}{span}{' (ended)' if ended else ''}"
    kind = (
        "活动方案"
        if event and (metadata.doc_type or "").endswith("plan")
        else ("活动通知" if event else "时效性通知")
    )
    if valid_from and valid_to:
        span = f"，有效期 {valid_from} 至 {valid_to}"
    elif valid_to:
        span = f"，有效期至 {valid_to}"
    elif valid_from:
        span = f"，自 {valid_from} 起施行"
    else:
        span = "（仅适用于该活动）"
    return f"{kind}{span}{'（已结束）' if ended else ''}"


@dataclass(frozen=True)
class Citation:
    n: int
    clause: Clause
    document: Document | None
    rank: int  # the clause's rank in the search
    score: float
    note: str | None  # time-bound / event note, in the question's language
    references: tuple[
        Clause, ...
    ] = ()  # articles of the same document the clause refers to (qa/crossrefs.py)

    @property
    def section(self) -> str:
        return " > ".join([*self.clause.section_path, self.clause.label]).strip(" >")

    @property
    def valid_from(self) -> str | None:
        return self.document.valid_from if self.document else None

    @property
    def valid_to(self) -> str | None:
        return self.document.valid_to if self.document else None

    @property
    def time_bound(self) -> bool:
        return self.note is not None

    def to_dict(self) -> dict[str, object]:
        """``n``, the clause's own fields (``Clause.to_dict``), and the document facts a reader needs."""
        m = self.clause.metadata
        return {
            "n": self.n,
            **self.clause.to_dict(),
            "issuer": m.issuer,
            "date": m.date,
            "doc_type": m.doc_type,
            "section": self.section,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "time_bound": self.time_bound,
            "time_note": self.note,
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "references": [reference_dict(c) for c in self.references],
        }


def reference_dict(c: Clause) -> dict[str, object]:
    """A clause a citation refers to: enough to show it beside the citation and to open it."""
    return {
        "clause_id": c.clause_id,
        "doc_id": c.doc_id,
        "label": c.label,
        "section_path": list(c.section_path),
        "text": c.text,
    }


def make_citation(
    n: int,
    hit: Hit,
    document: Document | None,
    *,
    lang: str,
    today: date | None,
    references: tuple[Clause, ...] = (),
) -> Citation:
    valid_from = document.valid_from if document else None
    valid_to = document.valid_to if document else None
    note = validity_note(
        hit.clause.metadata, valid_from, valid_to, lang="en" if lang == "en" else "zh", today=today
    )
    return Citation(
        n=n,
        clause=hit.clause,
        document=document,
        rank=hit.rank,
        score=hit.score,
        note=note,
        references=references,
    )


def related_dict(hit: Hit) -> dict[str, object]:
    """A clause offered as related reading (never as a citation)."""
    m = hit.clause.metadata
    return {
        "rank": hit.rank,
        "score": round(float(hit.score), 6),
        **hit.clause.to_dict(),
        "issuer": m.issuer,
        "date": m.date,
        "section": " > ".join([*hit.clause.section_path, hit.clause.label]).strip(" >"),
    }
