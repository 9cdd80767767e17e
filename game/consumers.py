"""WebSocket consumers: authenticate the socket, parse frames, call a service, send its answer.

No rule is decided here. What the consumers do own is delivery: every table event carries the
table's ``seq``, so a socket delivers events strictly in order, skips duplicates, and fills a
gap (a broadcast lost by the channel layer, or one overtaken by another worker's) from the
event log.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import re
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy

from game import access, asyncdb, faults, i18n, l10n, lifecycle, logs, wire
from game import host as host_services
from game.engine import chat as chat_rules
from game.models import normalise_code
from game.services import eventlog, moves, presence, snapshots
from game.services.errors import ServiceError
from game.socketdb import BACKGROUND, URGENT, db

log = logging.getLogger(__name__)

GAP_WAIT_SECONDS = 0.4

# Close codes (docs/protocol.md): the server's own, all within 4000-4999.
CLOSE_BAD_JSON = 4400  # kept sending frames that are not JSON objects
CLOSE_FORBIDDEN = 4403  # this cookie does not entitle the socket (or no longer does)
CLOSE_UNKNOWN = 4404  # no such session (told to department administrators only)
CLOSE_REPLACED = 4409  # the player opened more sockets than allowed: this, the oldest, was closed
CLOSE_TOO_LARGE = 4413  # a frame over GAME_MAX_FRAME_BYTES bytes
CLOSE_TOO_DEEP = 4422  # kept sending JSON nested deeper than GAME_MAX_FRAME_DEPTH
BAD_FRAME_WINDOW_SECONDS = 10.0

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def frame_bytes_over(raw: str | bytes, limit: int) -> bool:
    """Is the frame longer than ``limit`` bytes in UTF-8? (A character is 1 to 4 bytes: only a
    frame between limit/4 and limit characters needs encoding to know.)"""
    if isinstance(raw, bytes):
        return len(raw) > limit
    n = len(raw)
    if n > limit:
        return True
    if 4 * n <= limit:
        return False
    return len(raw.encode("utf-8", "surrogatepass")) > limit


def nested_deeper_than(raw: str | bytes, limit: int) -> bool:
    """Would parsing this frame nest arrays or objects deeper than ``limit``? Checked before
    parsing: ``"[" * 16000`` made the parser recurse until Python gave up."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for ch in _BRACKET.findall(_STRING.sub("", text)):
        if ch in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class DirectDispatch:
    """channels >= 4.2 awaits ``close_old_connections()`` in the shared database thread before every
    handler (``AsyncConsumer.dispatch``), so each frame delivered to each socket waited behind the
    database work of the whole worker. These consumers reach the database only through ``db``,
    which manages the connection itself, so they dispatch straight to the handler."""

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class RateLimiter:
    """A token bucket: bursts are fine, a flood is refused. A player's sockets in one worker share
    one (``player_limiter``), so opening more sockets does not buy more messages."""

    def __init__(self, per_10s: int):
        self.capacity = float(per_10s)
        self.tokens = float(per_10s)
        self.rate = per_10s / 10.0
        self.stamp = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


_player_limiters: dict[int, list] = {}


def player_limiter(player_id: int) -> RateLimiter:
    """The bucket that every socket of this player in this worker draws from (reference
    counted: dropped when the player's last socket here closes)."""
    entry = _player_limiters.get(player_id)
    if entry is None:
        entry = _player_limiters[player_id] = [RateLimiter(settings.GAME["RATE_LIMIT_PER_10S"]), 0]
    entry[1] += 1
    return entry[0]


def release_player_limiter(player_id: int) -> None:
    entry = _player_limiters.get(player_id)
    if entry is not None:
        entry[1] -= 1
        if entry[1] <= 0:
            del _player_limiters[player_id]


_presence_retries: dict[int, asyncio.Task] = {}


def schedule_presence(player_id: int, delay: float | None) -> None:
    """Announce a held-back presence change later (presence.announce_presence coalesces churn)."""
    if delay is None:
        return
    task = _presence_retries.get(player_id)
    if task is not None and not task.done():
        return
    _presence_retries[player_id] = asyncio.get_running_loop().create_task(_report_later(player_id, delay))


