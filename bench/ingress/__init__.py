"""Ingress benchmark: bare aiohttp vs the full ingress (real Kafka) vs a seed-style
handler that INSERTs every event into Postgres before answering.

    .venv/bin/python -m bench.ingress [--seconds 5] [--concurrency 32]
"""
