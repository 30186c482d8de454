"""What each part of the everyday → legal term mapping adds to retrieval, on the team's question set.

    .venv/bin/python bench/lexicon_contrib.py [--set-home DIR] [--parts fit,validation]

Hybrid search R@1 / R@5 (answerable questions) with everything on, then with one part switched off at a
time: the colloquial Chinese glossary ([zh.*], and each of its tables alone), the English glossary ([en.*]), CC-CEDICT, pinyin names
from the corpus, and law-title short forms from the corpus (电商法 → 电子商务法). Prints a table; the
difference to "all" is what the part adds. Report validation, decide on fit.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import tomllib
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from policykb.config import Settings
from policykb.index import search as search_mod
from policykb.index.query_forms import (
    GLOSSARY_PATH,
    NOT_WITHIN_TABLE,
    SOURCES,
    TAIWAN_TABLE,
    default_lexicon,
    expand_query,
)
from policykb.index.references import ReferenceIndex
from policykb.ingest.text import to_simplified
from policykb.qa.evaluation import LANGUAGES, is_hit, load_question_set
from policykb.ui.cmd_eval import open_set_kb


@contextmanager
def expansion(**kwargs):
    with mock.patch.object(search_mod, "expand_query", functools.partial(expand_query, **kwargs)):
        yield


@contextmanager
def no_titles():
    with mock.patch.object(ReferenceIndex, "titles_named", lambda self, query: []):
        yield


@contextmanager
def everything():
    yield


def zh_topics() -> dict[str, set[str]]:
    """The phrases of each [zh.TOPIC] table of the glossary."""
    data = tomllib.loads(GLOSSARY_PATH.read_text(encoding="utf-8"))
    tables = data.get("zh", {}).items()
    return {t: {to_simplified(p) for p in entries} for t, entries in tables if t != NOT_WITHIN_TABLE}


def without_topic(phrases: set[str], topic: str) -> Callable:
    """The glossary without one [zh.TOPIC] table (and, for [zh.taiwan], without it read backwards)."""
    lex = default_lexicon()
    kept = tuple((p, v) for p, v in lex.colloquial if p not in phrases)
    taiwan = {} if topic == TAIWAN_TABLE else lex.taiwan
    return lambda: expansion(lexicon=dataclasses.replace(lex, colloquial=kept, taiwan=taiwan))


def configs() -> dict[str, Callable]:
    lex = default_lexicon()
    topics = {f"  − [zh.{t}]": without_topic(phrases, t) for t, phrases in zh_topics().items()}
    return {
        "all": everything,
        "− colloquial zh": lambda: expansion(lexicon=dataclasses.replace(lex, colloquial=(), taiwan={})),
        "− Taiwan's wording": lambda: expansion(lexicon=dataclasses.replace(lex, taiwan={})),
        **topics,
        "− English glossary": lambda: expansion(sources=SOURCES - {"glossary"}),
        "− CC-CEDICT": lambda: expansion(sources=SOURCES - {"dictionary"}),
        "− pinyin names": lambda: expansion(sources=SOURCES - {"pinyin"}),
        "− title short forms": no_titles,
    }


def score(kb, questions) -> dict[str, tuple[float, float, int]]:
    ranks: dict[str, list[int | None]] = {"all": []}
    for q in questions:
        hits = kb.search(q.q, k=5)
        r = next((h.rank for h in hits if is_hit(h.clause.text, q.evidence_keys)), None)
        ranks["all"].append(r)
        ranks.setdefault(q.lang, []).append(r)
    return {
        k: (sum(x == 1 for x in v) / len(v), sum(x is not None for x in v) / len(v), len(v))
        for k, v in ranks.items()
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--set-home", type=Path, default=None)
    p.add_argument("--parts", default="fit,validation")
    args = p.parse_args()
    qset = load_question_set()
    kb = open_set_kb(Settings.load(), qset.documents, args.set_home)
    for part in args.parts.split(","):
        qs = [q for q in getattr(qset, part) if q.answerable]
        print(f"\n{part}: {len(qs)} answerable questions; hybrid R@1 / R@5 (all, then per language)")
        variants = configs()
        width = max(len("configuration"), *map(len, variants)) + 2
        print(f"{'configuration':<{width}}{'all':>14}" + "".join(f"{lang:>14}" for lang in LANGUAGES))
        for name, ctx in variants.items():
            with ctx():
                s = score(kb, qs)
            cells = [f"{s[k][0]:.3f} {s[k][1]:.3f}" if k in s else "—" for k in ("all", *LANGUAGES)]
            print(f"{name:<{width}}" + "".join(f"{c:>14}" for c in cells))


if __name__ == "__main__":
    main()