async def _report_later(player_id: int, delay: float | None) -> None:
    try:
        while delay is not None:
            await asyncio.sleep(delay + 0.05)
            delay = await db(presence.report_presence, level=BACKGROUND)(player_id)
    except Exception:
        log.exception("presence report for player %s failed", player_id)
    finally:
        if _presence_retries.get(player_id) is asyncio.current_task():
            del _presence_retries[player_id]


class TableStream:
    """Delivers one table's events in seq order, exactly once, to one socket."""

    def __init__(self, consumer: GameSocket, table_id: int, last_seq: int | None):
        """``last_seq=None``: the stream buffers until :meth:`start` says where the snapshot the
        socket sent ends (the socket joins the table's group before it reads the snapshot, so
        nothing broadcast in between is lost)."""
        self.consumer, self.table_id = consumer, table_id
        self.last_seq = last_seq if last_seq is not None else 0
        self.started = last_seq is not None
        self.buffer: dict[int, dict[str, Any]] = {}
        self.repair: asyncio.Task | None = None

    async def start(self, last_seq: int) -> None:
        self.last_seq, self.started = last_seq, True
        await self.advance(last_seq)

    async def advance(self, seq: int) -> None:
        """Everything up to ``seq`` has reached the client another way (a snapshot, a replay, the
        log): drop it from the buffer and deliver what now follows in order."""
        self.last_seq = max(self.last_seq, seq)
        for s in [s for s in self.buffer if s <= self.last_seq]:
            del self.buffer[s]
        await self._drain()
        self._watch_gap()

    async def offer(self, audience: str, event: dict[str, Any]) -> None:
        seq = event["seq"]
        if self.started and seq <= self.last_seq:
            return
        self.buffer[seq] = {"audience": audience, "event": event}
        if not self.started:
            return
        await self._drain()
        self._watch_gap()

    def _watch_gap(self) -> None:
        if self.buffer and (self.repair is None or self.repair.done()):
            self.repair = asyncio.create_task(self._repair_later())

    async def _drain(self) -> None:
        while self.last_seq + 1 in self.buffer:
            item = self.buffer.pop(self.last_seq + 1)
            self.last_seq += 1
            await self.consumer.deliver(self.table_id, item["audience"], item["event"])

    async def _repair_later(self) -> None:
        await asyncio.sleep(GAP_WAIT_SECONDS)
        if self.buffer:
            await self.catch_up()

    async def catch_up(self) -> None:
        """Read every event after last_seq from the log and deliver the visible ones."""
        events = await db(eventlog.visible_events, retry=True)(self.table_id, None, self.last_seq, host=True)
        for e in events:
            if e.seq > self.last_seq:
                self.last_seq = e.seq
                await self.consumer.deliver(self.table_id, e.audience, e.to_wire())
        await self.advance(self.last_seq)

    def close(self) -> None:
        if self.repair is not None:
            self.repair.cancel()


