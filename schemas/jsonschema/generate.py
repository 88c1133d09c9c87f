"""JSON Schema (draft 2020-12) of every topic value, derived from the frozen dataclasses,
and of the ``data`` of every typed domain event (``events/<type>.schema.json``, from the
domains of the registry, ``streams/domains``).

``python -m schemas.jsonschema`` rewrites the checked-in ``*.schema.json`` files;
``python -m schemas.jsonschema --check`` exits 1 when they differ from the models
(the test suite runs the same comparison).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Union

import orjson

from schemas import topics
from schemas.delivery import DeliveryUpdate
from schemas.dlq import DlqDecision
from schemas.domain import DomainEvent, Event
from schemas.envelope import InboundEvent
from schemas.media import MediaOutcome
from schemas.outbound import OutboundMessage
from schemas.recovery import RecoveryUpdate
from schemas.state import StateTransition
from schemas.templates import TemplateChange

DIR = Path(__file__).resolve().parent
DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://wastream.dev/schemas/"

# Our records: topic → (model, key description).
RECORDS: dict[str, tuple[type[Any], str]] = {
    topics.INBOUND: (InboundEvent, "the user's wa_id (else phone_number_id, else WABA id)"),
    topics.OUTBOUND: (OutboundMessage, "the recipient's wa_id"),
    topics.STATE: (StateTransition, "wa_id"),
    topics.DOMAIN: (DomainEvent, "wa_id"),
    topics.DELIVERY: (DeliveryUpdate, "wa_id"),
    topics.RECOVERY: (RecoveryUpdate, "conversation id (wa_id)"),
    topics.DLQ_OPS: (DlqDecision, "dlq_id"),
    topics.MEDIA_JOBS: (InboundEvent, "the sender's wa_id (a media message of wa.inbound)"),
    topics.MEDIA: (MediaOutcome, "the sender's wa_id"),
    topics.TEMPLATES: (TemplateChange, "<name>:<language>:<kind> of the template (compacted)"),
}


def type_schema(tp: Any) -> dict[str, Any]:
    """JSON Schema of one annotation (the subset our records use)."""
    if tp is Any or tp is object:
        return {}
    if tp is type(None):
        return {"type": "null"}
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return {"anyOf": [type_schema(a) for a in args]}
    if origin is dict:
        return {"type": "object", "additionalProperties": type_schema(args[1]) if args else {}}
    if origin in (list, tuple):
        return {"type": "array", "items": type_schema(args[0]) if args else {}}
    if origin is typing.Literal:
        return {"enum": list(args)}
    raise TypeError(f"no JSON Schema mapping for {tp!r}")


def record_schema(topic: str, model: type[Any], key: str) -> dict[str, Any]:
    hints = typing.get_type_hints(model)
    props: dict[str, Any] = {}
    for f in dataclasses.fields(model):
        if f.name == "extra":  # InboundEvent flattens ``extra`` into the top level
            continue
        props[f.name] = type_schema(hints[f.name])
    props.setdefault("schema_version", {"type": "integer"})
    doc = " ".join((model.__doc__ or "").split())
    return {
        "$schema": DRAFT,
        "$id": f"{ID_BASE}{topic}.schema.json",
        "title": f"{topic} value ({model.__module__}.{model.__name__})",
        "description": doc,
        "x-kafka-key": key,
        "type": "object",
        "properties": dict(sorted(props.items())),
        # to_dict()/asdict() always write every field; newer writers may add fields.
        "required": sorted(props),
        "additionalProperties": True,
    }


def raw_schema() -> dict[str, Any]:
    """``wa.webhooks.raw``: Meta's POST body, verbatim bytes (this is its outer shape)."""
    return {
        "$schema": DRAFT,
        "$id": f"{ID_BASE}{topics.RAW}.schema.json",
        "title": f"{topics.RAW} value (Meta's webhook POST body, bytes verbatim)",
        "description": "Exactly the bytes Meta POSTed (its signature covers them). Key: the "
        "correlation id; headers correlation_id and wastream.received_at.",
        "x-kafka-key": "correlation id",
        "type": "object",
        "required": ["object", "entry"],
        "properties": {
            "object": {"const": "whatsapp_business_account"},
            "entry": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["changes"],
                "properties": {
                    "id": {"type": "string"},
                    "time": {"type": "integer"},
                    "changes": {"type": "array", "items": {
                        "type": "object", "required": ["field", "value"],
                        "properties": {"field": {"type": "string"}, "value": {"type": "object"}},
                    }},
                },
            }},
        },
    }


def failed_record_schema(topic: str) -> dict[str, Any]:
    """``wa.retry.*`` and ``wa.dlq``: the failed record's value, verbatim."""
    return {
        "$schema": DRAFT,
        "$id": f"{ID_BASE}{topic}.schema.json",
        "title": f"{topic} value (the failed record, verbatim)",
        "description": "Key and value of the failed record, unchanged; its origin and the "
        "error are in headers (schemas.headers). The value follows the schema of the topic "
        "named by the wastream.original_topic header.",
        "x-kafka-key": "the failed record's key",
        "anyOf": [{"$ref": f"{topics.INBOUND}.schema.json"},
                  {"$ref": f"{topics.OUTBOUND}.schema.json"}],
    }


def event_schema(domain: str, cls: type[Event]) -> dict[str, Any]:
    """The ``data`` of a ``wa.domain`` record whose ``name`` is ``cls.type``."""
    hints = typing.get_type_hints(cls)
    props = {f.name: type_schema(hints[f.name]) for f in dataclasses.fields(cls)}
    return {
        "$schema": DRAFT,
        "$id": f"{ID_BASE}events/{cls.type}.schema.json",
        "title": f"{cls.type} v{cls.version} ({cls.__module__}.{cls.__qualname__})",
        "description": " ".join((cls.__doc__ or "").split()),
        "x-domain": domain,
        "x-event-type": cls.type,
        "x-event-version": cls.version,
        "type": "object",
        "properties": dict(sorted(props.items())),
        "required": sorted(props),
        "additionalProperties": True,
    }


def domain_events() -> list[tuple[str, type[Event]]]:
    """(domain, event class) of every event the registry's domains declare."""
    from streams.domains import declared_events

    return declared_events()


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name (relative to this folder) → schema, for every topic value and event."""
    out = {f"{t}.schema.json": record_schema(t, m, k) for t, (m, k) in RECORDS.items()}
    out[f"{topics.RAW}.schema.json"] = raw_schema()
    out[f"{topics.DLQ}.schema.json"] = failed_record_schema(topics.DLQ)
    out["wa.retry.schema.json"] = failed_record_schema("wa.retry")
    for domain, cls in domain_events():
        out[f"events/{cls.type}.schema.json"] = event_schema(domain, cls)
    return dict(sorted(out.items()))


def render(schema: dict[str, Any]) -> bytes:
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2) + b"\n"


def differences(directory: Path = DIR) -> list[str]:
    """File names whose checked-in content differs from the models (or is missing/extra)."""
    want = {name: render(s) for name, s in all_schemas().items()}
    have = {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in directory.rglob("*.schema.json")
    }
    return sorted(n for n in want.keys() | have.keys() if want.get(n) != have.get(n))


def write(directory: Path = DIR) -> list[str]:
    """Rewrite every schema file; return the names written."""
    for stale in directory.rglob("*.schema.json"):
        stale.unlink()
    out = []
    for name, schema in all_schemas().items():
        (directory / name).parent.mkdir(exist_ok=True)
        (directory / name).write_bytes(render(schema))
        out.append(name)
    return out
