"""A minimal HTTP/1.1 keep-alive client on asyncio streams: a load generator built on it costs a fraction of the
CPU of a full client, so the server under test is what saturates (the benchmarks share 2 cores with it)."""

from __future__ import annotations

import asyncio


class ServerClosed(Exception):
    """The connection ended before an answer's status line."""


class Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        if self.writer is not None:
            try:
                return await self._exchange(path, body, headers)
            except (OSError, asyncio.IncompleteReadError, ServerClosed):
                # The server closed the idle keep-alive connection (uvicorn does after 5 s): once more, on a new
                # one, as any HTTP client does. A webhook delivered twice is deduplicated like Meta's retries.
                self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return await self._exchange(path, body, headers)

    async def _exchange(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        assert self.reader is not None and self.writer is not None
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ServerClosed
        length, closing = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                closing = True
        await self.reader.readexactly(length)
        if closing:
            self.close()
        return int(status_line.split()[1])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def status(self, path: str, body: bytes, headers: dict[str, str], timeout: float = 15.0) -> int:
        """`request`, but any failure (refused, reset, timeout, cut answer) closes the connection and gives 0."""
        try:
            return await asyncio.wait_for(self.request(path, body, headers), timeout)
        except (OSError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError, ServerClosed):
            self.close()
            return 0
