"""Services without sockets: joining and seating, the phase clock, news, the end, exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from game import bots, host
from game.engine import scoring
from game.models import ClientRef, Event, GameSession, GameTable, Player
from game.services import clock, moves, seating, snapshots
from game.services.errors import ServiceError
from game.services.seating import JoinError

pytestmark = pytest.mark.django_db


def roles_of(session):
    return [(p.table.number, p.role) for p in session.players.order_by("id")]


# --- joining and seating ----------------------------------------------------------------------


def test_every_role_of_every_table_gets_a_player_before_any_role_gets_a_second(make_session):
    session = make_session(tables=2)
    for i in range(10):
        seating.join(session.code, f"P{i}")
    seats = roles_of(session)
    assert seats[:8] == [
        (1, "us"), (1, "russia"), (1, "ukraine"), (1, "europe"),
        (2, "us"), (2, "russia"), (2, "ukraine"), (2, "europe"),
    ]  # fmt: skip
    assert seats[8:] == [(1, "us"), (1, "russia")]


def _one_trip_seats(fn):
    """Run fn, returning how many of its statements were the one-trip seat (PostgreSQL)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as q:
        fn()
    return sum("FOR UPDATE; WITH seat AS (" in x["sql"] for x in q.captured_queries)


def test_after_a_code_s_first_join_the_seat_is_one_trip_on_postgresql(make_session):
    """The first join of a code in this process takes the ORM's path and remembers the session;
    the next ones send the seat in one message (PostgreSQL) and get the same seats."""
    from django.db import connection

    session = make_session(tables=2)
    assert _one_trip_seats(lambda: seating.join(session.code, "First")) == 0
    n = _one_trip_seats(lambda: [seating.join(session.code, f"P{i}") for i in range(5)])
    assert n == (5 if connection.vendor == "postgresql" else 0)
    assert roles_of(session) == [
        (1, "us"),
        (1, "russia"),
        (1, "ukraine"),
        (1, "europe"),
        (2, "us"),
        (2, "russia"),
    ]
    p = Player.objects.get(session=session, name="P4")
    assert p.rejoin_code and p.token and p.name_key == "p4" and not p.removed and p.joined_at
    joined = list(session.players.order_by("id").values_list("joined_at", flat=True))
    assert joined == sorted(joined)  # stamped once seated: listed in the order seated


def test_a_remembered_session_now_under_another_code_is_not_joined_by_the_old_code(make_session):
    """The one-trip seat checks the session's id and code together in both of its statements."""
    first = make_session(tables=1)
    code = first.code
    seating.join(code, "First")  # this process now remembers code -> first's id
    GameSession.objects.filter(pk=first.pk).update(code="ZZZZZ9")
    second = make_session(tables=1)
    GameSession.objects.filter(pk=second.pk).update(code=code)
    seating.join(code, "Second")
    assert [p.name for p in first.players.all()] == ["First"]
    assert [p.name for p in second.players.all()] == ["Second"]


def test_a_taken_name_on_the_one_trip_path_writes_nothing_and_the_next_join_works(make_session):
    session = make_session(tables=2)
    seating.join(session.code, "Ada")
    with pytest.raises(JoinError) as e:
        seating.join(session.code, "ADA")
    assert e.value.field == "name"
    seating.join(session.code, "Grace")
    assert [p.name for p in session.players.order_by("id")] == ["Ada", "Grace"]
    assert roles_of(session) == [(1, "us"), (1, "russia")]


def test_a_remembered_session_that_ended_or_gave_its_code_away_is_not_joined(make_session):
    session = make_session(tables=1)
    seating.join(session.code, "Before")
    GameSession.objects.filter(pk=session.pk).update(status=GameSession.ENDED)
    with pytest.raises(JoinError, match="has ended"):
        seating.join(session.code, "After")
    newer = make_session(tables=1)
    GameSession.objects.filter(pk=newer.pk).update(code=session.code)
    seating.join(session.code, "After")
    assert [p.name for p in newer.players.all()] == ["After"]
    assert [p.name for p in session.players.all()] == ["Before"]


def test_as_many_tables_as_needed_opens_a_table_for_every_four_players(make_session):
    session = make_session(tables=0)
    for i in range(9):
        seating.join(session.code, f"P{i}")
    assert session.tables.count() == 3
    assert roles_of(session)[8] == (3, "us")


