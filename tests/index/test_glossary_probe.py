"""The query glossary against questions written to probe it (``tests/data/glossary_probe``, README there):
everyday Chinese reaches the statutes' wording, and legal English is rendered, not dropped."""

from __future__ import annotations

import re
from pathlib import Path

from policykb.index.query_forms import ENGLISH_STOPWORDS, expand_query

PROBE = Path(__file__).parents[1] / "data" / "glossary_probe"


def _lines(name: str) -> list[str]:
    text = (PROBE / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_everyday_chinese_reaches_a_statutory_term():
    rows = [(q, terms.split("|")) for q, terms in (line.split("\t") for line in _lines("zh_everyday.tsv"))]
    missed = []
    for q, terms in rows:
        forms = expand_query(q)
        if not any(t in forms.zh or t in forms.terms for t in terms):
            missed.append(q)
    assert (len(rows), len(missed)) == (245, 9), missed  # 116 of 245 reached one before zh.everyday_extra


def test_english_words_rendered_as_nothing():
    questions = _lines("en_questions.txt")
    # as the renderer reads a word: lower case, possessive and apostrophes dropped (can't → cant, a stop word)
    words = {
        re.sub(r"['’]s$", "", w).lower().replace("'", "").replace("’", "")
        for q in questions
        for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", q)
    }
    vanished = sorted(w for w in words - ENGLISH_STOPWORDS if not expand_query(w).zh.strip())
    assert len(questions) == 467  # 347 of stop 24, 120 of stop 25 (many-sense words)
    assert vanished == [
        "gouging",  # only in "price gouging" (哄抬价格)
        "harbour",  # only in "safe harbour"
        "held",  # only in "held liable"
        "icp",  # an acronym: kept as typed (ICP) in a question
        "taken",  # only in "taken down" (删除)
    ]
