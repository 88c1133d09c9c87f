"""Kafka header names shared by every producer and consumer of our topics.

Header values are UTF-8 bytes. The failure headers are written by the retry router
(``streams/failure.py``) on ``wa.retry.*`` and ``wa.dlq`` records and read by the
tier consumers, the DLQ tools and the ``wa_dead_letter_queue`` projection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

CORRELATION_ID = "correlation_id"
RECEIVED_AT = "wastream.received_at"
# The X-Request-Id a client sent with a webhook, on its wa.webhooks.raw record (the
# record's key and correlation id are the ingress's own).
CLIENT_REQUEST_ID = "wastream.client_request_id"
# How many updates of a wa.webhooks.raw body the ingress dropped as older than the
# dedupe window (absent when none was).
STALE_UPDATES = "wastream.stale_updates"

ORIGINAL_TOPIC = "wastream.original_topic"
ORIGINAL_PARTITION = "wastream.original_partition"
ORIGINAL_OFFSET = "wastream.original_offset"
ATTEMPT = "wastream.attempt"  # 1 for the first retry
DUE_AT = "wastream.due_at"  # epoch milliseconds when a retry record may run
ERROR_CLASS = "wastream.error_class"  # e.g. "streams.failure.errors.GraphRateLimited"
ERROR_KIND = "wastream.error_kind"  # "transient" | "permanent"
ERROR_MESSAGE = "wastream.error_message"
ERROR_TRACE = "wastream.error_trace"
FAILED_AT = "wastream.failed_at"  # ISO 8601
# "<name>:<language>" of the template a message was held for (a template_unavailable
# dead letter, released when that template is approved; decision 0015).
HELD_FOR = "wastream.held_for"
DLQ_ID = (
    "wastream.dlq_id"  # stable id of a dead letter: "<topic>:<partition>:<offset>" of its origin
)
REDRIVE_OF = "wastream.redrive_of"  # set on a record re-published by a redrive
# The token of a record re-published to its original topic by a retry tier (or of a
# workflow-recovery event): the failure router runs it only while its key waits for
# exactly this token (streams/failure.py), so duplicates of a re-publish are dropped.
HEAD = "wastream.head"
TIER = "wastream.tier"  # the retry topic a re-published record came from
# The dlq id ("<topic>:<partition>:<offset>") of the record whose place in its key's
# order this record takes: a workflow-recovery event stands where the dead letter it
# recovers from was read (streams/failure/router.py, ``place``).
IN_PLACE_OF = "wastream.in_place_of"


def to_headers(values: Mapping[str, str | int | None]) -> list[tuple[str, bytes]]:
    """Kafka header list from a mapping, skipping None."""
    return [(k, str(v).encode()) for k, v in values.items() if v is not None]


def from_headers(
    headers: Iterable[tuple[str, bytes]] | Mapping[str, bytes] | None,
) -> dict[str, str]:
    """Decode a Kafka header list (or Faust's mapping) into a str → str dict; last one wins."""
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {
        k: (v.decode("utf-8", "replace") if isinstance(v, bytes | bytearray) else str(v))
        for k, v in items
    }
