"""``policykb eval``: score retrieval on the labelled question set and LawBench, in one run.

    policykb eval                                   # dev questions, KB at $POLICYKB_HOME, LawBench subset
    policykb eval --questions my.jsonl --k 10 --json
    policykb eval --lawbench none                   # skip LawBench

Pipelines compared: policykb hybrid, BM25 only, dense only, and the naive LlamaIndex baseline
(``qa/baselines.py``); then ``policykb ask`` on the same questions (abstention, evidence in citations,
faithfulness, time of the answer step). LawBench runs against a temporary knowledge base holding only the
laws it asks about.

>>> report = run(Settings.load(), questions=DEV_QUESTIONS, lawbench=LAWBENCH_SUBSET)   # doctest: +SKIP
>>> report.scores[0].recall_5                                                          # doctest: +SKIP
1.0
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policykb.config import Settings
from policykb.qa.evaluation import (
    DEV_QUESTIONS,
    LANGUAGES,
    REPO_ROOT,
    PipelineScores,
    format_misses,
    format_table,
)
from policykb.qa.lawbench import LAWBENCH_SUBSET, LawbenchResult
from policykb.ui.cli_options import EXIT_OK, EXIT_USAGE, Subcommands

if TYPE_CHECKING:
    from policykb.index.embed import Embedder
    from policykb.index.search import Mode
    from policykb.index.store import KnowledgeBase
    from policykb.qa.evaluation import Question

KB_MODES: tuple[tuple[Mode, str], ...] = (
    ("hybrid", "policykb hybrid"),
    ("bm25", "BM25 only"),
    ("dense", "dense only"),
)


def register(sub: Subcommands) -> None:
    """``policykb eval`` (it takes no search filters)."""
    s = sub.add_parser("eval", help="score retrieval on a labelled question set (and LawBench)")
    s.add_argument(
        "--questions",
        type=Path,
        default=DEV_QUESTIONS,
        metavar="FILE",
        help="JSONL questions with evidence (default: tests/data/eval/dev_questions.jsonl)",
    )
    s.add_argument("--k", type=int, default=10, help="units retrieved per question; MRR and nDCG at k (≥ 5)")
    s.add_argument(
        "--lawbench",
        default=str(LAWBENCH_SUBSET),
        metavar="FILE",
        help="LawBench 1-1 subset JSONL (default: the bundled one; 'none' skips it)",
    )
    s.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    s.add_argument(
        "--parts",
        default="dev,fit,validation",
        metavar="LIST",
        help="which question sets to score, comma-separated: dev (the bundled corpus' development "
        "questions), fit and validation (the team's set, split by document; a knowledge base "
        "of its 30 documents is built for them); ignored with --questions",
    )
    s.add_argument(
        "--set-home",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep (and reuse) the fit/validation knowledge base there (default: a temporary one)",
    )
    s.set_defaults(func=cmd_eval)


@dataclass
class EvalReport:
    questions: str
    home: str
    scores: list[PipelineScores]
    lawbench: LawbenchResult | None = None
    answers: dict[str, Any] | None = None  # qa.metrics.answer_metrics of `policykb ask` on the same questions
    notes: list[str] = field(default_factory=list)
    parts: list[PartReport] = field(default_factory=list)  # fit / validation of the team's set, when run

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "home": self.home,
            "pipelines": {s.name: s.to_dict() for s in self.scores},
            "lawbench": self.lawbench.to_dict() if self.lawbench else None,
            "answers": self.answers,
            "notes": self.notes,
            "parts": {p.name: p.to_dict() for p in self.parts},
        }

    def format(self) -> str:
        lines = []
        if self.parts:
            dev = [PartReport("dev", self.scores, self.answers)] if self.scores and self.answers else []
            lines += [
                (
                    "Side by side (dev: bundled corpus; fit/validation: the team's set over 30 documents, "
                    "split by document, nothing tuned on validation):"
                ),
                format_side_by_side(dev + self.parts),
                "",
            ]
            for p in self.parts:
                lines += [f"== {p.name} ==", format_table(p.scores), format_answers(p.answers), ""]
            lines.append("== dev ==" if dev else "")
        lines += [format_table(self.scores), ""] if self.scores else []
        if self.lawbench is not None:
            lb = self.lawbench
            lines.append(
                f"LawBench 1-1 article recitation ({lb.n} questions; a separate KB of the laws): "
                f"hit@1 = {lb.hit_at_1:.3f} ({lb.hits}/{lb.n})"
            )
            lines += [f"  miss: {m['question']} want {m['want']} got {m['got']}" for m in lb.misses]
            lines.append("")
        if self.answers is not None:
            lines += [format_answers(self.answers), ""]
        lines += [format_misses(s) for s in self.scores]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class PartReport:
    """One question set's scores: every pipeline and the answers."""

    name: str
    scores: list[PipelineScores]
    answers: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"pipelines": {s.name: s.to_dict() for s in self.scores}, "answers": self.answers}


