"""The durability model: worked examples by hand, and properties over every package."""

from __future__ import annotations

import dataclasses
import gc
import itertools
import json
import math
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.engine import durability as D
from game.engine.scenario import Scenario, validate
from game.engine.scenario import packages as all_packages

DEFAULT_JSON = Path(__file__).resolve().parents[2] / "game" / "scenarios" / "default.json"
DEFAULT_DICT: dict[str, Any] = json.loads(DEFAULT_JSON.read_text(encoding="utf-8"))
DEFAULT = Scenario.from_dict(DEFAULT_DICT)
ISSUES = {i.key: tuple(o.key for o in i.options) for i in DEFAULT.issues}
NEWS = tuple(n.key for n in DEFAULT.news)
ALL_PACKAGES = all_packages(DEFAULT)

packages = st.sampled_from(ALL_PACKAGES)
news_lists = st.lists(st.sampled_from(NEWS), max_size=len(NEWS))


def with_loading(issue: str, option: str, factor: str, delta: float) -> Scenario:
    """The default scenario with one option's loading on one factor raised by delta."""
    d = json.loads(json.dumps(DEFAULT_DICT))
    for i in d["issues"]:
        if i["key"] == issue:
            for o in i["options"]:
                if o["key"] == option:
                    f = next(f for f in d["model"]["factors"] if f["key"] == factor)
                    o["loadings"][factor] = o["loadings"].get(factor, f.get("default", 0.0)) + delta
    return Scenario.from_dict(d)


def tiny(**model: Any) -> Scenario:
    """One issue with two options and a hand-made model, for worked examples."""
    factors = model.pop("factors")
    return Scenario.from_dict(
        {
            "slug": "tiny",
            "title": "Tiny",
            "roles": [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}],
            "issues": [
                {
                    "key": "deal",
                    "name": "Deal",
                    "options": [
                        {"key": "weak", "label": "Weak", "loadings": {"f": 1.0}},
                        {"key": "strong", "label": "Strong", "loadings": {"f": 0.0}},
                    ],
                }
            ],
            "phases": [{"key": "p", "name": "P", "agreement": True}],
            "news": [{"key": "shock", "headline": "Shock", "factor_effects": {"f": 0.5}}],
            "model": {
                "horizon_years": 3,
                "baseline_hazard": 0.1,
                "baseline_decay": 1.0,
                **model,
                "factors": factors,
            },
        }
    )


# -- worked examples ------------------------------------------------------------------------


def test_a_factor_doubling_the_hazard_gives_the_grouped_time_yearly_risk():
    sc = tiny(factors=[{"key": "f", "label": "F", "beta": math.log(2)}])
    d = D.evaluate(sc, {"deal": "weak"})
    # HR = 2: yearly risk 1 - 0.9**2 = 0.19 each year
    assert d.hazards == pytest.approx((0.19, 0.19, 0.19))
    assert d.survival == pytest.approx((0.81, 0.81**2, 0.81**3))
    assert d.p_hold == pytest.approx(0.81**3)
    assert d.expected_peace == pytest.approx((0.81 + 0.81**2 + 0.81**3) / 3)
    assert d.factors[0].hazard_ratio == pytest.approx(2.0)
    assert D.evaluate(sc, {"deal": "strong"}).hazards == pytest.approx((0.1, 0.1, 0.1))


def test_baseline_hazard_decays_year_by_year_and_context_multiplies_it():
    sc = tiny(
        baseline_decay=0.5, context_log_hr=math.log(3), factors=[{"key": "f", "label": "F", "beta": 0.0}]
    )
    d = D.evaluate(sc, {"deal": "weak"})
    assert d.hazards == pytest.approx(tuple(1 - (1 - 0.1 * 0.5**t) ** 3 for t in range(3)))


def test_ramp_and_decay_time_profiles_weight_the_factor_by_year():
    ramp = tiny(
        factors=[{"key": "f", "label": "F", "beta": 1.0, "time": "ramp", "time_start": 0.5, "time_rate": 0.4}]
    )
    d = D.evaluate(ramp, {"deal": "weak"})
    assert d.hazards == pytest.approx(tuple(1 - 0.9 ** math.exp(w) for w in (0.5, 0.9, 1.0)))
    assert d.factors[0].effect == pytest.approx((0.5 + 0.9 + 1.0) / 3)  # effect: mean over the years
    decay = tiny(factors=[{"key": "f", "label": "F", "beta": -1.0, "time": "decay", "time_rate": 0.5}])
    d = D.evaluate(decay, {"deal": "weak"})
    assert d.hazards == pytest.approx(tuple(1 - 0.9 ** math.exp(-w) for w in (1.0, 0.5, 0.25)))


