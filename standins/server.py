"""What every stand-in server shares: listening on loopback, with port 0 meaning "any"."""

from __future__ import annotations

from aiohttp import web


async def listen(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host``:``port``; the runner (to clean up) and the bound port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server  # the bound port when port=0
    if server is not None and port == 0:
        port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
    return runner, port
