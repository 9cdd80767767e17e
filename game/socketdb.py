"""How the event loop (sockets, the clock, the bots) reaches the database.

All of a worker's sockets share one database thread (thread-sensitive ``sync_to_async``, as
channels' ``database_sync_to_async``). Two things keep that thread from becoming the bottleneck
of a class: it keeps its connection between calls, and it never waits for the channel layer, since
the broadcasts of what a call committed are collected (``services.collect_broadcasts``) and sent
from the event loop once the call returns.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections

from game import services

log = logging.getLogger(__name__)


class SocketDB(SyncToAsync):
    """The sockets' way to the database: like channels' ``database_sync_to_async`` (one thread for
    all sockets of a worker: thread-sensitive), except that the thread keeps its connection between
    calls instead of reconnecting for each (a PostgreSQL connect costs more than an action, and on
    SQLite the last connection's close checkpoints the WAL). A connection that failed or was left
    in a transaction is still closed, and reopened by the next call."""

    def thread_handler(self, loop, *args, **kwargs):
        # Checked after each call only: before the next one there is nothing new to check.
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            for conn in connections.all(initialized_only=True):
                conn.close_at = None  # conn_max_age=0 is for request threads, not this one
                conn.close_if_unusable_or_obsolete()


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def executor() -> ThreadPoolExecutor | None:
    """The pool of database threads when ``GAME_DB_THREADS`` > 1 (PostgreSQL), else None: the one
    thread-sensitive thread, as channels does. Several threads let one action's round trips to
    PostgreSQL overlap another's; the rows each action locks keep a table's changes in order, and
    the sockets' streams put broadcasts that overtake each other back in seq order."""
    global _pool
    if _pool is not None:  # every socket action asks: no lock once the pool exists
        return _pool
    n = settings.GAME["DB_THREADS"]
    if n <= 1:
        return None
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="socket-db")
        return _pool


def close_connections() -> None:
    """Close the connections the sockets' database threads keep (a worker's exit does it anyway;
    tests call this so that PostgreSQL can drop its test database)."""
    global _pool
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        n = pool._max_workers
        barrier = threading.Barrier(n, timeout=30)

        def close_here() -> None:  # n tasks held at a barrier: each runs on a thread of its own
            barrier.wait()
            connections.close_all()

        for f in [pool.submit(close_here) for _ in range(n)]:
            f.result(timeout=60)
        pool.shutdown(wait=True)


def db(fn):
    """``await db(fn)(*args)``: run a service in the sockets' database thread, then send the
    broadcasts of what it committed from the event loop (the thread never waits for the layer)."""

    def collecting(*args, **kwargs):
        with services.collect_broadcasts() as box:
            try:
                return fn(*args, **kwargs), None, box
            except Exception as e:  # re-raised on the loop, after its committed broadcasts
                return None, e, box

    pool = executor()
    run = SocketDB(collecting, thread_sensitive=pool is None, executor=pool)

    async def call(*args, **kwargs):
        result, error, box = await run(*args, **kwargs)
        if box:
            await send_broadcasts(box)
        if error is not None:
            raise error
        return result

    return call


async def send_broadcasts(box) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group, message in box:
        try:
            await layer.group_send(group, message)
        except Exception:  # a lost broadcast is recovered by the sockets' gap repair and sync
            log.exception("group_send to %s failed", group)
