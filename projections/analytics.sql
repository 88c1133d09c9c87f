-- Analytics over the projected tables: plain views, re-created by every
-- `wastream migrate` (and after a replay swap), readable by the role
-- wastream_analytics, which can read NOTHING else in the schema.
--
-- Phone numbers never appear: a user is `user_hash`, the hex HMAC-SHA256 of the
-- wa_id keyed with WASTREAM_ANALYTICS_KEY (table analytics_key, not granted).
-- The views run with their owner's rights, so the role needs no access to the
-- raw tables they read. Days are UTC.

-- The keyed hash of a wa_id (inlined by each view; analytics_key stays private).
CREATE VIEW analytics_user_activity AS
SELECT (e.received_at AT TIME ZONE 'UTC')::date AS day,
       encode(public.hmac(e.wa_id, (SELECT key FROM analytics_key WHERE id = 1), 'sha256'), 'hex')
           AS user_hash,
       e.phone_number_id,
       count(*) AS messages
FROM wa_events e
WHERE e.type LIKE 'message.%'
GROUP BY 1, 2, 3;

-- Daily events by type and business number (phone_number_id is the business's id).
CREATE VIEW analytics_daily_events AS
SELECT (received_at AT TIME ZONE 'UTC')::date AS day, type, phone_number_id, count(*) AS events
FROM wa_events
GROUP BY 1, 2, 3;

-- Daily active users: users who sent at least one message that day.
CREATE VIEW analytics_daily_active_users AS
SELECT (received_at AT TIME ZONE 'UTC')::date AS day, phone_number_id,
       count(DISTINCT wa_id) AS active_users
FROM wa_events
WHERE type LIKE 'message.%'
GROUP BY 1, 2;

-- The domain event types: every typed event the domains declare (their one source is
-- streams/domains/<name>/events.py; this block is generated, and a test fails when
-- it and the declarations differ).
-- BEGIN generated from the domains' events (python -m projections.analytics)
CREATE VIEW analytics_domain_event_types AS
SELECT * FROM (VALUES
    ('broker', 'BrokerAccepted', 1),
    ('broker', 'BrokerDeclined', 1),
    ('broker', 'BrokerRequest', 1),
    ('broker', 'BrokerTimedOut', 1),
    ('broker', 'VendorPaused', 1),
    ('broker', 'VendorRegistered', 1),
    ('broker', 'VendorResumed', 1),
    ('farmer', 'ProduceClosed', 1),
    ('farmer', 'ProduceDeclined', 1),
    ('farmer', 'ProduceInterest', 1),
    ('farmer', 'ProduceListed', 1),
    ('farmer', 'ProduceMatched', 1),
    ('farmer', 'ProduceUpdated', 1),
    ('jobs', 'ApplicantContacted', 1),
    ('jobs', 'ApplicantDeclined', 1),
    ('jobs', 'JobApplied', 1),
    ('jobs', 'JobClosed', 1),
    ('jobs', 'JobExpired', 1),
    ('jobs', 'JobPosted', 1),
    ('rentals', 'RentalContacted', 1),
    ('rentals', 'RentalExpired', 1),
    ('rentals', 'RentalInquiry', 1),
    ('rentals', 'RentalListed', 1),
    ('rentals', 'RentalRemoved', 1),
    ('rentals', 'RentalRenewed', 1),
    ('rentals', 'RentalRented', 1),
    ('rides', 'DriverOffline', 1),
    ('rides', 'DriverOnline', 1),
    ('rides', 'RideAccepted', 1),
    ('rides', 'RideDeclined', 1),
    ('rides', 'RideOffered', 1),
    ('rides', 'RideRequested', 1),
    ('rides', 'RideSearched', 1),
    ('rides', 'RideTimedOut', 1),
    ('rides', 'TripCancelled', 1),
    ('rides', 'TripReminderSent', 1),
    ('rides', 'TripScheduled', 1)
) AS t(domain, name, version);
-- END generated

-- One row per run of a workflow: a run starts when a user enters a flow and ends at
-- the first transition out of it. outcome: completed (a declared domain event of that
-- user during the run, e.g. RideRequested / TripScheduled), expired (left to
-- 'expired'), abandoned (left otherwise), in_progress (not left yet). Resting flows
-- (new, menu, ended, expired) are not workflows.
CREATE VIEW analytics_workflow_runs AS
WITH t AS (
    SELECT wa_id, seq, flow, step, at,
           lead(flow) OVER w AS next_flow, lead(at) OVER w AS next_at,
           CASE WHEN lag(flow) OVER w IS DISTINCT FROM flow THEN 1 ELSE 0 END AS entering
    FROM wa_state_transitions
    WINDOW w AS (PARTITION BY wa_id ORDER BY seq)
), numbered AS (
    SELECT *, sum(entering) OVER (PARTITION BY wa_id ORDER BY seq) AS run_no FROM t
), runs AS (
    SELECT wa_id, run_no, min(flow) AS flow, min(at) AS started_at,
           array_agg(DISTINCT step) AS steps,
           (array_agg(next_flow ORDER BY seq DESC))[1] AS exit_flow,
           (array_agg(next_at ORDER BY seq DESC))[1] AS ended_at
    FROM numbered
    WHERE flow NOT IN ('new', 'menu', 'ended', 'expired')
    GROUP BY wa_id, run_no
)
SELECT encode(public.hmac(r.wa_id, (SELECT key FROM analytics_key WHERE id = 1), 'sha256'), 'hex')
           AS user_hash,
       r.run_no, r.flow, r.started_at, r.ended_at, r.steps,
       CASE WHEN EXISTS (SELECT 1 FROM wa_domain_events d
                         JOIN analytics_domain_event_types k ON k.name = d.name
                         WHERE d.wa_id = r.wa_id AND d.at >= r.started_at
                           AND (r.ended_at IS NULL OR d.at <= r.ended_at)) THEN 'completed'
            WHEN r.exit_flow IS NULL THEN 'in_progress'
            WHEN r.exit_flow = 'expired' THEN 'expired'
            ELSE 'abandoned' END AS outcome
FROM runs r;

-- Per-workflow funnel by day of the run's start: started, each step reached, outcomes.
CREATE VIEW analytics_workflow_funnel AS
SELECT (started_at AT TIME ZONE 'UTC')::date AS day, flow, 'started' AS stage, count(*) AS runs
FROM analytics_workflow_runs GROUP BY 1, 2
UNION ALL
SELECT (started_at AT TIME ZONE 'UTC')::date, flow, 'step:' || s.step, count(*)
FROM analytics_workflow_runs, unnest(steps) AS s(step) GROUP BY 1, 2, 3
UNION ALL
SELECT (started_at AT TIME ZONE 'UTC')::date, flow, outcome, count(*)
FROM analytics_workflow_runs GROUP BY 1, 2, 3;

-- Response latency: inbound message (received by ingress) to the first reply we
-- produced for it (wa_outbound_messages.created_at), per day and workflow, in ms.
CREATE VIEW analytics_response_latency AS
WITH firsts AS (
    SELECT e.received_at,
           (array_agg(o.flow ORDER BY o.created_at))[1] AS flow,
           min(o.created_at) AS first_reply_at
    FROM wa_events e JOIN wa_outbound_messages o ON o.in_reply_to = e.event_id
    WHERE e.type LIKE 'message.%' AND o.created_at IS NOT NULL
    GROUP BY e.event_id, e.received_at
)
SELECT (received_at AT TIME ZONE 'UTC')::date AS day, coalesce(flow, '') AS workflow,
       count(*) AS replies,
       percentile_cont(0.50) WITHIN GROUP (ORDER BY extract(epoch FROM first_reply_at - received_at) * 1000) AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM first_reply_at - received_at) * 1000) AS p95_ms,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM first_reply_at - received_at) * 1000) AS p99_ms
