"""What each source of English → Chinese rendering contributes (index/query_forms.py).

For the English questions of a JSONL question file, prints the Chinese rendering under four
configurations — pinyin names only, glossary only, CC-CEDICT only, all three — with the rendered words
found in the question's evidence and the share of rendered words that occur in the corpus at all (a word
the notices never use cannot help BM25). Then times Vocabulary building and expand_query.

    .venv/bin/python bench/query_forms_contrib.py [--questions FILE] [--texts GLOB ...] [--synthetic N]

The real retrieval evaluation lives elsewhere; this only shows what reaches the retriever.
"""

from __future__ import annotations

import argparse
import glob
import json
import random
import re
import statistics
import sys
import time
import unicodedata
from pathlib import Path

import jieba

from policykb.index.query_forms import SOURCES, Vocabulary, default_lexicon, detect_language, expand_query
from policykb.ingest.text import TONED, to_simplified

REPO = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = REPO / "tests" / "data" / "eval" / "dev_questions.jsonl"
SHARED = REPO.parent / "shared"
FALLBACK_QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"
# The Douyin seed carries pinyin annotations after characters: 消費(fèi)者. Any bracketed letters go.
_LETTERS_IN_BRACKETS = re.compile(rf"\([a-zA-Z{TONED}ü]+\)")
CONFIGS = {"pinyin": {"pinyin"}, "glossary": {"glossary"}, "dictionary": {"dictionary"}, "all": set(SOURCES)}


def pad(text: str, width: int) -> str:
    """Left-justify by display width: a CJK character takes two columns."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(1, width - used)


def clean(text: str) -> str:
    return _LETTERS_IN_BRACKETS.sub("", to_simplified(text))


def load_questions(path: Path | None) -> tuple[Path, list[dict]]:
    if path is None:
        path = DEFAULT_QUESTIONS if DEFAULT_QUESTIONS.is_file() else FALLBACK_QUESTIONS
    with path.open(encoding="utf-8") as f:
        return path, [json.loads(line) for line in f if line.strip()]


def load_texts(patterns: list[str] | None) -> tuple[str, list[str]]:
    if not patterns:
        corpus = [str(p) for p in (REPO / "corpus").rglob("*") if p.suffix in {".txt", ".md"}]
        patterns = corpus or [str(SHARED / "seeds" / "*.txt")]
    files = sorted({f for p in patterns for f in glob.glob(p)})
    if not files:
        sys.exit(f"no text files match {patterns}; pass --texts GLOB")
    texts = [
        line
        for f in files
        for line in clean(Path(f).read_text(encoding="utf-8")).splitlines()
        if line.strip()
    ]
    return f"{len(files)} files", texts


def evidence_hits(words: list[str], evidence: list[str]) -> list[str]:
    keys = [clean(e) for e in evidence]
    return [w for w in words if len(w) > 1 and any(w in k for k in keys)]


def contribution_table(questions: list[dict], vocab: Vocabulary) -> None:
    english = [q for q in questions if q.get("lang") == "en" or detect_language(q["q"]) == "en"]
    print(f"\n{len(english)} English questions\n")
    header = f"{'id':<8} {'config':<10} {pad('zh', 34)}{pad('in evidence', 16)}corpus words"
    print(header)
    print("-" * len(header))
    summary = {name: {"hit": 0, "answerable": 0, "in_corpus": []} for name in CONFIGS}
    for q in english:
        print(f"{q.get('id', ''):<8} {q['q']}")
        for name, sources in CONFIGS.items():
            forms = expand_query(q["q"], vocab, sources=frozenset(sources))
            words = list(dict.fromkeys([*forms.zh.split(), *forms.terms]))
            in_corpus = [w for w in words if w in vocab]
            share = f"{len(in_corpus)}/{len(words)}"
            if words:
                summary[name]["in_corpus"].append(len(in_corpus) / len(words))
            if q.get("evidence"):
                hits = evidence_hits(words, q["evidence"])
                summary[name]["answerable"] += 1
                summary[name]["hit"] += bool(hits)
                hit_text = ",".join(hits) or "-"
            else:
                hit_text = "(no answer)"
            print(f"{'':<8} {name:<10} {pad(forms.zh or '∅', 34)}{pad(hit_text, 16)}{share}")
    print(f"\n{'config':<10} {'evidence word rendered':<24} mean share of rendered words in corpus")
    for name, s in summary.items():
        share = statistics.mean(s["in_corpus"]) if s["in_corpus"] else 0.0
        print(f"{name:<10} {s['hit']}/{s['answerable']:<22} {share:.0%}")


def timings(questions: list[dict], vocab: Vocabulary, texts: list[str], synthetic: int) -> None:
    print("\ntimings")
    qs = [q["q"] for q in questions]
    expand_query(qs[0], vocab)  # lexicon loaded once
    rounds = 200
    t = time.perf_counter()
    for _ in range(rounds):
        for q in qs:
            expand_query(q, vocab)
    per = (time.perf_counter() - t) / (rounds * len(qs))
    print(f"  expand_query: {per * 1e6:.0f} µs per question ({len(qs)} questions × {rounds})")
    if synthetic:
        sentences = [s for t in texts for s in re.split(r"[。；]", t) if len(s) > 5]
        rng = random.Random(0)
        fake = [f"{rng.choice(sentences)}，第{i}项。{rng.choice(sentences)}" for i in range(synthetic)]
        t = time.perf_counter()
        big = Vocabulary.from_texts(fake)
        dt = time.perf_counter() - t
        n_chars = sum(map(len, fake))
        print(
            f"  Vocabulary.from_texts: {synthetic} synthetic clauses ({n_chars / 1e6:.1f}M chars, "
            f"recombined corpus sentences, so repetitive) → {len(big)} words in {dt:.1f} s"
        )
        tokens = [jieba.lcut(s) for s in fake[:20000]]
        t = time.perf_counter()
        Vocabulary.from_tokens(tokens * (synthetic // 20000 or 1))
        print(f"  Vocabulary.from_tokens (reusing BM25 tokens): {time.perf_counter() - t:.1f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=Path, help=f"JSONL question file (default {DEFAULT_QUESTIONS})")
    ap.add_argument("--texts", nargs="*", help="globs of corpus text files (default corpus/, else the seeds)")
    ap.add_argument(
        "--synthetic",
        type=int,
        default=0,
        metavar="N",
        help="also time a Vocabulary of N synthetic clauses (e.g. 100000)",
    )
    args = ap.parse_args(argv)
    jieba.setLogLevel(60)
    qpath, questions = load_questions(args.questions)
    what, texts = load_texts(args.texts)
    t = time.perf_counter()
    vocab = Vocabulary.from_texts(texts)
    build = time.perf_counter() - t
    default_lexicon()
    print(
        f"questions: {qpath}\ncorpus: {what}, {len(texts)} lines → Vocabulary of {len(vocab)} words "
        f"in {build:.2f} s (jieba start-up included)"
    )
    contribution_table(questions, vocab)
    timings(questions, vocab, texts, args.synthetic)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
