"""Retrieval evaluation: labelled questions → ranked units → Recall@k, MRR, nDCG@10 per pipeline.

A *pipeline* is anything that returns ranked text units for a question: policykb's hybrid search, one of
its signals alone, or a baseline (``qa/baselines.py``). A retrieved unit is a hit when its comparison key
contains the key of any evidence passage of the question (``tests/data/eval/README.md``); questions whose
``doc`` is ``"none"`` (the corpus does not answer them) are left out of the retrieval metrics.

>>> evidence_key("消費(fèi)者 體驗，30 秒")
'消费者体验30秒'
>>> ranks = [1, 3, None]                       # rank of the first hit per question (None: not in top k)
>>> recall_at(ranks, 1), recall_at(ranks, 5), round(mrr(ranks), 4)
(0.3333, 0.6667, 0.4444)

Typical use (what ``policykb eval`` does)::

    questions = load_questions(DEV_QUESTIONS)
    pipes = [kb_pipeline(kb, "hybrid"), kb_pipeline(kb, "bm25")]
    scores = [score_pipeline(p, questions) for p in pipes]
    print(format_table(scores))
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policykb.ingest.text import evidence_key

if TYPE_CHECKING:
    from policykb.index.search import Mode
    from policykb.index.store import KnowledgeBase

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_QUESTIONS = REPO_ROOT / "tests" / "data" / "eval" / "dev_questions.jsonl"
QUESTION_SET = REPO_ROOT / "tests" / "data" / "eval"  # split.toml + questions/*.jsonl
LANGUAGES = ("zh", "zh-hant", "en")
NO_ANSWER = "none"
DEPTH = 10  # units retrieved per question; nDCG and MRR are computed at this depth


def is_hit(unit_text: str, evidence_keys: Sequence[str]) -> bool:
    """Whether a retrieved unit contains one of the evidence passages (compared by ``evidence_key``)."""
    key = evidence_key(unit_text)
    return any(e and e in key for e in evidence_keys)


# -- questions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    id: str
    q: str
    lang: str
    doc: str
    evidence: tuple[str, ...]
    kind: str = ""  # plain, colloquial, reference, english, traditional, none (the team's set)
    near: str = ""  # a "none" question: the document it was written beside
    part: str = ""  # dev, fit or validation

    @property
    def answerable(self) -> bool:
        return self.doc != NO_ANSWER and bool(self.evidence)

    @property
    def evidence_keys(self) -> tuple[str, ...]:
        return tuple(k for k in map(evidence_key, self.evidence) if k)


def load_questions(path: Path | str = DEV_QUESTIONS, part: str = "") -> list[Question]:
    """One JSON object a line: ``id``, ``q``, ``lang``, ``doc``, ``evidence`` (see the eval README), and in
    the team's set ``kind`` and ``near``."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            out.append(
                Question(
                    str(d.get("id") or f"q{n}"),
                    d["q"],
                    d.get("lang", "zh"),
                    d.get("doc", ""),
                    tuple(d.get("evidence") or ()),
                    d.get("kind", ""),
                    d.get("near", ""),
                    part,
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a question object with 'q' ({exc})") from exc
    return out


@dataclass(frozen=True)
class QuestionSet:
    """The team's questions, split by document into a fit and a validation part (``split.toml``)."""

    fit: list[Question]
    validation: list[Question]
    documents: tuple[Path, ...]  # folders ingested together to ask them against
    validation_docs: frozenset[str]

    @property
    def all(self) -> list[Question]:
        return self.fit + self.validation


def load_question_set(folder: Path | str = QUESTION_SET) -> QuestionSet:
    """``folder/questions/*.jsonl`` split by ``folder/split.toml``: a question is in the validation part
    when its document (``doc``, or ``near`` for a "none" question) is listed there."""
    folder = Path(folder)
    split_path = folder / "split.toml"
    try:
        split = tomllib.loads(split_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{split_path}: cannot read the split ({exc})") from exc
    unknown = set(split) - {"documents", "validation"}
    if unknown:
        raise ValueError(f"{split_path}: unknown keys {sorted(unknown)}; allowed: documents, validation")
    held = frozenset(split.get("validation", []))
    fit: list[Question] = []
    validation: list[Question] = []
    for path in sorted((folder / "questions").glob("*.jsonl")):
        for q in load_questions(path):
            doc = q.near if q.doc == NO_ANSWER else q.doc
            if doc in held:
                validation.append(replace(q, part="validation"))
            else:
                fit.append(replace(q, part="fit"))
    docs = tuple(REPO_ROOT / d for d in split.get("documents", []))
    return QuestionSet(fit, validation, docs, held)


# -- metrics ---------------------------------------------------------------------------------------


def first_hit_rank(relevances: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant unit, or None."""
    return next((i for i, rel in enumerate(relevances, start=1) if rel), None)


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions with a hit in the top ``k`` (the usual "Recall@k" / success@k of QA retrieval)."""
    if not ranks:
        return float("nan")
    return round(sum(r is not None and r <= k for r in ranks) / len(ranks), 4)


def mrr(ranks: Sequence[int | None]) -> float:
    """Mean reciprocal rank of the first hit (0 for a question without one in the ranking)."""
    if not ranks:
        return float("nan")
    return sum(1.0 / r for r in ranks if r) / len(ranks)


def ndcg_at(relevances: Sequence[bool], n_relevant: int, k: int = DEPTH) -> float:
    """Binary-relevance nDCG@k. The ideal ranking puts ``min(n_relevant, k)`` relevant units first, where
    ``n_relevant`` counts every unit of the collection that is a hit (not only the retrieved ones).

    >>> ndcg_at([False, True], n_relevant=1), ndcg_at([True, False, True], n_relevant=2)
    (0.6309, 0.9197)
    """
    ideal = min(n_relevant, k)
    if ideal == 0:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, rel in enumerate(relevances[:k], start=1) if rel)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, ideal + 1))
    return round(dcg / idcg, 4)


