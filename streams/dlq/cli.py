"""The ``wastream dlq`` and ``wastream graph-stub`` sub-commands (imports are lazy so
that ``wastream --help`` stays fast)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

import orjson


def operator() -> str:
    """Who runs the command, for ``--by``: the login name, else the uid. Never raises: in
    a container the uid often has no passwd entry and $USER is unset, and getpass then
    raises (an OSError since 3.13, a KeyError before)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        import os

        return f"uid:{os.getuid()}"


def _print(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _dlq(args: argparse.Namespace) -> int:
    from streams.dlq.ops import DlqOps
    from wastream.config import Settings

    settings = Settings.from_env()
    if args.action == "serve":
        from streams.dlq.api import serve

        return serve(args.host, args.port)
    ops = DlqOps(settings)
    if args.action == "list":
        rows = asyncio.run(ops.list_letters(type=args.type, error_class=args.error_class,
                                            min_age_s=args.min_age, max_age_s=args.max_age,
                                            status=args.status))
        if args.json:
            _print(rows)
        else:
            from wastream.output import table

            if rows:
                print(table(["DLQ_ID", "STATUS", "TYPE", "ERROR_CLASS", "ATTEMPT", "AGE_S"],
                            [[r["dlq_id"], r["status"], r["type"], r["error_class"],
                              r["attempt"], r["age_s"]] for r in rows]))
            print(f"{len(rows)} dead letters")
        return 0
    if args.action == "auto-redrive":
        _print(asyncio.run(ops.auto_redrive(args.cooldown)))
        return 0
    if not args.dlq_id:
        print(f"wastream dlq {args.action}: a DLQ_ID is required", file=sys.stderr)
        return 2
    if args.action == "show":
        letter = asyncio.run(ops.show(args.dlq_id))
        if letter is None:
            print(f"no dead letter {args.dlq_id}", file=sys.stderr)
            return 1
        _print(letter)
        return 0
    if args.action == "redrive":
        res = asyncio.run(ops.redrive(args.dlq_id, by=args.by or operator(),
                                      reason=args.reason or ""))
    else:
        if not args.reason:
            print("wastream dlq discard: --reason is required", file=sys.stderr)
            return 2
        res = asyncio.run(ops.discard(args.dlq_id, by=args.by or operator(), reason=args.reason))
    _print(res)
    return 0 if res["result"] in ("redriven", "discarded") else 1


def _graph_stub(args: argparse.Namespace) -> int:
    from standins.graph import serve

    return serve(args.host, args.port, args.token, args.webhook_url, args.app_secret)


def add_parsers(sub: Any) -> None:
    """Register ``dlq`` and ``graph-stub`` on the ``wastream`` sub-command parser."""
    dlq = sub.add_parser("dlq", help="list, show, redrive or discard dead letters; admin API",
                         description="Operate wa.dlq (reads Kafka directly). redrive re-publishes "
                         "a letter to its original topic once; discard records who and why; "
                         "serve runs the admin HTTP API (bearer WASTREAM_ADMIN_TOKEN).")
    dlq.add_argument("action", choices=["list", "show", "redrive", "discard", "serve",
                                        "auto-redrive"])
    dlq.add_argument("dlq_id", nargs="?", help="the letter (show, redrive, discard)")
    dlq.add_argument("--type", help="list: event type (e.g. message.text, outbound)")
    dlq.add_argument("--error-class", help="list: error class (substring)")
    dlq.add_argument("--min-age", type=float, help="list: older than this many seconds")
    dlq.add_argument("--max-age", type=float, help="list: younger than this many seconds")
    dlq.add_argument("--status", choices=["open", "redriven", "discarded"],
                     help="list: by decision")
    dlq.add_argument("--json", action="store_true", help="list: JSON output")
    # Resolved when a decision is recorded, not while the parser is built (operator()).
    dlq.add_argument("--by", default=None, help="who decides (default: your login name)")
    dlq.add_argument("--reason", help="why (required for discard)")
    dlq.add_argument("--cooldown", type=float, default=600.0,
                     help="auto-redrive: transient letters older than this (s)")
    dlq.add_argument("--host", default="127.0.0.1", help="serve: bind address")
    dlq.add_argument("--port", type=int, default=8090, help="serve: port (default 8090)")
    dlq.set_defaults(func=_dlq)

    stub = sub.add_parser("graph-stub", help="run the local stand-in Graph API (tests, make run)",
                          description="Serve POST /{version}/{phone_number_id}/messages, check "
                          "Meta's request shape, answer like Meta; POST /_stub/faults to make "
                          "it fail.")
    stub.add_argument("--host", default="127.0.0.1")
    stub.add_argument("--port", type=int, default=8070)
    stub.add_argument("--token", default="stub-token", help="the bearer token it accepts")
    stub.add_argument("--webhook-url", default=None,
                      help="the ingress's /webhook: template status webhooks go there")
    stub.add_argument("--app-secret", default=None, help="signs those webhooks")
    stub.set_defaults(func=_graph_stub)
