"""``wastream templates sync`` against the stand-in's WhatsApp Business Account."""

from __future__ import annotations

import asyncio
import os
import sys

import aiohttp

from standins.graph import GraphStub
from streams.domains.rides.templates import RIDE_REQUEST, TRIP_REMINDER
from wastream.templates import TemplatesApi, shipped, sync

WABA = "102290129340398"


async def test_sync_creates_the_missing_templates_and_reports_each_status() -> None:
    stub = await GraphStub().start()
    try:
        stub.waba.approve([RIDE_REQUEST, TRIP_REMINDER])
        stub.waba.set_status("trip_reminder", "PAUSED", "fr")
        catalog = shipped()
        async with aiohttp.ClientSession() as session:
            api = TemplatesApi(session, stub.url, "v21.0", stub.token, WABA, page_size=4)
            first = await sync(api, catalog)
            assert len(first) == 3 * len(catalog)
            status = {(r.name, r.language): (r.status, r.created) for r in first}
            assert status["ride_request", "rw_RW"] == ("APPROVED", False)
            assert status["trip_reminder", "fr"] == ("PAUSED", False)
            assert status["ride_offer", "en"] == ("PENDING", True)
            assert not [r for r in first if r.error]
            created = {k for k, (_s, made) in status.items() if made}
            assert len(created) == 3 * (len(catalog) - 2)
            # the account now holds each one, in Meta's format, with its examples
            held = stub.waba.templates["ride_offer", "en"]
            assert held.components[0]["example"] == {"body_text": [["moto", "0.8",
                                                                    "250788000111"]]}
            assert stub.waba.templates["ride_request", "fr"].quick_replies == 2
            stub.waba.set_status("ride_offer", "APPROVED")
            again = await sync(api, catalog)  # listed over several pages: nothing new
            assert not [r for r in again if r.created]
            assert {r.status for r in again if r.name == "ride_offer"} == {"APPROVED"}
    finally:
        await stub.stop()


async def run_cli(env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wastream.cli", "templates", "sync", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def test_the_command_prints_each_template_and_needs_its_settings() -> None:
    stub = await GraphStub().start()
    try:
        base = {k: v for k, v in os.environ.items() if not k.startswith("WHATSAPP_")}
        code, out = await run_cli(base)
        assert code == 2
        assert "WHATSAPP_GRAPH_URL, WHATSAPP_ACCESS_TOKEN, WHATSAPP_WABA_ID" in out
        env = {**base, "WHATSAPP_GRAPH_URL": stub.url, "WHATSAPP_ACCESS_TOKEN": stub.token,
               "WHATSAPP_WABA_ID": WABA}
        code, out = await run_cli(env)
        assert code == 0, out
        assert "ride_request/en: PENDING (created)" in out
        code, out = await run_cli({**env, "WHATSAPP_ACCESS_TOKEN": "wrong"})
        assert code == 1
        assert "code 190" in out
    finally:
        await stub.stop()