class SyncSweep:
    """Every socket of a worker syncs every ``SYNC_SECONDS``, in batches: once a tick, the sockets
    that are due share one database trip (their presence marked, their tables' latest seq read),
    and only a socket whose stream is behind reads the log. With 800 sockets that is one trip a
    second instead of 40, and the syncs are spread over the period instead of bunched."""

    _by_loop: dict[asyncio.AbstractEventLoop, SyncSweep] = {}

    @classmethod
    def of_loop(cls) -> SyncSweep:
        loop = asyncio.get_running_loop()
        sweep = cls._by_loop.get(loop)
        if sweep is None:
            for old in [lp for lp in cls._by_loop if lp.is_closed()]:
                del cls._by_loop[old]
            sweep = cls._by_loop[loop] = cls()
        return sweep

    def __init__(self) -> None:
        self.due: dict[GameSocket, float] = {}
        self.task: asyncio.Task | None = None

    @staticmethod
    def period() -> float:
        return float(settings.GAME["SYNC_SECONDS"])

    def add(self, sock: GameSocket) -> None:
        self.due[sock] = time.monotonic() + self.period()
        if self.task is None or self.task.done():
            # Its own log context: the sweep serves every game of the worker, not the first socket's.
            self.task = asyncio.create_task(self._run(), context=contextvars.Context())

    def discard(self, sock: GameSocket) -> None:
        self.due.pop(sock, None)

    async def _run(self) -> None:
        while self.due:
            await asyncio.sleep(min(1.0, self.period() / 4))
            now = time.monotonic()
            batch = [sock for sock, at in self.due.items() if at <= now]
            if not batch:
                continue
            for sock in batch:
                self.due[sock] = now + self.period()
            try:
                await self.sync(batch)
            except Exception as e:
                faults.report("sync", e, f"{len(batch)} sockets")

    async def sync(self, batch: list[GameSocket]) -> None:
        players = [sock.channel_name for sock in batch if isinstance(sock, PlayerConsumer)]
        tables = sorted({tid for sock in batch for tid in sock.streams})
        seqs = await db(presence.sweep, retry=True, level=BACKGROUND)(players, tables)
        for sock in batch:
            if sock in self.due:  # not closed meanwhile
                try:
                    await sock.synced(seqs)
                except Exception as e:
                    faults.report("sync of one socket", e)


