"""Re-rank the top of a hybrid search by what each clause says about the question.

Hybrid search fuses BM25 and dense ranks; it does not read a clause the way the answerer does. The top
``window`` hits are re-ordered by a linear score over, per clause:

- ``score``, ``inv_rank``: the fused search's own view;
- ``bm25``, ``inv_bm25_rank``, ``dense``, ``inv_dense_rank``: each side's score and rank (1/rank, 0 if absent);
- ``coverage``: the weighted share of the question's concepts (after term mapping) in the clause or its
  headings, ``text_coverage`` in its text alone, ``partial_coverage`` with part-of-word credit and headings
  at half weight, ``sentence``: the best covering sentence (as the answerer scores sentences);
- ``elsewhere``: the clause is about another place or platform than the one asked about, or, for a question
  naming 台湾, 香港, 澳门 or the mainland, of another jurisdiction (national laws included);
- ``cue``: the clause has the answer type asked for (an amount, a period, a date …);
- ``bigram``: the share of the question's pairs of adjacent Chinese characters found in the clause's text —
  word-free, so a question jieba cuts otherwise than the clause (要罚多少 / 罚款, 七天无理由退货 / 七日无理由退货)
  still counts what it shares.

Hits the question names by reference stay first, in the order search gave them: 电子商务法第三十八条 is
answered from article 38 whatever the score says. The weights are fitted by ``policykb calibrate``
(``qa/calibrate.py``): pairwise logistic regression on the fit part of the team's question set (each answering
clause against each other clause of the top ``window``), written to ``qa/rerank.toml`` with out-of-fold
and validation results. A knowledge base embedded with another model than the one fitted on is not
re-ranked (its dense scores mean something else).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from policykb.errors import ConfigError
from policykb.index.search import Hit, Retrieval
from policykb.ingest.text import CJK, search_key
from policykb.qa.abstain import elsewhere_names
from policykb.qa.extractive import clause_key, context_key, score_sentences
from policykb.qa.question import Question, analyse_forms
from policykb.qa.retrieval import query_forms, term_stats
from policykb.tomlfile import read_toml

if TYPE_CHECKING:
    from policykb.index.store import KnowledgeBase

RERANK_PATH = Path(__file__).resolve().parent / "rerank.toml"
_CJK_RUN = re.compile(f"[{CJK}]+")
FEATURES = (
    "score",
    "inv_rank",
    "bm25",
    "inv_bm25_rank",
    "dense",
    "inv_dense_rank",
    "coverage",
    "text_coverage",
    "partial_coverage",
    "sentence",
    "elsewhere",
    "cue",
    "bigram",
)
WINDOW = 10


@dataclass(frozen=True)
class Reranker:
    names: tuple[str, ...]
    coef: tuple[float, ...]  # per feature, on the features' own scale
    window: int = WINDOW
    embedding_model: str = ""  # the model whose dense scores it was fitted on

    def scores(self, rows: Sequence[dict[str, float]]) -> list[float]:
        return [sum(w * row[n] for n, w in zip(self.names, self.coef)) for row in rows]


def candidate_features(q: Question, hits: Sequence[Hit]) -> list[dict[str, float]]:
    """``FEATURES`` of each hit (see the module docstring)."""
    best_sentence: dict[str, float] = {}
    for cand in score_sentences(q, list(hits)):
        cid = cand.clause.clause_id
        best_sentence[cid] = max(best_sentence.get(cid, 0.0), cand.coverage)
    pairs = question_pairs(q)
    rows = []
    for h in hits:
        c, s = h.clause, h.signals
        text, frame = clause_key(c.text), context_key(c)
        rows.append(
            {
                "score": h.score,
                "inv_rank": 1.0 / h.rank,
                "bm25": s.get("bm25", 0.0),
                "inv_bm25_rank": 1.0 / s["bm25_rank"] if "bm25_rank" in s else 0.0,
                "dense": s.get("dense", 0.0),
                "inv_dense_rank": 1.0 / s["dense_rank"] if "dense_rank" in s else 0.0,
                "coverage": q.coverage_of_keys(text, ((frame, 1.0),), partial=False, optional=False),
                "text_coverage": q.coverage_of_keys(text, (), partial=False, optional=False),
                "partial_coverage": q.coverage_of_keys(text, ((frame, 0.5),), optional=False),
                "sentence": best_sentence.get(c.clause_id, 0.0),
                "elsewhere": float(bool(elsewhere_names(q, c))),
                "cue": float(any(p.search(text) for _, p in q.cues)),
                "bigram": sum(pair in text for pair in pairs) / len(pairs) if pairs else 0.0,
            }
        )
    return rows


def character_pairs(text: str) -> frozenset[str]:
    """Each two adjacent Chinese characters of ``text`` (not across a space or a punctuation mark).

    >>> sorted(character_pairs("微视 收费吗？"))
    ['微视', '收费', '费吗']
    """
    return frozenset(run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1))


def question_pairs(q: Question) -> frozenset[str]:
    """The question's character pairs, word by word: ``search_key`` closes the spaces between Chinese
    characters, and an English question's Chinese form is its words' renderings side by side (后 多少 年
    must not give 少年)."""
    return frozenset().union(*(character_pairs(search_key(word)) for word in q.zh.split()))


def rerank(q: Question, hits: list[Hit], model: Reranker) -> list[Hit]:
    """``hits`` with the top ``model.window`` re-ordered (named clauses first, as search put them). Each hit
    keeps its fused score in ``signals["fused"]``; ``score`` is the fused score of the place it now holds,
    so scores still never rise down the list."""
    head, tail = hits[: model.window], hits[model.window :]
    named = [h for h in head if "reference" in h.signals]
    rest = [h for h in head if "reference" not in h.signals]
    scores = model.scores(candidate_features(q, rest))  # a clause's features are its own alone
    order = named + [
        h for _, _, h in sorted(zip(scores, range(len(rest)), rest), key=lambda t: (-t[0], t[1]))
    ]
    by_place = [h.score for h in head]
    score_of = {id(h): sc for h, sc in zip(rest, scores)}
    out = []
    for i, h in enumerate(order):
        signals = {**h.signals, "fused": h.score}
        if id(h) in score_of:
            signals["rerank"] = score_of[id(h)]
        out.append(replace(h, rank=i + 1, score=by_place[i], signals=signals))
    return out + tail


def rerank_retrieval(kb: KnowledgeBase, found: Retrieval, model: Reranker | None = None) -> Retrieval:
    """``found`` re-ranked with ``model`` (default: ``qa/rerank.toml``), if it was fitted on the knowledge
    base's embedding model."""
    model = model or default_reranker()
    if model is None or model.embedding_model != kb.embedding_model_name or len(found.hits) < 2:
        return found
    forms = found.query.forms or query_forms(kb, found.query.original)
    q = analyse_forms(forms, term_stats(kb))
    return replace(found, hits=rerank(q, found.hits, model))


