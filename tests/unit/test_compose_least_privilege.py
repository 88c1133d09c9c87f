"""compose.yaml's PostgreSQL as the dev stack's: password authentication, the services
as a role that is no superuser, the migrations as the owner role. (No Docker here: the
init script itself was run against a real cluster by hand, see decision 0020.)"""

from __future__ import annotations

import re

from tests.support.system import REPO

COMPOSE = (REPO / "compose.yaml").read_text()
INIT = (REPO / "docker" / "postgres-init.sh").read_text()


def test_postgres_authenticates_with_scram_and_the_roles_come_from_the_init_script() -> None:
    assert "POSTGRES_HOST_AUTH_METHOD: scram-sha-256" in COMPOSE
    assert "trust" not in COMPOSE
    # the image's POSTGRES_USER is a superuser: it must not be the services' role
    assert "POSTGRES_USER: wastream" not in COMPOSE
    assert "./docker/postgres-init.sh:/docker-entrypoint-initdb.d/" in COMPOSE
    assert re.search(r"CREATE ROLE wastream LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", INIT)
    assert re.search(r"CREATE ROLE wastream_owner LOGIN NOSUPERUSER", INIT)
    assert "CREATE DATABASE wastream OWNER wastream_owner" in INIT


def test_services_connect_as_wastream_and_only_setup_as_the_owner() -> None:
    urls = re.findall(r"(DATABASE(?:_OWNER)?_URL): postgresql://([a-z_]+):", COMPOSE)
    assert ("DATABASE_URL", "wastream") in urls
    assert ("DATABASE_OWNER_URL", "wastream_owner") in urls
    assert all((k == "DATABASE_OWNER_URL") == (user == "wastream_owner") for k, user in urls)
    setup = COMPOSE[COMPOSE.index("\n  setup:"):COMPOSE.index("\n  ingress:")]
    assert "DATABASE_OWNER_URL" in setup
