"""How the event loop (sockets, the clock, the bots) reaches the database.

All of a worker's sockets share its database threads (``GAME_DB_THREADS``: one on SQLite, as
channels' ``database_sync_to_async``, four on PostgreSQL). Three things keep them from becoming
the bottleneck of a class: a thread keeps its connection between calls; it never waits for the
channel layer, since the broadcasts of what a call committed are collected
(``eventlog.collect_broadcasts``) and sent from the event loop once the call returns; and the
calls queue by urgency (``PriorityExecutor``): a player's action or the clock's tick before a
socket's opening, and those before presence bookkeeping. While a lecture hall joined, 800 socket
openings and closings queued ahead of the playing tables' actions in one first-come queue, and an
action waited up to 0.3 s for its 1 ms of work.

A kept connection can die between calls (PostgreSQL restarted, an administrator ended it): before
each call the thread checks, without a round trip, whether the server has closed it, and a call
that is safe to repeat (a read, or an action whose ``ref`` is claimed in its own transaction) is
tried once more on a fresh connection if the connection broke under it.

A hook on a private API: ``SocketDB`` overrides ``asgiref.sync.SyncToAsync.thread_handler``, written
against asgiref 3.13.0 (pinned below 3.14 in pyproject.toml). tests/test_private_hooks.py fails,
naming this module, if an upgrade changes its signature or stops running calls through it.
"""

from __future__ import annotations

import contextvars
import logging
import select
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections

from game import faults
from game.services import eventlog

log = logging.getLogger(__name__)


class SocketDB(SyncToAsync):
    """The sockets' way to the database: like channels' ``database_sync_to_async``, except that it
    runs on the worker's ``PriorityExecutor`` threads (``GAME_DB_THREADS``), which keep their
    connection between calls instead of reconnecting for each (a PostgreSQL connect costs more
    than an action, and on SQLite the last connection's close checkpoints the WAL). A connection
    that failed or was left in a transaction is still closed, and reopened by the next call."""

    def thread_handler(self, loop, *args, **kwargs):
        for conn in connections.all(initialized_only=True):
            drop_if_closed_by_server(conn)
        me = threading.get_ident()
        _busy[me] = connections["default"]
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            _busy.pop(me, None)
            for conn in connections.all(initialized_only=True):
                conn.close_at = None  # conn_max_age=0 is for request threads, not this one
                conn.close_if_unusable_or_obsolete()


# The connection each database thread is using for the call it is running (to cancel a hung call
# when a worker drains: ``cancel_running``).
_busy: dict[int, Any] = {}