# -- the fitted model -----------------------------------------------------------------------------------

_cache: dict[Path, tuple[int, Reranker | None]] = {}
_cache_lock = threading.Lock()


def load_reranker(path: Path = RERANK_PATH) -> Reranker | None:
    """The ``[model]`` table of ``path``; ``None`` when the file does not exist (no re-ranking)."""
    if not path.is_file():
        return None
    data = read_toml(path, "the re-ranking model", allowed={"model", "fit"})
    m = data.get("model")
    allowed = {"names", "coef", "window", "embedding_model"}
    if not isinstance(m, dict) or set(m) != allowed:
        raise ConfigError(f"{path}: [model] needs exactly these keys: {', '.join(sorted(allowed))}")
    names = tuple(str(n) for n in m["names"])
    unknown = set(names) - set(FEATURES)
    if unknown:
        raise ConfigError(f"{path}: [model] unknown features {sorted(unknown)}; known: {', '.join(FEATURES)}")
    coef = tuple(float(w) for w in m["coef"])
    if len(coef) != len(names):
        raise ConfigError(f"{path}: [model] needs one coef per name ({len(names)}), found {len(coef)}")
    return Reranker(names, coef, int(m["window"]), str(m["embedding_model"]))


def default_reranker(path: Path = RERANK_PATH) -> Reranker | None:
    """``load_reranker(path)``, read again only when the file changed."""
    stamp = path.stat().st_mtime_ns if path.is_file() else -1
    with _cache_lock:
        cached = _cache.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, load_reranker(path))
            _cache[path] = cached
    return cached[1]


def render_toml(model: Reranker, fit: dict[str, object]) -> str:
    lines = [
        "# The hybrid search's re-ranking model (qa/rerank.py), written by `policykb calibrate`",
        "# (qa/calibrate.py has the procedure). Do not edit by hand: refit.",
        "",
        "[model]",
        f"names = {json.dumps(list(model.names))}",
        "coef = [" + ", ".join(f"{w:.6g}" for w in model.coef) + "]",
        f"window = {model.window}  # top hits re-ordered",
        f"embedding_model = {json.dumps(model.embedding_model)}",
        "",
        "[fit]",
    ]
    lines += [f"{k} = {json.dumps(v)}" for k, v in fit.items()]
    return "\n".join(lines) + "\n"
