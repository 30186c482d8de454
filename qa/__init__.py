"""question -> retrieved clauses -> cited answer (or an honest \"not found\").

>>> from policykb.qa import answer, answer_metrics          # doctest: +SKIP
>>> a = answer(kb, "微视收费吗？")                            # doctest: +SKIP
>>> a.text, a.abstained, a.citations[0].section             # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "answer": "answer",
    "answer_from_hits": "answer",
    "Answer": "answer",
    "AnswerSentence": "answer",
    "Citation": "citations",
    "answer_metrics": "metrics",
    "evidence_cited": "metrics",
    "Rule": "abstain",
    "Features": "abstain",
}
__all__ = [
    "Answer",
    "AnswerSentence",
    "Citation",
    "Features",
    "Rule",
    "answer",
    "answer_from_hits",
    "answer_metrics",
    "evidence_cited",
]


def __getattr__(name: str) -> Any:
    """Exports load on first use, so ``import policykb.qa.evaluation`` does not pull in the answerer."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'policykb.qa' has no attribute {name!r}")
    return getattr(importlib.import_module(f"policykb.qa.{module}"), name)
