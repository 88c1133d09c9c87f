"""The CLI's manners: --version, tables with headers, JSON, one-line errors with exit codes
(2 configuration, 3 unreachable dependency), no getpass crash, `wastream run`'s settings
file read by the other commands, the demo's rows as text."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wastream import runenv
from wastream.cli import build_parser
from wastream.demo import rows_text
from wastream.output import table

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wastream.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WASTREAM_", "WHATSAPP_", "KAFKA_", "DATABASE_"))}
    port = _free_port()  # nothing listens there
    env.update({"WASTREAM_HOME": str(tmp_path), "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
                "DATABASE_URL": f"postgresql://u:p@127.0.0.1:{port}/db"}, **extra)
    return env


def test_version() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        build_parser().parse_args(["--version"])
    assert done.value.code == 0
    assert out.getvalue().strip() == "wastream 0.1.0"


def test_python_m_wastream_is_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "wastream", "--version"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "wastream 0.1.0"), done.stderr


def test_no_passwd_entry_and_no_user_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    for var in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(var, raising=False)

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    args = build_parser().parse_args(["dlq", "list"])  # used to raise while building
    assert args.by is None
    from streams.dlq.cli import operator

    assert operator() == f"uid:{os.getuid()}"


def test_tables_have_a_header_and_aligned_columns() -> None:
    text = table(["ID", "STATUS"], [["a", "open"], ["long-id", None]])
    lines = text.splitlines()
    assert lines[0].split() == ["ID", "STATUS"]
    assert [line.index(word) for line, word in zip(lines, ["STATUS", "open"], strict=False)] \
        == [9, 9]
    assert lines[2] == "long-id"  # no trailing blanks


def test_demo_rows_are_text_not_python_reprs() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    text = rows_text([{"event_id": "wamid.1", "type": "message.text", "received_at": when}])
    assert text.splitlines()[0].split() == ["event_id", "type", "received_at"]
    assert "  wamid.1   message.text  2026-01-02 03:04:05 UTC" in text
    for repr_mark in ("{", "'", "datetime("):
        assert repr_mark not in text


def test_unreachable_broker_or_database_is_one_line_and_exit_3(tmp_path: Path) -> None:
    env = _env(tmp_path)
    for args in (["topics"], ["dlq", "list"], ["migrate"]):
        result = _cli(*args, env=env)
        assert result.returncode == 3, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith(f"wastream {args[0]}: ")


def test_a_bad_setting_is_exit_2(tmp_path: Path) -> None:
    result = _cli("topics", env=_env(tmp_path, WASTREAM_PARTITIONS="many"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "WASTREAM_PARTITIONS: must be an integer >= 1, got 'many'"]


def test_json_outputs(tmp_path: Path) -> None:
    import orjson

    plan = orjson.loads(_cli("topics", "--list", "--json", env=_env(tmp_path)).stdout)
    assert {"topic": "wa.inbound", "partitions": 4, "replication_factor": 1, "keyed": True,
            "configs": {"retention.ms": "-1", "min.insync.replicas": "1"}} in plan
    parser = build_parser()
    for argv in (["dev", "status", "--json"], ["migrate", "--json"], ["dlq", "list", "--json"],
                 ["replay", "--projection", "events", "--from-beginning", "--json"]):
        assert parser.parse_args(argv).json is True


def test_runs_settings_file_round_trip(tmp_path: Path) -> None:
    path = runenv.env_file(tmp_path)
    runenv.write(path, {"A": "x y'z", "B": ""})
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert runenv.read(path) == {"A": "x y'z", "B": ""}

def test_adopted_values_never_override_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    from wastream.config.settings import adopt

    monkeypatch.setenv("WASTREAM_TEST_A", "mine")
    monkeypatch.delenv("WASTREAM_TEST_B", raising=False)
    assert adopt({"WASTREAM_TEST_A": "run's", "WASTREAM_TEST_B": "run's"}) == [
        "WASTREAM_TEST_B"]
    assert os.environ["WASTREAM_TEST_A"] == "mine"
    monkeypatch.delenv("WASTREAM_TEST_B")


def test_chat_reads_the_secret_that_run_generated(tmp_path: Path) -> None:
    env = _env(tmp_path)
    url = f"http://127.0.0.1:{_free_port()}/webhook"
    refused = _cli("chat", "--url", url, env=env)
    assert refused.returncode == 2
    assert "WHATSAPP_APP_SECRET" in refused.stderr
    runenv.write(runenv.env_file(tmp_path), {"WHATSAPP_APP_SECRET": "generated-by-run"})
    # Past the secret now: it goes on to Kafka, which is not there (exit 3, one line).
    got = _cli("chat", "--url", url, env=env)
    assert got.returncode == 3, got.stderr
    assert "Kafka is unreachable" in got.stderr
