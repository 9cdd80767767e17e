"""Concurrent actions on one table: serialized by the row lock, one agreement, gap-free seq.

Runs on SQLite in the main suite and on PostgreSQL through tests/run_with_postgres.py, where
``select_for_update`` is what serializes the workers.
"""

from __future__ import annotations

import itertools
import threading

import pytest
from django.db import connection, connections

from game.models import Event, GameTable
from game.services import clock, moves, seating

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

TERMS = {"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "bilateral_arms_training"}


def at_once(*calls):
    """Run the calls in threads released by one barrier; return their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as e:
            results[i] = e
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def seated(session):
    players = [seating.join(session.code, f"P{i}") for i in range(4)]
    return {p.role: p for p in players}


def in_leaders_phase(make_session):
    session = make_session(start=True)
    clock.advance_phase(session.pk)
    clock.advance_phase(session.pk)
    return session


def test_the_last_two_signatures_arriving_at_once_make_exactly_one_agreement(make_session):
    for _ in range(5):
        session = in_leaders_phase(make_session)
        p = seated(session)
        moves.player_action(p["ukraine"].pk, {"type": "proposal.make", "terms": TERMS})
        results = at_once(
            *(
                (
                    lambda pid=p[r].pk: moves.player_action(
                        pid, {"type": "proposal.answer", "proposal": 1, "answer": "accept"}
                    )
                )
                for r in ("russia", "europe")
            )
        )
        assert all(isinstance(r, dict) and r["type"] == "ack" for r in results), results
        table = GameTable.objects.get(session=session)
        assert Event.objects.filter(table=table, kind="agreement.reached").count() == 1
        assert Event.objects.filter(table=table, kind="game.ended").count() == 1
        seqs = list(Event.objects.filter(table=table).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, table.seq + 1))


def test_two_competing_proposals_completed_at_once_conclude_only_one(make_session):
    session = in_leaders_phase(make_session)
    p = seated(session)
    other = dict(TERMS, nato="alliance_pledge")
    moves.player_action(p["ukraine"].pk, {"type": "proposal.make", "terms": TERMS})  # id 1
    moves.player_action(p["ukraine"].pk, {"type": "proposal.make", "terms": other})  # id 2
    moves.player_action(p["europe"].pk, {"type": "proposal.answer", "proposal": 1, "answer": "accept"})
    moves.player_action(p["europe"].pk, {"type": "proposal.answer", "proposal": 2, "answer": "accept"})
    moves.player_action(p["us"].pk, {"type": "proposal.answer", "proposal": 2, "answer": "accept"})
    # Russia's acceptance of either completes it; two Russian players (a team) click at once.
    teammate = seating.join(session.code, "Russia teammate")
    assert teammate.role == "us"  # fifth player joins a team in role order
    results = at_once(
        lambda: moves.player_action(
            p["russia"].pk, {"type": "proposal.answer", "proposal": 1, "answer": "accept"}
        ),
        lambda: moves.player_action(
            p["russia"].pk, {"type": "proposal.answer", "proposal": 2, "answer": "accept"}
        ),
    )
    outcomes = sorted(r["type"] if isinstance(r, dict) else r.code for r in results)
    assert outcomes == ["ack", "conflict"]
    table = GameTable.objects.get(session=session)
    assert Event.objects.filter(table=table, kind="agreement.reached").count() == 1


def test_many_chat_messages_from_many_threads_get_gap_free_sequence_numbers(make_session):
    session = make_session(start=True)
    p = seated(session)
    calls = [
        (
            lambda r=r, i=i: moves.player_action(
                p[r].pk, {"type": "chat.send", "channel": "table", "text": f"{r} {i}"}
            )
        )
        for r in p
        for i in range(5)
    ]
    results = at_once(*calls)
    assert all(isinstance(r, dict) for r in results), [r for r in results if not isinstance(r, dict)]
    table = GameTable.objects.get(session=session)
    seqs = list(Event.objects.filter(table=table).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, table.seq + 1))
    assert Event.objects.filter(table=table, kind="chat.message").count() == 20


def test_the_suite_knows_which_database_it_runs_on():
    assert connection.vendor in ("sqlite", "postgresql")


def test_joins_at_once_seat_everyone_once_and_each_seats_event_lists_what_was_committed_before_it(
    make_session,
):
    """A join commits its seat first (the class's lock held only for that) and writes the table's
    seats event in a second transaction that reads the seats once the table's row is locked: in
    seq order, each event's list contains the previous one's, and the last lists every player."""
    session = make_session(tables=2)
    results = at_once(*[(lambda i=i: seating.join(session.code, f"Student {i}")) for i in range(8)])
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({(p.table_id, p.role) for p in results}) == 8  # two tables of four roles, each seat once
    for table in GameTable.objects.filter(session=session):
        lists = [
            {(s["role"], pl["name"]) for s in e.data["seats"] for pl in s.get("players", [])}
            for e in Event.objects.filter(table=table, kind="seats").order_by("seq")
        ]
        assert len(lists) == 4
        assert all(a <= b for a, b in itertools.pairwise(lists)), lists
        assert len(lists[-1]) == 4
