"""What the instructor sees and does: the live dashboard's state, its controls, and results."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from game.engine import messages, scoring
from game.engine.durability import evaluator
from game.models import Event, GameSession, HostRef, normalise_code
from game.services import clock, eventlog, moves, seating, snapshots
from game.services.errors import ServiceError


def session_by_code(code: str, among=None) -> GameSession | None:
    """The open session with this code, else the most recent ended one; ``among`` (a queryset of
    sessions, e.g. ``access.sessions_for(user)``) limits the search to what a user may see."""
    code = normalise_code(code)
    qs = GameSession.objects.all() if among is None else among
    return (
        qs.filter(code=code).exclude(status=GameSession.ENDED).first()
        or qs.filter(code=code).order_by("-created_at").first()
    )


def host_state(session_id: int, lang: str | None = None) -> dict[str, Any]:
    """The dashboard's snapshot, the scenario's words in ``lang`` (the instructor's)."""
    session = GameSession.objects.get(pk=session_id)
    scenario = session.engine_scenario(lang)
    tables = list(session.tables.all())
    players = list(session.players.all())
    live = seating.live_player_ids(p.pk for p in players)
    seats = seating.seats_by_table(players, live, scenario)
    out_tables = []
    for t in tables:
        state = t.engine_state()
        out_tables.append(
            {
                "id": t.pk,
                "number": t.number,
                "seq": t.seq,
                "seats": seats.get(t.pk) or seating.seats_from([], scenario),
                "started": state.started,
                "ended": state.ended,
                "agreement": state.agreement,
                "proposals": [
                    snapshots.localized_proposal(snapshots.proposal_view(scenario, p), scenario)
                    for p in state.proposals
                ],
                "news": list(state.news),
                "last_activity": t.last_activity.isoformat() if t.last_activity else None,
                "outcome": snapshots.localized_outcome(t.outcome, scenario, state.news),
            }
        )
    return {
        "type": "host.state",
        "session": snapshots.session_payload(session, scenario),
        "server_time": timezone.now().isoformat(),
        "roles": [
            {"key": r.key, "name": r.name, "colour": r.colour, "mediator": r.mediator} for r in scenario.roles
        ],
        "issues": snapshots.public_scenario(scenario)["issues"],
        "necessary_signatories": list(scenario.necessary_signatories),
        "no_deal_text": scenario.no_deal_label(),
        "news_items": news_previews(scenario),
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
        "tables": out_tables,
    }


def news_previews(scenario) -> list[dict[str, Any]]:
    """Each news item as the instructor previews it before sending: its text, whose points it
    changes (raw points, by option), and what it does to durability, shown on the compromise
    package (the same deal without and with the news). Computed once per scenario."""
    memo = evaluator(scenario).memo
    hit = memo.get(("news_previews",))
    if hit is not None:
        return hit
    labels = {(i.key, o.key): o.label for i in scenario.issues for o in i.options}
    try:
        comp = dict(scoring.compromise(scenario).terms)
        before = evaluator(scenario).evaluate(comp, ()).expected_peace
    except ValueError:
        comp, before = None, None
    out = []
    for n in scenario.news:
        points = []
        for r in scenario.roles:
            for ref, delta in n.value_effects.get(r.key, {}).items():
                ik, _, ok = ref.partition("/")
                if delta and (ik, ok) in labels:
                    points.append({"role": r.key, "option": labels[(ik, ok)], "change": delta})
        after = evaluator(scenario).evaluate(comp, (n.key,)).expected_peace if comp else None
        out.append(
            {
                "key": n.key,
                "headline": n.headline,
                "body": n.body,
                "effects": {
                    "points": points,
                    "durability": None if comp is None else {"terms": comp, "before": before, "after": after},
                },
            }
        )
    memo[("news_previews",)] = out
    return out


def _int(msg: dict[str, Any], field: str) -> int:
    v = msg.get(field)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ServiceError(
            "invalid", format_lazy(gettext_lazy("{field} must be a whole number."), field=field)
        )
    return v


def host_action(session_id: int, msg: dict[str, Any]) -> dict[str, Any]:
    """Apply a dashboard action. With a ``ref`` it is applied once: the ref is claimed in the
    action's own transaction, so a dashboard may send it again after ``unavailable`` or a
    reconnect (a refused action leaves its ref unclaimed)."""
    ref = moves.ref_of(msg)
    answer = {"type": "ack", "ref": ref}
    with transaction.atomic():
        if ref is not None and not eventlog.claim_host_ref(session_id, ref, answer):
            return HostRef.objects.get(session_id=session_id, ref=ref).answer
        _host_action(session_id, msg)
    return answer


def _host_action(session_id: int, msg: dict[str, Any]) -> None:
    kind = msg["type"]
    session = GameSession.objects.get(pk=session_id)
    if kind == "session.start":
        clock.start_session(session_id)
    elif kind == "phase.advance":
        clock.advance_phase(session_id)
    elif kind == "phase.extend":
        clock.extend_phase(session_id, _int(msg, "seconds"), ends_ok=msg.get("confirm") is True)
    elif kind == "clock.pause":
        clock.pause_clock(session_id)
    elif kind == "clock.resume":
        clock.resume_clock(session_id)
    elif kind == "news.inject":
        tables = msg.get("tables")
        clock.inject_news(session_id, msg.get("news"), tables)
    elif kind == "session.end":
        clock.end_session(session_id)
    elif kind == "seat.move":
        role = msg.get("role")
        if not isinstance(role, str):
            raise ServiceError("invalid", gettext_lazy("role must be a role key."))
        seating.move_player(session, _int(msg, "player"), _int(msg, "table"), role)
    elif kind == "seat.remove":
        seating.remove_player(session, _int(msg, "player"))
    elif kind == "seat.hand_over":
        seating.hand_over_seat(session, _int(msg, "player"), _int(msg, "to"))
    elif kind == "seat.readmit":
        seating.readmit_player(session, _int(msg, "player"))
    elif kind == "table.add":
        seating.add_table(session)
    elif kind == "seats.fill_bots":
        from game import bots

        bots.fill_empty_seats(session_id)
    elif kind == "seat.stand_in":
        from game import bots

        bots.set_stand_in(session_id, _int(msg, "player"), bool(msg.get("on", True)))
    else:
        raise ServiceError(
            "unknown_type", format_lazy(gettext_lazy("Unknown message type {type}."), type=repr(kind))
        )


# --- results -------------------------------------------------------------------------------


def results(session: GameSession, lang: str | None = None) -> dict[str, Any]:
    """Everything the debrief shows, computed from the tables' outcomes and event logs, the
    scenario's words (and the outcomes' stories) in ``lang``."""
    scenario = session.engine_scenario(lang)
    rows = []
    causes: Counter[str] = Counter()
    news_effects = []
    players = list(session.players.all())
    seated = seating.seats_by_table(players, seating.live_player_ids(p.pk for p in players), scenario)
    for t in session.tables.all():
        state = t.engine_state()
        outcome = snapshots.localized_outcome(t.outcome, scenario, state.news)
        seats = seated.get(t.pk) or seating.seats_from([], scenario)
        row: dict[str, Any] = {
            "table": t.number,
            "id": t.pk,
            "ended": state.ended,
            "outcome": outcome,
            "news": list(state.news),
            "seats": seats,
        }
        if outcome:
            realized = (outcome.get("durability") or {}).get("realized") or {}
            if not realized.get("held", True):
                causes[realized.get("cause_key") or "no_deal"] += 1
            if state.news and outcome.get("agreement"):
                from game.engine import scoring

                without = scoring.outcome(scenario, outcome["agreement"], news=(), seed=None)
                before = without["durability"]["expected_peace"]
                after = outcome["durability"]["expected_peace"]
                news_effects.append(
                    {
                        "table": t.number,
                        "news": list(state.news),
                        "expected_peace_without_news": before,
                        "expected_peace": after,
                        "change": after - before,
                    }
                )
        rows.append(row)
    factor_labels = {f.key: scenario.say(f.label) for f in scenario.model.factors}
    factor_labels["no_deal"] = scenario.no_deal_label()
    factor_labels["baseline"] = messages.text(scenario.language, "baseline_cause")
    return {
        "tables": rows,
        "causes": [{"key": k, "label": factor_labels.get(k, k), "count": n} for k, n in causes.most_common()],
        "news_effects": news_effects,
        "roles": [
            {"key": r.key, "name": r.name, "colour": r.colour, "mediator": r.mediator} for r in scenario.roles
        ],
    }


def transcript(session: GameSession, table_id: int) -> list[Event]:
    return list(Event.objects.filter(table__session=session, table_id=table_id).order_by("seq"))


__all__ = ["host_action", "host_state", "results", "session_by_code", "transcript"]
