"""Scoring: tactical points scaled per role; the total pays each year at peace what was won
plus the peace itself, and each year after a collapse a small share of what was won.

These tests use their own provisional points (``PROVISIONAL_POINTS``) on top of the default
scenario's model, so they do not move when the content of default.json is retuned.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.engine import durability as D
from game.engine import scoring as S
from game.engine.scenario import Scenario, validate
from game.engine.scenario import packages as all_packages

DEFAULT_JSON = Path(__file__).resolve().parents[2] / "game" / "scenarios" / "default.json"
ROLES = ("us", "russia", "ukraine", "europe")

PROVISIONAL_POINTS: dict[str, dict[str, dict[str, float]]] = {
    "territory": {
        "russian_withdrawal": {"us": 10, "russia": 0, "ukraine": 40, "europe": 30},
        "freeze_line": {"us": 30, "russia": 10, "ukraine": 22, "europe": 18},
        "freeze_dmz_monitors": {"us": 25, "russia": 8, "ukraine": 25, "europe": 25},
        "donbas_exchange": {"us": 35, "russia": 28, "ukraine": 10, "europe": 12},
        "recognition_four_regions": {"us": 20, "russia": 40, "ukraine": 0, "europe": 0},
    },
    "nato": {
        "membership_open": {"us": 5, "russia": 0, "ukraine": 25, "europe": 20},
        "moratorium": {"us": 20, "russia": 10, "ukraine": 15, "europe": 18},
        "alliance_pledge": {"us": 30, "russia": 18, "ukraine": 12, "europe": 14},
        "constitutional_neutrality": {"us": 25, "russia": 24, "ukraine": 6, "europe": 8},
        "neutrality_demilitarised": {"us": 15, "russia": 30, "ukraine": 0, "europe": 0},
    },
    "guarantees": {
        "guarantors_with_veto": {"us": 10, "russia": 30, "ukraine": 0, "europe": 0},
        "assurances_army_cap": {"us": 35, "russia": 20, "ukraine": 10, "europe": 8},
        "bilateral_arms_training": {"us": 25, "russia": 8, "ukraine": 22, "europe": 25},
        "reassurance_force": {"us": 30, "russia": 2, "ukraine": 28, "europe": 35},
        "article5_like": {"us": 5, "russia": 0, "ukraine": 35, "europe": 30},
    },
}
PROVISIONAL_NO_DEAL = {"us": 20, "russia": 35, "ukraine": 15, "europe": 20}
# News value effects of the provisional scenario (role -> "issue/option" -> delta).
PROVISIONAL_VALUE_EFFECTS = {
    "summer_offensive": {
        "russia": {"territory/recognition_four_regions": 6},
        "ukraine": {"territory/freeze_line": 5},
    },
    "us_steps_back": {"us": {"guarantees/article5_like": -5}},
}


def provisional_dict(points=PROVISIONAL_POINTS, no_deal=PROVISIONAL_NO_DEAL) -> dict[str, Any]:
    d = json.loads(DEFAULT_JSON.read_text(encoding="utf-8"))
    for issue in d["issues"]:
        for o in issue["options"]:
            o["points"] = dict(points[issue["key"]][o["key"]])
            o["label"] = o.get("label") or o["key"]
    for r in d["roles"]:
        r["no_deal_value"] = no_deal[r["key"]]
    for n in d["news"]:
        n["headline"] = n.get("headline") or n["key"]
        n["value_effects"] = PROVISIONAL_VALUE_EFFECTS.get(n["key"], {})
    return d


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    sc = Scenario.from_dict(provisional_dict())
    assert validate(sc) == []
    return sc


ISSUES = {k: tuple(v) for k, v in PROVISIONAL_POINTS.items()}
ALL_PACKAGES = all_packages(Scenario.from_dict(provisional_dict()))
NEWS = ("summer_offensive", "us_steps_back", "european_pledge", "moscow_rejects_troops", "prisoner_exchange")


# -- tactical -------------------------------------------------------------------------------


def test_tactical_is_zero_for_the_roles_worst_package_and_100_for_its_best(scenario):
    for role in ROLES:
        raw = [S.points(scenario, role, t) for t in ALL_PACKAGES]
        best = ALL_PACKAGES[raw.index(max(raw))]
        worst = ALL_PACKAGES[raw.index(min(raw))]
        assert S.tactical(scenario, role, best) == pytest.approx(100.0)
        assert S.tactical(scenario, role, worst) == pytest.approx(0.0)


def test_tactical_scales_the_raw_points_linearly(scenario):
    terms = {
        "territory": "donbas_exchange",
        "nato": "alliance_pledge",
        "guarantees": "bilateral_arms_training",
    }
    # Ukraine: raw 10 + 12 + 22 = 44; worst 0 + 0 + 0; best 40 + 25 + 35 = 100
    assert S.points(scenario, "ukraine", terms) == 44
    assert S.tactical(scenario, "ukraine", terms) == pytest.approx(44.0)
    # US: raw 35 + 30 + 25 = 90; worst 10 + 5 + 5 = 20; best 35 + 30 + 35 = 100 -> (90-20)/80
    assert S.tactical(scenario, "us", terms) == pytest.approx(100 * 70 / 80)


def test_news_value_effects_change_the_roles_values_and_its_scale(scenario):
    v = S.role_values(scenario, "russia", ["summer_offensive"])
    assert v["territory"]["recognition_four_regions"] == 46
    assert S.role_values(scenario, "russia")["territory"]["recognition_four_regions"] == 40
    best = {
        "territory": "recognition_four_regions",
        "nato": "neutrality_demilitarised",
        "guarantees": "guarantors_with_veto",
    }
    assert S.points(scenario, "russia", best, ["summer_offensive"]) == 106
    assert S.tactical(scenario, "russia", best, ["summer_offensive"]) == pytest.approx(100.0)
    # the same news twice is the same news
    assert S.role_values(scenario, "russia", ["summer_offensive"] * 2) == v


def test_a_role_indifferent_to_every_package_gets_the_neutral_tactical_score():
    points = json.loads(json.dumps(PROVISIONAL_POINTS))
    for opts in points.values():
        for p in opts.values():
            p["us"] = 7
    sc = Scenario.from_dict(provisional_dict(points))
    assert S.tactical(sc, "us", ALL_PACKAGES[0]) == S.INDIFFERENT_TACTICAL == 50.0


def test_unknown_roles_and_bad_terms_are_refused(scenario):
    with pytest.raises(ValueError, match="role"):
        S.tactical(scenario, "china", ALL_PACKAGES[0])
    with pytest.raises(ValueError):
        S.tactical(scenario, "us", {"territory": "freeze_line"})


# -- total ----------------------------------------------------------------------------------


def total_by_hand(tac: float, d: float, peace: float = 50.0, relapse: float = 0.1) -> float:
    # a year at peace pays tactical + the peace itself; a year after a collapse a tenth of the win
    return 100 * (d * (tac + peace) + (1 - d) * relapse * tac) / (100 + peace)


def test_total_pays_the_years_at_peace_and_a_small_share_of_the_win_after_a_collapse(scenario):
    assert (scenario.model.peace_value, scenario.model.relapse_share) == (50.0, 0.1)
    terms = {"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "reassurance_force"}
    dur = D.evaluate(scenario, terms)
    d = dur.expected_peace
    for role in ROLES:
        sc = S.score(scenario, role, terms, dur)
        tac = S.tactical(scenario, role, terms)
        assert sc.tactical == pytest.approx(tac)
        assert sc.durability == pytest.approx(100 * d)
        assert sc.total == pytest.approx(total_by_hand(tac, d))


def test_a_relapse_is_worth_less_than_no_deal_and_peace_more_than_any_win():
    model = Scenario.from_dict(provisional_dict()).model
    # a deal that collapses at once pays at most 10 x 100/150 = 6.7: below every no-deal value
    assert S.total_of(model, 100.0, 0.0) == pytest.approx(100 * 10 / 150)
    assert S.total_of(model, 100.0, 0.0) < min(PROVISIONAL_NO_DEAL.values())
    # a deal nobody likes that surely holds still pays the peace: 50 x 100/150
    assert S.total_of(model, 0.0, 1.0) == pytest.approx(100 * 50 / 150)
    assert S.total_of(model, 100.0, 1.0) == pytest.approx(100.0)


def test_a_worked_example_by_hand():
    sc = Scenario.from_dict(provisional_dict())
    dur = D.Durability(survival=(0.5,), p_hold=0.5, expected_peace=0.5, hazards=(0.5,), factors=())
    terms = {
        "territory": "recognition_four_regions",
        "nato": "neutrality_demilitarised",
        "guarantees": "guarantors_with_veto",
    }
    # Russia's maximum: tactical 100, D = 0.5 -> 100/150 x (0.5 x 150 + 0.5 x 0.1 x 100) = 53.33
    assert S.score(sc, "russia", terms, dur) == pytest.approx(S.Score(100.0, 50.0, 160 / 3))
    # Ukraine gets 0 from it: 100/150 x (0.5 x 50 + 0) = 16.67
    assert S.score(sc, "ukraine", terms, dur) == pytest.approx(S.Score(0.0, 50.0, 50 / 3))


def test_no_deal_scores_every_role_its_no_deal_value(scenario):
    out = S.outcome(scenario, None, seed=5)
    assert out["agreement"] is None
    assert out["durability"]["survival"] == [0.0] * scenario.model.horizon_years
    assert out["durability"]["realized"] == {
        "held": False,
        "collapse_year": None,
        "cause": "No agreement: the war goes on.",
        "cause_key": "no_deal",
        "risk": None,
        "baseline_risk": None,
        "year": None,
    }
    for role in ROLES:
        assert out["scores"][role] == {"tactical": 0.0, "durability": 0.0, "total": PROVISIONAL_NO_DEAL[role]}


@settings(max_examples=120, deadline=None)
@given(
    points=st.lists(st.floats(-50, 50), min_size=15 * 4, max_size=15 * 4),
    no_deal=st.lists(st.floats(0, 100), min_size=4, max_size=4),
    terms=st.sampled_from(ALL_PACKAGES),
    news=st.lists(st.sampled_from(NEWS), max_size=5),
)
def test_every_score_stays_between_0_and_100_and_the_total_between_a_relapse_and_a_lasting_peace(
    points, no_deal, terms, news
):
    it = iter(points)
    pts = {i: {o: {r: next(it) for r in ROLES} for o in opts} for i, opts in ISSUES.items()}
    sc = Scenario.from_dict(provisional_dict(pts, dict(zip(ROLES, no_deal, strict=True))))
    dur = D.evaluate(sc, terms, news)
    for s in S.scores(sc, terms, dur, news).values():
        assert 0.0 <= s.tactical <= 100.0 + 1e-9
        assert 0.0 <= s.durability <= 100.0
        assert -1e-9 <= s.total <= 100.0 + 1e-9
        # between what a collapse in year one pays and what a peace that surely holds pays
        assert (
            S.total_of(sc.model, s.tactical, 0.0) - 1e-9
            <= s.total
            <= S.total_of(sc.model, s.tactical, 1.0) + 1e-9
        )


# -- outcome and preview --------------------------------------------------------------------


def test_outcome_is_the_game_ended_payload_and_replays_identically(scenario):
    terms = {"territory": "donbas_exchange", "nato": "moratorium", "guarantees": "bilateral_arms_training"}
    seed = D.seed_from("K7QX2P", 1)
    out = S.outcome(scenario, terms, ["prisoner_exchange"], seed=seed)
    assert out["agreement"] == terms
    dur = out["durability"]
    assert len(dur["survival"]) == 10 and dur["p_hold"] == dur["survival"][-1]
    assert {"held", "collapse_year", "cause"} <= set(dur["realized"])
    assert all({"key", "label", "effect", "explanation"} <= set(f) for f in dur["factors"])
    assert set(out["scores"]) == set(ROLES)
    assert all(set(s) == {"tactical", "durability", "total"} for s in out["scores"].values())
    assert S.outcome(scenario, terms, ["prisoner_exchange"], seed=seed) == out
    assert msgpack.unpackb(msgpack.packb(out)) == out
    # without a seed the story is still told, reproducibly (seed 0)
    assert (
        S.outcome(scenario, terms)["durability"]["realized"]
        == S.outcome(scenario, terms, seed=0)["durability"]["realized"]
    )


def test_preview_gives_the_roles_points_and_the_public_durability_without_a_story(scenario):
    terms = {"territory": "freeze_dmz_monitors", "nato": "alliance_pledge", "guarantees": "article5_like"}
    p = S.preview(scenario, "ukraine", terms)
    assert p["points"] == 25 + 12 + 35
    assert p["tactical"] == pytest.approx(72.0)
    assert "realized" not in p["durability"]
    d = D.evaluate(scenario, terms).expected_peace
    assert p["total"] == pytest.approx(total_by_hand(72.0, d), abs=1e-4)
    assert p["durability"]["expected_peace"] == pytest.approx(d, abs=1e-4)


def test_every_role_s_preview_of_a_package_shares_one_durability_computation(scenario, monkeypatch):
    """Four roles previewing the same package under the same news compute its curve once. (How
    long a preview takes is measured by ``make bench``: bench/bench_engine.py.)"""
    from game.engine import durability

    ev = durability.evaluator(scenario)
    ev._results.clear()
    computed: list[Any] = []
    real = ev._compute
    monkeypatch.setattr(ev, "_compute", lambda *a: computed.append(a) or real(*a))
    for terms in ALL_PACKAGES:
        views = [S.preview(scenario, role, terms, ["summer_offensive"]) for role in ROLES]
        assert all(v["durability"] == views[0]["durability"] for v in views)
        assert all(math.isfinite(v["total"]) for v in views)
    assert len(computed) == len(ALL_PACKAGES)


def test_the_points_a_student_sees_add_up_to_the_tactical_score_after_news_too(scenario):
    news = ["summer_offensive", "us_steps_back"]
    for role in ROLES:
        for terms in ALL_PACKAGES[::7]:
            for n in ((), news):
                shown = S.shown_values(scenario, role, n)
                total = sum(shown[i][o] for i, o in terms.items())
                assert total == pytest.approx(S.tactical(scenario, role, terms, n), abs=0.2)
                assert all(0 <= v <= 100 for opts in shown.values() for v in opts.values())
    # Russia's best package after a summer offensive still reads 100, not 106
    best = {
        "territory": "recognition_four_regions",
        "nato": "neutrality_demilitarised",
        "guarantees": "guarantors_with_veto",
    }
    shown = S.shown_values(scenario, "russia", ["summer_offensive"])
    assert sum(shown[i][o] for i, o in best.items()) == pytest.approx(100.0, abs=0.2)