class GameSocket(DirectDispatch, AsyncWebsocketConsumer):
    """What the player and host sockets share: frames, errors, rate limits, ordered streams."""

    groups_joined: list[str]

    async def websocket_connect(self, message):
        self.groups_joined = []
        self.streams: dict[int, TableStream] = {}
        self.limiter = RateLimiter(settings.GAME["RATE_LIMIT_PER_10S"])
        self.bad_frames: list[float] = []
        self.closing = False
        logs.set_game(normalise_code(self.scope["url_route"]["kwargs"].get("code", "")) or None)
        if lifecycle.draining():  # restarting: the page reconnects at once, to another worker
            await self.accept()
            await self.close(code=1012)
            return
        lifecycle.add_socket(self)
        try:
            await super().websocket_connect(message)
        except Exception as e:
            if not faults.is_unavailable(e):
                raise
            # The database or the channel layer is out: 1013 (try again later); the page
            # reconnects with backoff, and its unacknowledged actions wait in its outbox.
            faults.report("socket connect", e)
            with contextlib.suppress(Exception):
                await self.accept()
            await self.close(code=1013)

    async def join_group(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def rejoin_groups(self) -> None:
        """Re-add this socket to its groups: a restarted Redis has forgotten every membership."""
        for g in self.groups_joined:
            await self.channel_layer.group_add(g, self.channel_name)

    async def leave_groups(self) -> None:
        for g in self.groups_joined:
            await self.channel_layer.group_discard(g, self.channel_name)
        self.groups_joined = []

    closing = False

    async def send_json(self, payload: dict[str, Any]) -> None:
        if self.closing:  # closed by the server (a drain): what follows reaches the client on reconnect
            return
        await self.send(text_data=json.dumps(payload, ensure_ascii=False, separators=(",", ":")))

    async def close(self, code=None, reason=None):
        self.closing = True
        await super().close(code=code, reason=reason)

    def language(self) -> str:
        """The language this socket's page reads (``?lang=`` on its URL, else the language
        cookie or the browser's Accept-Language): the messages it is sent are in it."""
        lang = getattr(self, "lang", None)
        if not lang:
            lang = self.lang = l10n.scope_language(self.scope)
        return lang

    def say(self, message: Any) -> str:
        """A (lazy) message of the server in this socket's language."""
        with translation.override(self.language()):
            return str(message)

    async def send_error(self, ref: Any, code: str, message: str, **extra: Any) -> None:
        await self.send_json(wire.error(ref, code, self.say(message), **extra))

    async def close_with(self, code: int) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code=code)

    async def refuse_frame(self, code: str, message: str, close_code: int) -> None:
        """Answer an unreadable frame; a socket that keeps sending them is closed."""
        await self.send_error(None, code, message)
        now = time.monotonic()
        self.bad_frames = [t for t in self.bad_frames if now - t < BAD_FRAME_WINDOW_SECONDS] + [now]
        if len(self.bad_frames) >= settings.GAME["MAX_BAD_FRAMES"]:
            await self.close_with(close_code)

    async def receive(self, text_data=None, bytes_data=None):
        raw = text_data if text_data is not None else bytes_data
        if raw is None or self.closing:
            return
        limit = settings.GAME["MAX_FRAME_BYTES"]
        if frame_bytes_over(raw, limit):
            await self.send_error(
                None,
                "too_large",
                self.say(gettext_lazy("Messages are limited to %(limit)s bytes.")) % {"limit": limit},
            )
            await self.close_with(CLOSE_TOO_LARGE)
            return
        depth = settings.GAME["MAX_FRAME_DEPTH"]
        if nested_deeper_than(raw, depth):
            await self.refuse_frame(
                "bad_json",
                self.say(gettext_lazy("That message nests more than %(depth)s levels deep."))
                % {"depth": depth},
                CLOSE_TOO_DEEP,
            )
            return
        try:
            msg = json.loads(raw)
        except RecursionError:
            await self.refuse_frame(
                "bad_json",
                self.say(gettext_lazy("That message nests more than %(depth)s levels deep."))
                % {"depth": depth},
                CLOSE_TOO_DEEP,
            )
            return
        except (ValueError, UnicodeDecodeError):
            await self.refuse_frame(
                "bad_json", gettext_lazy("That message is not valid JSON."), CLOSE_BAD_JSON
            )
            return
        if not isinstance(msg, dict):
            await self.refuse_frame(
                "bad_json", gettext_lazy("A message must be a JSON object with a 'type'."), CLOSE_BAD_JSON
            )
            return
        try:
            head = wire.header(msg)  # read once: handle() reads the fields with it
        except wire.WireError as e:
            await self.send_error(e.ref, e.code, e.message)
            return
        ref, kind = head
        if not self.limiter.allow():
            await self.send_error(ref, "rate_limited", gettext_lazy("Too many messages: wait a few seconds."))
            return
        try:
            async with lifecycle.work():
                if lifecycle.draining():
                    raise faults.Restarting(f"{kind} arrived while draining")
                await self.handle(msg, head)
        except ServiceError as e:
            await self.send_error(ref, e.code, e.message)
        except Exception as e:
            if not faults.is_unavailable(e):
                log.exception("unexpected failure handling %s", kind)
                await self.send_error(
                    ref, "invalid", gettext_lazy("The server could not handle that message; nothing changed.")
                )
                return
            # The database or channel layer is out (or this worker is restarting): nothing
            # changed, and the same message with the same ref may be sent again.
            faults.report(kind, e, f"ref {ref}" if ref else "")
            restarting = isinstance(e, faults.Restarting)
            await self.send_error(
                ref,
                "unavailable",
                faults.RESTARTING_MESSAGE if restarting else faults.UNAVAILABLE_MESSAGE,
                retry_after=faults.RETRY_AFTER,
            )

    async def handle(self, msg: dict[str, Any], head: tuple[str | None, str]) -> None:
        """Apply a frame whose header (``ref``, ``type``) ``receive`` has read."""
        raise NotImplementedError

    # -- delivery -------------------------------------------------------------------------
    async def table_event(self, message):
        stream = self.streams.get(message["table"])
        if stream is not None:
            await stream.offer(message["audience"], message["event"])

    async def deliver(self, table_id: int, audience: str, event: dict[str, Any]) -> None:
        raise NotImplementedError

    def start_sync(self) -> None:
        SyncSweep.of_loop().add(self)

    async def synced(self, table_seqs: dict[int, int]) -> None:
        """This socket's periodic sync, given each table's latest seq (read once for a batch of
        sockets): re-join the groups (a restarted Redis forgot them), deliver from the log what a
        stream is missing (a lost last broadcast reveals no gap by itself), then say ``sync``."""
        await self.rejoin_groups()
        for tid, stream in list(self.streams.items()):
            if stream.started and table_seqs.get(tid, 0) > stream.last_seq:
                await stream.catch_up()
        await self.send_sync()

    async def send_sync(self) -> None:
        raise NotImplementedError

    async def disconnect(self, code):
        SyncSweep.of_loop().discard(self)
        for s in self.streams.values():
            s.close()
        try:
            await self.leave_groups()
        except Exception as e:
            faults.report("leaving groups", e)

    async def websocket_disconnect(self, message):
        try:
            await super().websocket_disconnect(message)
        finally:
            lifecycle.discard_socket(self)