FROM firsts
GROUP BY 1, 2;

-- Outbound delivery funnel per day: how many reached sent, delivered, read; failed.
CREATE VIEW analytics_delivery_funnel AS
SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS messages,
       count(*) FILTER (WHERE status <> 'failed' AND (sent_at IS NOT NULL OR delivered_at IS NOT NULL OR read_at IS NOT NULL)) AS sent,
       count(*) FILTER (WHERE status <> 'failed' AND (delivered_at IS NOT NULL OR read_at IS NOT NULL)) AS delivered,
       count(*) FILTER (WHERE status <> 'failed' AND read_at IS NOT NULL) AS read,
       count(*) FILTER (WHERE status = 'failed') AS failed
FROM wa_outbound_messages
WHERE body IS NOT NULL
GROUP BY 1;

-- Failed outbound messages per day and Meta error code.
CREATE VIEW analytics_delivery_failures AS
SELECT (coalesce(failed_at, created_at) AT TIME ZONE 'UTC')::date AS day,
       coalesce(error_code, 'unknown') AS error_code, count(*) AS failed
FROM wa_outbound_messages
WHERE status = 'failed'
GROUP BY 1, 2;

-- Dead-letter inflow per day and error class, and how many are still open.
CREATE VIEW analytics_dlq_inflow AS
SELECT (failed_at AT TIME ZONE 'UTC')::date AS day, coalesce(error_class, 'unknown') AS error_class,
       coalesce(error_kind, 'unknown') AS error_kind, count(*) AS dead_letters,
       count(*) FILTER (WHERE NOT processed) AS still_open
