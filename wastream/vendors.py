"""``wastream vendors import FILE.csv`` (see ``streams.domains.broker.imports``)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaProducer

from schemas import topics
from streams.domains.broker.imports import CsvRefused, event, parse
from wastream.config import Settings
from wastream.config.kafka import client_args


async def _send(settings: Settings, rows: list[dict[str, object]]) -> None:
    producer = AIOKafkaProducer(**client_args(settings.kafka),
                                acks="all", enable_idempotence=True)
    await producer.start()
    try:
        now = time.time()
        futures = [await producer.send(settings.topic(topics.INBOUND), ev.to_bytes(),
                                       key=ev.wa_id.encode())
                   for ev in (event(r, now) for r in rows)]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def run_import(path: str) -> int:
    """Import the file; exit code 0 when every row went in, 1 when some were bad, 2 when
    the file was refused (nothing written)."""
    try:
        parsed = parse(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, CsvRefused) as exc:
        print(f"wastream vendors import: {path}: {exc}; nothing imported", file=sys.stderr)
        return 2
    for err in parsed.errors:
        print(f"{path}: {err}", file=sys.stderr)
    asyncio.run(_send(Settings.from_env(), parsed.rows))
    print(f"{len(parsed.rows)} vendors sent, {len(parsed.errors)} bad rows skipped")
    return 1 if parsed.errors else 0