SUMMARY_ROWS = (("recall_1", "R@1"), ("recall_5", "R@5"), ("mrr", "MRR"), ("ndcg", "nDCG@10"))
ANSWER_ROWS = (
    ("abstention_accuracy", "'none' questions that abstain"),
    ("false_abstention_rate", "answerable questions that abstain"),
    ("evidence_in_citations", "citations hold the evidence"),
    ("faithfulness", "sentences verbatim in a cited clause"),
    ("answer_ms_median", "answer step, median ms"),
)


def format_side_by_side(parts: list[PartReport]) -> str:
    """dev | fit | validation in columns: each pipeline's R@1, R@5, MRR, nDCG@10 overall and per language,
    then the answers."""
    heads = [
        f"{p.name} ({p.answers['answerable_questions']}+{p.answers['none_questions']} none)" for p in parts
    ]
    width = max(12, *(len(h) for h in heads))
    lines = [f"{'':<34}" + "".join(f"{h:>{width + 2}}" for h in heads)]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"{label:<34}" + "".join(f"{v:>{width + 2}}" for v in values))

    def cell(v: float | None) -> str:
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"

    for i, name in enumerate(s.name for s in parts[0].scores):
        scores = [p.scores[i] for p in parts]
        for key, label in SUMMARY_ROWS:
            row(
                f"{name} {label}" if key == "recall_1" else f"{'':>{len(name)}} {label}",
                [cell(getattr(sc, key)) for sc in scores],
            )
        if i == 0:
            for lang in LANGUAGES:
                row(
                    f"  {lang}: R@1 / R@5 / MRR",
                    [
                        f"{cell(b.get('recall_1'))} {cell(b.get('recall_5'))} {cell(b.get('mrr'))}"
                        if (b := sc.by_lang.get(lang))
                        else "—"
                        for sc in scores
                    ],
                )
    lines.append("")
    for key, label in ANSWER_ROWS:
        row(
            label,
            [f"{p.answers[key]}" if key.endswith("_ms_median") else cell(p.answers[key]) for p in parts],
        )
    return "\n".join(lines)


def answer_all(kb: KnowledgeBase, questions: Sequence[Question]) -> dict[str, Any]:
    """``policykb ask`` (extractive) on every question: abstention, evidence in citations, faithfulness,
    and what the answer step adds to the search (median of the warm per-question timings)."""
    import statistics
    from dataclasses import asdict

    from policykb.qa.answer import answer
    from policykb.qa.metrics import answer_metrics

    answers = [answer(kb, q.q) for q in questions]
    metrics = answer_metrics(answers, [asdict(q) for q in questions])
    metrics["answer_ms_median"] = round(statistics.median(a.timings["answer_ms"] for a in answers), 2)
    metrics["search_ms_median"] = round(statistics.median(a.timings["search_ms"] for a in answers), 2)
    return metrics