def test_a_late_joiner_after_the_start_joins_a_team_rather_than_a_new_table(make_session):
    session = make_session(tables=0)
    for i in range(4):
        seating.join(session.code, f"P{i}")
    clock.start_session(session.pk)
    p = seating.join(session.code, "Late")
    assert session.tables.count() == 1 and p.role == "us"


@pytest.mark.parametrize(
    ("code", "name", "message"),
    [
        ("", "Ann", "Type the six-character code"),
        ("ZZZZZZ", "Ann", "No session has the code ZZZZZZ; check it with your instructor"),
        ("{code}", "   ", "Please type the name"),
        ("{code}", "x" * 41, "too long"),
        ("{code}", "ann", "already called ann"),
    ],
)
def test_join_refuses_bad_input_with_a_message_that_says_what_to_do(make_session, code, name, message):
    session = make_session()
    seating.join(session.code, "Ann")
    with pytest.raises(JoinError, match=message):
        seating.join(code.format(code=session.code), name)
    assert session.players.count() == 1


def test_join_accepts_lower_case_and_spaces_in_the_code(make_session):
    session = make_session()
    spaced = " ".join(session.code.lower())
    assert seating.join(spaced, "Ann").session_id == session.pk


def test_an_ended_session_is_named_as_ended(make_session):
    session = make_session(start=True)
    clock.end_session(session.pk)
    with pytest.raises(JoinError, match="has ended"):
        seating.join(session.code, "Ann")


def test_the_join_form_seats_the_browser_and_a_reload_returns_to_the_same_seat(make_session):
    session = make_session()
    c = Client()
    r = c.post("/join/", {"code": session.code.lower(), "name": "Ann"})
    assert r.status_code == 302 and r["Location"] == f"/play/{session.code}/"
    r = c.post("/join/", {"code": session.code, "name": "Ann again"})
    assert r.status_code == 302
    assert session.players.count() == 1
    assert c.get(f"/play/{session.code}/").status_code == 200
    r = Client().get(f"/play/{session.code}/")
    assert r.status_code == 302 and "code=" in r["Location"]


def test_the_join_form_shows_errors_on_the_form(make_session):
    make_session()
    r = Client().post("/join/", {"code": "QQQQQQ", "name": "Ann"})
    assert r.status_code == 400
    assert "No session has the code QQQQQQ" in r.content.decode()


def test_the_join_form_is_csrf_protected(make_session):
    session = make_session()
    c = Client(enforce_csrf_checks=True)
    assert c.post("/join/", {"code": session.code, "name": "Ann"}).status_code == 403


def test_a_code_in_the_url_fills_the_box(make_session):
    session = make_session()
    body = Client().get(f"/?code={session.code.lower()}").content.decode()
    assert f'value="{session.code}"' in body


# --- the phase clock ------------------------------------------------------------------------


def test_a_phase_whose_time_is_up_advances_with_nobody_touching_the_table(make_session):
    session = make_session(tables=2, start=True)
    start = session.phase_ends_at
    assert clock.tick(start - timedelta(seconds=1)) == 0
    assert clock.tick(start + timedelta(seconds=1)) == 1
    session.refresh_from_db()
    assert session.phase_index == 1
    for t in session.tables.all():
        assert t.engine_state().phase_index == 1
        assert Event.objects.filter(table=t, kind="phase.changed").count() == 2


def test_two_ticks_for_the_same_deadline_advance_it_once(make_session):
    session = make_session(start=True)
    later = session.phase_ends_at + timedelta(seconds=5)
    due = clock.due_sessions(later)
    for sid, index in due + due:
        clock.advance_phase(sid, later, expected_index=index)
    session.refresh_from_db()
    assert session.phase_index == 1


def test_the_deadline_survives_a_restart_because_it_lives_in_the_database(make_session):
    session = make_session(start=True)
    deadline = session.phase_ends_at
    # "restart": forget every in-memory object and read the session back
    fresh = GameSession.objects.get(code=session.code)
    assert fresh.phase_ends_at == deadline
    assert clock.tick(deadline + timedelta(minutes=30)) == 1
    fresh.refresh_from_db()
    assert fresh.phase_index == 1


