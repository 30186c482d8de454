"""`policykb ask`: a question → a short answer quoted from the notices, every sentence cited [n], or
"the knowledge base has no clause on this" with the nearest clauses as related reading.

    policykb ask "微视收费吗？"
    policykb ask "淘宝直播的佣金比例是多少？" --json
    policykb ask --queries questions.jsonl            # one JSON answer a line, one process
    policykb ask "微视收费吗？" --mode llm              # needs POLICYKB_LLM_BASE_URL and POLICYKB_LLM_MODEL
"""

from __future__ import annotations

import argparse
import json
import sys

from policykb.qa.answer import DEPTH, MODES, Answer
from policykb.ui.cli_options import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    Subcommands,
    empty_message,
    filter_parser,
    filters_from_args,
    output_parser,
    queries_parser,
    read_queries,
    warn_if_stale,
)

RELATED_HEADING = {
    "en": "Related reading (not the source of an answer):",
    "zh-hant": "相關條款（僅供參考，不是答案的出處）：",
    "zh": "相关条款（仅供参考，不是答案的出处）：",
}


def register(sub: Subcommands) -> None:
    s = sub.add_parser(
        "ask",
        help="answer a question, quoting and citing the clauses (or say none answers it)",
        # --k means "clauses read" here, and reads more by default
        parents=[
            queries_parser(k=DEPTH, k_help="how many clauses to retrieve and read"),
            filter_parser(),
            output_parser(),
        ],
    )
    s.add_argument("question", nargs="?")
    s.add_argument(
        "--mode",
        choices=MODES,
        default="extractive",
        help="extractive (default) or llm (an OpenAI-compatible endpoint from the settings)",
    )
    s.set_defaults(func=cmd_ask)


def cmd_ask(args: argparse.Namespace) -> int:
    from policykb.config import Settings
    from policykb.index.store import KnowledgeBase
    from policykb.qa.answer import answer

    if bool(args.question) == bool(args.queries):
        print("policykb ask: give a QUESTION or --queries FILE (not both)", file=sys.stderr)
        return EXIT_USAGE
    if args.k <= 0:
        print(f"policykb ask: --k must be at least 1, not {args.k}", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings.load()
    llm = None
    if args.mode == "llm":
        from policykb.qa.llm import configured_llm

        llm = configured_llm(settings)  # ConfigError names the missing settings
    filters = filters_from_args(args)
    kb = KnowledgeBase.open(settings)
    warn_if_stale(kb)
    if not kb.documents():
        print(empty_message("ask", settings.home), file=sys.stderr)
        return EXIT_FAIL
    questions = read_queries(args.queries) if args.queries else [args.question]
    for q in questions:
        result = answer(kb, q, k=args.k, filters=filters, mode=args.mode, llm=llm)
        if args.json or args.queries:
            out = result.to_dict()
            if kb.stale:
                out["stale_generation"] = kb.stale
            print(json.dumps(out, ensure_ascii=False), flush=True)
        else:
            print(format_answer(result), flush=True)
    return EXIT_OK


def _one_line(text: str) -> str:
    return " ".join(text.split())


REFERS_TO = {"zh": "↳ 所引 ", "zh-hant": "↳ 所引 ", "en": "↳ refers to "}


def format_answer(a: Answer) -> str:
    """The answer for a terminal: question, answer, then each citation with document, issuer, date,
    section, time-bound note and the clause text (and its original wording for a Traditional question)."""
    lines = [a.question, "", a.text]
    if a.lang == "zh-hant":
        originals = [s for s in a.sentences if s.original and s.original != s.text]
        if originals:
            lines += ["", "原文："] + [
                f"  {s.original}{''.join(f'[{n}]' for n in s.citations)}" for s in originals
            ]
    if a.citations:
        lines.append("")
    for c in a.citations:
        m = c.clause.metadata
        facts = " · ".join(x for x in (m.issuer, m.date, c.section) if x)
        lines.append(f"[{c.n}] {c.clause.title}")
        lines.append(f"    {facts}")
        if c.note:
            lines.append(f"    {c.note}")
        lines.append(f"    {_one_line(c.clause.text)}")
        if a.lang == "zh-hant" and c.clause.original != c.clause.text:
            lines.append(f"    原文：{_one_line(c.clause.original)}")
        for ref in c.references:
            lines.append(f"    {REFERS_TO.get(a.lang, REFERS_TO['zh'])}{ref.label}：{_one_line(ref.text)}")
    if a.abstained and a.related:
        lines += ["", RELATED_HEADING.get(a.lang, RELATED_HEADING["zh"])]
        for h in a.related:
            rc = h.clause
            where = " > ".join([*rc.section_path, rc.label]).strip(" >")
            lines.append(f"  - {rc.title} {where}".rstrip())
            lines.append(f"    {_one_line(rc.text)[:120]}")
    if a.fallback:
        lines += ["", "(LLM answer not usable; extractive answer shown)"]
    return "\n".join(lines)
