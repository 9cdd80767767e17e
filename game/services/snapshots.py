"""Reading a table for its snapshot: the rows a player's ``state`` is built from (the frame itself
is built by game/wire/), the brief as HTML, what news did to a role's points, and a session's
scenario in a reader's language."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import markdown
import nh3

from game import wire
from game.engine import scoring
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
    """The session's part of both snapshots (its code, title in the reader's language, phase)."""
    return wire.session(
        session.code,
        display_title(session, scenario, english),
        scenario,
        session.status,
        clock.phase_payload(scenario, session) if session.status != GameSession.LOBBY else None,
    )


def player_state(player_id: int, lang: str | None = None) -> dict[str, Any]:
    """The player's snapshot, with every text of the scenario (brief, options, news, factor
    sentences, the outcome's story) and the bots' words in ``lang`` (English by default and
    for any text not translated). Proposals, keys and every number are the same in every
    language. The rows are read here; the frame is built by game/wire/."""
    player, session, stamp, table = eventlog.state_rows(player_id)
    english = scenario_for(session.pk, stamp)
    scenario = english.localized(lang) if lang else english
    frame = session_payload(session, scenario, english)
    if player.removed or table is None:
        return wire.state(scenario, frame, player)
    state = table.engine_state()
    role = player.role or None
    you = None
    if role:
        r = scenario.role(role)
        you = {
            "brief": brief_html(r.brief) if r else "",
            "values": scoring.shown_values(scenario, role, news=state.news),
            "news_effects": news_effects(scenario, role, state.news),
        }
    return wire.state(
        scenario,
        frame,
        player,
        table=table,
        table_state=state,
        seats=seating.seats_of(table, scenario),
        you=you,
        chat=eventlog.chat_lines(table.pk, role),
    )


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
