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
        stack = stack_from_env(brokers=args.brokers, secure=args.secure)
        if args.action == "up":
            started = stack.up()
            for name, was_started in started.items():
                print(f"{name}: {'started' if was_started else 'already running'}")
            mode = " SASL_SSL (wastream dev env prints its settings)" if stack.kafka.secure else ""
            for node in stack.kafka.nodes:
                print(f"kafka: {node.bootstrap}{mode} (log {node.log_file})")
            print(f"postgres: {stack.postgres.url} (log {stack.postgres.log_file})")
            return 0
        if args.action == "down":
            stack.down()
            print("kafka: stopped\npostgres: stopped")
            return 0
        if args.action == "env":
            print("\n".join(stack.env_lines()))
            return 0
        # status: one entry per Kafka node
        nodes = [(node, node.healthy()) for node in stack.kafka.nodes]
        k_ok = all(ok for _node, ok in nodes)
        p_ok = stack.postgres.healthy()
        if args.json:
            from wastream.output import emit_json

            emit_json({
                "kafka": {"healthy": k_ok, "bootstrap": stack.kafka.bootstrap,
                          "secure": stack.kafka.secure, "pid": stack.kafka.pid(),
                          "log": str(stack.kafka.log_file),
                          "nodes": [{"healthy": ok, "bootstrap": node.bootstrap,
                                     "pid": node.pid(), "log": str(node.log_file)}
                                    for node, ok in nodes]},
                "postgres": {"healthy": p_ok, "url": stack.postgres.url,
                             "pid": stack.postgres.pid(), "log": str(stack.postgres.log_file)},
            })
            return 0 if (k_ok and p_ok) else 1
        for node, ok in nodes:
            print(
                f"kafka: {'healthy' if ok else 'down'} {node.bootstrap} "
                f"pid={node.pid()} log={node.log_file}"
            )
        print(
            f"postgres: {'healthy' if p_ok else 'down'} {stack.postgres.url} "
            f"pid={stack.postgres.pid()} log={stack.postgres.log_file}"
        )
        return 0 if (k_ok and p_ok) else 1
    except DevStackError as exc:
        print(f"wastream dev {args.action}: {exc}", file=sys.stderr)
        return 2


def _topics(args: argparse.Namespace) -> int:
    from wastream.admin import TopicPlanError, apply_plan, topic_specs
    from wastream.config import Settings
    from wastream.output import emit_json, table

    settings = Settings.from_env()
    specs = topic_specs(settings)
    if args.list:
        if args.json:
            emit_json([{"topic": s.name, "partitions": s.partitions,
                        "replication_factor": s.replication_factor, "keyed": s.keyed,
                        "configs": s.configs} for s in specs])
            return 0
        print(table(["TOPIC", "PARTITIONS", "RF", "RETENTION_MS", "MIN_ISR", "KEYED"],
                    [[s.name, s.partitions, s.replication_factor, s.configs["retention.ms"],
                      s.configs["min.insync.replicas"], "yes" if s.keyed else "no"]
                     for s in specs]))
        return 0
    try:
        report = asyncio.run(apply_plan(settings, fix=not args.check, check_only=args.check,
                                        allow_low_rf=args.allow_low_replication))
    except TopicPlanError as exc:
        print(f"wastream topics: {exc}", file=sys.stderr)
        return 2
    unresolved = [d for d in report.drift if d.action != "fixed"]
    if args.json:
        emit_json(report.as_dict())
    else:
        for name in report.created:
            print(f"created {name}")
        for name in report.missing:
            print(f"missing {name}")
        if report.drift:
            print(table(["TOPIC", "SETTING", "HAVE", "WANT", "ACTION", "WHY"],
                        [[d.topic, d.what, d.have, d.want, d.action, d.why]
                         for d in report.drift]))
        print(f"{len(specs) - len(report.missing)} of {len(specs)} topics present "
              f"({len(report.created)} created, {len(report.missing)} missing, "
              f"{len(report.drift)} drifted, {len(unresolved)} not fixed) on "
              f"{report.brokers} broker(s)")
    return 1 if unresolved or report.missing else 0


