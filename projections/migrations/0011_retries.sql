-- Retries (projections/retries.py, from every wa.retry.<delay> tier): one row per record
-- the failure router sent to a tier, kept after the retry succeeds, so that the console's
-- timeline can show it. retry_id is the router's head token ("<dlq id>@<attempt>@<due
-- ms>"): a duplicate of a tier record is one row, a hold at the same attempt another.
CREATE TABLE IF NOT EXISTS wa_retries (
    retry_id            text        PRIMARY KEY,
    wa_id               text        NOT NULL,
    event_id            text,        -- the inbound event retried, or the one a reply answers
    outbound_id         text,        -- a reply the sender retried
    original_topic      text,
    original_partition  int,
    original_offset     bigint,
    tier                text        NOT NULL,
    delay_s             int,
    attempt             int         NOT NULL,
    error_class         text,
    error_kind          text,
    error               text        NOT NULL DEFAULT '',  -- the start of the message only
    correlation_id      text        NOT NULL DEFAULT '',
    at                  timestamptz NOT NULL,
    due_at              timestamptz,
    kafka_partition     int         NOT NULL,
    kafka_offset        bigint      NOT NULL
);
-- The console's timeline: a conversation's retries in time order.
CREATE INDEX IF NOT EXISTS wa_retries_wa_id_at_idx ON wa_retries (wa_id, at);
