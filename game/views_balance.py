"""The staff page that shows what bots make of a scenario: the balance report of bot-only games.

An instructor who edits a scenario in the admin opens ``host/scenario/<slug>/balance/`` to see
what the edit did: how often tables agree, on what, how durable those deals are, what each role
scores and what breaks the peace. Same code as ``manage.py simulate`` (``game.simulate``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from game import access, simulate
from game.engine.scenario import ScenarioError, validate

DEFAULT_GAMES = 200
TOP_PACKAGES = 15  # the page lists the most frequent packages and sums up the rest
CACHE_SECONDS = 600


def _int(raw: str | None, default: int, lo: int, hi: int) -> int:
    try:
        value = int(raw) if raw not in (None, "") else default
    except (TypeError, ValueError):
        value = default
    return max(lo, min(hi, value))


def _bar(value: float | None, scale: float) -> float:
    """Width in percent of a bar for ``value`` on a 0..scale axis."""
    if value is None or scale <= 0:
        return 0.0
    return round(max(0.0, min(100.0, 100.0 * value / scale)), 1)


def display(report: dict[str, Any], scenario) -> dict[str, Any]:
    """The report with what the template draws: percentages, bar widths and role colours."""
    colours = {r.key: r.colour for r in scenario.roles}
    names = {r.key: r.name for r in scenario.roles}
    roles = []
    for r in report["roles"]:
        roles.append(
            {
                **r,
                "total_bar": _bar(r["total"], 100),
                "tactical_bar": _bar(r["tactical"], 100),
                "no_deal_at": _bar(r["no_deal_value"], 100),
            }
        )
    top = max((p["count"] for p in report["packages"]), default=1)
    packages = [
        {
            **p,
            "bar": _bar(p["count"], top),
            "totals": [
                {"key": k, "name": names.get(k, k), "colour": colours.get(k, "#555555"), "total": v["total"]}
                for k, v in p["scores"].items()
            ],
        }
        for p in report["packages"]
    ]
    most = max((c["count"] for c in report["causes"]), default=1)
    causes = [{**c, "bar": _bar(c["count"], most), "pct": 100 * c["share"]} for c in report["causes"]]
    for p in packages:
        p.update(pct=100 * p["share"], p_hold_pct=100 * p["p_hold"], peace_pct=100 * p["expected_peace"])
    for r in roles:
        r["beats_pct"] = None if r["beats_no_deal"] is None else 100 * r["beats_no_deal"]

    def pct(x: float | None) -> float | None:
        return None if x is None else 100 * x

    rest = packages[TOP_PACKAGES:]
    return {
        **report,
        "roles": roles,
        "packages": packages[:TOP_PACKAGES],
        "rest": {"packages": len(rest), "games": sum(p["count"] for p in rest)},
        "causes": causes,
        "agreement_pct": pct(report["agreement_share"]),
        "held_pct": pct(report["held_share"]),
        "p_hold_pct": pct(report["p_hold"]),
        "peace_pct": pct(report["expected_peace"]),
    }


def _prepare(request: HttpRequest, slug: str) -> dict[str, Any]:
    if not access.is_instructor(request.user):
        raise PermissionDenied("This account is not an instructor's.")
    # Another instructor's unshared scenario is "not found", like an unknown slug.
    config = get_object_or_404(access.scenarios_for(request.user), slug=slug)
    games = _int(request.GET.get("games"), DEFAULT_GAMES, 1, simulate.MAX_PAGE_GAMES)
    seed = _int(request.GET.get("seed"), 0, 0, 2**31 - 1)
    data = config.to_dict()
    # A row that cannot even be read (a mistyped factor field, say) is listed as a problem to
    # fix, never a server error.
    try:
        scenario = config.to_engine()
        problems = validate(scenario)
    except ScenarioError as e:
        scenario, problems = None, [str(e)]
    # Keyed by the scenario's content, so an edit shows at once and a reload is instant.
    digest = hashlib.blake2b(json.dumps(data, sort_keys=True).encode(), digest_size=12).hexdigest()
    key = f"balance:{digest}:{games}:{seed}"
    return {
        "config": config,
        "scenario": scenario,
        "problems": problems,
        "games": games,
        "seed": seed,
        "key": key,
        "report": cache.get(key),
    }


def _render(request: HttpRequest, ctx: dict[str, Any]) -> HttpResponse:
    report = display(ctx["report"], ctx["scenario"]) if ctx["report"] is not None else None
    return render(
        request,
        "game/balance.html",
        {
            "config": ctx["config"],
            "scenario": ctx["scenario"],
            "report": report,
            "problems": ctx["problems"],
            "games": ctx["games"],
            "seed": ctx["seed"],
            "max_games": simulate.MAX_PAGE_GAMES,
        },
    )


@staff_member_required
@require_GET
async def scenario_balance(request: HttpRequest, slug: str) -> HttpResponse:
    """The seconds of simulation run on a thread of their own (``thread_sensitive=False``), not
    on the HTTP thread that serves this request (negotiation/httpthreads.py; it waits for the
    result) and never on the sockets' database threads."""
    ctx = await sync_to_async(_prepare)(request, slug)
    if not ctx["problems"] and ctx["report"] is None:
        ctx["report"] = await sync_to_async(simulate.balance, thread_sensitive=False)(
            ctx["scenario"], ctx["games"], ctx["seed"]
        )
        cache.set(ctx["key"], ctx["report"], CACHE_SECONDS)
    return await sync_to_async(_render)(request, ctx)
