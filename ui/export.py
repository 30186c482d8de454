"""Excerpts a consultant collects — clauses with their full references — and the files they take away.

>>> from policykb.ingest.record import Clause, Metadata, Source
>>> c = Clause.create(doc_id="sz", title="通知", label="2.", section_path=["二、流程"], text="不收取费用。",
...                   original="不收取费用。", source=Source("corpus/sz.txt", 10, 16),
...                   metadata=Metadata(issuer="深圳市商务局", date="2020-03-16"), seq=0)
>>> basket = Basket()
>>> basket.add(Excerpt.from_clause(c, note="报名免费")), basket.add(Excerpt.from_clause(c))
(True, False)
>>> print(reference_lines(basket.excerpts[0])[0])
通知｜深圳市商务局｜2020-03-16｜二、流程 > 2.
>>> data, mime, ext = export(basket.excerpts, "csv")
>>> data[:3] == "\\ufeff".encode("utf-8"), ext
(True, 'csv')

Every exporter takes ``redact=True`` to mask personal data (RELIABILITY 27) through the one function
``redact``; CSV cells that a spreadsheet would run as a formula are neutralised and characters XML cannot
hold are stripped before a DOCX is written (RELIABILITY 25).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from policykb.errors import PolicyKBError
from policykb.ingest.record import Clause

if TYPE_CHECKING:
    from policykb.index.search import Hit
    from policykb.qa.answer import Answer

JSON_FORMAT = "policykb-excerpts"
JSON_VERSION = 1
HEADING = "条款摘录"

# -- personal data (RELIABILITY 27) -------------------------------------------------------------

MASKS = {
    "zh": {
        "email": "[邮箱已隐去]",
        "id": "[身份证号已隐去]",
        "mobile": "[手机号已隐去]",
        "landline": "[电话已隐去]",
    },
    "en": {
        "email": "[redacted e-mail]",
        "id": "[redacted ID number]",
        "mobile": "[redacted phone]",
        "landline": "[redacted phone]",
    },
}
# Order matters: an e-mail or an ID number contains digit runs the phone patterns would otherwise take.
PII_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("id", re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15})(?![0-9A-Za-z])")),
    ("mobile", re.compile(r"(?<![\d+])(?:(?:\+|00)?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)")),
    (
        "landline",
        re.compile(r"(?<![\d-])(?:[(（]0\d{2,3}[)）]\s?|0\d{2,3}[-－\s])\d{7,8}(?:(?:-|转)\d{1,6})?(?!\d)"),
    ),
)


def redact(text: str, *, lang: str = "zh") -> str:
    """``text`` with mainland mobile numbers, ID card numbers (18- and 15-digit), e-mail addresses and
    landline numbers with an area code replaced by a mask; dates, amounts and article numbers are kept.

    >>> redact("联系人：王先生 13812345678，0755-83456789，wang@example.com；于2020-03-16前按第35条缴纳50元。")
    '联系人：王先生 [手机号已隐去]，[电话已隐去]，[邮箱已隐去]；于2020-03-16前按第35条缴纳50元。'
    """
    masks = MASKS.get(lang, MASKS["zh"])
    for kind, pattern in PII_PATTERNS:
        text = pattern.sub(masks[kind], text)
    return text


# -- characters and cells ------------------------------------------------------------------------

# What XML 1.0 cannot hold: C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def strip_control(text: str) -> str:
    """``text`` without the characters XML (hence DOCX) cannot hold; python-docx raises on them."""
    return XML_ILLEGAL.sub("", text)


# What a spreadsheet may skip before reading a formula: spaces of any width, DEL, zero-width characters.
_SKIPPED = re.compile("^[\\s\u3000\x7f\u200b-\u200d\u2060\ufeff]*")


def csv_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: one whose first visible character is = + - @ in any width
    (＝SUM…), after spaces, ideographic spaces or DEL, or that starts with tab/CR, gets a leading quote."""
    skipped = _SKIPPED.match(cell)
    assert skipped is not None  # the pattern also matches nothing
    first = unicodedata.normalize("NFKC", cell[skipped.end() :][:1])
    return "'" + cell if cell.startswith(FORMULA_STARTS) or (first and first in "=+-@") else cell


