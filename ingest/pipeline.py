"""One file → one Document and its Clauses: load, clean, lay out, outline, split.

>>> r = ingest_text("第一条 为了规范直播。\\n第二条 本法所称…", source_path="x.md", doc_id="x")
>>> [(c.label, c.text) for c in r.clauses]
[('第一条', '为了规范直播。'), ('第二条', '本法所称…')]
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from policykb.ingest.clean import Removal, Rules, clean
from policykb.ingest.layout import Unit, build_units, to_lines
from policykb.ingest.loaders import PARSE_TIMEOUT_S, LoadedText, load
from policykb.ingest.markers import line_marker
from policykb.ingest.metadata import ManifestEntry, doc_id_for, guess, metadata_from
from policykb.ingest.outline import build_outline
from policykb.ingest.record import Clause, Document
from policykb.ingest.redhead import read_red_header
from policykb.ingest.split import to_clauses
from policykb.ingest.text import convert_ahead, display_text, forget_conversions, unify_ideographs
from policykb.ingest.toc import drop_toc
from policykb.ingest.validity import DateSource, Validity, extract_validity

# Bump when ingest's output for the same file changes, so unchanged files are re-ingested.
PIPELINE_VERSION = "6"  # 4: red-header metadata; 5: tables as rows, OCR; 6: information blocks
DEFAULT_MAX_CHARS = 360


@dataclass(frozen=True)
class IngestResult:
    document: Document
    clauses: list[Clause]
    removals: list[Removal]  # debris, pinyin annotations, mojibake: what is in no clause
    headings: list[tuple[int, int]]  # source spans that only name sections (and the title block)
    text: str  # the decoded source text the spans point into
    dates: tuple[DateSource, ...] = ()  # valid_from / valid_to read from the text (not given by the manifest)


def ingest_file(
    path: Path,
    entry: ManifestEntry | None = None,
    *,
    display_path: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    rules: Rules | None = None,
    parse_timeout_s: float = PARSE_TIMEOUT_S,
) -> IngestResult:
    """Raises an IngestError subclass (naming the file) when the file cannot be read. ``parse_timeout_s``:
    the time limit of a PDF parse, and of each page OCR reads."""
    # first: it checks the size, so a huge file is never read whole to hash it
    loaded = load(path, pdf_timeout_s=parse_timeout_s)
    return _ingest(
        loaded,
        entry,
        source_path=display_path or str(path),
        sha256=file_sha256(path),
        max_chars=max_chars,
        rules=rules,
        doc_id=entry.doc_id if entry else doc_id_for(path),
    )


def file_sha256(path: Path, chunk: int = 2**20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def ingest_text(
    text: str,
    *,
    source_path: str,
    doc_id: str,
    entry: ManifestEntry | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    rules: Rules | None = None,
) -> IngestResult:
    loaded = LoadedText(source_path, text, "text", None, "utf-8", 1.0, ())
    return _ingest(
        loaded,
        entry,
        source_path=source_path,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        max_chars=max_chars,
        rules=rules,
        doc_id=doc_id,
    )


def _ingest(
    loaded: LoadedText,
    entry: ManifestEntry | None,
    *,
    source_path: str,
    sha256: str,
    max_chars: int,
    rules: Rules | None,
    doc_id: str,
) -> IngestResult:
    # Caches that serve the repeats inside one notice start empty for each: they never grow with a corpus,
    # nor make a benchmark of repeated files look faster than a real corpus.
    forget_conversions()
    line_marker.cache_clear()
    cleaned = clean(loaded.text, rules, ocr=loaded.ocr_engine is not None)
    title_hint = entry.values.get("title") if entry else None
    lines, toc = drop_toc(to_lines(cleaned.lines))
    lines, header_lines, red = read_red_header(lines)  # metadata, not clauses
    units = build_units(lines, rules or _rules(), title_hint)
    outline = build_outline(units)
    title_lines = [u.full.text for u in units if u.kind == "title"]
    taken = {h.span()[0] for h in header_lines}  # the 印发 date is not the document's date
    text_lines = [ln.text for ln in cleaned.lines if ln.strip().span()[0] not in taken]
    guessed_values, guessed = guess(text_lines, title_lines, Path(source_path).stem)
    # Red-header fields are read from lines that say what they are, not guessed; only an issuer is
    # (the one guessed from the signature or title wins: it also gives the region).
    values = {**red.values(), **guessed_values}
    guessed = sorted({*guessed, *(["issuer"] if "issuer" in values else [])})
    if entry:
        values.update(entry.values)
        guessed = [f for f in guessed if f not in entry.values]
    convert_ahead(unify_ideographs(u.full.text) for u in units)
    paragraphs = [display_text(u.full.text) for u in units]
    validity = extract_validity(paragraphs, published=values.get("date"), title=values.get("title"))
    dates = tuple(d for d in _date_sources(validity, units, paragraphs) if d.field not in values)
    values.update((d.field, d.value) for d in dates)
    guessed = sorted([*guessed, *(d.field for d in dates)])
    title = display_text(values["title"])
    metadata = metadata_from(values)
    clauses = to_clauses(
        outline.pieces,
        doc_id=doc_id,
        title=title,
        source_path=source_path,
        metadata=metadata,
        pages=loaded.pages,
        max_chars=max_chars,
        ocr_spans=loaded.ocr_spans,
    )
    script = "hant" if any(c.text != c.original for c in clauses) else "hans"
    doc = Document(
        doc_id=doc_id,
        title=title,
        source_path=source_path,
        sha256=sha256,
        metadata=metadata,
        encoding=loaded.encoding,
        script=script,
        valid_from=values.get("valid_from"),
        valid_to=values.get("valid_to"),
        guessed=tuple(guessed),
        pages=len(loaded.pages) if loaded.pages else None,
        n_clauses=len(clauses),
        ocr=loaded.ocr_engine,
        warnings=tuple(loaded.warnings) + _warnings(loaded, clauses),
    )
    headings = [h.span() for h in outline.headings + toc + header_lines]
    return IngestResult(doc, clauses, cleaned.removals, headings, loaded.text, dates)


def _date_sources(validity: Validity, units: list[Unit], paragraphs: list[str]) -> list[DateSource]:
    """The extracted dates with the source span of the sentence each was read from."""
    out = []
    for name, value, ev in (
        ("valid_from", validity.valid_from, validity.from_evidence),
        ("valid_to", validity.valid_to, validity.to_evidence),
    ):
        if value is None or ev is None:
            continue
        full = units[ev.paragraph].full
        # t2s almost always keeps the length; when it did not, the whole paragraph is the evidence
        span = full.span(ev.start, ev.end) if len(paragraphs[ev.paragraph]) == len(full) else full.span()
        out.append(DateSource(name, value, ev.rule, ev.sentence, ev.phrase, span))
    return out


def _warnings(loaded: LoadedText, clauses: list[Clause]) -> tuple[str, ...]:
    out = []
    if not clauses:
        out.append("no clauses found")
    if loaded.confidence is not None and loaded.confidence < 0.5 and loaded.kind in ("text", "markdown"):
        out.append(f"low confidence in encoding {loaded.encoding} ({loaded.confidence:.2f})")
    return tuple(dict.fromkeys(out))


def _rules() -> Rules:
    from policykb.ingest.clean import default_rules

    return default_rules()


def with_source_path(result: IngestResult, source_path: str) -> IngestResult:
    clauses = [replace(c, source=replace(c.source, path=source_path)) for c in result.clauses]
    return replace(result, clauses=clauses, document=replace(result.document, source_path=source_path))