class PlayerConsumer(GameSocket):
    player_id: int | None = None
    table_id: int | None = None
    # The highest seq this socket has shown its client (snapshot or event): what ``sync`` reports.
    last_visible = 0

    async def connect(self):
        code = normalise_code(self.scope["url_route"]["kwargs"]["code"])
        # One trip to the database: the cookie's session read, the player found, the socket
        # registered (so the snapshot shows us online) and the seat read.
        # The language of the page that opened this socket: the scenario's words reach this
        # student in it (the same table may read several).
        self.lang = i18n.scope_language(self.scope)
        opened = await db(_open_player_socket, retry=True)(
            code, self.scope.get("session"), self.channel_name, self.lang
        )
        if opened is None:
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        seat = opened.seat
        self.player_id = seat.player_id
        self.session_id = seat.session_id
        # Every socket of this player in this worker draws on one rate-limit bucket.
        self.limiter = player_limiter(seat.player_id)
        self.scenario = opened.scenario
        await self.accept()
        # Not the session group: its notifications are for the host's dashboard, and sending
        # each join and presence change to every student's socket flooded a large class.
        await self.join_group(eventlog.player_group(seat.player_id))
        # Sockets of this player beyond the cap (the oldest first) are told to close, wherever
        # they are.
        schedule_presence(seat.player_id, opened.presence_later)
        for name in opened.evict:
            await self.channel_layer.send(name, {"type": "socket.replaced"})
        await self._seat_and_state(since=None, seat=seat)
        self.start_sync()

    async def _seat_and_state(self, since: int | None, seat: moves.Seat | None = None) -> None:
        if seat is None:
            seat = await db(moves.load_seat, retry=True)(self.player_id)
        self.role = seat.role if seat else None
        table_id = seat.table_id if seat else None
        fresh = None
        if table_id not in self.streams:
            for tid, s in list(self.streams.items()):
                s.close()
                await self.channel_layer.group_discard(eventlog.table_group(tid), self.channel_name)
                self.groups_joined.remove(eventlog.table_group(tid))
                del self.streams[tid]
            if table_id is not None:
                # Buffer the table's broadcasts from now on, before the snapshot is read.
                fresh = self.streams[table_id] = TableStream(self, table_id, None)
                await self.join_group(eventlog.table_group(table_id))
        state = await db(snapshots.player_state, retry=True)(self.player_id, self.lang)
        if (state.get("table") or {}).get("id") != table_id or (state.get("you") or {}).get(
            "role"
        ) != self.role:
            # Moved between the seat's read and the snapshot's (before this socket listened for
            # such news on its player group): start again from the seat it has now.
            await self._seat_and_state(since)
            return
        self.table_id = table_id
        logs.set_game(table=(state.get("table") or {}).get("number"))
        await self.send_json(state)
        self.last_visible = state["seq"] if fresh is not None else max(self.last_visible, state["seq"])
        if table_id is None:
            return
        stream = self.streams[table_id]
        if stream is fresh:
            await stream.start(state["seq"])
            return
        if since is None:
            # Live delivery goes on from where it was: an event that the snapshot already
            # includes is still sent, so a client that waits for it (by seq) never misses it.
            return
        for e in await db(eventlog.visible_events, retry=True)(table_id, self.role, since):
            if e.seq <= state["seq"]:
                await self.send_json(wire.localize_event(e.to_wire(), self.scenario))
        # The replay covered everything up to the snapshot; later events stay buffered.
        await stream.advance(state["seq"])

    async def handle(self, msg: dict[str, Any], head: tuple[str | None, str]) -> None:
        action = wire.player_action(msg, head)
        if isinstance(action, wire.Hello):
            await self._seat_and_state(action.since)
            if action.ref is not None:
                await self.send_json(wire.ack(action.ref))
        elif isinstance(action, wire.Preview):
            await self.send_json(
                await db(moves.preview, retry=True, level=URGENT)(self.player_id, action, self.lang)
            )
        else:
            # A chat line goes to PostgreSQL straight from this loop when it can (game/asyncdb.py).
            answer = await asyncdb.chat(self.player_id, action) if isinstance(action, wire.ChatSend) else None
            if answer is None:
                answer = await db(moves.player_action, retry=_has_ref, level=URGENT)(self.player_id, action)
            await self.send_json(answer)

    async def deliver(self, table_id: int, audience: str, event: dict[str, Any]) -> None:
        if chat_rules.can_read(audience, self.role):
            await self.send_json(wire.localize_event(event, self.scenario))
            self.last_visible = max(self.last_visible, event["seq"])
            if event.get("kind") == "seats" and not self._still_seated(event.get("data") or {}):
                # A host may have moved this player: re-read the seat if it changed.
                seat = await db(moves.load_seat, retry=True)(self.player_id)
                if seat is None or seat.role != self.role or seat.table_id != self.table_id:
                    await self._seat_and_state(None)

    def _still_seated(self, data: dict[str, Any]) -> bool:
        """Does this table's ``seats`` event list this player in its role? (Then nothing changed
        for this socket, and a join storm costs no database trip per socket.)"""
        for seat in data.get("seats") or ():
            for p in seat.get("players") or ():
                if p.get("id") == self.player_id:
                    return seat.get("role") == self.role
        return False

    async def player_changed(self, message):
        if message.get("what") == "handed":
            # The instructor gave this device another player's seat: the page reloads into it.
            await self.send_json(
                wire.notice(
                    "reload", self.say(gettext_lazy("Your instructor gave you back your seat: loading it."))
                )
            )
            await self.close(code=4000)
            return
        if message.get("what") == "removed":
            await self.send_json(
                wire.notice(
                    "removed", self.say(gettext_lazy("Your instructor removed you from this session."))
                )
            )
            await self.close_with(CLOSE_FORBIDDEN)
            return
        await self._seat_and_state(None)

    async def socket_replaced(self, message):
        """This player opened more sockets than allowed; this one is the oldest."""
        await self.send_json(
            wire.notice(
                "replaced",
                self.say(
                    gettext_lazy("This game is open in another tab or device; this page stopped updating.")
                ),
            )
        )
        self.replaced = True
        await self.close_with(CLOSE_REPLACED)

    async def send_sync(self) -> None:
        if self.table_id is not None:
            await self.send_json(wire.sync(self.last_visible))

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.player_id is not None:
            release_player_limiter(self.player_id)
            try:
                later = await db(presence.socket_closed, retry=True, level=BACKGROUND)(
                    self.player_id, self.channel_name
                )
            except Exception as e:  # presence heals by itself: the row expires (models.Connection)
                faults.report("socket close", e)
            else:
                schedule_presence(self.player_id, later)


