"""The wire module: every frame a socket may send is read into a typed action in one place, and a
frame it cannot read is refused with a wire error (never a rule violation) that changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game import wire
from game.engine.rules import RuleViolation
from game.services.errors import ServiceError

# The contract's message types (the shared protocol's tables).
CONTRACT_PLAYER = {
    "hello",
    "chat.send",
    "proposal.make",
    "proposal.answer",
    "proposal.withdraw",
    "package.preview",
}
CONTRACT_HOST = {
    "session.start",
    "phase.advance",
    "phase.extend",
    "news.inject",
    "seats.fill_bots",
    "session.end",
}


def test_the_dispatch_tables_cover_the_contract():
    assert set(wire.PLAYER_FRAMES) == CONTRACT_PLAYER
    assert set(wire.HOST_FRAMES) >= CONTRACT_HOST
    assert CONTRACT_PLAYER - {"hello", "package.preview"} == wire.MUTATING


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ({"type": "hello"}, wire.Hello(None, None)),
        ({"type": "hello", "since": 12, "ref": "h"}, wire.Hello("h", 12)),
        ({"type": "package.preview", "terms": {"a": "b"}}, wire.Preview(None, {"a": "b"})),
        (
            {"type": "chat.send", "ref": "c", "channel": "table", "text": "hi"},
            wire.ChatSend("c", "table", "hi"),
        ),
        (
            {"type": "proposal.make", "ref": "p", "terms": {"a": "b"}, "note": "n", "replaces": 3},
            wire.ProposalMake("p", {"a": "b"}, "n", 3),
        ),
        ({"type": "proposal.make", "terms": {}, "note": None}, wire.ProposalMake(None, {}, "", None)),
        (
            {"type": "proposal.answer", "proposal": 4, "answer": "accept"},
            wire.ProposalAnswer(None, 4, "accept"),
        ),
        ({"type": "proposal.withdraw", "proposal": 4}, wire.ProposalWithdraw(None, 4)),
    ],
)
def test_each_player_frame_becomes_its_typed_action(frame, expected):
    assert wire.player_action(frame) == expected
    assert wire.player_action(expected) is expected  # an action already read passes as it is


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ({"type": "hello", "ref": "h"}, wire.HostHello("h")),
        ({"type": "session.start", "ref": "s"}, wire.SessionStart("s")),
        ({"type": "phase.extend", "seconds": 60}, wire.PhaseExtend(None, 60, False)),
        ({"type": "phase.extend", "seconds": -60, "confirm": True}, wire.PhaseExtend(None, -60, True)),
        ({"type": "news.inject", "news": "k", "tables": [1]}, wire.NewsInject(None, "k", [1])),
        ({"type": "seat.move", "player": 1, "table": 2, "role": "us"}, wire.SeatMove(None, 1, 2, "us")),
        ({"type": "seat.hand_over", "player": 1, "to": 2}, wire.SeatHandOver(None, 1, 2)),
        ({"type": "seat.stand_in", "player": 1, "on": False}, wire.SeatStandIn(None, 1, False)),
        ({"type": "seat.stand_in", "player": 1}, wire.SeatStandIn(None, 1, True)),
    ],
)
def test_each_host_frame_becomes_its_typed_action(frame, expected):
    assert wire.host_action(frame) == expected


@pytest.mark.parametrize(
    ("frame", "code", "ref", "words"),
    [
        ({"type": "hello", "ref": 5}, "invalid", None, "ref must be a string"),
        ({"type": "hello", "ref": "x" * 65}, "invalid", None, "ref must be a string"),
        ({"ref": "r"}, "invalid", "r", "needs a 'type'"),
        ({"type": 3, "ref": "r"}, "invalid", "r", "needs a 'type'"),
        (
            {"type": "proposal.steal", "ref": "r"},
            "unknown_type",
            "r",
            "Unknown message type 'proposal.steal'",
        ),
        ({"type": "hello", "since": -1}, "invalid", None, "since must be"),
        ({"type": "hello", "since": True}, "invalid", None, "since must be"),
        ({"type": "proposal.answer", "proposal": "4", "ref": "r"}, "invalid", "r", "proposal must be the id"),
        ({"type": "proposal.withdraw", "proposal": False}, "invalid", None, "proposal must be the id"),
        ({"type": "proposal.make", "terms": {}, "note": 5}, "invalid", None, "The note must be text"),
        ({"type": "proposal.make", "terms": {}, "replaces": "x"}, "invalid", None, "replaces must be the id"),
    ],
)
def test_a_player_frame_it_cannot_read_is_refused_with_a_wire_error(frame, code, ref, words):
    with pytest.raises(wire.WireError) as refused:
        wire.player_action(frame)
    e = refused.value
    assert (e.code, e.ref) == (code, ref) and words in str(e.message)
    assert isinstance(e, ServiceError) and not isinstance(e, RuleViolation)


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        ({"type": "seat.move", "player": 1, "table": 2, "role": 7}, "role must be a role key"),
        ({"type": "seat.move", "player": "1", "table": 2, "role": "us"}, "player must be a whole number"),
        ({"type": "seat.hand_over", "player": 1, "to": None}, "to must be a whole number"),
        ({"type": "seat.remove", "player": 1.5}, "player must be a whole number"),
        ({"type": "chat.send"}, "Unknown message type 'chat.send'"),  # a player's frame on the dashboard
    ],
)
def test_a_host_frame_it_cannot_read_is_refused_with_a_wire_error(frame, words):
    with pytest.raises(wire.WireError) as refused:
        wire.host_action(frame)
    assert words in str(refused.value.message)


def test_the_frames_the_server_answers_with():
    assert wire.ack("r") == {"type": "ack", "ref": "r"}
    assert wire.error("r", "invalid", "No.") == {
        "type": "error",
        "ref": "r",
        "code": "invalid",
        "message": "No.",
    }
    assert wire.error(5, "invalid", "No.")["ref"] is None  # an unreadable ref is not echoed
    assert wire.error("x" * 65, "invalid", "No.")["ref"] is None
    assert wire.error(None, "unavailable", "Later.", retry_after=2)["retry_after"] == 2


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
FRAMES = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(wire.PLAYER_FRAMES | wire.HOST_FRAMES)) | st.text(max_size=12)},
    optional={
        k: JSON
        for k in (
            "ref",
            "since",
            "terms",
            "note",
            "replaces",
            "proposal",
            "answer",
            "channel",
            "text",
            "player",
            "table",
            "to",
            "role",
            "seconds",
            "news",
            "tables",
            "on",
            "confirm",
        )
    },
)


@settings(max_examples=400, deadline=None)
@given(FRAMES)
def test_any_json_object_is_either_read_or_refused_with_a_wire_error(frame):
    for read in (wire.player_action, wire.host_action):
        try:
            action = read(frame)
        except wire.WireError as e:
            assert e.code in ("invalid", "unknown_type") and str(e.message)
        else:
            assert type(action).__name__ and getattr(action, "ref", None) == frame.get("ref")


# -- frames the server sends -------------------------------------------------------------------


def test_the_public_scenario_is_the_scenarios_own_dict_without_what_stays_on_the_server():
    """One function writes a scenario's items (Scenario.to_dict); what every student reads is its
    public fields: no brief, no points, no model, no voice."""
    import json
    from pathlib import Path

    from game.engine.scenario import Scenario

    data = json.loads((Path(wire.__file__).parents[1] / "scenarios" / "default.json").read_text())
    scenario = Scenario.from_dict(data)
    full = scenario.to_dict()
    public = wire.public_scenario(scenario)
    assert list(public) == [
        "roles",
        "issues",
        "news_items",
        "necessary_signatories",
        "horizon_years",
        "moral",
        "no_deal_text",
    ]
    assert public["roles"] == [
        {k: r[k] for k in ("key", "name", "colour", "description", "mediator")} for r in full["roles"]
    ]
    assert public["issues"] == [
        {
            "key": i["key"],
            "name": i["name"],
            "description": i["description"],
            "options": [{k: o[k] for k in ("key", "label", "summary", "commits")} for o in i["options"]],
        }
        for i in full["issues"]
    ]
    assert public["news_items"] == [{"key": n["key"], "headline": n["headline"]} for n in full["news"]]
    text = json.dumps(public)
    for secret in ("brief", "points", "loadings", "no_deal_value", "voice", "value_effects", "factors"):
        assert f'"{secret}"' not in text
    assert Scenario.from_dict(full).to_dict() == full  # the full form is unchanged
