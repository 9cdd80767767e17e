"""Shared fixtures: the default scenario, sessions, joined players, and sockets with cookies."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore


@pytest.fixture(autouse=True)
def _no_background_tasks():
    """Tests drive the clock and the bots themselves."""
    old = dict(settings.GAME)
    settings.GAME["TICKER"] = False
    settings.GAME["BOTS"] = False
    yield
    settings.GAME.clear()
    settings.GAME.update(old)


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request in another language activates it for the thread (LocaleMiddleware); the next test
    starts in the default language again, whatever the last one read."""
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _close_socket_thread_connection():
    """The sockets' database thread keeps its connection between calls (game.socketdb); close it
    after each test, as a worker does at exit, so that PostgreSQL can drop the test database."""
    yield
    from game import asyncdb
    from game.socketdb import close_connections

    close_connections()
    asyncdb.close_all()


@pytest.fixture
def broadcasts(django_capture_on_commit_callbacks):
    """What the services broadcast, as Zulip's tests capture the events they send:
    ``with broadcasts() as sent: ...`` runs the block's commit callbacks at its end (the test's
    transaction never commits) and collects, instead of sending, every (group, message) they
    broadcast. ``sent.events()`` lists the table events among them."""
    from contextlib import contextmanager

    from game.services import eventlog

    class Sent(list):
        def events(self, kind: str | None = None) -> list[dict]:
            return [
                {**m["event"], "table": m["table"], "audience": m["audience"], "group": g}
                for g, m in self
                if m["type"] == "table.event" and (kind is None or m["event"]["kind"] == kind)
            ]

        def to(self, group: str) -> list[dict]:
            return [m for g, m in self if g == group]

    @contextmanager
    def capture():
        sent = Sent()
        with eventlog.collect_broadcasts() as box:
            with django_capture_on_commit_callbacks(execute=True):
                yield sent
            sent.extend(box)

    return capture


@pytest.fixture
def default_scenario(db):
    from game.scenario_io import ensure_default

    return ensure_default()


def make_instructor(username: str = "teacher", *, admin: bool = False):
    """An instructor as `manage.py create_instructor` makes one: staff, in the Instructor group
    (and the administrators' group with ``admin``). The groups are ensured here because a
    transactional test's flush empties them."""
    from game.roles import ADMINISTRATOR, INSTRUCTOR, ensure_groups

    groups = ensure_groups()
    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
    user.set_password("a-long-test-password")
    user.save()
    user.groups.add(groups[INSTRUCTOR])
    if admin:
        user.groups.add(groups[ADMINISTRATOR])
    return user


_OWNER = object()


@pytest.fixture
def make_session(default_scenario, staff_user):
    """Sessions owned by ``staff_user`` (the instructor "teacher") unless told otherwise."""
    from game.services import clock, seating

    def make(tables: int = 1, start: bool = False, seed: int = 7, owner=_OWNER):
        who = staff_user if owner is _OWNER else owner
        session = seating.create_session(default_scenario, tables, who, seed=seed)
        if start:
            clock.start_session(session.pk)
            session.refresh_from_db()
        return session

    return make


def cookie_for_players(tokens: dict[str, str]) -> str:
    store = SessionStore()
    store["players"] = tokens
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def cookie_for_user(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


@pytest.fixture
def staff_user(db):
    """The instructor who owns the sessions that ``make_session`` opens."""
    return make_instructor("teacher")


class Client:
    """A socket with an inbox, so tests can wait for what they expect and check what they did not get."""

    def __init__(self, comm: WebsocketCommunicator, name: str = ""):
        self.comm, self.name, self.inbox = comm, name, []
        self.n = 0

    async def send(self, type_: str, **fields) -> str:
        self.n += 1
        ref = fields.pop("ref", None) or f"{self.name}-{self.n}"
        await self.comm.send_to(text_data=json.dumps({"type": type_, "ref": ref, **fields}))
        return ref

    async def raw(self, text: str) -> None:
        await self.comm.send_input({"type": "websocket.receive", "text": text})

    async def _pull(self, timeout: float) -> bool:
        # Read the output queue directly: asgiref's receive_output kills the app on a timeout.
        if self.comm.future.done() and self.comm.output_queue.empty():
            self.comm.future.result()
            return False
        try:
            msg = await asyncio.wait_for(self.comm.output_queue.get(), timeout)
        except TimeoutError:
            return False
        if msg["type"] == "websocket.close":
            self.inbox.append({"type": "__closed__", "code": msg.get("code")})
        elif msg["type"] == "websocket.send":
            self.inbox.append(json.loads(msg["text"]))
        return True

    async def wait(self, pred, timeout: float = 3.0):
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            for i, m in enumerate(self.inbox):
                if pred(m):
                    return self.inbox.pop(i)
            left = end - loop.time()
            if left <= 0:
                raise AssertionError(f"{self.name}: timed out; inbox tail: {self.inbox[-5:]}")
            await self._pull(min(left, 0.5))

    async def answer(self, ref: str, timeout: float = 3.0):
        return await self.wait(
            lambda m: m.get("ref") == ref and m.get("type") in ("ack", "error", "preview"), timeout
        )

    async def event(self, kind: str, timeout: float = 3.0, **match):
        def pred(m):
            return (
                m.get("type") == "event"
                and m.get("kind") == kind
                and all(m.get("data", {}).get(k) == v for k, v in match.items())
            )

        return await self.wait(pred, timeout)

    async def drain(self, seconds: float = 0.3) -> list:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            await self._pull(max(0.01, end - loop.time()))
        out, self.inbox = self.inbox, []
        return out

    async def close(self):
        await self.comm.disconnect()


async def connect(
    path: str,
    cookie: str | None,
    *,
    origin: str = "http://testserver",
    host: str = "testserver",
    name: str = "",
) -> tuple[bool, Client]:
    from negotiation.asgi import application

    # A browser sends both: the Origin of the page and the Host the socket was opened on.
    headers = [(b"origin", origin.encode()), (b"host", host.encode())]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect(timeout=5)
    return connected, Client(comm, name)


@pytest.fixture
def join_players():
    """Join n players to a session through the service; returns [(player, cookie)]."""

    @database_sync_to_async
    def join(session, n: int = 4, prefix: str = "Student"):
        from game.services import seating

        out = []
        for i in range(n):
            p = seating.join(session.code, f"{prefix} {i + 1}")
            out.append((p, cookie_for_players({session.code: str(p.token)})))
        return out

    return join


@pytest.fixture
def seat_clients(join_players):
    """Four connected sockets, one per role, keyed by role, each with its state received."""

    async def make(session, n: int = 4):
        players = await join_players(session, n)
        clients = {}
        for player, cookie in players:
            ok, c = await connect(f"/ws/play/{session.code}/", cookie, name=player.role)
            assert ok
            st = await c.wait(lambda m: m.get("type") == "state")
            c.state = st
            clients.setdefault(player.role, c)
        return clients

    return make


@pytest.fixture
def admin_client(db, default_scenario):
    """A logged-in department administrator (a superuser)."""
    from django.test import Client

    user = get_user_model().objects.create_superuser("prof", "prof@example.edu", "a-long-password-1")
    c = Client()
    c.force_login(user)  # Client.login() passes no request, which the login throttle (axes) needs
    c.user = user
    return c
