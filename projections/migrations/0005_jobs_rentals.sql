-- The jobs and rentals read models (projections/jobs.py, projections/rentals.py), folded
-- from their domains' events on wa.domain. A listing's own events all come from its
-- owner's conversation (one key, one partition: in order); an application or inquiry
-- is written by the seeker's and answered by the owner's, which may be projected in
-- either order, so those rows are upserted from both sides.
CREATE TABLE jobs (
    job_id      text             PRIMARY KEY,
    poster      text             NOT NULL,
    title       text             NOT NULL,
    pay         text             NOT NULL,
    pay_amount  bigint,
    pay_period  text,
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    place       text             NOT NULL DEFAULT '',
    description text             NOT NULL DEFAULT '',
    status      text             NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'closed', 'expired')),
    posted_at   timestamptz      NOT NULL,
    expires_at  timestamptz      NOT NULL,
    ended_at    timestamptz
);
CREATE INDEX jobs_posted_at ON jobs (posted_at);

CREATE TABLE job_applications (
    job_id      text        NOT NULL,
    applicant   text        NOT NULL,
    poster      text        NOT NULL,
    name        text,
    applied_at  timestamptz,
    answer      text        CHECK (answer IN ('contacted', 'declined')),
    answered_at timestamptz,
    PRIMARY KEY (job_id, applicant)
);

CREATE TABLE rental_listings (
    listing_id  text             PRIMARY KEY,
    owner       text             NOT NULL,
    kind        text             NOT NULL,
    bedrooms    int              NOT NULL,
    price       bigint           NOT NULL,
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    place       text             NOT NULL DEFAULT '',
    district    text             NOT NULL DEFAULT '',
    photo       text             NOT NULL DEFAULT '',
    status      text             NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'rented', 'removed', 'expired')),
    posted_at   timestamptz      NOT NULL,
    expires_at  timestamptz      NOT NULL,
    renewals    int              NOT NULL DEFAULT 0,
    ended_at    timestamptz
);
CREATE INDEX rental_listings_posted_at ON rental_listings (posted_at);

CREATE TABLE rental_inquiries (
    listing_id   text        NOT NULL,
    seeker       text        NOT NULL,
    owner        text        NOT NULL,
    name         text,
    asked_at     timestamptz,
    contacted_at timestamptz,
    PRIMARY KEY (listing_id, seeker)
);
