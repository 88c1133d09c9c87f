-- The outbound sender's ledger (streams/ledger.py): each outbound_id is claimed
-- ('sending') before its POST to the Graph API and settled after it ('accepted' with
-- the wamid, 'retry', 'failed'), so that a message is sent at most once across restarts.
-- Before this migration the sender created the table itself, hence IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS wa_sender_ledger (
    outbound_id text        PRIMARY KEY,
    status      text        NOT NULL,
    owner       text        NOT NULL,
    wamid       text,
    attempts    int         NOT NULL DEFAULT 1,
    error       jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
