"""The short cuts of issue 16 keep every guarantee of the long ways they shorten.

A chat line on PostgreSQL is one statement (``eventlog.chat_statement``), sent from the socket's
event loop (``game.asyncdb``) or from the database thread; a join picks its seat with one
statement. Each is checked here against what the transaction path always did: one event per ref,
refusals that change nothing (the ref stays unclaimed), a moved or removed player answered from
the seat they have now. The same tests run on SQLite, where the short cuts are off, and on
PostgreSQL (``make test`` runs this file on both).
"""

from __future__ import annotations

import asyncio

import pytest
from django.db import connection

from game import asyncdb, wire
from game.models import ClientRef, Event, GameTable
from game.services import clock, eventlog, moves, seating, snapshots
from game.services.errors import ServiceError

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

POSTGRES = connection.vendor == "postgresql"


def chat(player, ref: str, text: str = "hello", channel: str = "table") -> dict:
    with eventlog.collect_broadcasts():
        return moves.player_action(
            player.pk, {"type": "chat.send", "ref": ref, "channel": channel, "text": text}
        )


def loop_chat(player, ref: str, text: str = "hello") -> dict | None:
    """What the socket does: the event loop's statement, else the transaction (as in the consumer)."""

    async def go():
        msg = {"type": "chat.send", "ref": ref, "channel": "table", "text": text}
        try:
            return await asyncdb.chat(player.pk, msg)
        finally:
            asyncdb.close_all()

    answer = asyncio.run(go())
    return answer if answer is not None else chat(player, ref, text)


def lines(table_id: int) -> list[Event]:
    return list(Event.objects.filter(table_id=table_id, kind="chat.message").order_by("seq"))


@pytest.fixture
def seated(make_session):
    session = make_session(tables=2, start=True)
    players = [seating.join(session.code, f"Student {i}") for i in range(8)]
    return session, players


@pytest.mark.parametrize("send", [chat, loop_chat], ids=["thread", "loop"])
def test_a_ref_sent_twice_is_one_line_and_the_same_ack(seated, send):
    _session, players = seated
    p = players[0]
    first = chat(p, "warm")  # the first action of a player takes the transaction (its seat is learnt)
    assert first == {"type": "ack", "ref": "warm"}
    a = send(p, "r1", "once")
    b = send(p, "r1", "once")
    assert a == b == {"type": "ack", "ref": "r1"}
    texts = [e.data["text"] for e in lines(p.table_id)]
    assert texts == ["hello", "once"]
    seqs = [e.seq for e in Event.objects.filter(table_id=p.table_id).order_by("seq")]
    assert seqs == list(range(1, len(seqs) + 1))  # no seq skipped or repeated
    assert GameTable.objects.get(pk=p.table_id).seq == seqs[-1]


@pytest.mark.parametrize("send", [chat, loop_chat], ids=["thread", "loop"])
def test_a_moved_player_speaks_from_the_new_seat(seated, send):
    session, players = seated
    p = players[0]
    chat(p, "warm")
    other_table = GameTable.objects.filter(session=session).exclude(pk=p.table_id).first()
    seating.move_player(session, p.pk, other_table.pk, "russia" if p.role != "russia" else "us")
    send(p, "after-move", "moved")
    line = lines(other_table.pk)[-1]
    assert line.data["text"] == "moved" and line.data["role"] != p.role
    assert "moved" not in [e.data["text"] for e in lines(p.table_id)]


@pytest.mark.parametrize("send", [chat, loop_chat], ids=["thread", "loop"])
def test_a_removed_player_is_refused_and_nothing_is_written(seated, send):
    session, players = seated
    p = players[0]
    chat(p, "warm")
    seating.remove_player(session, p.pk)
    before = Event.objects.count()
    with pytest.raises(ServiceError) as e:
        send(p, "gone")
    assert e.value.code == "forbidden"
    assert Event.objects.count() == before
    assert not ClientRef.objects.filter(player_id=p.pk, ref="gone").exists()


@pytest.mark.parametrize("send", [chat, loop_chat], ids=["thread", "loop"])
def test_a_line_after_the_end_is_refused_and_its_ref_stays_free(seated, send):
    session, players = seated
    p = players[0]
    chat(p, "warm")
    clock.end_session(session.pk)
    with pytest.raises(ServiceError) as e:
        send(p, "late")
    assert e.value.code == "phase"
    assert not ClientRef.objects.filter(player_id=p.pk, ref="late").exists()
    assert [e.data["text"] for e in lines(p.table_id)] == ["hello"]


@pytest.mark.parametrize("send", [chat, loop_chat], ids=["thread", "loop"])
def test_refused_text_is_refused_as_before(seated, send):
    _session, players = seated
    p = players[0]
    chat(p, "warm")
    with pytest.raises(ServiceError) as e:
        send(p, "empty", "   ")
    assert e.value.code == "invalid"
    others = sorted(r for r in p.session.engine_scenario().role_keys if r != p.role)[:2]
    with pytest.raises(ServiceError) as e:
        chat(p, "x", "hi", channel="+".join(others))  # a private channel without the player's role
    assert e.value.code == "forbidden"
    assert not ClientRef.objects.filter(player_id=p.pk, ref__in=["empty", "x"]).exists()


