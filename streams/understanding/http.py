"""The HTTP backend: any OpenAI-compatible chat-completions endpoint.

``POST {WASTREAM_AGENT_URL}/chat/completions`` with the system prompt, the user's text and
``response_format`` asking for :func:`~streams.understanding.schema.wire_schema` (strict
structured outputs). Whatever comes back is checked; a timeout, a 5xx, invalid JSON or an
answer off the schema raises a transient :mod:`~streams.understanding.errors` error,
never an understanding. The place it names is placed by ``resolve_place`` (an
unknown place is dropped: the flow asks for a location).

Settings: ``WASTREAM_AGENT_URL`` (e.g. ``https://api.openai.com/v1``; unset: rules only),
``WASTREAM_AGENT_MODEL`` (required with a URL), ``WASTREAM_AGENT_API_KEY`` (a bearer
token, optional), ``WASTREAM_AGENT_TIMEOUT_S`` (10).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import orjson

from streams.understanding.errors import AgentBadAnswer, AgentRefused, AgentUnavailable
from streams.understanding.lexicon import Lexicon, lexicon
from streams.understanding.model import Understanding, UnderstandingSession
from streams.understanding.places import Resolver, no_places
from streams.understanding.schema import WireError, from_wire, response_format
from wastream.config import AgentSettings, ConfigError, reveal

BACKEND = "http"

SYSTEM_PROMPT = """You read one WhatsApp message from a user in Rwanda, written in English, \
French or Kinyarwanda (often mixed, often misspelt), and say what they want as JSON.
- find_service: they need a service provider; category is one of: {categories}.
- sell_produce / buy_produce: they sell or want to buy farm produce; crop is one of: \
{crops}; unit is one of: {units}; price is per unit in RWF.
- place: the district, sector or neighbourhood they name, as written; null if none.
Use null for anything the message does not say. The user's language is {lang}.
Understood in earlier messages (complete it, do not repeat it): {session}"""


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """Where and how to call the endpoint."""

    url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, agent: AgentSettings) -> HttpOptions | None:
        """The options of the ``agent`` settings group; None when ``WASTREAM_AGENT_URL``
        is unset (the rule-based backend alone)."""
        url = agent.url.strip().rstrip("/")
        if not url:
            return None
        model = agent.model.strip()
        if not model:
            raise ConfigError("WASTREAM_AGENT_MODEL: required when WASTREAM_AGENT_URL is set")
        return cls(url, model, reveal(agent.api_key), agent.timeout_s)


class HttpUnderstander:
    """One endpoint, one aiohttp session (opened on first use; :meth:`close` it)."""

    backend = BACKEND

    def __init__(self, options: HttpOptions, resolve_place: Resolver = no_places,
                 lex: Lexicon | None = None) -> None:
        self.options = options
        self.resolve_place = resolve_place
        self.lexicon = lex or lexicon()
        self._http: aiohttp.ClientSession | None = None

    def request(self, text: str, lang: str, session: UnderstandingSession) -> dict[str, Any]:
        """The chat-completions request body for ``text``."""
        ids = self.lexicon.ids
        prompt = SYSTEM_PROMPT.format(
            categories=", ".join(ids("category")), crops=", ".join(ids("crop")),
            units=", ".join(ids("unit")), lang=lang,
            session=json.dumps(session.understood.to_json(), ensure_ascii=False))
        return {"model": self.options.model, "temperature": 0,
                "messages": [{"role": "system", "content": prompt},
                             {"role": "user", "content": text}],
                "response_format": response_format(self.lexicon)}

    async def understand(self, text: str, lang: str,
                         session: UnderstandingSession) -> Understanding:
        body = await self._post(self.request(text, lang, session))
        u = self._read(body)
        if u.place is None:
            return u
        place = self.resolve_place(u.place)
        if place is None:
            return replace(u, place=None)
        return replace(u, place=place.name, lat=place.lat, lon=place.lon)

    async def _post(self, payload: dict[str, Any]) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.options.api_key:
            headers["Authorization"] = f"Bearer {self.options.api_key}"
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.options.timeout_s))
        url = f"{self.options.url}/chat/completions"
        try:
            async with self._http.post(url, data=orjson.dumps(payload), headers=headers) as r:
                raw = await r.read()
                status, retry_after = r.status, r.headers.get("Retry-After")
        except TimeoutError as exc:
            raise AgentUnavailable(f"no answer within {self.options.timeout_s} s") from exc
        except aiohttp.ClientError as exc:
            raise AgentUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if status != 200:
            raise _http_error(status, raw, retry_after)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise AgentBadAnswer(f"the response body is not JSON: {raw[:80]!r}") from exc

    def _read(self, body: Any) -> Understanding:
        """The understanding in a chat completion, or AgentBadAnswer."""
        try:
            choice = body["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError) as exc:
            raise AgentBadAnswer("not a chat completion (no choices[0].message)") from exc
        if not isinstance(message, dict):
            raise AgentBadAnswer("choices[0].message is not an object")
        if message.get("refusal"):
            raise AgentBadAnswer(f"the model refused: {str(message['refusal'])[:80]}")
        if choice.get("finish_reason") == "length":
            raise AgentBadAnswer("the completion was cut short (finish_reason 'length')")
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            raise AgentBadAnswer("the completion has no content")
        try:
            return from_wire(orjson.loads(content), BACKEND, self.lexicon)
        except orjson.JSONDecodeError as exc:
            raise AgentBadAnswer(f"the content is not JSON: {content[:80]!r}") from exc
        except WireError as exc:
            raise AgentBadAnswer(f"the content does not fit the schema: {exc}") from exc

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


def _http_error(status: int, raw: bytes, retry_after: str | None) -> Exception:
    try:
        message = str(orjson.loads(raw)["error"]["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        message = raw[:80].decode("utf-8", "replace")
    text = f"HTTP {status}: {message}"
    if status >= 500 or status in (408, 429):
        try:
            after = float(retry_after) if retry_after else None
        except ValueError:
            after = None
        return AgentUnavailable(text, retry_after_s=after)
    return AgentRefused(text)
