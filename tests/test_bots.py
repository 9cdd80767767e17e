"""Bots at a live table: they act through ``moves.player_action`` like people, at a human
pace derived from the event log, once per decision even when several workers step them, and a
stand-in hands the seat back when its student returns. The clock is passed in, never slept."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from game import bot_runner, bots
from game.models import ClientRef, Event, Player
from game.services import clock, moves, seating

pytestmark = pytest.mark.django_db

DT = timedelta(seconds=15)  # the clock moves this much between steps: more than any bot delay


def actions(table) -> list[Event]:
    return list(Event.objects.filter(table=table, kind__in=bot_runner.ACTION_KINDS).order_by("seq"))


def actor(e: Event) -> str:
    if e.kind == "proposal.made":
        return e.data["proposal"]["author"]
    return e.data.get("role", "?")


def bot_session(make_session, tables: int = 1):
    session = make_session(tables=tables)
    assert bots.fill_empty_seats(session.pk) == 4 * tables
    t0 = timezone.now()
    clock.start_session(session.pk, now=t0)
    session.refresh_from_db()
    return session, t0


def play(session, now, steps: int) -> tuple:
    """Step the bots ``steps`` times, the clock moving DT each time; stop when the game ends."""
    taken = 0
    for _ in range(steps):
        now += DT
        taken += bot_runner.step(now)
        if not session.tables.filter(outcome__isnull=True).exists():
            break
    return now, taken


def test_bots_chat_propose_counter_and_conclude_an_agreement_through_the_event_log(make_session):
    session, now = bot_session(make_session)
    table = session.tables.get()
    phases = session.engine_scenario().phases
    for i in range(len(phases)):
        now, _ = play(session, now, steps=int(phases[i].duration_seconds / DT.total_seconds()))
        session.refresh_from_db()
        if session.status != "running" or i + 1 == len(phases):
            break
        clock.advance_phase(session.pk, now)
    table.refresh_from_db()
    log = actions(table)
    kinds = Counter(e.kind for e in log)
    assert kinds["chat.message"] >= 4 and kinds["proposal.made"] >= 2 and kinds["proposal.answered"] >= 2
    assert {actor(e) for e in log if e.kind == "chat.message"} == {"us", "russia", "ukraine", "europe"}
    assert any(e.data["proposal"]["replaces"] for e in log if e.kind == "proposal.made"), (
        "no counter-proposal"
    )
    agreed = Event.objects.filter(table=table, kind="agreement.reached").first()
    assert agreed is not None, [(actor(e), e.kind) for e in log]
    assert table.outcome and table.outcome["agreement"] == agreed.data["terms"]
    # Every action came through player_action with a bot ref, and each bot chats under its name.
    follow_ups = [  # a counter-proposal also records the reject of the proposal it answers
        b
        for a, b in itertools.pairwise(log)
        if a.kind == "proposal.made"
        and b.kind == "proposal.answered"
        and b.seq == a.seq + 1
        and b.data["proposal"] == a.data["proposal"]["replaces"]
    ]
    assert ClientRef.objects.filter(ref__startswith="bot:").count() == len(log) - len(follow_ups)
    names = {e.data["name"] for e in log if e.kind == "chat.message"}
    assert all(" bot " in n for n in names)
    # Human pace: no role acts twice within the configured delay.
    delay = bot_runner.delay_seconds()
    last: dict[str, object] = {}
    for e in (e for e in log if e not in follow_ups):
        r = actor(e) if e.kind != "proposal.withdrawn" else None
        if r in last:
            assert (e.at - last[r]).total_seconds() >= delay
        if r:
            last[r] = e.at


def test_a_bot_waits_for_its_delay_then_acts_once(make_session, settings):
    settings.GAME["BOT_DELAY_SECONDS"] = 30.0
    session, t0 = bot_session(make_session)
    table = session.tables.get()
    assert bot_runner.step(t0 + timedelta(seconds=10)) == 0  # too soon after the start
    assert bot_runner.step(t0 + timedelta(seconds=31)) == 1
    assert bot_runner.step(t0 + timedelta(seconds=32)) == 0  # everyone reads the new line first
    assert len(actions(table)) == 1


def test_two_workers_stepping_at_the_same_moment_never_act_twice(make_session):
    session, now = bot_session(make_session)
    table = session.tables.get()
    for _ in range(12):
        now += DT
        n1 = bot_runner.step(now)
        n2 = bot_runner.step(now)  # a second worker, same moment
        assert n1 <= 1 and n2 == 0
    made = len(actions(table))
    assert made >= 6
    # Two workers that both decide before either acts send the same ref: applied once.
    now += DT
    bots_ = bot_runner.active_bots()
    _, due = bot_runner.due_bots(table.pk, bots_, now)
    assert due
    plan1 = bot_runner.decide_for(due[0], now)
    plan2 = bot_runner.decide_for(due[0], now)
    assert plan1 == plan2 and plan1 is not None
    before = Event.objects.filter(table=table).count()
    moves.player_action(plan1[0], plan1[1], now=now)
    after_one = Event.objects.filter(table=table).count()
    moves.player_action(plan2[0], plan2[1], now=now)
    assert Event.objects.filter(table=table).count() == after_one > before
    refs = Counter(ClientRef.objects.filter(ref__startswith="bot:").values_list("player_id", "ref"))
    assert max(refs.values()) == 1


def test_a_stand_in_plays_while_the_student_is_away_and_stops_when_they_return(make_session):
    session = make_session(tables=1)
    ann = seating.join(session.code, "Ann")  # the United States
    assert bots.fill_empty_seats(session.pk) == 3
    now = timezone.now()
    clock.start_session(session.pk, now=now)
    table = ann.table

    def us_actions():
        return [e for e in actions(table) if actor(e) == ann.role]

    now, _ = play(session, now, steps=12)
    assert us_actions() == []  # a person holds the seat: no bot speaks for them
    bots.set_stand_in(session.pk, ann.pk, True)
    now, _ = play(session, now, steps=12)
    stood_in = us_actions()
    assert stood_in, "the stand-in never acted"
    assert all(e.data.get("name", "Ann") == "Ann" for e in stood_in if e.kind == "chat.message")
    bots.set_stand_in(session.pk, ann.pk, False)
    now, _ = play(session, now, steps=12)
    assert us_actions() == stood_in
    assert len(actions(table)) > len(stood_in)  # the other bots carry on


def test_step_costs_one_query_when_no_bot_is_playing(make_session, django_assert_num_queries):
    session = make_session(tables=1, start=True)
    for i in range(4):
        seating.join(session.code, f"P{i}")
    with django_assert_num_queries(1):
        assert bot_runner.step(timezone.now() + timedelta(minutes=5)) == 0


def test_bots_stay_quiet_before_the_start_after_the_end_and_while_paused(make_session):
    session = make_session(tables=1)
    bots.fill_empty_seats(session.pk)
    later = timezone.now() + timedelta(minutes=5)
    assert bot_runner.step(later) == 0  # lobby
    clock.start_session(session.pk, now=later)
    clock.pause_clock(session.pk, now=later)
    assert bot_runner.step(later + timedelta(minutes=1)) == 0
    clock.resume_clock(session.pk, now=later + timedelta(minutes=1))
    assert bot_runner.step(later + timedelta(minutes=2)) == 1
    clock.end_session(session.pk, now=later + timedelta(minutes=2))
    assert bot_runner.step(later + timedelta(minutes=3)) == 0


def test_a_removed_bot_does_not_act(make_session):
    session, now = bot_session(make_session)
    for p in Player.objects.filter(session=session, is_bot=True):
        seating.remove_player(session, p.pk)
    assert bot_runner.step(now + timedelta(minutes=1)) == 0
