"""The parser against the corpus, hand-made edge cases and hypothesis (pure, no broker)."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.envelope import InboundEvent
from schemas.meta import InvalidJson, MetaPayloadError, parse_body, parse_bytes
from schemas.meta.parser import WHOLE_VALUE_FIELDS
from tests.support import corpus
from tests.support.webhooks import envelope

KW = {"correlation_id": "cid-1", "received_at": "2026-01-01T00:00:00.000+00:00"}


@pytest.mark.parametrize(("name", "raw"), corpus.bodies(), ids=[n for n, _ in corpus.bodies()])
def test_corpus_body_becomes_the_contracted_events(name: str, raw: bytes) -> None:
    events = parse_bytes(raw, **KW)
    assert [e.type for e in events] == corpus.EXPECTED_TYPES[name]
    expected = corpus.oracle(raw)
    assert len(events) == len(expected)
    for ev, exp in zip(events, expected, strict=True):
        assert ev.payload == exp.payload  # verbatim sub-object
        assert ev.wa_id == exp.key
        assert ev.key == exp.key.encode()
        if exp.event_id is not None:
            assert ev.event_id == exp.event_id
        else:
            assert ev.event_id.startswith("sha256:")
        assert ev.correlation_id == "cid-1"
        assert InboundEvent.from_bytes(ev.to_bytes()) == ev
    # deterministic: a redelivery of the same body gives the same ids
    again = parse_bytes(raw, correlation_id="other", received_at="later")
    assert [e.event_id for e in again] == [e.event_id for e in events]
    # ids are unique within a body (else downstream dedupe would drop an update)
    assert len({e.event_id for e in events}) == len(events)


def test_corpus_covers_every_family() -> None:
    types = {t for ts in corpus.EXPECTED_TYPES.values() for t in ts}
    for t in ["message.text", "message.image", "message.audio", "message.video",
              "message.document", "message.sticker", "message.location", "message.contacts",
              "message.reaction", "message.interactive.button_reply",
              "message.interactive.list_reply", "message.interactive.nfm_reply",
              "message.button", "message.order", "message.system", "message.unsupported",
              "message.revoke", "message.edit", "status.sent", "status.delivered",
              "status.read", "status.failed", "status.played", "error"]:
        assert t in types, t
    assert len(corpus.EXPECTED_TYPES) == len(corpus.bodies())


def test_profile_name_only_for_the_matching_contact() -> None:
    raw = corpus.CORPUS_DIR.joinpath("msg_text__meta.json").read_bytes()
    [ev] = parse_bytes(raw, **KW)
    assert ev.profile_name == "Sheena Nelson"
    # user_preferences: the contact is another wa_id than the update's: no name leaks over
    raw = corpus.CORPUS_DIR.joinpath("user_preferences__resume__pywa.json").read_bytes()
    [ev] = parse_bytes(raw, **KW)
    assert ev.profile_name is None


def test_status_and_message_fields_the_worker_reads() -> None:
    body = orjson.dumps(envelope(
        [{"from": "250700000001", "id": "wamid.A", "timestamp": "1700000000", "type": "interactive",
          "interactive": {"type": "list_reply", "list_reply": {"id": "rides", "title": "Rides"}}}],
        statuses=[{"id": "wamid.OUT", "status": "read", "timestamp": "1700000001",
                   "recipient_id": "250700000002"}]))
    msg, st_ = parse_bytes(body, **KW)
    assert msg.type == "message.interactive.list_reply"
    assert (msg.wa_id, msg.timestamp) == ("250700000001", 1700000000)
    assert msg.payload["interactive"]["list_reply"]["id"] == "rides"
    assert msg.phone_number_id is not None
    assert (st_.type, st_.event_id, st_.wa_id) == ("status.read", "wamid.OUT:read", "250700000002")
    assert st_.payload["id"] == "wamid.OUT"


def _batch(n_entries: int, n_changes: int, per_change: int) -> bytes:
    entries = []
    k = 0
    for e in range(n_entries):
        changes = []
        for _c in range(n_changes):
            msgs = []
            for _ in range(per_change):
                wa = f"25078{k % 7:07d}"
                msgs.append({"from": wa, "id": f"wamid.B{k}", "timestamp": str(1700000000 + k),
                             "type": "text", "text": {"body": f"m{k}"}})
                k += 1
            value = envelope(msgs)["entry"][0]["changes"][0]["value"]
            changes.append({"field": "messages", "value": value})
        entries.append({"id": f"waba{e}", "changes": changes})
    return orjson.dumps({"object": "whatsapp_business_account", "entry": entries})


def test_a_batch_of_1000_updates_gives_1000_events_in_body_order() -> None:
    events = parse_bytes(_batch(4, 5, 50), **KW)
    assert [e.event_id for e in events] == [f"wamid.B{i}" for i in range(1000)]
    assert {e.waba_id for e in events} == {"waba0", "waba1", "waba2", "waba3"}


def test_unknown_types_and_fields_are_kept_typed_unknown() -> None:
    value = envelope([{"from": "1", "id": "wamid.U", "type": "hologram", "hologram": {}}],
                     statuses=[{"id": "wamid.S", "status": "teleported", "recipient_id": "1"}])
    value["entry"][0]["changes"][0]["value"]["future_things"] = [{"x": 1}]
    value["entry"][0]["changes"].append({"field": "brand_new_field", "value": {"a": 1}})
    events = parse_body(value, **KW)
    assert [e.type for e in events] == ["message.unknown", "status.unknown", "unknown.messages",
                                        "unknown.brand_new_field"]
    assert events[1].event_id == "wamid.S:teleported"
    assert events[2].payload["future_things"] == [{"x": 1}]  # the whole value, verbatim
    assert events[3].payload == {"a": 1}


def test_a_change_with_nothing_recognised_is_kept_whole() -> None:
    body = envelope([])
    events = parse_body(body, **KW)
    assert [e.type for e in events] == ["unknown.messages"]


def test_group_statuses_of_two_participants_do_not_collide() -> None:
    s = {"id": "wamid.G", "status": "read", "recipient_id": "group1", "recipient_type": "group"}
    body = envelope([], statuses=[{**s, "recipient_participant_id": "p1"},
                                  {**s, "recipient_participant_id": "p2"}])
    a, b = parse_body(body, **KW)
    assert (a.event_id, b.event_id) == ("wamid.G:read:p1", "wamid.G:read:p2")
    assert a.wa_id == b.wa_id == "group1"


@pytest.mark.parametrize("body", [
    [], "x", 1, None, {}, {"object": "page", "entry": []},
    {"object": "whatsapp_business_account"},
    {"object": "whatsapp_business_account", "entry": []},
    {"object": "whatsapp_business_account", "entry": [1]},
    {"object": "whatsapp_business_account", "entry": [{"id": "1"}]},
    {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "x"}]}]},
    {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"value": {}}]}]},
    {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": []}]},
    {"object": "whatsapp_business_account",
     "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"messages": {}}}]}]},
    {"object": "whatsapp_business_account",
     "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"messages": [1]}}]}]},
])
def test_not_a_whatsapp_payload_is_a_typed_error(body: Any) -> None:
    with pytest.raises(MetaPayloadError) as info:
        parse_body(body, **KW)
    assert info.value.transient is False
    assert str(info.value)


def test_invalid_json_is_its_own_error() -> None:
    with pytest.raises(InvalidJson):
        parse_bytes(b'{"object": ', **KW)


# -- property-based ---------------------------------------------------------------------

# Tricky strings where Meta puts ids and numeric timestamps, beside arbitrary text.
tricky = st.sampled_from(["", "0", "-1", "1e5", "1.5", "99999999999999999999999", " 12", "١٢",
                          "whatsapp_business_account", "messages", "text", "group"])
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
                         tricky)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
CORPUS_OBJS = [orjson.loads(raw) for _n, raw in corpus.bodies()]


TYPE_FAMILIES = {"message", "status", "calls", "smb_message_echoes", "user_preferences",
                 "unknown"} | WHOLE_VALUE_FIELDS


def _check(events: list[InboundEvent]) -> None:
    for e in events:
        # only the documented families, whatever the input (consumers switch on them)
        assert e.type == "error" or e.type.split(".")[0] in TYPE_FAMILIES, e.type
        assert isinstance(e.wa_id, str)
        assert e.wa_id
        assert isinstance(e.event_id, str)
        assert e.event_id
        InboundEvent.from_bytes(e.to_bytes())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_the_typed_error(raw: bytes) -> None:
    with contextlib.suppress(MetaPayloadError):
        _check(parse_bytes(raw, **KW))


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_value_parses_or_raises_the_typed_error(value: Any) -> None:
    with contextlib.suppress(MetaPayloadError):
        _check(parse_body(value, **KW))


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CORPUS_OBJS), st.data())
def test_mutated_corpus_bodies_parse_or_raise_the_typed_error(base: Any,
                                                              data: st.DataObject) -> None:
    """Real bodies with one node anywhere replaced by arbitrary JSON: deep mutations that
    random JSON alone would almost never reach."""
    body = copy.deepcopy(base)
    paths = [p for p in _paths(body) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        node = body
        try:
            for step in path[:-1]:
                node = node[step]
            # scalars half the time: recursive JSON alone is mostly lists and objects
            node[path[-1]] = data.draw(st.one_of(json_scalars, json_values))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    with contextlib.suppress(MetaPayloadError):
        _check(parse_body(body, **KW))
