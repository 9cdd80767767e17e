"""What a student does at the table: propose, answer, withdraw, chat, and the preview of a
package; each in one transaction through the engine, a repeated ``ref`` answered once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from game import wire
from game.engine import chat as chat_rules
from game.engine import rules, scoring
from game.engine.rules import RuleViolation
from game.engine.scenario import TRANSLATED_LANGUAGES, Scenario
from game.models import (
    ClientRef,
    Event,
    GameSession,
    GameTable,
    Player,
    scenario_for,
)
from game.services import clock, eventlog
from game.services.errors import ServiceError, refusal


def _table_seed(session: GameSession, table: GameTable) -> int:
    return (session.seed * 1_000_003 + table.number) % (2**63)


def apply_action(
    table: GameTable, scenario: Scenario, action: Any, now: datetime, *, session: GameSession | None = None
) -> list[Event]:
    """Apply one engine action to a locked table; persist state and events. Raises RuleViolation.

    The session row is read only when an event needs it (a phase change, the outcome)."""
    state = table.engine_state()
    new_state, engine_events = rules.apply(scenario, state, action)
    saved: list[Event] = []
    for ev in engine_events:
        current = None
        if ev.kind == "phase.changed":
            session = session or table.session
            current = clock.phase_payload(scenario, session)
        data = wire.event_data(scenario, new_state, ev.kind, ev.data, current)
        saved.append(eventlog.append(table, ev.kind, data, ev.visibility, now))
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
    return eventlog.append(table, "game.ended", outcome, "table", now)


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


def player_action(
    player_id: int,
    msg: dict[str, Any] | wire.PlayerAction,
    now: datetime | None = None,
    *,
    texts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Apply a player's action that changes the game (a frame, or the action game/wire/ read
    from it). Returns the ack; raises ServiceError (a WireError for a frame it cannot read) on
    refusal.

    ``texts``: a bot's words (its chat line, or its proposal's note) in the scenario's other
    languages, {language: text}, so each reader reads the bot in their own language. Only the
    bots' runner passes them: nothing a browser sends can set them.

    This is the hot path of a class (every chat line and proposal), so it is a handful of
    statements in one transaction: read the seat, claim the ``ref`` (a repeat stops there), then
    either a chat line (bump the table's seq, insert the event: the table's state is not even
    read) or an engine action (lock and load the table, apply, save).
    """
    now = now or timezone.now()
    action = wire.player_action(msg)
    if not isinstance(action, wire.MUTATING_ACTIONS):
        raise wire.unknown(msg.get("type") if isinstance(msg, dict) else type(action).__name__, action.ref)
    ref = action.ref
    answer = wire.ack(ref)
    if isinstance(action, wire.ChatSend) and connection.vendor == "postgresql":
        done = eventlog.chat_in_one_statement(player_id, action, now)
        if done is not None:
            return done
    with transaction.atomic():
        row = eventlog.seat_row(player_id)
        if row is None:
            eventlog.known_seats.pop(player_id, None)
            raise ServiceError("forbidden", gettext_lazy("You are no longer part of this session."))
        eventlog.known_seats[player_id] = row
        table_id, role, name, session_id, stamp = row
        if table_id is None or not role:
            raise ServiceError("phase", gettext_lazy("You do not have a seat yet: wait for your instructor."))
        if ref is not None and not eventlog.claim_ref(player_id, ref, answer, now):
            return ClientRef.objects.get(player_id=player_id, ref=ref).answer
        scenario = scenario_for(session_id, stamp)
        seat = Seat(player_id, session_id, table_id, role, name)
        try:
            if isinstance(action, wire.ChatSend):
                events = [_chat(table_id, scenario, seat, action, now, texts)]
            else:
                table = GameTable.objects.select_for_update(of=("self",)).get(pk=table_id)
                events = _player_events(table, scenario, seat, action, now, texts)
        except RuleViolation as e:
            raise refusal(e) from e
        eventlog.commit_broadcast(table_id, events)
        return answer


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
    action: wire.ChatSend,
    now: datetime,
    texts: dict[str, str] | None = None,
) -> Event:
    """A chat line: the engine's checks, then the table's next seq and one event row, without
    reading the table's state (its stage says whether the game is on)."""
    audience = chat_rules.check_channel(scenario, seat.role, action.channel)

    def checked(stage: str) -> dict[str, Any]:
        chat_rules.check_open(stage != GameTable.WAITING, stage == GameTable.ENDED)
        text = eventlog.line(action.text)
        data = {"channel": action.channel, "role": seat.role, "name": seat.name, "text": text}
        translated = _translated(texts, eventlog.line)
        if translated:
            data["i18n"] = translated
        return data

    return eventlog.append_raw(table_id, "chat.message", checked, audience, now)[0]


def _player_events(table, scenario, seat: Seat, action: wire.PlayerAction, now, texts=None) -> list[Event]:
    """A seat's engine action; ``apply_action`` loads the table's state and applies it."""
    role = seat.role
    if isinstance(action, wire.ProposalMake):
        note = eventlog.plain(action.note)
        note = chat_rules.clean_text(note) if note.strip() else ""
        terms = rules.check_terms(scenario, action.terms)
        engine_action = rules.MakeProposal(
            role=role,
            terms=terms,
            note=note,
            replaces=action.replaces,
            note_translations=_translated(texts, eventlog.line) if note else {},
        )
    elif isinstance(action, wire.ProposalAnswer):
        engine_action = rules.Answer(role=role, proposal=action.proposal, answer=action.answer)
    else:
        engine_action = rules.Withdraw(role=role, proposal=action.proposal)
    return apply_action(table, scenario, engine_action, now)


def preview(player_id: int, msg: dict[str, Any] | wire.Preview, lang: str | None = None) -> dict[str, Any]:
    """The what-if of a package for this player, its factors' sentences in ``lang``."""
    action = wire.player_action(msg)
    if not isinstance(action, wire.Preview):
        raise wire.unknown(msg.get("type") if isinstance(msg, dict) else type(action).__name__, action.ref)
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
        terms = rules.check_terms(scenario, action.terms)
    except RuleViolation as e:
        raise refusal(e) from e
    result = scoring.preview(scenario, role, terms, news=news)
    return wire.preview(action.ref, terms, result)
