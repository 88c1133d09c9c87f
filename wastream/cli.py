"""The ``wastream`` console script: one entry point, one sub-command per service or task."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


def _config(args: argparse.Namespace) -> int:
    from pathlib import Path

    from wastream.config import Settings
    from wastream.config.components import component_groups
    from wastream.config.show import readme_block, render_text, replace_readme_block

    components = component_groups()
    if args.readme is not None:
        path = Path(args.readme)
        try:
            path.write_text(replace_readme_block(path.read_text(), readme_block(components)))
        except (OSError, ValueError) as exc:
            print(f"wastream config: {path}: {exc}", file=sys.stderr)
            return 1
        print(f"{path}: configuration tables written")
    elif args.markdown:
        print(readme_block(components))
    else:
        print(render_text(Settings.from_env(), components), end="")
    return 0


def _dev(args: argparse.Namespace) -> int:
    from wastream.dev import DevStackError, stack_from_env

    try:
        if args.brokers is not None and args.action != "up":
            raise DevStackError("--brokers goes with `up` (the others read the size it recorded)")
        stack = stack_from_env(brokers=args.brokers)
        if args.action == "up":
            started = stack.up()
            for name, was_started in started.items():
                print(f"{name}: {'started' if was_started else 'already running'}")
            for node in stack.kafka.nodes:
                print(f"kafka: {node.bootstrap} (log {node.log_file})")
            print(f"postgres: {stack.postgres.url} (log {stack.postgres.log_file})")
            return 0
        if args.action == "down":
            stack.down()
            print("kafka: stopped\npostgres: stopped")
            return 0
        if args.action == "env":
            print("\n".join(stack.env_lines()))
            return 0
        # status: one line per Kafka node
        k_ok = True
        for node in stack.kafka.nodes:
            ok = node.healthy()
            k_ok = k_ok and ok
            print(
                f"kafka: {'healthy' if ok else 'down'} {node.bootstrap} "
                f"pid={node.pid()} log={node.log_file}"
            )
        p_ok = stack.postgres.healthy()
        print(
            f"postgres: {'healthy' if p_ok else 'down'} {stack.postgres.url} "
            f"pid={stack.postgres.pid()} log={stack.postgres.log_file}"
        )
        return 0 if (k_ok and p_ok) else 1
    except DevStackError as exc:
        print(f"wastream dev {args.action}: {exc}", file=sys.stderr)
        return 2


def _topics(args: argparse.Namespace) -> int:
    from wastream.admin import ensure_topics, topic_plan
    from wastream.config import Settings

    settings = Settings.from_env()
    if args.list:
        for name, partitions in topic_plan(settings).items():
            print(f"{name}\t{partitions}")
        return 0
    created = asyncio.run(ensure_topics(settings))
    for name in created:
        print(f"created {name}")
    print(f"{len(topic_plan(settings))} topics present ({len(created)} created)")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from projections.migrations import migrate
    from wastream.config import Settings

    applied = asyncio.run(migrate(Settings.from_env()))
    for name in applied:
        print(f"applied {name}")
    print(f"schema up to date ({len(applied)} applied)")
    return 0


def _ingress(args: argparse.Namespace) -> int:
    from ingress.app import serve

    return serve(host=args.host, port=args.port, insecure_dev=args.insecure_dev)


def _worker(args: argparse.Namespace) -> int:
    from projections.migrations import migrate
    from streams.worker import run_worker

    # The worker creates the sender's ledger table with the migrations when it is missing.
    return run_worker(loglevel=args.loglevel, prepare_db=migrate)


def _project(args: argparse.Namespace) -> int:
    from projections.projector import run_projector

    return run_projector()


def _run(args: argparse.Namespace) -> int:
    from wastream.runner import run_all

    return run_all(port=args.port, demo=not args.no_demo)


def _demo(args: argparse.Namespace) -> int:
    import secrets

    from wastream.demo import run_demo

    wa_id = args.wa_id or f"2507{secrets.randbelow(10**8):08d}"
    return run_demo(url=args.url, wa_id=wa_id, text=args.text, timeout_s=args.timeout)


def _chat(args: argparse.Namespace) -> int:
    from wastream.chat import run_chat

    return run_chat(url=args.url, wa_id=args.wa_id, timeout_s=args.timeout)


def _agent_stub(args: argparse.Namespace) -> int:
    from standins.agent import serve

    return serve(args.host, args.port, args.token)


def _vendors_import(args: argparse.Namespace) -> int:
    from wastream.vendors import run_import

    return run_import(args.file)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wastream",
        description="WhatsApp webhooks as an event log: ingress, Faust workers, "
        "Postgres projections.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = sub.add_parser(
        "dev",
        help="run a real Kafka and PostgreSQL on loopback for development",
        description="Manage the embedded dev stack (Kafka KRaft from Maven "
        'Central, a private PostgreSQL cluster). eval "$(wastream dev env)" '
        "configures a shell.",
    )
    dev.add_argument(
        "action",
        choices=["up", "down", "status", "env"],
        help="up: start both (idempotent); down: stop both; status: health, pids, "
        "log files (exit 1 when not healthy); env: print export lines",
    )
    dev.add_argument(
        "--brokers",
        type=int,
        metavar="N",
        help="with up: run Kafka as a cluster of N KRaft nodes on consecutive ports "
        "(topics get RF min(N, 3) and min.insync.replicas a majority; see `dev env`); "
        "unset: the size the last `up` chose, else one node",
    )
    dev.set_defaults(func=_dev)

    config = sub.add_parser(
        "config",
        help="print the effective settings (secrets masked)",
        description="Print every setting, grouped per service, as this environment sets "
        "it (secrets masked; '(default)' where unset). A bad value exits 2.",
    )
    config.add_argument("--markdown", action="store_true",
                        help="print the README's configuration tables instead")
    config.add_argument("--readme", metavar="PATH", default=None,
                        help="rewrite the configuration tables of the README at PATH")
    config.set_defaults(func=_config)

    topics = sub.add_parser(
        "topics",
        help="create every topic the system needs (idempotent)",
        description="Create the topics (prefixed by WASTREAM_TOPIC_PREFIX) "
        "with WASTREAM_PARTITIONS partitions.",
    )
    topics.add_argument("--list", action="store_true", help="print the plan and create nothing")
    topics.set_defaults(func=_topics)

    migrate = sub.add_parser(
        "migrate",
        help="apply the PostgreSQL migrations (idempotent)",
        description="Apply versioned SQL migrations to DATABASE_URL in schema WASTREAM_DB_SCHEMA.",
    )
    migrate.set_defaults(func=_migrate)

    ing = sub.add_parser(
        "ingress",
        help="serve Meta's webhook (aiohttp) and write it to Kafka",
        description="Verify, split and produce every webhook update to "
        "wa.inbound before answering 200.",
    )
    ing.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    ing.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    ing.add_argument(
        "--insecure-dev",
        action="store_true",
        help="start without WHATSAPP_APP_SECRET (signatures NOT checked; dev only)",
    )
    ing.set_defaults(func=_ingress)

    worker = sub.add_parser(
        "worker",
        help="run the Faust worker (conversations, retries, sender)",
        description="Run the Faust app: conversation agent, retry tiers, outbound sender.",
    )
    worker.add_argument("--loglevel", default="info", help="log level (default info)")
    worker.set_defaults(func=_worker)

    proj = sub.add_parser(
        "project",
        help="run the projector: topics into PostgreSQL, exactly once",
        description="Consume our topics and upsert the read models, storing "
        "offsets in the same transaction.",
    )
    proj.set_defaults(func=_project)

    run = sub.add_parser(
        "run",
        help="start everything locally and show it working",
        description="dev up, migrate, topics, ingress + worker + projector, "
        "then the demo; Ctrl-C stops all it started.",
    )
    run.add_argument("--port", type=int, default=8080, help="ingress port (default 8080)")
    run.add_argument("--no-demo", action="store_true", help="start the system but skip the demo")
    run.set_defaults(func=_run)

    demo = sub.add_parser(
        "demo",
        help="post a signed 'hi' webhook and print the reply and rows",
        description="Sign and POST a text webhook to a running ingress, print "
        "the bot's reply from wa.outbound and the rows projected to Postgres.",
    )
    demo.add_argument("--url", default="http://127.0.0.1:8080/webhook", help="ingress webhook URL")
    demo.add_argument(
        "--wa-id",
        default=None,
        help="the user's wa_id (default: a new user each run, so that the "
        "demo starts at the menu whatever earlier runs left)",
    )
    demo.add_argument("--text", default="hi", help="what the user writes")
    demo.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each hop")
    demo.set_defaults(func=_demo)

    chat = sub.add_parser(
        "chat",
        help="talk to the bot as a WhatsApp user, in the terminal",
        description="Sign and POST what you type as webhooks (a number picks "
        "an option, /location lat,lon shares a location) and print the "
        "bot's replies from wa.outbound.",
    )
    chat.add_argument("--as", dest="wa_id", default="250788000001", help="the user's wa_id")
    chat.add_argument("--url", default="http://127.0.0.1:8080/webhook", help="ingress webhook URL")
    chat.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for replies")
    chat.set_defaults(func=_chat)
    agent_stub = sub.add_parser(
        "agent-stub",
        help="run the local stand-in chat-completions endpoint (tests, make run)",
        description="Serve POST /v1/chat/completions, check the request (model, messages, "
        "response_format json_schema, bearer token), answer with what the rule-based "
        "backend understands; POST /_stub/faults to make it fail. "
        "WASTREAM_AGENT_URL=http://HOST:PORT/v1 points the worker at it.",
    )
    agent_stub.add_argument("--host", default="127.0.0.1", help="bind address")
    agent_stub.add_argument("--port", type=int, default=8071, help="port (default 8071)")
    agent_stub.add_argument("--token", default=None,
                            help="the bearer token it requires (default: none required)")
    agent_stub.set_defaults(func=_agent_stub)
    vendors = sub.add_parser("vendors", help="the general broker's vendors")
    vsub = vendors.add_subparsers(dest="vendors_command", required=True, metavar="COMMAND")
    vimport = vsub.add_parser(
        "import", help="import vendors from a CSV file (name,wa_id,categories,lat,lon)",
        description="Each good row goes to wa.inbound as an event for the vendor's "
        "conversation; a bad row is reported with its line number; a file missing a "
        "column is refused before anything is written. A re-import changes nothing.")
    vimport.add_argument("file", help="CSV with header name,wa_id,categories,lat,lon; "
                         "categories separated by ';'")
    vimport.set_defaults(func=_vendors_import)
    from streams.dlq.cli import add_parsers  # dlq, graph-stub (failure handling)

    add_parsers(sub)
    from projections.replay_cli import add_parser as add_replay  # replay (projections)

    add_replay(sub)
    from wastream.templates import add_parser as add_templates  # templates check, sync

    add_templates(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from wastream.config import ConfigError, Settings

    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.func
    try:
        # Every command refuses a bad setting before it starts anything: one line per
        # bad variable on stderr, exit 2, never a traceback.
        Settings.from_env()
        return handler(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
