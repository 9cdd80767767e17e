"""Hostile input: random and mutated frames, forged identities, floods, nasty names and text."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.models import GameSession, GameTable
from game.services import moves, seating
from game.services.errors import ServiceError
from tests.conftest import connect, cookie_for_players, cookie_for_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

CODES = {"bad_json", "unknown_type", "invalid", "forbidden", "phase", "conflict", "too_large", "rate_limited"}
ANSWERS = {"ack", "error", "preview", "state", "host.state"}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

PLAYER_TYPES = [
    "hello",
    "chat.send",
    "proposal.make",
    "proposal.answer",
    "proposal.withdraw",
    "package.preview",
]
HOST_TYPES = [
    "hello",
    "session.start",
    "phase.advance",
    "phase.extend",
    "news.inject",
    "seats.fill_bots",
    "clock.pause",
    "clock.resume",
    "seat.move",
    "seat.remove",
    "seat.stand_in",
    "seat.hand_over",
    "table.add",
]
FIELDS = [
    "channel",
    "text",
    "terms",
    "note",
    "replaces",
    "proposal",
    "answer",
    "since",
    "seconds",
    "news",
    "tables",
    "player",
    "table",
    "role",
    "on",
    "to",
    "confirm",
    "ref",
]


def frames(types: list[str]):
    valid_ish = st.fixed_dictionaries(
        {"type": st.sampled_from(types) | st.text(max_size=12)},
        optional={
            f: json_values | st.sampled_from(["table", "russia+us", "accept", "nato", 1, 2, "us"])
            for f in FIELDS
        },
    ).map(json.dumps)
    garbage = st.text(max_size=200) | st.binary(max_size=100).map(lambda b: b.decode("latin-1"))
    any_json = json_values.map(json.dumps)
    return st.lists(valid_ish | garbage | any_json, min_size=1, max_size=6)


def snapshot(session_id: int):
    s = GameSession.objects.get(pk=session_id)
    tables = list(GameTable.objects.filter(session_id=session_id).order_by("pk").values_list("seq", "state"))
    players = list(s.players.order_by("pk").values_list("table_id", "role", "removed", "is_bot", "stand_in"))
    return (s.status, s.phase_index, s.paused_remaining, tables, players, s.tables.count())


def answer_of(msg: dict) -> bool:
    return msg.get("type") in ANSWERS


def final_answer(frame: str):
    """What ends the server's answer to one frame. A ``hello`` is answered with a snapshot and
    then an ack (a player's ``hello`` without a ref: the snapshot alone); taking the snapshot as
    the answer let the ack arrive during the next frame and be taken for that frame's answer."""
    try:
        msg = json.loads(frame)
    except ValueError:
        msg = None
    snapshot_ends = isinstance(msg, dict) and msg.get("type") == "hello" and msg.get("ref") is None

    def pred(m: dict) -> bool:
        if m.get("type") in ("state", "host.state"):
            return snapshot_ends and m["type"] == "state"
        return answer_of(m)

    return pred


async def _fire(path: str, cookie: str, session_id: int, batch: list[str]) -> None:
    from channels.db import database_sync_to_async as db

    ok, c = await connect(path, cookie, name="fuzz")
    assert ok
    await c.wait(lambda m: m.get("type") in ("state", "host.state"))
    c.inbox.clear()
    for frame in batch:
        before = await db(snapshot)(session_id)
        await c.raw(frame)
        got = await c.wait(final_answer(frame), timeout=5)
        if got["type"] == "error":
            assert got["code"] in CODES, got
            assert isinstance(got["message"], str) and got["message"]
            assert await db(snapshot)(session_id) == before, f"a refused frame changed state: {frame!r}"
        c.inbox.clear()
    # the socket survived all of it
    await c.send("hello")
    await c.wait(lambda m: m.get("type") in ("state", "host.state"))
    await c.close()


@pytest.fixture
def fuzz_setup(make_session, staff_user, settings):
    settings.GAME["RATE_LIMIT_PER_10S"] = 100000
    session = make_session(start=True)
    players = [seating.join(session.code, f"F{i}") for i in range(4)]
    moves.player_action(
        players[0].pk,
        {
            "type": "proposal.make",
            "terms": {"territory": "freeze_line", "nato": "moratorium", "guarantees": "assurances_army_cap"},
        },
    )
    return session, players, staff_user


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=frames(PLAYER_TYPES))
def test_random_and_mutated_frames_on_the_player_socket_are_answered_and_refusals_change_nothing(
    fuzz_setup, batch
):
    session, players, _ = fuzz_setup
    cookie = cookie_for_players({session.code: str(players[1].token)})
    async_to_sync(_fire)(f"/ws/play/{session.code}/", cookie, session.pk, batch)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=frames(HOST_TYPES))
