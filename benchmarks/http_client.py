"""A lean HTTP/1.1 load generator: keep-alive connections on asyncio streams, one per client.

The benchmarks' clients run on the same cores as the server they measure: a general client
(httpx, one thread per client) spent more CPU per call than the server's bare route, and its
threads fought over the GIL. This one sends a request as one write and reads the answer by its
``Content-Length`` (or chunks), in one thread: a few tens of microseconds per call. It knows
what the benchmarks need, no more: JSON bodies, one cookie, the answer's status, headers and
body. A call is timed from its request's write to its answer's last byte.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

import attrs

__all__ = ["Answer", "Connection", "run_clients"]

T = TypeVar("T")


@attrs.frozen
class Answer:
    """A response: status, headers (lower-case names; the last of repeated ones), body."""

    status: int
    headers: dict[str, str]
    body: bytes
    #: Seconds from the request's first byte written to the answer's last byte read.
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)

    def cookie(self, name: str) -> str | None:
        """The value ``Set-Cookie`` gives ``name`` (the benchmarks set one cookie a call)."""
        found = self.headers.get("set-cookie", "")
        key, _, rest = found.partition("=")
        return rest.split(";", 1)[0] if key.strip() == name else None


class Connection:
    """One client's keep-alive connection to ``host:port`` (reopened when the server closes
    it), with a cookie header sent on every request."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.cookie = ""
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request and read its answer (within the timeout)."""
        exchange = self._exchange(method, path, json_body, headers)
        return await asyncio.wait_for(exchange, self.timeout)

    async def _exchange(
        self, method: str, path: str, json_body: Any, headers: Mapping[str, str] | None
    ) -> Answer:
        body = b"" if json_body is None else json.dumps(json_body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if self.cookie:
            lines.append(f"Cookie: {self.cookie}")
        if json_body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append("Content-Type: application/json")
            lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        reused = self._streams is not None
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        began = time.perf_counter()
        try:
            writer.write(data)
            status, answer_headers, answer_body = await _read_answer(reader)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            self.close()
            if not reused or (isinstance(error, asyncio.IncompleteReadError) and error.partial):
                raise
            # The server closed this keep-alive connection while it sat idle (uvicorn does
            # after 5 s, which a family's pause may exceed) and never read the request: it is
            # sent again on a new connection, as browsers and HTTP client libraries do.
            return await self._exchange(method, path, json_body, headers)
        except BaseException:
            self.close()
            raise
        seconds = time.perf_counter() - began
        if answer_headers.get("connection", "").lower() == "close":
            self.close()
        return Answer(status, answer_headers, answer_body, seconds)

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, headers, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while size := int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16):
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")  # the last chunk's end (no trailers here)
        return status, headers, b"".join(chunks)
    return status, headers, b""  # 204/304: no body


async def _clients(
    items: Iterable[T],
    clients: int,
    connect: Callable[[], Connection],
    visit: Callable[[Connection, T], Awaitable[None]],
) -> None:
    queue = list(items)
    queue.reverse()

    async def client() -> None:
        connection = connect()
        try:
            while queue:
                await visit(connection, queue.pop())
        finally:
            connection.close()

    await asyncio.gather(*(client() for _ in range(clients)))


def run_clients(
    items: Iterable[T],
    clients: int,
    connect: Callable[[], Connection],
    visit: Callable[[Connection, T], Awaitable[None]],
) -> None:
    """``visit(connection, item)`` for every item, from ``clients`` concurrent clients, each
    with its connection, each taking the next item when done (no pause between calls).
    ``visit`` must not raise (count failures instead). Runs on uvloop when it is installed."""
    runner_options: dict[str, Any] = {}
    try:
        import uvloop

        runner_options["loop_factory"] = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop comes with the web extra
        pass
    with asyncio.Runner(**runner_options) as runner:
        runner.run(_clients(items, clients, connect, visit))
