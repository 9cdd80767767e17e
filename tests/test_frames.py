"""The frames the server sends, pinned byte for byte: a player's ``state``, the dashboard's
``host.state``, a package's ``preview`` and every kind of table event as each socket delivers it,
in English and in Ukrainian, for one fixed game (a chat, a private line, proposals answered,
withdrawn and countered, news, a phase change, presence, seats, an agreement and the outcome).

The frames are compared as the sockets write them (compact JSON, keys in their order) with
tests/frames.json, after the values that differ from run to run (times, the random codes) are
replaced by a mark. A change to any frame's shape fails here: if it is meant, say so in the
contract (docs/protocol.md) and rewrite the file with ``FRAMES_REWRITE=1``.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from game import consumers
from game import host as host_services
from game.engine import rules
from game.models import Event
from game.services import clock, moves, presence, seating, snapshots

GOLDEN = Path(__file__).with_name("frames.json")
# Values that change from run to run: the clock's times and the random codes.
VOLATILE = frozenset(
    {"at", "ends_at", "server_time", "last_activity", "remaining", "code", "rejoin_code", "created_at"}
)
LANGS = ("en", "uk")
TERMS = {"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "bilateral_arms_training"}
OTHER = {"territory": "donbas_exchange", "nato": "alliance_pledge", "guarantees": "assurances_army_cap"}


def wire_text(frame: dict[str, Any]) -> str:
    """A frame as a socket writes it (game/consumers.py: GameSocket.send_json)."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def steady(x: Any) -> Any:
    """The frame with its run-to-run values replaced by a mark, every key kept in its place."""
    if isinstance(x, dict):
        return {k: ("<varies>" if k in VOLATILE and v is not None else steady(v)) for k, v in x.items()}
    if isinstance(x, list):
        return [steady(v) for v in x]
    return x


class Capture:
    """A socket's stand-in: ``deliver`` runs as the real socket's does and what it would send is kept."""

    def __init__(self, cls, scenario, role=None, player_id=None, table_id=None):
        self.cls, self.sent = cls, []
        self.fake = SimpleNamespace(
            scenario=scenario,
            role=role,
            player_id=player_id,
            table_id=table_id,
            last_visible=0,
            send_json=self._send,
            _still_seated=lambda data: True,
        )

    async def _send(self, payload):
        self.sent.append(payload)

    def deliver(self, table_id: int, audience: str, event: dict[str, Any]) -> list[dict[str, Any]]:
        self.sent = []
        asyncio.run(self.cls.deliver(self.fake, table_id, audience, event))
        return self.sent


def play(make_session) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    session = make_session(tables=1, start=True)
    p = {x.role: x for x in (seating.join(session.code, f"Student {i}") for i in range(1, 5))}
    frames: dict[str, Any] = {}
    presence.socket_opened(p["ukraine"].pk, "socket-ukraine")
    moves.player_action(
        p["us"].pk, {"type": "chat.send", "ref": "c1", "channel": "table", "text": "Hello <all>"}
    )
    moves.player_action(
        p["russia"].pk, {"type": "chat.send", "ref": "c2", "channel": "russia+us", "text": "psst"}
    )
    moves.player_action(
        p["ukraine"].pk, {"type": "proposal.make", "ref": "p1", "terms": TERMS, "note": "A start"}
    )
    moves.player_action(p["us"].pk, {"type": "proposal.make", "ref": "p2", "terms": OTHER})
    moves.player_action(p["us"].pk, {"type": "proposal.withdraw", "ref": "w2", "proposal": 2})
    moves.player_action(
        p["russia"].pk, {"type": "proposal.answer", "ref": "a1", "proposal": 1, "answer": "reject"}
    )
    moves.player_action(
        p["russia"].pk,
        {"type": "proposal.make", "ref": "p3", "terms": OTHER, "replaces": 1, "note": "Better"},
    )
    clock.inject_news(session.pk, session.engine_scenario().news[0].key)
    for lang in LANGS:
        frames[f"preview/{lang}"] = moves.preview(
            p["europe"].pk, {"type": "package.preview", "terms": TERMS}, lang
        )
        frames[f"state/middle/russia/{lang}"] = snapshots.player_state(p["russia"].pk, lang)
        frames[f"host.state/middle/{lang}"] = host_services.host_state(session.pk, lang)
    clock.advance_phase(session.pk)
    clock.advance_phase(session.pk)
    moves.player_action(p["ukraine"].pk, {"type": "proposal.make", "ref": "p4", "terms": TERMS})
    for r in rules.required_signatories(session.engine_scenario(), TERMS):
        if r == "ukraine":  # the author signed by proposing
            continue
        moves.player_action(
            p[r].pk, {"type": "proposal.answer", "ref": f"a4{r}", "proposal": 4, "answer": "accept"}
        )
    presence.socket_closed(p["ukraine"].pk, "socket-ukraine")
    clock.end_session(session.pk)
    for lang in LANGS:
        for role in ("us", "ukraine"):
            frames[f"state/end/{role}/{lang}"] = snapshots.player_state(p[role].pk, lang)
        frames[f"host.state/end/{lang}"] = host_services.host_state(session.pk, lang)
    return session, p, frames


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_every_outgoing_frame_is_as_pinned(make_session):
    session, p, frames = play(make_session)
    table_id = p["us"].table_id
    events = list(Event.objects.filter(table_id=table_id).order_by("seq"))
    kinds = {e.kind for e in events}
    assert kinds >= {
        "seats",
        "presence",
        "chat.message",
        "proposal.made",
        "proposal.answered",
        "proposal.withdrawn",
        "agreement.reached",
        "phase.changed",
        "news",
        "game.ended",
    }, kinds
    for lang in LANGS:
        scenario = snapshots.session_scenario(session.pk, lang)
        socket = {
            role: Capture(consumers.PlayerConsumer, scenario, role, p[role].pk, table_id)
            for role in ("us", "ukraine")
        }
        dashboard = Capture(consumers.HostConsumer, scenario)
        for e in events:
            wire = e.to_wire()
            for role, s in socket.items():
                frames[f"event/{e.seq}/{e.kind}/{role}/{lang}"] = s.deliver(table_id, e.audience, wire)
            frames[f"event/{e.seq}/{e.kind}/host/{lang}"] = dashboard.deliver(table_id, e.audience, wire)
    got = {name: wire_text(steady(frame)) for name, frame in frames.items()}
    if os.environ.get("FRAMES_REWRITE"):
        # one frame a line, as the socket writes it
        GOLDEN.write_text("{\n" + ",\n".join(f"{json.dumps(k)}: {v}" for k, v in got.items()) + "\n}\n")
    pinned = {name: wire_text(frame) for name, frame in json.loads(GOLDEN.read_text()).items()}
    assert list(got) == list(pinned), "the same frames, in the same order"
    for name in pinned:
        assert got[name] == pinned[name], f"{name} changed on the wire"
    # the private line reaches its two roles only; the dashboard reads everything
    psst = [k for k, v in got.items() if '"psst"' in v and k.startswith("event/")]
    assert psst and all("/ukraine/" not in k for k in psst)
