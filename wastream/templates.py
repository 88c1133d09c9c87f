"""``wastream templates``: the shipped template catalog (every loaded domain's
``Domain.templates``, decision 0015).

- ``check``: the catalog against Meta's rules (streams.engine.templates); exit 1 with
  one line per problem.
- ``sync``: the WhatsApp Business Account's templates (``GET /{waba-id}/message_templates``,
  every page), the missing ones created (``POST`` with Meta's definition: name, category,
  language, body with examples, quick replies), one line per template and language with
  its status; exit 1 when a creation was refused, 2 when a setting is missing. With
  ``--publish``, each status also goes to ``wa.templates`` (source ``sync``), so the
  workers know the templates approved before they saw any status webhook.
  https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from aiokafka.errors import KafkaError

from streams.engine.templates import LANGS, Template, check, meta_definition
from wastream.config import Settings, reveal


def shipped() -> list[Template]:
    """The engine's own templates, then every template of the registry's domains, in
    registry order."""
    from streams.domains import REGISTRY
    from streams.engine.domains import load
    from streams.engine.templates import ENGINE_TEMPLATES

    return [*ENGINE_TEMPLATES, *(t for d in load(REGISTRY) for t in d.templates)]


def _check(args: argparse.Namespace) -> int:
    templates = shipped()
    found = check(templates)
    for line in found:
        print(line)
    if not found:
        print(f"{len(templates)} templates, each in {', '.join(('en', 'fr', 'rw'))}: "
              "no problem found")
    return 1 if found else 0


@dataclass(frozen=True, slots=True)
class Synced:
    """One template in one language after a sync: its status in the account (or
    ``ERROR``), and whether this sync created it (or why it could not)."""

    name: str
    language: str
    status: str
    created: bool = False
    error: str = ""

    def line(self) -> str:
        if self.error:
            return f"{self.name}/{self.language}: not created: {self.error}"
        return f"{self.name}/{self.language}: {self.status}" + (" (created)" * self.created)


class TemplatesApi:
    """The account's ``message_templates`` edge (one aiohttp session)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, version: str,
                 token: str, waba_id: str, page_size: int = 100) -> None:
        self.session, self.token, self.page_size = session, token, page_size
        self.url = f"{base_url.rstrip('/')}/{version}/{waba_id}/message_templates"

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def listing(self) -> list[dict[str, Any]]:
        """Every template of the account, following ``paging.next``."""
        rows: list[dict[str, Any]] = []
        url: str | None = (f"{self.url}?limit={self.page_size}"
                           "&fields=name,language,status,category")
        while url:
            async with self.session.get(url, headers=self._auth) as r:
                page = orjson.loads(await r.read())
                if r.status != 200:
                    raise SyncError(_meta_message(page, r.status))
            rows.extend(page.get("data", []))
            url = (page.get("paging") or {}).get("next")
        return rows

    async def create(self, definition: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(self.url, data=orjson.dumps(definition),
                                     headers={**self._auth,
                                              "Content-Type": "application/json"}) as r:
            answer: dict[str, Any] = orjson.loads(await r.read())
            if r.status != 200:
                raise SyncError(_meta_message(answer, r.status))
            return answer


class SyncError(RuntimeError):
    """Meta refused a request of the sync."""


def _meta_message(body: Any, status: int) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"HTTP {status}, code {error.get('code')}: {error.get('message')}"
    return f"HTTP {status}"


async def sync(api: TemplatesApi, catalog: Iterable[Template]) -> list[Synced]:
    """Create what the account lacks of ``catalog``; each one's status."""
    held = {(t["name"], t["language"]): str(t.get("status", "UNKNOWN"))
            for t in await api.listing()}
    out = []
    for template in catalog:
        for lang in LANGS:
            definition = meta_definition(template, lang)
            key = (template.name, definition["language"])
            if key in held:
                out.append(Synced(*key, held[key]))
                continue
            try:
                answer = await api.create(definition)
            except SyncError as exc:
                out.append(Synced(*key, "ERROR", error=str(exc)))
                continue
            out.append(Synced(*key, str(answer.get("status", "PENDING")), created=True))
    return out


async def publish(settings: Settings, results: Iterable[Synced]) -> int:
    """Write each status read from the account to ``wa.templates``; how many."""
    from aiokafka import AIOKafkaProducer

    from schemas import topics
    from schemas.templates import TemplateChange
    from wastream.config.kafka import client_args

    now = datetime.now(UTC)
    stamp = int(now.timestamp())
    producer = AIOKafkaProducer(**client_args(settings.kafka), acks="all",
                                enable_idempotence=True)
    await producer.start()
    n = 0
    try:
        for r in results:
            if r.error or r.status == "UNKNOWN":
                continue
            change = TemplateChange(
                name=r.name, language=r.language, kind="status",
                event_id=f"sync:{r.name}:{r.language}:{r.status}:{stamp}", status=r.status,
                waba_id=settings.meta.waba_id, meta_ts=stamp, at=now.isoformat(),
                source="sync")
            await producer.send_and_wait(settings.topic(topics.TEMPLATES), change.to_bytes(),
                                         key=change.key)
            n += 1
    finally:
        await producer.stop()
    return n


async def _sync_with(settings: Settings) -> list[Synced]:
    meta = settings.meta
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        api = TemplatesApi(session, meta.graph_url or "", meta.graph_api_version,
                           reveal(meta.access_token) or "", meta.waba_id)
        return await sync(api, shipped())


def _sync(args: argparse.Namespace) -> int:
    meta = Settings.from_env().meta
    missing = [name for name, value in (("WHATSAPP_GRAPH_URL", meta.graph_url),
                                        ("WHATSAPP_ACCESS_TOKEN", meta.access_token),
                                        ("WHATSAPP_WABA_ID", meta.waba_id)) if not value]
    if missing:
        print(f"templates sync needs {', '.join(missing)}")
        return 2
    try:
        results = asyncio.run(_sync_with(Settings.from_env()))
    except (SyncError, aiohttp.ClientError, TimeoutError) as exc:
        print(f"listing the account's templates failed: {exc}")
        return 1
    for result in results:
        print(result.line())
    if args.publish:
        try:
            published = asyncio.run(publish(Settings.from_env(), results))
        except (KafkaError, OSError) as exc:
            print(f"writing the statuses to wa.templates failed: {exc!r}")
            return 1
        print(f"{published} statuses written to wa.templates")
    created = sum(r.created for r in results)
    refused = sum(bool(r.error) for r in results)
    approved = sum(r.status == "APPROVED" for r in results)
    print(f"{len(results)} templates: {approved} approved, {created} created, "
          f"{refused} refused")
    return 1 if refused else 0


def add_parser(sub: Any) -> None:
    tpl = sub.add_parser("templates", help="the WhatsApp message templates of the domains")
    tsub = tpl.add_subparsers(dest="templates_command", required=True, metavar="COMMAND")
    chk = tsub.add_parser("check", help="check the shipped catalog against Meta's rules")
    chk.set_defaults(func=_check)
    syn = tsub.add_parser("sync", help="create the missing templates in the WhatsApp "
                          "Business Account (WHATSAPP_WABA_ID) and show each one's status")
    syn.add_argument("--publish", action="store_true",
                     help="also write each status to wa.templates (Kafka), for the workers")
    syn.set_defaults(func=_sync)
