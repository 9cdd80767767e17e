"""Fixtures for the engine tests: pure Python, no Django."""

from __future__ import annotations

from typing import Any

import pytest

from game.engine.scenario import Scenario, validate

# -- rules (game/engine/rules.py) ---------------------------------------------------------

RULES_ROLES = ("us", "russia", "ukraine", "europe")


def _points(**overrides: float) -> dict[str, float]:
    return {r: overrides.get(r, 0.0) for r in RULES_ROLES}


RULES_SCENARIO: dict[str, Any] = {
    "slug": "rules-test",
    "title": "A small scenario for the rules tests",
    "necessary_signatories": ["ukraine", "russia"],
    "roles": [{"key": r, "name": r.title()} for r in RULES_ROLES],
    "issues": [
        {
            "key": "territory",
            "name": "Territory",
            "options": [
                {"key": "freeze", "label": "Freeze the line", "points": _points(russia=30)},
                {"key": "withdraw", "label": "Russian withdrawal", "points": _points(ukraine=30)},
            ],
        },
        {
            "key": "security",
            "name": "Security guarantees",
            "options": [
                {"key": "neutral", "label": "Neutrality", "points": _points(russia=20)},
                {
                    "key": "troops",
                    "label": "European reassurance force",
                    "points": _points(ukraine=20, europe=10),
                    "commits": ["europe"],
                },
            ],
        },
        {
            "key": "sanctions",
            "name": "Sanctions",
            "options": [
                {"key": "keep", "label": "Keep sanctions", "points": _points(europe=10)},
                {"key": "lift", "label": "Lift sanctions", "points": _points(russia=10, us=10)},
            ],
        },
    ],
    "phases": [
        {"key": "opening", "name": "Opening statements", "duration_seconds": 300},
        {"key": "bargaining", "name": "Bargaining", "duration_seconds": 600},
        {"key": "closing", "name": "Closing", "duration_seconds": 300, "agreement": True},
    ],
    "news": [
        {"key": "drone_strike", "headline": "Drone strike on a power plant", "body": "Tensions rise."},
        {"key": "election", "headline": "Elections announced", "body": "A new mandate."},
    ],
}


@pytest.fixture(scope="session")
def rules_scenario() -> Scenario:
    """4 roles, 3 issues (security/troops commits europe), 3 phases; only the last allows agreement."""
    scenario = Scenario.from_dict(RULES_SCENARIO)
    assert validate(scenario) == []
    return scenario
