"""What the instructor sees and does: the live dashboard's state, its controls, and results."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import transaction
from django.utils import timezone

from game import wire
from game.engine import messages, scoring
from game.engine.durability import evaluator
from game.models import Event, GameSession, HostRef, normalise_code
from game.services import clock, eventlog, seating, snapshots


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
    """The dashboard's snapshot, the scenario's words in ``lang`` (the instructor's): the rows are
    read here, the frame is built by game/wire/."""
    session = GameSession.objects.get(pk=session_id)
    scenario = session.engine_scenario(lang)
    tables = list(session.tables.all())
    players = list(session.players.all())
    live = seating.live_player_ids(p.pk for p in players)
    seats = seating.seats_by_table(players, live, scenario)
    return wire.host_state(
        scenario,
        snapshots.session_payload(session, scenario),
        timezone.now().isoformat(),
        [(t, t.engine_state(), seats.get(t.pk) or seating.seats_from([], scenario)) for t in tables],
        players,
        live,
        news_previews(scenario),
    )


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


def host_action(session_id: int, msg: dict[str, Any] | wire.HostAction) -> dict[str, Any]:
    """Apply a dashboard action (a frame, or the action game/wire/ read from it). With a ``ref``
    it is applied once: the ref is claimed in the action's own transaction, so a dashboard may send
    it again after ``unavailable`` or a reconnect (a refused action leaves its ref unclaimed)."""
    action = wire.host_action(msg)
    answer = wire.ack(action.ref)
    with transaction.atomic():
        if action.ref is not None and not eventlog.claim_host_ref(session_id, action.ref, answer):
            return HostRef.objects.get(session_id=session_id, ref=action.ref).answer
        apply = HOST_ACTIONS.get(type(action))
        if apply is None:  # the dashboard's hello is answered by its socket
            raise wire.unknown("hello", action.ref)
        apply(GameSession.objects.get(pk=session_id), action)
    return answer


def _fill_bots(session: GameSession, _a: wire.SeatsFillBots) -> None:
    from game import bots

    bots.fill_empty_seats(session.pk)


def _stand_in(session: GameSession, a: wire.SeatStandIn) -> None:
    from game import bots

    bots.set_stand_in(session.pk, a.player, a.on)


# The one dispatch table of the dashboard's actions: each typed action (game/wire/) and what it does.
HOST_ACTIONS = {
    wire.SessionStart: lambda s, a: clock.start_session(s.pk),
    wire.PhaseAdvance: lambda s, a: clock.advance_phase(s.pk),
    wire.PhaseExtend: lambda s, a: clock.extend_phase(s.pk, a.seconds, ends_ok=a.confirm),
    wire.ClockPause: lambda s, a: clock.pause_clock(s.pk),
    wire.ClockResume: lambda s, a: clock.resume_clock(s.pk),
    wire.NewsInject: lambda s, a: clock.inject_news(s.pk, a.news, a.tables),
    wire.SessionEnd: lambda s, a: clock.end_session(s.pk),
    wire.SeatMove: lambda s, a: seating.move_player(s, a.player, a.table, a.role),
    wire.SeatRemove: lambda s, a: seating.remove_player(s, a.player),
    wire.SeatHandOver: lambda s, a: seating.hand_over_seat(s, a.player, a.to),
    wire.SeatReadmit: lambda s, a: seating.readmit_player(s, a.player),
    wire.TableAdd: lambda s, a: seating.add_table(s),
    wire.SeatsFillBots: _fill_bots,
    wire.SeatStandIn: _stand_in,
}


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
        outcome = wire.localized_outcome(t.outcome, scenario, state.news)
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
