"""The data of every debrief chart as a table: the charts' text alternative a screen reader (or an
instructor who wants the exact numbers) can read cell by cell.

Each function reads what the chart of the same name in ``game.charts`` reads (through game/results_rows.py) and returns
``{"caption", "head", "rows"}``; rows are lists of cells, the first cell of a row names it (it is
rendered as a row header). The debrief shows each table under its chart in a closed
``<details>`` (templates/game/_chart_table.html).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext, pgettext

from game.charts import role_styles, style_of
from game.results_rows import (
    baseline_curve,
    cause_label,
    collapse_causes,
    curve_rows,
    durability_of,
    ended_rows,
    has_deal,
    names_at,
    pc,
    realized_of,
    role_order,
    scores_of,
    share_pct,
    shown_score,
    whole,
)


def _n(v: Any) -> int | str:
    return "—" if v is None else shown_score(v)


def _story(row: Mapping[str, Any]) -> str:
    if not has_deal(row):
        return gettext("No deal")
    real = realized_of(row)
    if real.get("held"):
        return pgettext("a table's simulated peace", "Held")
    if real.get("collapse_year"):
        return gettext("Broke in year %(year)s") % {"year": real["collapse_year"]}
    return ""


def scatter_table(results: Mapping[str, Any], scenario: Any) -> dict[str, Any]:
    """One row per party per finished table: the scatter's dots."""
    styles = role_styles(scenario, results)
    rows = ended_rows(results)
    out = []
    for row in rows:
        for key in role_order(styles, [row]):
            sc = scores_of(row).get(key)
            if sc is None:
                continue
            out.append(
                [
                    gettext("Table %(table)s, %(role)s")
                    % {"table": row.get("table"), "role": style_of(styles, key).name},
                    _n(sc.get("tactical")),
                    pc(_n(sc.get("durability"))),
                    _n(sc.get("total")),
                    _story(row),
                ]
            )
    return {
        "caption": gettext(
            "Each party at each table: what it won and how long its table's peace could be expected to hold"
        ),
        "head": [
            gettext("Table and role"),
            gettext("Tactical (won at the table)"),
            gettext("Durability"),
            gettext("Total"),
            gettext("The simulated peace"),
        ],
        "rows": out,
    }


def role_table(results: Mapping[str, Any], scenario: Any, key: str) -> dict[str, Any]:
    """One role's bars: its tactical, durability and total score at every finished table."""
    styles = role_styles(scenario, results)
    name = style_of(styles, key).name
    out = []
    for row in ended_rows(results):
        sc = scores_of(row).get(key)
        if sc is None:
            continue
        out.append(
            [
                (gettext("Table %(table)s") if has_deal(row) else gettext("Table %(table)s (no deal)"))
                % {"table": row.get("table")},
                ", ".join(names_at(row, key)) or gettext("no player"),
                _n(sc.get("tactical")),
                pc(_n(sc.get("durability"))),
                _n(sc.get("total")),
            ]
        )
    return {
        "caption": gettext("%(role)s at each table") % {"role": name},
        "head": [
            gettext("Table"),
            gettext("Players"),
            pgettext("a role's score at a table", "Won"),
            gettext("Durability"),
            gettext("Total"),
        ],
        "rows": out,
    }


def curves_table(results: Mapping[str, Any], scenario: Any) -> dict[str, Any]:
    """Each deal's chance of still holding, year by year, and the model's typical ceasefire."""
    deals = curve_rows(results)
    years = max((len(durability_of(r)["survival"]) for r in deals), default=0)
    out = []
    for row in deals:
        surv = list(durability_of(row)["survival"])
        cells = [pc(share_pct(s)) for s in surv] + [""] * (years - len(surv))
        out.append([gettext("Table %(table)s") % {"table": row.get("table")}, *cells, _story(row)])
    base = baseline_curve(scenario) if deals else None
    if base:
        cells = [pc(share_pct(s)) for s in base[:years]]
        cells += [""] * (years - len(cells))
        out.append([gettext("Typical ceasefire (the model's baseline)"), *cells, ""])
    return {
        "caption": gettext(
            "The chance each table's peace still holds at the end of each year after the deal"
        ),
        "head": [
            gettext("Table"),
            *[gettext("Year %(year)s") % {"year": t} for t in range(1, years + 1)],
            gettext("The simulated peace"),
        ],
        "rows": out,
    }


def causes_table(results: Mapping[str, Any]) -> dict[str, Any]:
    """How many tables' peace broke down for each cause."""
    items = collapse_causes(results)
    return {
        "caption": gettext("How many tables' peace broke down for each cause (or never started: no deal)"),
        "head": [gettext("Cause"), gettext("Tables")],
        "rows": [[cause_label(c), whole(c.get("count"))] for c in items],
    }
