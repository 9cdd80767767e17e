"""What the services broadcast: the messages a table's sockets and the dashboard receive, asserted
as sent (not only as stored), for an action, a refusal, a repeat, a private line and the host."""

from __future__ import annotations

import pytest

from game.models import Event
from game.services import clock, eventlog, moves, seating
from game.services.errors import ServiceError

pytestmark = pytest.mark.django_db

TERMS = {"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "bilateral_arms_training"}


@pytest.fixture
def table(make_session):
    session = make_session(tables=1, start=True)
    players = {p.role: p for p in (seating.join(session.code, f"P{i}") for i in range(4))}
    return session, session.tables.get(), players


def test_a_proposal_is_broadcast_once_to_its_table_with_the_seq_it_was_stored_with(table, broadcasts):
    _session, t, p = table
    with broadcasts() as sent:
        ack = moves.player_action(p["us"].pk, {"type": "proposal.make", "ref": "r1", "terms": TERMS})
    assert ack == {"type": "ack", "ref": "r1"}
    made = sent.events("proposal.made")
    assert (
        len(made) == 1 and made[0]["group"] == eventlog.table_group(t.pk) and made[0]["audience"] == "table"
    )
    stored = Event.objects.get(table=t, kind="proposal.made")
    assert made[0]["seq"] == stored.seq and made[0]["data"]["proposal"]["terms"] == TERMS
    assert [e["kind"] for e in sent.events()] == ["proposal.made"]


def test_a_refused_action_broadcasts_nothing(table, broadcasts):
    _session, _t, p = table
    with broadcasts() as sent, pytest.raises(ServiceError) as refused:
        moves.player_action(p["us"].pk, {"type": "proposal.make", "ref": "r2", "terms": {"nato": "nope"}})
    assert refused.value.code == "invalid" and sent == []


def test_a_repeated_ref_is_answered_again_and_broadcast_once(table, broadcasts):
    _session, t, p = table
    frame = {"type": "chat.send", "ref": "c1", "channel": "table", "text": "Hello"}
    with broadcasts() as first:
        moves.player_action(p["russia"].pk, frame)
    with broadcasts() as again:
        assert moves.player_action(p["russia"].pk, frame) == {"type": "ack", "ref": "c1"}
    assert [e["data"]["text"] for e in first.events("chat.message")] == ["Hello"] and again == []
    assert Event.objects.filter(table=t, kind="chat.message").count() == 1


def test_a_private_line_is_broadcast_with_its_two_roles_audience(table, broadcasts):
    _session, _t, p = table
    with broadcasts() as sent:
        moves.player_action(
            p["us"].pk, {"type": "chat.send", "ref": "c2", "channel": "russia+us", "text": "psst"}
        )
    (line,) = sent.events("chat.message")
    assert line["audience"] == "channel:russia+us" and line["data"]["text"] == "psst"
    assert line["group"] == eventlog.table_group(p["us"].table_id)  # the sockets drop what they may not read


def test_news_for_one_table_reaches_that_table_and_tells_the_dashboard(make_session, broadcasts):
    session = make_session(tables=2, start=True)
    first, second = session.tables.order_by("number")
    key = session.engine_scenario().news[0].key
    with broadcasts() as sent:
        clock.inject_news(session.pk, key, [second.pk])
    news = sent.events("news")
    assert [e["data"]["key"] for e in news] == [key] and news[0]["group"] == eventlog.table_group(second.pk)
    assert not sent.to(eventlog.table_group(first.pk))
    assert sent.to(eventlog.session_group(session.pk)), sent  # the dashboard refreshes
