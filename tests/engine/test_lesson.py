"""The lesson, checked exhaustively over every package, and a mutation test of those checks.

"Tactically, the parties may win, but strategically there can be no winners": the score must
make greed lose to a durable compromise while the negotiation stays real, and the durability
model must be the one the evidence supports. ``game/engine/lesson.py`` holds the checks; this
file runs them on the default scenario and on every mutant of its model.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from game.engine import lesson as L
from game.engine import scoring as S
from game.engine.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
DATA = json.loads((ROOT / "game" / "scenarios" / "default.json").read_text(encoding="utf-8"))
DEFAULT = Scenario.from_dict(DATA)
SPEC = json.loads((ROOT / "game" / "scenarios" / "default.checks.json").read_text(encoding="utf-8"))
CASES = json.loads((ROOT / "game" / "backtest" / "cases.json").read_text(encoding="utf-8"))
CHECKS = L.all_checks(DEFAULT, SPEC, CASES)


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_the_default_scenario_passes_every_lesson_check(check):
    assert check.passed, f"{check.name}: {check.detail}"


def test_every_kind_of_check_is_there():
    names = [c.name for c in CHECKS]
    roles = [r.name for r in DEFAULT.roles]
    for r in roles:
        assert f"greed does not pay: {r}" in names
        assert f"best total among the most durable third: {r}" in names
    for f in DEFAULT.model.factors:
        assert any(n.startswith(f"direction of {f.key}:") for n in names), f.key
        assert any(n.startswith(f"time profile of {f.key}:") for n in names), f.key
    assert any(n.startswith("anchor: minsk_like survival_year_7") for n in names)
    assert any(n.startswith("history: ") for n in names)
    assert "backtest: better than a constant rate" in names


def test_the_greediest_package_of_each_side_scores_less_than_the_compromise_in_numbers():
    comp = S.compromise(DEFAULT)
    for role in DEFAULT.role_keys:
        greedy = S.greediest(DEFAULT, role)
        assert greedy.tactical[role] == pytest.approx(100.0)
        assert greedy.total[role] < comp.total[role]
        assert greedy.expected_peace < comp.expected_peace


def test_the_compromise_is_the_package_whose_lowest_total_is_highest():
    rows = S.package_table(DEFAULT)
    comp = S.compromise(DEFAULT)
    assert min(comp.total.values()) == max(min(p.total.values()) for p in rows)


@pytest.fixture(scope="module")
def mutation():
    return L.mutation_report(DEFAULT, SPEC, CASES)


def test_there_are_four_mutants_per_factor_and_two_of_the_context(mutation):
    assert len(mutation) == 4 * len(DEFAULT.model.factors) + 2
    names = {m.name for m in mutation}
    assert "fixed context x2" in names and "fixed context x0.5" in names
    assert "challenger_dissatisfaction: time profile ramp -> decay" in names  # a fast-fading Russia
    assert "border_settled: sign flipped" in names


def test_every_mutant_of_the_model_fails_at_least_one_check(mutation):
    survivors = [m.name for m in mutation if not m.killed]
    assert survivors == [], f"these wrong models pass every check: {survivors}"
    assert all(not f.startswith("error:") for m in mutation for f in m.failed)


def test_the_lesson_without_its_checks_file_still_checks_the_score():
    names = [c.name for c in L.all_checks(DEFAULT, None)]
    assert "tactical points still count" in names
    assert not any(n.startswith("direction of") for n in names)


def test_without_the_peace_itself_in_the_score_greed_would_pay_again():
    # With no value for the years at peace and nothing left after a collapse, the total is
    # tactical x D: the first version's rule in all but its no-deal term, and greed wins it.
    greedy_model = copy.deepcopy(DATA)
    greedy_model["model"]["peace_value"] = 0.0
    greedy_model["model"]["relapse_share"] = 0.0
    failed = [c.name for c in L.score_checks(Scenario.from_dict(greedy_model)) if not c.passed]
    assert any(n.startswith("greed does not pay") for n in failed)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s["directions"][0].update(factor="nope"), "directions #1: unknown factor 'nope'"),
        (
            lambda s: s["anchors"][0].update(package="nowhere"),
            "anchors #1 names the unknown package 'nowhere'",
        ),
        (
            lambda s: s["packages"]["russia_max"].update(guarantees="reassurance_force"),
            "package 'russia_max': These options cannot be combined",
        ),
        (lambda s: s["time_profiles"][0].update(trend="wobbles"), "trend must be grows, fades or steady"),
    ],
)
def test_a_broken_checks_file_is_reported_naming_the_item(mutate, message):
    spec = copy.deepcopy(SPEC)
    mutate(spec)
    problems = L.check_spec(DEFAULT, spec)
    assert any(message in p for p in problems), problems


def test_the_shipped_checks_file_is_well_formed():
    assert L.check_spec(DEFAULT, SPEC) == []


# -- every shipped scenario ------------------------------------------------------------------------

SHIPPED = sorted(
    p.name.removesuffix(".checks.json") for p in (ROOT / "game" / "scenarios").glob("*.checks.json")
)


def _shipped(slug: str):
    data = json.loads((ROOT / "game" / "scenarios" / f"{slug}.json").read_text(encoding="utf-8"))
    spec = json.loads((ROOT / "game" / "scenarios" / f"{slug}.checks.json").read_text(encoding="utf-8"))
    return Scenario.from_dict(data), spec


def test_every_shipped_scenario_has_a_checks_file():
    scenarios = sorted(
        p.stem
        for p in (ROOT / "game" / "scenarios").glob("*.json")
        if not p.name.endswith((".checks.json", ".schema.json"))
    )
    assert scenarios == SHIPPED and {"default", "karabakh"} <= set(SHIPPED)


@pytest.mark.parametrize("slug", SHIPPED)
def test_every_shipped_scenario_passes_every_lesson_check(slug):
    sc, spec = _shipped(slug)
    assert L.check_spec(sc, spec) == []
    failed = [f"{c.name}: {c.detail}" for c in L.all_checks(sc, spec, CASES) if not c.passed]
    assert failed == []


@pytest.mark.parametrize("slug", SHIPPED)
def test_every_mutant_of_every_shipped_scenario_fails_a_check(slug):
    sc, spec = _shipped(slug)
    survivors = [m.name for m in L.mutation_report(sc, spec, CASES) if not m.killed]
    assert survivors == []


def test_a_mediator_is_left_out_of_the_greed_check_but_not_of_the_others():
    sc, _ = _shipped("karabakh")
    mediator = next(r for r in sc.roles if r.mediator)
    names = [c.name for c in L.score_checks(sc)]
    assert f"greed does not pay: {mediator.name}" not in names
    assert f"best total among the most durable third: {mediator.name}" in names
    assert all(f"greed does not pay: {r.name}" in names for r in sc.roles if not r.mediator)
