"""Helpers for the pipeline tests: where the test files are, cached ingests, and the "no text lost" check.

Imported explicitly (``from conftest_pipeline import ...``) by the pipeline test modules; the fixtures of
``tests/ingest/conftest.py`` (``make_pdf``, ``pdf_tools``, ``data_dir``) belong to the loader tests.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import unicodedata
from pathlib import Path

import opencc

from policykb.ingest.metadata import load_manifest
from policykb.ingest.pipeline import IngestResult, ingest_file

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
DATA = REPO / "tests" / "data"
EXTERNAL = DATA / "external"
ENCODINGS = DATA / "encodings"
EXPECTED = json.loads((EXTERNAL / "expected.json").read_text(encoding="utf-8"))
LAWS = sorted(EXPECTED)
SEEDS = sorted(p.name for p in CORPUS.glob("*.txt"))

# A pinyin annotation left in the text: "(fèi)", "(chǎng)".
PINYIN = re.compile(r"\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\)")


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def t2s(text: str) -> str:
    return _t2s().convert(text)


def squash(text: str) -> str:
    """Without any whitespace (U+3000 included), for comparing headings written with or without spaces."""
    return "".join(text.split())


@functools.cache
def ingest_seed(name: str) -> IngestResult:
    """A corpus notice ingested with its manifest entry, cited as ``corpus/<name>``."""
    entry = load_manifest(CORPUS).get(name)
    return ingest_file(CORPUS / name, entry, display_path=f"corpus/{name}")


@functools.cache
def ingest_law(name: str) -> IngestResult:
    return ingest_file(EXTERNAL / name, display_path=f"tests/data/external/{name}")


def counts(result: IngestResult) -> tuple[list[int], list[int]]:
    """Per character of ``result.text``: in how many clause spans, and in how many heading/removal spans."""
    n = len(result.text)
    in_clause, elsewhere = [0] * n, [0] * n
    for c in result.clauses:
        for i in range(c.source.start, c.source.end):
            in_clause[i] += 1
    for s, e in result.headings:
        for i in range(s, e):
            elsewhere[i] += 1
    for r in result.removals:
        for i in range(r.start, r.end):
            elsewhere[i] += 1
    return in_clause, elsewhere


def _runs(text: str, positions: list[int]) -> list[tuple[int, str]]:
    out: list[list[int]] = []
    for i in positions:
        if out and out[-1][1] == i:
            out[-1][1] = i + 1
        else:
            out.append([i, i + 1])
    return [(s, text[s:e]) for s, e in out]


def lost_text(result: IngestResult) -> list[tuple[int, str]]:
    """Runs of visible characters that are in no clause, no heading and no removal: (offset, text)."""
    in_clause, elsewhere = counts(result)
    text = result.text
    lost = [
        i
        for i, ch in enumerate(text)
        if not ch.isspace() and unicodedata.category(ch) != "Cf" and not in_clause[i] and not elsewhere[i]
    ]
    return _runs(text, lost)


def overlapping_clauses(result: IngestResult) -> list[tuple[str, str]]:
    """Pairs of clauses whose source spans share a character: (clause_id, clause_id)."""
    spans = sorted(
        (c.source.start, c.source.end, c.clause_id) for c in result.clauses if c.source.end > c.source.start
    )
    return [(a[2], b[2]) for a, b in itertools.pairwise(spans) if b[0] < a[1]]


def assert_no_text_lost(result: IngestResult) -> None:
    assert lost_text(result) == []
    assert overlapping_clauses(result) == []
    n = len(result.text)
    for c in result.clauses:
        assert 0 <= c.source.start <= c.source.end <= n
    for s, e in result.headings:
        assert 0 <= s <= e <= n
    for r in result.removals:
        assert 0 <= r.start <= r.end <= n
        assert is_subsequence(r.text, result.text[r.start : r.end]), r


def is_subsequence(small: str, big: str) -> bool:
    """True if ``small``'s characters occur in ``big`` in order (a removal's text is its span minus what an
    earlier cleaning step already took out, e.g. pinyin inside a debris line)."""
    it = iter(big)
    return all(ch in it for ch in small)
