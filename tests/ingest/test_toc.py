"""A table of contents must not create duplicate clauses or headings."""

from pathlib import Path

from policykb.ingest.layout import Line
from policykb.ingest.mtext import MText
from policykb.ingest.numbering import int_to_cn
from policykb.ingest.pipeline import ingest_text
from policykb.ingest.toc import drop_toc

LAW = Path(__file__).parents[1] / "data" / "external" / "ecommerce_law_2018.md"


def _with_toc(text: str) -> str:
    headings = [ln.lstrip("# ") for ln in text.splitlines() if ln.startswith(("## ", "### "))]
    head, body = text.split("\n", 1)
    return f"{head}\n\n目录\n\n" + "\n".join(f"{h}……{n}" for n, h in enumerate(headings, 1)) + "\n\n" + body


def test_toc_adds_no_clause_and_keeps_paths():
    text = LAW.read_text(encoding="utf-8")
    plain = ingest_text(text, source_path="law.md", doc_id="law")
    with_toc = ingest_text(_with_toc(text), source_path="law.md", doc_id="law")
    assert [(c.label, c.section_path, c.text) for c in with_toc.clauses] == [
        (c.label, c.section_path, c.text) for c in plain.clauses
    ]
    assert len({c.label for c in with_toc.clauses if c.label.endswith("条")}) == 89


def test_toc_lines_are_reported_as_headings_not_lost():
    text = _with_toc(LAW.read_text(encoding="utf-8"))
    result = ingest_text(text, source_path="law.md", doc_id="law")
    spans = {text[s:e] for s, e in result.headings}
    toc_lines = [ln for ln in text.splitlines() if ln == "目录" or "……" in ln]
    assert len(toc_lines) == 1 + 7 + 2  # 目录, 7 chapters, 2 sections
    assert all(ln in spans for ln in toc_lines)


def test_a_contents_of_short_articles_is_dropped_and_a_body_of_them_kept():
    articles = [f"第{int_to_cn(k)}条 本条短。" for k in range(1, 401)]  # each a bare heading, by its length
    body = [Line(MText.of(t)) for t in articles]
    contents = [Line(MText.of(t)) for t in ["目录", *articles[:5], ""]]
    kept, removed = drop_toc(contents + body)
    assert [m.text for m in removed] == ["目录", *articles[:5]]
    assert [ln.text.text for ln in kept if not ln.blank] == articles
    assert drop_toc(body) == (body, [])