FROM wa_dead_letter_queue
GROUP BY 1, 2, 3;

-- Age of the open dead letters (seconds, at query time) per error class.
CREATE VIEW analytics_dlq_age AS
SELECT coalesce(error_class, 'unknown') AS error_class, count(*) AS open_dead_letters,
       extract(epoch FROM now() - min(failed_at)) AS oldest_age_s,
       extract(epoch FROM avg(now() - failed_at)) AS avg_age_s
FROM wa_dead_letter_queue
WHERE NOT processed
GROUP BY 1;

-- Jobs and rentals (projections/jobs.py, projections/rentals.py). No phone numbers:
-- these views count listings and applications, they name no user.
-- Listings posted per day, by domain.
CREATE VIEW analytics_listing_posts_per_day AS
SELECT (posted_at AT TIME ZONE 'UTC')::date AS day, 'jobs' AS domain, count(*) AS posts
FROM jobs GROUP BY 1
UNION ALL
SELECT (posted_at AT TIME ZONE 'UTC')::date AS day, 'rentals' AS domain, count(*) AS posts
FROM rental_listings GROUP BY 1;

-- Applications per job (the job's title, never its poster), and their answers.
CREATE VIEW analytics_job_applications AS
SELECT j.job_id, (j.posted_at AT TIME ZONE 'UTC')::date AS posted_day, j.title, j.status,
       count(a.applicant) FILTER (WHERE a.applied_at IS NOT NULL) AS applications,
       count(*) FILTER (WHERE a.answer = 'contacted') AS contacted,
       count(*) FILTER (WHERE a.answer = 'declined') AS declined
FROM jobs j LEFT JOIN job_applications a ON a.job_id = j.job_id
GROUP BY j.job_id, j.posted_at, j.title, j.status;

-- Median time from posting to the first application (seconds), by the day posted,
-- over the jobs that had one.
CREATE VIEW analytics_job_time_to_first_application AS
SELECT (j.posted_at AT TIME ZONE 'UTC')::date AS posted_day, count(*) AS jobs_applied_to,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM f.first_at - j.posted_at)) AS median_s
FROM jobs j
JOIN (SELECT job_id, min(applied_at) AS first_at FROM job_applications
      WHERE applied_at IS NOT NULL GROUP BY job_id) f ON f.job_id = j.job_id
