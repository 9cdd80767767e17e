"""Sessions, joining and seats: who sits where, and the instructor's seating controls."""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from game import names
from game.engine import rules
from game.engine.scenario import Scenario
from game.models import (
    Connection,
    GameSession,
    GameTable,
    Player,
    ScenarioConfig,
    new_code,
    normalise_code,
)
from game.services import eventlog, moves
from game.services.errors import ServiceError

logger = logging.getLogger(__name__)

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
    """Seat a new player, then write the table's ``seats`` event in a transaction of its own.

    The seat is one short transaction: the session row locked (which serialises a class's joins),
    the seat chosen from the counts, the player inserted already seated (a taken name fails on
    the unique constraint). On PostgreSQL, once this process knows the code's session, that
    transaction is one message to the server (``eventlog.seat_in_one_trip``); otherwise, and for
    every case it leaves out, the ORM's (``_seat``).

    Why: on PostgreSQL with two busy workers, every statement's round trip waited for its
    worker's GIL while the class's lock was held; a join held it for about 14 ms with the seats
    event inside, and the lock, not the CPU, decided how fast a class could join
    (docs/performance.md). The seats event reads the seats once its table's row is locked
    (``append_raw``), so a later seq never carries an older list. Should writing it fail (the
    database lost between the two), the join stands and the failure is logged: the seat is
    committed, and the table's next seats event lists the player."""
    clean = normalise_code(code)
    if not clean:
        raise JoinError("code", gettext_lazy("Type the six-character code your instructor shows."))
    name = clean_name(name)
    key = names.name_key(name)  # before the transaction: the class's joins wait for its lock
    try:
        session, player = _seat_in_one_trip(clean, name, key)
        if player is None:
            session, player = _seat(clean, name, key)
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
    try:
        with transaction.atomic():
            seats_changed(session, [GameTable(pk=player.table_id, session=session)], timezone.now())
    except DatabaseError:
        logger.warning(
            "join: player %s seated at table %s, its seats event not written",
            player.pk,
            player.table_id,
            exc_info=True,
        )
    return player


# The session each code's joins went to in this process, and its roles: (session id, role keys).
# Only a guess for the one-trip seat on PostgreSQL, which checks it (the full path corrects it).
_join_targets: dict[str, tuple[int, tuple[str, ...]]] = {}


def _seat_in_one_trip(code: str, name: str, key: str) -> tuple[GameSession | None, Player | None]:
    """The seat in one message to PostgreSQL once this process knows the code's session;
    (session or None, None) to take the full path."""
    target = _join_targets.get(code)
    if target is None or connection.vendor != "postgresql":
        return None, None
    if connection.settings_dict["OPTIONS"].get("server_side_binding"):
        return None, None  # two statements in one message need psycopg's client-side binding
    session_id, roles = target
    player = Player(session_id=session_id, name=name, name_key=key)
    session, seated = eventlog.seat_in_one_trip(session_id, code, roles, player)
    if session is None:
        _join_targets.pop(code, None)
    return session, seated


def _seat(code: str, name: str, key: str) -> tuple[GameSession, Player]:
    """The seat through the ORM, on every database and for every case: an unknown or ended code
    (refused), a table opened for the newcomer."""
    with transaction.atomic():
        # scenario_data deferred: large, and the engine's scenario is cached per process.
        session = eventlog.lock_open_session(code)
        if session is None:
            if GameSession.objects.filter(code=code, status=GameSession.ENDED).exists():
                raise JoinError(
                    "code",
                    format_lazy(
                        gettext_lazy("The session {code} has ended; ask your instructor for the new code."),
                        code=code,
                    ),
                )
            raise JoinError(
                "code",
                format_lazy(
                    gettext_lazy("No session has the code {code}; check it with your instructor."),
                    code=code,
                ),
            )
        table_id, role = _pick_seat(session)
        player = Player.objects.create(session=session, name=name, name_key=key, table_id=table_id, role=role)
    if len(_join_targets) > 1000:
        _join_targets.clear()
    _join_targets[code] = (session.pk, tuple(session.engine_scenario().role_keys))
    return session, player


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
    row = eventlog.least_taken_seat(session.pk, roles)
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


def seats_changed(session: GameSession, tables: Iterable[GameTable], now: datetime) -> None:
    """Append a ``seats`` event to each table (its seq taken as a chat line's is), the seats read
    once the table's row is locked, so that events in seq order list the seats in commit order."""
    scenario = session.engine_scenario()
    for t in tables:
        ev, _stage = eventlog.append_raw(
            t.pk, "seats", lambda _stage, t=t: {"seats": seats_of(t, scenario)}, "table", now
        )
        eventlog.commit_broadcast(t.pk, [ev])
    eventlog.notify_session(session.pk, "seats")


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
    return seats_from(eventlog.seat_rows(table.pk, fresh), scenario)


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
        eventlog.notify_player(player.pk)


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
        eventlog.notify_player(player.pk, "removed")


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
        eventlog.notify_player(newcomer.pk, "handed")
        if old_table is not None:
            seats_changed(session, [old_table], timezone.now())
        else:
            eventlog.notify_session(session.pk, "seats")


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
            table = eventlog.lock_table(table.pk)
            events = moves.apply_action(table, scenario, rules.Start(), now, session=session)
            for _ in range(session.phase_index):
                events += moves.apply_action(table, scenario, rules.AdvancePhase(), now, session=session)
            eventlog.commit_broadcast(table.pk, events)
        eventlog.notify_session(session.pk, "tables")
        return table


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