def test_the_last_phases_deadline_ends_the_game_with_no_deal(make_session):
    session = make_session(start=True)
    for _ in range(3):
        session.refresh_from_db()
        clock.tick(session.phase_ends_at + timedelta(seconds=1))
    session.refresh_from_db()
    assert session.status == "ended"
    table = session.tables.get()
    assert table.outcome["agreement"] is None
    assert Event.objects.filter(table=table, kind="game.ended").count() == 1


def test_pause_stops_the_clock_and_resume_restores_the_remaining_time(make_session):
    session = make_session(start=True)
    t0 = timezone.now()
    clock.pause_clock(session.pk, t0)
    session.refresh_from_db()
    assert session.phase_ends_at is None and session.paused_remaining > 0
    assert clock.tick(t0 + timedelta(hours=5)) == 0
    remaining = session.paused_remaining
    clock.resume_clock(session.pk, t0 + timedelta(hours=5))
    session.refresh_from_db()
    assert abs((session.phase_ends_at - (t0 + timedelta(hours=5))).total_seconds() - remaining) < 1


def test_extend_moves_the_deadline_and_refuses_nonsense(make_session):
    session = make_session(start=True)
    before = session.phase_ends_at
    clock.extend_phase(session.pk, 120)
    session.refresh_from_db()
    assert (session.phase_ends_at - before).total_seconds() == pytest.approx(120, abs=1)
    for bad in (0, 10**6, "60", True):
        with pytest.raises(ServiceError):
            clock.extend_phase(session.pk, bad)


def test_taking_time_off_past_zero_is_refused_until_confirmed(make_session):
    """The dashboard's "-1 min" near the end must not end the phase (or the session) by itself."""
    session = make_session(start=True)
    t0 = timezone.now()
    clock.extend_phase(session.pk, -(900 - 45), t0)  # 45 s left (a service call: no question)
    with pytest.raises(ServiceError) as e:
        clock.extend_phase(session.pk, -60, t0, ends_ok=False)
    assert e.value.code == "conflict" and "ends Expert groups now" in e.value.message
    session.refresh_from_db()
    assert (session.phase_ends_at - t0).total_seconds() == pytest.approx(45, abs=1)
    clock.extend_phase(session.pk, -30, t0, ends_ok=False)  # 15 s left: fine
    clock.advance_phase(session.pk)
    clock.advance_phase(session.pk)
    clock.extend_phase(session.pk, -(1200 - 30), t0)
    with pytest.raises(ServiceError) as e:
        clock.extend_phase(session.pk, -60, t0, ends_ok=False)
    assert "and with it the session" in e.value.message
    clock.extend_phase(session.pk, -60, t0, ends_ok=True)
    clock.tick(t0 + timedelta(seconds=2))
    session.refresh_from_db()
    assert session.status == GameSession.ENDED


def test_a_student_on_another_device_gets_their_own_seat_back_with_the_rejoin_code(make_session):
    session = make_session()
    sam = seating.join(session.code, "Sam Okafor")
    seating.join(session.code, "Ann")
    with pytest.raises(JoinError) as e:
        seating.join(session.code, "sam okafor")
    assert e.value.taken and "rejoin code" in e.value.message
    back = seating.rejoin(session.code.lower(), "SAM OKAFOR", sam.rejoin_code.lower())
    assert back.pk == sam.pk and back.role == sam.role
    for name, code in (("Sam Okafor", "ZZZZZ"), ("Ann", sam.rejoin_code), ("Sam Okafor", "")):
        with pytest.raises(JoinError) as e:
            seating.rejoin(session.code, name, code)
        assert e.value.field == "rejoin"
    assert Player.objects.filter(session=session).count() == 2  # nobody new was seated


