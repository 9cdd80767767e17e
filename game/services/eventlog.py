"""The event log, and every statement the game writes by hand.

This module alone owns the log: an event is appended here (``append`` through the ORM, or
``append_raw`` in one statement) with the table's next ``seq``, in the same transaction as the
change it records; its broadcast is registered to run once that transaction commits
(``commit_broadcast``), and collected instead of sent while a socket's or a request's call runs
(``collect_broadcasts``). Reading the log back (``visible_events``) filters each event by its
audience. All raw SQL of the services lives here too, each statement in a function of its own
(the seat a join takes, a socket registered, a player found by token, a chat line in one
statement on PostgreSQL): the other modules speak the ORM or call these.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from game import names, wire
from game.engine import chat as chat_rules
from game.engine.rules import RuleViolation
from game.models import (
    ClientRef,
    Connection,
    Event,
    GameSession,
    GameTable,
    HostRef,
    Player,
    cached_scenario_for,
    normalise_code,
)


def table_group(table_id: int) -> str:
    return f"table.{table_id}"


def session_group(session_id: int) -> str:
    return f"session.{session_id}"


def player_group(player_id: int) -> str:
    return f"player.{player_id}"


_outbox = threading.local()


@contextmanager
def collect_broadcasts() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Collect, instead of sending, the broadcasts of committed changes made in this block.

    A socket's database thread runs the block and the socket sends the collected messages from
    its event loop afterwards, so the one database thread that all sockets of a worker share
    never waits for the channel layer. Without it (views, commands, bots) they are sent at once.
    """
    previous = getattr(_outbox, "box", None)
    box: list[tuple[str, dict[str, Any]]] = []
    _outbox.box = box
    try:
        yield box
    finally:
        _outbox.box = previous


def _send(group: str, message: dict[str, Any]) -> None:
    box = getattr(_outbox, "box", None)
    if box is not None:
        box.append((group, message))
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception as e:  # a lost broadcast is recovered by sync/hello; never fail the action
        from game import faults

        faults.report("broadcast", e, group)


def _broadcast_events(table_id: int, events: Sequence[Event]) -> None:
    for e in events:
        _send(
            table_group(table_id),
            {"type": "table.event", "table": table_id, "audience": e.audience, "event": e.to_wire()},
        )


def _after_commit(fn, *args) -> None:
    transaction.on_commit(lambda: fn(*args))


def notify_session(session_id: int, what: str = "changed") -> None:
    _after_commit(_send, session_group(session_id), {"type": "session.changed", "what": what})


def notify_player(player_id: int, what: str = "reload") -> None:
    _after_commit(_send, player_group(player_id), {"type": "player.changed", "what": what})


def append(table: GameTable, kind: str, data: dict[str, Any], audience: str, now: datetime) -> Event:
    """Append the table's next event. The caller holds the table's row lock and saves the table."""
    table.seq += 1
    table.last_activity = now
    return Event.objects.create(table=table, seq=table.seq, kind=kind, data=data, audience=audience, at=now)


def lock_table(table_id: int) -> GameTable:
    return (
        # of=("self",): lock the table's row only. Without it PostgreSQL also locks the joined
        # session row, and every table of a class would wait for one lock.
        GameTable.objects.select_for_update(of=("self",))
        .select_related("session")
        .defer("session__scenario_data")
        .get(pk=table_id)
    )


def commit_broadcast(table_id: int, events: Sequence[Event]) -> None:
    """Broadcast a table's new events once the transaction that wrote them has committed."""
    if events:
        _after_commit(_broadcast_events, table_id, list(events))


def _least_taken_seat_sql(session_id: int, roles: Sequence[str]) -> tuple[str, list[Any]]:
    """The statement choosing the session's least taken seat: (table id, role, players in it),
    ties broken by table number and then role order. One rule for both ways of seating a player
    (``least_taken_seat`` and ``seat_in_one_trip``)."""
    values = ", ".join(["(%s, %s)"] * len(roles))
    sql = (
        f"WITH r(role, pos) AS (VALUES {values}) "
        f"SELECT t.id AS table_id, r.role, (SELECT COUNT(*) FROM {table_sql(Player)} p "
        "WHERE p.table_id = t.id AND p.role = r.role AND p.removed = %s) AS taken "
        f"FROM {table_sql(GameTable)} t CROSS JOIN r WHERE t.session_id = %s "
        "ORDER BY taken, t.number, r.pos LIMIT 1"
    )
    return sql, [*[x for i, r in enumerate(roles) for x in (r, i)], False, session_id]