def test_news_adds_to_the_factor_value_and_values_are_clamped():
    sc = tiny(factors=[{"key": "f", "label": "F", "beta": 1.0, "lo": 0.0, "hi": 1.2}])
    ev = D.evaluator(sc)
    assert ev.values({"deal": "strong"}, ["shock"]) == (0.5,)
    assert ev.values({"deal": "weak"}, ["shock"]) == (1.2,)  # 1.5 clamped to hi
    assert ev.values({"deal": "weak"}, ["shock", "shock"]) == (1.2,)  # news counts once


def test_opposition_combines_the_worst_clause_and_the_mean():
    assert D.OPPOSITION_MAX_WEIGHT == 0.6
    ev = D.evaluator(DEFAULT)
    terms = {"territory": "freeze_line", "nato": "moratorium", "guarantees": "bilateral_arms_training"}
    idx = ev.factor_keys.index("challenger_dissatisfaction")
    loads = [DEFAULT.issue(i).option(o).loadings["challenger_dissatisfaction"] for i, o in terms.items()]
    assert ev.values(terms)[idx] == pytest.approx(0.6 * max(loads) + 0.4 * sum(loads) / 3)


def test_coupling_uses_the_other_factors_value_before_its_own_coupling():
    ev = D.evaluator(DEFAULT)
    terms = {"territory": "freeze_line", "nato": "moratorium", "guarantees": "article5_like"}
    x = dict(zip(ev.factor_keys, ev.values(terms), strict=True))
    loads = [DEFAULT.issue(i).option(o).loadings["implementer_rejection"] for i, o in terms.items()]
    raw = 0.6 * max(loads) + 0.4 * sum(loads) / 3
    coef = next(f for f in DEFAULT.model.factors if f.key == "implementer_rejection").coupling[
        "guarantee_credibility"
    ]
    assert x["implementer_rejection"] == pytest.approx(raw + coef * x["guarantee_credibility"])


def test_an_average_historical_settlement_holds_ten_years_about_half_the_time():
    # Baseline alone (every factor at its centre, no fixed context): Fortna's "about half"
    # of interstate ceasefires, Collier et al.'s 40% relapse within ten years.
    plain = dataclasses.replace(DEFAULT, model=dataclasses.replace(DEFAULT.model, context_log_hr=0.0))
    _, survival = D.evaluator(plain).curve({})
    assert 0.45 <= survival[-1] <= 0.60


# -- the default model covers what the issue asks for ---------------------------------------


def test_the_default_scenario_validates_and_every_option_loads_on_both_sides_acceptance():
    assert validate(DEFAULT) == []
    keys = {f.key for f in DEFAULT.model.factors}
    assert {
        "implementer_rejection",
        "challenger_dissatisfaction",
        "challenger_capability",
        "guarantee_credibility",
        "agreement_strength",
        "border_settled",
        "imposed",
        "truce_only",
    } <= keys
    assert dict(DEFAULT.model.sides) == {"implementer": "ukraine", "challenger": "russia"}
    for issue in DEFAULT.issues:
        for o in issue.options:
            assert {"implementer_rejection", "challenger_dissatisfaction"} <= set(o.loadings), (
                issue.key,
                o.key,
            )


def test_credibility_of_the_guarantee_fades_over_time():
    f = next(f for f in DEFAULT.model.factors if f.key == "guarantee_credibility")
    assert f.time == "decay" and f.time_rate > 0 and f.beta < 0


# -- properties over every package ----------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(terms=packages, news=news_lists)
def test_survival_is_a_non_increasing_probability_curve(terms, news):
    d = D.evaluate(DEFAULT, terms, news)
    assert len(d.survival) == DEFAULT.model.horizon_years
    assert all(0.0 <= s <= 1.0 for s in d.survival)
    assert all(a >= b for a, b in itertools.pairwise((1.0, *d.survival)))
    assert all(0.0 < h < 1.0 for h in d.hazards)
    assert d.p_hold == d.survival[-1]
    assert d.expected_peace == pytest.approx(sum(d.survival) / len(d.survival))
    assert [abs(f.effect) for f in d.factors] == sorted((abs(f.effect) for f in d.factors), reverse=True)


