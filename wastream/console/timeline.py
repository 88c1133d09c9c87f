"""One conversation as a timeline: inbound events, retries, replies with their delivery
statuses, state transitions, domain events, dead letters, decisions and recoveries, in
log order.

Each table keeps the time it learnt of its fact; what an event caused (its retries, its
replies, its transition, its domain events) is placed right after that event, whatever
the clocks say, so the page reads in the order the worker handled them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from schemas import topics

PER_KIND = 300  # the most recent items of each kind on one page

# Sub-order of what one event caused, after the event itself.
_RANK = {"inbound": 0, "retry": 1, "transition": 2, "reply": 3, "domain": 4, "dead_letter": 5,
         "recovery": 6}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ANCHORED = frozenset({"transition", "reply", "domain", "recovery"})  # placed after their cause


@dataclass
class Item:
    """One line of the timeline; ``kind`` picks its template, ``data`` its fields."""

    kind: str
    at: datetime | None
    correlation_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None  # the event id this item was caused by
    event_id: str | None = None  # for inbound events: their own id
    sort_at: datetime = _EPOCH
    seq: int = 0
    anchored: bool = False  # placed right after its cause (set by ``order``)


def _json(v: Any) -> Any:
    return orjson.loads(v) if isinstance(v, str | bytes) else v


def describe(ev_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What an inbound event shows as a bubble: text, choice, location, media or a note."""
    mtype = str(payload.get("type") or ev_type.removeprefix("message."))
    if ev_type.startswith("message."):
        if mtype == "text":
            return {"shape": "text", "text": str((payload.get("text") or {}).get("body", ""))}
        if mtype == "interactive":
            inter = payload.get("interactive") or {}
            r = inter.get("list_reply") or inter.get("button_reply") or {}
            return {"shape": "choice", "text": str(r.get("title") or ""),
                    "choice": str(r.get("id") or "")}
        if mtype == "button":
            b = payload.get("button") or {}
            return {"shape": "choice", "text": str(b.get("text") or ""),
                    "choice": str(b.get("payload") or "")}
        if mtype == "location":
            loc = payload.get("location") or {}
            return {"shape": "location", "lat": loc.get("latitude"),
                    "lon": loc.get("longitude"), "text": str(loc.get("name") or "")}
        if mtype in ("image", "audio", "video", "document", "sticker"):
            m = payload.get(mtype) or {}
            return {"shape": "media", "media_kind": mtype, "media_id": str(m.get("id") or ""),
                    "text": str(m.get("caption") or m.get("filename") or "")}
        return {"shape": "note", "text": mtype}
    if ev_type == "wastream.recovery":
        who = payload.get("by")
        return {"shape": "system", "text": ("reset to the menu by " + str(who) if who
                                            else "recovery after a dead letter"),
                "reason": str(payload.get("reason") or "")}
    return {"shape": "system", "text": ev_type}


def reply_text(body: dict[str, Any] | None) -> str:
    """The words of one reply body (text, interactive body, template name)."""
    if not body:
        return ""
    if body.get("type") == "text":
        return str((body.get("text") or {}).get("body", ""))
    if body.get("type") == "interactive":
        inter = body.get("interactive") or {}
        return str((inter.get("body") or {}).get("text", ""))
    if body.get("type") == "template":
        return "template " + str((body.get("template") or {}).get("name", ""))
    return str(body.get("type") or "")


def options(body: dict[str, Any] | None) -> list[str]:
    """The titles of a reply's buttons or list rows."""
    inter = (body or {}).get("interactive") or {}
    action = inter.get("action") or {}
    out = [str((b.get("reply") or {}).get("title", "")) for b in action.get("buttons") or []]
    for sec in action.get("sections") or []:
        out += [str(r.get("title", "")) for r in sec.get("rows") or []]
    return out