def least_taken_seat(session_id: int, roles: Sequence[str]) -> tuple[int, str, int] | None:
    """(table id, role, players in it) of the session's least taken seat, or None without tables."""
    if not roles:
        return None
    with connection.cursor() as c:
        c.execute(*_least_taken_seat_sql(session_id, roles))
        row = c.fetchone()
    return (row[0], row[1], row[2]) if row else None


def seat_in_one_trip(
    session_id: int, code: str, roles: Sequence[str], player: Player
) -> tuple[GameSession | None, Player | None]:
    """PostgreSQL: a join's seat in one message to the server, which runs it as one transaction
    and commits it: the session's row locked, then the least taken seat chosen (as
    ``least_taken_seat``, with a snapshot taken after the lock) and ``player`` (unsaved, its other
    fields set) inserted into it. The class's lock is held only while the server runs the two
    statements; through the ORM it was held across every round trip back to a busy worker
    (docs/performance.md).

    Returns (the session as locked, or None if this id and code are no longer an open session;
    the player saved, or None when the seat is left to ``seating.join``'s full path: a session
    opening tables as students come, once every seat is taken). A taken name raises
    ``IntegrityError`` and writes nothing. Inside a transaction it runs in a savepoint and
    commits with it. ``joined_at`` is the server's clock once the lock is held
    (``clock_timestamp()``), so players are listed in the order they were seated."""
    fields = [
        f
        for f in Player._meta.concrete_fields
        if not f.primary_key and f.attname not in ("table_id", "role", "joined_at")
    ]
    values = [f.get_db_prep_save(f.pre_save(player, add=True), connection) for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    seat_sql, seat_params = _least_taken_seat_sql(session_id, roles)
    # The session again, and not when the full path would open a table for the newcomer
    # (``seating._pick_seat``: before the start, tables opened as students come, every seat taken).
    sql = (
        f"SELECT id, status, table_count, created_at FROM {table_sql(GameSession)} "
        "WHERE id = %s AND code = %s AND status <> %s FOR UPDATE; "
        f"WITH seat AS ({seat_sql}), "
        f"s AS (SELECT id FROM {table_sql(GameSession)} WHERE id = %s AND code = %s AND status <> %s "
        "AND NOT (table_count = 0 AND status = %s AND (SELECT taken FROM seat) >= 1)) "
        f"INSERT INTO {table_sql(Player)} ({columns}, table_id, role, joined_at) "
        f"SELECT {', '.join(['%s'] * len(values))}, seat.table_id, seat.role, clock_timestamp() FROM s, seat "
        "RETURNING id, table_id, role, joined_at"
    )
    params = [
        session_id, code, GameSession.ENDED,
        *seat_params,
        session_id, code, GameSession.ENDED, GameSession.LOBBY,
        *values,
    ]  # fmt: skip
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as c:
        c.execute(sql, params)
        locked = c.fetchone()
        c.nextset()
        seated = c.fetchone()
    if locked is None:
        if seated is not None:  # cannot happen: the insert names the same open session
            raise AssertionError(f"a player was seated in session {session_id} without its lock")
        return None, None
    session = GameSession.from_db(
        connection.alias,
        ["id", "code", "status", "table_count", "created_at"],
        [locked[0], code, *locked[1:]],
    )
    if seated is None:
        return session, None
    player.pk, player.table_id, player.role, player.joined_at = seated
    player.session = session
    player._state.adding, player._state.db = False, connection.alias
    return session, player


def seat_rows(table_id: int, fresh: datetime) -> list[tuple]:
    """One statement: a table's players, (id, name, role, is_bot, stand_in, live) in joining
    order, live when a socket of theirs was seen since ``fresh`` (see live_player_ids)."""
    with connection.cursor() as c:
        c.execute(
            f"SELECT p.id, p.name, p.role, p.is_bot, p.stand_in, EXISTS (SELECT 1 FROM {table_sql(Connection)} c "
            "WHERE c.player_id = p.id AND c.seen_at >= %s) "
            f"FROM {table_sql(Player)} p WHERE p.table_id = %s AND p.removed = %s ORDER BY p.joined_at, p.id",
            [db_value(Connection, "seen_at", fresh), table_id, False],
        )
        return c.fetchall()


# The seat each player last acted from, in this process: (table_id, role, name, session_id,
# session created_at). Only a guess for the one-statement chat below, which checks it.
known_seats: dict[int, tuple] = {}


@dataclass
class ChatStatement:
    """A chat line as one SQL statement (PostgreSQL), and the event it appends once it returns
    the event's seq."""

    sql: str
    params: list[Any]
    event: Event
    answer: dict[str, Any]


def chat_statement(player_id: int, action: Any, now: datetime | None = None) -> ChatStatement | None:
    """A chat line on PostgreSQL in one statement, committed on its own: one round trip instead of
    six (begin, seat, ref, seq, event, commit), which made most of an action's wait.

    The statement writes only if the player still sits where they last acted from
    (``_known_seats``), the table's row, locked, is in play, and the ref is new: it claims the
    ref, takes the table's next seq and inserts the event together, or writes nothing and returns
    no seq. Built without touching the database (None when it cannot be: no known seat, a scenario
    this process has not read, text or a channel the engine refuses), so that a socket's event
    loop can send it itself. Whenever this returns None or the statement no seq, the action goes
    through ``player_action``'s transaction, which gives the same answers and errors as ever."""
    action = wire.player_action(action)
    ref = action.ref
    seat = known_seats.get(player_id)
    if not isinstance(action, wire.ChatSend) or ref is None or seat is None:
        return None
    table_id, role, name, session_id, stamp = seat
    scenario = cached_scenario_for(session_id, stamp)
    if table_id is None or not role or scenario is None:
        return None
    try:
        audience = chat_rules.check_channel(scenario, role, action.channel)
        text = line(action.text)
    except RuleViolation:
        return None
    now = now or timezone.now()
    answer = wire.ack(ref)
    data = {"channel": action.channel, "role": role, "name": name, "text": text}
    at = db_value(Event, "at", now)
    sql = (
        f"WITH seat AS (SELECT id FROM {table_sql(Player)} WHERE id = %s AND removed = false "
        "AND table_id = %s AND role = %s AND name = %s), "
        f"live AS (SELECT id FROM {table_sql(GameTable)} WHERE id = %s AND stage = %s FOR UPDATE), "
        f"claim AS (INSERT INTO {table_sql(ClientRef)} (player_id, ref, answer, at) "
        "SELECT seat.id, %s, %s, %s FROM seat, live ON CONFLICT DO NOTHING RETURNING player_id), "
        f"bump AS (UPDATE {table_sql(GameTable)} SET seq = seq + 1, last_activity = %s "
        "WHERE id = %s AND EXISTS (SELECT 1 FROM claim) RETURNING seq), "
        f"ins AS (INSERT INTO {table_sql(Event)} (table_id, seq, kind, data, audience, at) "
        "SELECT %s, seq, %s, %s, %s, %s FROM bump RETURNING seq) "
        "SELECT (SELECT seq FROM ins)"
    )
    params = [
        player_id, table_id, role, name,
        table_id, GameTable.LIVE,
        ref, db_value(ClientRef, "answer", answer), db_value(ClientRef, "at", now),
        at, table_id,
        table_id, "chat.message", db_value(Event, "data", data), audience, at,
    ]  # fmt: skip
    event = Event(table_id=table_id, seq=0, kind="chat.message", data=data, audience=audience, at=now)
    return ChatStatement(sql, params, event, answer)


def chat_in_one_statement(player_id: int, action: Any, now: datetime) -> dict[str, Any] | None:
    """``chat_statement`` run on this thread's connection; None: not applied, use the transaction."""
    st = chat_statement(player_id, action, now)
    if st is None:
        return None
    with connection.cursor() as c:
        c.execute(st.sql, st.params)
        (seq,) = c.fetchone()
    if seq is None:
        return None
    st.event.seq = seq
    commit_broadcast(st.event.table_id, [st.event])
    return st.answer


def table_sql(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def db_value(model, field: str, value: Any) -> Any:
    return model._meta.get_field(field).get_db_prep_save(value, connection)


def seat_row(player_id: int) -> tuple | None:
    """(table_id, role, name, session_id, session created_at) of a player still in the session."""
    with connection.cursor() as c:
        c.execute(
            f"SELECT p.table_id, p.role, p.name, p.session_id, s.created_at FROM {table_sql(Player)} p "
            f"JOIN {table_sql(GameSession)} s ON s.id = p.session_id WHERE p.id = %s AND p.removed = %s",
            [player_id, False],
        )
        return c.fetchone()


def claim_ref(player_id: int, ref: str, answer: dict[str, Any], now: datetime) -> bool:
    """Record a client's ref; False if it was already recorded (the repeat changes nothing).
    Inside the action's transaction, so a refused action leaves its ref unclaimed."""
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO {table_sql(ClientRef)} (player_id, ref, answer, at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            [player_id, ref, db_value(ClientRef, "answer", answer), db_value(ClientRef, "at", now)],
        )
        return c.rowcount == 1


def plain(text: Any) -> Any:
    """Student text without format characters (bidirectional overrides, zero-width spaces):
    they can disguise what a line says. Anything but a string is left for the engine to refuse."""
    return names.strip_format(text) if isinstance(text, str) else text


def line(text: Any) -> str:
    """A chat line or a note as stored: :func:`plain`, then the engine's cleaning and limits
    (RuleViolation for an empty or too long line). The one rule for every path that writes one."""
    return chat_rules.clean_text(plain(text))


def append_raw(table_id: int, kind: str, data, audience: str, now: datetime) -> tuple[Event, str]:
    """Append one event without loading the table: ``UPDATE ... RETURNING`` takes the table's row
    lock (PostgreSQL; SQLite's IMMEDIATE transaction already holds the write lock) and its next
    seq, then one INSERT. ``data`` may be a function of the table's stage that raises to refuse
    (the caller's transaction then rolls the seq back). Returns the event and the stage."""
    at = db_value(Event, "at", now)
    with connection.cursor() as c:
        c.execute(
            f"UPDATE {table_sql(GameTable)} SET seq = seq + 1, last_activity = %s WHERE id = %s RETURNING seq, stage",
            [at, table_id],
        )
        seq, stage = c.fetchone()
        if callable(data):
            data = data(stage)
        c.execute(
            f"INSERT INTO {table_sql(Event)} (table_id, seq, kind, data, audience, at) VALUES (%s, %s, %s, %s, %s, %s)",
            [table_id, seq, kind, db_value(Event, "data", data), audience, at],
        )
    return Event(table_id=table_id, seq=seq, kind=kind, data=data, audience=audience, at=now), stage


def visible_q(role: str | None) -> Q:
    q = Q(audience="table")
    if role:
        q |= Q(audience__startswith="channel:", audience__contains=role) | Q(audience=f"role:{role}")
    return q


def visible_events(table_id: int, role: str | None, since: int = 0, *, host: bool = False) -> list[Event]:
    qs = Event.objects.filter(table_id=table_id, seq__gt=since).order_by("seq")
    events = list(qs) if host else list(qs.filter(visible_q(role)))
    return [e for e in events if chat_rules.can_read(e.audience, role, host=host)]


def _dt(value: Any) -> datetime | None:
    """A datetime column read by raw SQL: SQLite gives text (naive UTC), PostgreSQL a datetime."""
    if value is None or (isinstance(value, datetime) and timezone.is_aware(value)):
        return value
    parsed = parse_datetime(value) if isinstance(value, str) else value
    return timezone.make_aware(parsed, UTC) if timezone.is_naive(parsed) else parsed


def _json(value: Any) -> Any:
    """A JSON column read by raw SQL (text on both databases as Django configures them)."""
    return json.loads(value) if isinstance(value, (str, bytes, bytearray)) else value


def state_rows(player_id: int) -> tuple[Player, GameSession, Any, GameTable | None]:
    """The player, their session (without its scenario snapshot), the session's stamp for the
    scenario cache, and their table, in one statement (the ORM's compiling of this join cost more
    than the rest of a snapshot)."""
    with connection.cursor() as c:
        c.execute(
            "SELECT p.name, p.role, p.removed, p.rejoin_code, p.table_id, s.id, s.created_at, s.code, "
            "s.title, s.status, s.phase_index, s.phase_ends_at, s.paused_remaining, t.number, t.seq, "
            f"t.state, t.outcome FROM {table_sql(Player)} p JOIN {table_sql(GameSession)} s ON s.id = p.session_id "
            f"LEFT JOIN {table_sql(GameTable)} t ON t.id = p.table_id WHERE p.id = %s",
            [player_id],
        )
        row = c.fetchone()
    if row is None:
        raise Player.DoesNotExist(f"no player {player_id}")
    (
        name,
        role,
        removed,
        rejoin_code,
        table_id,
        sid,
        stamp,
        code,
        title,
        status,
        phase_index,
        ends_at,
        paused,
    ) = row[:13]
    number, seq, state, outcome = row[13:]
    session = GameSession(
        pk=sid,
        code=code,
        title=title,
        status=status,
        phase_index=phase_index,
        phase_ends_at=_dt(ends_at),
        paused_remaining=paused,
    )
    player = Player(
        pk=player_id,
        name=name,
        role=role,
        removed=bool(removed),
        rejoin_code=rejoin_code,
        table_id=table_id,
        session_id=sid,
    )
    table = None
    if table_id is not None:
        table = GameTable(
            pk=table_id, session_id=sid, number=number, seq=seq, state=_json(state), outcome=_json(outcome)
        )
    return player, session, stamp, table


def chat_lines(table_id: int, role: str | None) -> list[dict[str, Any]]:
    """The chat lines of a table this role may read, oldest first, as the snapshot lists them."""
    where = "audience = %s"
    params: list[Any] = [table_id, "chat.message", "table"]
    if role:
        where += " OR (audience LIKE %s AND audience LIKE %s) OR audience = %s"
        params += ["channel:%", f"%{role}%", f"role:{role}"]
    with connection.cursor() as c:
        c.execute(
            f"SELECT seq, at, data, audience FROM {table_sql(Event)} WHERE table_id = %s AND kind = %s "
            f"AND ({where}) ORDER BY seq",
            params,
        )
        rows = c.fetchall()
    return [
        {"seq": seq, "at": _dt(at).isoformat(), **_json(data)}
        for seq, at, data, audience in rows
        if chat_rules.can_read(audience, role)
    ]


def surplus_sockets(player_id: int, newest: str, now: datetime) -> list[str]:
    cap = max(1, int(settings.GAME["MAX_SOCKETS_PER_PLAYER"]))
    fresh = now - timedelta(seconds=2.5 * settings.GAME["SYNC_SECONDS"])
    with connection.cursor() as c:
        c.execute(
            f"SELECT channel_name FROM {table_sql(Connection)} WHERE player_id = %s AND seen_at >= %s "
            "AND channel_name <> %s ORDER BY id DESC",
            [player_id, db_value(Connection, "seen_at", fresh), newest],
        )
        others = [r[0] for r in c.fetchall()]
    surplus = others[cap - 1 :]
    if surplus:
        Connection.objects.filter(channel_name__in=surplus).delete()
    return surplus


@dataclass
class PlayerRow:
    """What the player page and a player's socket need to know about a join token's player."""

    pk: int
    session_id: int
    table_id: int | None
    role: str
    name: str
    rejoin_code: str
    session_status: str
    session_stamp: Any  # the session's created_at as the database returns it (``scenario_for``)


def player_row(session_code: str, token: str | None) -> PlayerRow | None:
    """``player_for`` in one raw statement, for the pages and sockets every student opens: the
    player this join token is in the open or ended session with this code, unless removed."""
    if not token:
        return None
    try:
        tok = token if isinstance(token, uuid.UUID) else uuid.UUID(str(token))
    except (ValueError, TypeError, AttributeError):  # not a UUID
        return None
    with connection.cursor() as c:
        c.execute(
            "SELECT p.id, p.session_id, p.table_id, p.role, p.name, p.rejoin_code, s.status, s.created_at "
            f"FROM {table_sql(Player)} p JOIN {table_sql(GameSession)} s ON s.id = p.session_id "
            "WHERE p.token = %s AND s.code = %s AND p.removed = %s",
            [db_value(Player, "token", tok), normalise_code(session_code), False],
        )
        row = c.fetchone()
    return PlayerRow(*row) if row else None


def lock_open_session(code: str) -> GameSession | None:
    """The session with this code unless it has ended, its row locked for the transaction (``FOR
    UPDATE`` on PostgreSQL; SQLite's write transaction serialises anyway), as
    ``open_sessions(code).select_for_update().first()`` but with only the columns a join reads (the
    rest deferred) and without compiling the query at every join."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    rows = GameSession.objects.raw(
        f"SELECT id, code, status, table_count, created_at FROM {table_sql(GameSession)} "
        f"WHERE code = %s AND status <> %s ORDER BY id LIMIT 1{lock}",
        [code, GameSession.ENDED],
    )
    return next(iter(rows), None)


@dataclass
class PresenceRow:
    """What ``presence.announce_presence`` reads of a player, its row locked."""

    pk: int
    session_id: int
    table_id: int | None
    role: str
    name: str
    presence: bool
    presence_at: datetime | None


def lock_presence_row(player_id: int) -> PresenceRow | None:
    """The player's presence, its row locked for the transaction as the ORM's
    ``select_for_update(of=("self",), no_key=True)`` does: ``FOR NO KEY UPDATE`` on PostgreSQL (a
    lock that does not block foreign keys), nothing on SQLite (whose write transaction already
    serialises writers). One plain statement: a socket's opening and closing both read it."""
    lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else ""
    with connection.cursor() as c:
        c.execute(
            f"SELECT id, session_id, table_id, role, name, presence, presence_at FROM {table_sql(Player)} "
            f"WHERE id = %s{lock}",
            [player_id],
        )
        row = c.fetchone()
    if row is None:
        return None
    return PresenceRow(row[0], row[1], row[2], row[3], row[4], bool(row[5]), _dt(row[6]))


def update_presence(
    player_id: int,
    *,
    last_seen: datetime | None = None,
    presence: bool | None = None,
    at: datetime | None = None,
) -> None:
    """The player's ``last_seen`` and/or ``presence`` (with ``presence_at``), in one UPDATE."""
    sets, params = [], []
    if last_seen is not None:
        sets.append("last_seen = %s")
        params.append(db_value(Player, "last_seen", last_seen))
    if presence is not None:
        sets += ["presence = %s", "presence_at = %s"]
        params += [presence, db_value(Player, "presence_at", at)]
    if not sets:
        return
    with connection.cursor() as c:
        c.execute(f"UPDATE {table_sql(Player)} SET {', '.join(sets)} WHERE id = %s", [*params, player_id])


def register_socket(channel_name: str, player_id: int, now: datetime) -> None:
    """A socket's row, inserted or taken over, in one upsert (the ORM's update_or_create took four
    statements)."""
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO {table_sql(Connection)} (channel_name, player_id, seen_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (channel_name) DO UPDATE SET player_id = excluded.player_id, seen_at = excluded.seen_at",
            [channel_name, player_id, db_value(Connection, "seen_at", now)],
        )


def claim_host_ref(session_id: int, ref: str, answer: dict[str, Any]) -> bool:
    """Claim a dashboard action's ``ref`` for its session (False: it was claimed before)."""
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO {table_sql(HostRef)} (session_id, ref, answer, at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            [
                session_id,
                ref,
                db_value(HostRef, "answer", answer),
                db_value(HostRef, "at", timezone.now()),
            ],
        )
        return c.rowcount == 1
