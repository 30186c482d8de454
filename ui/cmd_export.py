"""`policykb export`: clauses with their full references → a .docx, .md, .csv or .json file for a consultant.

policykb export --clause ID [--clause ID …] --out excerpts.docx
policykb export --ask "微视收费吗？" --format md --out answer.md          # the answer's citations
policykb export --search "直播 税收" --k 5 --format csv --out hits.csv --redact
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from policykb.ui.cli_options import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    Subcommands,
    empty_message,
    filter_parser,
    filters_from_args,
)
from policykb.ui.export import FORMATS, Excerpt, excerpts_from_answer, excerpts_from_hits, export

if TYPE_CHECKING:
    from policykb.index.store import KnowledgeBase

SEARCH_K = 10


def register(sub: Subcommands) -> None:
    # The shared filters, not --queries or --json; what to export and --k stay first in --help.
    s = sub.add_parser(
        "export",
        help="write clauses with their references to a docx/md/csv/json file",
        parents=[_source_parser(), filter_parser()],
    )
    s.add_argument(
        "--format",
        dest="fmt",
        metavar="FORMAT",
        help=f"{' | '.join(FORMATS)} (default: from the --out suffix)",
    )
    s.add_argument("--out", type=Path, required=True, metavar="FILE", help="the file to write")
    s.add_argument(
        "--redact",
        action="store_true",
        help="mask mobile, landline and ID numbers, e-mail addresses and the contact names beside them",
    )
    s.set_defaults(func=cmd_export)


def _source_parser() -> argparse.ArgumentParser:
    s = argparse.ArgumentParser(add_help=False)
    src = s.add_argument_group("what to export (one of)")
    src.add_argument(
        "--clause",
        action="append",
        metavar="ID",
        dest="clause_ids",
        help="a clause id (repeatable; ids from `policykb clauses --json`)",
    )
    src.add_argument("--ask", metavar="QUESTION", help="the clauses an answer to QUESTION cites")
    src.add_argument("--search", metavar="QUERY", help="the clauses a search for QUERY finds")
    s.add_argument(
        "--k",
        type=int,
        help=f"--search: how many clauses (default {SEARCH_K}); --ask: how many clauses to read",
    )
    return s


def _format(args: argparse.Namespace) -> str | None:
    fmt = args.fmt or {".markdown": "md"}.get(args.out.suffix.lower(), args.out.suffix.lower().lstrip("."))
    return fmt if fmt in FORMATS else None


def cmd_export(args: argparse.Namespace) -> int:
    from policykb.config import Settings
    from policykb.index.store import KnowledgeBase

    sources = [x for x in (args.clause_ids, args.ask, args.search) if x]
    if len(sources) != 1:
        print(
            "policykb export: give one of --clause ID (repeatable), --ask QUESTION or --search QUERY",
            file=sys.stderr,
        )
        return EXIT_USAGE
    fmt = _format(args)
    if fmt is None:
        given = (
            f"unknown format {args.fmt!r}"
            if args.fmt
            else f"no --format given and {args.out.name!r} has no known suffix"
        )
        print(f"policykb export: {given}; allowed: {', '.join(FORMATS)}", file=sys.stderr)
        return EXIT_USAGE
    if args.k is not None and args.k <= 0:
        print(f"policykb export: --k must be at least 1, not {args.k}", file=sys.stderr)
        return EXIT_USAGE
    if args.clause_ids and args.k is not None:
        print("policykb export: --k goes with --ask or --search, not --clause", file=sys.stderr)
        return EXIT_USAGE

    settings = Settings.load()
    kb = KnowledgeBase.open(settings)
    if not kb.documents():
        print(empty_message("export", settings.home), file=sys.stderr)
        return EXIT_FAIL
    if args.clause_ids:
        excerpts, missing = _from_ids(kb, args.clause_ids)
        if missing:
            names = ", ".join(repr(m) for m in missing)
            print(
                f"policykb export: no clause {names} in the knowledge base; list clause ids with "
                "`policykb clauses --json` (the clause_id field)",
                file=sys.stderr,
            )
            return EXIT_FAIL
    elif args.ask:
        from policykb.qa.answer import DEPTH, answer

        result = answer(kb, args.ask, k=args.k or DEPTH, filters=filters_from_args(args))
        excerpts = excerpts_from_answer(result)
        if not excerpts:
            print(
                f"policykb export: the answer to {args.ask!r} cites no clause ({result.text}); "
                "nothing written",
                file=sys.stderr,
            )
            return EXIT_FAIL
    else:
        hits = kb.search(args.search, k=args.k or SEARCH_K, filters=filters_from_args(args))
        excerpts = excerpts_from_hits(hits)
        if not excerpts:
            print(f"policykb export: no clause found for {args.search!r}; nothing written", file=sys.stderr)
            return EXIT_FAIL

    excerpts = [e.with_document(kb.document(e.clause["doc_id"])) for e in excerpts]  # validity periods
    data, _, _ = export(excerpts, fmt, redact=args.redact)
    try:
        args.out.write_bytes(data)
    except OSError as exc:
        print(f"policykb export: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAIL
    print(summary(excerpts, args.out, fmt, len(data), redacted=args.redact))
    return EXIT_OK


def _from_ids(kb: KnowledgeBase, ids: list[str]) -> tuple[list[Excerpt], list[str]]:
    excerpts: list[Excerpt] = []
    missing: list[str] = []
    for cid in dict.fromkeys(ids):  # a repeated id is exported once
        clause = kb.clause(cid)
        if clause is None:
            missing.append(cid)
        else:
            excerpts.append(Excerpt.from_clause(clause))
    return excerpts, missing


def summary(excerpts: list[Excerpt], out: Path, fmt: str, size: int, *, redacted: bool) -> str:
    what = "excerpt" if len(excerpts) == 1 else "excerpts"
    extra = ", personal data redacted" if redacted else ""
    lines = [f"wrote {len(excerpts)} {what} to {out} ({fmt}, {size:,} bytes{extra})"]
    for n, e in enumerate(excerpts, 1):
        lines.append(f"  [{n}] {e.clause_id}  {e.clause['title']} {e.section}".rstrip())
    return "\n".join(lines)
