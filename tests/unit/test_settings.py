"""The typed settings: bad values name their variable (through the CLI: one line, exit 2),
``wastream config`` masks secrets, the README's tables are the model's, a component's
own group joins in, and no module reads the environment behind the model's back."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import Field

from wastream.config import ConfigError, Group, Settings
from wastream.config.components import component_groups
from wastream.config.groups import CORE_GROUPS
from wastream.config.show import readme_block, readme_table, render_text

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("wastream", "ingress", "streams", "schemas", "projections", "standins")


def wastream(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``wastream ARGS`` in a subprocess, with only ``env``'s settings set."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("WASTREAM_", "WHATSAPP_", "KAFKA_", "DATABASE_"))}
    return subprocess.run([sys.executable, "-m", "wastream.cli", *args], env={**base, **env},
                          capture_output=True, text=True, timeout=120, check=False, cwd=REPO)


# -- a bad value: one line naming the variable, exit 2, from any command ----------------

@pytest.mark.parametrize(("args", "var", "value", "line"), [
    (("topics", "--list"), "WASTREAM_GROUP_MAX", "abc",
     "WASTREAM_GROUP_MAX: must be an integer >= 1, got 'abc'"),
    (("config",), "WASTREAM_RETRY_DELAYS", "1m,soon",
     "WASTREAM_RETRY_DELAYS: must be delays separated by commas, each > 0, in s, m or h "
     "(e.g. 1m,2m,4m), got '1m,soon'"),
    (("dev", "status"), "WASTREAM_KAFKA_PORT", "70000",
     "WASTREAM_KAFKA_PORT: must be an integer from 1 to 65535, got '70000'"),
    (("ingress", "--port", "0"), "WASTREAM_INGRESS_GC_GEN0", "-1",
     "WASTREAM_INGRESS_GC_GEN0: must be an integer >= 0, got '-1'"),
])
def test_a_bad_value_stops_the_command_with_one_line_and_exit_2(
        args: tuple[str, ...], var: str, value: str, line: str) -> None:
    done = wastream(*args, **{var: value})
    assert (done.returncode, done.stderr, done.stdout) == (2, line + "\n", "")


def test_each_bad_variable_gets_its_own_line() -> None:
    done = wastream("topics", "--list", WASTREAM_OUTPUT_ACKS="never", WASTREAM_TZ="Mars/Base")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "WASTREAM_TZ: must be an IANA time zone such as Africa/Kigali, got 'Mars/Base'",
        "WASTREAM_OUTPUT_ACKS: must be one of wait, buffered, got 'never'"]


@pytest.mark.parametrize(("env", "line"), [
    ({"WASTREAM_PARTITIONS": "0"}, "WASTREAM_PARTITIONS: must be an integer >= 1, got '0'"),
    ({"WASTREAM_SENDER_ISOLATED": "perhaps"},
     "WASTREAM_SENDER_ISOLATED: must be a boolean (1/0, true/false), got 'perhaps'"),
    ({"WASTREAM_INGRESS_PRODUCE_TIMEOUT_S": "-1"},
     "WASTREAM_INGRESS_PRODUCE_TIMEOUT_S: must be a number > 0, got '-1'"),
    ({"WASTREAM_TABLE_STORE": "redis"},
     "WASTREAM_TABLE_STORE: must be one of memory, rocksdb, got 'redis'"),
    ({"WASTREAM_FAULTS": '[{"kind": "sometimes"}]'}, "WASTREAM_FAULTS: must be a JSON list of "
     "rules such as [{\"kind\": \"transient\", \"match\": \"boom\", \"attempts\": 2}], "
     "got '[{\"kind\": \"sometimes\"}]'"),
    ({"WASTREAM_DB_SCHEMA": "x; DROP TABLE"}, "WASTREAM_DB_SCHEMA: must be a schema name: "
     "a-z, 0-9 and _, not starting with a digit, at most 63 characters, got 'x; DROP TABLE'"),
])
def test_bad_values_say_what_they_accept(env: dict[str, str], line: str) -> None:
    with pytest.raises(ConfigError) as bad:
        Settings.from_env(env)
    assert str(bad.value) == line


def test_values_are_typed_and_an_empty_value_is_the_default() -> None:
    s = Settings.from_env({"WASTREAM_GROUP_MAX": "7", "WASTREAM_ISOLATED_PARTITIONS": "1",
                           "WASTREAM_RETRY_DELAYS": "1s,90s,2m", "WASTREAM_AGENT_FLOWS": "a, b,",
                           "WASTREAM_LOG_LEVEL": "debug", "WASTREAM_PARTITIONS": "",
                           "WASTREAM_KAFKA_PORT": "29092", "WASTREAM_PG_PORT": "25432"})
    assert (s.conversation.group_max, s.conversation.isolated_partitions) == (7, True)
    assert s.failure.retry_delays == (1, 90, 120)
    assert s.projector.agent_flows == ("a", "b")
    assert s.observability.log_level == "DEBUG"
    assert s.partitions == 4
    # unset, the broker and the database are the dev stack's, on its configured ports
    assert s.kafka_bootstrap_servers == "127.0.0.1:29092"
    assert s.database_url.endswith("@127.0.0.1:25432/wastream")


def test_an_explicit_mapping_is_all_that_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASTREAM_GROUP_MAX", "abc")
    assert Settings.from_env({}).conversation.group_max == 500
    with pytest.raises(ConfigError, match="WASTREAM_GROUP_MAX"):
        Settings.from_env()


# -- wastream config ----------------------------------------------------------------------

SECRETS = {
    "WHATSAPP_APP_SECRET": "app-secret-1f3a",
    "WHATSAPP_ACCESS_TOKEN": "access-token-9b2c",
    "WHATSAPP_VERIFY_TOKEN": "verify-token-77de",
    "WASTREAM_ADMIN_TOKEN": "admin-token-c0ff",
    "WASTREAM_ANALYTICS_KEY": "analytics-key-e11a",
}


def test_config_prints_the_effective_settings_with_secrets_masked() -> None:
    done = wastream("config", **SECRETS, WASTREAM_GROUP_MAX="7",
                    DATABASE_URL="postgresql://app:pg-pass-5d1e@db.internal:5432/wa"
                    "?sslmode=require&password=pg-pass-q8",
                    WHATSAPP_GRAPH_URL="https://user:graph-pass-2a@graph.example")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for secret in [*SECRETS.values(), "pg-pass-5d1e", "pg-pass-q8", "graph-pass-2a"]:
        assert secret not in out
    lines = {ln.split()[0]: ln.split(maxsplit=1)[1] for ln in out.splitlines()
             if ln.startswith("  ")}
    assert all(lines[var] == "****" for var in SECRETS)
    assert lines["DATABASE_URL"] == (
        "postgresql://app:****@db.internal:5432/wa?sslmode=require&password=****")
    assert lines["WHATSAPP_GRAPH_URL"] == "https://user:****@graph.example"
    assert lines["WASTREAM_GROUP_MAX"] == "7"
    assert lines["WASTREAM_PARTITIONS"] == "4  (default)"
    # every group, every variable
    groups = [*CORE_GROUPS, *component_groups()]  # the domains' groups after the core's
    assert [ln for ln in out.splitlines() if ln.startswith("[")] == [
        f"[{g.section}] {g.title.replace('`', '')}" for g in groups]
    assert set(lines) == {var for g in groups for var, _, _ in g.env_fields()}


def test_the_readme_tables_are_the_models() -> None:
    readme = (REPO / "README.md").read_text()
    assert readme_table(readme) == readme_block(component_groups()), (
        "README.md's configuration tables differ from wastream/config: run "
        "`python -m wastream.cli config --readme README.md`")


def test_every_setting_has_a_description_and_a_variable() -> None:
    for g in CORE_GROUPS:
        for var, attr, info in g.env_fields():
            assert info.description, f"{var} has no description"
            assert var != attr, f"[{g.section}] {attr} names no variable"


# -- a component's own option group ---------------------------------------------------

class DemoOptions(Group):
    section = "demo"
    title = "A demo domain"

    radius_km: float = Field(10.0, gt=0, alias="WASTREAM_DEMO_RADIUS_KM",
                             description="how far the demo looks")


class Thief(Group):
    section = "thief"
    title = "Claims a core variable"

    group_max: int = Field(1, alias="WASTREAM_GROUP_MAX", description="taken")


PROVIDED: tuple[type[Group], ...] = (DemoOptions,)


def option_groups() -> tuple[type[Group], ...]:  # this module is a provider in the tests below
    return PROVIDED


def test_a_component_group_is_read_listed_and_checked() -> None:
    groups = component_groups((__name__,))
    assert groups == [DemoOptions]
    s = Settings.from_env({"WASTREAM_DEMO_RADIUS_KM": "2.5", **SECRETS})
    assert s.options(DemoOptions).radius_km == 2.5
    assert "WASTREAM_DEMO_RADIUS_KM" in render_text(s, groups)
    assert "| `WASTREAM_DEMO_RADIUS_KM` | `10` | a number > 0 | how far the demo looks |" in (
        readme_block(groups))
    bad = Settings.from_env({"WASTREAM_DEMO_RADIUS_KM": "far"})
    with pytest.raises(ConfigError) as err:
        bad.options(DemoOptions)
    assert str(err.value) == "WASTREAM_DEMO_RADIUS_KM: must be a number > 0, got 'far'"


def test_a_provider_must_declare_its_groups_and_claim_new_variables(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TypeError, match="declares no option_groups"):
        component_groups(("tests.unit.test_cli_help",))
    monkeypatch.setattr(sys.modules[__name__], "PROVIDED", (Thief,))
    with pytest.raises(TypeError, match=r"WASTREAM_GROUP_MAX is claimed by both"):
        component_groups((__name__,))


# -- nothing reads the environment behind the model's back ----------------------------

# Building a child process's environment is not reading a setting.
ALLOWED = {
    "wastream/config/settings.py": "os.environ",  # THE place the environment is read
    "wastream/config/show.py": "settings.env",  # `(default)` marks in `wastream config`
    "wastream/runner.py": "os.environ",  # the children's environment
    "ingress/workers.py": "os.environ",  # the --workers children's environment
    "wastream/dev/postgres.py": "os.environ",  # apt-get's environment
}
_RAW = re.compile(r"os\.environ|getenv\(|settings\.extra\b|settings\.env\b")


def _product_files() -> list[Path]:
    return sorted(p for d in PRODUCT for p in (REPO / d).rglob("*.py"))


def test_no_module_reads_the_environment_on_its_own() -> None:
    found = {}
    for path in _product_files():
        rel = path.relative_to(REPO).as_posix()
        for hit in _RAW.findall(path.read_text()):
            if ALLOWED.get(rel) != hit:
                found[rel] = hit
    assert found == {}


def test_every_variable_the_code_names_is_a_setting() -> None:
    declared = {var for g in [*CORE_GROUPS, *component_groups()]
                for var, _, _ in g.env_fields()}
    named = {m for p in _product_files() for m in re.findall(
        r"\b(?:WASTREAM|WHATSAPP)_[A-Z0-9_]*[A-Z0-9]\b|KAFKA_BOOTSTRAP_SERVERS|DATABASE_URL",
        p.read_text())}
    assert named - declared == set()
