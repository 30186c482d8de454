"""The `policykb` console script: one command, verb subcommands.

policykb ingest [PATH...]            notices → clauses in the knowledge base (default: corpus/)
policykb docs [--json]               the documents in the knowledge base
policykb clauses [--doc ID] [--json] every clause, one JSON object a line with --json
policykb search QUERY [--k N] [filters] [--json] | --queries FILE|-
policykb ui [--port N]               the Streamlit app on the bundled corpus
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from policykb.config import Settings
from policykb.errors import PolicyKBError
from policykb.ingest.record import EDITABLE
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

if TYPE_CHECKING:
    from policykb.index.search import Hit
    from policykb.index.store import KnowledgeBase
    from policykb.ingest.record import Clause

PLUGIN_COMMANDS: tuple[str, ...] = (
    "cmd_eval",
    "cmd_ask",
    "cmd_export",
    "cmd_calibrate",
    "cmd_keys",
)  # modules in ui/ with register()


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return cast(int, args.func(args))
    except PolicyKBError as exc:
        print(f"policykb: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except BrokenPipeError:
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="policykb", description="Cited answers from e-commerce notices.")
    sub: Subcommands = p.add_subparsers(metavar="COMMAND")

    s = sub.add_parser("ingest", help="add notices (files or folders) to the knowledge base")
    s.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the bundled corpus/)")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.add_argument(
        "--replace",
        metavar="DOC_ID",
        help="the one file given is a new version of this document (the old version is kept)",
    )
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser(
        "docs",
        help="list the documents; remove one (rm) or correct its metadata (edit)",
        parents=[output_parser()],
        description="policykb docs                      list the documents\n"
        "policykb docs rm DOC_ID            remove a document and its clauses\n"
        "policykb docs edit DOC_ID --title … --issuer … --region … --date … --valid-to …",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("action", nargs="?", choices=("list", "rm", "edit"), default="list")
    s.add_argument("doc_id", nargs="?", help="the document to remove or edit (see `policykb docs`)")
    s.add_argument("--versions", action="store_true", help="also list the earlier versions of each document")
    for name in EDITABLE:
        flag = "--" + name.replace("_", "-")
        s.add_argument(flag, dest=f"set_{name}", metavar="VALUE", help=f"edit: the new {name} ('' clears it)")
    s.set_defaults(func=cmd_docs)

    s = sub.add_parser(
        "check", help="verify every file of the knowledge base and report", parents=[output_parser()]
    )
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("repair", help="rebuild a damaged knowledge base from its stored clauses")
    s.set_defaults(func=cmd_repair)

    s = sub.add_parser("diff", help="what changed between a document and an earlier version of it")
    s.add_argument("doc_id")
    s.add_argument("--version", type=int, help="the earlier version to compare with (default: the latest)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_diff)

    s = sub.add_parser("clauses", help="list clauses")
    s.add_argument("--doc", help="only this document id")
    s.add_argument("--json", action="store_true", help="one JSON object a line")
    s.set_defaults(func=cmd_clauses)

    s = sub.add_parser(
        "search", help="find clauses", parents=[queries_parser(), filter_parser(), output_parser()]
    )
    s.add_argument("query", nargs="?")
    s.add_argument("--mode", choices=("hybrid", "bm25", "dense"), default="hybrid")
    s.set_defaults(func=cmd_search)

    # Verbs that live in their own modules register themselves (shared options: ui/cli_options.py).
    for module in PLUGIN_COMMANDS:
        importlib.import_module(f"policykb.ui.{module}").register(sub)

    s = sub.add_parser("serve", help="start the REST API (OpenAPI at /docs)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument(
        "--host",
        default=LOOPBACK,
        help=f"address to listen on (default {LOOPBACK}: this machine only); any other needs an API "
        "key (policykb keys add NAME, or api_token in config.toml)",
    )
    s.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (default 1); each loads the model and picks up new generations by itself",
    )
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("ui", help="start the Streamlit app")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument(
        "--host",
        default=LOOPBACK,
        help=f"address to listen on (default {LOOPBACK}: this machine only); any other needs a "
        "password (POLICYKB_UI_PASSWORD or ui_password in config.toml), which the app asks for",
    )
    s.add_argument("--headless", action="store_true", help="do not open a browser")
    s.set_defaults(func=cmd_ui)
    return p


# -- ingest, docs, clauses ---------------------------------------------------------------------


def _settings() -> Settings:
    return Settings.load()


def _kb(settings: Settings | None = None, *, verb: str | None = None) -> KnowledgeBase:
    """The knowledge base; for ``verb``, a hint on standard error when it holds no document yet."""
    from policykb.index.store import KnowledgeBase

    settings = settings or _settings()
    kb = KnowledgeBase.open(settings)
    if verb is not None and not kb.documents():
        print(empty_message(verb, settings.home), file=sys.stderr)
    return kb


def cmd_ingest(args: argparse.Namespace) -> int:
    from policykb.errors import IndexIncompleteError, IndexMismatchError
    from policykb.index.store import KnowledgeBase
    from policykb.ui.ingesting import format_report, ingest_paths, waiting_message

    settings = _settings()
    paths = args.paths or [settings.corpus]
    try:
        kb = KnowledgeBase.open(settings)
    except (IndexIncompleteError, IndexMismatchError) as exc:
        # No generation can be served: rebuild the newest from its own clauses before adding anything, so
        # the notices already in it are kept (or say what cannot be kept, and change nothing).
        print(f"policykb: {exc}", file=sys.stderr)
        kb, message = KnowledgeBase.recover(settings)
        print(f"policykb: {message}", file=sys.stderr)
    report = ingest_paths(
        kb,
        paths,
        max_chars=settings.max_clause_chars,
        replace=args.replace,
        on_wait=lambda s: print(f"policykb: {waiting_message(s)}", file=sys.stderr, flush=True),
    )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(format_report(report))
    return EXIT_FAIL if report.nothing_done else EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    changes = {name: v for name in EDITABLE if (v := getattr(args, f"set_{name}")) is not None}
    if args.action == "list":
        if args.doc_id or changes:
            print(
                "policykb docs: to change a document use `docs rm DOC_ID` or `docs edit DOC_ID --FIELD VALUE`",
                file=sys.stderr,
            )
            return EXIT_USAGE
        return _list_docs(args)
    if not args.doc_id:
        print(f"policykb docs {args.action}: which document? (policykb docs lists them)", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "edit" and not changes:
        print(f"policykb docs edit: nothing to change; fields: {', '.join(EDITABLE)}", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "rm" and changes:
        print("policykb docs rm: takes no field options", file=sys.stderr)
        return EXIT_USAGE
    kb = _kb()
    try:
        if args.action == "rm":
            doc = kb.remove_document(args.doc_id)
            out = {"removed": doc.doc_id, "title": doc.title, "clauses": doc.n_clauses}
            text = f"removed {doc.doc_id} ({doc.n_clauses} clauses): {doc.title}"
        else:
            doc = kb.edit_document(args.doc_id, changes)
            out = {"edited": doc.doc_id, "changed": sorted(changes), "document": doc.to_dict()}
            text = f"edited {doc.doc_id}: " + ", ".join(f"{k} = {changes[k] or '(cleared)'}" for k in changes)
    except KeyError as exc:
        print(f"policykb docs {args.action}: {exc.args[0]}", file=sys.stderr)
        return EXIT_FAIL
    except ValueError as exc:
        print(f"policykb docs {args.action}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(out, ensure_ascii=False) if args.json else text)
    return EXIT_OK


def _list_docs(args: argparse.Namespace) -> int:
    kb = _kb(verb="docs")
    for doc in kb.documents():
        versions = kb.versions(doc.doc_id) if args.versions else []
        if args.json:
            d = doc.to_dict()
            if args.versions:
                d["versions"] = [
                    {
                        "version": v.number,
                        "replaced": v.replaced,
                        "sha256": v.document.sha256,
                        "source_path": v.document.source_path,
                        "n_clauses": len(v.clauses),
                    }
                    for v in versions
                ]
            print(json.dumps(d, ensure_ascii=False))
            continue
        m = doc.metadata
        number = f"  {m.doc_number}" if m.doc_number else ""
        print(
            f"{doc.doc_id:<36} {doc.n_clauses:>4} clauses  {m.date or '':<10}  {m.issuer or '':<12} {doc.title}"
            f"{number}"
        )
        for v in versions:
            print(
                f"  version {v.number:<3} {len(v.clauses):>4} clauses  replaced {v.replaced}  {v.document.source_path}"
            )
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from policykb.index import disk
    from policykb.index.embed import embedder_name
    from policykb.index.generation import load_generation
    from policykb.index.repair import check_generation

    settings = _settings()
    home = Path(settings.home)
    current = disk.read_current(home)
    numbers = sorted(
        set(disk.generation_numbers(home)) | ({current} if current is not None else set()), reverse=True
    )
    model = embedder_name(settings)
    checks = [
        check_generation(
            home, n, n == current, lambda n: load_generation(home, n, model=model, settings=settings)
        )
        for n in numbers
    ]
    if args.json:
        print(
            json.dumps(
                {
                    "home": str(home),
                    "current": current,
                    "generations": [
                        {
                            "number": c.number,
                            "current": c.current,
                            "ok": c.problem is None,
                            "problem": c.problem,
                            "files": [
                                {"name": f.name, "ok": f.problem is None, "problem": f.problem}
                                for f in c.files
                            ],
                        }
                        for c in checks
                    ],
                },
                ensure_ascii=False,
            )
        )
    else:
        if not checks:
            print(f"{home}: no knowledge base yet (run `policykb ingest`)")
        for c in checks:
            state = "ok" if c.problem is None else "DAMAGED"
            print(f"generation {c.number}{' (current)' if c.current else ''}: {state}")
            for f in c.files:
                if f.problem:
                    print(f"  {f.name}: {f.problem}")
            if c.problem and not any(f.problem for f in c.files):
                print(f"  {c.problem}")
        damaged = [c for c in checks if c.current and c.problem]
        if damaged:
            print("run `policykb repair` to rebuild it from its stored clauses")
    return EXIT_FAIL if any(c.current and c.problem for c in checks) else EXIT_OK


def cmd_repair(args: argparse.Namespace) -> int:
    """From the generation's own clauses; failing that, from the original files of what only it held."""
    from policykb.errors import IndexError_
    from policykb.index.store import KnowledgeBase

    settings = _settings()
    try:
        kb = KnowledgeBase.open(settings)
    except IndexError_:
        _, message = KnowledgeBase.recover(settings)  # raises, naming what is lost, when it cannot
        print(message)
        return EXIT_OK
    try:
        print(kb.repair())
        return EXIT_OK
    except IndexError_ as exc:
        if not kb.stale:
            raise
        return _repair_from_sources(kb, settings, str(exc))


