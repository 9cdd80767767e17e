"""A test client that behaves like the player page (static/game/play.js) on the wire.

It keeps every action in an outbox under its ref until the server acknowledges it or refuses it
definitively; an `unavailable` (or `rate_limited`) answer makes it send the outbox again, in order
and with the same refs, after the suggested delay with backoff (1, 2, 4, then 5 s); a closed
socket reconnects (within a second after 1012, else with backoff), says `hello since`, and sends
the outbox again. What the student would have seen is recorded: definitive errors, retryable
answers, close codes, and every event by seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import connect

RETRYABLE = {"unavailable", "rate_limited"}


class PageClient:
    def __init__(
        self,
        name: str,
        urls: list[str],
        cookie: str,
        origin: str,
        connect_kwargs: dict[str, Any] | None = None,
    ):
        self.name, self.urls, self.cookie, self.origin = name, urls, cookie, origin
        self.connect_kwargs = connect_kwargs or {}
        self.outbox: dict[str, dict[str, Any]] = {}
        self.sent_at: dict[str, float] = {}  # when each action was made
        self.wire_at: dict[str, float] = {}  # when it first went out (it may wait for a resend)
        self.acked: dict[str, float] = {}  # ref -> when its (first) ack arrived
        self.refused: list[dict[str, Any]] = []  # definitive errors: what a student sees as one
        self.retryable: list[tuple[float, dict[str, Any]]] = []
        self.closes: list[tuple[float, int | None]] = []
        self.opens: list[float] = []
        self.events: dict[int, dict[str, Any]] = {}
        self.event_at: dict[int, float] = {}
        self.state: dict[str, Any] = {}
        self.last_seq = 0
        self.ws = None
        self.url_index = 0
        self.resend_handle: asyncio.TimerHandle | None = None
        self.resend_round = 0
        self.task: asyncio.Task | None = None
        self.stopped = False
        self.opened = asyncio.Event()

    def _origin_for(self, url: str) -> str:
        """The page's origin as the worker it connects to sees it. Behind nginx every worker has
        the one public origin; connecting to the workers' own ports directly, as these tests do,
        the origin is that port's (the server checks scheme, host and port)."""
        parts, given = urlsplit(url), urlsplit(self.origin)
        direct = parts.hostname in ("127.0.0.1", "localhost", "::1") and given.hostname == parts.hostname
        if direct and given.port != parts.port:  # another worker's own port, no proxy in front
            scheme = "https" if parts.scheme == "wss" else "http"
            return f"{scheme}://{parts.netloc}"
        return self.origin

    # -- the page's life ----------------------------------------------------------------------
    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self.stopped = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task

    async def _run(self) -> None:
        attempt = 0
        while not self.stopped:
            url = self.urls[self.url_index % len(self.urls)]
            code = None
            try:
                async with connect(
                    url,
                    origin=self._origin_for(url),
                    additional_headers={"Cookie": self.cookie},
                    open_timeout=10,
                    proxy=None,
                    **self.connect_kwargs,
                ) as ws:
                    self.ws = ws
                    self.opens.append(time.monotonic())
                    attempt = 0
                    # As the page does on open: `hello since` the last seq it saw, before the
                    # snapshot arrives, then the outbox again.
                    if self.last_seq:
                        await self._send({"type": "hello", "since": self.last_seq})
                    self.opened.set()
                    await self._flush()
                    async for raw in ws:
                        await self._on_message(json.loads(raw))
                    code = ws.close_code
            except Exception:
                code = self.ws.close_code if self.ws is not None else None
            self.ws = None
            self.opened.clear()
            if self.stopped:
                return
            self.closes.append((time.monotonic(), code))
            self.url_index += 1  # as nginx would: the next connection may reach another worker
            if code == 1012:
                delay = random.random() * 0.8
            else:
                attempt += 1
                delay = min(5.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            await asyncio.sleep(delay)

    def _on_state(self, m: dict[str, Any]) -> None:
        self.state = m
        self.last_seq = max(self.last_seq, m.get("seq") or 0)

    async def _on_message(self, m: dict[str, Any]) -> None:
        kind = m.get("type")
        if kind == "state":
            self._on_state(m)
        elif kind == "event":
            seq = m["seq"]
            assert seq not in self.events or self.events[seq] == m, f"{self.name}: seq {seq} differs"
            self.events.setdefault(seq, m)
            self.event_at.setdefault(seq, time.monotonic())
            self.last_seq = max(self.last_seq, seq)
        elif kind == "sync":
            if isinstance(m.get("seq"), int) and m["seq"] > self.last_seq:
                await self._send({"type": "hello", "since": self.last_seq})
        elif kind == "ack":
            ref = m.get("ref")
            if ref in self.outbox:
                del self.outbox[ref]
                self.acked.setdefault(ref, time.monotonic())
                self.resend_round = 0
        elif kind == "error":
            ref = m.get("ref")
            if m.get("code") in RETRYABLE:
                self.retryable.append((time.monotonic(), m))
                if ref in self.outbox:
                    self._schedule_resend(m.get("retry_after") or 0)
            elif ref in self.outbox:
                del self.outbox[ref]
                self.refused.append(m)

    def _schedule_resend(self, hint: float) -> None:
        if self.resend_handle is not None:
            return
        self.resend_round += 1
        delay = max(min(5.0, 2 ** (self.resend_round - 1)), float(hint)) * (0.8 + random.random() * 0.4)
        loop = asyncio.get_running_loop()
        self.resend_handle = loop.call_later(delay, lambda: asyncio.ensure_future(self._flush()))

    async def _flush(self) -> None:
        if self.resend_handle is not None:
            self.resend_handle.cancel()
            self.resend_handle = None
        for msg in list(self.outbox.values()):
            await self._send(msg)

    async def _send(self, msg: dict[str, Any]) -> bool:
        ws = self.ws
        if ws is None or (not self.opened.is_set() and msg.get("type") != "hello"):
            return False
        try:
            await ws.send(json.dumps(msg))
            if "ref" in msg:
                self.wire_at.setdefault(msg["ref"], time.monotonic())
            return True
        except Exception:
            return False

    # -- what a student does --------------------------------------------------------------------
    async def act(self, type_: str, **fields: Any) -> str:
        ref = f"{self.name}-{uuid.uuid4().hex[:12]}"
        msg = {"type": type_, "ref": ref, **fields}
        self.outbox[ref] = msg
        self.sent_at[ref] = time.monotonic()
        if self.resend_handle is None:  # while earlier actions wait for their resend, this one waits too
            await self._send(msg)
        return ref

    async def chat(self, text: str) -> str:
        return await self.act("chat.send", channel="table", text=text)

    def texts(self) -> list[str]:
        return [e["data"]["text"] for e in self.events.values() if e["kind"] == "chat.message"]


async def eventually(pred, timeout: float = 15.0, what: str = "condition", step: float = 0.05) -> float:
    """Wait until ``pred()``; returns how long it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pred():
            return time.monotonic() - start
        await asyncio.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