def test_random_and_mutated_frames_on_the_host_socket_are_answered_and_refusals_change_nothing(
    fuzz_setup, batch
):
    session, _, staff = fuzz_setup
    async_to_sync(_fire)(f"/ws/host/{session.code}/", cookie_for_user(staff), session.pk, batch)


def test_a_seat_cannot_act_for_another_role(make_session):
    session = make_session(start=True)
    a, b = seating.join(session.code, "A"), seating.join(session.code, "B")
    moves.player_action(
        a.pk,
        {
            "type": "proposal.make",
            "terms": {"territory": "freeze_line", "nato": "moratorium", "guarantees": "assurances_army_cap"},
        },
    )

    cookie = cookie_for_players({session.code: str(b.token)})

    async def run():
        _ok, c = await connect(f"/ws/play/{session.code}/", cookie)
        await c.wait(lambda m: m.get("type") == "state")
        # fields naming another role are ignored: the seat's role comes from the server, not the frame
        ref = await c.send("proposal.withdraw", proposal=1, role="us")
        assert (await c.answer(ref))["code"] == "forbidden"
        ref = await c.send("chat.send", channel="table", text="hi", role="us", name="Somebody else")
        await c.answer(ref)
        ev = await c.event("chat.message")
        assert ev["data"]["role"] == b.role and ev["data"]["name"] == "B"
        await c.close()

    async_to_sync(run)()


def test_a_flood_of_connections_is_served_and_closed_cleanly(make_session):
    """Six sockets for each of eight players: each player keeps its three newest (the cap), the
    older ones are closed with 4409, and the live ones all hear the table."""
    session = make_session(start=True)
    players = [seating.join(session.code, f"C{i}") for i in range(8)]
    cookies = [cookie_for_players({session.code: str(p.token)}) for p in players]

    async def run():
        clients = []
        for _ in range(6):
            for cookie in cookies:
                ok, c = await connect(f"/ws/play/{session.code}/", cookie)
                assert ok
                clients.append(c)
        await asyncio.gather(*(c.wait(lambda m: m.get("type") == "state", timeout=20) for c in clients))
        old, live = clients[:24], clients[24:]
        for c in old:
            assert (await c.wait(lambda m: m["type"] == "__closed__", timeout=10))["code"] == 4409
        ref = await live[0].send("chat.send", channel="table", text="heard by 24 sockets")
        await live[0].answer(ref)
        same_table = [c for i, c in enumerate(live) if players[i % 8].table_id == players[0].table_id]
        await asyncio.gather(
            *(c.event("chat.message", timeout=20, text="heard by 24 sockets") for c in same_table)
        )
        for c in clients:
            await c.close()

    async_to_sync(run)()


@pytest.mark.parametrize(
    "name",
    ["<script>alert(1)</script>", "Ünïcødé 名前 🙂", "a\u0007b\u001bc", "\u202eevil", "Zoë O'Brien"],
)
def test_names_with_html_unicode_and_control_characters_are_stored_as_plain_text_and_escaped(
    make_session, name
):
    session = make_session()
    c = Client()
    r = c.post("/join/", {"code": session.code, "name": name})
    assert r.status_code == 302
    player = session.players.get()
    assert player.name.isprintable()
    page = c.get(f"/play/{session.code}/").content.decode()
    assert "<script>alert(1)</script>" not in page


def test_a_name_with_a_null_character_is_refused_on_the_form(make_session):
    session = make_session()
    r = Client().post("/join/", {"code": session.code, "name": "a\u0000b"})
    assert r.status_code == 400 and "Null characters are not allowed" in r.content.decode()
    assert not session.players.exists()


def test_chat_text_is_stored_plain_without_control_characters(make_session):
    session = make_session(start=True)
    p = seating.join(session.code, "A")
    moves.player_action(
        p.pk,
        {
            "type": "chat.send",
            "channel": "table",
            "text": "<img src=x onerror=alert(1)>\u0000ok 🙂" + "é" * 1500,
        },
    )
    ev = p.table.events.filter(kind="chat.message").get()
    assert ev.data["text"].startswith("<img src=x onerror=alert(1)>ok 🙂")
    with pytest.raises(ServiceError):
        moves.player_action(p.pk, {"type": "chat.send", "channel": "table", "text": "x" * 2001})


@pytest.mark.parametrize("url", ["/join/", "/host/", "/admin/login/"])
def test_every_form_is_csrf_protected(make_session, staff_user, url):
    session = make_session()
    c = Client(enforce_csrf_checks=True)
    if url == "/host/":
        c.force_login(staff_user)
    r = c.post(
        url, {"code": session.code, "name": "x", "username": "a", "password": "b", "scenario": 1, "tables": 1}
    )
    assert r.status_code == 403
    c2 = Client(enforce_csrf_checks=True)
    c2.force_login(staff_user)
    assert c2.post(f"/host/{session.code}/control/", {"type": "session.start"}).status_code == 403


def test_security_headers_are_sent(make_session):
    r = Client().get("/")
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Referrer-Policy"] == "same-origin"