async def load(conn: asyncpg.Connection, wa_id: str) -> list[Item]:
    """The timeline of ``wa_id``, oldest first."""
    items: list[Item] = []
    stored = {r["event_id"]: r for r in await conn.fetch(
        "SELECT event_id, store_key, status FROM media WHERE wa_id = $1", wa_id)}
    for r in await conn.fetch(
            "SELECT * FROM (SELECT event_id, type, received_at, correlation_id, payload, "
            "kafka_partition, kafka_offset FROM wa_events WHERE wa_id = $1 "
            f"ORDER BY received_at DESC LIMIT {PER_KIND}) e "
            "WHERE type NOT LIKE 'status.%'", wa_id):
        payload = _json(r["payload"]) or {}
        shape = describe(r["type"], payload)
        if shape["shape"] == "media" and r["event_id"] in stored:
            shape["store_key"] = stored[r["event_id"]]["store_key"]
            shape["media_status"] = stored[r["event_id"]]["status"]
        items.append(Item("inbound", r["received_at"], r["correlation_id"],
                          {"type": r["type"], **shape,
                           "offset": f"{r['kafka_partition']}:{r['kafka_offset']}"},
                          event_id=r["event_id"]))
    replies = await conn.fetch(
        "SELECT outbound_id, wamid, body, in_reply_to, flow, correlation_id, created_at, "
        "status, error_code, error FROM wa_outbound_messages WHERE wa_id = $1 "
        f"ORDER BY created_at DESC NULLS LAST LIMIT {PER_KIND}", wa_id)
    statuses: dict[str, list[asyncpg.Record]] = {}
    if replies:
        ids = [r["outbound_id"] for r in replies]
        wamids = [r["wamid"] for r in replies if r["wamid"]]
        by_wamid = {r["wamid"]: r["outbound_id"] for r in replies if r["wamid"]}
        for d in await conn.fetch(
                "SELECT outbound_key, wamid_key, status, at, error_code FROM wa_delivery_events "
                "WHERE outbound_key = ANY($1::text[]) OR (outbound_key = '' AND "
                "wamid_key = ANY($2::text[])) ORDER BY rank, at", ids, wamids):
            key = d["outbound_key"] or by_wamid.get(d["wamid_key"], "")
            statuses.setdefault(key, []).append(d)
    for r in replies:
        body = _json(r["body"])
        items.append(Item("reply", r["created_at"], r["correlation_id"],
                          {"outbound_id": r["outbound_id"], "text": reply_text(body),
                           "options": options(body), "status": r["status"] or "produced",
                           "error_code": r["error_code"], "flow": r["flow"],
                           "statuses": [{"status": d["status"], "at": d["at"],
                                         "error_code": d["error_code"]}
                                        for d in statuses.get(r["outbound_id"], [])]},
                          parent=r["in_reply_to"]))
    for r in await conn.fetch(
            "SELECT seq, flow, step, previous_flow, previous_step, event_id, at "
            "FROM wa_state_transitions WHERE wa_id = $1 "
            f"ORDER BY seq DESC LIMIT {PER_KIND}", wa_id):
        items.append(Item("transition", r["at"], "", {
            "before": f"{r['previous_flow'] or '∅'}/{r['previous_step'] or '∅'}",
            "after": f"{r['flow']}/{r['step']}", "seq": r["seq"]},
            parent=r["event_id"], seq=int(r["seq"])))
    for r in await conn.fetch(
            "SELECT event_id, name, data, caused_by, at, correlation_id FROM wa_domain_events "
            f"WHERE wa_id = $1 ORDER BY at DESC LIMIT {PER_KIND}", wa_id):
        items.append(Item("domain", r["at"], r["correlation_id"],
                          {"name": r["name"], "data": _json(r["data"])},
                          parent=r["caused_by"]))
    for r in await conn.fetch(
            "SELECT message_id, payload, error_class, error_kind, error_message, retry_count, "
            "status, failed_at, decided_by, decision_reason, decided_at FROM "
            "wa_dead_letter_queue WHERE from_number = $1 "
            f"ORDER BY failed_at DESC LIMIT {PER_KIND}", wa_id):
        payload = _json(r["payload"]) or {}
        items.append(Item("dead_letter", r["failed_at"], str(payload.get("correlation_id") or ""),
                          {"dlq_id": r["message_id"], "error_class": r["error_class"],
                           "error_kind": r["error_kind"], "error_message": r["error_message"],
                           "retries": r["retry_count"], "status": r["status"],
                           "decided_by": r["decided_by"], "reason": r["decision_reason"],
                           "decided_at": r["decided_at"]},
                          parent=str(payload.get("event_id") or "") or None))
    for r in await conn.fetch(
            "SELECT event_id, outbound_id, original_topic, original_partition, "
            "original_offset, tier, delay_s, attempt, error_class, error, correlation_id, at, "
            f"due_at FROM wa_retries WHERE wa_id = $1 ORDER BY at DESC LIMIT {PER_KIND}", wa_id):
        # The offset ties a retry to the wa.inbound record it retries (not a redriven copy).
        inbound = (r["original_topic"] or "").endswith(topics.INBOUND)
        items.append(Item("retry", r["at"], r["correlation_id"],
                          {"attempt": r["attempt"], "tier": r["tier"], "delay_s": r["delay_s"],
                           "error_class": r["error_class"], "error": r["error"],
                           "due_at": r["due_at"], "outbound_id": r["outbound_id"],
                           "offset": (f"{r['original_partition']}:{r['original_offset']}"
                                      if inbound else None)},
                          parent=r["event_id"], seq=int(r["attempt"])))
    for r in await conn.fetch(
            "SELECT recovery_id, recovery_action, status, details, updated_at FROM "
            f"wa_workflow_recovery WHERE conversation_id = $1 ORDER BY updated_at DESC "
            f"LIMIT {PER_KIND}", wa_id):
        items.append(Item("recovery", r["updated_at"], "",
                          {"recovery_id": r["recovery_id"], "action": r["recovery_action"],
                           "status": r["status"], "details": _json(r["details"])},
                          parent=r["recovery_id"]))
    return order(items)


def _cause(i: Item, by_event: dict[str, Item]) -> Item | None:
    """The inbound event ``i`` is placed after, if any. A dead letter keeps its own time
    (a redriven event may fail again much later); so does a retry of anything but the
    event's own wa.inbound record (a redriven copy, a reply the sender retries)."""
    if i.kind == "retry":
        cause = by_event.get(i.parent or "")
        offset = i.data.get("offset")
        return cause if cause is not None and offset and cause.data.get("offset") == offset \
            else None
    return by_event.get(i.parent or "") if i.kind in ANCHORED else None


def order(items: list[Item]) -> list[Item]:
    """Inbound events by time; what handling an event produced (its retries in attempt
    order, then transitions, replies, domain events, recovery records) right after it;
    dead letters, and anything whose cause is not on the page, by their own time."""
    by_event = {i.event_id: i for i in items if i.kind == "inbound" and i.event_id}
    for i in items:
        cause = _cause(i, by_event)
        i.anchored = cause is not None
        i.sort_at = (cause.at if cause is not None else i.at) or _EPOCH
        if cause is not None and not i.correlation_id:
            i.correlation_id = cause.correlation_id  # transitions, recoveries keep none

    def key(i: Item) -> tuple[datetime, int, int, datetime]:
        return (i.sort_at, 1 if i.anchored else 0, _RANK[i.kind] * 1_000_000 + i.seq,
                i.at or _EPOCH)
    return sorted(items, key=key)
