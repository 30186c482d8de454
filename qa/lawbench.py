"""LawBench task 1-1 (article recitation) as a retrieval check: "…电子商务法第三十五条的内容是什么？" must
put that article of that law first.

A question counts as a hit when the top clause's label means the asked article (``label_key``) and the
clause belongs to the asked law (the document ingested from ``law_file``).

>>> items = load_items(LAWBENCH_SUBSET)                       # doctest: +SKIP
>>> sorted({i.law_file for i in items})                        # doctest: +SKIP
['consumer_rights_law_2013.md', 'ecommerce_law_2018.md']
>>> hit_at_1(kb, items).hit_at_1                               # doctest: +SKIP
1.0
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policykb.index.references import label_key
from policykb.qa.evaluation import REPO_ROOT

if TYPE_CHECKING:
    from policykb.index.store import KnowledgeBase

EXTERNAL = REPO_ROOT / "tests" / "data" / "external"
LAWBENCH_SUBSET = EXTERNAL / "qa" / "lawbench_subset.jsonl"


@dataclass(frozen=True)
class LawbenchItem:
    question: str
    law: str
    law_file: str  # file name in the external folder
    article: str  # as asked, e.g. "第三十五条"


@dataclass
class LawbenchResult:
    n: int
    hits: int
    misses: list[dict[str, Any]] = field(default_factory=list)  # question, expected and what came first

    @property
    def hit_at_1(self) -> float:
        return round(self.hits / self.n, 4) if self.n else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {"hit_at_1": self.hit_at_1, **asdict(self)}


def load_items(path: Path | str = LAWBENCH_SUBSET) -> list[LawbenchItem]:
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                d = json.loads(line)
                out.append(LawbenchItem(d["question"], d["law"], d["law_file"], d["article"]))
            except (json.JSONDecodeError, KeyError) as exc:
                raise ValueError(f"{path}:{n}: needs question, law, law_file and article ({exc})") from exc
    return out


def law_paths(items: Sequence[LawbenchItem], folder: Path = EXTERNAL) -> list[Path]:
    """The law files the items ask about (each once), which must exist in ``folder``."""
    paths = [folder / name for name in dict.fromkeys(i.law_file for i in items)]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"LawBench laws not found in {folder}: {', '.join(missing)}")
    return paths


def _doc_of_file(kb: KnowledgeBase) -> dict[str, str]:
    return {Path(d.source_path).name: d.doc_id for d in kb.documents()}


def hit_at_1(kb: KnowledgeBase, items: Sequence[LawbenchItem]) -> LawbenchResult:
    """Ask each item's question of ``kb`` (a ``KnowledgeBase`` holding the laws) and score the top clause."""
    doc_of = _doc_of_file(kb)
    result = LawbenchResult(n=len(items), hits=0)
    for item in items:
        hits = kb.search(item.question, k=1)
        top = hits[0].clause if hits else None
        want_doc = doc_of.get(item.law_file)
        if top is not None and top.doc_id == want_doc and label_key(top.label) == label_key(item.article):
            result.hits += 1
        else:
            result.misses.append(
                {
                    "question": item.question,
                    "want": [want_doc, item.article],
                    "got": [top.doc_id, top.label] if top else None,
                }
            )
    return result