# -- pipelines and their scores -------------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    """``retrieve(query, k)`` → texts of the top ``k`` units, best first; ``units`` → every unit it can
    return (to count the relevant ones for nDCG)."""

    name: str
    retrieve: Callable[[str, int], list[str]]
    units: Callable[[], Sequence[str]]


def kb_pipeline(kb: KnowledgeBase, mode: Mode, name: str | None = None) -> Pipeline:
    """policykb search in ``mode`` (hybrid | bm25 | dense) over ``kb`` (a ``KnowledgeBase``)."""

    def retrieve(query: str, k: int) -> list[str]:
        return [h.clause.text for h in kb.search(query, k=k, mode=mode)]

    return Pipeline(name or f"policykb {mode}", retrieve, lambda: [c.text for c in kb.clauses()])


@dataclass
class QuestionResult:
    id: str
    lang: str
    rank: int | None  # of the first hit within DEPTH
    ndcg: float
    n_relevant: int  # units of the whole collection that are hits
    chars: list[int]  # length of each retrieved unit


@dataclass
class PipelineScores:
    name: str
    n: int
    recall_1: float
    recall_5: float
    mrr: float
    ndcg: float
    recall_5_by_lang: dict[str, float | None]
    n_by_lang: dict[str, int]
    chars_per_unit: float
    depth: int = DEPTH  # units retrieved per question; MRR and nDCG are at this depth
    results: list[QuestionResult] = field(default_factory=list)
    by_lang: dict[str, dict[str, float]] = field(
        default_factory=dict
    )  # lang → n, recall_1, recall_5, mrr, ndcg

    def misses(self, k: int = 5) -> list[QuestionResult]:
        return [r for r in self.results if r.rank is None or r.rank > k]

    def to_dict(self, per_question: bool = True) -> dict[str, Any]:
        d = asdict(self)
        if not per_question:
            d.pop("results")
        return d


def run_question(pipe: Pipeline, q: Question, unit_keys: Sequence[str], depth: int = DEPTH) -> QuestionResult:
    keys = q.evidence_keys
    texts = pipe.retrieve(q.q, depth)
    relevances = [is_hit(t, keys) for t in texts]
    n_relevant = sum(any(e in u for e in keys) for u in unit_keys)
    return QuestionResult(
        q.id,
        q.lang,
        first_hit_rank(relevances),
        ndcg_at(relevances, n_relevant, depth),
        n_relevant,
        [len(t) for t in texts],
    )


def score_pipeline(pipe: Pipeline, questions: Sequence[Question], depth: int = DEPTH) -> PipelineScores:
    """Run every answerable question through ``pipe`` and aggregate."""
    unit_keys = [evidence_key(u) for u in pipe.units()]
    results = [run_question(pipe, q, unit_keys, depth) for q in questions if q.answerable]
    ranks = [r.rank for r in results]
    by_lang = {lang: [r.rank for r in results if r.lang == lang] for lang in LANGUAGES}
    chars = [c for r in results for c in r.chars]
    by_lang_scores = {
        lang: {
            "n": len(rs),
            "recall_1": recall_at([r.rank for r in rs], 1),
            "recall_5": recall_at([r.rank for r in rs], 5),
            "mrr": round(mrr([r.rank for r in rs]), 4),
            "ndcg": round(sum(r.ndcg for r in rs) / len(rs), 4),
        }
        for lang in LANGUAGES
        if (rs := [r for r in results if r.lang == lang])
    }
    return PipelineScores(
        by_lang=by_lang_scores,
        name=pipe.name,
        n=len(results),
        recall_1=recall_at(ranks, 1),
        recall_5=recall_at(ranks, 5),
        mrr=round(mrr(ranks), 4),
        ndcg=round(sum(r.ndcg for r in results) / max(len(results), 1), 4),
        recall_5_by_lang={lang: recall_at(rs, 5) if rs else None for lang, rs in by_lang.items()},
        n_by_lang={lang: len(rs) for lang, rs in by_lang.items()},
        chars_per_unit=round(sum(chars) / len(chars), 1) if chars else 0.0,
        depth=depth,
        results=results,
    )


# -- output ----------------------------------------------------------------------------------------


def _cell(v: float | None, width: int) -> str:
    return f"{'—' if v is None or math.isnan(v) else f'{v:.3f}':>{width}}"


def format_table(scores: Sequence[PipelineScores]) -> str:
    """One row per pipeline; per-language columns name how many questions they average over."""
    if not scores:
        return "(no pipelines)"
    n_lang = scores[0].n_by_lang
    lang_heads = [f"R@5 {lang} ({n_lang[lang]})" for lang in LANGUAGES]
    depth = scores[0].depth
    heads = ["R@1", "R@5", "MRR", f"nDCG@{depth}", *lang_heads, "chars/unit"]
    name_w = max(len("pipeline"), *(len(s.name) for s in scores))
    widths = [max(7, len(h)) for h in heads]
    lines = [f"{'pipeline':<{name_w}}  " + "  ".join(f"{h:>{w}}" for h, w in zip(heads, widths))]
    for s in scores:
        values = [s.recall_1, s.recall_5, s.mrr, s.ndcg, *(s.recall_5_by_lang[lang] for lang in LANGUAGES)]
        cells = [_cell(v, w) for v, w in zip(values, widths)] + [f"{s.chars_per_unit:>{widths[-1]}.1f}"]
        lines.append(f"{s.name:<{name_w}}  " + "  ".join(cells))
    lines.append(
        f"({scores[0].n} answerable questions; Recall@k = share of questions with a hit in the "
        f"top k; MRR and nDCG over the top {depth}; chars/unit = mean length of a retrieved unit)"
    )
    return "\n".join(lines)


def format_misses(s: PipelineScores, k: int = 5) -> str:
    missed = s.misses(k)
    if not missed:
        return f"{s.name}: every question has a hit in the top {k}"
    parts = [f"{r.id} (rank {r.rank or f'>{s.depth}'})" for r in missed]
    return f"{s.name}: no hit in the top {k}: " + ", ".join(parts)
