"""The phase clock and the instructor's controls of a running class: start, advance, extend,
pause and resume, news, the end, and the tick every worker runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from game import wire
from game.engine import rules
from game.engine.rules import RuleViolation
from game.engine.scenario import Scenario
from game.models import (
    GameSession,
)
from game.services import eventlog, moves
from game.services.errors import ServiceError


def _ends_at_iso(session: GameSession) -> str | None:
    return session.phase_ends_at.isoformat() if session.phase_ends_at else None


def phase_payload(scenario: Scenario, session: GameSession) -> dict[str, Any]:
    """The session's current phase, as the frames carry it (game/wire/)."""
    return wire.phase(scenario, session.phase_index, _ends_at_iso(session), session.paused_remaining)


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
        table = eventlog.lock_table(tid)
        state = table.engine_state()
        if state.ended:
            continue
        if isinstance(action, rules.InjectNews) and action.key in state.news:
            continue
        try:
            events = moves.apply_action(table, scenario, action, now, session=session)
        except RuleViolation:
            continue
        applied += 1
        eventlog.commit_broadcast(table.pk, events)
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
        eventlog.notify_session(session.pk, "started")


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
        eventlog.notify_session(session.pk, "phase")
    return True


def _clock_event(session: GameSession, now: datetime) -> None:
    """Tell every live table that the clock changed (extend, pause, resume)."""
    scenario = session.engine_scenario()
    for tid in session.tables.values_list("pk", flat=True):
        table = eventlog.lock_table(tid)
        if table.engine_state().ended:
            continue
        ev = eventlog.append(
            table, "phase.changed", {"phase": phase_payload(scenario, session)}, "table", now
        )
        table.save(update_fields=["seq", "last_activity"])
        eventlog.commit_broadcast(table.pk, [ev])
    eventlog.notify_session(session.pk, "clock")


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
        eventlog.notify_session(session.pk, "news")


def _end(session: GameSession, now: datetime) -> None:
    session.status = GameSession.ENDED
    session.ended_at = now
    session.phase_ends_at = None
    session.paused_remaining = None
    session.save()
    _for_each_table(session, rules.End(), now)
    eventlog.notify_session(session.pk, "ended")


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
