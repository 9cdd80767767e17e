"""Django's HTTP requests under ASGI, each in one trip to a small pool of long-lived threads.

Django's own ``ASGIHandler`` starts a new thread for every request (asgiref's
``ThreadSensitiveContext``) and crosses between the event loop and that thread five times: the
``request_started`` signal, the first middleware's ``process_request`` and ``process_response``
(it is async-capable, the ones after it are not), the rest of the chain with the view, and the
response's ``close``. Each new thread also opened a new database connection (Django's connections
are per thread), so a request could not keep one: on PostgreSQL each request cost a server
process's start-up.

Here a request runs as it would under WSGI, the middleware chain in its synchronous form, in one
call on one of ``GAME_HTTP_THREADS`` threads that live as long as the worker and keep their
database connection between requests (checked before each, and closed after a request that left
it unusable, as Django does). The response is read whole in that thread (the game's pages and
static files are small) and sent from the event loop. The broadcasts of what a request committed
are sent from the event loop after the response (``eventlog.collect_broadcasts``), as the
sockets' database threads do, so a request thread never waits for the channel layer. A bounded
pool also keeps a join storm from starving the sockets' database thread of the GIL, and on
PostgreSQL the pool's threads run at the lowest scheduling priority (``GAME_HTTP_NICE``, 19 there,
0 on SQLite): when a lecture hall joins on a machine with no spare core, the operating system runs
the worker's event loop and database threads, which carry the tables already playing, before its
HTTP threads. A nice value ranks threads that compete in one scheduling group; with Linux's
autogroup (on where this was measured) that is the processes of one session, so here the worker's
own threads among themselves. It does not put the worker behind or ahead of PostgreSQL, Redis or
another program started in a session of its own. On a two-core machine with 100 tables playing
while 800 students joined (docs/performance.md), this and two threads instead of four cut the
playing tables' slowest 1% from about 300 ms to about 120 ms, for about one second more of
joining.

A hook on private APIs: it runs the undocumented steps of Django's ``ASGIHandler.handle``
(``read_body``, ``create_request``, ``chunk_bytes``) and clears a connection's ``close_at``, written
against Django 5.2.19 (pinned to 5.2.x in pyproject.toml). tests/test_private_hooks.py fails, naming
this module, if an upgrade renames them or ``handle`` stops running a request through them.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connections
from django.urls import set_script_prefix

log = logging.getLogger(__name__)

_handlers: list[PooledASGIHandler] = []


def close_connections(timeout: float = 30) -> None:
    """Close the database connections every pool's threads keep (a worker's exit, tests)."""
    for h in list(_handlers):
        h.close_connections(timeout)


class PooledASGIHandler(ASGIHandler):
    def __init__(self, threads: int | None = None):
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.threads = threads or int(settings.GAME["HTTP_THREADS"])
        self.nice = int(settings.GAME["HTTP_NICE"])
        self._warned = False
        self._warn_once = threading.Lock()
        self.pool = ThreadPoolExecutor(
            max_workers=self.threads, thread_name_prefix="http", initializer=self._lower_priority
        )
        self._respond = SyncToAsync(self.respond, thread_sensitive=False, executor=self.pool)
        _handlers.append(self)

    def _lower_priority(self) -> None:
        """Run this pool thread at nice ``GAME_HTTP_NICE``, or the worker's own if that is lower
        still (on Linux a thread's nice is its own: setpriority(2) on the thread's id leaves the
        event loop and the database threads as they are). Lowering a priority needs no privilege;
        where it is not supported the thread keeps the worker's, and the log says so once."""
        if self.nice <= 0:
            return
        try:
            if not sys.platform.startswith("linux"):  # elsewhere a thread's id is not a pid to renice
                raise OSError("a per-thread nice value needs Linux")
            tid = threading.get_native_id()
            if os.getpriority(os.PRIO_PROCESS, tid) < self.nice:  # never above the worker's own
                os.setpriority(os.PRIO_PROCESS, tid, self.nice)
        except (AttributeError, OSError) as exc:
            with self._warn_once:
                warned, self._warned = self._warned, True
            if not warned:
                log.warning("HTTP threads keep the worker's priority (GAME_HTTP_NICE=%s): %s", self.nice, exc)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response, chunks, box = await self._respond(scope, body_file)
        finally:
            body_file.close()
        await self.send_chunks(response, chunks, send)
        if box:
            from game.socketdb import send_broadcasts

            await send_broadcasts(box)

    def respond(self, scope, body_file):
        """The whole request in this thread: signals, middleware, view, and the response read."""
        from game.services import eventlog
        from game.socketdb import drop_if_closed_by_server

        for conn in connections.all(initialized_only=True):
            drop_if_closed_by_server(conn)
        set_script_prefix(get_script_prefix(scope))
        with eventlog.collect_broadcasts() as box:
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            response = error_response if request is None else self.get_response(request)
            response._handler_class = self.__class__
            try:
                chunks = list(response) if response.streaming else [response.content]
            finally:
                for conn in connections.all(initialized_only=True):
                    conn.close_at = None  # this thread lives on: keep a usable connection
                response.close()  # request_finished: a connection left unusable is closed
        return response, chunks, list(box)

    async def send_chunks(self, response, chunks: list[bytes], send) -> None:
        headers = []
        for header, value in response.items():
            if isinstance(header, str):
                header = header.encode("ascii")
            if isinstance(value, str):
                value = value.encode("latin1")
            headers.append((bytes(header), bytes(value)))
        for c in response.cookies.values():
            headers.append((b"Set-Cookie", c.output(header="").encode("ascii").strip()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        body = b"".join(chunks)
        for chunk, last in self.chunk_bytes(body):
            await send({"type": "http.response.body", "body": chunk, "more_body": not last})

    def close_connections(self, timeout: float = 30) -> None:
        """Close the connections the pool's threads keep (a draining worker, tests)."""
        barrier = threading.Barrier(self.threads, timeout=timeout)

        def close_here() -> None:  # one task per thread, held at a barrier so each lands on its own
            barrier.wait()
            connections.close_all()

        for f in [self.pool.submit(close_here) for _ in range(self.threads)]:
            f.result(timeout=2 * timeout)
