-- Core read models of wastream. Every table lives in the projections schema
-- (search_path); every row is derived from a topic and can be rebuilt from it.

-- Exactly-once bookkeeping: the next offset to read, written in the same
-- transaction as the rows it produced.
CREATE TABLE projection_offsets (
    projection  text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    "offset"    bigint      NOT NULL,   -- next offset to consume
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, topic, partition)
);

-- wa.inbound: one row per inbound update (message, status, error, account update…).
CREATE TABLE wa_events (
    event_id         text        PRIMARY KEY,
    type             text        NOT NULL,
    wa_id            text        NOT NULL,
    phone_number_id  text,
    waba_id          text,
    field            text        NOT NULL DEFAULT 'messages',
    meta_timestamp   timestamptz,          -- Meta's timestamp
    received_at      timestamptz NOT NULL,
    correlation_id   text        NOT NULL DEFAULT '',
    schema_version   integer     NOT NULL DEFAULT 1,
    payload          jsonb       NOT NULL,
    extra            jsonb       NOT NULL DEFAULT '{}',
    kafka_partition  integer     NOT NULL,
    kafka_offset     bigint      NOT NULL
);
CREATE INDEX wa_events_wa_id_idx ON wa_events (wa_id, received_at);
CREATE INDEX wa_events_type_idx ON wa_events (type, received_at);
CREATE INDEX wa_events_received_idx ON wa_events (received_at);
CREATE INDEX wa_events_correlation_idx ON wa_events (correlation_id);

-- wa.webhooks.raw: the raw POST bodies, keyed by correlation id.
CREATE TABLE webhook_logs (
    correlation_id   text        PRIMARY KEY,
    received_at      timestamptz NOT NULL,
    body             bytea       NOT NULL,
    payload          jsonb,                -- body as JSON when it parses
    headers          jsonb       NOT NULL DEFAULT '{}',
    kafka_partition  integer     NOT NULL,
    kafka_offset     bigint      NOT NULL
);
CREATE INDEX webhook_logs_received_idx ON webhook_logs (received_at);

