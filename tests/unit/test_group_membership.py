"""The worker's consumer group member name (decision 0021): static only when asked."""

from __future__ import annotations

import socket

from streams.runtime.app import group_instance_id
from wastream.config import Settings


def test_a_worker_is_a_dynamic_member_unless_static_membership_is_on() -> None:
    assert group_instance_id(Settings.from_env({"WASTREAM_WORKER_ID": "w1"})) is None


def test_a_static_member_is_named_by_its_worker_id_else_its_host() -> None:
    on = {"WASTREAM_STATIC_MEMBERSHIP": "1"}
    assert group_instance_id(Settings.from_env({**on, "WASTREAM_WORKER_ID": "w1"})) == "w1"
    assert group_instance_id(Settings.from_env(on)) == socket.gethostname()