def _repair_from_sources(kb: KnowledgeBase, settings: Settings, problem: str) -> int:
    from policykb.index.repair import restorable
    from policykb.ingest.metadata import ManifestEntry, load_manifest
    from policykb.ingest.pipeline import PIPELINE_VERSION, ingest_file

    assert kb.stale is not None  # called only when serving an older generation
    damaged, serving = kb.stale["current"], kb.stale["serving"]
    files, missing = restorable(Path(settings.home), damaged, {d.doc_id: d for d in kb.documents()})
    if missing:
        print(
            f"policykb repair: {problem}\ncannot restore from the original files either: {'; '.join(missing)}. "
            "Nothing was deleted",
            file=sys.stderr,
        )
        return EXIT_FAIL
    with kb.writer(give_up_damaged=True) as w:
        for doc_id, path in files:
            entry = load_manifest(path.parent).get(path.name)  # as ingest read it: metadata from the folder
            result = ingest_file(
                path,
                ManifestEntry(doc_id, path.name, entry.values if entry else {}),
                display_path=str(path),
                max_chars=settings.max_clause_chars,
                parse_timeout_s=settings.parse_timeout_s,
            )
            w.upsert(result.document, result.clauses, PIPELINE_VERSION)
    names = ", ".join(doc_id for doc_id, _ in files) or "none"
    print(
        f"generation {damaged} could not be rebuilt from its own files; generation {kb.generation} is generation "
        f"{serving} plus the documents only it held, ingested again from their original files: {names}"
    )
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from policykb.index.changes import what_changed

    kb = _kb()
    if kb.document(args.doc_id) is None:
        print(f"policykb: no document {args.doc_id!r} (policykb docs lists them)", file=sys.stderr)
        return EXIT_FAIL
    versions = kb.versions(args.doc_id)
    if not versions:
        print(f"policykb: {args.doc_id} has no earlier version", file=sys.stderr)
        return EXIT_FAIL
    chosen = next((v for v in versions if v.number == args.version), None) if args.version else versions[-1]
    if chosen is None:
        known = ", ".join(str(v.number) for v in versions)
        print(
            f"policykb: {args.doc_id} has no version {args.version}; earlier versions: {known}",
            file=sys.stderr,
        )
        return EXIT_FAIL
    changes = what_changed(chosen.clauses, kb.clauses(args.doc_id))
    if args.json:
        print(
            json.dumps(
                {"doc_id": args.doc_id, "version": chosen.number, **changes.to_dict()}, ensure_ascii=False
            )
        )
        return EXIT_OK
    print(
        f"{args.doc_id}: version {chosen.number} (replaced {chosen.replaced}) → now: {len(changes.added)} added, "
        f"{len(changes.removed)} removed, {len(changes.changed)} changed, {changes.unchanged} unchanged"
    )
    for c in changes.added:
        print(f"+ {_where(c)}  {c.text}")
    for c in changes.removed:
        print(f"- {_where(c)}  {c.text}")
    for old, new in changes.changed:
        print(f"~ {_where(new)}\n    was: {old.text}\n    now: {new.text}")
    return EXIT_OK


