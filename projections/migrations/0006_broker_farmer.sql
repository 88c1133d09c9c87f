-- The general broker, the farmer market, and agent_sessions fed by their flows.

-- What the agent's session says (from wa.state data: session, outcome). outcome is the
-- flow's own word (requested, connected, listed, interested, matched) or, for a
-- session that ended without one, 'abandoned'.
ALTER TABLE agent_sessions
    ADD COLUMN turns       integer NOT NULL DEFAULT 0,
    ADD COLUMN understood  jsonb,
    ADD COLUMN backend     text,
    ADD COLUMN latency_ms  integer,
    ADD COLUMN outcome     text;

-- Vendors of the general broker (VendorRegistered/Updated/Paused/Resumed on wa.domain);
-- one business per WhatsApp number.
CREATE TABLE vendors (
    vendor_wa_id   text        PRIMARY KEY,
    name           text        NOT NULL,
    categories     text[]      NOT NULL,
    lat            double precision NOT NULL,
    lon            double precision NOT NULL,
    district       text,
    status         text        NOT NULL DEFAULT 'active',   -- active | paused
    source         text        NOT NULL,                    -- whatsapp | import
    registered_at  timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    last_event_id  text        NOT NULL
);
CREATE INDEX vendors_category_idx ON vendors USING gin (categories);

-- A user's need sent to one vendor, and the vendor's answer.
CREATE TABLE broker_requests (
    request_id     text        PRIMARY KEY,
    user_wa_id     text        NOT NULL,
    vendor_wa_id   text        NOT NULL,
    category       text        NOT NULL,
    place          text,
    district       text,
    km             double precision,
    status         text        NOT NULL,  -- requested | accepted | declined | timed_out
    requested_at   timestamptz NOT NULL,
    answered_at    timestamptz
);
CREATE INDEX broker_requests_category_idx ON broker_requests (category, requested_at);

-- A farmer's produce on offer (ProduceListed, ProduceUpdated, ProduceClosed).
CREATE TABLE produce_listings (
    listing_id     text        PRIMARY KEY,
    farmer_wa_id   text        NOT NULL,
    crop           text        NOT NULL,
    quantity       double precision NOT NULL,
    unit           text        NOT NULL,
    price          bigint      NOT NULL,   -- RWF per unit
    lat            double precision NOT NULL,
    lon            double precision NOT NULL,
    harvest_date   date,
    status         text        NOT NULL DEFAULT 'open',   -- open | closed
    listed_at      timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX produce_listings_crop_idx ON produce_listings (crop, status, expires_at);

-- A buyer's interest in a listing and the farmer's answer.
CREATE TABLE produce_matches (
    interest_id    text        PRIMARY KEY,
    listing_id     text        NOT NULL,
    buyer_wa_id    text        NOT NULL,
    farmer_wa_id   text        NOT NULL,
    crop           text        NOT NULL,
    km             double precision,
    status         text        NOT NULL,  -- interested | matched | declined
    interested_at  timestamptz NOT NULL,
    answered_at    timestamptz
);
CREATE INDEX produce_matches_listing_idx ON produce_matches (listing_id);
