"""Records of our topics for projection tests, built with the schemas' dataclasses,
and small helpers to produce them and to dump projected tables."""

from __future__ import annotations

from typing import Any

from schemas.envelope import InboundEvent
from schemas.state import StateTransition
from tests.support import kafka as tk

PNID = "106540352242922"


def inbound(i: int, wa_id: str, *, type_: str = "message.text", text: str = "hi",
            payload: dict[str, Any] | None = None, event_id: str | None = None,
            received_at: str = "2026-01-05T10:00:00+00:00", ts: int = 1767607200,
            profile_name: str | None = None) -> InboundEvent:
    """A wa.inbound envelope; ``i`` makes the default wamid unique."""
    eid = event_id or f"wamid.T{i:08d}"
    return InboundEvent(
        event_id=eid, type=type_, wa_id=wa_id, phone_number_id=PNID, timestamp=ts,
        received_at=received_at, correlation_id=f"corr-{i}",
        payload=payload if payload is not None else {
            "from": wa_id, "id": eid, "timestamp": str(ts), "type": "text", "text": {"body": text}},
        profile_name=profile_name,
    )


def state(wa_id: str, seq: int, flow: str, step: str, *, previous: tuple[str, str] | None = None,
          data: dict[str, Any] | None = None,
          at: str = "2026-01-05T10:00:00+00:00") -> StateTransition:
    return StateTransition(
        wa_id=wa_id, seq=seq, event_id=f"wamid.S{wa_id}{seq}", flow=flow, step=step,
        previous_flow=previous[0] if previous else None,
        previous_step=previous[1] if previous else None, data=data or {}, at=at,
        correlation_id=f"c{seq}")


async def produce(bootstrap: str, topic: str, records: list[tuple[str, Any]],
                  headers: list[tuple[str, bytes]] | None = None) -> None:
    """Produce (key, record-with-to_bytes) pairs to a real topic."""
    await tk.produce(bootstrap, topic, [(k.encode(), r.to_bytes()) for k, r in records],
                     headers=headers)


async def dump(conn: Any, table: str, order_by: str,
               exclude: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    """Every row of ``table`` as tuples (minus ``exclude`` columns), in a stable order."""
    cols = [r["column_name"] for r in await conn.fetch(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        table) if r["column_name"] not in exclude]
    rows = await conn.fetch(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order_by}")
    return [tuple(r) for r in rows]
