"""Our topics: logical names, and how many partitions each gets.

Every topic keyed by a user's ``wa_id`` has the same partition count as
``wa.inbound`` so that the conversation table, the retry tiers and the parked
events of one user all live on the same partition (co-partitioning).
"""

from __future__ import annotations

RAW = "wa.webhooks.raw"
INBOUND = "wa.inbound"
OUTBOUND = "wa.outbound"
STATE = "wa.state"
DOMAIN = "wa.domain"
DELIVERY = "wa.delivery"  # outcomes of outbound sends and inbound statuses, for projections
RECOVERY = "wa.recovery"  # workflow recovery actions (wa_workflow_recovery)
DLQ = "wa.dlq"
# Inbound media messages to download (wa.inbound envelopes, copied by the media tap) and
# what became of each download (schemas.media).
MEDIA_JOBS = "wa.media.jobs"
MEDIA = "wa.media"
DLQ_OPS = "wa.dlq.ops"  # redrive / discard decisions on dead letters
# The latest status, category and quality of each message template (schemas.templates),
# written by the conversation agent from Meta's template webhooks; compacted: every
# worker reads it whole at start (its sender holds what an unapproved template would carry).
TEMPLATES = "wa.templates"
RETRY_PREFIX = "wa.retry."

DEFAULT_RETRY_DELAYS_S: tuple[int, ...] = (60, 120, 240)

# Kept forever: the log of what users sent is the source of truth (replay from the
# beginning is a promise), and the dead letters with the decisions taken on them.
UNLIMITED_RETENTION = frozenset({INBOUND, DLQ, DLQ_OPS})
DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000  # every other topic, unless configured
# Keyed by something other than wa_id (the raw bodies by correlation id): partitions can
# be added to these without moving a user's records away from their state.
NOT_CO_PARTITIONED = frozenset({RAW})


#: Topics kept compacted (the latest record per key) instead of by retention time.
COMPACTED = frozenset({TEMPLATES})


def min_insync_replicas(replication_factor: int) -> int:
    """``min.insync.replicas`` for a replication factor: RF-1 from RF 3 on (one replica may
    be down and acks=all writes still succeed), else 1. The topics and the dev cluster's
    internal topics both follow it."""
    return replication_factor - 1 if replication_factor >= 3 else 1


def retry_topic(delay_s: int) -> str:
    """``wa.retry.1m`` for 60 s, ``wa.retry.90s`` for 90 s."""
    if delay_s % 3600 == 0:
        suffix = f"{delay_s // 3600}h"
    elif delay_s % 60 == 0:
        suffix = f"{delay_s // 60}m"
    else:
        suffix = f"{delay_s}s"
    return f"{RETRY_PREFIX}{suffix}"


def parse_delays(spec: str | None) -> tuple[int, ...]:
    """Parse ``WASTREAM_RETRY_DELAYS`` ("60,120,240" or "1m,2m,4m") into seconds."""
    if not spec:
        return DEFAULT_RETRY_DELAYS_S
    out: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        unit = 1
        if part.endswith("h"):
            unit, part = 3600, part[:-1]
        elif part.endswith("m"):
            unit, part = 60, part[:-1]
        elif part.endswith("s"):
            part = part[:-1]
        out.append(int(part) * unit)
    return tuple(out)


def all_topics(retry_delays_s: tuple[int, ...] = DEFAULT_RETRY_DELAYS_S) -> list[str]:
    """Every logical topic the system uses, retry tiers included."""
    base = [RAW, INBOUND, OUTBOUND, STATE, DOMAIN, DELIVERY, RECOVERY, DLQ, DLQ_OPS, MEDIA_JOBS,
            MEDIA, TEMPLATES]
    return base + [retry_topic(d) for d in retry_delays_s]
