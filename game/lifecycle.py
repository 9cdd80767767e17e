"""A worker's life: its health, the work it has in flight, and a graceful drain on SIGTERM.

On SIGTERM (``systemctl stop`` or ``restart``, a rolling upgrade) a worker under Daphne:

1. stops accepting connections (its listening sockets close, so nginx sends new ones to the
   other workers) and refuses new work on the sockets it has with ``unavailable``;
2. lets the actions in flight finish: each is committed, acknowledged and broadcast;
3. if one is still running after 60% of the bound (a hung database call), cancels its statement,
   so its transaction rolls back and the client's resend applies it once elsewhere;
4. closes its sockets with 1012 (service restart): the pages reconnect at once, to another worker;
5. exits, at the latest ``GAME_DRAIN_SECONDS`` (default 10) after the signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
import weakref
from typing import Any

from django.conf import settings

log = logging.getLogger("game.lifecycle")


class _State:
    def __init__(self) -> None:
        self.draining = False
        self.drain_started = 0.0
        self.work = 0  # actions, ticks and HTTP requests in flight
        self.idle: asyncio.Event | None = None
        self.sockets: weakref.WeakSet = weakref.WeakSet()
        self.task: asyncio.Future | None = None


state = _State()


def draining() -> bool:
    return state.draining


def bound() -> float:
    return float(settings.GAME.get("DRAIN_SECONDS", 10.0))


@contextlib.asynccontextmanager
async def work():
    """Count a piece of work (an action, a tick, an HTTP request) the drain must let finish."""
    state.work += 1
    try:
        yield
    finally:
        state.work -= 1
        if state.work == 0 and state.idle is not None:
            state.idle.set()


def add_socket(sock) -> None:
    state.sockets.add(sock)


def discard_socket(sock) -> None:
    state.sockets.discard(sock)


# --- health --------------------------------------------------------------------------------


def _ping() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()


async def health(timeout: float = 3.0) -> tuple[int, dict[str, Any]]:
    """What the sockets use, checked the way they use it: a query through the sockets' own
    database threads and kept connections, and a message round trip through the channel layer.
    Returns (HTTP status, body); 503 names the part that failed."""
    from channels.layers import get_channel_layer

    from game import faults
    from game.socketdb import db

    body: dict[str, Any] = {"ok": True, "db": "ok", "channel_layer": "ok"}
    try:
        await asyncio.wait_for(db(_ping, retry=True)(), timeout)
    except TimeoutError:
        body["db"] = f"error: no answer within {timeout:g} s (database or the sockets' database threads)"
    except Exception as e:
        body["db"] = f"error: {faults.describe(e)}"
    try:
        layer = get_channel_layer()
        if layer is None:
            raise RuntimeError("no channel layer configured")

        async def round_trip() -> None:
            name = await layer.new_channel("healthz.")
            token = uuid.uuid4().hex
            await layer.send(name, {"type": "healthz", "token": token})
            got = await layer.receive(name)
            if got.get("token") != token:
                raise RuntimeError("the message that came back was not the one sent")

        await asyncio.wait_for(round_trip(), timeout)
    except TimeoutError:
        body["channel_layer"] = f"error: no answer within {timeout:g} s"
    except Exception as e:
        body["channel_layer"] = f"error: {faults.describe(e)}"
    if state.draining:
        body["draining"] = True
    failed = [k for k in ("db", "channel_layer") if body[k] != "ok"]
    if state.draining:
        failed.append("worker (draining: restarting)")
    body["ok"] = not failed
    if failed:
        body["failed"] = failed
    return (200 if body["ok"] else 503), body


class Lifecycle:
    """The outermost ASGI layer: answers ``/healthz`` before Django (so the check works on any
    host name, e.g. ``curl http://127.0.0.1:8001/healthz`` behind nginx) and counts HTTP requests
    in flight for the drain."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("path") == "/healthz":
            status, body = await health()
            payload = json.dumps(body).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"cache-control", b"no-store"),
                        (b"content-length", str(len(payload)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return
        if scope["type"] == "http":
            async with work():
                return await self.app(scope, receive, send)
        return await self.app(scope, receive, send)


# --- the drain -----------------------------------------------------------------------------


def install_under_daphne() -> None:
    """Called once the Twisted reactor runs (Daphne installed its own SIGTERM handler by then):
    SIGTERM drains instead of stopping at once."""
    _allow_service_restart_close_codes()
    loop = asyncio.get_event_loop()

    def on_sigterm(signum, frame):
        loop.call_soon_threadsafe(_start_drain)

    signal.signal(signal.SIGTERM, on_sigterm)


def _allow_service_restart_close_codes() -> None:
    """Autobahn (under Daphne) refuses to send close codes below 3000 other than 1000, though
    1012 (service restart) and 1013 (try again later) are registered codes that browsers accept."""
    from daphne.ws_protocol import WebSocketProtocol

    if getattr(WebSocketProtocol, "_game_close_codes", False):
        return
    original = WebSocketProtocol.serverClose

    def server_close(self, code=None):
        if code in (1012, 1013) and self.state == self.STATE_OPEN:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            original(self, code)

    WebSocketProtocol.serverClose = server_close
    WebSocketProtocol._game_close_codes = True


def _start_drain() -> None:
    if state.draining:
        log.info("SIGTERM again: already draining")
        return
    state.task = asyncio.ensure_future(drain())


def _stop_listening() -> int:
    from twisted.internet import reactor, tcp

    n = 0
    for reader in list(reactor.getReaders()):
        if isinstance(reader, tcp.Port):
            reader.stopListening()
            n += 1
    return n


def _hard_exit_after(seconds: float) -> None:
    def hard_exit() -> None:
        from game import socketdb

        log.error(
            "drain: still not stopped %.1f s after SIGTERM (%d database calls hung): exiting now; "
            "their transactions roll back",
            seconds,
            socketdb.busy(),
        )
        for h in logging.getLogger().handlers:
            with contextlib.suppress(Exception):
                h.flush()
        os._exit(1)

    t = threading.Timer(seconds, hard_exit)
    t.daemon = True
    t.start()


async def drain(stop_reactor: bool = True) -> dict[str, Any]:
    """Drain this worker (see the module's docstring). Returns what it did, for the log and tests."""
    from game import socketdb

    state.draining = True
    state.drain_started = start = time.monotonic()
    limit = bound()
    if stop_reactor:
        _hard_exit_after(limit)
    listening = _stop_listening() if "twisted.internet.reactor" in sys.modules else 0
    log.warning(
        "SIGTERM: draining (stopped %d listeners; %d sockets, %d actions or requests in flight; "
        "exit within %.0f s)",
        listening,
        len(state.sockets),
        state.work,
        limit,
    )
    report: dict[str, Any] = {"sockets": len(state.sockets), "in_flight": state.work, "cancelled": 0}

    async def wait_idle(until: float) -> bool:
        while state.work > 0:
            left = until - time.monotonic()
            if left <= 0:
                return False
            state.idle = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.idle.wait(), min(left, 0.2))
        return True

    if not await wait_idle(start + 0.6 * limit):
        report["cancelled"] = await asyncio.to_thread(socketdb.cancel_running)
        log.warning(
            "drain: %d actions still running after %.1f s: cancelled %d database calls "
            "(rolled back; the clients send them again)",
            state.work,
            0.6 * limit,
            report["cancelled"],
        )
        await wait_idle(start + 0.7 * limit)
    sockets = list(state.sockets)
    for sock in sockets:
        with contextlib.suppress(Exception):
            await sock.close(code=1012)
    # Their disconnect handlers mark the players offline; give them until 90% of the bound.
    while state.sockets and time.monotonic() < start + 0.9 * limit:
        await asyncio.sleep(0.05)
    report["closed"] = len(sockets)
    report["seconds"] = round(time.monotonic() - start, 3)
    log.warning(
        "drain: done in %.2f s (%d sockets closed with 1012, %d calls cancelled): exiting",
        report["seconds"],
        len(sockets),
        report["cancelled"],
    )
    if stop_reactor:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.to_thread(socketdb.close_connections, 1.0), 1.0)
        with contextlib.suppress(Exception):
            from game import asyncdb

            asyncdb.close_all()
        with contextlib.suppress(Exception):
            from negotiation import httpthreads

            await asyncio.wait_for(asyncio.to_thread(httpthreads.close_connections, 1.0), 1.0)
        from twisted.internet import reactor

        reactor.stop()
    return report
