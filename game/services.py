"""The only bridge between the wire and the engine.

Every change follows one path: a transaction, the table's row locked, the state loaded, the
engine applied, the new state and the events (each with the table's next ``seq``) saved, and
the broadcast sent once the transaction has committed. Consumers, views, bots and commands all
call these functions; none of them decides a rule.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import markdown
import nh3
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

from game import names
from game.engine import chat as chat_rules
from game.engine import rules, scoring
from game.engine.rules import RuleViolation, gettext_noop
from game.engine.scenario import TRANSLATED_LANGUAGES, Scenario
from game.models import (
    ClientRef,
    Connection,
    Event,
    GameSession,
    GameTable,
    Player,
    ScenarioConfig,
    cached_scenario_for,
    new_code,
    normalise_code,
    scenario_for,
)

log = logging.getLogger(__name__)

# --- errors and names ----------------------------------------------------------------------


class ServiceError(Exception):
    """A refusal with a contract error code; nothing was changed. ``message`` is a lazy
    translation: it reads in the language active where it is turned into text (the socket's
    language when a socket sends it, the page's in a view)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _engine_text(texts: tuple[tuple[str, dict[str, Any]], ...]) -> str:
    """The engine's refusal (``RuleViolation.texts``) in the active language."""
    return " ".join(gettext(t).format(**v) if v else gettext(t) for t, v in texts)


engine_message = lazy(_engine_text, str)


def refusal(e: RuleViolation) -> ServiceError:
    """The engine's refusal as the service's, its words translated where they are read."""
    return ServiceError(e.code, engine_message(e.texts))


def table_group(table_id: int) -> str:
    return f"table.{table_id}"


def session_group(session_id: int) -> str:
    return f"session.{session_id}"


def player_group(player_id: int) -> str:
    return f"player.{player_id}"


# --- broadcasting --------------------------------------------------------------------------


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


# --- the event log -------------------------------------------------------------------------


def _append(table: GameTable, kind: str, data: dict[str, Any], audience: str, now: datetime) -> Event:
    """Append the table's next event. The caller holds the table's row lock and saves the table."""
    table.seq += 1
    table.last_activity = now
    return Event.objects.create(table=table, seq=table.seq, kind=kind, data=data, audience=audience, at=now)


def _lock_table(table_id: int) -> GameTable:
    return (
        # of=("self",): lock the table's row only. Without it PostgreSQL also locks the joined
        # session row, and every table of a class would wait for one lock.
        GameTable.objects.select_for_update(of=("self",))
        .select_related("session")
        .defer("session__scenario_data")
        .get(pk=table_id)
    )


def _ends_at_iso(session: GameSession) -> str | None:
    return session.phase_ends_at.isoformat() if session.phase_ends_at else None


def _phase_payload(scenario: Scenario, session: GameSession) -> dict[str, Any]:
    p = scenario.phases[session.phase_index]
    return {
        "key": p.key,
        "name": p.name,
        "index": session.phase_index,
        "ends_at": _ends_at_iso(session),
        "agreement": p.agreement,
        "paused": session.paused_remaining is not None,
        "remaining": session.paused_remaining,
    }


def _table_seed(session: GameSession, table: GameTable) -> int:
    return (session.seed * 1_000_003 + table.number) % (2**63)


def _apply(
    table: GameTable, scenario: Scenario, action: Any, now: datetime, *, session: GameSession | None = None
) -> list[Event]:
    """Apply one engine action to a locked table; persist state and events. Raises RuleViolation.

    The session row is read only when an event needs it (a phase change, the outcome)."""
    state = table.engine_state()
    new_state, engine_events = rules.apply(scenario, state, action)
    saved: list[Event] = []
    for ev in engine_events:
        data = dict(ev.data)
        if ev.kind == "phase.changed":
            session = session or table.session
            data["phase"] = _phase_payload(scenario, session)
        elif ev.kind == "proposal.made":
            p = new_state.proposal(data["proposal"]["id"])
            if p is not None:
                data["proposal"] = proposal_view(scenario, p)
        elif ev.kind == "proposal.answered":
            p = new_state.proposal(data["proposal"])
            if p is not None:
                data["pending"] = list(rules.pending_signatures(scenario, p))
                data["status"] = p.status
        saved.append(_append(table, ev.kind, data, ev.visibility, now))
    if new_state.ended and not state.ended:
        saved.append(_finish(table, scenario, new_state, now, session or table.session))
    table.set_state(new_state)
    table.save(update_fields=["state", "stage", "seq", "outcome", "last_activity"])
    return saved


def _finish(table: GameTable, scenario: Scenario, state: rules.TableState, now: datetime, session) -> Event:
    terms = None
    if state.agreement is not None:
        agreed = state.proposal(state.agreement)
        terms = dict(agreed.terms) if agreed else None
    outcome = scoring.outcome(scenario, terms, news=state.news, seed=_table_seed(session, table))
    table.outcome = outcome
    return _append(table, "game.ended", outcome, "table", now)


def _commit_broadcast(table_id: int, events: Sequence[Event]) -> None:
    """Broadcast a table's new events once the transaction that wrote them has committed."""
    if events:
        _after_commit(_broadcast_events, table_id, list(events))


# --- sessions, joining and seats -----------------------------------------------------------


MAX_TABLES = 200


def create_session(
    config: ScenarioConfig, tables: int = 1, user=None, *, title: str = "", seed: int | None = None
) -> GameSession:
    problems = config.problems()
    if problems:
        raise ServiceError(
            "invalid",
            format_lazy(
                gettext_lazy("This scenario cannot be played yet: {problems}"), problems=" ".join(problems)
            ),
        )
    if not isinstance(tables, int) or not 0 <= tables <= MAX_TABLES:
        raise ServiceError(
            "invalid",
            format_lazy(
                gettext_lazy("Choose between 0 (as many as needed) and {limit} tables."), limit=MAX_TABLES
            ),
        )
    data = config.to_dict()
    for _attempt in range(50):
        try:
            with transaction.atomic():
                session = GameSession.objects.create(
                    code=new_code(),
                    scenario=config,
                    scenario_data=data,
                    title=title or config.title,
                    table_count=tables,
                    seed=seed if seed is not None else random.SystemRandom().randrange(2**31),
                    created_by=user if user is not None and getattr(user, "pk", None) else None,
                )
                for n in range(1, max(tables, 1) + 1):
                    GameTable.objects.create(session=session, number=n, state=rules.TableState().to_dict())
            return session
        except IntegrityError:  # the code is taken by an open session: draw another
            continue
    raise ServiceError("conflict", gettext_lazy("Could not find a free join code; try again."))


class JoinError(ValueError):
    def __init__(self, field: str, message: str, *, taken: bool = False):
        super().__init__(message)
        self.field, self.message, self.taken = field, message, taken


def open_sessions(code: str):
    """The session with this code, unless it has ended (a queryset, so callers can lock it)."""
    return GameSession.objects.filter(code=normalise_code(code)).exclude(status=GameSession.ENDED)


def clean_name(raw: str) -> str:
    """The name as stored: printable characters only (format characters such as a
    right-to-left override are dropped), spacing collapsed; refused when empty, too long, or
    invisible (game/names.py)."""
    text = raw if isinstance(raw, str) else ""
    name = " ".join("".join(ch for ch in text if ch.isprintable()).split())
    if not name:
        raise JoinError("name", gettext_lazy("Please type the name your classmates know you by."))
    limit = settings.GAME["MAX_NAME_LENGTH"]
    if len(name) > limit:
        raise JoinError(
            "name",
            format_lazy(
                gettext_lazy("That name is too long: at most {limit} characters, please."), limit=limit
            ),
        )
    try:
        names.check_visible(name)
    except names.NameProblem as e:
        raise JoinError("name", e.message) from e
    return name


def join(code: str, name: str) -> Player:
    """Seat a new player. One transaction of a few statements: the session row locked (which
    serialises a class's joins), the seat chosen from the counts, the player inserted already
    seated (a taken name fails on the unique constraint), then the table's ``seats`` event."""
    clean = normalise_code(code)
    if not clean:
        raise JoinError("code", gettext_lazy("Type the six-character code your instructor shows."))
    name = clean_name(name)
    key = names.name_key(name)  # before the transaction: the class's joins wait for its lock
    try:
        with transaction.atomic():
            # scenario_data deferred: large, and the engine's scenario is cached per process.
            session = open_sessions(clean).select_for_update().defer("scenario_data").first()
            if session is None:
                if GameSession.objects.filter(code=clean, status=GameSession.ENDED).exists():
                    raise JoinError(
                        "code",
                        format_lazy(
                            gettext_lazy(
                                "The session {code} has ended; ask your instructor for the new code."
                            ),
                            code=clean,
                        ),
                    )
                raise JoinError(
                    "code",
                    format_lazy(
                        gettext_lazy("No session has the code {code}; check it with your instructor."),
                        code=clean,
                    ),
                )
            table_id, role = _pick_seat(session)
            player = Player.objects.create(
                session=session, name=name, name_key=key, table_id=table_id, role=role
            )
            seats_changed(session, [GameTable(pk=table_id, session=session)], timezone.now())
    except IntegrityError as e:
        raise JoinError(
            "name",
            format_lazy(
                gettext_lazy(
                    "Someone in this session is already called {name} (or by a name that looks just like "
                    "it). If that is you on another device, type your rejoin code below to get your seat "
                    "back (it is on your page on the first device, under your name, or ask your "
                    "instructor). Otherwise add an initial or a surname."
                ),
                name=name,
            ),
            taken=True,
        ) from e
    return player


def rejoin(code: str, name: str, rejoin_code: str) -> Player:
    """The seat of the player called ``name`` whose personal rejoin code this is: a student on a
    new device gets their own seat back, never a new one. The name and the code must both match;
    a removed player cannot come back this way."""
    clean = normalise_code(code)
    if not clean:
        raise JoinError("code", gettext_lazy("Type the six-character code your instructor shows."))
    name = clean_name(name)
    typed = normalise_code(rejoin_code)
    session = open_sessions(clean).defer("scenario_data").first()
    if session is None:
        raise JoinError(
            "code",
            format_lazy(
                gettext_lazy("No open session has the code {code}; check it with your instructor."),
                code=clean,
            ),
        )
    player = (
        Player.objects.filter(session=session, name__iexact=name, removed=False)
        .select_related("session")
        .defer("session__scenario_data")
        .first()
    )
    if player is None or not typed or player.rejoin_code != typed:
        raise JoinError(
            "rejoin",
            format_lazy(
                gettext_lazy(
                    "That rejoin code does not match anyone called {name} in session {code}. The code is "
                    "on your page on the first device, under your name; your instructor can also read it "
                    "to you."
                ),
                name=name,
                code=clean,
            ),
        )
    return player


def _pick_seat(session: GameSession) -> tuple[int, str]:
    """The seat for the next player: every role of every table gets a player before any role gets
    a second. In 'as many as needed' mode a new table opens (before the start) once all seats are
    taken. Caller holds the session's row lock.

    One statement: the least taken seat, ties broken by table number and then role order (the
    seat the first seat of the lowest level is). Counting the whole class in Python for each
    join made a class's joins quadratic."""
    roles = session.engine_scenario().role_keys
    row = _least_taken_seat(session.pk, roles)
    if session.table_count == 0 and session.status == GameSession.LOBBY and (row is None or row[2] >= 1):
        # Every seat taken: a new table, up to the cap; past it, newcomers join teams at the
        # existing tables.
        n = session.tables.count()
        if n < settings.GAME["MAX_AUTO_TABLES"]:
            t = GameTable.objects.create(session=session, number=n + 1, state=rules.TableState().to_dict())
            return t.pk, roles[0]
    if row is None:
        raise AssertionError("no seat")
    return row[0], row[1]


def _least_taken_seat(session_id: int, roles: Sequence[str]) -> tuple[int, str, int] | None:
    """(table id, role, players in it) of the session's least taken seat, or None without tables."""
    if not roles:
        return None
    values = ", ".join(["(%s, %s)"] * len(roles))
    params: list[Any] = [x for i, r in enumerate(roles) for x in (r, i)]
    with connection.cursor() as c:
        c.execute(
            f"WITH r(role, pos) AS (VALUES {values}) "
            f"SELECT t.id, r.role, (SELECT COUNT(*) FROM {_sql(Player)} p "
            "WHERE p.table_id = t.id AND p.role = r.role AND p.removed = %s) AS taken "
            f"FROM {_sql(GameTable)} t CROSS JOIN r WHERE t.session_id = %s "
            "ORDER BY taken, t.number, r.pos LIMIT 1",
            [*params, False, session_id],
        )
        row = c.fetchone()
    return (row[0], row[1], row[2]) if row else None


def seats_changed(session: GameSession, tables: Iterable[GameTable], now: datetime) -> None:
    """Append a ``seats`` event to each table (its seq taken as a chat line's is)."""
    scenario = session.engine_scenario()
    for t in tables:
        data = {"seats": seats_of(t, scenario)}
        _commit_broadcast(t.pk, [_append_raw(t.pk, "seats", data, "table", now)[0]])
    notify_session(session.pk, "seats")


def live_player_ids(player_ids: Iterable[int]) -> set[int]:
    fresh = timezone.now() - timedelta(seconds=2.5 * settings.GAME["SYNC_SECONDS"])
    return set(
        Connection.objects.filter(player_id__in=list(player_ids), seen_at__gte=fresh).values_list(
            "player_id", flat=True
        )
    )


def seats_of(table: GameTable, scenario: Scenario | None = None) -> list[dict[str, Any]]:
    scenario = scenario or table.session.engine_scenario()
    fresh = timezone.now() - timedelta(seconds=2.5 * settings.GAME["SYNC_SECONDS"])
    # One statement: the table's players and whether each has a live socket (see live_player_ids).
    with connection.cursor() as c:
        c.execute(
            f"SELECT p.id, p.name, p.role, p.is_bot, p.stand_in, EXISTS (SELECT 1 FROM {_sql(Connection)} c "
            "WHERE c.player_id = p.id AND c.seen_at >= %s) "
            f"FROM {_sql(Player)} p WHERE p.table_id = %s AND p.removed = %s ORDER BY p.joined_at, p.id",
            [_db_value(Connection, "seen_at", fresh), table.pk, False],
        )
        rows = c.fetchall()
    return seats_from(rows, scenario)


def seats_by_table(
    players: Iterable[Player], live: set[int], scenario: Scenario
) -> dict[int, list[dict[str, Any]]]:
    """Every table's seats from a session's players already read and their live sockets
    (``live_player_ids``): the dashboard's snapshot without one statement per table."""
    rows: dict[int, list[tuple]] = {}
    for p in sorted(players, key=lambda p: (p.joined_at, p.pk)):
        if p.table_id is not None and not p.removed:
            rows.setdefault(p.table_id, []).append((p.pk, p.name, p.role, p.is_bot, p.stand_in, p.pk in live))
    return {table_id: seats_from(r, scenario) for table_id, r in rows.items()}


def seats_from(rows: Iterable[tuple], scenario: Scenario) -> list[dict[str, Any]]:
    """A table's seats, role by role, from (id, name, role, is_bot, stand_in, live) rows."""
    rows = list(rows)
    out = []
    for r in scenario.roles:
        mine = [
            {"id": pid, "name": name, "connected": bool(live), "bot": bool(bot) or bool(stand_in)}
            for pid, name, role, bot, stand_in, live in rows
            if role == r.key
        ]
        out.append(
            {
                "role": r.key,
                "names": [p["name"] for p in mine],
                "players": mine,
                "connected": any(p["connected"] for p in mine),
                "bot": bool(mine) and all(p["bot"] for p in mine),
            }
        )
    return out


def move_player(session: GameSession, player_id: int, table_id: int, role: str) -> None:
    scenario = session.engine_scenario()
    if role not in scenario.role_keys:
        raise ServiceError(
            "invalid", format_lazy(gettext_lazy("There is no role {role} in this scenario."), role=repr(role))
        )
    with transaction.atomic():
        session = GameSession.objects.select_for_update().get(pk=session.pk)
        player = Player.objects.filter(session=session, pk=player_id, removed=False).first()
        table = GameTable.objects.filter(session=session, pk=table_id).first()
        if player is None or table is None:
            raise ServiceError("invalid", gettext_lazy("That player or table is not part of this session."))
        old = player.table
        player.table, player.role = table, role
        player.save(update_fields=["table", "role"])
        seats_changed(session, [t for t in (old, table) if t is not None], timezone.now())
        notify_player(player.pk)


def remove_player(session: GameSession, player_id: int) -> None:
    with transaction.atomic():
        session = GameSession.objects.select_for_update().get(pk=session.pk)
        player = Player.objects.filter(session=session, pk=player_id, removed=False).first()
        if player is None:
            raise ServiceError("invalid", gettext_lazy("That player is not part of this session."))
        old = player.table
        player.removed, player.table, player.role = True, None, ""
        player.save(update_fields=["removed", "table", "role"])
        if old is not None:
            seats_changed(session, [old], timezone.now())
        notify_player(player.pk, "removed")


def hand_over_seat(session: GameSession, player_id: int, to_player_id: int) -> None:
    """A student on a new device who joined again under another name (the seat refused their own)
    gets their seat back: the new device takes over the original player (seat, name, history)
    and the duplicate it joined as is removed. The first device's link stops working (it may be
    lost); the student's rejoin code is unchanged."""
    if player_id == to_player_id:
        raise ServiceError(
            "invalid", gettext_lazy("Choose two different students: the seat's holder and the new device.")
        )
    with transaction.atomic():
        session = GameSession.objects.select_for_update().get(pk=session.pk)
        found = {
            p.pk: p
            for p in Player.objects.filter(session=session, pk__in=[player_id, to_player_id], removed=False)
        }
        holder, newcomer = found.get(player_id), found.get(to_player_id)
        if holder is None or newcomer is None:
            raise ServiceError("invalid", gettext_lazy("Both students must be part of this session."))
        if holder.is_bot or newcomer.is_bot:
            raise ServiceError(
                "invalid", gettext_lazy("A bot's seat cannot be handed over; move the student instead.")
            )
        device = newcomer.token
        old_table = newcomer.table
        newcomer.token = uuid.uuid4()
        newcomer.removed, newcomer.table, newcomer.role = True, None, ""
        newcomer.save(update_fields=["token", "removed", "table", "role"])
        holder.token = device
        holder.stand_in = False
        holder.save(update_fields=["token", "stand_in"])
        # The new device's page belongs to the duplicate: it reloads into the seat it now holds.
        # Told first, so that it reloads before the seating change would tell it it was removed.
        notify_player(newcomer.pk, "handed")
        if old_table is not None:
            seats_changed(session, [old_table], timezone.now())
        else:
            notify_session(session.pk, "seats")


def readmit_player(session: GameSession, player_id: int) -> None:
    """Let a removed player back in: the same player (name, browser) gets a seat again."""
    with transaction.atomic():
        session = GameSession.objects.select_for_update().get(pk=session.pk)
        if session.status == GameSession.ENDED:
            raise ServiceError("phase", gettext_lazy("The session has ended."))
        player = Player.objects.filter(session=session, pk=player_id, removed=True, is_bot=False).first()
        if player is None:
            raise ServiceError("invalid", gettext_lazy("That player was not removed from this session."))
        table_id, role = _pick_seat(session)
        player.removed, player.table_id, player.role = False, table_id, role
        player.save(update_fields=["removed", "table", "role"])
        seats_changed(session, [GameTable(pk=table_id, session=session)], timezone.now())


def removed_player(session_code: str, token: str | None) -> Player | None:
    """The player this browser was in an open session, if the instructor removed them."""
    if not token:
        return None
    try:
        return (
            open_sessions(session_code).filter(players__token=token, players__removed=True).exists()
            and Player.objects.filter(token=token, removed=True).first()
        ) or None
    except (ValueError, TypeError, ValidationError):  # not a UUID
        return None


def add_table(session: GameSession) -> GameTable:
    with transaction.atomic():
        session = GameSession.objects.select_for_update().get(pk=session.pk)
        if session.status == GameSession.ENDED:
            raise ServiceError("phase", gettext_lazy("The session has ended."))
        n = (session.tables.aggregate(m=Max("number"))["m"] or 0) + 1
        if n > MAX_TABLES:
            raise ServiceError(
                "invalid",
                format_lazy(gettext_lazy("A session has at most {limit} tables."), limit=MAX_TABLES),
            )
        state = rules.TableState()
        table = GameTable.objects.create(session=session, number=n, state=state.to_dict())
        if session.status == GameSession.RUNNING:
            now = timezone.now()
            scenario = session.engine_scenario()
            table = _lock_table(table.pk)
            events = _apply(table, scenario, rules.Start(), now, session=session)
            for _ in range(session.phase_index):
                events += _apply(table, scenario, rules.AdvancePhase(), now, session=session)
            _commit_broadcast(table.pk, events)
        notify_session(session.pk, "tables")
        return table


# --- host controls -------------------------------------------------------------------------


def _lock_session(session_id: int) -> GameSession:
    return GameSession.objects.select_for_update().get(pk=session_id)


def _for_each_table(session: GameSession, action, now: datetime, only: Sequence[int] | None = None) -> int:
    """Apply a session-wide action to each table it still concerns; returns how many took it.

    A table that has ended (or already has this news) is skipped rather than failing the
    whole class: one finished table must not block news or phases for the others.
    """
    scenario = session.engine_scenario()
    ids = list(session.tables.values_list("pk", flat=True))
    if only is not None:
        ids = [i for i in ids if i in set(only)]
    applied = 0
    for tid in ids:
        table = _lock_table(tid)
        state = table.engine_state()
        if state.ended:
            continue
        if isinstance(action, rules.InjectNews) and action.key in state.news:
            continue
        try:
            events = _apply(table, scenario, action, now, session=session)
        except RuleViolation:
            continue
        applied += 1
        _commit_broadcast(table.pk, events)
    return applied


def start_session(session_id: int, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        session = _lock_session(session_id)
        if session.status != GameSession.LOBBY:
            raise ServiceError("phase", gettext_lazy("The session has already started."))
        scenario = session.engine_scenario()
        session.status = GameSession.RUNNING
        session.started_at = now
        session.phase_index = 0
        session.phase_ends_at = now + timedelta(seconds=scenario.phases[0].duration_seconds)
        session.paused_remaining = None
        session.save()
        _for_each_table(session, rules.Start(), now)
        notify_session(session.pk, "started")


def _require_running(session: GameSession) -> None:
    if session.status != GameSession.RUNNING:
        raise ServiceError("phase", gettext_lazy("The session is not running."))


def advance_phase(session_id: int, now: datetime | None = None, *, expected_index: int | None = None) -> bool:
    """Move every table to the next phase; at the last phase, end the session.

    ``expected_index`` makes a deadline advance idempotent: two workers that both saw the same
    expired phase advance it once. Returns whether anything changed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        session = _lock_session(session_id)
        if expected_index is not None and (
            session.phase_index != expected_index or session.status != GameSession.RUNNING
        ):
            return False
        _require_running(session)
        scenario = session.engine_scenario()
        if session.phase_index + 1 >= len(scenario.phases):
            _end(session, now)
            return True
        session.phase_index += 1
        session.phase_ends_at = now + timedelta(seconds=scenario.phases[session.phase_index].duration_seconds)
        session.paused_remaining = None
        session.save()
        _for_each_table(session, rules.AdvancePhase(), now)
        notify_session(session.pk, "phase")
    return True


def _clock_event(session: GameSession, now: datetime) -> None:
    """Tell every live table that the clock changed (extend, pause, resume)."""
    scenario = session.engine_scenario()
    for tid in session.tables.values_list("pk", flat=True):
        table = _lock_table(tid)
        if table.engine_state().ended:
            continue
        ev = _append(table, "phase.changed", {"phase": _phase_payload(scenario, session)}, "table", now)
        table.save(update_fields=["seq", "last_activity"])
        _commit_broadcast(table.pk, [ev])
    notify_session(session.pk, "clock")


# Less than this left after taking time off: the phase (or, in the last one, the game) ends now.
ENDS_NOW_SECONDS = 5


def extend_phase(session_id: int, seconds: int, now: datetime | None = None, *, ends_ok: bool = True) -> None:
    """Add (or, negative, take off) time. Taking off more than is left ends the phase at once; with
    ``ends_ok=False`` (the dashboard's buttons, until the instructor confirms) that is refused with
    ``conflict`` and a message that says what it would end."""
    now = now or timezone.now()
    if (
        not isinstance(seconds, int)
        or isinstance(seconds, bool)
        or not -3600 <= seconds <= 3600
        or seconds == 0
    ):
        raise ServiceError(
            "invalid", gettext_lazy("Extend by a whole number of seconds between -3600 and 3600.")
        )
    with transaction.atomic():
        session = _lock_session(session_id)
        _require_running(session)
        if seconds < 0 and not ends_ok:
            left = (
                session.paused_remaining
                if session.paused_remaining is not None
                else ((session.phase_ends_at - now).total_seconds() if session.phase_ends_at else 0.0)
            )
            if left + seconds < ENDS_NOW_SECONDS:
                scenario = session.engine_scenario()
                last = session.phase_index + 1 >= len(scenario.phases)
                name = scenario.phases[session.phase_index].name
                left_text = f"{int(max(0, left)) // 60}:{int(max(0, left)) % 60:02d}"
                template = (
                    gettext_lazy(
                        "Only {left} is left: taking {seconds} seconds off ends {phase} now and with it "
                        "the session (tables without an agreement end with no deal). Confirm to do it."
                    )
                    if last
                    else gettext_lazy(
                        "Only {left} is left: taking {seconds} seconds off ends {phase} now. Confirm to do it."
                    )
                )
                raise ServiceError(
                    "conflict", format_lazy(template, left=left_text, seconds=-seconds, phase=name)
                )
        if session.paused_remaining is not None:
            session.paused_remaining = max(1.0, session.paused_remaining + seconds)
        else:
            base = session.phase_ends_at or now
            session.phase_ends_at = max(now + timedelta(seconds=1), base + timedelta(seconds=seconds))
        session.save()
        _clock_event(session, now)


def pause_clock(session_id: int, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        session = _lock_session(session_id)
        _require_running(session)
        if session.paused_remaining is not None:
            raise ServiceError("conflict", gettext_lazy("The clock is already paused."))
        remaining = (session.phase_ends_at - now).total_seconds() if session.phase_ends_at else 0
        session.paused_remaining = max(1.0, remaining)
        session.phase_ends_at = None
        session.save()
        _clock_event(session, now)


def resume_clock(session_id: int, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        session = _lock_session(session_id)
        _require_running(session)
        if session.paused_remaining is None:
            raise ServiceError("conflict", gettext_lazy("The clock is not paused."))
        session.phase_ends_at = now + timedelta(seconds=session.paused_remaining)
        session.paused_remaining = None
        session.save()
        _clock_event(session, now)


def inject_news(
    session_id: int, key: str, tables: Sequence[int] | None = None, now: datetime | None = None
) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        session = _lock_session(session_id)
        if session.status == GameSession.ENDED:
            raise ServiceError("phase", gettext_lazy("The session has ended."))
        scenario = session.engine_scenario()
        if not isinstance(key, str) or scenario.news_item(key) is None:
            raise ServiceError(
                "invalid",
                format_lazy(gettext_lazy("There is no news item {key} in this scenario."), key=repr(key)),
            )
        if tables is not None:
            known = set(session.tables.values_list("pk", flat=True))
            if (
                not isinstance(tables, list)
                or not tables
                or any(not isinstance(t, int) or t not in known for t in tables)
            ):
                raise ServiceError(
                    "invalid", gettext_lazy("tables must be a list of this session's table ids.")
                )
        if not _for_each_table(session, rules.InjectNews(key), now, only=tables):
            raise ServiceError(
                "conflict",
                gettext_lazy("No table took this news: every chosen table already has it or has finished."),
            )
        notify_session(session.pk, "news")


def _end(session: GameSession, now: datetime) -> None:
    session.status = GameSession.ENDED
    session.ended_at = now
    session.phase_ends_at = None
    session.paused_remaining = None
    session.save()
    _for_each_table(session, rules.End(), now)
    notify_session(session.pk, "ended")


def end_session(session_id: int, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        session = _lock_session(session_id)
        if session.status == GameSession.ENDED:
            raise ServiceError("phase", gettext_lazy("The session has already ended."))
        if session.status == GameSession.LOBBY:
            _for_each_table(session, rules.Start(), now)
        _end(session, now)


def due_sessions(now: datetime | None = None) -> list[tuple[int, int]]:
    now = now or timezone.now()
    return list(
        GameSession.objects.filter(
            status=GameSession.RUNNING, phase_ends_at__isnull=False, phase_ends_at__lte=now
        ).values_list("pk", "phase_index")
    )


def tick(now: datetime | None = None) -> int:
    """Advance every phase whose deadline has passed. Safe to run in every worker at once."""
    now = now or timezone.now()
    done = 0
    for sid, index in due_sessions(now):
        try:
            if advance_phase(sid, now, expected_index=index):
                done += 1
        except ServiceError:
            continue
    return done


# --- player actions ------------------------------------------------------------------------

MUTATING = {"chat.send", "proposal.make", "proposal.answer", "proposal.withdraw"}


@dataclass
class Seat:
    """What a socket knows about the player behind it (refreshed on every action)."""

    player_id: int
    session_id: int
    table_id: int | None
    role: str | None
    name: str = ""


def load_seat(player_id: int) -> Seat | None:
    p = (
        Player.objects.filter(pk=player_id, removed=False)
        .only("pk", "session_id", "table_id", "role", "name")
        .first()
    )
    if p is None:
        return None
    return Seat(p.pk, p.session_id, p.table_id, p.role or None, p.name)


@dataclass
class OpenedSocket:
    seat: Seat
    evict: list[str]  # this player's older sockets beyond the cap (see socket_opened)
    presence_later: float | None  # when to report a held-back presence change (see socket_opened)
    scenario: Scenario  # the session's scenario in the socket's language


def open_player_socket(
    code: str, token: str | None, channel_name: str, lang: str | None = None
) -> OpenedSocket | None:
    """A player's socket opening, in one trip to the database: who the cookie's token is in this
    session (None: nobody, or removed), the socket registered (so the snapshot that follows shows
    the player online; ``socket_opened``), the seat it is registered from and the session's
    scenario in ``lang`` (built once per process: no query, no parsing, after the first)."""
    player = player_row(code, token)
    if player is None:
        return None
    evict, later = socket_opened(player.pk, channel_name)
    seat = Seat(player.pk, player.session_id, player.table_id, player.role or None, player.name)
    return OpenedSocket(seat, evict, later, scenario_for(player.session_id, player.session_stamp, lang))


def _ref_of(msg: dict[str, Any]) -> str | None:
    ref = msg.get("ref")
    if ref is None:
        return None
    if not isinstance(ref, str) or len(ref) > 64:
        raise ServiceError("invalid", gettext_lazy("ref must be a string of at most 64 characters."))
    return ref


def player_action(
    player_id: int, msg: dict[str, Any], now: datetime | None = None, *, texts: dict[str, str] | None = None
) -> dict[str, Any]:
    """Apply a mutating player message. Returns the ack; raises ServiceError on refusal.

    ``texts``: a bot's words (its chat line, or its proposal's note) in the scenario's other
    languages, {language: text}, so each reader reads the bot in their own language. Only the
    bots' runner passes them: nothing a browser sends can set them.

    This is the hot path of a class (every chat line and proposal), so it is a handful of
    statements in one transaction: read the seat, claim the ``ref`` (a repeat stops there), then
    either a chat line (bump the table's seq, insert the event: the table's state is not even
    read) or an engine action (lock and load the table, apply, save).
    """
    now = now or timezone.now()
    kind = msg.get("type")
    ref = _ref_of(msg)
    if kind not in MUTATING:
        raise ServiceError(
            "unknown_type", format_lazy(gettext_lazy("Unknown message type {type}."), type=repr(kind))
        )
    answer = {"type": "ack", "ref": ref}
    if kind == "chat.send" and connection.vendor == "postgresql":
        done = _chat_in_one_statement(player_id, msg, now)
        if done is not None:
            return done
    with transaction.atomic():
        row = _seat_row(player_id)
        if row is None:
            _known_seats.pop(player_id, None)
            raise ServiceError("forbidden", gettext_lazy("You are no longer part of this session."))
        _known_seats[player_id] = row
        table_id, role, name, session_id, stamp = row
        if table_id is None or not role:
            raise ServiceError("phase", gettext_lazy("You do not have a seat yet: wait for your instructor."))
        if ref is not None and not _claim_ref(player_id, ref, answer, now):
            return ClientRef.objects.get(player_id=player_id, ref=ref).answer
        scenario = scenario_for(session_id, stamp)
        seat = Seat(player_id, session_id, table_id, role, name)
        try:
            if kind == "chat.send":
                events = [_chat(table_id, scenario, seat, msg, now, texts)]
            else:
                table = GameTable.objects.select_for_update(of=("self",)).get(pk=table_id)
                events = _player_events(table, scenario, seat, kind, msg, now, texts)
        except RuleViolation as e:
            raise refusal(e) from e
        _commit_broadcast(table_id, events)
        return answer


# The seat each player last acted from, in this process: (table_id, role, name, session_id,
# session created_at). Only a guess for the one-statement chat below, which checks it.
_known_seats: dict[int, tuple] = {}


@dataclass
class ChatStatement:
    """A chat line as one SQL statement (PostgreSQL), and the event it appends once it returns
    the event's seq."""

    sql: str
    params: list[Any]
    event: Event
    answer: dict[str, Any]


def chat_statement(player_id: int, msg: dict[str, Any], now: datetime | None = None) -> ChatStatement | None:
    """A chat line on PostgreSQL in one statement, committed on its own: one round trip instead of
    six (begin, seat, ref, seq, event, commit), which made most of an action's wait.

    The statement writes only if the player still sits where they last acted from
    (``_known_seats``), the table's row, locked, is in play, and the ref is new: it claims the
    ref, takes the table's next seq and inserts the event together, or writes nothing and returns
    no seq. Built without touching the database (None when it cannot be: no known seat, a scenario
    this process has not read, text or a channel the engine refuses), so that a socket's event
    loop can send it itself. Whenever this returns None or the statement no seq, the action goes
    through ``player_action``'s transaction, which gives the same answers and errors as ever."""
    ref = msg.get("ref")
    seat = _known_seats.get(player_id)
    if msg.get("type") != "chat.send" or not isinstance(ref, str) or len(ref) > 64 or seat is None:
        return None
    table_id, role, name, session_id, stamp = seat
    scenario = cached_scenario_for(session_id, stamp)
    if table_id is None or not role or scenario is None:
        return None
    try:
        audience = chat_rules.check_channel(scenario, role, msg.get("channel"))
        text = chat_rules.clean_text(_plain(msg.get("text")))  # exactly as _chat cleans it
    except RuleViolation:
        return None
    now = now or timezone.now()
    answer = {"type": "ack", "ref": ref}
    data = {"channel": msg["channel"], "role": role, "name": name, "text": text}
    at = _db_value(Event, "at", now)
    sql = (
        f"WITH seat AS (SELECT id FROM {_sql(Player)} WHERE id = %s AND removed = false "
        "AND table_id = %s AND role = %s AND name = %s), "
        f"live AS (SELECT id FROM {_sql(GameTable)} WHERE id = %s AND stage = %s FOR UPDATE), "
        f"claim AS (INSERT INTO {_sql(ClientRef)} (player_id, ref, answer, at) "
        "SELECT seat.id, %s, %s, %s FROM seat, live ON CONFLICT DO NOTHING RETURNING player_id), "
        f"bump AS (UPDATE {_sql(GameTable)} SET seq = seq + 1, last_activity = %s "
        "WHERE id = %s AND EXISTS (SELECT 1 FROM claim) RETURNING seq), "
        f"ins AS (INSERT INTO {_sql(Event)} (table_id, seq, kind, data, audience, at) "
        "SELECT %s, seq, %s, %s, %s, %s FROM bump RETURNING seq) "
        "SELECT (SELECT seq FROM ins)"
    )
    params = [
        player_id, table_id, role, name,
        table_id, GameTable.LIVE,
        ref, _db_value(ClientRef, "answer", answer), _db_value(ClientRef, "at", now),
        at, table_id,
        table_id, "chat.message", _db_value(Event, "data", data), audience, at,
    ]  # fmt: skip
    event = Event(table_id=table_id, seq=0, kind="chat.message", data=data, audience=audience, at=now)
    return ChatStatement(sql, params, event, answer)


def _chat_in_one_statement(player_id: int, msg: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """``chat_statement`` run on this thread's connection; None: not applied, use the transaction."""
    st = chat_statement(player_id, msg, now)
    if st is None:
        return None
    with connection.cursor() as c:
        c.execute(st.sql, st.params)
        (seq,) = c.fetchone()
    if seq is None:
        return None
    st.event.seq = seq
    _commit_broadcast(st.event.table_id, [st.event])
    return st.answer


def _sql(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _db_value(model, field: str, value: Any) -> Any:
    return model._meta.get_field(field).get_db_prep_save(value, connection)


def _seat_row(player_id: int) -> tuple | None:
    """(table_id, role, name, session_id, session created_at) of a player still in the session."""
    with connection.cursor() as c:
        c.execute(
            f"SELECT p.table_id, p.role, p.name, p.session_id, s.created_at FROM {_sql(Player)} p "
            f"JOIN {_sql(GameSession)} s ON s.id = p.session_id WHERE p.id = %s AND p.removed = %s",
            [player_id, False],
        )
        return c.fetchone()


def _claim_ref(player_id: int, ref: str, answer: dict[str, Any], now: datetime) -> bool:
    """Record a client's ref; False if it was already recorded (the repeat changes nothing).
    Inside the action's transaction, so a refused action leaves its ref unclaimed."""
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO {_sql(ClientRef)} (player_id, ref, answer, at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            [player_id, ref, _db_value(ClientRef, "answer", answer), _db_value(ClientRef, "at", now)],
        )
        return c.rowcount == 1


def _translated(texts: dict[str, str] | None, clean) -> dict[str, str]:
    """A bot's words in other languages, each checked as the English is (``clean`` refuses
    what the rules refuse); only the scenario's languages, never English itself."""
    out = {}
    for lang, text in (texts or {}).items():
        if lang in TRANSLATED_LANGUAGES and isinstance(text, str) and text.strip():
            out[lang] = clean(text)
    return out


def _chat(
    table_id: int,
    scenario: Scenario,
    seat: Seat,
    msg: dict[str, Any],
    now: datetime,
    texts: dict[str, str] | None = None,
) -> Event:
    """A chat line: the engine's checks, then the table's next seq and one event row, without
    reading the table's state (its stage says whether the game is on)."""
    audience = chat_rules.check_channel(scenario, seat.role, msg.get("channel"))

    def checked(stage: str) -> dict[str, Any]:
        chat_rules.check_open(stage != GameTable.WAITING, stage == GameTable.ENDED)
        text = chat_rules.clean_text(_plain(msg.get("text")))
        data = {"channel": msg["channel"], "role": seat.role, "name": seat.name, "text": text}
        translated = _translated(texts, lambda t: chat_rules.clean_text(_plain(t)))
        if translated:
            data["i18n"] = translated
        return data

    return _append_raw(table_id, "chat.message", checked, audience, now)[0]


def _plain(text: Any) -> Any:
    """Student text without format characters (bidirectional overrides, zero-width spaces):
    they can disguise what a line says. Anything but a string is left for the engine to refuse."""
    return names.strip_format(text) if isinstance(text, str) else text


def _append_raw(table_id: int, kind: str, data, audience: str, now: datetime) -> tuple[Event, str]:
    """Append one event without loading the table: ``UPDATE ... RETURNING`` takes the table's row
    lock (PostgreSQL; SQLite's IMMEDIATE transaction already holds the write lock) and its next
    seq, then one INSERT. ``data`` may be a function of the table's stage that raises to refuse
    (the caller's transaction then rolls the seq back). Returns the event and the stage."""
    at = _db_value(Event, "at", now)
    with connection.cursor() as c:
        c.execute(
            f"UPDATE {_sql(GameTable)} SET seq = seq + 1, last_activity = %s WHERE id = %s RETURNING seq, stage",
            [at, table_id],
        )
        seq, stage = c.fetchone()
        if callable(data):
            data = data(stage)
        c.execute(
            f"INSERT INTO {_sql(Event)} (table_id, seq, kind, data, audience, at) VALUES (%s, %s, %s, %s, %s, %s)",
            [table_id, seq, kind, _db_value(Event, "data", data), audience, at],
        )
    return Event(table_id=table_id, seq=seq, kind=kind, data=data, audience=audience, at=now), stage


def _player_events(table, scenario, seat: Seat, kind, msg, now, texts=None) -> list[Event]:
    """An engine action of a seat; ``_apply`` loads the table's state and applies it."""
    role = seat.role
    if kind == "proposal.make":
        note = msg.get("note", "") or ""
        if not isinstance(note, str):
            raise RuleViolation("invalid", gettext_noop("The note must be text."))
        note = _plain(note)
        note = chat_rules.clean_text(note) if note.strip() else ""
        replaces = msg.get("replaces")
        if replaces is not None and (not isinstance(replaces, int) or isinstance(replaces, bool)):
            raise RuleViolation("invalid", gettext_noop("replaces must be the id of a proposal."))
        terms = rules.check_terms(scenario, msg.get("terms"))
        action = rules.MakeProposal(
            role=role,
            terms=terms,
            note=note,
            replaces=replaces,
            note_translations=_translated(texts, lambda t: chat_rules.clean_text(_plain(t))) if note else {},
        )
    elif kind == "proposal.answer":
        pid = msg.get("proposal")
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise RuleViolation("invalid", gettext_noop("proposal must be the id of a proposal."))
        action = rules.Answer(role=role, proposal=pid, answer=msg.get("answer"))
    elif kind == "proposal.withdraw":
        pid = msg.get("proposal")
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise RuleViolation("invalid", gettext_noop("proposal must be the id of a proposal."))
        action = rules.Withdraw(role=role, proposal=pid)
    else:
        raise ServiceError(
            "unknown_type", format_lazy(gettext_lazy("Unknown message type {type}."), type=repr(kind))
        )
    return _apply(table, scenario, action, now)


def preview(player_id: int, msg: dict[str, Any], lang: str | None = None) -> dict[str, Any]:
    """The what-if of a package for this player, its factors' sentences in ``lang``."""
    seat = load_seat(player_id)
    if seat is None:
        raise ServiceError("forbidden", gettext_lazy("You are no longer part of this session."))
    if not seat.role or seat.table_id is None:
        # A player without a seat has no values: previewing would show some role's points.
        raise ServiceError("forbidden", gettext_lazy("You do not have a seat yet: wait for your instructor."))
    session = GameSession.objects.only("scenario_data").get(pk=seat.session_id)
    scenario = session.engine_scenario(lang)
    news = tuple(GameTable.objects.values_list("state", flat=True).get(pk=seat.table_id).get("news", ()))
    role = seat.role
    try:
        terms = rules.check_terms(scenario, msg.get("terms"))
    except RuleViolation as e:
        raise refusal(e) from e
    result = scoring.preview(scenario, role, terms, news=news)
    return {"type": "preview", "ref": _ref_of(msg), "terms": terms, **result}


# --- reading: snapshots and replays --------------------------------------------------------


def _local_images_only(tag: str, attribute: str, value: str) -> str | None:
    """A brief's image must come from this site: a remote one would tell its server who read
    the brief and when (a tracking pixel). The Content-Security-Policy blocks it too."""
    if tag == "img" and attribute in ("src", "srcset"):
        v = value.strip()
        if not v.startswith("/") or v.startswith("//"):
            return None
    return value


@lru_cache(maxsize=256)
def brief_html(markdown_text: str) -> str:
    html = markdown.markdown(markdown_text, extensions=["extra", "sane_lists"])
    return nh3.clean(html, attribute_filter=_local_images_only)


def public_scenario(scenario: Scenario) -> dict[str, Any]:
    return {
        "roles": [
            {
                "key": r.key,
                "name": r.name,
                "colour": r.colour,
                "description": r.description,
                "mediator": r.mediator,
            }
            for r in scenario.roles
        ],
        "issues": [
            {
                "key": i.key,
                "name": i.name,
                "description": i.description,
                "options": [
                    {
                        "key": o.key,
                        "label": o.label,
                        "summary": o.summary,
                        "commits": list(o.commits),
                    }
                    for o in i.options
                ],
            }
            for i in scenario.issues
        ],
        "news_items": [{"key": n.key, "headline": n.headline} for n in scenario.news],
        "necessary_signatories": list(scenario.necessary_signatories),
        "horizon_years": scenario.model.horizon_years,
        "moral": scenario.moral,
        "no_deal_text": scenario.no_deal_label(),
    }


def display_title(session: GameSession, scenario: Scenario, english: Scenario | None = None) -> str:
    """The session's title in the reader's language: a session opened without a title of its
    own carries its scenario's (English) title, which reads in the scenario's language; a title
    the instructor typed is theirs, untranslated. ``english``: the session's scenario as read,
    when the caller has it (``session`` may then be a partial row without its snapshot)."""
    english = english or session.engine_scenario()
    if not session.title or session.title == english.title:
        return scenario.title
    return session.title


def session_payload(
    session: GameSession, scenario: Scenario, english: Scenario | None = None
) -> dict[str, Any]:
    return {
        "code": session.code,
        "title": display_title(session, scenario, english),
        "description": scenario.description,
        "status": session.status,
        "phase": _phase_payload(scenario, session) if session.status != GameSession.LOBBY else None,
        "phases": [
            {"key": p.key, "name": p.name, "agreement": p.agreement, "duration_seconds": p.duration_seconds}
            for p in scenario.phases
        ],
    }


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


def _state_rows(player_id: int) -> tuple[Player, GameSession, Any, GameTable | None]:
    """The player, their session (without its scenario snapshot), the session's stamp for the
    scenario cache, and their table, in one statement (the ORM's compiling of this join cost more
    than the rest of a snapshot)."""
    with connection.cursor() as c:
        c.execute(
            "SELECT p.name, p.role, p.removed, p.rejoin_code, p.table_id, s.id, s.created_at, s.code, "
            "s.title, s.status, s.phase_index, s.phase_ends_at, s.paused_remaining, t.number, t.seq, "
            f"t.state, t.outcome FROM {_sql(Player)} p JOIN {_sql(GameSession)} s ON s.id = p.session_id "
            f"LEFT JOIN {_sql(GameTable)} t ON t.id = p.table_id WHERE p.id = %s",
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


def _chat_lines(table_id: int, role: str | None) -> list[dict[str, Any]]:
    """The chat lines of a table this role may read, oldest first, as the snapshot lists them."""
    where = "audience = %s"
    params: list[Any] = [table_id, "chat.message", "table"]
    if role:
        where += " OR (audience LIKE %s AND audience LIKE %s) OR audience = %s"
        params += ["channel:%", f"%{role}%", f"role:{role}"]
    with connection.cursor() as c:
        c.execute(
            f"SELECT seq, at, data, audience FROM {_sql(Event)} WHERE table_id = %s AND kind = %s "
            f"AND ({where}) ORDER BY seq",
            params,
        )
        rows = c.fetchall()
    return [
        {"seq": seq, "at": _dt(at).isoformat(), **_json(data)}
        for seq, at, data, audience in rows
        if chat_rules.can_read(audience, role)
    ]


def player_state(player_id: int, lang: str | None = None) -> dict[str, Any]:
    """The player's snapshot, with every text of the scenario (brief, options, news, factor
    sentences, the outcome's story) and the bots' words in ``lang`` (English by default and
    for any text not translated). Proposals, keys and every number are the same in every
    language."""
    player, session, stamp, table = _state_rows(player_id)
    english = scenario_for(session.pk, stamp)
    scenario = english.localized(lang) if lang else english
    role = player.role or None
    out: dict[str, Any] = {
        "type": "state",
        "seq": 0,
        "session": session_payload(session, scenario, english),
        **public_scenario(scenario),
        "you": {"id": player.pk, "name": player.name, "role": role, "brief": "", "values": {}},
        "table": None,
        "proposals": [],
        "chat": [],
        "news": [],
        "outcome": None,
    }
    if player.removed:
        out["you"]["removed"] = True
        return out
    if table is None:
        return out
    state = table.engine_state()
    out["seq"] = table.seq
    if role:
        r = scenario.role(role)
        out["you"].update(
            {
                "brief": brief_html(r.brief) if r else "",
                "values": scoring.shown_values(scenario, role, news=state.news),
                "colour": r.colour if r else None,
                "role_name": r.name if r else role,
                "no_deal_value": r.no_deal_value if r else 0,
                "channels": chat_rules.private_channels(scenario, role),
                "news_effects": news_effects(scenario, role, state.news),
            }
        )
    out["you"]["rejoin_code"] = player.rejoin_code
    out["table"] = {
        "id": table.pk,
        "number": table.number,
        "seats": seats_of(table, scenario),
        "started": state.started,
        "ended": state.ended,
        "agreement": state.agreement,
    }
    out["proposals"] = [localized_proposal(proposal_view(scenario, p), scenario) for p in state.proposals]
    out["chat"] = [localized_chat(line, scenario) for line in _chat_lines(table.pk, role)]
    out["news"] = [
        {"key": k, "headline": n.headline, "body": n.body}
        for k in state.news
        if (n := scenario.news_item(k)) is not None
    ]
    out["outcome"] = localized_outcome(table.outcome, scenario, state.news)
    return out


# --- one table, read in several languages ---------------------------------------------------
# Events are written once, in the scenario's own words (English); each reader's socket and
# snapshot put the scenario's words back in the reader's language. Only words change: keys,
# proposals and every number are what was written.


def localized_outcome(
    outcome: dict[str, Any] | None, scenario: Scenario, news: Sequence[str] | None = None
) -> dict[str, Any] | None:
    """A recorded outcome's texts in the scenario's language (the recorded one in English)."""
    if not outcome or scenario.language == "en":
        return outcome
    return scoring.localized_outcome(scenario, outcome, news)


def localized_chat(data: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """A chat line as a reader of the scenario's language reads it: a bot's line in that
    language when the bot said it in several (a person's words are theirs, untranslated)."""
    if "i18n" not in data:
        return data
    out = {k: v for k, v in data.items() if k != "i18n"}
    out["text"] = (data.get("i18n") or {}).get(scenario.language) or data.get("text", "")
    return out


def localized_proposal(p: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """A proposal with a bot's note in the reader's language, when the bot wrote it in several."""
    if "note_translations" not in p:
        return p
    out = {k: v for k, v in p.items() if k != "note_translations"}
    out["note"] = (p.get("note_translations") or {}).get(scenario.language) or p.get("note", "")
    return out


def localize_event(event: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """A table event (its wire form) as a reader of ``scenario``'s language sees it: the phase's
    name, the news' headline and body, the outcome's sentences and story from the scenario in
    that language, a bot's words in it. An event with nothing to translate is returned as is."""
    kind, data = event.get("kind"), event.get("data")
    if not isinstance(data, dict):
        return event
    if kind == "chat.message":
        new = localized_chat(data, scenario)
    elif kind == "proposal.made" and isinstance(data.get("proposal"), dict):
        p = localized_proposal(data["proposal"], scenario)
        new = data if p is data["proposal"] else {**data, "proposal": p}
    elif scenario.language == "en":
        return event
    elif kind == "phase.changed" and isinstance(data.get("phase"), dict):
        phase = scenario.phase(data["phase"].get("key"))
        new = {**data, "phase": {**data["phase"], "name": phase.name}} if phase else data
    elif kind == "news":
        item = scenario.news_item(data.get("key"))
        new = {**data, "headline": item.headline, "body": item.body} if item else data
    elif kind == "game.ended":
        new = localized_outcome(data, scenario) or data
    else:
        return event
    return event if new is data else {**event, "data": new}


def session_scenario(session_id: int, lang: str | None = None) -> Scenario:
    """A session's scenario in a language (for a socket that localizes what it delivers)."""
    return (
        GameSession.objects.only("pk", "created_at", "scenario_data").get(pk=session_id).engine_scenario(lang)
    )


def news_effects(scenario: Scenario, role: str, news: Sequence[str]) -> list[dict[str, Any]]:
    """What each news item that reached the table did to this role's points, as the student sees
    them (news in the order it arrived). ``changes``: the options the news itself revalued for this
    role, before and after on the shown 0-100 scale; ``rescaled``: how many other options moved by
    half a point or more because the scale itself moved. Only this role's own points: never
    another role's."""
    out = []
    for i, key in enumerate(news):
        item = scenario.news_item(key)
        if item is None:
            continue
        touched = {ref for ref, delta in item.value_effects.get(role, {}).items() if delta}
        before = scoring.shown_values(scenario, role, news=news[:i])
        after = scoring.shown_values(scenario, role, news=news[: i + 1])
        changes, rescaled = [], 0
        for issue in scenario.issues:
            for o in issue.options:
                b, a = before[issue.key][o.key], after[issue.key][o.key]
                if f"{issue.key}/{o.key}" in touched:
                    changes.append(
                        {"issue": issue.key, "option": o.key, "label": o.label, "before": b, "after": a}
                    )
                elif abs(a - b) >= 0.5:
                    rescaled += 1
        changes.sort(key=lambda c: -abs(c["after"] - c["before"]))
        out.append({"key": key, "changes": changes, "rescaled": rescaled})
    return out


def proposal_view(scenario: Scenario, p: rules.Proposal) -> dict[str, Any]:
    d = p.to_dict()
    d["required"] = list(rules.required_signatories(scenario, p.terms))
    d["pending"] = list(rules.pending_signatures(scenario, p))
    return d


# --- presence ------------------------------------------------------------------------------


def socket_opened(player_id: int, channel_name: str) -> tuple[list[str], float | None]:
    """Register a player's new socket. Returns the channel names of this player's older sockets
    beyond ``MAX_SOCKETS_PER_PLAYER`` (their rows are already gone: the caller tells them to
    close), and, when the presence change is held back to coalesce reconnect churn, how many
    seconds to wait before calling :func:`report_presence`."""
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as c:  # one upsert (the ORM's update_or_create took four statements)
            c.execute(
                f"INSERT INTO {_sql(Connection)} (channel_name, player_id, seen_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (channel_name) DO UPDATE SET player_id = excluded.player_id, seen_at = excluded.seen_at",
                [channel_name, player_id, _db_value(Connection, "seen_at", now)],
            )
        evict = _surplus_sockets(player_id, channel_name, now)
        retry = _presence(player_id, now, seen=True, live=True)  # this socket was seen just now
    return evict, retry


def _surplus_sockets(player_id: int, newest: str, now: datetime) -> list[str]:
    cap = max(1, int(settings.GAME["MAX_SOCKETS_PER_PLAYER"]))
    fresh = now - timedelta(seconds=2.5 * settings.GAME["SYNC_SECONDS"])
    with connection.cursor() as c:
        c.execute(
            f"SELECT channel_name FROM {_sql(Connection)} WHERE player_id = %s AND seen_at >= %s "
            "AND channel_name <> %s ORDER BY id DESC",
            [player_id, _db_value(Connection, "seen_at", fresh), newest],
        )
        others = [r[0] for r in c.fetchall()]
    surplus = others[cap - 1 :]
    if surplus:
        Connection.objects.filter(channel_name__in=surplus).delete()
    return surplus


def socket_closed(player_id: int, channel_name: str) -> float | None:
    """Forget a closed socket. Returns seconds to wait before :func:`report_presence` when the
    presence change is held back (see :func:`_presence`)."""
    now = timezone.now()
    with transaction.atomic():
        Connection.objects.filter(channel_name=channel_name).delete()
        return _presence(player_id, now, seen=True)


def report_presence(player_id: int) -> float | None:
    """Announce a held-back presence change if it still stands (nothing if the player came back
    in the meantime). Returns seconds to wait again, if still too soon."""
    with transaction.atomic():
        return _presence(player_id, timezone.now())


def sweep(channel_names: Sequence[str], table_ids: Sequence[int]) -> dict[int, int]:
    """A batch of sockets' periodic sync: mark them alive (presence counts a socket while its
    ``seen_at`` is fresh), and return each of their tables' latest seq."""
    now = timezone.now()
    names = list(channel_names)
    with transaction.atomic():  # a transaction: on SQLite it queues for the write lock without sleeping
        for i in range(0, len(names), 500):
            Connection.objects.filter(channel_name__in=names[i : i + 500]).update(seen_at=now)
    ids = list(table_ids)
    seqs: dict[int, int] = {}
    for i in range(0, len(ids), 500):
        seqs.update(GameTable.objects.filter(pk__in=ids[i : i + 500]).values_list("pk", "seq"))
    return seqs


def _presence(player_id: int, now: datetime, *, seen: bool = False, live: bool | None = None) -> float | None:
    """Tell the table (and the dashboard) that a player came or went, coalesced: only a change
    from what was last announced is an event, and at most one per player every
    ``PRESENCE_COALESCE_SECONDS``. A change inside that window is held back: the return value is
    how long until it may be announced (the socket's worker then calls ``report_presence``), so
    twenty quick reconnects cost one or two events, not forty. ``seen`` also records the time in
    ``last_seen``.

    The player's row is changed by one UPDATE at most, under a lock that does not block keys:
    on PostgreSQL a second UPDATE of a row in the same transaction makes the foreign keys be
    checked again (a share lock on the session's row at commit), which deadlocked with a join
    holding that row while it waited for the table's. ``live``: whether the player has a live
    socket, when the caller knows (a socket registered just now); else it is read."""
    player = (
        Player.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk=player_id)
        .only("pk", "session_id", "table_id", "role", "name", "presence", "presence_at")
        .first()
    )
    if player is None:
        return None
    fields: dict[str, Any] = {"last_seen": now} if seen else {}
    retry, connected = None, None
    if player.table_id is not None:
        if live is None:
            live = bool(live_player_ids([player_id]))
        window = float(settings.GAME["PRESENCE_COALESCE_SECONDS"])
        wait = window - (now - player.presence_at).total_seconds() if player.presence_at and window > 0 else 0
        if live != player.presence:
            if wait > 0:
                retry = wait
            else:
                connected = live
                fields.update(presence=live, presence_at=now)
    if fields:
        Player.objects.filter(pk=player_id).update(**fields)
    if connected is not None:
        data = {"role": player.role, "name": player.name, "connected": connected}
        ev, _stage = _append_raw(player.table_id, "presence", data, "table", now)
        _commit_broadcast(player.table_id, [ev])
        notify_session(player.session_id, "presence")
    return retry


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
            f"FROM {_sql(Player)} p JOIN {_sql(GameSession)} s ON s.id = p.session_id "
            "WHERE p.token = %s AND s.code = %s AND p.removed = %s",
            [_db_value(Player, "token", tok), normalise_code(session_code), False],
        )
        row = c.fetchone()
    return PlayerRow(*row) if row else None


def player_for(session_code: str, token: str | None) -> Player | None:
    if not token:
        return None
    try:
        return (
            Player.objects.filter(token=token, session__code=normalise_code(session_code), removed=False)
            .select_related("session")
            .defer("session__scenario_data")  # large; the engine's scenario is cached per process
            .first()
        )
    except (ValueError, TypeError):  # not a UUID
        return None
