"""``policykb keys``: the API keys of ``policykb serve`` (``ui/api_keys.py``), kept hashed in the home.

policykb keys add NAME     make a key and print it once (store it now: it cannot be shown again)
policykb keys list         the keys by id, name and date (never the keys themselves)
policykb keys rm ID|NAME   withdraw a key (requests with it get 401 at once)
"""

from __future__ import annotations

import argparse
import json
import sys

from policykb.config import Settings
from policykb.ui.cli_options import EXIT_FAIL, EXIT_OK, EXIT_USAGE, Subcommands


def register(sub: Subcommands) -> None:
    s = sub.add_parser(
        "keys",
        help="API keys for policykb serve: add, list, rm",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("action", choices=("add", "list", "rm"))
    s.add_argument("name", nargs="?", help="add: a name for the key; rm: its id or name")
    s.add_argument("--json", action="store_true", help="list: one JSON object a line")
    s.set_defaults(func=cmd_keys)


def cmd_keys(args: argparse.Namespace) -> int:
    from policykb.ui.api_keys import add_key, list_keys, remove_key

    home = Settings.load().home
    if args.action == "list":
        keys = list_keys(home)
        for e in keys:
            print(
                json.dumps(e.public(), ensure_ascii=False) if args.json else f"{e.id}  {e.created}  {e.name}"
            )
        if not keys and not args.json:
            print(f"no API keys in {home} (policykb keys add NAME makes one)", file=sys.stderr)
        return EXIT_OK
    if not args.name:
        print(
            f"policykb keys {args.action}: give a {'name' if args.action == 'add' else 'key id or name'}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.action == "add":
        try:
            entry, secret = add_key(home, args.name)
        except ValueError as exc:
            print(f"policykb keys add: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(secret)
        print(
            f"key {entry.id} ({entry.name}) added; it is shown only now. "
            "Send it as 'Authorization: Bearer <key>'.",
            file=sys.stderr,
        )
        return EXIT_OK
    try:
        gone = remove_key(home, args.name)
    except KeyError as exc:
        print(f"policykb keys rm: {exc.args[0]}", file=sys.stderr)
        return EXIT_FAIL
    print(f"removed key {gone.id} ({gone.name})")
    return EXIT_OK