GROUP BY 1;

-- Rental listings by district and monthly price band (RWF), and how many are open.
CREATE VIEW analytics_rentals_by_price_band AS
SELECT district,
       CASE WHEN price < 100000 THEN 'a: under 100k'
            WHEN price < 300000 THEN 'b: 100k-300k'
            WHEN price < 600000 THEN 'c: 300k-600k'
            WHEN price < 1000000 THEN 'd: 600k-1m'
            ELSE 'e: 1m and more' END AS price_band,
       count(*) AS listings,
       count(*) FILTER (WHERE status = 'open' AND expires_at > now()) AS open_listings
FROM rental_listings
GROUP BY 1, 2;
-- The district of every place a need may name (a Kigali sector lies in its district);
-- generated from streams/places, and a test fails when it and the gazetteer differ.
-- BEGIN generated from the gazetteer (python -m projections.analytics)
CREATE VIEW analytics_places AS
SELECT * FROM (VALUES
    ('Bugesera', 'Bugesera'),
    ('Bumbogo', 'Gasabo'),
    ('Burera', 'Burera'),
    ('Gahanga', 'Kicukiro'),
    ('Gakenke', 'Gakenke'),
    ('Gasabo', 'Gasabo'),
    ('Gatenga', 'Kicukiro'),
    ('Gatsata', 'Gasabo'),
    ('Gatsibo', 'Gatsibo'),
    ('Gicumbi', 'Gicumbi'),
    ('Gikomero', 'Gasabo'),
    ('Gikondo', 'Kicukiro'),
    ('Gisagara', 'Gisagara'),
    ('Gisozi', 'Gasabo'),
    ('Gitega', 'Nyarugenge'),
    ('Huye', 'Huye'),
    ('Jabana', 'Gasabo'),
    ('Jali', 'Gasabo'),
    ('Kacyiru', 'Gasabo'),
    ('Kagarama', 'Kicukiro'),
    ('Kamonyi', 'Kamonyi'),
    ('Kanombe', 'Kicukiro'),
    ('Kanyinya', 'Nyarugenge'),
    ('Karongi', 'Karongi'),
    ('Kayonza', 'Kayonza'),
    ('Kicukiro', 'Kicukiro'),
    ('Kigali', 'Nyarugenge'),
    ('Kigarama', 'Kicukiro'),
    ('Kimihurura', 'Gasabo'),
    ('Kimironko', 'Gasabo'),
    ('Kimisagara', 'Nyarugenge'),
    ('Kinyinya', 'Gasabo'),
    ('Kirehe', 'Kirehe'),
    ('Mageragere', 'Nyarugenge'),
    ('Masaka', 'Kicukiro'),
    ('Muhanga', 'Muhanga'),
    ('Muhima', 'Nyarugenge'),
    ('Musanze', 'Musanze'),
    ('Ndera', 'Gasabo'),
    ('Nduba', 'Gasabo'),
    ('Ngoma', 'Ngoma'),
    ('Ngororero', 'Ngororero'),
    ('Niboye', 'Kicukiro'),
    ('Nyabihu', 'Nyabihu'),
    ('Nyagatare', 'Nyagatare'),
    ('Nyakabanda', 'Nyarugenge'),
    ('Nyamagabe', 'Nyamagabe'),
    ('Nyamasheke', 'Nyamasheke'),
    ('Nyamirambo', 'Nyarugenge'),
    ('Nyanza', 'Nyanza'),
    ('Nyarugenge', 'Nyarugenge'),
    ('Nyarugunga', 'Kicukiro'),
    ('Nyaruguru', 'Nyaruguru'),
    ('Remera', 'Gasabo'),
    ('Rubavu', 'Rubavu'),
    ('Ruhango', 'Ruhango'),
    ('Rulindo', 'Rulindo'),
    ('Rusizi', 'Rusizi'),
    ('Rusororo', 'Gasabo'),
    ('Rutsiro', 'Rutsiro'),
    ('Rutunga', 'Gasabo'),
    ('Rwamagana', 'Rwamagana'),
    ('Rwezamenyo', 'Nyarugenge')
) AS t(place, district);
-- END generated places

