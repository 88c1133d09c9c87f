-- Message templates (projections/templates.py, from wa.templates): one row per template
-- and language with its latest status, category and quality as Meta's webhooks (or
-- `wastream templates sync`) reported them. A change older (by Meta's time) than the one
-- held is ignored; event_ids keeps the ids of the last 20 changes applied (a replayed
-- record is recognised and applied once).
CREATE TABLE IF NOT EXISTS message_templates (
    name        text        NOT NULL,
    language    text        NOT NULL,
    status      text,
    category    text,
    quality     text,
    reason      text,
    template_id text,
    waba_id     text,
    status_at   timestamptz,
    updated_at  timestamptz NOT NULL,
    event_ids   text[]      NOT NULL DEFAULT '{}',
    PRIMARY KEY (name, language)
);
CREATE INDEX IF NOT EXISTS message_templates_status ON message_templates (status);

-- The sender's ledger keeps the template version of a free-form message Meta accepted
-- (streams/delivery/ledger.py), found by its wamid when Meta reports 131047 later in a
-- `failed` status webhook: the template then goes instead, once (decision 0015).
ALTER TABLE wa_sender_ledger ADD COLUMN IF NOT EXISTS template jsonb;
CREATE INDEX IF NOT EXISTS wa_sender_ledger_wamid_template ON wa_sender_ledger (wamid)
    WHERE template IS NOT NULL;
