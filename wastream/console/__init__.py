"""The operator console: `wastream console` serves conversations, dead letters, health and
the analytics views in a browser, from the read models in PostgreSQL, with the admin
operations that already exist (streams/dlq) behind operator logins (decision 0024).

Modules: ``auth`` (operators, passwords, sessions, CSRF, the login limit), ``audit``,
``reads`` (the SQL of every page), ``timeline`` (one conversation in log order),
``health`` (lag from the broker and the stored offsets, metrics scraped from services),
``charts`` (SVG drawn server-side), ``actions`` (redrive, discard, reset: events on the
log), ``app`` (the aiohttp routes) and ``cli`` (`wastream console`)."""