# -- the excerpt and the basket ------------------------------------------------------------------


class UnknownFormatError(PolicyKBError, ValueError):
    """An export format that is not in ``FORMATS``."""


@dataclass(frozen=True)
class Excerpt:
    """One clause (as ``Clause.to_dict()``) a consultant keeps, with their note and, when it came from an
    answer, the question and answer text it was cited in."""

    clause: dict[str, Any]
    note: str = ""
    question: str | None = None
    answer: str | None = None
    time_note: str | None = None  # the citation's time-bound note ("时效性通知，有效期 … （已结束）")

    @classmethod
    def from_clause(
        cls,
        clause: Clause | Mapping[str, Any],
        *,
        note: str = "",
        question: str | None = None,
        answer: str | None = None,
        time_note: str | None = None,
    ) -> Excerpt:
        """From a ``Clause``, its ``to_dict()``, or any dict holding those fields (a citation, a hit)."""
        if isinstance(clause, Clause):
            return cls(clause.to_dict(), note, question, answer, time_note)
        try:
            d = Clause.from_dict(dict(clause)).to_dict()
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"not a clause: {exc} is missing or malformed; an excerpt needs the fields of "
                "Clause.to_dict()"
            ) from exc
        return cls(d, note, question, answer, time_note or clause.get("time_note"))

    @property
    def clause_id(self) -> str:
        return cast(str, self.clause["clause_id"])

    @property
    def section(self) -> str:
        """The section path and the clause's own label: "二、业务流程 > （一）活动报名。 > 2."."""
        return " > ".join([*self.clause["section_path"], self.clause["label"]]).strip(" >")

    def to_dict(self) -> dict[str, Any]:
        return {
            "clause": self.clause,
            "note": self.note,
            "question": self.question,
            "answer": self.answer,
            "time_note": self.time_note,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Excerpt:
        return cls.from_clause(
            d["clause"],
            note=d.get("note") or "",
            question=d.get("question"),
            answer=d.get("answer"),
            time_note=d.get("time_note"),
        )

    def redacted(self, lang: str = "zh") -> Excerpt:
        """A copy with personal data masked in every free-text field (ids, paths and dates are left)."""
        c = dict(self.clause)
        for key in ("text", "original", "title", "label"):
            c[key] = redact(c[key], lang=lang)
        c["section_path"] = [redact(s, lang=lang) for s in c["section_path"]]
        opt: Callable[[str | None], str | None] = lambda s: redact(s, lang=lang) if s else s
        return Excerpt(c, cast(str, opt(self.note)), opt(self.question), opt(self.answer), self.time_note)


def excerpts_from_answer(result: Answer | Mapping[str, Any]) -> list[Excerpt]:
    """The citations of an ``Answer`` (or its ``to_dict()``), in [n] order, each with the answer text."""
    d: Mapping[str, Any] = result if isinstance(result, Mapping) else result.to_dict()
    return [Excerpt.from_clause(c, question=d["question"], answer=d["answer"]) for c in d["citations"]]


def excerpts_from_hits(hits: Iterable[Hit | Mapping[str, Any]]) -> list[Excerpt]:
    """Search hits (``Hit`` objects, or dicts holding the clause fields) in rank order."""
    return [Excerpt.from_clause(h if isinstance(h, Mapping) else h.clause) for h in hits]


@dataclass
class Basket:
    """The excerpts collected so far, in the order the consultant wants them; one entry per clause.

    Kept in ``st.session_state`` as ``basket.to_json()`` and restored with ``Basket.from_json``.
    """

    excerpts: list[Excerpt] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.excerpts)

    def __iter__(self) -> Iterator[Excerpt]:
        return iter(self.excerpts)

    def __contains__(self, clause_id: object) -> bool:
        return self.index(clause_id) is not None  # type: ignore[arg-type]

    def ids(self) -> list[str]:
        return [e.clause_id for e in self.excerpts]

    def index(self, clause_id: str) -> int | None:
        return next((i for i, e in enumerate(self.excerpts) if e.clause_id == clause_id), None)

    def add(self, excerpt: Excerpt) -> bool:
        """Append ``excerpt``; ``False`` (and nothing changes) when its clause is already in the basket."""
        if excerpt.clause_id in self:
            return False
        self.excerpts.append(excerpt)
        return True

    def remove(self, clause_id: str) -> bool:
        i = self.index(clause_id)
        if i is None:
            return False
        del self.excerpts[i]
        return True

    def move_up(self, clause_id: str) -> bool:
        """Swap with the one before; ``False`` when already first or not in the basket."""
        return self._swap(clause_id, -1)

    def move_down(self, clause_id: str) -> bool:
        return self._swap(clause_id, +1)

    def _swap(self, clause_id: str, step: int) -> bool:
        i = self.index(clause_id)
        if i is None or not 0 <= i + step < len(self.excerpts):
            return False
        self.excerpts[i], self.excerpts[i + step] = self.excerpts[i + step], self.excerpts[i]
        return True

    def set_note(self, clause_id: str, note: str) -> bool:
        i = self.index(clause_id)
        if i is None:
            return False
        self.excerpts[i] = replace(self.excerpts[i], note=note)
        return True

    def clear(self) -> None:
        self.excerpts.clear()

    def to_json(self) -> str:
        return _json_text(self.excerpts)

    @classmethod
    def from_json(cls, text: str | bytes) -> Basket:
        """From ``to_json()`` or an exported .json file (the same shape)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
        data = json.loads(text) if text.strip() else {"excerpts": []}
        if not isinstance(data, dict) or data.get("format", JSON_FORMAT) != JSON_FORMAT:
            raise ValueError(
                f"not a policykb excerpt list: expected a JSON object with format {JSON_FORMAT!r}"
            )
        basket = cls()
        for d in data.get("excerpts", []):
            basket.add(Excerpt.from_dict(d))
        return basket


# -- references ----------------------------------------------------------------------------------


def source_text(e: Excerpt) -> str:
    """Where the clause's characters are: "corpus/sz.txt:10–27" (", p. 3" for a PDF page)."""
    s = e.clause["source"]
    page = f", p. {s['page']}" if s.get("page") else ""
    return f"{s['path']}:{s['start']}–{s['end']}{page}"


