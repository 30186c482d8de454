"""A notice printed to PDF ingests to the same clauses as its text, with page numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import CORPUS, EXTERNAL, assert_no_text_lost, squash

from policykb.ingest.loaders import load
from policykb.ingest.metadata import load_manifest
from policykb.ingest.pipeline import ingest_file

NOTO_CFF = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"  # read through pdfium (loaders.py)
HEADER = "深圳市商务局文件"

SOURCES = [
    CORPUS / "shenzhen_weishi_2020.txt",
    CORPUS / "shanghai_livestream_measures_2020.txt",
    EXTERNAL / "ecommerce_law_2018.md",
    EXTERNAL / "tw_electronic_signatures_act.md",
]


@pytest.fixture(scope="module")
def pdf_cache(tmp_path_factory) -> dict:
    return {"dir": tmp_path_factory.mktemp("pdfs")}


@pytest.fixture
def both(make_pdf, pdf_cache):
    """``both(src, font=None)`` → (text result, PDF result) for ``src`` and the PDF made from it (made once
    per module), ingested with the same manifest entry."""

    def run(src: Path, font: str | None = None):
        key = (src, font)
        if key not in pdf_cache:
            entry = load_manifest(src.parent).get(src.name)
            out = pdf_cache["dir"] / f"{src.stem}-{len(pdf_cache)}.pdf"
            pdf = make_pdf(src.read_text(encoding="utf-8"), out, font=font)
            pdf_cache[key] = (ingest_file(src, entry), ingest_file(pdf, entry))
        return pdf_cache[key]

    return run


def view(result, with_text: bool = True) -> list[tuple]:
    """Labels, paths and (whitespace-free) texts: a PDF has no blank lines and wraps long lines."""
    return [(c.label, c.section_path, squash(c.text) if with_text else None, c.part) for c in result.clauses]


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.name)
def test_pdf_has_the_same_clause_labels_and_paths(both, src):
    text, pdf = both(src)
    assert [c.label for c in pdf.clauses] == [c.label for c in text.clauses]
    assert view(pdf, with_text=False) == view(text, with_text=False)


@pytest.mark.parametrize("src", SOURCES[:3], ids=lambda p: p.name)
def test_pdf_has_the_same_clause_texts(both, src):
    text, pdf = both(src)
    assert view(pdf) == view(text)


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.name)
def test_pdf_clauses_carry_increasing_page_numbers(both, src):
    _, pdf = both(src)
    pages = [c.source.page for c in pdf.clauses]
    assert None not in pages
    assert pages == sorted(pages)
    spans = load(pdf.document.source_path).pages
    assert pdf.document.pages == len(spans) > 1
    assert pages[0] == 1 and len(set(pages)) > 1
    for c in pdf.clauses:  # each clause names the page it starts on
        start, end = spans[c.source.page - 1]
        assert start <= c.source.start < end
    last = pdf.clauses[-1]
    assert spans[-1][0] < last.source.end <= spans[-1][1]  # and the last one ends on the last page


def test_shenzhen_pdf_pages_and_citations(both, pdf_tools):
    src = CORPUS / "shenzhen_weishi_2020.txt"
    text, pdf = both(src)
    expected_pages = pdf_tools.expected_pages(src.read_text(encoding="utf-8"))
    assert pdf.document.pages == len(expected_pages) == 5
    assert pdf.document.warnings == ()
    assert pdf.document.metadata == text.document.metadata
    [fee] = [c for c in pdf.clauses if "不收取费用" in c.text]
    assert fee.label == "2." and fee.source.page == 2
    assert pdf.text[fee.source.start : fee.source.end].startswith("2. 腾讯微视平台对本次活动不收取费用")
    assert [c.source.page for c in pdf.clauses] == [
        1,
        1,
        1,
        1,
        2,
        2,
        2,
        3,
        3,
        3,
        3,
        3,
        3,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
    ]


def test_running_header_and_page_numbers_are_in_no_clause(both):
    _, pdf = both(CORPUS / "shenzhen_weishi_2020.txt")
    for c in pdf.clauses:
        assert HEADER not in c.text
        assert not any(f"- {n} -" in c.text for n in range(1, 6))
    assert_no_text_lost(pdf)


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.name)
def test_pdf_loses_no_text(both, src):
    _, pdf = both(src)
    assert_no_text_lost(pdf)


def test_pdf_in_a_cff_cjk_font(both):
    """Noto CJK (CFF) is read by pdfium, not pdfminer: the clauses are the same."""
    text, pdf = both(CORPUS / "shenzhen_weishi_2020.txt", font=NOTO_CFF)
    assert view(pdf) == view(text)
    assert [c.source.page for c in pdf.clauses] == sorted(c.source.page for c in pdf.clauses)


def test_traditional_pdf_is_converted(both):
    _, pdf = both(EXTERNAL / "tw_electronic_signatures_act.md")
    assert pdf.document.script == "hant"
    [c] = [c for c in pdf.clauses if c.label == "第 1 條"]
    assert c.text.startswith("为推动电子签章之普及运用")
    assert c.original.startswith("為推動電子簽章之普及運用")
