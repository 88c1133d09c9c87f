"""``wastream chat --as <wa_id>``: talk to a running wastream as one WhatsApp user.

What you type is signed and POSTed to the ingress as a webhook; the bot's replies are
read from ``wa.outbound`` and printed as a phone would show them. A number picks that
option of the last list or buttons; ``/location <lat>,<lon>`` shares a location;
``/photo <media id>`` sends a photo; ``/quit`` (or Ctrl-D) leaves.
"""

from __future__ import annotations

import asyncio
import sys

from wastream.config import Settings
from wastream.driver import ConversationDriver, DriverError, options, render

HELP = ("type a message, a number to pick an option, /location <lat>,<lon>, "
        "/photo <media id>, /quit")


async def handle_line(driver: ConversationDriver, line: str) -> bool:
    """Act on one typed line; False when the user wants to leave."""
    line = line.strip()
    if not line:
        return True
    if line in ("/quit", "/exit"):
        return False
    if line.startswith("/location"):
        lat, _, lon = line.removeprefix("/location").strip().partition(",")
        await driver.location(float(lat), float(lon))
    elif line.startswith("/photo"):
        await driver.image(line.removeprefix("/photo").strip() or "photo")
    elif line.isdigit() and line != "0" and driver.latest is not None and options(
        driver.latest.body
    ):
        # A number picks an option of the reply on screen; after a question that offers
        # none ("How many bedrooms?") it is typed text, as on a phone.
        await driver.choose(int(line))
    else:
        await driver.text(line)
    return True


async def chat(settings: Settings, url: str, wa_id: str, timeout_s: float) -> int:
    driver = ConversationDriver.from_settings(settings, url, wa_id)
    await driver.start()
    loop = asyncio.get_running_loop()
    print(f"chatting as {wa_id} via {url} ({HELP})")
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return 0
            try:
                if not await handle_line(driver, line):
                    return 0
            except (DriverError, ValueError) as exc:
                print(f"! {exc}")
                continue
            for msg in await driver.replies(min_count=1, timeout_s=timeout_s, settle_s=0.5):
                print("bot> " + render(msg.body).replace("\n", "\n     "))
    finally:
        await driver.stop()


def run_chat(url: str, wa_id: str, timeout_s: float = 15.0) -> int:
    """Entry point of ``wastream chat``."""
    settings = Settings.from_env()
    if settings.meta.app_secret is None:
        print("wastream chat: WHATSAPP_APP_SECRET is needed to sign webhooks", file=sys.stderr)
        return 2
    return asyncio.run(chat(settings, url, wa_id, timeout_s))
