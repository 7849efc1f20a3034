"""A TCP load balancer in front of the app workers, as production has one: browsers reach the app only through it.

It forwards whole connections (HTTP keep-alive and the /_event websocket alike), so an app worker sees exactly what
it would behind a real balancer. By default every connection goes to the first worker; `round_robin()` spreads new
connections over all of them. Each connection's first request line is recorded with the worker that got it, so a
test can tell which worker served a page's websocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from dataclasses import dataclass, field


@dataclass
class Routed:
    upstream: int  # index of the worker
    request_line: str


@dataclass
class LoadBalancer:
    upstream_ports: list[int]
    port: int
    routed: list[Routed] = field(default_factory=list)
    _spread: bool = False

    def __post_init__(self):
        self._cycle = itertools.cycle(range(len(self.upstream_ports)))
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("load balancer did not start")

    def round_robin(self, enabled: bool = True) -> None:
        self._spread = enabled

    def websockets(self) -> list[Routed]:
        return [r for r in self.routed if r.request_line.startswith("GET /_event")]

    def _pick(self) -> int:
        return next(self._cycle) if self._spread else 0

    def _serve(self):
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._server = server
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter):
        upstream = self._pick()
        try:
            first = await client_reader.read(65536)
            if not first:
                return
            line = first.split(b"\r\n", 1)[0].decode("latin-1")
            self.routed.append(Routed(upstream, line))
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_ports[upstream])
        except OSError:
            client_writer.close()
            return
        up_writer.write(first)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while chunk := await reader.read(65536):
                    writer.write(chunk)
                    await writer.drain()
            with contextlib.suppress(OSError):
                writer.close()

        await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))

    def close(self):
        async def stop():
            self._server.close()
            connections = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in connections:
                task.cancel()
            await asyncio.gather(*connections, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(stop(), self._loop)
        self._thread.join(5)
