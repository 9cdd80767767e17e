"""The outgoing half of the wire (game/wire/): the shape of every frame the server sends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from game.engine import chat as chat_rules
from game.engine import rules, scoring
from game.engine.scenario import Scenario
from game.wire.incoming import MAX_REF_LENGTH

# -- frames the server sends -------------------------------------------------------------------
#
# The shape of every frame the server sends is built here: the answers (``ack``, ``error``), the
# player's snapshot (``state``), the dashboard's (``host.state``), the data a table's events carry
# (a proposal's view, an answer's signatures, the phase) and each event as a reader receives it, in
# their language. The services read the rows (game/services/snapshots.py, game/host.py) and hand
# them here; nothing below touches the database.

# What every student may read of the scenario: its briefs, points and model stay on the server.
PUBLIC_FIELDS = {
    "role": ("key", "name", "colour", "description", "mediator"),
    "issue": ("key", "name", "description", "options"),
    "option": ("key", "label", "summary", "commits"),
    "news": ("key", "headline"),
}


def ack(ref: str | None) -> dict[str, Any]:
    """The answer to an action that was applied (or, with the same ``ref``, applied before)."""
    return {"type": "ack", "ref": ref}


def error(ref: Any, code: str, message: str, **extra: Any) -> dict[str, Any]:
    """A refusal: nothing changed. A ``ref`` that could not be read is not echoed."""
    return {
        "type": "error",
        "ref": ref if isinstance(ref, str) and len(ref) <= MAX_REF_LENGTH else None,
        "code": code,
        "message": message,
        **extra,
    }


def sync(seq: int | dict[str, int]) -> dict[str, Any]:
    """The periodic sync: the latest seq the socket has shown (per table, on the dashboard)."""
    return {"type": "sync", "seq": seq}


def notice(kind: str, message: str) -> dict[str, Any]:
    """A notice that this socket is about to close (``reload``, ``removed``, ``replaced``)."""
    return {"type": kind, "message": message}


def preview(ref: str | None, terms: dict[str, str], result: dict[str, Any]) -> dict[str, Any]:
    """What a package would give the player who asked (scoring.preview's figures)."""
    return {"type": "preview", "ref": ref, "terms": terms, **result}


def _public(kind: str, x: Any) -> dict[str, Any]:
    """An item's ``PUBLIC_FIELDS`` (an issue's options each as an option; tuples as lists)."""
    out: dict[str, Any] = {}
    for f in PUBLIC_FIELDS[kind]:
        v = getattr(x, f)
        out[f] = (
            [_public("option", o) for o in v] if f == "options" else list(v) if isinstance(v, tuple) else v
        )
    return out


def public_issues(scenario: Scenario) -> list[dict[str, Any]]:
    return [_public("issue", i) for i in scenario.issues]


def public_scenario(scenario: Scenario) -> dict[str, Any]:
    """The scenario as every student reads it (in the scenario's language)."""
    return {
        "roles": [_public("role", r) for r in scenario.roles],
        "issues": public_issues(scenario),
        "news_items": [_public("news", n) for n in scenario.news],
        "necessary_signatories": list(scenario.necessary_signatories),
        "horizon_years": scenario.model.horizon_years,
        "moral": scenario.moral,
        "no_deal_text": scenario.no_deal_label(),
    }


def phase(
    scenario: Scenario, index: int, ends_at: str | None, paused_remaining: float | None
) -> dict[str, Any]:
    """The session's current phase: in ``state``, ``host.state`` and a ``phase.changed`` event."""
    p = scenario.phases[index]
    return {
        "key": p.key,
        "name": p.name,
        "index": index,
        "ends_at": ends_at,
        "agreement": p.agreement,
        "paused": paused_remaining is not None,
        "remaining": paused_remaining,
    }


def session(
    code: str, title: str, scenario: Scenario, status: str, current: dict[str, Any] | None
) -> dict[str, Any]:
    """The session as both snapshots show it; ``current``: its phase (None in the lobby)."""
    return {
        "code": code,
        "title": title,
        "description": scenario.description,
        "status": status,
        "phase": current,
        "phases": [
            {"key": p.key, "name": p.name, "agreement": p.agreement, "duration_seconds": p.duration_seconds}
            for p in scenario.phases
        ],
    }


def proposal_view(scenario: Scenario, p: rules.Proposal) -> dict[str, Any]:
    """A proposal as stored in its ``proposal.made`` event and shown in the snapshots: with whose
    signature it needs and whose it still waits for."""
    d = p.to_dict()
    d["required"] = list(rules.required_signatories(scenario, p.terms))
    d["pending"] = list(rules.pending_signatures(scenario, p))
    return d


def event_data(
    scenario: Scenario, state: rules.TableState, kind: str, data: dict[str, Any], current: Any = None
) -> dict[str, Any]:
    """An engine event's data as it is stored and sent: a new proposal in full (its view), an
    answer with the proposal's pending signatures and status after it, a phase change with the
    phase (``current``)."""
    data = dict(data)
    if kind == "phase.changed":
        data["phase"] = current
    elif kind == "proposal.made":
        p = state.proposal(data["proposal"]["id"])
        if p is not None:
            data["proposal"] = proposal_view(scenario, p)
    elif kind == "proposal.answered":
        p = state.proposal(data["proposal"])
        if p is not None:
            data["pending"] = list(rules.pending_signatures(scenario, p))
            data["status"] = p.status
    return data


def localized_outcome(
    outcome: dict[str, Any] | None, scenario: Scenario, news: Sequence[str] | None = None
) -> dict[str, Any] | None:
    """A recorded outcome's texts in the scenario's language (the recorded one in English)."""
    if not outcome or scenario.language == "en":
        return outcome
    return scoring.localized_outcome(scenario, outcome, news)


def localized_chat(data: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """A chat line as a reader of the scenario's language reads it: a bot's line in that
    language when the bot said it in several (a person's words are theirs, untranslated)."""
    if "i18n" not in data:
        return data
    out = {k: v for k, v in data.items() if k != "i18n"}
    out["text"] = (data.get("i18n") or {}).get(scenario.language) or data.get("text", "")
    return out


def localized_proposal(p: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """A proposal with a bot's note in the reader's language, when the bot wrote it in several."""
    if "note_translations" not in p:
        return p
    out = {k: v for k, v in p.items() if k != "note_translations"}
    out["note"] = (p.get("note_translations") or {}).get(scenario.language) or p.get("note", "")
    return out


def localize_event(event: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """A table event (its wire form) as a reader of ``scenario``'s language sees it: the phase's
    name, the news' headline and body, the outcome's sentences and story from the scenario in
    that language, a bot's words in it. An event with nothing to translate is returned as is."""
    kind, data = event.get("kind"), event.get("data")
    if not isinstance(data, dict):
        return event
    if kind == "chat.message":
        new = localized_chat(data, scenario)
    elif kind == "proposal.made" and isinstance(data.get("proposal"), dict):
        p = localized_proposal(data["proposal"], scenario)
        new = data if p is data["proposal"] else {**data, "proposal": p}
    elif scenario.language == "en":
        return event
    elif kind == "phase.changed" and isinstance(data.get("phase"), dict):
        current = scenario.phase(data["phase"].get("key"))
        new = {**data, "phase": {**data["phase"], "name": current.name}} if current else data
    elif kind == "news":
        item = scenario.news_item(data.get("key"))
        new = {**data, "headline": item.headline, "body": item.body} if item else data
    elif kind == "game.ended":
        new = localized_outcome(data, scenario) or data
    else:
        return event
    return event if new is data else {**event, "data": new}


def host_event(event: dict[str, Any], table_id: int, audience: str, scenario: Scenario) -> dict[str, Any]:
    """A table's event as the dashboard receives it: which table, and who at it could read it."""
    return {**localize_event(event, scenario), "table": table_id, "audience": audience}


def news_shown(scenario: Scenario, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The news that reached a table, as its players read it."""
    return [
        {"key": k, "headline": n.headline, "body": n.body}
        for k in keys
        if (n := scenario.news_item(k)) is not None
    ]


def state(
    scenario: Scenario,
    session_frame: dict[str, Any],
    player: Any,
    *,
    table: Any = None,
    table_state: rules.TableState | None = None,
    seats: Any = None,
    you: dict[str, Any] | None = None,
    chat: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A player's snapshot (``state``). ``player``: its row (id, name, role, removed,
    rejoin_code); ``table``: its table's row (id, number, seq, outcome) with ``table_state`` (the
    engine's) and ``seats``, or None before it has one; ``you``: what its role reads of itself
    (brief, values, news_effects: see snapshots.player_state); ``chat``: the lines it may read."""
    role = player.role or None
    out: dict[str, Any] = {
        "type": "state",
        "seq": 0,
        "session": session_frame,
        **public_scenario(scenario),
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
    if table is None:
        return out
    out["seq"] = table.seq
    if role:
        r = scenario.role(role)
        out["you"].update(
            {
                "brief": (you or {}).get("brief", "") if r else "",
                "values": (you or {}).get("values"),
                "colour": r.colour if r else None,
                "role_name": r.name if r else role,
                "no_deal_value": r.no_deal_value if r else 0,
                "channels": chat_rules.private_channels(scenario, role),
                "news_effects": (you or {}).get("news_effects"),
            }
        )
    out["you"]["rejoin_code"] = player.rejoin_code
    out["table"] = {
        "id": table.pk,
        "number": table.number,
        "seats": seats,
        "started": table_state.started,
        "ended": table_state.ended,
        "agreement": table_state.agreement,
    }
    out["proposals"] = [
        localized_proposal(proposal_view(scenario, p), scenario) for p in table_state.proposals
    ]
    out["chat"] = [localized_chat(line, scenario) for line in chat]
    out["news"] = news_shown(scenario, table_state.news)
    out["outcome"] = localized_outcome(table.outcome, scenario, table_state.news)
    return out


def host_state(
    scenario: Scenario,
    session_frame: dict[str, Any],
    server_time: str,
    tables: Sequence[tuple[Any, rules.TableState, Any]],
    players: Sequence[Any],
    live: Any,
    news_items: list[dict[str, Any]],
) -> dict[str, Any]:
    """The dashboard's snapshot (``host.state``). ``tables``: each table's row with its engine
    state and seats; ``players``: the session's player rows; ``live``: the ids of those with a
    live socket; ``news_items``: the news as the instructor previews it (host.news_previews)."""
    return {
        "type": "host.state",
        "session": session_frame,
        "server_time": server_time,
        "roles": [
            {"key": r.key, "name": r.name, "colour": r.colour, "mediator": r.mediator} for r in scenario.roles
        ],
        "issues": public_issues(scenario),
        "necessary_signatories": list(scenario.necessary_signatories),
        "no_deal_text": scenario.no_deal_label(),
        "news_items": news_items,
        "players": [
            {
                "id": p.pk,
                "name": p.name,
                "table": p.table_id,
                "role": p.role or None,
                "connected": p.pk in live,
                "bot": p.is_bot,
                "stand_in": p.stand_in,
                "removed": p.removed,
                "rejoin_code": p.rejoin_code,
            }
            for p in players
        ],
        "tables": [
            {
                "id": t.pk,
                "number": t.number,
                "seq": t.seq,
                "seats": seats,
                "started": st.started,
                "ended": st.ended,
                "agreement": st.agreement,
                "proposals": [localized_proposal(proposal_view(scenario, p), scenario) for p in st.proposals],
                "news": list(st.news),
                "last_activity": t.last_activity.isoformat() if t.last_activity else None,
                "outcome": localized_outcome(t.outcome, scenario, st.news),
            }
            for t, st, seats in tables
        ],
    }


__all__ = [
    "PUBLIC_FIELDS",
    "ack",
    "error",
    "event_data",
    "host_event",
    "host_state",
    "localize_event",
    "localized_chat",
    "localized_outcome",
    "localized_proposal",
    "news_shown",
    "notice",
    "phase",
    "preview",
    "proposal_view",
    "public_scenario",
    "session",
    "state",
    "sync",
]