class HostConsumer(GameSocket):
    """The dashboard's socket. Access is checked at connect, before every action, and every
    ``HOST_RECHECK_SECONDS``: a user who logs out, is deactivated or loses access to the session
    (a co-instructor removed) is closed with 4403 within seconds."""

    session_id: int | None = None
    recheck_task: asyncio.Task | None = None

    async def connect(self):
        user = self.scope.get("user")
        code = normalise_code(self.scope["url_route"]["kwargs"]["code"])
        session_store = self.scope.get("session")
        self.session_key = getattr(session_store, "session_key", None)
        if user is None or not user.is_authenticated or not await db(access.is_instructor)(user):
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        session = await db(host_services.session_by_code, retry=True)(code)
        allowed = session is not None and await db(access.can_host)(user, session)
        if not allowed:
            # An unknown code and someone else's session look the same, except to an administrator.
            admin = await db(access.is_admin)(user)
            await self.accept()
            await self.close(code=CLOSE_UNKNOWN if session is None and admin else CLOSE_FORBIDDEN)
            return
        self.user_id = user.pk
        self.session_id = session.pk
        self.refresh_task: asyncio.Task | None = None
        self.lang = i18n.scope_language(self.scope)  # the dashboard's (or projector's) language
        self.scenario = await db(snapshots.session_scenario, retry=True)(session.pk, self.lang)
        await self.accept()
        await self.join_group(eventlog.session_group(session.pk))
        await self._state()
        self.start_sync()
        self.recheck_task = asyncio.create_task(self._recheck_forever())

    async def _allowed(self) -> bool:
        return await db(access.host_socket_allowed)(self.user_id, self.session_key, self.session_id)

    async def _recheck_forever(self) -> None:
        period = float(settings.GAME["HOST_RECHECK_SECONDS"])
        while not self.closing:
            await asyncio.sleep(period)
            try:
                allowed = await self._allowed()
            except Exception:
                log.exception("host access re-check failed")
                continue
            if not allowed:
                await self.close_with(CLOSE_FORBIDDEN)
                return

    async def _state(self) -> None:
        state = await db(host_services.host_state, retry=True)(self.session_id, self.lang)
        for t in state["tables"]:
            if t["id"] not in self.streams:
                await self.join_group(eventlog.table_group(t["id"]))
                self.streams[t["id"]] = TableStream(self, t["id"], t["seq"])
        await self.send_json(state)

    async def handle(self, msg: dict[str, Any], head: tuple[str | None, str]) -> None:
        action = wire.host_action(msg, head)
        if not await self._allowed():
            await self.send_error(
                action.ref, "forbidden", gettext_lazy("You no longer have access to this session.")
            )
            await self.close_with(CLOSE_FORBIDDEN)
            return
        if isinstance(action, wire.HostHello):
            await self._state()
            answer = wire.ack(action.ref)
        else:
            answer = await db(host_services.host_action, retry=_has_ref, level=URGENT)(
                self.session_id, action
            )
        await self.send_json(answer)

    async def deliver(self, table_id: int, audience: str, event: dict[str, Any]) -> None:
        await self.send_json(wire.host_event(event, table_id, audience, self.scenario))

    async def session_changed(self, message):
        if self.refresh_task is None or self.refresh_task.done():
            self.refresh_task = asyncio.create_task(self._refresh_soon())

    async def _refresh_soon(self) -> None:
        await asyncio.sleep(0.3)
        await self._state()

    async def player_changed(self, message):
        return

    async def send_sync(self) -> None:
        await self.send_json(wire.sync({str(t): s.last_seq for t, s in self.streams.items()}))

    async def disconnect(self, code):
        self.closing = True
        if self.recheck_task is not None:
            self.recheck_task.cancel()
        await super().disconnect(code)


