"""A chat line sent to PostgreSQL from the socket's own event loop, without a thread.

Every other piece of database work of a socket runs in the sockets' database threads
(``game.socketdb``). A chat line, most of a class's traffic, is one statement on PostgreSQL
(``eventlog.chat_statement``), so the event loop can send it itself on a connection of its own
(psycopg's asynchronous connection, autocommit): no hand-over to a thread and back, no wait for
the GIL on either side. On a loaded machine those hand-overs were most of the time between a
student's chat line and its arrival at the table.

It is only a shortcut: whenever it cannot be taken (SQLite, a seat this worker has not seen act
yet, anything the statement does not apply, a broken or missing connection, a slow answer) it
returns None and the action goes through ``moves.player_action`` in the database thread as
ever, which gives the same answers, errors and retries. A statement that did commit but whose
answer was lost is answered there too (its ref is already claimed), and its broadcast is
recovered by the sockets' gap repair and sync, like any lost broadcast.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from django.conf import settings
from django.db import connections

from game import faults
from game.services import eventlog

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 5.0


class _Link:
    """The event loop's connection: opened on first use, dropped on any failure, reopened after
    a pause."""

    def __init__(self) -> None:
        self.conn = None
        self.down_until = 0.0
        self.closing: asyncio.Future | None = None

    async def connection(self):
        if self.conn is not None and not self.conn.closed and not self.conn.broken:
            return self.conn
        if time.monotonic() < self.down_until:
            return None
        import psycopg

        params = connections["default"].get_connection_params()
        for key in ("cursor_factory", "context", "prepare_threshold", "server_side_binding", "pool"):
            params.pop(key, None)
        try:
            self.conn = await asyncio.wait_for(
                psycopg.AsyncConnection.connect(**params, autocommit=True), TIMEOUT_SECONDS
            )
        except Exception as e:
            self.fail(e)
            return None
        return self.conn

    def fail(self, e: BaseException) -> None:
        log.info("event loop's database connection dropped (%s); the database threads take over", e)
        self.down_until = time.monotonic() + RETRY_AFTER_SECONDS
        conn, self.conn = self.conn, None
        if conn is not None:
            self.closing = asyncio.ensure_future(_close_quietly(conn))


async def _close_quietly(conn) -> None:
    with contextlib.suppress(Exception):
        await conn.close()


class _Links:
    """A few connections per event loop (``GAME_LOOP_DB_CONNECTIONS``, 4)."""

    def __init__(self, n: int) -> None:
        self.all = [_Link() for _ in range(max(1, n))]
        self.free: asyncio.Queue[_Link] = asyncio.Queue()
        for link in self.all:
            self.free.put_nowait(link)


_pools: dict[asyncio.AbstractEventLoop, _Links] = {}


def _links() -> _Links:
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        for old in [lp for lp in _pools if lp.is_closed()]:
            del _pools[old]
        pool = _pools[loop] = _Links(int(settings.GAME.get("LOOP_DB_CONNECTIONS", 4)))
    return pool


def enabled() -> bool:
    return bool(settings.GAME.get("LOOP_CHAT", True)) and connections["default"].vendor == "postgresql"


async def chat(player_id: int, msg: Any) -> dict[str, Any] | None:
    """Apply a chat line in one statement from this event loop; its ack, or None (not applied:
    the caller sends the action through the database thread)."""
    if not enabled():
        return None
    st = eventlog.chat_statement(player_id, msg)
    if st is None:
        return None
    pool = _links()
    try:
        # One statement at a time on each connection, and no queue: with every connection busy
        # (a statement waiting for a table's row lock, a slow moment of the database), the line
        # goes through the database threads rather than wait behind another table's.
        link = pool.free.get_nowait()
    except asyncio.QueueEmpty:
        return None
    try:
        conn = await link.connection()
        if conn is None:
            return None

        # Server-side binding, prepared on each connection at first use: PostgreSQL plans the
        # statement once instead of for every line, and psycopg sends the values without quoting
        # them into the text.
        async with conn.cursor() as cur:
            await asyncio.wait_for(cur.execute(st.sql, st.params, prepare=True), TIMEOUT_SECONDS)
            row = await cur.fetchone()
    except Exception as e:
        link.fail(e)
        return None
    finally:
        pool.free.put_nowait(link)
    if row is None or row[0] is None:
        return None
    st.event.seq = row[0]
    faults.worked("database")
    message = {
        "type": "table.event",
        "table": st.event.table_id,
        "audience": st.event.audience,
        "event": st.event.to_wire(),
    }
    from game.socketdb import send_broadcasts

    await send_broadcasts([(eventlog.table_group(st.event.table_id), message)])
    return st.answer


def close_all() -> None:
    """Close every event loop's connections at once, from any thread (a worker's exit, tests: a
    test's loop is gone by the time PostgreSQL must drop the test database)."""
    for loop, pool in list(_pools.items()):
        for link in pool.all:
            conn, link.conn = link.conn, None
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.pgconn.finish()
        if loop.is_closed():
            _pools.pop(loop, None)
