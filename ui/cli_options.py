"""What the `policykb` verbs share, wherever they are defined (``ui/cli.py`` or a ``ui/cmd_*.py`` module):
the options as argparse parent parsers, the filters those options give, reading ``--queries``, the exit
codes and the stale-generation warning. It imports nothing from ``ui/cli``, so any verb module can
import it at the top.

    s = sub.add_parser("search", parents=[queries_parser(), filter_parser(), output_parser()])
    ...
    filters = filters_from_args(args)

Each ``*_parser()`` call builds a new parser: argparse copies a parent's actions into the child by
reference, so one parser shared by several verbs would share their defaults and help too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from policykb.index.filters import Filters
    from policykb.index.store import KnowledgeBase

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class Subcommands(Protocol):
    """What a verb module's ``register(sub)`` is given: ``ArgumentParser.add_subparsers()``."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def queries_parser(*, k: int = 10, k_help: str = "how many clauses") -> argparse.ArgumentParser:
    """``--queries FILE`` (many queries in one process) and ``--k N``, whose default is given in its help."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--queries",
        metavar="FILE",
        help="a file of queries (JSONL with a 'q' field, or plain "
        "lines); '-' reads standard input; one result a line",
    )
    p.add_argument("--k", type=int, default=k, help=f"{k_help} (default {k})")
    return p


def filter_parser() -> argparse.ArgumentParser:
    """The metadata filters; ``filters_from_args`` turns them into a ``Filters``."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--region", help="region, or a part of its name: 深圳 (广东省深圳市), 广东, 上海, 全国")
    p.add_argument("--issuer", help="issuing body, or a part of its name: 商务局, 国家市场监督管理总局")
    p.add_argument("--platform", help="platform, or a part of its name: 抖音, 微视 (腾讯微视)")
    p.add_argument(
        "--doc-type", help="document type, exactly: law, regulation, notice, event_plan, platform_rule"
    )
    p.add_argument("--doc", dest="doc_id", help="only this document id (see `policykb docs`)")
    p.add_argument(
        "--doc-number", help="document number (文号), or a part of it: 国办发〔2018〕129号, 国办发, 〔2019〕"
    )
    p.add_argument("--date-from", help="notices dated on or after: yyyy[-mm[-dd]], e.g. 2021 or 2021-03")
    p.add_argument("--date-to", help="notices dated on or before: yyyy[-mm[-dd]]")
    return p


def output_parser() -> argparse.ArgumentParser:
    """``--json``: machine-readable output."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--json", action="store_true", help="machine-readable JSON (the records scripts read)")
    return p


def filters_from_args(args: argparse.Namespace) -> Filters:
    """The ``Filters`` of the options ``filter_parser`` adds; a malformed date exits with its message."""
    from policykb.index.filters import Filters

    try:
        return Filters(
            region=args.region,
            issuer=args.issuer,
            platform=args.platform,
            doc_type=args.doc_type,
            doc_id=args.doc_id,
            doc_number=args.doc_number,
            date_from=args.date_from,
            date_to=args.date_to,
        )
    except ValueError as exc:
        raise SystemExit(f"policykb: {exc}") from exc


def read_queries(source: str) -> Iterator[str]:
    """Queries from a file or stdin ('-'): JSONL objects with a 'q' field, or plain lines."""
    fh = sys.stdin if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115 — closed below
    with fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    yield line
                    continue
                yield str(obj.get("q") or obj.get("query") or obj.get("question") or "")
            else:
                yield line


def warn_if_stale(kb: KnowledgeBase) -> None:
    if kb.stale:
        s = kb.stale
        print(
            f"policykb: warning: serving generation {s['serving']}, not the newest ({s['current']}: {s['reason']}); "
            f"run `policykb repair`",
            file=sys.stderr,
        )


def empty_message(verb: str, home: object) -> str:
    """What a verb says on a knowledge base with no document yet."""
    return f"policykb {verb}: the knowledge base at {home} has no documents; run `policykb ingest`"