def test_the_join_form_with_a_rejoin_code_returns_the_new_browser_to_the_seat(make_session):
    session = make_session()
    first = Client()
    first.post("/join/", {"code": session.code, "name": "Sam Okafor"})
    sam = Player.objects.get(session=session, name="Sam Okafor")
    phone = Client()
    r = phone.post("/join/", {"code": session.code, "name": "Sam Okafor"})
    assert r.status_code == 400 and "rejoin code" in r.content.decode()
    assert 'id="rejoin-box" open' in r.content.decode()
    r = phone.post("/join/", {"code": session.code, "name": "Sam Okafor", "rejoin": sam.rejoin_code})
    assert r.status_code == 302 and r["Location"] == f"/play/{session.code}/"
    assert phone.session["players"][session.code] == str(sam.token)
    r = phone.get(f"/play/{session.code}/")
    assert r.status_code == 200 and "Sam Okafor" in r.content.decode()
    r = Client().post("/join/", {"code": session.code, "name": "Sam Okafor", "rejoin": "AAAAA"})
    assert r.status_code == 400 and "does not match" in r.content.decode()


def test_the_instructor_hands_a_seat_to_the_students_new_device(make_session):
    session = make_session()
    sam = seating.join(session.code, "Sam Okafor")
    seating.join(session.code, "Ann")
    dup = seating.join(session.code, "Sam Okafor 2")
    device = dup.token
    host.host_action(session.pk, {"type": "seat.hand_over", "player": sam.pk, "to": dup.pk})
    sam.refresh_from_db()
    dup.refresh_from_db()
    assert sam.token == device and not sam.removed and sam.role and sam.table_id
    assert dup.removed and dup.table_id is None and dup.token != device
    assert seating.player_for(session.code, str(device)).pk == sam.pk
    for bad in (
        {"player": sam.pk, "to": sam.pk},
        {"player": sam.pk, "to": dup.pk},
        {"player": 10**6, "to": sam.pk},
    ):
        with pytest.raises(ServiceError):
            host.host_action(session.pk, {"type": "seat.hand_over", **bad})


def test_the_players_snapshot_says_what_each_news_did_to_their_own_points(make_session):
    session = make_session(start=True)
    ru = next(p for p in (seating.join(session.code, n) for n in "ABCD") if p.role == "russia")
    clock.inject_news(session.pk, "summer_offensive")
    st = snapshots.player_state(ru.pk)
    assert st["you"]["rejoin_code"] == ru.rejoin_code
    (fx,) = st["you"]["news_effects"]
    assert fx["key"] == "summer_offensive"
    moved = {c["option"]: c for c in fx["changes"]}
    assert set(moved) == {"recognition_four_regions", "donbas_exchange", "freeze_line"}  # what it revalued
    assert isinstance(fx["rescaled"], int)
    assert moved["recognition_four_regions"]["after"] > moved["recognition_four_regions"]["before"]
    assert moved["freeze_line"]["after"] < moved["freeze_line"]["before"]
    after = st["you"]["values"]
    assert all(c["after"] == after[c["issue"]][c["option"]] for c in fx["changes"])


# --- news and outcomes ----------------------------------------------------------------------


def test_news_reaches_only_the_chosen_tables_and_changes_their_outcome(make_session):
    session = make_session(tables=2, start=True)
    t1, t2 = session.tables.all()
    clock.inject_news(session.pk, "us_steps_back", [t1.pk])
    assert t1.__class__.objects.get(pk=t1.pk).engine_state().news == ("us_steps_back",)
    assert t2.__class__.objects.get(pk=t2.pk).engine_state().news == ()
    sc = session.engine_scenario()
    terms = {"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "reassurance_force"}
    with_news = scoring.outcome(sc, terms, news=("us_steps_back",))
    without = scoring.outcome(sc, terms)
    assert with_news["durability"]["expected_peace"] != without["durability"]["expected_peace"]


def test_ending_the_session_scores_every_table_and_is_refused_twice(make_session):
    session = make_session(tables=3, start=True)
    clock.end_session(session.pk)
    for t in session.tables.all():
        assert t.outcome["agreement"] is None
        assert set(t.outcome["scores"]) == {"us", "russia", "ukraine", "europe"}
    with pytest.raises(ServiceError, match="already ended"):
        clock.end_session(session.pk)


def test_the_realized_story_is_the_same_when_the_session_is_replayed(make_session):
    outcomes = []
    for _ in range(2):
        session = make_session(start=True, seed=1234)
        table = session.tables.get()
        players = [seating.join(session.code, f"{session.code}-{i}") for i in range(4)]
        by_role = {p.role: p for p in players}
        terms = {"territory": "freeze_line", "nato": "moratorium", "guarantees": "assurances_army_cap"}
        moves.player_action(by_role["ukraine"].pk, {"type": "proposal.make", "terms": terms})
        clock.advance_phase(session.pk)
        clock.advance_phase(session.pk)
        for r in ("russia", "us"):
            moves.player_action(by_role[r].pk, {"type": "proposal.answer", "proposal": 1, "answer": "accept"})
        table.refresh_from_db()
        outcomes.append(table.outcome)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0]["agreement"] is not None


