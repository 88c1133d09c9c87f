"""The ``message_templates`` table from ``wa.templates``, through the real projector and
PostgreSQL: a row per template and language; a status older (by Meta's time) than the
one held is ignored, a replayed change is applied once, category and quality are kept
beside the status."""

from __future__ import annotations

from schemas import topics
from schemas.templates import TemplateChange
from tests.support import projection_data as pd
from tests.support.system import System

ROWS = ("SELECT name, language, status, category, quality, reason, cardinality(event_ids) "
        "FROM message_templates ORDER BY name, language")


def c(eid: str, kind: str, at: int, name: str = "ride_request", lang: str = "en",
      **kw: str) -> tuple[str, TemplateChange]:
    ch = TemplateChange(name=name, language=lang, kind=kind, event_id=eid, meta_ts=at,
                        at="2026-12-02T09:00:00+00:00", **kw)  # type: ignore[arg-type]
    return ch.key.decode(), ch


async def test_message_templates_keeps_the_latest_status_by_meta_time(system: System) -> None:
    await pd.produce(system.bootstrap, system.topic(topics.TEMPLATES), [
        c("e1", "status", 100, status="PENDING"),
        c("e2", "status", 300, status="PAUSED", reason="low quality"),
        c("e3", "status", 200, status="APPROVED"),  # late: Meta's time is before the pause
        c("e2", "status", 300, status="PAUSED", reason="low quality"),  # a replay
        c("e4", "quality", 250, quality="RED"),
        c("e5", "category", 260, category="UTILITY"),
        c("e6", "status", 100, lang="rw_RW", status="APPROVED"),
    ])
    system.start_projector()
    # until all seven records are in (five changes of one row, one of the other)
    await system.wait_rows("SELECT 1 FROM message_templates WHERE cardinality(event_ids) = 5 "
                           "OR language = 'rw_RW'", 2, 30)
    rows = await system.wait_rows(ROWS, 1)
    assert [tuple(r) for r in rows] == [
        ("ride_request", "en", "PAUSED", "UTILITY", "RED", "low quality", 5),
        ("ride_request", "rw_RW", "APPROVED", None, None, None, 1)]