def format_answers(m: dict[str, Any]) -> str:
    def share(part: str, whole: str, ratio: str) -> str:
        value = m[ratio]
        return f"{part}/{whole} ({value:.3f})" if value is not None else f"{part}/{whole}"

    abstained_none = round((m["abstention_accuracy"] or 0) * m["none_questions"])
    hits = round((m["evidence_in_citations"] or 0) * m["answerable_questions"])
    faithful = round((m["faithfulness"] or 0) * m["answer_sentences"])
    return (
        f"Answers (policykb ask, extractive; {m['questions']} questions):\n"
        f"  'none' questions that abstain      {share(abstained_none, m['none_questions'], 'abstention_accuracy')}\n"
        f"  answerable questions that abstain  {m['false_abstentions']}/{m['answerable_questions']}\n"
        f"  citations contain the evidence     {share(hits, m['answerable_questions'], 'evidence_in_citations')}\n"
        f"  faithfulness (sentences verbatim)  {share(faithful, m['answer_sentences'], 'faithfulness')}\n"
        f"  answer step, median                {m['answer_ms_median']} ms (search {m['search_ms_median']} ms)"
    )


def open_kb(
    settings: Settings, *, embedder: Embedder | None = None, notes: list[str] | None = None
) -> KnowledgeBase:
    """The knowledge base at ``settings.home``; the bundled corpus is ingested first when it is empty."""
    from policykb.index.store import KnowledgeBase
    from policykb.ui.ingesting import format_report, ingest_paths

    kb = KnowledgeBase.open(settings, embedder=embedder)
    if not kb.documents():
        report = ingest_paths(kb, [settings.corpus], max_chars=settings.max_clause_chars)
        print(format_report(report), file=sys.stderr)
        if notes is not None:
            notes.append(f"the knowledge base at {settings.home} was empty; ingested {settings.corpus}")
    return kb