def _migrate(args: argparse.Namespace) -> int:
    from projections.migrations import migrate
    from wastream.config import Settings

    settings = Settings.from_env()
    applied = asyncio.run(migrate(settings))
    if args.json:
        from wastream.output import emit_json

        emit_json({"schema": settings.db_schema, "applied": applied})
        return 0
    for name in applied:
        print(f"applied {name}")
    print(f"schema up to date ({len(applied)} applied)")
    return 0


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def _ingress(args: argparse.Namespace) -> int:
    from ingress.app import serve
    from ingress.workers import supervise

    if args.workers > 1:
        return supervise(args.host, args.port, args.insecure_dev, args.workers)
    return serve(host=args.host, port=args.port, insecure_dev=args.insecure_dev,
                 reuse_port=args.reuse_port)


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

    return run_all(port=args.port, demo=not args.no_demo, console_port=args.console_port)


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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wastream")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from wastream import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wastream",
        description="WhatsApp webhooks as an event log: ingress, Faust workers, "
        "Postgres projections.",
    )
    parser.add_argument("--version", action="version", version=f"wastream {_version()}")
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
        "--secure", action="store_true",
        help="up: Kafka with a SASL_SSL listener, SCRAM-SHA-512 users and a CA made on the "
        "spot (in a WASTREAM_HOME of its own; later commands there see it is secure); "
        "one broker only")
    dev.add_argument("--json", action="store_true", help="status: print JSON")
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
        help="create every topic the system needs, check and fix existing ones",
        description="Create the topics (prefixed by WASTREAM_TOPIC_PREFIX) with "
        "WASTREAM_PARTITIONS partitions, their replication factor, retention and min ISR; "
        "check existing topics against the plan, fix what is safe (settings, partitions of "
        "unkeyed topics) and report the rest (exit 1 while drift remains).",
    )
    topics.add_argument("--list", action="store_true", help="print the plan and create nothing")
    topics.add_argument("--check", action="store_true",
                        help="change nothing: report missing topics and drift (exit 1 "
                        "if there are any)")
    topics.add_argument("--allow-low-replication", action="store_true",
                        help="accept a replication factor below 3 on a cluster of 3 or more "
                        "brokers")
    topics.add_argument("--json", action="store_true", help="print JSON")
    topics.set_defaults(func=_topics)

    migrate = sub.add_parser(
        "migrate",
        help="apply the PostgreSQL migrations (idempotent)",
        description="Apply versioned SQL migrations to DATABASE_URL in schema WASTREAM_DB_SCHEMA.",
    )
    migrate.add_argument("--json", action="store_true", help="print JSON")
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
    ing.add_argument(
        "--workers", type=_positive, default=1,
        help="processes sharing the port with SO_REUSEPORT (default 1); worker i serves "
        "its health endpoint on WASTREAM_HEALTH_PORT + i",
    )
    ing.add_argument(
        "--reuse-port", action="store_true",
        help="bind with SO_REUSEPORT beside other processes (what --workers gives each)",
    )
    ing.set_defaults(func=_ingress)

    worker = sub.add_parser(
        "worker",
        help="run the Faust worker (conversations, retries, sender)",
        description="Run the Faust app: conversation agent, retry tiers, outbound sender.",
    )
    worker.add_argument("--loglevel", default=None,
                        help="log level (default: WASTREAM_LOG_LEVEL, itself INFO by default)")
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
        description="dev up, migrate, topics, ingress + worker + projector + console, "
        "then the demo; Ctrl-C stops all it started.",
    )
    run.add_argument("--port", type=int, default=8080, help="ingress port (default 8080)")
    run.add_argument("--no-demo", action="store_true", help="start the system but skip the demo")
    run.add_argument("--console-port", type=int, default=8082,
                     help="operator console port (default 8082; a free one if taken)")
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
    from wastream.console.cli import add_parser as add_console  # console, add-operator

    add_console(sub)
    return parser


# Long-running services: they log (and retry) connection errors themselves.
SERVICES = frozenset({"ingress", "worker", "project", "run", "graph-stub", "agent-stub"})
# Commands that do not read `wastream run`'s .wastream/env: run writes it, the dev stack's
# commands manage the servers whatever runs on them, and a service is configured by the
# environment it is started with (a test's services never see a make run's settings).
OWN_SETTINGS = SERVICES | {"dev"}
EXIT_CONFIG = 2  # a bad or missing setting
EXIT_UNREACHABLE = 3  # a dependency (Kafka, PostgreSQL) cannot be reached


def unreachable(exc: BaseException) -> str | None:
    """What could not be reached, in words, when ``exc`` says a dependency is down or
    unknown (None for any other error, which keeps its traceback)."""
    import socket

    from aiokafka.errors import KafkaConnectionError
    from asyncpg.exceptions import CannotConnectNowError

    if isinstance(exc, KafkaConnectionError):
        return f"Kafka is unreachable ({exc})"
    if isinstance(exc, CannotConnectNowError | ConnectionError | socket.gaierror):
        return f"a dependency is unreachable: {exc}"
    if isinstance(exc, TimeoutError):
        return f"a dependency did not answer in time: {exc or 'timeout'}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    from wastream.config import ConfigError, Settings

    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.func
    if args.command not in SERVICES:
        # A one-shot command reports an unreachable broker in one line (below); aiokafka
        # would log each failed connection attempt besides.
        import logging

        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        # Every command refuses a bad setting before it starts anything: one line per
        # bad variable on stderr, exit 2, never a traceback.
        settings = Settings.from_env()
        if args.command not in OWN_SETTINGS:
            from wastream import runenv
            from wastream.config.settings import adopt
            from wastream.dev import home_of

            # What a running `wastream run` generated (its app secret …), under the shell's.
            if adopt(runenv.read(runenv.env_file(home_of(settings.dev)))):
                Settings.from_env()
        return handler(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:
        what = unreachable(exc)
        if what is None:
            raise
        print(f"wastream {args.command}: {what}", file=sys.stderr)
        return EXIT_UNREACHABLE


if __name__ == "__main__":
    sys.exit(main())
