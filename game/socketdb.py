"""How the event loop (sockets, the clock, the bots) reaches the database.

All of a worker's sockets share one database thread (thread-sensitive ``sync_to_async``, as
channels' ``database_sync_to_async``). Two things keep that thread from becoming the bottleneck
of a class: it keeps its connection between calls, and it never waits for the channel layer, since
the broadcasts of what a call committed are collected (``services.collect_broadcasts``) and sent
from the event loop once the call returns.
"""

from __future__ import annotations

import logging

from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer
from django.db import close_old_connections, connections

from game import services

log = logging.getLogger(__name__)


class SocketDB(SyncToAsync):
    """The sockets' way to the database: like channels' ``database_sync_to_async`` (one thread for
    all sockets of a worker: thread-sensitive), except that the thread keeps its connection between
    calls instead of reconnecting for each (a PostgreSQL connect costs more than an action, and on
    SQLite the last connection's close checkpoints the WAL). A connection that failed or was left
    in a transaction is still closed, and reopened by the next call."""

    def thread_handler(self, loop, *args, **kwargs):
        close_old_connections()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            for conn in connections.all(initialized_only=True):
                conn.close_at = None  # conn_max_age=0 is for request threads, not this one
                conn.close_if_unusable_or_obsolete()


def db(fn):
    """``await db(fn)(*args)``: run a service in the sockets' database thread, then send the
    broadcasts of what it committed from the event loop (the thread never waits for the layer)."""

    def collecting(*args, **kwargs):
        with services.collect_broadcasts() as box:
            try:
                return fn(*args, **kwargs), None, box
            except Exception as e:  # re-raised on the loop, after its committed broadcasts
                return None, e, box

    run = SocketDB(collecting, thread_sensitive=True)

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