def reference_lines(e: Excerpt) -> list[str]:
    """The full reference: title｜issuer｜date｜section > label, then source span and ids, then the
    time-bound note, the original wording when it differs (e.g. Traditional), and the consultant's note."""
    c, m = e.clause, e.clause["metadata"]
    head = "｜".join(x for x in (c["title"], m.get("issuer"), m.get("date"), e.section) if x)
    lines = [head, f"出处：{source_text(e)}｜文档 {c['doc_id']}｜条款 {c['clause_id']}"]
    if e.time_note:
        lines.append(f"时效：{e.time_note}")
    if c["original"] and c["original"] != c["text"]:
        lines.append(f"原文：{c['original']}")
    if e.note:
        lines.append(f"备注：{e.note}")
    return lines


def _prepare(excerpts: Iterable[Excerpt], redact_pii: bool) -> list[Excerpt]:
    items = list(excerpts)
    return [e.redacted() for e in items] if redact_pii else items


# -- exporters -----------------------------------------------------------------------------------


def to_docx(excerpts: Sequence[Excerpt], *, redact: bool = False) -> bytes:
    """A Word document: each excerpt's text (Simplified), then its reference in small grey type."""
    from docx import Document as DocxDocument
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    doc = DocxDocument()
    normal = doc.styles["Normal"]
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")
    doc.core_properties.title = HEADING
    doc.add_heading(HEADING, level=1)
    for n, e in enumerate(_prepare(excerpts, redact), 1):
        p = doc.add_paragraph()
        p.add_run(f"[{n}] ").bold = True
        p.add_run(strip_control(e.clause["text"]))
        for line in reference_lines(e):
            run = doc.add_paragraph().add_run(strip_control(line))
            run.font.size = Pt(9)
            run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
        if e.answer:
            run = doc.add_paragraph().add_run(
                strip_control(f"所引回答：{e.question or ''}\n{e.answer}".strip())
            )
            run.italic = True
            run.font.size = Pt(9)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