-- wa.state: the current conversation state per user (latest seq wins).
CREATE TABLE chat_state (
    wa_id           text        PRIMARY KEY,
    seq             bigint      NOT NULL,
    flow            text        NOT NULL,
    step            text        NOT NULL,
    previous_flow   text,
    previous_step   text,
    language        text        NOT NULL DEFAULT 'en',
    data            jsonb       NOT NULL DEFAULT '{}',
    event_id        text        NOT NULL,
    at              timestamptz,
    correlation_id  text        NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_state_flow_idx ON chat_state (flow, step);
CREATE INDEX chat_state_at_idx ON chat_state (at);

-- wa.state: every transition (the history the funnels are computed from).
CREATE TABLE wa_state_transitions (
    wa_id           text        NOT NULL,
    seq             bigint      NOT NULL,
    flow            text        NOT NULL,
    step            text        NOT NULL,
    previous_flow   text,
    previous_step   text,
    language        text        NOT NULL DEFAULT 'en',
    event_id        text        NOT NULL,
    at              timestamptz,
    PRIMARY KEY (wa_id, seq)
);
CREATE INDEX wa_state_transitions_flow_idx ON wa_state_transitions (flow, at);

-- wa.inbound interactive / button replies and what they answered.
CREATE TABLE wa_interactions (
    event_id            text        PRIMARY KEY,
    wa_id               text        NOT NULL,
    phone_number_id     text,
    interaction_type    text        NOT NULL,   -- button_reply | list_reply | button | nfm_reply | …
    reply_id            text,
    reply_title         text,
    reply_description   text,
    context_message_id  text,                   -- the wamid of the message replied to
    context_from        text,
    meta_timestamp      timestamptz,
    received_at         timestamptz NOT NULL,
    payload             jsonb       NOT NULL
);
CREATE INDEX wa_interactions_wa_id_idx ON wa_interactions (wa_id, received_at);
CREATE INDEX wa_interactions_context_idx ON wa_interactions (context_message_id);
CREATE INDEX wa_interactions_reply_idx ON wa_interactions (reply_id);

-- wa.state records of agent flows: what the agent understood so far.
CREATE TABLE agent_sessions (
    wa_id          text        NOT NULL,
    flow           text        NOT NULL,
    status         text        NOT NULL DEFAULT 'active',   -- active | ended
    step           text        NOT NULL,
    data           jsonb       NOT NULL DEFAULT '{}',
    language       text        NOT NULL DEFAULT 'en',
    started_seq    bigint      NOT NULL,
    seq            bigint      NOT NULL,
    started_at     timestamptz,
    updated_at     timestamptz,
    ended_at       timestamptz,
    PRIMARY KEY (wa_id, flow)
);
CREATE INDEX agent_sessions_status_idx ON agent_sessions (flow, status, updated_at);

-- wa.outbound + wa.delivery: each reply and how far it got.
CREATE TABLE wa_outbound_messages (
    outbound_id      text        PRIMARY KEY,
    wa_id            text        NOT NULL,
    phone_number_id  text,
    message_type     text,
    body             jsonb,                 -- NULL until the wa.outbound record is projected
    in_reply_to      text,
    flow             text,
    correlation_id   text        NOT NULL DEFAULT '',
    created_at       timestamptz,
    wamid            text,
    status           text,                  -- highest rank seen (schemas.delivery.rank)
    status_rank      integer     NOT NULL DEFAULT -1,
    status_at        timestamptz,
    accepted_at      timestamptz,
    sent_at          timestamptz,
    delivered_at     timestamptz,
    read_at          timestamptz,
    failed_at        timestamptz,
    error            jsonb,
    error_code       text
);
CREATE INDEX wa_outbound_wa_id_idx ON wa_outbound_messages (wa_id, created_at);
CREATE INDEX wa_outbound_wamid_idx ON wa_outbound_messages (wamid);
CREATE INDEX wa_outbound_status_idx ON wa_outbound_messages (status, created_at);
CREATE INDEX wa_outbound_in_reply_idx ON wa_outbound_messages (in_reply_to);

-- wa.delivery: every distinct (message, status) update, kept so that an update that
-- arrives before its message (or names only Meta's wamid) is applied once it can be.
CREATE TABLE wa_delivery_events (
    outbound_key  text        NOT NULL,     -- outbound_id, or '' when only the wamid is known
    wamid_key     text        NOT NULL,     -- wamid, or ''
    status        text        NOT NULL,
    wa_id         text        NOT NULL,
    rank          integer     NOT NULL,
    at            timestamptz,
    source        text        NOT NULL DEFAULT 'sender',
    error         jsonb,
    error_code    text,
    PRIMARY KEY (outbound_key, wamid_key, status)
);
CREATE INDEX wa_delivery_events_wamid_idx ON wa_delivery_events (wamid_key) WHERE wamid_key <> '';

-- wa.dlq + wa.dlq.ops: dead letters, with the seed's columns.
CREATE TABLE wa_dead_letter_queue (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id          text        UNIQUE NOT NULL,   -- the DLQ id header
    from_number         text        NOT NULL,          -- the record's key (wa_id)
    payload             jsonb       NOT NULL,          -- the value as JSON (or {"raw_base64": …})
    error_message       text,
    retry_count         integer     DEFAULT 0,
    max_retries         integer     DEFAULT 3,
    next_retry_at       timestamptz,
    processed           boolean     DEFAULT false,
    status              text        NOT NULL DEFAULT 'open',   -- open | redrive | discard
    record_key          bytea,
    record_value        bytea,
    headers             jsonb       NOT NULL DEFAULT '{}',
    original_topic      text,
    original_partition  integer,
    original_offset     bigint,
    error_class         text,
    error_kind          text,
    error_trace         text,
    failed_at           timestamptz,
    decided_by          text,
    decision_reason     text,
    decided_at          timestamptz,
    dlq_partition       integer     NOT NULL,
    dlq_offset          bigint      NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wa_dlq_open_idx ON wa_dead_letter_queue (processed, failed_at);
CREATE INDEX wa_dlq_from_idx ON wa_dead_letter_queue (from_number);
CREATE INDEX wa_dlq_error_class_idx ON wa_dead_letter_queue (error_class);

-- wa.dlq.ops decisions (first decision per dead letter wins: redrive happens once).
CREATE TABLE wa_dlq_decisions (
    dlq_id   text        PRIMARY KEY,
    action   text        NOT NULL,
    by       text        NOT NULL,
    reason   text        NOT NULL DEFAULT '',
    at       timestamptz
);

-- wa.recovery: workflow recovery after a dead letter, with the seed's columns.
CREATE TABLE wa_workflow_recovery (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    recovery_id      text        UNIQUE NOT NULL,
    conversation_id  text        NOT NULL,
    workflow_type    text        NOT NULL,
    recovery_action  text        NOT NULL,
    status           text        CHECK (status IN ('pending', 'in_progress', 'completed', 'failed')),
    details          jsonb,
    created_at       timestamptz,
    updated_at       timestamptz
);
CREATE INDEX wa_recovery_conversation_idx ON wa_workflow_recovery (conversation_id);
CREATE INDEX wa_recovery_status_idx ON wa_workflow_recovery (status, updated_at);

-- wa.domain: business facts.
CREATE TABLE wa_domain_events (
    event_id        text        PRIMARY KEY,
    name            text        NOT NULL,
    wa_id           text        NOT NULL,
    data            jsonb       NOT NULL DEFAULT '{}',
    caused_by       text,
    at              timestamptz,
    correlation_id  text        NOT NULL DEFAULT ''
);
CREATE INDEX wa_domain_name_idx ON wa_domain_events (name, at);
CREATE INDEX wa_domain_wa_id_idx ON wa_domain_events (wa_id, at);

-- The key of the analytics keyed hash (never granted to the analytics role).
CREATE TABLE analytics_key (
    id   integer PRIMARY KEY CHECK (id = 1),
    key  text    NOT NULL
);