@pytest.mark.parametrize("kind", ["proposal.make", "chat.send"])
def test_a_failing_step_inside_an_action_leaves_no_half_applied_change(make_session, monkeypatch, kind):
    session = make_session(start=True)
    p = seating.join(session.code, "Ann")
    table = GameTable.objects.get(session=session)
    before = (table.seq, table.state, Event.objects.count(), ClientRef.objects.count())

    def boom(*a, **k):
        raise RuntimeError("disk full")

    if kind == "proposal.make":
        # Fails after the engine applied the action and its events were inserted.
        monkeypatch.setattr(GameTable, "save", boom)
        msg = {
            "type": kind,
            "ref": "r1",
            "terms": {"territory": "freeze_line", "nato": "moratorium", "guarantees": "assurances_army_cap"},
        }
    else:
        # Fails after the ref was claimed and the table's seq was taken.
        monkeypatch.setattr(moves.chat_rules, "clean_text", boom)
        msg = {"type": kind, "ref": "r1", "channel": "table", "text": "hello"}
    with pytest.raises(RuntimeError):
        moves.player_action(p.pk, msg)
    table.refresh_from_db()
    assert (table.seq, table.state, Event.objects.count(), ClientRef.objects.count()) == before
    monkeypatch.undo()
    moves.player_action(p.pk, msg)  # the same ref is not taken: the retry is applied
    table.refresh_from_db()
    assert table.seq == before[0] + 1


# --- bots' seats ----------------------------------------------------------------------------


def test_fill_bots_seats_a_bot_in_every_empty_role_and_a_stand_in_can_be_toggled(make_session):
    session = make_session(tables=2)
    p = seating.join(session.code, "Ann")
    assert bots.fill_empty_seats(session.pk) == 7
    assert Player.objects.filter(session=session, is_bot=True).count() == 7
    assert bots.fill_empty_seats(session.pk) == 0
    bots.set_stand_in(session.pk, p.pk, True)
    seats = seating.seats_of(p.table)
    us = next(s for s in seats if s["role"] == "us")
    assert us["bot"] is True
    bots.set_stand_in(session.pk, p.pk, False)
    assert not Player.objects.get(pk=p.pk).stand_in


# --- host pages and exports -----------------------------------------------------------------


@pytest.fixture
def staff_client(staff_user):
    c = Client()
    c.force_login(staff_user)
    return c


def played_session(make_session):
    session = make_session(tables=2, start=True)
    players = [seating.join(session.code, f"P{i}") for i in range(8)]
    p = {(x.table.number, x.role): x for x in players}
    terms = {
        "territory": "freeze_dmz_monitors",
        "nato": "moratorium",
        "guarantees": "bilateral_arms_training",
    }
    moves.player_action(p[(1, "us")].pk, {"type": "chat.send", "channel": "table", "text": "hello, table"})
    moves.player_action(p[(1, "russia")].pk, {"type": "chat.send", "channel": "russia+us", "text": "psst"})
    moves.player_action(p[(1, "ukraine")].pk, {"type": "proposal.make", "terms": terms})
    clock.inject_news(session.pk, "european_pledge")
    clock.advance_phase(session.pk)
    clock.advance_phase(session.pk)
    for r in ("russia", "europe"):
        moves.player_action(p[(1, r)].pk, {"type": "proposal.answer", "proposal": 1, "answer": "accept"})
    clock.end_session(session.pk)
    session.refresh_from_db()
    return session