def drop_if_closed_by_server(conn) -> bool:
    """Close a kept PostgreSQL connection that the server has closed since its last use.

    Between calls an idle connection has nothing to read; if its socket is readable, the server
    has sent its goodbye (``terminating connection due to administrator command`` on a restart)
    or closed the socket. One ``poll`` with no timeout: no round trip. Returns True if closed."""
    raw = conn.connection
    if raw is None or conn.vendor != "postgresql" or conn.in_atomic_block:
        return False
    try:
        gone = bool(raw.closed or raw.broken)
        if not gone:
            poller = select.poll()
            poller.register(raw.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
            gone = bool(poller.poll(0))
    except Exception:  # a socket we cannot even inspect is no use either
        gone = True
    if gone:
        log.info("database connection closed by the server since its last use: reconnecting")
        _close_quietly(conn)
    return gone


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except Exception:
        conn.connection = None


def _connection_lost(exc: BaseException) -> bool:
    """Did ``exc`` come from a connection that is now unusable (so a fresh one may succeed)?"""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    raw = connections["default"].connection
    return raw is None or bool(getattr(raw, "closed", False) or getattr(raw, "broken", False))


def cancel_running() -> int:
    """Cancel the statements the database threads are running (a draining worker abandons a hung
    call this way: the statement fails, so its transaction rolls back and nothing is half done).
    Returns how many calls were cancelled."""
    n = 0
    for conn in list(_busy.values()):
        raw = conn.connection
        if raw is None:
            continue
        try:
            if conn.vendor == "postgresql":
                cancel = getattr(raw, "cancel_safe", None)
                cancel(timeout=2) if cancel is not None else raw.cancel()
            elif conn.vendor == "sqlite":
                raw.interrupt()
            n += 1
        except Exception as e:
            log.warning("could not cancel a database call: %s", faults.describe(e))
    return n


def busy() -> int:
    return len(_busy)


# How urgent a database call is: the executor serves the lowest level first.
URGENT = 0  # a player's or the host's action, a preview, the clock: someone is waiting for it
NORMAL = 1  # a socket's opening and first state, a stream's repair from the log
BACKGROUND = 2  # presence bookkeeping: a closed socket, a held-back presence change, the sync sweep
AGE_SECONDS = 1.0  # a call that has waited this long goes next, whatever its level

_level: contextvars.ContextVar[int] = contextvars.ContextVar("socketdb_level", default=NORMAL)


class PriorityExecutor(Executor):
    """A fixed set of threads serving calls most urgent first, first come first served within a
    level. A call of a lower level that has waited ``AGE_SECONDS`` goes next, so a busy class can
    delay presence bookkeeping but never starve it. The level is read from a context variable at
    submission (``db(..., level=...)`` sets it), since asyncio's ``run_in_executor`` passes none."""

    def __init__(self, workers: int, name: str = "socket-db") -> None:
        self._cond = threading.Condition()
        self._queues: list[deque] = [deque() for _ in (URGENT, NORMAL, BACKGROUND)]
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for t in self._threads:
            t.start()

    @property
    def workers(self) -> int:
        return len(self._threads)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("cannot schedule new calls after shutdown")
            self._queues[_level.get()].append((time.monotonic(), future, fn, args, kwargs))
            self._cond.notify()
        return future

    def queued(self) -> list[int]:
        with self._cond:
            return [len(q) for q in self._queues]

    def _next(self):
        now = time.monotonic()
        overdue = [q for q in self._queues[1:] if q and now - q[0][0] >= AGE_SECONDS]
        if overdue:
            return min(overdue, key=lambda q: q[0][0]).popleft()
        for q in self._queues:
            if q:
                return q.popleft()
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                while (item := self._next()) is None:
                    if self._closed:
                        return
                    self._cond.wait()
            _, future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as e:
                future.set_exception(e)
            else:
                future.set_result(result)
            del item, future, fn, args, kwargs

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._cond:
            self._closed = True
            if cancel_futures:
                for q in self._queues:
                    while q:
                        q.popleft()[1].cancel()
            self._cond.notify_all()
        if wait:
            for t in self._threads:
                if t is not threading.current_thread():
                    t.join()


_pool: PriorityExecutor | None = None
_pool_lock = threading.Lock()


def executor() -> PriorityExecutor:
    """The worker's database threads (``GAME_DB_THREADS``). Several threads (PostgreSQL) let one
    action's round trips overlap another's; the rows each action locks keep a table's changes in
    order, and the sockets' streams put broadcasts that overtake each other back in seq order.
    SQLite has one: its writes are one at a time anyway, and the thread keeps the one connection."""
    global _pool
    if _pool is not None:  # every socket action asks: no lock once the pool exists
        return _pool
    with _pool_lock:
        if _pool is None:
            _pool = PriorityExecutor(settings.GAME["DB_THREADS"])
        return _pool


def close_connections(timeout: float = 30) -> None:
    """Close the connections the sockets' database threads keep (tests call this so that
    PostgreSQL can drop its test database; a draining worker, so that PostgreSQL sees a goodbye
    rather than a dropped socket)."""
    global _pool
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=timeout)
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        n = pool.workers
        barrier = threading.Barrier(n, timeout=timeout)

        def close_here() -> None:  # n tasks held at a barrier: each runs on a thread of its own
            barrier.wait()
            connections.close_all()

        for f in [pool.submit(close_here) for _ in range(n)]:
            f.result(timeout=2 * timeout)
        pool.shutdown(wait=True)


def db(fn, *, retry: bool | Callable[..., bool] = False, level: int = NORMAL):
    """``await db(fn)(*args)``: run a service in the sockets' database threads, then send the
    broadcasts of what it committed from the event loop (the thread never waits for the layer).

    ``retry``: the call may be repeated (True, or a function of its arguments saying so): if the
    connection broke under it, it is tried once more on a fresh connection.
    ``level``: how soon it runs among the calls waiting for a thread (URGENT, NORMAL, BACKGROUND)."""

    def collecting(*args, **kwargs):
        again = retry(*args, **kwargs) if callable(retry) else retry
        while True:
            with eventlog.collect_broadcasts() as box:
                try:
                    return fn(*args, **kwargs), None, box
                except Exception as e:  # re-raised on the loop, after its committed broadcasts
                    if again and _connection_lost(e) and not _draining():
                        again = False
                        log.info(
                            "database connection lost during a call (%s): trying once more",
                            faults.describe(e),
                        )
                        _close_quietly(connections["default"])
                        continue
                    return None, e, box

    run = SocketDB(collecting, thread_sensitive=False, executor=executor())

    async def call(*args, **kwargs):
        token = _level.set(level)
        try:
            result, error, box = await run(*args, **kwargs)
        finally:
            _level.reset(token)
        if box:
            await send_broadcasts(box)
        if error is not None:
            raise error
        faults.worked("database")
        return result

    return call


def _draining() -> bool:
    from game import lifecycle

    return lifecycle.draining()


async def send_broadcasts(box) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group, message in box:
        try:
            await layer.group_send(group, message)
        except Exception as e:  # a lost broadcast is recovered by the sockets' gap repair and sync
            faults.report("broadcast", e, group)
        else:
            faults.worked("channel layer")
