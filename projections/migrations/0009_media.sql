-- Inbound media (projections/media.py, from wa.media): one row per Meta media id, with
-- what became of its download. 'stored' is final: a later record of the same id (a
-- redrive, a duplicate copy) never downgrades it.
CREATE TABLE IF NOT EXISTS media (
    media_id    text        PRIMARY KEY,
    wa_id       text        NOT NULL,
    event_id    text        NOT NULL,
    kind        text        NOT NULL,
    status      text        NOT NULL,
    mime_type   text        NOT NULL,
    sha256      text,
    size        bigint,
    store_key   text,
    error       jsonb,
    attempts    int         NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS media_wa_id ON media (wa_id);
CREATE INDEX IF NOT EXISTS media_store_key ON media (store_key) WHERE store_key IS NOT NULL;

-- The sender's cache of uploads (streams/media/outbound.py): the Meta media id that a
-- stored object got from POST /{phone-number-id}/media, per business number. Written
-- by the worker, not a projection; a row is replaced when Meta says the id is gone.
CREATE TABLE IF NOT EXISTS media_uploads (
    store_key       text        NOT NULL,
    phone_number_id text        NOT NULL,
    media_id        text        NOT NULL,
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_key, phone_number_id)
);
