"""Understanding a user's free-text need: one interface, two backends.

``Understander.understand(text, lang, session)`` returns a typed :class:`Understanding`
(intent, category or crop, place, quantity, unit, price, confidence, what is missing).
Backends:

- :class:`~streams.understanding.rules.RuleBased` (the default; no I/O): keyword and phrase
  matching over the catalogs in ``catalog/`` (en, fr, rw), tolerant of case, accents and
  misspellings, with places found by a gazetteer passed in as ``resolve_place``;
- :class:`~streams.understanding.http.HttpUnderstander`: any OpenAI-compatible
  chat-completions endpoint, asked for JSON that fits :data:`~.schema.WIRE_SCHEMA`;
- :class:`~streams.understanding.fallback.WithFallback`: the HTTP backend behind the
  ``agent`` circuit breaker, answered by the rules while the breaker is open.

Nothing here knows Faust or the engine: a call is an effect the conversation agent makes,
and :class:`~streams.understanding.model.UnderstandingSession` is the small JSON value a
conversation keeps across turns.
"""