-- The agents (general broker, farmer market): one row per session, from agent_sessions.
-- Needs of the general broker per day, service category and district (a need whose
-- place was a shared location has no district), and how they ended.
CREATE VIEW analytics_broker_needs AS
SELECT (s.started_at AT TIME ZONE 'UTC')::date AS day,
       s.understood->>'category' AS category, p.district,
       count(*) AS needs,
       count(*) FILTER (WHERE s.outcome IN ('requested', 'connected')) AS sent_to_vendor,
       count(*) FILTER (WHERE s.outcome = 'connected') AS connected
FROM agent_sessions s
LEFT JOIN analytics_places p ON p.place = s.understood->>'place'
WHERE s.flow = 'general_broker' AND s.understood->>'category' IS NOT NULL
GROUP BY 1, 2, 3;

-- Match rate: of the requests sent to vendors (broker) and the interests sent to
-- farmers (farmer market), how many were accepted, per day and category or crop.
CREATE VIEW analytics_match_rate AS
SELECT (requested_at AT TIME ZONE 'UTC')::date AS day, 'broker' AS market,
       category AS kind, count(*) AS asked,
       count(*) FILTER (WHERE status = 'accepted') AS matched,
       round(count(*) FILTER (WHERE status = 'accepted')::numeric / count(*), 3) AS match_rate
FROM broker_requests GROUP BY 1, 2, 3
UNION ALL
SELECT (interested_at AT TIME ZONE 'UTC')::date, 'farmer', crop, count(*),
       count(*) FILTER (WHERE status = 'matched'),
       round(count(*) FILTER (WHERE status = 'matched')::numeric / count(*), 3)
FROM produce_matches GROUP BY 1, 2, 3;

-- Time to a vendor's answer (accepted or declined; timeouts are not answers), per day
-- and category: p50/p95 seconds.
CREATE VIEW analytics_vendor_answer_time AS
SELECT (requested_at AT TIME ZONE 'UTC')::date AS day, category, count(*) AS answers,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - requested_at))
           AS p50_s,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - requested_at))
           AS p95_s
FROM broker_requests
WHERE status IN ('accepted', 'declined') AND answered_at IS NOT NULL AND category <> ''
GROUP BY 1, 2;

-- The agent's backend mix and latency: per day, agent flow and backend (rules, http)
-- of the session's last turn, the sessions and the p50/p95 of that turn's latency.
CREATE VIEW analytics_agent_backends AS
SELECT (updated_at AT TIME ZONE 'UTC')::date AS day, flow, backend, count(*) AS sessions,
       sum(turns) AS turns,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_ms
FROM agent_sessions
WHERE backend IS NOT NULL
GROUP BY 1, 2, 3;

-- One row per agent session, users hashed: what was understood and how it ended.
CREATE VIEW analytics_agent_sessions AS
SELECT encode(public.hmac(wa_id, (SELECT key FROM analytics_key WHERE id = 1), 'sha256'), 'hex')
           AS user_hash,
       flow, status, started_at, updated_at, ended_at, turns, backend, latency_ms, outcome,
       understood->>'intent' AS intent, understood->>'category' AS category,
       understood->>'crop' AS crop, understood->>'place' AS place
FROM agent_sessions;

-- Produce on offer per day of listing, crop and district, and how much was matched.
CREATE VIEW analytics_produce_listings AS
SELECT (l.listed_at AT TIME ZONE 'UTC')::date AS day, l.crop, l.unit,
       count(*) AS listings, sum(l.quantity) AS quantity,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY l.price) AS median_price,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM produce_matches m
                                      WHERE m.listing_id = l.listing_id
                                        AND m.status = 'matched')) AS matched
FROM produce_listings l
GROUP BY 1, 2, 3;