def open_set_kb(
    settings: Settings, documents: Iterable[Path], home: Path | None, *, embedder: Embedder | None = None
) -> KnowledgeBase:
    """A knowledge base holding every document of the question set: at ``home`` (built there when it is
    empty, reused otherwise), or in a temporary folder removed at exit."""
    import atexit
    import shutil

    from policykb.index.store import KnowledgeBase
    from policykb.ui.ingesting import ingest_paths

    if home is None:
        home = Path(tempfile.mkdtemp(prefix="policykb-questionset-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
    set_settings = Settings.load(
        home=home, embedding_model=settings.embedding_model, embedding_precision=settings.embedding_precision
    )
    kb = KnowledgeBase.open(set_settings, embedder=embedder)
    if not kb.documents():
        report = ingest_paths(kb, list(documents), max_chars=settings.max_clause_chars)
        if report.error:
            raise RuntimeError(f"the question set's knowledge base could not be built: {report.error}")
    return kb


def source_files(kb: KnowledgeBase, settings: Settings, notes: list[str]) -> list[Path]:
    """The raw files the knowledge base was built from (for the baseline), found on disk."""
    found = []
    for doc in kb.documents():
        p = Path(doc.source_path)
        candidates = [p, REPO_ROOT / p, Path(settings.corpus) / p.name]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            notes.append(f"baseline: source file of {doc.doc_id} not found ({doc.source_path}); left out")
        else:
            found.append(hit)
    return found


def run_lawbench(path: Path, settings: Settings, embedder: Embedder | None) -> LawbenchResult:
    """Ingest the laws ``path`` asks about into a throw-away knowledge base and score hit@1."""
    from policykb.index.store import KnowledgeBase
    from policykb.qa.lawbench import hit_at_1, law_paths, load_items
    from policykb.ui.ingesting import ingest_paths

    items = load_items(path)
    with tempfile.TemporaryDirectory(prefix="policykb-lawbench-") as tmp:
        law_settings = Settings.load(home=Path(tmp), embedding_model=settings.embedding_model)
        kb = KnowledgeBase.open(law_settings, embedder=embedder)
        report = ingest_paths(kb, law_paths(items), max_chars=settings.max_clause_chars)
        if report.error:
            raise RuntimeError(f"LawBench knowledge base could not be built: {report.error}")
        return hit_at_1(kb, items)


def run(
    settings: Settings,
    *,
    questions: Path = DEV_QUESTIONS,
    lawbench: Path | None = LAWBENCH_SUBSET,
    k: int = 10,
    kb: KnowledgeBase | None = None,
    baseline: bool = True,
) -> EvalReport:
    """Every pipeline on ``questions`` (and LawBench unless ``lawbench`` is None) in one process;
    ``baseline=False`` leaves out the LlamaIndex baseline (the quality test does not need it)."""
    from policykb.qa.baselines import naive_llamaindex_pipeline
    from policykb.qa.evaluation import kb_pipeline, load_questions, score_pipeline

    notes: list[str] = []
    kb = kb if kb is not None else open_kb(settings, notes=notes)
    qs = load_questions(questions)
    pipes = [kb_pipeline(kb, mode, name) for mode, name in KB_MODES]
    if baseline:
        pipes.append(naive_llamaindex_pipeline(source_files(kb, settings, notes), kb.embedder))
    scores = [score_pipeline(p, qs, k) for p in pipes]
    report = EvalReport(str(questions), str(settings.home), scores, answers=answer_all(kb, qs), notes=notes)
    if lawbench is not None:
        report.lawbench = run_lawbench(lawbench, settings, kb.embedder)
    return report


def run_set(
    settings: Settings,
    *,
    parts: list[str],
    set_home: Path | None,
    k: int = 10,
    baseline: bool = True,
    folder: Path | None = None,
) -> list[PartReport]:
    """The team's question set: ``parts`` among fit, validation, on one knowledge base of its documents."""
    from policykb.qa.baselines import naive_llamaindex_pipeline
    from policykb.qa.evaluation import QUESTION_SET, kb_pipeline, load_question_set, score_pipeline

    qset = load_question_set(folder or QUESTION_SET)
    kb = open_set_kb(settings, qset.documents, set_home)
    pipes = [kb_pipeline(kb, mode, name) for mode, name in KB_MODES]
    if baseline:
        notes: list[str] = []
        pipes.append(naive_llamaindex_pipeline(source_files(kb, settings, notes), kb.embedder))
    out = []
    for name in parts:
        qs = getattr(qset, name)
        out.append(PartReport(name, [score_pipeline(p, qs, k) for p in pipes], answer_all(kb, qs)))
    return out


def cmd_eval(args: argparse.Namespace) -> int:
    if args.k < 5:
        print("policykb eval: --k must be at least 5 (Recall@5 is reported)", file=sys.stderr)
        return EXIT_USAGE
    if not args.questions.is_file():
        print(f"policykb eval: no questions file {args.questions}", file=sys.stderr)
        return EXIT_USAGE
    lawbench = None if args.lawbench.lower() == "none" else Path(args.lawbench)
    if lawbench is not None and not lawbench.is_file():
        print(f"policykb eval: no LawBench file {lawbench} (or pass --lawbench none)", file=sys.stderr)
        return EXIT_USAGE
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - {"dev", "fit", "validation"}
    if unknown:
        print(
            f"policykb eval: unknown parts {sorted(unknown)}; allowed: dev, fit, validation", file=sys.stderr
        )
        return EXIT_USAGE
    settings = Settings.load()
    if args.questions != DEV_QUESTIONS:
        parts = ["dev"]
    if "dev" in parts:
        report = run(settings, questions=args.questions, lawbench=lawbench, k=args.k)
    else:
        report = EvalReport("", str(settings.home), [])
    set_parts = [p for p in parts if p != "dev"]
    if set_parts:
        report.parts = run_set(settings, parts=set_parts, set_home=args.set_home, k=args.k)
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else report.format())
    return EXIT_OK