@settings(max_examples=80, deadline=None)
@given(terms=packages, news=news_lists, issue=st.sampled_from(list(ISSUES)), delta=st.floats(0.0, 7.0))
def test_more_monitoring_never_lowers_durability(terms, news, issue, delta):
    before = D.evaluate(DEFAULT, terms, news)
    after = D.evaluate(with_loading(issue, terms[issue], "agreement_strength", delta), terms, news)
    assert after.expected_peace >= before.expected_peace - 1e-12
    assert all(a >= b - 1e-12 for a, b in zip(after.survival, before.survival, strict=True))


def test_the_freeze_with_a_dmz_and_monitors_is_the_thin_freeze_made_safer_in_every_factor_it_moves():
    territory = DEFAULT.issue("territory")
    thin, strong = territory.option("freeze_line").loadings, territory.option("freeze_dmz_monitors").loadings
    differing = {k for k in set(thin) | set(strong) if thin.get(k) != strong.get(k)}
    # the same rejection on both sides; the buffer zone, monitors and a mapped line are the difference
    assert differing == {"agreement_strength", "challenger_capability", "border_settled", "truce_only"}
    assert strong["agreement_strength"] > thin["agreement_strength"]
    assert strong["challenger_capability"] < thin.get("challenger_capability", 0.0)
    assert strong["border_settled"] > thin["border_settled"]
    assert strong["truce_only"] < thin["truce_only"]
    for nato, guarantees in itertools.product(ISSUES["nato"], ISSUES["guarantees"]):
        if DEFAULT.conflicts({"nato": nato, "guarantees": guarantees}):
            continue
        a = D.evaluate(DEFAULT, {"territory": "freeze_line", "nato": nato, "guarantees": guarantees})
        b = D.evaluate(DEFAULT, {"territory": "freeze_dmz_monitors", "nato": nato, "guarantees": guarantees})
        assert b.expected_peace > a.expected_peace
        assert b.p_hold > a.p_hold


@settings(max_examples=80, deadline=None)
@given(terms=packages, news=news_lists, issue=st.sampled_from(list(ISSUES)), delta=st.floats(0.0, 1.0))
def test_terms_less_acceptable_to_ukraine_never_raise_durability(terms, news, issue, delta):
    before = D.evaluate(DEFAULT, terms, news)
    after = D.evaluate(with_loading(issue, terms[issue], "implementer_rejection", delta), terms, news)
    assert after.expected_peace <= before.expected_peace + 1e-12
    assert all(a <= b + 1e-12 for a, b in zip(after.survival, before.survival, strict=True))


@settings(max_examples=60, deadline=None)
@given(terms=packages, news=news_lists, seed=st.integers(0, 2**63 - 1))
def test_the_same_seed_tells_the_same_story(terms, news, seed):
    a = D.evaluate(DEFAULT, terms, news, seed=seed)
    b = D.evaluate(DEFAULT, terms, news, seed=seed)
    assert a.realized == b.realized
    assert a.realized is not None


