"""question → retrieved clauses → a cited answer, or an honest "the knowledge base has no clause on this".

>>> a = answer(kb, "微视收费吗？")                                            # doctest: +SKIP
>>> print(a.text)                                                             # doctest: +SKIP
腾讯微视平台对本次活动不收取费用，企业在第三方平台产生的费用按第三方平台规定执行。[1] …
>>> a.citations[0].clause.doc_id, a.citations[0].note                         # doctest: +SKIP
('shenzhen-weishi-2020', '时效性通知，有效期 2020-03-01 至 2020-06-30（已结束）')

Every sentence of an extractive answer is a verbatim span of a cited clause's (Simplified) text, followed
by its marker; one clause has one number however many of its sentences are quoted. When the sentences come
from several documents — or the question asks about several ("各地…") — they are grouped by document.
An English question gets a one-line English lead naming the notice and section; a Traditional one gets
each quoted sentence as originally written alongside. With ``mode="llm"`` an LLM writes the answer from
the same clauses and every sentence it writes is checked against the clause it cites (``qa/llm.py``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

from policykb.index.filters import Filters
from policykb.index.query_forms import QueryForms
from policykb.index.search import Hit
from policykb.qa.abstain import Features, Rule, elsewhere_names, features, rule_for
from policykb.qa.citations import Citation, make_citation, related_dict
from policykb.qa.crossrefs import resolve
from policykb.qa.extractive import Candidate, clause_key, opening, score_sentences, select
from policykb.qa.question import Question, analyse_forms
from policykb.qa.retrieval import query_forms, term_stats

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

    from policykb.index.store import KnowledgeBase
    from policykb.ingest.record import Clause

Mode = Literal["extractive", "llm"]
MODES = ("extractive", "llm")
DEPTH = 30  # clauses read for an answer: the answering sentence is not always in the top 10
RELATED = 5  # clauses offered as related reading

NO_CLAUSE = {
    "zh": "知识库中没有回答这个问题的条款。",
    "zh-hant": "知識庫中沒有回答這個問題的條款。",
    "en": "The knowledge base has no clause on this.",
}


@dataclass(frozen=True)
class AnswerSentence:
    text: str  # verbatim span of the cited clause's text (Simplified)
    citations: tuple[int, ...]  # the [n] after it
    clause_id: str
    start: int  # span in Clause.text
    end: int
    original: str | None = None  # the same span as written, when the notice was converted (e.g. Traditional)

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "citations": list(self.citations),
            "clause_id": self.clause_id,
            "start": self.start,
            "end": self.end,
            "original": self.original,
        }


@dataclass(frozen=True)
class Group:
    """The sentences of one document, in an answer drawn from several."""

    doc_id: str
    heading: str
    sentences: tuple[int, ...]  # indices into Answer.sentences

    def to_dict(self) -> dict[str, object]:
        return {"doc_id": self.doc_id, "heading": self.heading, "sentences": list(self.sentences)}


@dataclass(frozen=True)
class Answer:
    question: str
    lang: str
    abstained: bool
    text: str  # the rendered answer: lead, group headings, sentences each followed by [n]
    sentences: tuple[AnswerSentence, ...] = ()
    citations: tuple[Citation, ...] = ()
    related: tuple[Hit, ...] = ()
    lead: str | None = None
    groups: tuple[Group, ...] = ()
    mode: str = "extractive"
    reason: str = ""
    features: Features | None = None
    fallback: bool = False  # LLM mode: nothing the LLM wrote survived, the extractive answer is shown
    dropped: tuple[str, ...] = ()  # LLM mode: sentences removed as unsupported by their citation
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    def citation(self, n: int) -> Citation:
        return next(c for c in self.citations if c.n == n)

    def to_dict(self) -> dict[str, object]:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "related": [related_dict(h) for h in self.related],
            "lang": self.lang,
            "lead": self.lead,
            "sentences": [s.to_dict() for s in self.sentences],
            "groups": [g.to_dict() for g in self.groups],
            "mode": self.mode,
            "fallback": self.fallback,
            "dropped": list(self.dropped),
            "reason": self.reason,
            "abstention": self.features.to_dict() if self.features else None,
        }


# ------------------------------------------------------------------------------------------------ API


def answer(
    kb: KnowledgeBase,
    question: str,
    *,
    k: int = DEPTH,
    filters: Filters | None = None,
    mode: Mode = "extractive",
    llm: LLM | None = None,
    rule: Rule | None = None,
    today: date | None = None,
) -> Answer:
    """Answer ``question`` from ``kb`` (a ``KnowledgeBase``).

    ``k``: clauses retrieved and read; ``filters``: as for ``kb.search``; ``mode``: "extractive" (default)
    or "llm" (``llm`` a LlamaIndex LLM; by default the one configured in ``kb.settings``); ``rule``: the
    abstention rule (default ``qa/abstain.toml``); ``today``: for "(ended)" notes on time-bound notices.
    """
    if mode not in MODES:
        raise ValueError(f"answer mode {mode!r} is not known; allowed: {', '.join(MODES)}")
    t0 = time.perf_counter()
    found = kb.retrieve(question, k=k, filters=filters) if question.strip() and kb.documents() else None
    t1 = time.perf_counter()
    forms = found.query.forms if found is not None else None
    result = answer_from_hits(
        kb, question, found.hits if found else [], mode=mode, llm=llm, rule=rule, today=today, forms=forms
    )
    result.timings.update(search_ms=(t1 - t0) * 1000)
    return result


def answer_from_hits(
    kb: KnowledgeBase,
    question: str,
    hits: list[Hit],
    *,
    mode: Mode = "extractive",
    llm: LLM | None = None,
    rule: Rule | None = None,
    today: date | None = None,
    forms: QueryForms | None = None,
) -> Answer:
    """The answer from hits already retrieved for ``question`` (what ``answer`` does after searching);
    ``forms``: the query forms that search computed (``Retrieval.query.forms``), else computed here."""
    t0 = time.perf_counter()
    rule = rule or rule_for(kb.embedding_model_name)
    q = analyse(kb, question, forms)
    feats = features(q, hits, rule.window)
    abstain, reason = rule.abstains(feats)
    # Quoted only from clauses about the places and platforms the question names, if it names any; and
    # whether the question is answered is judged on those clauses alone (抖音收费吗 is not answered by
    # how 微视 charges).
    about = [h for h in hits if not elsewhere_names(q, h.clause)]
    if not abstain and 0 < len(about) < len(hits):
        feats = features(q, about, rule.window)
        abstain, reason = rule.abstains(feats)
    chosen: list[Candidate] = []
    candidates: list[Candidate] = []
    if not abstain:
        candidates = [c for c in score_sentences(q, about) if beyond_names(q, c)]
        named = [h for h in hits if "reference" in h.signals]
        # A question naming a clause (电子商务法第三十八条) is answered from that clause first.
        chosen = (
            (select(q, score_sentences(q, named)) or opening(named[0])) if named else select(q, candidates)
        )
        unmet = q.measure_unmet([clause_key(c.clause.text) for c in chosen]) if chosen else None
        if unmet is not None:
            abstain, reason = (
                True,
                f"the question asks for a quantity ({unmet.name}); no clause found states one",
            )
        elif not chosen and len(about) < len(hits):
            names = "、".join(dict.fromkeys(n for h in hits for n in elsewhere_names(q, h.clause)))
            abstain, reason = True, f"the question is about {names}; no clause that answers it is"
        elif not chosen:
            abstain, reason = True, "no sentence of the top clauses mentions the question"
    if abstain:
        result = abstention(question, q.lang, hits, reason=reason, feats=feats)
    else:
        result = compose(kb, q, chosen, hits, reason=reason, feats=feats, today=today)
        if mode == "llm":
            from policykb.qa.llm import llm_answer

            result = llm_answer(kb, q, hits, candidates, result, llm=llm, today=today)
    result.timings.update(answer_ms=(time.perf_counter() - t0) * 1000)
    return result


def beyond_names(q: Question, cand: Candidate) -> bool:
    """Whether a sentence mentions something the question asks besides the places and platforms it
    names — another of its words, or the kind of answer it asks for (an amount, a period…):
    "本规则适用于…抖音客户端" does not answer 抖音收费吗."""
    if not q.names:
        return True
    if any(pattern.search(cand.key) for _, pattern in q.cues):
        return True
    return any(
        c.credit(cand.key) > 0
        for c in q.concepts
        if not c.optional and not any(n in c.word or c.word in n for n in q.names)
    )


def analyse(kb: KnowledgeBase, question: str, forms: QueryForms | None = None) -> Question:
    """The question as the answerer reads it (concepts, answer types), from the retriever's query forms
    (``forms`` when search already computed them)."""
    return analyse_forms(forms or query_forms(kb, question), term_stats(kb))


# ------------------------------------------------------------------------------------------ composing


def abstention(question: str, lang: str, hits: list[Hit], *, reason: str, feats: Features | None) -> Answer:
    return Answer(
        question=question,
        lang=lang,
        abstained=True,
        text=NO_CLAUSE.get(lang, NO_CLAUSE["zh"]),
        related=tuple(hits[:RELATED]),
        reason=reason,
        features=feats,
    )


def group_heading(c: Clause) -> str:
    m = c.metadata
    place = m.region or ""
    who = m.issuer or c.title
    return f"{place} · {who}" if place and place != who else who


def compose(
    kb: KnowledgeBase,
    q: Question,
    chosen: list[Candidate],
    hits: list[Hit],
    *,
    reason: str = "",
    feats: Features | None = None,
    today: date | None = None,
    mode: str = "extractive",
) -> Answer:
    """Number the clauses of ``chosen`` (best first; by document when they span several), render the text."""
    by_doc: dict[str, list[Candidate]] = {}
    for cand in chosen:
        by_doc.setdefault(cand.clause.doc_id, []).append(cand)
    ordered = [cand for group in by_doc.values() for cand in group]
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    sentences: list[AnswerSentence] = []
    for cand in ordered:
        cid = cand.clause.clause_id
        if cid not in numbers:
            numbers[cid] = len(numbers) + 1
            citations.append(
                make_citation(
                    numbers[cid],
                    cand.hit,
                    kb.document(cand.clause.doc_id),
                    lang=q.lang,
                    today=today,
                    references=resolve(kb, cand.clause),
                )
            )
        sentences.append(sentence_of(cand, (numbers[cid],)))
    groups: list[Group] = []
    if len(by_doc) > 1:
        i = 0
        for doc_id, group in by_doc.items():
            groups.append(Group(doc_id, group_heading(group[0].clause), tuple(range(i, i + len(group)))))
            i += len(group)
    cited = set(numbers)
    related = tuple(h for h in hits if h.clause.clause_id not in cited)[:RELATED]
    lead = english_lead(citations) if q.lang == "en" else None
    return Answer(
        question=q.text,
        lang=q.lang,
        abstained=False,
        text=render(sentences, groups, lead),
        sentences=tuple(sentences),
        citations=tuple(citations),
        related=related,
        lead=lead,
        groups=tuple(groups),
        mode=mode,
        reason=reason,
        features=feats,
    )


def sentence_of(cand: Candidate, citations: tuple[int, ...]) -> AnswerSentence:
    c, span = cand.clause, cand.span
    original = None
    if c.original != c.text and len(c.original) == len(c.text):
        original = c.original[span.start : span.end]
    return AnswerSentence(
        text=span.text,
        citations=citations,
        clause_id=c.clause_id,
        start=span.start,
        end=span.end,
        original=original,
    )


def markers(numbers: tuple[int, ...]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def render(
    sentences: list[AnswerSentence] | tuple[AnswerSentence, ...], groups: Sequence[Group], lead: str | None
) -> str:
    """Lead line (English questions), then sentences each followed by its markers; a heading line
    ("上海市 · 上海市商务委员会：") before each document's sentences when the answer spans documents."""
    lines = [lead] if lead else []
    if groups:
        for g in groups:
            lines.append(f"{g.heading}：")
            lines.append(" ".join(sentences[i].text + markers(sentences[i].citations) for i in g.sentences))
    else:
        lines.append(" ".join(s.text + markers(s.citations) for s in sentences))
    return "\n".join(lines)


def english_lead(citations: list[Citation]) -> str:
    """One English line: which notice and section answer it."""

    def where(c: Citation) -> str:
        m = c.clause.metadata
        bits = [m.issuer or "", f"《{c.clause.title}》", f"({m.date})" if m.date else ""]
        section = f", section {c.section}" if c.section else ""
        return " ".join(b for b in bits if b) + section + f" [{c.n}]"

    docs = list(dict.fromkeys(c.clause.doc_id for c in citations))
    if len(docs) == 1:
        first = citations[0]
        extra = f" (also [{'], ['.join(str(c.n) for c in citations[1:])}])" if len(citations) > 1 else ""
        return f"Answered by {where(first)}{extra}; quoted in Chinese below."
    firsts = [next(c for c in citations if c.clause.doc_id == d) for d in docs]
    return (
        f"Answered by {len(docs)} notices: "
        + "; ".join(where(c) for c in firsts)
        + "; quoted in Chinese below."
    )
