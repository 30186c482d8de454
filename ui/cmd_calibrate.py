"""``policykb calibrate``: refit the search's re-ranking model (``qa/rerank_fit.py``), then the abstention
model on re-ranked hits (``qa/calibrate.py``), from the team's question set.

policykb calibrate                         # fit on the fit part, report validation, write qa/rerank.toml
                                           # and qa/abstain.toml
policykb calibrate --dry-run               # print only
policykb calibrate --set-home /tmp/qs      # keep (and reuse) the question set's knowledge base there
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from policykb.config import Settings
from policykb.ui.cli_options import EXIT_OK, EXIT_USAGE, Subcommands


def register(sub: Subcommands) -> None:
    """``policykb calibrate`` (it takes no search filters)."""
    from policykb.qa.abstain import ABSTAIN_PATH
    from policykb.qa.evaluation import QUESTION_SET

    s = sub.add_parser("calibrate", help="refit the re-ranking and abstention models from the question set")
    s.add_argument(
        "--questions",
        type=Path,
        default=QUESTION_SET,
        metavar="DIR",
        help="folder with split.toml and questions/*.jsonl (default: tests/data/eval)",
    )
    s.add_argument(
        "--set-home",
        type=Path,
        default=None,
        metavar="DIR",
        help="knowledge base of the set's documents (built when empty; default: a temporary one)",
    )
    s.add_argument(
        "--out",
        type=Path,
        default=ABSTAIN_PATH,
        help=f"where to write the abstention model (default: {ABSTAIN_PATH}; rerank.toml beside it)",
    )
    s.add_argument("--dry-run", action="store_true", help="print the fit and the curves, write nothing")
    s.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from policykb.qa.calibrate import DEV_NAME, calibrate, data_hash, format_curves, write
    from policykb.qa.evaluation import load_question_set, load_questions
    from policykb.qa.rerank import RERANK_PATH
    from policykb.qa.rerank_fit import fit_reranker, format_fit, write_reranker
    from policykb.ui.cmd_eval import open_set_kb

    try:
        qset = load_question_set(args.questions)
    except (OSError, ValueError) as exc:
        print(f"policykb calibrate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not qset.fit:
        print(f"policykb calibrate: no fit questions under {args.questions}", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings.load()
    kb = open_set_kb(settings, qset.documents, args.set_home)
    dev_path = args.questions / DEV_NAME
    dev = load_questions(dev_path, part="fit") if dev_path.is_file() else []
    ranking = fit_reranker(kb, [*qset.fit, *dev], qset.validation, data_hash(args.questions))
    print(format_fit(ranking))
    result = calibrate(
        kb, qset, args.questions, kb.embedding_model_name, extra_fit=dev, reranker=ranking.model
    )
    print(format_curves(result))
    if not args.dry_run:
        rerank_path = args.out.with_name(RERANK_PATH.name)
        write_reranker(ranking, rerank_path)
        write(result, args.out)
        print(f"wrote {rerank_path} and {args.out}")
    return EXIT_OK
