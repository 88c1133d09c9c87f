"""A TCP proxy in front of a real server, which a test can cut (every connection
dropped, new ones refused) and restore: an outage of the real PostgreSQL or broker
for one process, without stopping the shared server."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``cut()`` / ``restore()``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        #: While set, the end of the server's stream is not passed on: the client has
        #: read everything the server sent before closing, but not yet the close (a FIN
        #: late on a loaded machine). ``release_eof()`` passes the held ones on.
        self.hold_eof = False
        self._held: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                                  reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_w))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                       from_server: bool) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            if from_server and self.hold_eof:
                self._held.append(dst)
                return
            with contextlib.suppress(OSError):
                dst.close()

        await asyncio.gather(pipe(reader, up_w, False), pipe(up_r, writer, True))
        self._writers.difference_update((writer, up_w))

    async def cut(self) -> None:
        """Refuse new connections and reset every open one (both sides)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._writers):
            with contextlib.suppress(Exception):
                w.transport.abort()
        self._writers.clear()

    def release_eof(self) -> None:
        """Pass on the server's closes held by ``hold_eof`` (and stop holding)."""
        self.hold_eof = False
        for w in self._held:
            with contextlib.suppress(OSError):
                w.close()
        self._held.clear()

    async def restore(self) -> None:
        """Accept connections again on the same port."""
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        await self.cut()
