"""Reading the debrief's results: what ``host.results(session)`` says about each table, in the
words every view of the debrief shares (the charts, their data tables, the table cards).

Pure functions over those plain dicts, forgiving of missing fields (a table still negotiating has
no outcome; a scenario may leave a label out): a number that cannot be read counts as the low end
of its range, a missing label is named from its key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import get_language, gettext

from game.engine import messages
from game.engine.durability import BASELINE_CAUSE_KEY, NO_DEAL_CAUSE_KEY

# The quadrant threshold of the scatter: above it a party "won" / the peace "lasted".
WIN = 50.0

# The causes that are not a factor of the scenario, and the engine's sentence that names each (in
# every language of game/engine/messages.py): the one wording of each, wherever it is shown.
CAUSE_MESSAGES = {BASELINE_CAUSE_KEY: "baseline_cause", NO_DEAL_CAUSE_KEY: "no_deal_label"}


def clamp(v: Any, lo: float = 0.0, hi: float = 100.0) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return lo
    if math.isnan(x):
        return lo
    return min(max(x, lo), hi)


def whole(v: Any) -> int:
    return round(clamp(v, -1e9, 1e9))


def shown_score(v: Any) -> int:
    """A 0-100 score as the debrief prints it: a whole number."""
    return round(clamp(v))


def won_at_table(score: Mapping[str, Any]) -> bool:
    """Whether a party "won at the table": its tactical score, as the debrief prints it, is
    ``WIN`` or more. The one rule for the scatter's description and the debrief's summary, so
    that a party printed at 50 is counted as it reads (a raw 49.6 in one place and a printed 50 in
    the other made the two disagree)."""
    return shown_score(score.get("tactical")) >= WIN


def share_pct(v: Any) -> int:
    """A 0-1 share as a whole percentage."""
    return round(100 * clamp(v, 0.0, 1.0))


def pc(n: Any) -> str:
    """A whole percentage as the active language writes it (45%, 45 %)."""
    # Translators: a percentage; %(number)s is the number. Use your language's spacing
    # (a no-break space before % in German, French and Russian).
    return gettext("%(number)s%%") % {"number": n}


def story_of(real: Mapping[str, Any]) -> str:
    """What a table's simulated story did: held, or broke in a given year ("" if neither)."""
    if real.get("held"):
        return gettext("held")
    if real.get("collapse_year"):
        return gettext("broke in year %(year)s") % {"year": real.get("collapse_year")}
    return ""


def ended_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tables that have an outcome, in table order."""
    rows = [r for r in (results or {}).get("tables", ()) if r.get("outcome")]
    return sorted(rows, key=lambda r: r.get("table") or 0)


def curve_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The finished tables whose deal has a survival curve to draw, in table order."""
    return [r for r in ended_rows(results) if has_deal(r) and durability_of(r).get("survival")]


def collapse_causes(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The causes that broke at least one table's peace, the most common first."""
    items = [c for c in (results or {}).get("causes", ()) if whole(c.get("count")) > 0]
    return sorted(items, key=lambda c: -whole(c.get("count")))


def no_deal_values(scenario: Any) -> dict[str, float]:
    """Each role's score if its table makes no deal."""
    return {r.key: float(r.no_deal_value) for r in getattr(scenario, "roles", ()) or ()}


def has_deal(row: Mapping[str, Any]) -> bool:
    return bool((row.get("outcome") or {}).get("agreement"))


def durability_of(row: Mapping[str, Any]) -> dict[str, Any]:
    return (row.get("outcome") or {}).get("durability") or {}


def realized_of(row: Mapping[str, Any]) -> dict[str, Any]:
    return durability_of(row).get("realized") or {}


def scores_of(row: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return (row.get("outcome") or {}).get("scores") or {}


def names_at(row: Mapping[str, Any], role: str) -> list[str]:
    for seat in row.get("seats") or ():
        if seat.get("role") == role:
            return [str(n) for n in seat.get("names") or ()]
    return []


def role_order(styles: Mapping[str, Any], rows: Iterable[Mapping[str, Any]]) -> list[str]:
    keys = list(styles)
    for row in rows:
        for k in scores_of(row):
            if k not in keys:
                keys.append(k)
    return keys


def cause_message(key: str) -> str:
    """The engine's name of a cause that is not a factor (``baseline``, ``no_deal``), in the
    active language."""
    return messages.text(get_language() or "en", CAUSE_MESSAGES[key])


def cause_label(c: Mapping[str, Any]) -> str:
    key, label = c.get("key"), c.get("label")
    if not label or label == key:
        if str(key) in CAUSE_MESSAGES:
            return cause_message(str(key))
        return str(key or gettext("Unknown")).replace("_", " ").capitalize()
    return str(label)


def baseline_curve(scenario: Any) -> tuple[float, ...] | None:
    try:
        from game.engine.durability import evaluator

        return evaluator(scenario).curve({})[1]
    except Exception:  # a scenario without a model (or a test double): no reference line
        return None


__all__ = [
    "CAUSE_MESSAGES",
    "WIN",
    "baseline_curve",
    "cause_label",
    "cause_message",
    "clamp",
    "durability_of",
    "ended_rows",
    "has_deal",
    "names_at",
    "pc",
    "realized_of",
    "role_order",
    "scores_of",
    "share_pct",
    "story_of",
    "whole",
]