def test_the_json_export_holds_seats_every_event_in_order_and_outcomes(make_session, staff_client):
    session = played_session(make_session)
    r = staff_client.get(f"/host/{session.code}/export.json?private=1&names=1")
    assert r.status_code == 200
    assert (
        'filename="session-' in r["Content-Disposition"] and "-private-names.json" in r["Content-Disposition"]
    )
    data = json.loads(r.content)
    assert data["anonymised"] is False and data["private_channels"] is True
    assert len(data["players"]) == 8
    t1 = data["tables"][0]
    seqs = [e["seq"] for e in t1["events"]]
    assert seqs == list(range(1, len(seqs) + 1))
    kinds = {e["kind"] for e in t1["events"]}
    assert {
        "chat.message",
        "proposal.made",
        "proposal.answered",
        "agreement.reached",
        "news",
        "game.ended",
    } <= kinds
    assert any(e["data"].get("text") == "psst" for e in t1["events"])  # private channels, as chosen
    assert {p["name"] for p in data["players"]} == {f"P{i}" for i in range(8)}
    assert t1["outcome"]["agreement"] is not None
    assert data["tables"][1]["outcome"]["agreement"] is None


def test_the_research_export_is_anonymised_and_leaves_private_channels_out_by_default(
    make_session, staff_client
):
    """Participant codes instead of names, everywhere a name could appear (seats, chat signatures,
    presence, seating events), and no private channel unless the instructor chooses it."""
    session = played_session(make_session)
    r = staff_client.get(f"/host/{session.code}/export.json")
    assert r["Content-Disposition"] == f'attachment; filename="session-{session.code}.json"'
    data = json.loads(r.content)
    assert data["anonymised"] is True and data["private_channels"] is False
    codes = [p["participant"] for p in data["players"]]
    assert codes == [f"P{i:02d}" for i in range(1, 9)]
    assert all("name" not in p for p in data["players"])
    text = json.dumps(data)
    for i in range(8):
        assert f'"P{i}"' not in text, "a real name leaked into the research export"
    events = [e for t in data["tables"] for e in t["events"]]
    assert not any(e["audience"].startswith("channel:") for e in events)
    assert "psst" not in text
    hello = next(e for e in events if e["data"].get("text") == "hello, table")
    assert hello["data"]["name"] in codes
    seats = next(e for e in events if e["kind"] == "seats")
    assert {n for s in seats["data"]["seats"] for n in s["names"]} <= set(codes)
    # the CSV follows the same rule, and its score rows name who played the role
    rows = list(
        csv.DictReader(io.StringIO(staff_client.get(f"/host/{session.code}/export.csv").content.decode()))
    )
    assert not any(row["text"] == "psst" for row in rows)
    assert {row["player"] for row in rows if row["row_type"] == "seat"} == set(codes)
    totals = [row for row in rows if row["row_type"] == "score.total" and row["table"] == "1"]
    assert all(row["player"] in codes for row in totals)


