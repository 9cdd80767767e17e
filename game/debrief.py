"""The debrief's presenters: each table's story, terms, scores and news as the debrief page shows
them, and the class's headline numbers (``table_cards``). The charts are drawn in game/charts.py
and their data tables built in game/chart_tables.py; all three read results through
game/results_rows.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext, ngettext

from game.charts import role_styles, sparkline, style_of
from game.engine.durability import NO_DEAL_CAUSE_KEY
from game.results_rows import (
    cause_message,
    durability_of,
    has_deal,
    names_at,
    no_deal_values,
    pc,
    realized_of,
    role_order,
    scores_of,
    share_pct,
    shown_score,
    won_at_table,
)


class TableCards(list):
    """The debrief's table stories (a list), with the session's headline numbers in ``summary``."""

    summary: dict[str, Any]


def _terms(scenario: Any, terms: Mapping[str, str] | None) -> list[dict[str, str]]:
    if not terms:
        return []
    out = []
    issues = list(getattr(scenario, "issues", ()) or ())
    known = set()
    for issue in issues:
        known.add(issue.key)
        ok = terms.get(issue.key)
        opt = issue.option(ok) if ok is not None else None
        out.append(
            {
                "issue": issue.name,
                "option": opt.label if opt else str(ok or "?"),
                "summary": opt.summary if opt else "",
            }
        )
    for k, v in terms.items():
        if k not in known:
            out.append({"issue": str(k), "option": str(v), "summary": ""})
    return out


def _headline(scenario: Any, key: str) -> str:
    item = scenario.news_item(key) if hasattr(scenario, "news_item") else None
    return item.headline if item is not None else str(key)


def table_cards(results: Mapping[str, Any], scenario: Any) -> TableCards:
    """Everything the debrief template shows per table (and, in ``.summary``, for the class)."""
    styles = role_styles(scenario, results)
    no_deal = no_deal_values(scenario)
    horizon = getattr(getattr(scenario, "model", None), "horizon_years", 10) or 10
    effects = {e.get("table"): e for e in (results or {}).get("news_effects", ())}
    say_no_deal = getattr(scenario, "no_deal_label", None)
    no_deal_label = say_no_deal() if callable(say_no_deal) else cause_message(NO_DEAL_CAUSE_KEY)
    cards = TableCards()
    all_rows = sorted((results or {}).get("tables", ()), key=lambda r: r.get("table") or 0)
    for row in all_rows:
        n = row.get("table")
        outcome = row.get("outcome") or None
        dur = durability_of(row)
        real = realized_of(row)
        deal = has_deal(row)
        scores = []
        lesson_roles = ((outcome or {}).get("lesson") or {}).get("roles") or {}
        for key in role_order(styles, [row]):
            sc = scores_of(row).get(key)
            s = style_of(styles, key)
            les = lesson_roles.get(key) or {}
            entry = {
                "key": key,
                "name": s.name,
                "colour": s.colour,
                "initial": s.initial,
                "names": names_at(row, key),
                "mediator": s.mediator,
                "no_deal": round(no_deal[key]) if key in no_deal else None,
            }
            if sc:
                entry.update(
                    {
                        "tactical": shown_score(sc.get("tactical")),
                        "durability": shown_score(sc.get("durability")),
                        "total": shown_score(sc.get("total")),
                    }
                )
                entry["lost"] = entry["tactical"] - entry["total"]
                if les:
                    entry["greedy_total"] = shown_score((les.get("greedy") or {}).get("total"))
                    entry["compromise_total"] = shown_score((les.get("compromise") or {}).get("total"))
                entry["worse_than_no_deal"] = (
                    deal and entry["no_deal"] is not None and entry["total"] < entry["no_deal"]
                )
            scores.append(entry)
        # A mediator is not a party: it can do well at the table, but it never "won most".
        scored = [e for e in scores if "tactical" in e and not e["mediator"]]
        winner = max(scored, key=lambda e: (e["tactical"], e["total"])) if deal and scored else None
        ep = share_pct(dur.get("expected_peace")) if outcome else None
        news = [{"key": k, "headline": _headline(scenario, k)} for k in row.get("news") or ()]
        eff = effects.get(n)
        news_effect = None
        if eff:
            before = share_pct(eff.get("expected_peace_without_news"))
            after = share_pct(eff.get("expected_peace"))
            news_effect = {
                "headlines": [_headline(scenario, k) for k in eff.get("news") or ()],
                "before": before,
                "after": after,
                "change": after - before,
                "size": abs(after - before),
            }
        span = len(dur.get("survival") or ()) or horizon
        if not outcome:
            status, tone = gettext("Still negotiating"), "open"
        elif not deal:
            status, tone = gettext("No deal"), "bad"
        elif real.get("held"):
            status = ngettext("Deal held all %(n)s year", "Deal held all %(n)s years", span) % {"n": span}
            tone = "good"
        elif real.get("collapse_year"):
            status, tone = gettext("Deal broke in year %(year)s") % {"year": real["collapse_year"]}, "bad"
        else:
            status, tone = gettext("Deal"), "open"
        story = ""
        if outcome and deal and winner:
            story_values = {
                "role": winner["name"],
                "tactical": winner["tactical"],
                "peace": pc(ep),
                "years": span,
                "year": real.get("collapse_year"),
                "total": winner["total"],
            }
            head = (
                ngettext(
                    "%(role)s won most at the table (%(tactical)s of 100). The peace was expected to last "
                    "%(peace)s of the next %(years)s year;",
                    "%(role)s won most at the table (%(tactical)s of 100). The peace was expected to last "
                    "%(peace)s of the next %(years)s years;",
                    span,
                )
                % story_values
            )
            if real.get("held"):
                tail = gettext("in the simulation it held.")
            elif real.get("collapse_year"):
                tail = (
                    gettext(
                        "in the simulation the war came back in year %(year)s, so %(role)s kept %(total)s."
                    )
                    % story_values
                )
            else:
                tail = ""
            story = f"{head} {tail}".strip()
        elif outcome:
            story = gettext("%(no_deal)s. Every party got its no-deal score.") % {"no_deal": no_deal_label}
        factors = []
        for fx in (dur.get("factors") or ())[:4]:
            eff_v = float(fx.get("effect") or 0)
            factors.append(
                {
                    "label": fx.get("label") or fx.get("key"),
                    "effect": eff_v,
                    "hazard_ratio": fx.get("hazard_ratio"),
                    "explanation": fx.get("explanation") or "",
                    "direction": "up" if eff_v > 0.05 else "down" if eff_v < -0.05 else "flat",
                    "width": min(100, round(abs(eff_v) / 1.5 * 100)),
                }
            )
        reps = dur.get("replays") if deal else None
        replays = None
        if reps and reps.get("n"):
            replays = {
                "n": reps["n"],
                "held": reps.get("held", 0),
                "median": reps.get("median_collapse_year"),
                "earliest": reps.get("earliest_collapse_year"),
                "latest": reps.get("latest_collapse_year"),
            }
        cards.append(
            {
                "number": n,
                "replays": replays,
                "id": row.get("id"),
                "ended": bool(row.get("ended")) or bool(outcome),
                "has_outcome": bool(outcome),
                "deal": deal,
                "status": status,
                "tone": tone,
                "terms": _terms(scenario, (outcome or {}).get("agreement")),
                "expected_peace": ep,
                "p_hold": share_pct(dur.get("p_hold")) if outcome else None,
                "horizon": span,
                "held": bool(real.get("held")),
                "collapse_year": real.get("collapse_year"),
                "cause": real.get("cause") or "",
                "scores": scores,
                "winner": winner,
                "story": story,
                "news": news,
                "news_effect": news_effect,
                "factors": factors,
                "spark": sparkline(
                    dur.get("survival") or (),
                    real.get("collapse_year"),
                    gettext("Table %(table)s: chance the peace still holds, year by year") % {"table": n},
                )
                if deal
                else "",
            }
        )
    cards.summary = _summary(cards)
    return cards


def _summary(cards: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    finished = [c for c in cards if c["has_outcome"]]
    deals = [c for c in finished if c["deal"]]
    parties = [e for c in finished for e in c["scores"] if "tactical" in e and not e.get("mediator")]
    deal_parties = [(c, e) for c in deals for e in c["scores"] if "tactical" in e and not e.get("mediator")]
    # A party "kept the peace" only if its table's deal held in the simulation (each table's
    # realized story, like "Deals that broke down").
    won = [c["held"] for c, e in deal_parties if won_at_table(e)]
    winners = [c["winner"] for c in deals if c["winner"]]
    best = None
    if deal_parties:
        at, top = max(deal_parties, key=lambda ce: (ce[1]["tactical"], ce[1]["total"]))
        best = {**top, "table": at["number"]}
    return {
        "tables": len(cards),
        "finished": len(finished),
        "open": len(cards) - len(finished),
        "deals": len(deals),
        "no_deals": len(finished) - len(deals),
        "collapsed": sum(1 for c in deals if not c["held"]),
        "held": sum(1 for c in deals if c["held"]),
        "mean_peace": round(sum(c["expected_peace"] for c in deals) / len(deals)) if deals else None,
        "parties": len(parties),
        "won_lost": won.count(False),
        "won_kept": won.count(True),
        "worse_than_no_deal": sum(1 for _c, e in deal_parties if e.get("worse_than_no_deal")),
        "winners_tactical": round(sum(w["tactical"] for w in winners) / len(winners)) if winners else None,
        "winners_total": round(sum(w["total"] for w in winners) / len(winners)) if winners else None,
        "best": best,
        "news_tables": sum(1 for c in cards if c["news"]),
    }


__all__ = ["TableCards", "table_cards"]
