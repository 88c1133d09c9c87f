"""``wastream console``: serve the console, or ``add-operator NAME`` to create an account."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import ssl
import sys
from typing import Any


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from wastream.config import Settings
    from wastream.console.app import create_app

    logging.basicConfig(level=logging.INFO)
    if bool(args.tls_cert) != bool(args.tls_key):
        print("wastream console: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    tls = None
    if args.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    settings = Settings.from_env()
    if not asyncio.run(_migrated(settings)):
        return _not_migrated(settings.db_schema)
    app = create_app(settings, ingress_metrics_url=args.ingress_metrics_url or None,
                     worker_metrics_url=args.worker_metrics_url or None,
                     secure_cookies=args.secure_cookies)
    print(f"console on {'https' if tls else 'http'}://{args.host}:{args.port}/", flush=True)
    web.run_app(app, host=args.host, port=args.port, ssl_context=tls, print=lambda *_: None)
    return 0


def _not_migrated(schema: str) -> int:
    print(f"wastream console: schema {schema} has no console tables; run "
          "`wastream migrate` first", file=sys.stderr)
    return 2


async def _has_tables(conn: Any) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass('console_operators') IS NOT NULL"))


async def _migrated(settings: Any) -> bool:
    from projections.migrations import connect

    conn = await connect(settings)
    try:
        return await _has_tables(conn)
    finally:
        await conn.close()


async def _add(name: str, password: str, role: str) -> str | None:
    """Save the operator; the schema's name when it has no console tables yet."""
    from projections.migrations import connect
    from wastream.config import Settings
    from wastream.console.auth import add_operator

    settings = Settings.from_env()
    conn = await connect(settings)
    try:
        if not await _has_tables(conn):
            return settings.db_schema
        await add_operator(conn, name, password, role)
        return None
    finally:
        await conn.close()


def _add_operator(args: argparse.Namespace) -> int:
    # The password from stdin when it is not a terminal (scripts, tests), else prompted.
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        unmigrated = asyncio.run(_add(args.name, password, args.role))
    except ValueError as exc:
        print(f"wastream console add-operator: {exc}", file=sys.stderr)
        return 2
    if unmigrated is not None:
        return _not_migrated(unmigrated)
    print(f"operator {args.name} ({args.role}) saved")
    return 0


def add_parser(sub: Any) -> None:
    """Register ``console`` on the ``wastream`` sub-command parser."""
    p = sub.add_parser("console", help="the operator console (web) and its accounts",
                       description="Serve the operator console: conversations, dead "
                       "letters, health and funnels, from PostgreSQL (migrate first).")
    csub = p.add_subparsers(dest="console_command", metavar="COMMAND")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8082, help="port (default 8082)")
    p.add_argument("--ingress-metrics-url", default=None,
                   help="the ingress's /metrics (on its WASTREAM_HEALTH_PORT), for the 503 rate")
    p.add_argument("--worker-metrics-url", default=None,
                   help="the worker's /metrics (on its WASTREAM_HEALTH_PORT), for the breakers")
    p.add_argument("--secure-cookies", action="store_true",
                   help="mark cookies Secure (behind a TLS proxy; --tls-cert sets it)")
    p.add_argument("--tls-cert", default=None,
                   help="serve HTTPS with this PEM certificate (chain); cookies are Secure")
    p.add_argument("--tls-key", default=None, help="the certificate's PEM private key")
    p.set_defaults(func=_serve)
    add = csub.add_parser("add-operator", help="create an account (or reset its password)",
                          description="The password is prompted for (or read from stdin "
                          "when that is not a terminal).")
    add.add_argument("name")
    add.add_argument("--role", choices=["operator", "viewer"], default="operator")
    add.set_defaults(func=_add_operator)
