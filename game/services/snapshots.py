"""Reading a table: the player's snapshot, the scenario as a student reads it, each reader's
words (their language), and the proposal's view on the wire."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import markdown
import nh3

from game.engine import chat as chat_rules
from game.engine import rules, scoring
from game.engine.scenario import Scenario
from game.models import (
    GameSession,
    scenario_for,
)
from game.services import clock, eventlog, seating


def _local_images_only(tag: str, attribute: str, value: str) -> str | None:
    """A brief's image must come from this site: a remote one would tell its server who read
    the brief and when (a tracking pixel). The Content-Security-Policy blocks it too."""
    if tag == "img" and attribute in ("src", "srcset"):
        v = value.strip()
        if not v.startswith("/") or v.startswith("//"):
            return None
    return value


@lru_cache(maxsize=256)
def brief_html(markdown_text: str) -> str:
    html = markdown.markdown(markdown_text, extensions=["extra", "sane_lists"])
    return nh3.clean(html, attribute_filter=_local_images_only)


def public_scenario(scenario: Scenario) -> dict[str, Any]:
    return {
        "roles": [
            {
                "key": r.key,
                "name": r.name,
                "colour": r.colour,
                "description": r.description,
                "mediator": r.mediator,
            }
            for r in scenario.roles
        ],
        "issues": [
            {
                "key": i.key,
                "name": i.name,
                "description": i.description,
                "options": [
                    {
                        "key": o.key,
                        "label": o.label,
                        "summary": o.summary,
                        "commits": list(o.commits),
                    }
                    for o in i.options
                ],
            }
            for i in scenario.issues
        ],
        "news_items": [{"key": n.key, "headline": n.headline} for n in scenario.news],
        "necessary_signatories": list(scenario.necessary_signatories),
        "horizon_years": scenario.model.horizon_years,
        "moral": scenario.moral,
        "no_deal_text": scenario.no_deal_label(),
    }


def display_title(session: GameSession, scenario: Scenario, english: Scenario | None = None) -> str:
    """The session's title in the reader's language: a session opened without a title of its
    own carries its scenario's (English) title, which reads in the scenario's language; a title
    the instructor typed is theirs, untranslated. ``english``: the session's scenario as read,
    when the caller has it (``session`` may then be a partial row without its snapshot)."""
    english = english or session.engine_scenario()
    if not session.title or session.title == english.title:
        return scenario.title
    return session.title


def session_payload(
    session: GameSession, scenario: Scenario, english: Scenario | None = None
) -> dict[str, Any]:
    return {
        "code": session.code,
        "title": display_title(session, scenario, english),
        "description": scenario.description,
        "status": session.status,
        "phase": clock.phase_payload(scenario, session) if session.status != GameSession.LOBBY else None,
        "phases": [
            {"key": p.key, "name": p.name, "agreement": p.agreement, "duration_seconds": p.duration_seconds}
            for p in scenario.phases
        ],
    }


def player_state(player_id: int, lang: str | None = None) -> dict[str, Any]:
    """The player's snapshot, with every text of the scenario (brief, options, news, factor
    sentences, the outcome's story) and the bots' words in ``lang`` (English by default and
    for any text not translated). Proposals, keys and every number are the same in every
    language."""
    player, session, stamp, table = eventlog.state_rows(player_id)
    english = scenario_for(session.pk, stamp)
    scenario = english.localized(lang) if lang else english
    role = player.role or None
    out: dict[str, Any] = {
        "type": "state",
        "seq": 0,
        "session": session_payload(session, scenario, english),
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
    state = table.engine_state()
    out["seq"] = table.seq
    if role:
        r = scenario.role(role)
        out["you"].update(
            {
                "brief": brief_html(r.brief) if r else "",
                "values": scoring.shown_values(scenario, role, news=state.news),
                "colour": r.colour if r else None,
                "role_name": r.name if r else role,
                "no_deal_value": r.no_deal_value if r else 0,
                "channels": chat_rules.private_channels(scenario, role),
                "news_effects": news_effects(scenario, role, state.news),
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
    out["proposals"] = [localized_proposal(proposal_view(scenario, p), scenario) for p in state.proposals]
    out["chat"] = [localized_chat(line, scenario) for line in eventlog.chat_lines(table.pk, role)]
    out["news"] = [
        {"key": k, "headline": n.headline, "body": n.body}
        for k in state.news
        if (n := scenario.news_item(k)) is not None
    ]
    out["outcome"] = localized_outcome(table.outcome, scenario, state.news)
    return out


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
        phase = scenario.phase(data["phase"].get("key"))
        new = {**data, "phase": {**data["phase"], "name": phase.name}} if phase else data
    elif kind == "news":
        item = scenario.news_item(data.get("key"))
        new = {**data, "headline": item.headline, "body": item.body} if item else data
    elif kind == "game.ended":
        new = localized_outcome(data, scenario) or data
    else:
        return event
    return event if new is data else {**event, "data": new}


def session_scenario(session_id: int, lang: str | None = None) -> Scenario:
    """A session's scenario in a language (for a socket that localizes what it delivers)."""
    return (
        GameSession.objects.only("pk", "created_at", "scenario_data").get(pk=session_id).engine_scenario(lang)
    )


def news_effects(scenario: Scenario, role: str, news: Sequence[str]) -> list[dict[str, Any]]:
    """What each news item that reached the table did to this role's points, as the student sees
    them (news in the order it arrived). ``changes``: the options the news itself revalued for this
    role, before and after on the shown 0-100 scale; ``rescaled``: how many other options moved by
    half a point or more because the scale itself moved. Only this role's own points: never
    another role's."""
    out = []
    for i, key in enumerate(news):
        item = scenario.news_item(key)
        if item is None:
            continue
        touched = {ref for ref, delta in item.value_effects.get(role, {}).items() if delta}
        before = scoring.shown_values(scenario, role, news=news[:i])
        after = scoring.shown_values(scenario, role, news=news[: i + 1])
        changes, rescaled = [], 0
        for issue in scenario.issues:
            for o in issue.options:
                b, a = before[issue.key][o.key], after[issue.key][o.key]
                if f"{issue.key}/{o.key}" in touched:
                    changes.append(
                        {"issue": issue.key, "option": o.key, "label": o.label, "before": b, "after": a}
                    )
                elif abs(a - b) >= 0.5:
                    rescaled += 1
        changes.sort(key=lambda c: -abs(c["after"] - c["before"]))
        out.append({"key": key, "changes": changes, "rescaled": rescaled})
    return out


def proposal_view(scenario: Scenario, p: rules.Proposal) -> dict[str, Any]:
    d = p.to_dict()
    d["required"] = list(rules.required_signatories(scenario, p.terms))
    d["pending"] = list(rules.pending_signatures(scenario, p))
    return d