def test_the_short_cut_is_taken_on_postgresql_only_once_the_seat_is_known(seated):
    _session, players = seated
    p = players[1]
    msg = {"type": "chat.send", "ref": "q", "channel": "table", "text": "hi"}
    assert eventlog.chat_statement(p.pk, msg) is None  # no action yet: the seat is not known
    chat(p, "warm")
    st = eventlog.chat_statement(p.pk, msg)
    assert st is not None and st.event.audience == "table" and st.event.data["role"] == p.role

    async def go():
        try:
            return await asyncdb.chat(p.pk, msg)
        finally:
            asyncdb.close_all()

    answer = asyncio.run(go())
    if POSTGRES:
        assert answer == {"type": "ack", "ref": "q"}
        assert lines(p.table_id)[-1].data["text"] == "hi"
    else:
        assert answer is None  # SQLite: the event loop never talks to the database itself


def test_seats_are_filled_role_by_role_and_table_by_table(make_session):
    session = make_session(tables=3)
    players = [seating.join(session.code, f"P{i}") for i in range(14)]
    tables = list(GameTable.objects.filter(session=session).order_by("number").values_list("pk", flat=True))
    roles = session.engine_scenario().role_keys
    expected = [(t, r) for t in tables for r in roles] + [(tables[0], roles[0]), (tables[0], roles[1])]
    assert [(p.table_id, p.role) for p in players] == expected


def test_as_many_tables_as_needed_opens_one_when_every_seat_is_taken(make_session):
    session = make_session(tables=0)
    players = [seating.join(session.code, f"P{i}") for i in range(9)]
    numbers = [GameTable.objects.get(pk=p.table_id).number for p in players]
    assert numbers == [1, 1, 1, 1, 2, 2, 2, 2, 3]


def reference_state(player_id: int) -> dict:
    """The snapshot as it was built before issue 16 (through the ORM): the oracle the one-statement
    reads must match, field for field."""
    from game.engine import chat as chat_rules
    from game.engine import scoring
    from game.models import Player

    player = (
        Player.objects.select_related("session", "table").defer("session__scenario_data").get(pk=player_id)
    )
    session = player.session
    scenario = session.engine_scenario()
    role = player.role or None
    out = {
        "type": "state",
        "seq": 0,
        "session": snapshots.session_payload(session, scenario),
        **wire.public_scenario(scenario),
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
    table = player.table
    if table is None:
        return out
    state = table.engine_state()
    out["seq"] = table.seq
    if role:
        r = scenario.role(role)
        out["you"].update(
            {
                "brief": snapshots.brief_html(r.brief) if r else "",
                "values": scoring.shown_values(scenario, role, news=state.news),
                "colour": r.colour if r else None,
                "role_name": r.name if r else role,
                "no_deal_value": r.no_deal_value if r else 0,
                "channels": chat_rules.private_channels(scenario, role),
                "news_effects": snapshots.news_effects(scenario, role, state.news),
            }
        )
    out["you"]["rejoin_code"] = player.rejoin_code
    out["table"] = {
        "id": table.pk,
        "number": table.number,
        "seats": seating.seats_of(table, scenario),
        "started": state.started,
        "ended": state.ended,
        "agreement": state.agreement,
    }
    out["proposals"] = [wire.proposal_view(scenario, p) for p in state.proposals]
    chats = eventlog.visible_events(table.pk, role)
    out["chat"] = [
        {"seq": e.seq, "at": e.at.isoformat(), **e.data} for e in chats if e.kind == "chat.message"
    ]
    out["news"] = [
        {"key": k, "headline": n.headline, "body": n.body}
        for k in state.news
        if (n := scenario.news_item(k)) is not None
    ]
    out["outcome"] = table.outcome
    return out


def test_the_snapshot_read_in_one_statement_is_the_one_the_orm_built(make_session):
    """Private channels, a proposal, news, a clock, a removed student and a finished table: every
    seat's snapshot is the same as before, field for field."""
    session = make_session(tables=2, start=True)
    players = [seating.join(session.code, f"Student {i}") for i in range(9)]
    scenario = session.engine_scenario()
    by_role = {p.role: p for p in players if p.table_id == players[0].table_id}
    roles = sorted(by_role)
    chat(by_role[roles[0]], "t1", "to the table")
    chat(by_role[roles[0]], "p1", "between us", channel="+".join(sorted(roles[:2])))
    chat(by_role[roles[2]], "p2", "not for the first", channel="+".join(sorted(roles[1:3])))
    terms = {i.key: i.options[0].key for i in scenario.issues}
    with eventlog.collect_broadcasts():
        moves.player_action(
            by_role[roles[1]].pk, {"type": "proposal.make", "ref": "m", "terms": terms, "note": "n"}
        )
        clock.inject_news(session.pk, scenario.news[0].key, None)
    seating.remove_player(session, players[8].pk)
    other = next(p for p in players if p.table_id != players[0].table_id)
    with eventlog.collect_broadcasts():
        clock.end_session(session.pk)  # both tables end (no agreement): outcomes stored
    for p in players:
        assert snapshots.player_state(p.pk) == reference_state(p.pk), p.name
    assert snapshots.player_state(other.pk)["outcome"] is not None