def _open_player_socket(
    code: str, session, channel_name: str, lang: str | None = None
) -> presence.OpenedSocket | None:
    """In the database thread: the join token the cookie's session holds for this session's
    code (reading the session is a query), then ``presence.open_player_socket``."""
    token = (session.get("players", {}) if session is not None else {}).get(code)
    return presence.open_player_socket(code, token, channel_name, lang)


def _has_ref(_owner: int, action: Any) -> bool:
    """An action with a ref is claimed in its own transaction, so it may be sent twice."""
    return action.ref is not None


class RelayConsumer(DirectDispatch, AsyncWebsocketConsumer):
    """The benchmark's baseline: relays each frame to its group; no database, no engine.

    Served only when a benchmark turns it on (``GAME_BENCH_RELAY=1``): otherwise the handshake is
    refused, as for any unknown path. Even then a frame over the frame limit closes it."""

    group: str | None = None

    async def connect(self):
        if not settings.GAME["BENCH_RELAY"]:
            await self.close()
            return
        self.group = (
            "relay." + "".join(ch for ch in self.scope["url_route"]["kwargs"]["group"] if ch.isalnum())[:40]
        )
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if self.group is None:
            return
        if frame_bytes_over(text_data or bytes_data or "", settings.GAME["MAX_FRAME_BYTES"]):
            await self.close(code=CLOSE_TOO_LARGE)
            return
        await self.channel_layer.group_send(self.group, {"type": "relay.message", "text": text_data or ""})

    async def relay_message(self, message):
        await self.send(text_data=message["text"])

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