_MD_SPECIAL = re.compile(r"([\\`*_<#|~])")  # ">" only quotes at a line start, where "> " already is
_MD_LINK = re.compile(
    r"\](?=[(\[:])"
)  # "[text](url)", "[text][ref]", "[ref]: url" — [1] and masks stay plain


def _md(text: str) -> str:
    """Notice text as literal Markdown: nothing in a notice becomes a link, emphasis or HTML."""
    return _MD_LINK.sub(r"\\]", _MD_SPECIAL.sub(r"\\\1", strip_control(text)))


def to_markdown(excerpts: Sequence[Excerpt], *, redact: bool = False) -> bytes:
    """Markdown: a heading per excerpt, its text as a block quote, its reference as a list."""
    out = [f"# {HEADING}", ""]
    for n, e in enumerate(_prepare(excerpts, redact), 1):
        out += [f"## [{n}] {_md(e.clause['title'])}", ""]
        out += [f"> {_md(line)}" if line else ">" for line in e.clause["text"].split("\n")]
        out.append("")
        out += [f"- {_md(line)}".replace("\n", " ") for line in reference_lines(e)]
        if e.answer:
            out.append(f"- 所引回答：{_md(e.answer)}".replace("\n", " "))
        out.append("")
    return "\n".join(out).encode("utf-8")


CSV_COLUMNS = ("n", "text", "title", "issuer", "date", "section", "label", "source", "clause_id", "note")


def to_csv(excerpts: Sequence[Excerpt], *, redact: bool = False) -> bytes:
    """UTF-8 with a BOM (so Excel reads Chinese), one row per excerpt, formula-safe cells."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for n, e in enumerate(_prepare(excerpts, redact), 1):
        c, m = e.clause, e.clause["metadata"]
        cells = [
            c["text"],
            c["title"],
            m.get("issuer") or "",
            m.get("date") or "",
            " > ".join(c["section_path"]),
            c["label"],
            source_text(e),
            c["clause_id"],
            e.note,
        ]
        w.writerow([n, *(csv_safe(strip_control(x)) for x in cells)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _json_text(excerpts: Iterable[Excerpt]) -> str:
    return json.dumps(
        {
            "format": JSON_FORMAT,
            "version": JSON_VERSION,
            "excerpts": [{"n": n, **e.to_dict()} for n, e in enumerate(excerpts, 1)],
        },
        ensure_ascii=False,
        indent=2,
    )


def to_json(excerpts: Sequence[Excerpt], *, redact: bool = False) -> bytes:
    """The excerpts as JSON (the shape ``Basket.from_json`` reads back)."""
    return _json_text(_prepare(excerpts, redact)).encode("utf-8")


class Format(NamedTuple):
    export: Callable[..., bytes]
    mime: str
    ext: str


FORMATS: dict[str, Format] = {
    "docx": Format(
        to_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"
    ),
    "md": Format(to_markdown, "text/markdown; charset=utf-8", "md"),
    "csv": Format(to_csv, "text/csv; charset=utf-8", "csv"),
    "json": Format(to_json, "application/json", "json"),
}


def export(excerpts: Sequence[Excerpt], fmt: str, *, redact: bool = False) -> tuple[bytes, str, str]:
    """``(data, mime, ext)`` for one of ``FORMATS``; ``UnknownFormatError`` names the allowed ones."""
    if fmt not in FORMATS:
        raise UnknownFormatError(f"export format {fmt!r} is not known; allowed: {', '.join(FORMATS)}")
    f = FORMATS[fmt]
    return f.export(excerpts, redact=redact), f.mime, f.ext
