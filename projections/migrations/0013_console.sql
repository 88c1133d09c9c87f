-- The operator console (wastream/console, decision 0024): its accounts, sessions and
-- audit trail, and the indexes its pages need at 100,000 conversations and 1,000,000
-- events. The console's own tables are not read models (nothing rebuilds them from a
-- topic); the actions they audit are events on the log (wa.dlq.ops, wa.inbound).

-- Operators: `wastream console add-operator NAME`; password_hash is scrypt
-- ("scrypt$n$r$p$salt_hex$hash_hex"). role: viewer (read-only, numbers masked) or
-- operator (actions, numbers shown).
CREATE TABLE console_operators (
    name           text        PRIMARY KEY,
    password_hash  text        NOT NULL,
    role           text        NOT NULL CHECK (role IN ('viewer', 'operator')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    disabled       boolean     NOT NULL DEFAULT false
);

-- A logged-in browser: the cookie holds the token, only its sha256 is stored.
CREATE TABLE console_sessions (
    token_hash   text        PRIMARY KEY,
    operator     text        NOT NULL REFERENCES console_operators (name) ON DELETE CASCADE,
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at);

-- Every action and every login attempt: who, when, what, on what, why, and the result.
CREATE TABLE console_audit (
    id        bigserial   PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    operator  text        NOT NULL,
    action    text        NOT NULL,
    target    text        NOT NULL DEFAULT '',
    reason    text        NOT NULL DEFAULT '',
    result    jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX console_audit_at_idx ON console_audit (at);

-- The analytics user_hash of each wa_id the console has shown, so that a masked link
-- (/conversations/<user_hash>) finds its conversation without hashing every row.
CREATE TABLE console_user_hashes (
    user_hash  text PRIMARY KEY,
    wa_id      text NOT NULL
);

-- Pages: replies per minute (overview), errored in the last hour (conversations),
-- a conversation's dead letters and recoveries in time order (timeline).
CREATE INDEX IF NOT EXISTS wa_outbound_created_idx ON wa_outbound_messages (created_at);
CREATE INDEX IF NOT EXISTS wa_outbound_failed_idx ON wa_outbound_messages (failed_at)
    WHERE failed_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS wa_dlq_failed_at_idx ON wa_dead_letter_queue (failed_at);
CREATE INDEX IF NOT EXISTS wa_dlq_from_failed_idx ON wa_dead_letter_queue (from_number, failed_at);
-- Conversations by flow (and step), most recent first, without sorting the flow's rows.
CREATE INDEX IF NOT EXISTS chat_state_flow_at_idx ON chat_state (flow, at);
CREATE INDEX IF NOT EXISTS chat_state_flow_step_at_idx ON chat_state (flow, step, at);