def test_different_seeds_can_tell_different_stories():
    terms = {"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "reassurance_force"}
    stories = {D.evaluate(DEFAULT, terms, seed=s).realized for s in range(200)}
    assert len({r.collapse_year for r in stories}) >= 3
    assert any(r.held for r in stories) and any(not r.held for r in stories)


def test_without_a_seed_no_story_is_drawn():
    assert D.evaluate(DEFAULT, ALL_PACKAGES[0]).realized is None


@settings(max_examples=60, deadline=None)
@given(a=packages, b=packages, seed=st.integers(0, 10**9))
def test_with_the_same_seed_a_safer_deal_never_collapses_earlier(a, b, seed):
    da, db = D.evaluate(DEFAULT, a, seed=seed), D.evaluate(DEFAULT, b, seed=seed)
    if all(x <= y for x, y in zip(da.hazards, db.hazards, strict=True)):
        ya = da.realized.collapse_year or 99
        yb = db.realized.collapse_year or 99
        assert ya >= yb


def test_the_collapse_is_blamed_on_the_factor_that_raised_the_risk_most_that_year():
    terms = {
        "territory": "recognition_four_regions",
        "nato": "neutrality_demilitarised",
        "guarantees": "guarantors_with_veto",
    }
    ev = D.evaluator(DEFAULT)
    x, _, mult = ev._finish(ev._raw(ev._chosen(terms), ()))
    seen = 0
    for seed in range(100):
        r = ev.evaluate(terms, seed=seed).realized
        if r.held:
            assert r.cause.startswith(f"Held through all {DEFAULT.model.horizon_years} years.")
            continue
        seen += 1
        t = r.collapse_year - 1
        contrib = {
            k: (xi - c) * m * bw[t]
            for k, xi, c, m, bw in zip(ev.factor_keys, x, ev.centres, mult, ev.beta_w, strict=True)
        }
        assert r.cause_key == max(contrib, key=contrib.get)
        assert contrib[r.cause_key] > 0  # a driver that raised the risk
        assert r.cause.startswith(f"Collapsed in year {r.collapse_year}: ")
        i = ev.factor_keys.index(r.cause_key)
        assert ev.expl_up[i] in r.cause
        assert f"the risk of war was {100 * r.risk:.0f}%, against {100 * r.baseline_risk:.0f}%" in r.cause
    assert seen > 10


def test_no_deal_means_the_war_goes_on():
    d = D.no_deal(DEFAULT, seed=3)
    assert d.survival == (0.0,) * DEFAULT.model.horizon_years
    assert d.p_hold == 0.0 and d.expected_peace == 0.0
    assert d.realized == D.Realized(False, None, "No agreement: the war goes on.", "no_deal")
    assert D.no_deal(DEFAULT).realized is None


# -- interface ------------------------------------------------------------------------------


def test_bad_terms_and_unknown_news_are_refused():
    with pytest.raises(ValueError, match="territory"):
        D.evaluate(DEFAULT, {"nato": "moratorium", "guarantees": "article5_like"})
    with pytest.raises(ValueError, match="nato"):
        D.evaluate(DEFAULT, {"territory": "freeze_line", "nato": "nope", "guarantees": "article5_like"})
    with pytest.raises(ValueError, match="news"):
        D.evaluate(DEFAULT, ALL_PACKAGES[0], ["no_such_news"])


def test_to_dict_has_the_contract_shape_rounded_for_display_and_survives_msgpack():
    d = D.evaluate(DEFAULT, ALL_PACKAGES[60], ["us_steps_back"], seed=11)
    out = d.to_dict()
    assert set(out) >= {"survival", "p_hold", "expected_peace", "realized", "factors", "hazards"}
    assert set(out["realized"]) == {
        "held",
        "collapse_year",
        "cause",
        "cause_key",
        "risk",
        "baseline_risk",
        "year",
    }
    for f in out["factors"]:
        assert set(f) == {"key", "label", "value", "effect", "hazard_ratio", "explanation", "yearly"}
        assert len(f["yearly"]) == DEFAULT.model.horizon_years
        assert f["explanation"]
    assert all(s == round(s, 4) for s in out["survival"])
    assert (
        d.survival[0] != round(d.survival[0], 4) or d.survival[0] == out["survival"][0]
    )  # rounding only here
    assert msgpack.unpackb(msgpack.packb(out)) == out
    assert json.loads(json.dumps(out)) == out


def test_explanations_name_what_in_this_deal_drives_the_factor():
    terms = {"territory": "freeze_line", "nato": "moratorium", "guarantees": "assurances_army_cap"}
    d = D.evaluate(DEFAULT, terms, ["us_steps_back"])
    by_key = {f.key: f for f in d.factors}
    strength = by_key["agreement_strength"]
    assert strength.effect > 0
    # a protective provision that is missing is not blamed on an option of the deal
    assert DEFAULT.issue("territory").option("freeze_line").label not in strength.explanation
    assert "Nothing in this deal provides much of it." in strength.explanation
    rejection = by_key["implementer_rejection"]
    # a risk that an option brings is: the army cap is what most Ukrainians reject here
    if rejection.effect >= D.SMALL_EFFECT:
        assert DEFAULT.issue("guarantees").option("assurances_army_cap").label in rejection.explanation
    cred = by_key["guarantee_credibility"]
    if abs(cred.effect) >= D.SMALL_EFFECT:
        assert DEFAULT.news_item("us_steps_back").headline in cred.explanation


def test_one_evaluator_is_cached_per_scenario_object_and_released_with_it():
    sc = Scenario.from_dict(DEFAULT_DICT)
    ev = D.evaluator(sc)
    assert D.evaluator(sc) is ev
    other = Scenario.from_dict(DEFAULT_DICT)
    assert D.evaluator(other) is not ev
    key = id(sc)
    del sc, ev
    gc.collect()
    assert key not in D._cache


def test_seed_from_is_stable_across_processes():
    assert D.seed_from("ABC234", 7) == D.seed_from("ABC234", 7)
    assert D.seed_from("ABC234", 7) != D.seed_from("ABC234", 8)
    assert D.seed_from("x") == 2697552496229297191  # fixed: must never depend on hash()


def test_a_what_if_is_computed_once_per_package_and_news_then_looked_up(monkeypatch):
    """A table's repeated what-ifs cost a look-up: the curve of a (package, news) is computed once
    per evaluator. (How long a what-if takes is measured by ``make bench``: bench/bench_engine.py.)"""
    ev = D.Evaluator(DEFAULT)
    computed: list[Any] = []
    real = ev._compute
    monkeypatch.setattr(ev, "_compute", lambda *a: computed.append(a) or real(*a))
    first = [ev.evaluate(terms, ("summer_offensive",)) for terms in ALL_PACKAGES]
    for _ in range(3):
        again = [ev.evaluate(terms, ("summer_offensive",)) for terms in ALL_PACKAGES]
        assert again == first
    assert len(computed) == len(ALL_PACKAGES)


# -- acceptance, moderation, mean and base (the model's interactions) -----------------------------


def two_sides(**extra: Any) -> Scenario:
    """A hand-made model: two rejection factors, a border gated by both, an incentive moderated
    by a capability, and a mean factor with a base."""
    factors = [
        {
            "key": "rej_a",
            "label": "A rejects",
            "beta": 0.0,
            "centre": 0.5,
            "lo": 0.3,
            "combine": "max",
            "default": 0.3,
        },
        {
            "key": "rej_b",
            "label": "B rejects",
            "beta": 0.0,
            "centre": 0.5,
            "lo": 0.3,
            "combine": "max",
            "default": 0.3,
        },
        {
            "key": "border",
            "label": "Border",
            "beta": math.log(0.27),
            "combine": "max",
            "accepted_by": ["rej_a", "rej_b"],
        },
        {"key": "cap", "label": "{challenger}'s ability", "beta": 0.0, "centre": 0.5, "base": 0.5, "hi": 2.0},
        {"key": "incentive", "label": "Incentive", "beta": 1.0, "centre": 0.5, "moderator": "cap"},
        {"key": "truce", "label": "Truce", "beta": 0.0, "combine": "mean", "base": 0.1},
    ]
    return Scenario.from_dict(
        {
            "slug": "sides",
            "title": "Sides",
            "roles": [{"key": "a", "name": "Alpha"}, {"key": "b", "name": "Beta"}],
            "issues": [
                {
                    "key": "line",
                    "name": "Line",
                    "options": [
                        {"key": "settled", "label": "Settled", "loadings": {"border": 1.0, "truce": 0.0}},
                        {"key": "imposed", "label": "Imposed", "loadings": {"border": 1.0, "rej_a": 0.4}},
                        {"key": "rejected", "label": "Rejected", "loadings": {"border": 1.0, "rej_a": 0.6}},
                    ],
                },
                {
                    "key": "army",
                    "name": "Army",
                    "options": [
                        {
                            "key": "weak",
                            "label": "Weak",
                            "loadings": {"cap": -0.25, "incentive": 0.9, "truce": 1.0},
                        },
                        {
                            "key": "strong",
                            "label": "Strong",
                            "loadings": {"cap": 0.5, "incentive": 0.9, "truce": 1.0},
                        },
                    ],
                },
            ],
            "phases": [{"key": "p", "name": "P", "agreement": True}],
            "model": {"sides": {"implementer": "a", "challenger": "b"}, **extra, "factors": factors},
        }
    )


def test_a_border_counts_only_as_far_as_both_sides_accept_the_terms():
    sc = two_sides()
    ev = D.evaluator(sc)
    border = ev.factor_keys.index("border")
    value = lambda line: ev.values({"line": line, "army": "weak"})[border]  # noqa: E731
    assert value("settled") == pytest.approx(1.0)  # both at 30% rejecting: fully accepted
    assert value("imposed") == pytest.approx(0.5)  # A: 40% rejecting, half way to a majority
    assert value("rejected") == 0.0  # a majority of A rejects: settled on paper, not at all in fact
    hr = {f.key: f.hazard_ratio for f in D.evaluate(sc, {"line": "rejected", "army": "weak"}).factors}
    assert hr["border"] == pytest.approx(1.0)


def test_a_dissatisfied_side_counts_in_proportion_to_its_ability_to_act():
    sc = two_sides()
    weak = {f.key: f for f in D.evaluate(sc, {"line": "settled", "army": "weak"}).factors}
    strong = {f.key: f for f in D.evaluate(sc, {"line": "settled", "army": "strong"}).factors}
    # incentive 0.9 against a centre of 0.5 is +0.4; ability 0.25 and 1.0 against a centre of 0.5
    assert weak["incentive"].effect == pytest.approx(0.4 * 0.5)
    assert strong["incentive"].effect == pytest.approx(0.4 * 2.0)
    assert "Weighted x2.00 by: Beta's ability." in strong["incentive"].explanation


def test_mean_combines_the_options_average_after_the_base_and_placeholders_name_the_sides():
    sc = two_sides()
    ev = D.evaluator(sc)
    truce = ev.factor_keys.index("truce")
    assert ev.values({"line": "settled", "army": "weak"})[truce] == pytest.approx(0.1 + 0.5)
    assert ev.labels[ev.factor_keys.index("cap")] == "Beta's ability"


def test_arms_alone_are_not_described_as_someone_standing_behind_ukraine():
    terms = {"territory": "freeze_line", "nato": "moratorium", "guarantees": "bilateral_arms_training"}
    cred = next(f for f in D.evaluate(DEFAULT, terms).factors if f.key == "guarantee_credibility")
    assert 0.9 < cred.hazard_ratio < 1.0
    assert cred.explanation.startswith("Little effect on this deal")
    assert "stands behind" not in cred.explanation


@settings(max_examples=60, deadline=None)
@given(terms=packages, news=news_lists, seed=st.integers(0, 2**32))
def test_a_story_gives_its_numbers_and_never_contradicts_itself(terms, news, seed):
    d = D.evaluate(DEFAULT, terms, news, seed=seed)
    r = d.realized
    baseline = DEFAULT.model.baseline_hazard * DEFAULT.model.baseline_decay ** (r.year - 1)
    assert r.baseline_risk == pytest.approx(baseline)
    assert f"against {100 * baseline:.0f}% for an average ceasefire" in r.cause
    if r.held:
        assert r.cause.startswith(f"Held through all {DEFAULT.model.horizon_years} years.")
        assert "Collapsed" not in r.cause and r.collapse_year is None
        assert r.risk == pytest.approx(max(d.hazards))
    else:
        assert r.cause.startswith(f"Collapsed in year {r.collapse_year}: that year the risk of war was")
        assert r.risk == pytest.approx(d.hazards[r.collapse_year - 1])
        assert "Held" not in r.cause
        if r.cause_key not in ("baseline",):
            factor = next(f for f in d.factors if f.key == r.cause_key)
            # the named cause raised the risk in that year
            assert factor.yearly[r.collapse_year - 1] > 1.0
            down = next(f for f in DEFAULT.model.factors if f.key == r.cause_key).explanation_down
            assert not down or DEFAULT.say(down) not in r.cause


def test_a_hundred_replays_are_reproducible_and_account_for_every_history():
    ev = D.evaluator(DEFAULT)
    terms = {
        "territory": "freeze_dmz_monitors",
        "nato": "constitutional_neutrality",
        "guarantees": "reassurance_force",
    }
    d = ev.evaluate(terms)
    a, b = ev.replays(d.hazards, 7), ev.replays(d.hazards, 7)
    assert a == b and a["n"] == 100
    assert a["held"] + sum(a["collapse_years"]) == 100
    assert a["earliest_collapse_year"] <= a["median_collapse_year"] <= a["latest_collapse_year"]
    # about as often as the curve says (binomial: p_hold 0.50, n 100, within four standard deviations)
    assert abs(a["held"] - 100 * d.p_hold) <= 4 * math.sqrt(100 * d.p_hold * (1 - d.p_hold))
    assert ev.replays(d.hazards, 8) != a  # other seeds, other histories