def _where(c: Clause) -> str:
    return " > ".join([*c.section_path, c.label]).strip(" >")


def cmd_clauses(args: argparse.Namespace) -> int:
    kb = _kb(verb="clauses")
    if args.doc and kb.document(args.doc) is None:
        from policykb.index.store import unknown_document

        print(f"policykb: {unknown_document(args.doc, [d.doc_id for d in kb.documents()])}", file=sys.stderr)
        return EXIT_FAIL
    for clause in kb.clauses(args.doc):
        if args.json:
            print(clause.to_json())
        else:
            path = " > ".join(clause.section_path)
            print(f"[{clause.doc_id}] {path} {clause.label} {clause.text}".replace("\n", " "))
    return EXIT_OK


# -- search ------------------------------------------------------------------------------------


def hit_dict(hit: Hit) -> dict[str, Any]:
    return {"rank": hit.rank, "score": round(float(hit.score), 6), **hit.clause.to_dict()}


def cmd_search(args: argparse.Namespace) -> int:
    if bool(args.query) == bool(args.queries):
        print("policykb search: give a QUERY or --queries FILE (not both)", file=sys.stderr)
        return EXIT_USAGE
    kb = _kb(verb="search")
    warn_if_stale(kb)
    filters = filters_from_args(args)
    queries = read_queries(args.queries) if args.queries else [args.query]
    for q in queries:
        hits = kb.search(q, k=args.k, filters=filters, mode=args.mode)
        if args.json or args.queries:
            out = {"query": q, "hits": [hit_dict(h) for h in hits]}
            if kb.stale:
                out["stale_generation"] = kb.stale
            print(json.dumps(out, ensure_ascii=False), flush=True)
        else:
            _print_hits(q, hits)
    return EXIT_OK


