"""Answer quality on a labelled question set (``tests/data/eval/``): what ``policykb eval`` reports.

>>> m = answer_metrics(answers, questions)                              # doctest: +SKIP
>>> m["abstention_accuracy"], m["false_abstentions"], m["evidence_in_citations"], m["faithfulness"]
(1.0, 1, 0.909, 1.0)                                                    # doctest: +SKIP

- **abstention accuracy**: share of the ``doc == "none"`` questions that abstained;
- **false abstentions**: answerable questions that abstained (count, and share);
- **evidence in citations**: share of the answerable questions whose citations include a clause that
  contains one of the question's evidence passages (compared by ``evidence_key``: t2s, pinyin
  annotations removed, only letters, digits, CJK and ``.`` kept — ``tests/data/eval/README.md``); an
  abstention counts as a miss;
- **faithfulness**: share of answer sentences (all answered questions) found verbatim in a clause they cite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policykb.ingest.text import evidence_key
from policykb.qa.answer import Answer


def evidence_cited(answer: Answer, evidence: Sequence[str]) -> bool:
    """Whether a cited clause contains one of the evidence passages (the evaluation's hit rule)."""
    keys = [k for k in (evidence_key(e) for e in evidence) if k]
    if not keys:
        return False
    for c in answer.citations:
        texts = {evidence_key(c.clause.text), evidence_key(c.clause.original)}
        if any(k in t for k in keys for t in texts):
            return True
    return False


def faithful_sentences(answer: Answer) -> tuple[int, int]:
    """(sentences found verbatim in a clause they cite, sentences) of one answer."""
    texts = {c.n: c.clause.text for c in answer.citations}
    ok = sum(
        1 for s in answer.sentences if s.citations and any(s.text in texts.get(n, "") for n in s.citations)
    )
    return ok, len(answer.sentences)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def answer_metrics(answers: Sequence[Answer], questions: Sequence[Mapping[str, Any]]) -> dict[str, object]:
    """Metrics of ``answers[i]`` to ``questions[i]`` (dicts with ``doc`` and ``evidence``, as in the
    JSONL)."""
    if len(answers) != len(questions):
        raise ValueError(
            f"{len(answers)} answers for {len(questions)} questions; give one answer per question"
        )
    none_total = none_abstained = answerable = false_abstentions = evidence_hits = 0
    answered_answerable = 0
    faithful = sentences = 0
    rows = []
    for a, q in zip(answers, questions):
        is_none = q.get("doc") == "none"
        hit = None
        if is_none:
            none_total += 1
            none_abstained += a.abstained
        else:
            answerable += 1
            false_abstentions += a.abstained
            if not a.abstained:
                answered_answerable += 1
            hit = (not a.abstained) and evidence_cited(a, q.get("evidence") or [])
            evidence_hits += bool(hit)
        ok, n = faithful_sentences(a) if not a.abstained else (0, 0)
        faithful += ok
        sentences += n
        rows.append(
            {
                "id": q.get("id"),
                "q": q.get("q"),
                "doc": q.get("doc"),
                "abstained": a.abstained,
                "correct_abstention": a.abstained == is_none,
                "evidence_cited": hit,
                "sentences": n,
                "faithful_sentences": ok,
                "reason": a.reason,
            }
        )
    return {
        "questions": len(questions),
        "none_questions": none_total,
        "abstention_accuracy": _ratio(none_abstained, none_total),
        "answerable_questions": answerable,
        "false_abstentions": false_abstentions,
        "false_abstention_rate": _ratio(false_abstentions, answerable),
        "evidence_in_citations": _ratio(evidence_hits, answerable),
        "evidence_in_citations_answered": _ratio(evidence_hits, answered_answerable),
        "faithfulness": _ratio(faithful, sentences),
        "answer_sentences": sentences,
        "per_question": rows,
    }
