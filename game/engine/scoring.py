"""Scores: what each role won at the table, and whether it lasted.

- **tactical** (0-100): the role's own points for the agreed package, scaled so that 0 is the
  worst package possible for that role and 100 the best (news ``value_effects`` applied).
- **durability** (0-100): 100 x the expected share of the horizon at peace (the mean of the
  survival curve).
- **total** (0-100): ``tactical * D + no_deal_value * (1 - D)`` with ``D = durability / 100``.
  For the part of the horizon the deal is expected to hold, the role enjoys what it won; for
  the rest it is back at war, which is worth its no-deal value. No agreement scores every role
  its no-deal value (and tactical 0, durability 0: there is no package).

A role whose points do not differ between packages gets tactical 50 for any package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .durability import DISPLAY_DIGITS, Durability, evaluator
from .scenario import Scenario

INDIFFERENT_TACTICAL = 50.0
_MEMO_LIMIT = 256


@dataclass(frozen=True)
class Score:
    tactical: float
    durability: float
    total: float

    def to_dict(self) -> dict[str, float]:
        r = DISPLAY_DIGITS
        return {
            "tactical": round(self.tactical, r),
            "durability": round(self.durability, r),
            "total": round(self.total, r),
        }


@dataclass(frozen=True)
class _RoleTable:
    values: dict[str, dict[str, float]]  # issue -> option -> points, news applied
    worst: float
    best: float
    no_deal_value: float


def _tables(scenario: Scenario, news: Sequence[str]) -> dict[str, _RoleTable]:
    """Per-role values and extremes for this news, memoised on the scenario's Evaluator."""
    news_key = tuple(sorted(dict.fromkeys(news)))
    memo = evaluator(scenario).memo
    key = ("scoring", news_key)
    hit = memo.get(key)
    if hit is not None:
        return hit
    items = []
    for k in news_key:
        item = scenario.news_item(k)
        if item is None:
            raise ValueError(f"Unknown news item {k!r}.")
        items.append(item)
    tables = {}
    for role in scenario.roles:
        values = {
            i.key: {o.key: float(o.points.get(role.key, 0.0)) for o in i.options} for i in scenario.issues
        }
        for item in items:
            for ref, delta in item.value_effects.get(role.key, {}).items():
                ik, _, ok = ref.partition("/")
                if ik in values and ok in values[ik]:
                    values[ik][ok] += delta
        worst = sum(min(opts.values()) for opts in values.values())
        best = sum(max(opts.values()) for opts in values.values())
        tables[role.key] = _RoleTable(values, worst, best, float(role.no_deal_value))
    if len(memo) > _MEMO_LIMIT:
        memo.clear()
    memo[key] = tables
    return tables


def _table(scenario: Scenario, role: str, news: Sequence[str]) -> _RoleTable:
    t = _tables(scenario, news).get(role)
    if t is None:
        raise ValueError(f"Unknown role {role!r}.")
    return t


def role_values(scenario: Scenario, role: str, news: Sequence[str] = ()) -> dict[str, dict[str, float]]:
    """The role's own points, {issue: {option: points}}, with the news' value effects applied."""
    return {ik: dict(opts) for ik, opts in _table(scenario, role, news).values.items()}


def points(scenario: Scenario, role: str, terms: Mapping[str, str], news: Sequence[str] = ()) -> float:
    """The role's raw points for a package (sum over issues)."""
    values = _table(scenario, role, news).values
    try:
        return sum(values[ik][terms[ik]] for ik in values)
    except KeyError as e:
        raise ValueError(f"The terms must choose one valid option for every issue (problem: {e}).") from None


def _scale(t: _RoleTable, raw: float) -> float:
    if t.best == t.worst:
        return INDIFFERENT_TACTICAL
    return 100.0 * (raw - t.worst) / (t.best - t.worst)


def tactical(scenario: Scenario, role: str, terms: Mapping[str, str], news: Sequence[str] = ()) -> float:
    """The role's points for the package scaled to 0-100 over its worst and best packages."""
    return _scale(_table(scenario, role, news), points(scenario, role, terms, news))


def _score(t: _RoleTable, tac: float | None, d: float) -> Score:
    if tac is None:
        return Score(tactical=0.0, durability=0.0, total=t.no_deal_value)
    return Score(tactical=tac, durability=100.0 * d, total=tac * d + t.no_deal_value * (1.0 - d))


def score(
    scenario: Scenario,
    role: str,
    terms: Mapping[str, str] | None,
    durability: Durability,
    news: Sequence[str] = (),
) -> Score:
    """The role's score for the outcome (``terms`` None: no deal)."""
    t = _table(scenario, role, news)
    tac = None if terms is None else tactical(scenario, role, terms, news)
    return _score(t, tac, durability.expected_peace)


def scores(
    scenario: Scenario, terms: Mapping[str, str] | None, durability: Durability, news: Sequence[str] = ()
) -> dict[str, Score]:
    """Every role's score for the outcome."""
    return {r.key: score(scenario, r.key, terms, durability, news) for r in scenario.roles}


def outcome(
    scenario: Scenario, terms: Mapping[str, str] | None, news: Sequence[str] = (), seed: int | None = None
) -> dict[str, Any]:
    """The whole ``game.ended`` data of a table.

    ``seed`` should come from the session (e.g. ``durability.seed_from(code, table_id)``) so a
    replay tells the same story; without one the story is drawn with seed 0, so the contract's
    ``realized`` is always present and still reproducible.
    """
    ev = evaluator(scenario)
    s = 0 if seed is None else seed
    dur = ev.no_deal(news, s) if terms is None else ev.evaluate(terms, news, s)
    return {
        "agreement": dict(terms) if terms is not None else None,
        "durability": dur.to_dict(),
        "scores": {k: v.to_dict() for k, v in scores(scenario, terms, dur, news).items()},
    }


def preview(
    scenario: Scenario, role: str, terms: Mapping[str, str], news: Sequence[str] = ()
) -> dict[str, Any]:
    """The public what-if for one role: its points, its scores if this package were signed, and
    the package's durability (no story is drawn).

    ``points`` is the raw sum of the role's points; ``tactical`` the same scaled to 0-100;
    ``total`` the expected total score if this package were agreed.
    """
    t = _table(scenario, role, news)
    raw = points(scenario, role, terms, news)
    dur = evaluator(scenario).evaluate(terms, news)
    sc = _score(t, _scale(t, raw), dur.expected_peace)
    d = dur.to_dict()
    d.pop("realized", None)
    r = DISPLAY_DIGITS
    return {
        "points": round(raw, r),
        "tactical": round(sc.tactical, r),
        "total": round(sc.total, r),
        "durability": d,
    }