def relevance(score: float) -> float:
    """A hit's score on a 0–1 scale for people (the logistic of the fused score; a clause named by
    reference, +1, is near 1). JSON output keeps the score itself.

    >>> relevance(0.0), round(relevance(3.7), 2), round(relevance(-1.2), 2)
    (0.5, 0.98, 0.23)
    """
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, score))))


def _print_hits(q: str, hits: list[Hit]) -> None:
    print(f"{len(hits)} clauses for {q!r}")
    for h in hits:
        c = h.clause
        where = " > ".join(c.section_path)
        print(f"{h.rank:>3}. [{c.doc_id}] {where} {c.label}  (relevance {relevance(h.score):.2f})")
        print(f"     {c.text[:160]}".replace("\n", " "))


# -- ui ----------------------------------------------------------------------------------------

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from policykb.ui.api import create_app
    from policykb.ui.api_keys import list_keys

    settings = _settings()
    if not is_loopback(args.host) and not (settings.api_token or list_keys(settings.home)):
        print(
            f"policykb serve: --host {args.host} lets other machines in; make an API key first "
            "(policykb keys add NAME, or api_token in $POLICYKB_HOME/config.toml), or leave --host out",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.workers < 1:
        print(f"policykb serve: --workers must be 1 or more, not {args.workers}", file=sys.stderr)
        return EXIT_USAGE
    if args.workers == 1:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")
    else:  # each worker process builds its own app from the same settings (POLICYKB_* and config.toml)
        uvicorn.run(
            "policykb.ui.api:create_app",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_level="warning",
        )
    return EXIT_OK


def _skip_component_scan() -> None:
    """Streamlit reads the metadata of every installed package as its server starts, looking for custom
    components to register (0.35 s of the 1.6 s to a healthy server here, measured with and without). The
    app uses none, so the scan could find nothing it needs: it is skipped in this process."""
    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:  # a Streamlit without it: nothing to skip
        return

    def no_components(max_workers: int | None = None) -> list[Any]:
        return []

    manifest_scanner.scan_component_manifests = no_components


def cmd_ui(args: argparse.Namespace) -> int:
    settings = _settings()
    if not is_loopback(args.host) and not settings.ui_password:
        print(
            f"policykb ui: --host {args.host} lets other machines in; set a password first "
            "(POLICYKB_UI_PASSWORD or ui_password in $POLICYKB_HOME/config.toml), or leave --host out",
            file=sys.stderr,
        )
        return EXIT_USAGE
    kb = _kb(settings)
    # Streamlit runs in this process (stopping `policykb ui` stops the server; nothing is left
    # behind), and the app's knowledge-base loader starts now, while the server boots and before any
    # browser connects: the model load (and on a first run the ingest of the bundled corpus) no longer
    # waits for the server, nor for the first page view.
    from streamlit.web import cli as streamlit_cli

    from policykb.ui.app_common import start_loading

    start_loading(kb, corpus=None if kb.documents() else settings.corpus)
    _skip_component_scan()
    app = Path(__file__).with_name("app.py")
    argv = [
        "run",
        str(app),
        "--server.port",
        str(args.port),
        "--server.address",
        args.host,
        "--browser.gatherUsageStats",
        "false",
        "--server.maxUploadSize",
        "20",
        "--client.toolbarMode",
        "viewer",  # no developer menu (rerun, clear cache, Deploy) for the people using the app
    ]
    if args.headless:
        argv += ["--server.headless", "true"]
    return streamlit_cli.main.main(args=argv, prog_name="streamlit", standalone_mode=False) or EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