def test_the_grading_export_has_one_row_per_student_with_role_table_and_scores(make_session, staff_client):
    session = played_session(make_session)
    seating.remove_player(session, Player.objects.get(session=session, name="P7").pk)
    r = staff_client.get(f"/host/{session.code}/grades.csv")
    assert (
        r.status_code == 200
        and r["Content-Disposition"] == f'attachment; filename="grades-{session.code}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    from game.export import GRADE_COLUMNS

    assert list(rows[0].keys()) == GRADE_COLUMNS
    assert sorted(row["name"] for row in rows) == [f"P{i}" for i in range(7)]  # P7 was removed
    by = {row["name"]: row for row in rows}
    outcome = session.tables.get(number=1).outcome
    p0 = Player.objects.get(session=session, name="P0")
    assert by["P0"]["table"] == "1" and by["P0"]["role"] == p0.role
    assert float(by["P0"]["total"]) == outcome["scores"][p0.role]["total"]
    assert by["P0"]["outcome"] == "agreement"
    assert all(row["outcome"] == "no deal" for row in rows if row["table"] == "2")
    assert Client().get(f"/host/{session.code}/grades.csv").status_code == 302


def test_the_json_export_with_the_scenario_is_enough_to_recompute_every_outcome(make_session, staff_client):
    from game.engine.scenario import Scenario

    session = played_session(make_session)
    data = json.loads(staff_client.get(f"/host/{session.code}/export.json").content)
    sc = Scenario.from_dict(data["scenario"])
    for t in data["tables"]:
        again = scoring.outcome(sc, t["outcome"]["agreement"], news=t["state"]["news"], seed=t["seed"])
        assert json.loads(json.dumps(again)) == t["outcome"]


def test_the_csv_export_is_one_tidy_table_with_documented_columns(make_session, staff_client):
    from game.export import CSV_COLUMNS

    session = played_session(make_session)
    r = staff_client.get(f"/host/{session.code}/export.csv?private=1")
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert list(rows[0].keys()) == CSV_COLUMNS
    types = {row["row_type"] for row in rows}
    assert {"seat", "event", "survival", "realized", "factor", "score.total"} <= types
    assert any(row["text"] == "psst" for row in rows)


@pytest.mark.parametrize(
    "path",
    [
        "/host/",
        "/host/{code}/",
        "/host/{code}/export.json",
        "/host/{code}/export.csv",
        "/host/{code}/grades.csv",
        "/host/{code}/projector/",
        "/host/{code}/debrief/",
        "/host/{code}/table/1/",
    ],
)
def test_staff_pages_refuse_anonymous_users_and_players(make_session, path):
    session = make_session()
    url = path.format(code=session.code)
    r = Client().get(url)
    assert r.status_code == 302 and "/admin/login/" in r["Location"]
    player = Client()
    player.post("/join/", {"code": session.code, "name": "Ann"})
    r = player.get(url)
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


def test_the_host_pages_render_for_staff(make_session, staff_client):
    session = played_session(make_session)
    for url in (
        "/host/",
        f"/host/{session.code}/",
        f"/host/{session.code}/debrief/",
        f"/host/{session.code}/projector/",
        f"/host/{session.code}/table/1/",
    ):
        r = staff_client.get(url)
        assert r.status_code == 200, url
    assert "psst" in staff_client.get(f"/host/{session.code}/table/1/").content.decode()


def test_results_count_causes_of_collapse_and_news_effects(make_session):
    session = played_session(make_session)
    res = host.results(session)
    assert len(res["tables"]) == 2
    assert sum(c["count"] for c in res["causes"]) >= 1  # the no-deal table at least
    assert res["news_effects"] and res["news_effects"][0]["news"] == ["european_pledge"]


def test_opening_a_session_from_the_host_page(default_scenario, staff_client):
    r = staff_client.post("/host/", {"scenario": default_scenario.pk, "tables": 3, "title": "IR 201"})
    assert r.status_code == 302
    session = GameSession.objects.get(title="IR 201")
    assert session.tables.count() == 3 and r["Location"] == f"/host/{session.code}/"


def test_the_dashboard_and_the_debrief_read_all_seats_at_once_as_each_table_reads_its_own(
    make_session, django_assert_max_num_queries
):
    session = make_session(tables=3)
    for n in range(9):
        seating.join(session.code, f"Student {n}")
    scenario = session.engine_scenario()
    state = host.host_state(session.pk)
    for t in state["tables"]:
        table = GameTable.objects.get(pk=t["id"])
        assert t["seats"] == seating.seats_of(table, scenario)
    # one more table does not cost one more statement per snapshot
    with django_assert_max_num_queries(8) as few:
        host.host_state(session.pk)
    session.tables.create(number=4)
    with django_assert_max_num_queries(len(few.captured_queries)):
        host.host_state(session.pk)
    rows = host.results(session)["tables"]
    assert len(rows) == 4
    for r in rows:
        assert r["seats"] == seating.seats_of(GameTable.objects.get(pk=r["id"]), scenario)


def test_a_join_whose_seats_event_cannot_be_written_still_seats_the_player(make_session, monkeypatch, caplog):
    """The seat is committed before the table's seats event is written: a database error in the
    second transaction leaves the join standing (logged), and the table's next seats event lists
    the player."""
    from django.db import DatabaseError

    session = make_session()
    real = seating.seats_changed

    def broken(*args, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(seating, "seats_changed", broken)
    with caplog.at_level("WARNING", logger="game.services.seating"):
        first = seating.join(session.code, "First Student")
    assert Player.objects.filter(pk=first.pk, table__isnull=False).exists()
    assert "its seats event not written" in caplog.text
    monkeypatch.setattr(seating, "seats_changed", real)
    seating.join(session.code, "Second Student")
    last = Event.objects.filter(table__session=session, kind="seats").order_by("-seq").first()
    names = {pl["name"] for s in last.data["seats"] for pl in s.get("players", [])}
    assert names == {"First Student", "Second Student"}
