-- The envelope gained profile_name (the user's WhatsApp profile name, from contacts[]).
ALTER TABLE wa_events ADD COLUMN profile_name text;
-- agent_sessions marks sessions first seen mid-way with a negative started_seq until
-- the same batch fixes them; a partial index keeps that fix-up from scanning the table.
CREATE INDEX agent_sessions_unstarted_idx ON agent_sessions (wa_id) WHERE started_seq < 0;
