"""Ingress benchmark: bare aiohttp vs the full ingress (real Kafka) vs a seed-style
handler that INSERTs every event into Postgres before answering.

    apt-get install -y wrk      # the load generator; without it a slower Python fallback
    .venv/bin/python -m bench.ingress [--seconds 5] [--concurrency 32] [--with-floor]

Read the ratios with the machine in mind: on the shared 2-core dev box requests/s of
one server moved by 2x between rounds of the same run, so the bench also prints each
server process's CPU per request (steadier, but it leaves out Kafka's and PostgreSQL's).

What limits b/a on single-message bodies (2026-11-29, 2-core dev box, wrk, 32
connections; CPU per request of the server's own process): (a) bare ~100-135 µs;
the floor (aiohttp + the ingress's Kafka sink producing the raw body alone, acked)
~165-250 µs, 0.6-0.7 of (a)'s requests/s; the full ingress ~370-450 µs. Of the
ingress's own cost, ~150 µs is the handler's work with Kafka stubbed out (middleware,
HMAC, parsing, the envelope, metrics, the JSON answer: parsing is the largest part) and
the rest is producing two records per body, the event keyed over 4 partitions, through
aiokafka's pure-Python sender and protocol code. With per-request CPU about 3-4x the
bare handler's, b/a >= 0.5 is out of reach for a single aiohttp + aiokafka process.
"""
