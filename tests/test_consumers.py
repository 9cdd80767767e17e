"""The player socket, end to end through the ASGI application with WebsocketCommunicator."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from game.models import Connection, Event, GameSession, GameTable
from game.services import clock, eventlog, moves
from tests.conftest import connect, cookie_for_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

db = database_sync_to_async


def first_terms(state) -> dict[str, str]:
    return {i["key"]: i["options"][0]["key"] for i in state["issues"]}


async def to_leaders(session) -> None:
    await db(clock.advance_phase)(session.pk)
    await db(clock.advance_phase)(session.pk)


# --- handshake ------------------------------------------------------------------------------


async def test_a_socket_without_a_join_cookie_is_closed_with_4403(make_session):
    session = await db(make_session)()
    _ok, c = await connect(f"/ws/play/{session.code}/", None)
    closed = await c.wait(lambda m: m["type"] == "__closed__")
    assert closed["code"] == 4403


async def test_a_socket_from_a_foreign_origin_is_refused_in_the_handshake(make_session, join_players):
    session = await db(make_session)()
    [(_p, cookie)] = await join_players(session, 1)
    ok, _ = await connect(f"/ws/play/{session.code}/", cookie, origin="http://evil.example")
    assert not ok


async def test_a_player_of_one_session_cannot_open_another_sessions_socket(make_session, join_players):
    a = await db(make_session)()
    b = await db(make_session)()
    [(_p, cookie)] = await join_players(a, 1)
    _ok, c = await connect(f"/ws/play/{b.code}/", cookie)
    closed = await c.wait(lambda m: m["type"] == "__closed__")
    assert closed["code"] == 4403


# --- state and visibility -----------------------------------------------------------------


async def test_state_holds_the_contract_fields_and_only_the_seats_own_secrets(make_session, seat_clients):
    session = await db(make_session)(start=True)
    clients = await seat_clients(session)
    assert set(clients) == {"us", "russia", "ukraine", "europe"}
    for role, c in clients.items():
        st = c.state
        for key in ("seq", "session", "you", "table", "issues", "proposals"):
            assert key in st
        assert st["you"]["role"] == role
        assert set(st["you"]["values"]) == {"territory", "nato", "guarantees"}
        assert all(p["agreement"] in (True, False) for p in st["session"]["phases"])
        text = json.dumps(st)
        for other in clients:
            if other == role:
                continue
            # another role's brief never appears in this seat's state
            other_brief = clients[other].state["you"]["brief"]
            assert other_brief and other_brief not in text
    await asyncio.gather(*(c.close() for c in clients.values()))


async def test_a_private_message_reaches_only_its_two_roles(make_session, seat_clients):
    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    ref = await c["russia"].send("chat.send", channel="russia+us", text="just between us")
    assert (await c["russia"].answer(ref))["type"] == "ack"
    await c["us"].event("chat.message", channel="russia+us")
    await c["russia"].event("chat.message", channel="russia+us")
    for role in ("ukraine", "europe"):
        got = await c[role].drain(0.5)
        assert not any(m.get("kind") == "chat.message" for m in got)
    # and a later snapshot of a third party does not contain it either
    ref = await c["ukraine"].send("hello", since=0)
    st = await c["ukraine"].wait(lambda m: m.get("type") == "state")
    assert "just between us" not in json.dumps(st)
    replay = await c["ukraine"].drain(0.4)
    assert "just between us" not in json.dumps(replay)
    for x in c.values():
        await x.close()


async def test_table_chat_fans_out_to_every_seat_with_the_senders_role_and_name(make_session, seat_clients):
    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    ref = await c["ukraine"].send("chat.send", channel="table", text="<b>hello</b> all")
    await c["ukraine"].answer(ref)
    for x in c.values():
        ev = await x.event("chat.message")
        assert ev["data"]["role"] == "ukraine"
        assert ev["data"]["text"] == "<b>hello</b> all"  # stored as plain text; pages escape it
        assert ev["data"]["name"] == "Student 3"
    for x in c.values():
        await x.close()


# --- errors -------------------------------------------------------------------------------


async def test_every_refusal_answers_with_a_contract_code_and_keeps_the_socket_open(
    make_session, seat_clients
):
    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    us = c["us"]
    await us.raw("{not json")
    assert (await us.wait(lambda m: m.get("type") == "error"))["code"] == "bad_json"
    await us.raw("[1, 2]")
    assert (await us.wait(lambda m: m.get("type") == "error"))["code"] == "bad_json"
    ref = await us.send("no.such.type")
    assert (await us.answer(ref))["code"] == "unknown_type"
    ref = await us.send("chat.send", channel="table", text="")
    assert (await us.answer(ref))["code"] == "invalid"
    ref = await us.send("chat.send", channel="russia+ukraine", text="spying")
    assert (await us.answer(ref))["code"] == "forbidden"
    ref = await us.send("proposal.make", terms={"territory": "freeze_line"})
    assert (await us.answer(ref))["code"] == "invalid"
    ref = await us.send("proposal.answer", proposal=99, answer="accept")
    assert (await us.answer(ref))["code"] == "invalid"
    ref = await us.send("package.preview", terms={"nato": "nope"})
    assert (await us.answer(ref))["code"] == "invalid"
    # conflict: answering a withdrawn proposal
    ref = await us.send("proposal.make", terms=first_terms(us.state))
    await us.answer(ref)
    made = await us.event("proposal.made")
    pid = made["data"]["proposal"]["id"]
    ref = await c["russia"].send("proposal.withdraw", proposal=pid)
    assert (await c["russia"].answer(ref))["code"] == "forbidden"
    ref = await us.send("proposal.withdraw", proposal=pid)
    await us.answer(ref)
    ref = await c["russia"].send("proposal.answer", proposal=pid, answer="accept")
    assert (await c["russia"].answer(ref))["code"] == "conflict"
    # still open after all that
    ref = await us.send("chat.send", channel="table", text="still here")
    assert (await us.answer(ref))["type"] == "ack"
    for x in c.values():
        await x.close()


async def test_chat_before_the_start_is_refused_as_phase(make_session, seat_clients):
    session = await db(make_session)(start=False)
    c = await seat_clients(session)
    ref = await c["us"].send("chat.send", channel="table", text="too early")
    assert (await c["us"].answer(ref))["code"] == "phase"
    # a preview works at any time
    ref = await c["us"].send("package.preview", terms=first_terms(c["us"].state))
    pre = await c["us"].answer(ref)
    assert pre["type"] == "preview" and 0 <= pre["durability"]["p_hold"] <= 1
    for x in c.values():
        await x.close()


async def test_a_frame_over_the_limit_is_refused_as_too_large_and_closes(
    make_session, seat_clients, settings
):
    session = await db(make_session)(start=True)
    c = await seat_clients(session, 1)
    us = next(iter(c.values()))
    await us.raw(json.dumps({"type": "chat.send", "channel": "table", "text": "x" * 20000}))
    err = await us.wait(lambda m: m.get("type") == "error")
    assert err["code"] == "too_large"
    closed = await us.wait(lambda m: m["type"] == "__closed__")
    assert closed["code"] == 4413  # too_large (docs/protocol.md: close codes)
    count = await db(Event.objects.filter(kind="chat.message").count)()
    assert count == 0


async def test_a_flood_from_one_socket_is_rate_limited_without_starving_the_others(
    make_session, seat_clients
):
    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    spam = c["russia"]
    for i in range(60):
        await spam.send("package.preview", terms=first_terms(spam.state), ref=f"f{i}")
    got = []
    for i in range(60):
        got.append(await spam.answer(f"f{i}", timeout=10))
    codes = [g.get("code") for g in got if g["type"] == "error"]
    assert "rate_limited" in codes
    ref = await c["us"].send("chat.send", channel="table", text="I can still talk")
    assert (await c["us"].answer(ref))["type"] == "ack"
    for x in c.values():
        await x.close()


# --- proposals, idempotence, agreement ------------------------------------------------------


async def test_a_repeated_ref_is_applied_once_and_acknowledged_again(make_session, seat_clients):
    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    for _ in range(3):
        await c["us"].send("chat.send", channel="table", text="once", ref="same-ref")
        assert (await c["us"].answer("same-ref"))["type"] == "ack"
    await asyncio.sleep(0.3)
    n = await db(Event.objects.filter(kind="chat.message", data__text="once").count)()
    assert n == 1
    for x in c.values():
        await x.close()


async def test_a_full_negotiation_concludes_in_the_leaders_meeting_and_everyone_sees_the_outcome(
    make_session, seat_clients
):
    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    terms = {
        "territory": "freeze_dmz_monitors",
        "nato": "moratorium",
        "guarantees": "bilateral_arms_training",
    }
    ref = await c["ukraine"].send("proposal.make", terms=terms, note="a start")
    await c["ukraine"].answer(ref)
    made = await c["russia"].event("proposal.made")
    pid = made["data"]["proposal"]["id"]
    # early acceptance is a signal only
    ref = await c["russia"].send("proposal.answer", proposal=pid, answer="accept")
    await c["russia"].answer(ref)
    ref = await c["europe"].send("proposal.answer", proposal=pid, answer="accept")
    await c["europe"].answer(ref)
    got = await c["us"].drain(0.4)
    assert not any(m.get("kind") == "agreement.reached" for m in got)
    await to_leaders(session)
    for x in c.values():
        await x.event("agreement.reached", timeout=5)
        ended = await x.event("game.ended", timeout=5)
        assert ended["data"]["agreement"] == terms
        assert set(ended["data"]["scores"]) == {"us", "russia", "ukraine", "europe"}
        assert 0 <= ended["data"]["durability"]["p_hold"] <= 1
    ref = await c["us"].send("chat.send", channel="table", text="after the end")
    assert (await c["us"].answer(ref))["code"] == "phase"
    for x in c.values():
        await x.close()


async def test_a_counter_from_another_role_records_its_rejection_of_the_original(make_session, seat_clients):
    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    ref = await c["ukraine"].send("proposal.make", terms=first_terms(c["ukraine"].state))
    await c["ukraine"].answer(ref)
    pid = (await c["russia"].event("proposal.made"))["data"]["proposal"]["id"]
    counter = dict(first_terms(c["russia"].state), territory="donbas_exchange")
    ref = await c["russia"].send("proposal.make", terms=counter, replaces=pid)
    assert (await c["russia"].answer(ref))["type"] == "ack"
    ans = await c["europe"].event("proposal.answered", proposal=pid)
    assert ans["data"]["role"] == "russia" and ans["data"]["answer"] == "reject"
    new = await c["europe"].wait(
        lambda m: m.get("kind") == "proposal.made" and m["data"]["proposal"]["id"] != pid
    )
    assert new["data"]["proposal"]["replaces"] == pid
    for x in c.values():
        await x.close()


# --- reconnect and replay -----------------------------------------------------------------


async def test_a_reconnecting_seat_receives_every_event_it_missed_in_order(make_session, join_players):
    session = await db(make_session)(start=True)
    players = await join_players(session, 4)
    by_role = {p.role: (p, cookie) for p, cookie in players}
    _ok, us = await connect(f"/ws/play/{session.code}/", by_role["us"][1], name="us")
    st = await us.wait(lambda m: m.get("type") == "state")
    seen = st["seq"]
    await us.close()
    _ok, ru = await connect(f"/ws/play/{session.code}/", by_role["russia"][1], name="ru")
    await ru.wait(lambda m: m.get("type") == "state")
    for i in range(5):
        ref = await ru.send("chat.send", channel="table", text=f"missed {i}")
        await ru.answer(ref)
    ref = await ru.send("chat.send", channel="russia+ukraine", text="not for the US")
    await ru.answer(ref)
    _ok, us2 = await connect(f"/ws/play/{session.code}/", by_role["us"][1], name="us2")
    await us2.wait(lambda m: m.get("type") == "state")
    await us2.send("hello", since=seen)
    await us2.wait(lambda m: m.get("type") == "state")
    texts = []
    for i in range(5):
        ev = await us2.event("chat.message", text=f"missed {i}")
        texts.append(ev["seq"])
    assert texts == sorted(texts)
    rest = await us2.drain(0.4)
    assert "not for the US" not in json.dumps(rest)
    await us2.close()
    await ru.close()


async def test_a_broadcast_lost_by_the_channel_layer_is_recovered_from_the_log(make_session, seat_clients):
    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    table = await db(GameTable.objects.get)(session=session)

    # Append an event without broadcasting it: as if the channel layer had dropped it.
    @db
    def silent_event():
        from django.db import transaction
        from django.utils import timezone

        with transaction.atomic():
            t = eventlog.lock_table(table.pk)
            eventlog.append(
                t,
                "chat.message",
                {"channel": "table", "role": "us", "name": "x", "text": "lost"},
                "table",
                timezone.now(),
            )
            t.save()

    await silent_event()
    # The next broadcast arrives with a gap before it; the socket fills the gap from the log.
    ref = await c["us"].send("chat.send", channel="table", text="after the loss")
    await c["us"].answer(ref)
    for x in c.values():
        lost = await x.event("chat.message", text="lost", timeout=5)
        after = await x.event("chat.message", text="after the loss", timeout=5)
        assert lost["seq"] + 1 == after["seq"]
    for x in c.values():
        await x.close()


async def test_the_periodic_sync_delivers_a_lost_last_event_and_reports_the_latest_visible_seq(
    make_session, seat_clients
):
    from django.conf import settings

    settings.GAME["SYNC_SECONDS"] = 0.4  # restored by the autouse fixture
    session = await db(make_session)(start=True)
    c = await seat_clients(session, 4)
    started = timezone.now()
    table = await db(GameTable.objects.get)(session=session)
    ref = await c["us"].send("chat.send", channel="table", text="seen by all")
    await c["us"].answer(ref)
    public = (await c["us"].event("chat.message", text="seen by all"))["seq"]

    # The table's last event is a private one whose broadcast is lost: no later event will
    # reveal the gap, so only the periodic sync can deliver it.
    @db
    def silent_private_event():
        from django.db import transaction
        from django.utils import timezone

        with transaction.atomic():
            t = eventlog.lock_table(table.pk)
            ev = eventlog.append(
                t,
                "chat.message",
                {"channel": "russia+ukraine", "role": "russia", "name": "x", "text": "lost and private"},
                "channel:russia+ukraine",
                timezone.now(),
            )
            t.save()
            return ev.seq

    private = await silent_private_event()
    for role in ("russia", "ukraine"):
        got = await c[role].event("chat.message", text="lost and private", timeout=5)
        assert got["seq"] == private
        sync = await c[role].wait(lambda m: m["type"] == "sync" and m["seq"] == private, timeout=5)
        assert sync["seq"] == private
    for role in ("us", "europe"):
        sync = await c[role].wait(lambda m: m["type"] == "sync", timeout=5)
        assert public <= sync["seq"] < private
        assert "lost and private" not in json.dumps(await c[role].drain(0.3))
    # Presence: the sync marked every socket alive.
    marked = await db(
        lambda: Connection.objects.filter(player__session=session, seen_at__gt=started).count()
    )()
    assert marked == 4
    for x in c.values():
        await x.close()


# --- host socket --------------------------------------------------------------------------


async def test_the_host_socket_refuses_a_players_cookie_and_anonymous_users(make_session, join_players):
    session = await db(make_session)()
    [(_p, cookie)] = await join_players(session, 1)
    _ok, c = await connect(f"/ws/host/{session.code}/", cookie)
    assert (await c.wait(lambda m: m["type"] == "__closed__"))["code"] == 4403
    _ok, c = await connect(f"/ws/host/{session.code}/", None)
    assert (await c.wait(lambda m: m["type"] == "__closed__"))["code"] == 4403


async def test_the_host_runs_a_session_with_every_control_message(make_session, seat_clients, staff_user):
    session = await db(make_session)()
    cookie = await db(cookie_for_user)(staff_user)
    ok, host = await connect(f"/ws/host/{session.code}/", cookie, name="host")
    assert ok
    st = await host.wait(lambda m: m.get("type") == "host.state")
    assert st["session"]["code"] == session.code
    c = await seat_clients(session)

    async def ok_(type_, **fields):
        ref = await host.send(type_, **fields)
        ans = await host.answer(ref, timeout=5)
        assert ans["type"] == "ack", ans
        return ans

    await ok_("session.start")
    await c["us"].event("phase.changed")
    await ok_("phase.extend", seconds=120)
    await ok_("clock.pause")
    ev = await c["us"].wait(lambda m: m.get("kind") == "phase.changed" and m["data"]["phase"]["paused"])
    assert ev["data"]["phase"]["remaining"] > 0
    await ok_("clock.resume")
    await ok_("phase.advance")
    table_id = c["us"].state["table"]["id"]
    await ok_("news.inject", news="summer_offensive", tables=[table_id])
    news = await c["ukraine"].event("news")
    assert news["data"]["key"] == "summer_offensive"
    ref = await host.send("news.inject", news="summer_offensive")
    assert (await host.answer(ref))["code"] == "conflict"
    ref = await host.send("news.inject", news="no_such_news")
    assert (await host.answer(ref))["code"] == "invalid"
    ref = await host.send("phase.extend", seconds="ten")
    assert (await host.answer(ref))["code"] == "invalid"
    # the host sees private channels too
    ref = await c["russia"].send("chat.send", channel="russia+us", text="host can read this")
    await c["russia"].answer(ref)
    ev = await host.event("chat.message", text="host can read this")
    assert ev["table"] == table_id
    await ok_("session.end")
    for x in c.values():
        ended = await x.event("game.ended", timeout=5)
        assert ended["data"]["agreement"] is None
    ref = await host.send("session.end")
    assert (await host.answer(ref))["code"] == "phase"
    status = await db(lambda: GameSession.objects.get(pk=session.pk).status)()
    assert status == "ended"
    await host.close()
    for x in c.values():
        await x.close()


async def test_the_host_moves_and_removes_players_and_the_moved_seat_gets_a_new_state(
    make_session, seat_clients, staff_user
):
    session = await db(make_session)(tables=2)
    c = await seat_clients(session)
    cookie = await db(cookie_for_user)(staff_user)
    _ok, host = await connect(f"/ws/host/{session.code}/", cookie, name="host")
    st = await host.wait(lambda m: m.get("type") == "host.state")
    t2 = st["tables"][1]["id"]
    us_player = next(p for p in st["players"] if p["role"] == "us")
    ref = await host.send("seat.move", player=us_player["id"], table=t2, role="europe")
    assert (await host.answer(ref))["type"] == "ack"
    moved = await c["us"].wait(lambda m: m.get("type") == "state" and m["you"]["role"] == "europe", timeout=5)
    assert moved["table"]["id"] == t2
    ru_player = next(p for p in st["players"] if p["role"] == "russia")
    ref = await host.send("seat.remove", player=ru_player["id"])
    assert (await host.answer(ref))["type"] == "ack"
    await c["russia"].wait(lambda m: m.get("type") == "removed", timeout=5)
    await host.close()
    for x in c.values():
        await x.close()


async def test_every_broadcast_payload_survives_the_redis_layers_msgpack_serializer(
    make_session, seat_clients
):
    import msgpack

    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    ref = await c["ukraine"].send("proposal.make", terms=first_terms(c["ukraine"].state), note="ünïcode ✓")
    await c["ukraine"].answer(ref)
    await db(clock.inject_news)(session.pk, "european_pledge")
    await db(clock.end_session)(session.pk)
    events = await db(lambda: list(Event.objects.filter(table__session=session)))()
    kinds = set()
    for e in events:
        payload = {"type": "table.event", "table": e.table_id, "audience": e.audience, "event": e.to_wire()}
        assert msgpack.unpackb(msgpack.packb(payload, use_bin_type=True), raw=False) == payload
        kinds.add(e.kind)
    assert {"seats", "phase.changed", "proposal.made", "news", "game.ended"} <= kinds
    for x in c.values():
        await x.close()


# --- outages --------------------------------------------------------------------------------


async def test_a_database_failure_is_answered_unavailable_with_a_delay_and_logged_once_with_a_traceback(
    make_session, seat_clients, monkeypatch
):
    """Not `invalid`: the client keeps the action and sends it again with the same ref."""
    from django.db import OperationalError

    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    real = moves.player_action

    def down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(moves, "player_action", down)
    refs = []
    records: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = records.append
    logging.getLogger("game.faults").addHandler(catcher)
    try:
        for i in range(3):
            refs.append(await c["us"].send("chat.send", channel="table", text=f"during the outage {i}"))
            ans = await c["us"].answer(refs[-1])
            assert ans["type"] == "error" and ans["code"] == "unavailable", ans
            assert ans["retry_after"] > 0 and "nothing changed" in ans["message"]
    finally:
        logging.getLogger("game.faults").removeHandler(catcher)
    lines = [r for r in records if "database unavailable" in r.getMessage()]
    assert len(lines) == 3, "one line per failure"
    assert sum(1 for r in lines if r.exc_info) == 1, "a traceback only for the first of a kind"
    assert all("Connection refused" in r.getMessage() for r in lines), "each line names its cause"
    monkeypatch.setattr(moves, "player_action", real)
    # the same refs, sent again once the database is back, are applied once each
    for i, ref in enumerate(refs):
        await c["us"].send("chat.send", channel="table", text=f"during the outage {i}", ref=ref)
        assert (await c["us"].answer(ref))["type"] == "ack"
        await c["us"].send("chat.send", channel="table", text=f"during the outage {i}", ref=ref)
        assert (await c["us"].answer(ref))["type"] == "ack"
    texts = await db(
        lambda: list(
            Event.objects.filter(table__session=session, kind="chat.message").values_list(
                "data__text", flat=True
            )
        )
    )()
    assert sorted(texts) == [f"during the outage {i}" for i in range(3)]
    for cl in c.values():
        await cl.close()


async def test_a_host_action_sent_twice_with_one_ref_is_applied_once(make_session, seat_clients, staff_user):
    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    cookie = await db(cookie_for_user)(staff_user)
    _ok, host = await connect(f"/ws/host/{session.code}/", cookie, name="host")
    await host.wait(lambda m: m.get("type") == "host.state")
    for _ in range(2):
        await host.send("phase.advance", ref="advance-once")
        assert (await host.answer("advance-once", timeout=5))["type"] == "ack"
    assert (await db(GameSession.objects.get)(pk=session.pk)).phase_index == 1
    # a refused host action leaves its ref unclaimed
    await host.send("phase.extend", seconds="ten", ref="bad-extend")
    assert (await host.answer("bad-extend"))["code"] == "invalid"
    await host.send("phase.extend", seconds=60, ref="bad-extend")
    assert (await host.answer("bad-extend"))["type"] == "ack"
    await host.close()
    for cl in c.values():
        await cl.close()


async def test_a_frames_header_is_read_once(make_session, seat_clients, monkeypatch):
    """The socket reads a frame's ref and type once (before the rate limit) and hands them on:
    the wire does not read them again when it reads the fields."""
    from game import wire
    from game.wire import incoming

    session = await db(make_session)(start=True)
    c = await seat_clients(session)
    calls = []
    real = incoming.header

    def counted(msg):
        calls.append(msg.get("type"))
        return real(msg)

    monkeypatch.setattr(incoming, "header", counted)
    monkeypatch.setattr(wire, "header", counted)
    ref = await c["us"].send("chat.send", channel="table", text="once")
    assert (await c["us"].answer(ref))["type"] == "ack"
    ref = await c["us"].send("package.preview", terms=first_terms(c["us"].state))
    assert (await c["us"].answer(ref))["type"] == "preview"
    assert calls == ["chat.send", "package.preview"]
    for x in c.values():
        await x.close()
