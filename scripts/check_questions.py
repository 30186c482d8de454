"""Check question files against the documents they cite.

    .venv/bin/python scripts/check_questions.py tests/data/eval/questions/*.jsonl

Each line: ``id``, ``q``, ``lang`` (zh, zh-hant, en), ``doc`` (the answering document's file stem, or
``none``), ``near`` (for ``none``: the document the question was written beside), ``kind`` (plain,
colloquial, reference, english, traditional, none), ``evidence`` (verbatim passages of the answering
clause). Every evidence passage must be found, by the evidence rule, in its document's text.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from policykb.ingest.text import evidence_key

ROOT = Path(__file__).resolve().parent.parent
DOC_DIRS = (ROOT / "corpus", ROOT / "tests/data/external", ROOT / "tests/data/external2")
LANGS = {"zh", "zh-hant", "en"}
KINDS = {"plain", "colloquial", "reference", "english", "traditional", "none"}


def doc_keys() -> dict[str, str]:
    out = {}
    for d in DOC_DIRS:
        for f in sorted(d.iterdir()):
            if f.suffix in (".md", ".txt") and f.name not in ("SOURCES.md", "README.md"):
                out[f.stem] = evidence_key(f.read_text(encoding="utf-8"))
    return out


def check(path: Path, docs: dict[str, str], seen: set[str]) -> list[str]:
    problems = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{n}"
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not JSON ({exc})")
            continue
        for field in ("id", "q", "lang", "doc", "kind"):
            if not q.get(field):
                problems.append(f"{where}: missing {field!r}")
        if q.get("id") in seen:
            problems.append(f"{where}: duplicate id {q.get('id')!r}")
        seen.add(q.get("id"))
        if q.get("lang") not in LANGS:
            problems.append(f"{where}: lang {q.get('lang')!r} not in {sorted(LANGS)}")
        if q.get("kind") not in KINDS:
            problems.append(f"{where}: kind {q.get('kind')!r} not in {sorted(KINDS)}")
        doc = q.get("doc")
        if doc == "none":
            if q.get("evidence"):
                problems.append(f"{where}: a 'none' question has evidence")
            if q.get("near") not in docs:
                problems.append(f"{where}: 'near' {q.get('near')!r} is not a document stem")
            continue
        if doc not in docs:
            problems.append(f"{where}: doc {doc!r} is not a document stem")
            continue
        ev = q.get("evidence") or []
        if not ev:
            problems.append(f"{where}: no evidence")
        for e in ev:
            k = evidence_key(e)
            if len(k) < 6:
                problems.append(f"{where}: evidence {e!r} is too short (key {len(k)} chars, need ≥ 6)")
            elif k not in docs[doc]:
                problems.append(f"{where}: evidence {e!r} not found in {doc}")
    return problems


def main(argv: list[str]) -> int:
    docs = doc_keys()
    seen: set[str] = set()
    problems = [p for a in argv for p in check(Path(a), docs, seen)]
    print("\n".join(problems) if problems else f"ok: {len(seen)} questions")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
