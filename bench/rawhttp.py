"""A minimal HTTP/1.1 client for the load benchmark: one keep-alive connection per student.

The benchmark joins hundreds of students within seconds from one process on a machine with two
cores, so the client's own CPU matters: httpx cost about 13 ms of client CPU per join (three
requests), as much as the server was meant to spend. This client does only what the join needs
(GET and POST, ``Content-Length`` or chunked bodies, ``Set-Cookie``), over asyncio streams,
and keeps the connection open between a student's requests as a phone's browser does.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit


class HttpError(Exception):
    pass


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def cookies(self) -> dict[str, str]:
        """The cookies this response sets (name -> value)."""
        out = {}
        for k, v in self.headers:
            if k == "set-cookie":
                pair = v.split(";", 1)[0]
                name, _, value = pair.partition("=")
                out[name.strip()] = value.strip()
        return out

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Connection:
    """One persistent connection to ``base`` (``http://host:port``)."""

    def __init__(self, base: str, timeout: float = 30.0):
        u = urlsplit(base)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.host_header = u.netloc
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return await self.request("GET", path, headers)

    async def post_form(
        self, path: str, data: dict[str, str], headers: dict[str, str] | None = None
    ) -> Response:
        body = urlencode(data).encode()
        h = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return await self.request("POST", path, h, body)

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Response:
        return await asyncio.wait_for(self._request(method, path, headers or {}, body), self.timeout)

    async def _request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        for attempt in (0, 1):
            fresh = self.writer is None
            if fresh:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            head = [f"{method} {path} HTTP/1.1", f"Host: {self.host_header}", "Connection: keep-alive"]
            head += [f"{k}: {v}" for k, v in headers.items()]
            if body or method == "POST":
                head.append(f"Content-Length: {len(body)}")
            self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            try:
                await self.writer.drain()
                return await self._read()
            except (ConnectionError, asyncio.IncompleteReadError, HttpError):
                await self.close()
                if fresh or attempt:  # a kept connection the server had closed: once more on a new one
                    raise
        raise HttpError("unreachable")

    async def _read(self) -> Response:
        line = await self.reader.readline()
        if not line:
            raise HttpError("connection closed before the status line")
        parts = line.decode("latin-1").split(" ", 2)
        resp = Response(int(parts[1]))
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            resp.headers.append((k.strip().lower(), v.strip()))
        if (resp.header("transfer-encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";", 1)[0], 16)
                if size == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            resp.body = b"".join(chunks)
        elif resp.header("content-length") is not None:
            resp.body = await self.reader.readexactly(int(resp.header("content-length")))
        elif resp.status not in (204, 304):
            resp.body = await self.reader.read()
            await self.close()
        if (resp.header("connection") or "").lower() == "close":
            await self.close()
        return resp
