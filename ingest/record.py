"""The records that flow through every stage: a ``Document`` and its ``Clause``s.

A ``Clause`` is born in ``ingest``, stored and retrieved by ``index``, cited by ``qa`` and
shown by ``ui``; no stage defines its own copy.

>>> c = Clause.create(doc_id="sz", title="通知", label="2.", section_path=["二、流程", "（一）活动报名。"],
...                   text="腾讯微视平台对本次活动不收取费用。", original="腾讯微视平台对本次活动不收取费用。",
...                   source=Source(path="corpus/sz.txt", start=10, end=27, page=None),
...                   metadata=Metadata(issuer="深圳市商务局"), seq=3)
>>> c.clause_id == Clause.create(**{**c.identity_fields(), "seq": 3}).clause_id
True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Source:
    """Where a clause's characters are in the decoded source file (``start``/``end`` are
    character offsets into the file's decoded text; ``page`` is 1-based for PDFs)."""

    path: str
    start: int
    end: int
    page: int | None = None
    ocr_confidence: float | None = None  # read by OCR: the lowest confidence of its lines (0..1)


@dataclass(frozen=True, slots=True)
class Metadata:
    issuer: str | None = None
    region: str | None = None
    platform: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd (or yyyy-mm / yyyy when that is all the notice says)
    doc_type: str | None = None  # e.g. notice, regulation, law, platform_rule, event_plan, digest
    # Red-header metadata (ingest/redhead.py): what the lines around an official notice's text say.
    doc_number: str | None = None  # 文号 as written: 国办发〔2018〕129号
    signed: str | None = None  # ISO date of the signature (成文日期)
    published: str | None = None  # ISO date of the 印发 line or of a 发布日期 field
    addressees: str | None = None  # 主送: "各省、自治区、直辖市人民政府，国务院各部委、各直属机构"
    copy_to: str | None = None  # 抄送
    printed: str | None = None  # the 印发 line as written: "国务院办公厅 2018年12月28日印发"


# The fields of Metadata; the red-header ones last.
METADATA_FIELDS = (
    "issuer",
    "region",
    "platform",
    "date",
    "doc_type",
    "doc_number",
    "signed",
    "published",
    "addressees",
    "copy_to",
    "printed",
)
DATE_FIELDS = ("date", "signed", "published", "valid_from", "valid_to")  # ISO dates, checked when edited
EDITABLE = ("title", *METADATA_FIELDS, "valid_from", "valid_to")  # what `policykb docs edit` can correct


@dataclass(frozen=True, slots=True)
class Clause:
    clause_id: str
    doc_id: str
    title: str
    label: str  # the clause's own number as written ("第三十五条", "3.1.2", "（十二）"), "" if none
    section_path: tuple[str, ...]  # ancestor headings, outermost first
    text: str  # clean Simplified Chinese, used for search and quoted in answers
    original: str  # the same clause as written (e.g. Traditional), cleaned of debris only
    source: Source
    metadata: Metadata
    seq: int  # position in the document (0-based), for neighbours and reading order
    part: tuple[int, int] | None = None  # (i, n) when a long clause was split into n parts

    @classmethod
    def create(
        cls,
        *,
        doc_id: str,
        title: str,
        label: str,
        section_path: list[str] | tuple[str, ...],
        text: str,
        original: str,
        source: Source,
        metadata: Metadata,
        seq: int,
        part: tuple[int, int] | None = None,
        occurrence: int = 0,
    ) -> Clause:
        """`occurrence` tells apart identical clauses (same path, label and text) in one document."""
        path = tuple(section_path)
        key = "\x1f".join([doc_id, *path, label, text, str(part)] + ([str(occurrence)] if occurrence else []))
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
        return cls(
            clause_id=f"{doc_id}:{digest}",
            doc_id=doc_id,
            title=title,
            label=label,
            section_path=path,
            text=text,
            original=original,
            source=source,
            metadata=metadata,
            seq=seq,
            part=part,
        )

    def identity_fields(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("clause_id", "seq")}

    @property
    def content_hash(self) -> str:
        """Hash of what gets embedded; unchanged text ⇒ cached embedding reused."""
        return hashlib.sha256(self.embedding_text.encode("utf-8")).hexdigest()

    @property
    def embedding_text(self) -> str:
        """Title and section path give a bare numbered item ("2. 不收取费用") its context."""
        head = " > ".join([self.title, *self.section_path])
        return f"{head}\n{self.label} {self.text}".strip()

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["section_path"] = list(self.section_path)
        d["part"] = list(self.part) if self.part else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Clause:
        return cls(
            clause_id=d["clause_id"],
            doc_id=d["doc_id"],
            title=d["title"],
            label=d["label"],
            section_path=tuple(d["section_path"]),
            text=d["text"],
            original=d["original"],
            source=Source(**d["source"]),
            metadata=Metadata(**d["metadata"]),
            seq=d["seq"],
            part=tuple(d["part"]) if d.get("part") else None,
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Document:
    doc_id: str
    title: str
    source_path: str
    sha256: str  # of the file's bytes: unchanged file ⇒ re-ingest is a no-op
    metadata: Metadata
    encoding: str | None = None
    script: str = "hans"  # "hant" when the source was Traditional and converted with t2s
    valid_from: str | None = None  # for event notices / time-bound measures
    valid_to: str | None = None
    guessed: tuple[str, ...] = ()  # metadata fields extracted from the text, not given by a manifest
    pages: int | None = None
    n_clauses: int = 0
    ocr: str | None = None  # the OCR engine its text was read with (a scan, an image)
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["guessed"] = list(self.guessed)
        d["warnings"] = list(self.warnings)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Document:
        d = dict(d)
        d["metadata"] = Metadata(**d["metadata"])
        d["guessed"] = tuple(d.get("guessed", ()))
        d["warnings"] = tuple(d.get("warnings", ()))
        return cls(**d)
