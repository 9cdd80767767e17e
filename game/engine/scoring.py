"""Scores: what each role won at the table, and whether it lasted.

- **tactical** (0-100): the role's own points for the agreed package, scaled so that 0 is the
  sum of its least-liked option on every issue and 100 its best package that can be agreed
  (news ``value_effects`` applied; packages that combine excluded options do not count). The
  points a student is shown are on the same scale (:func:`shown_values`), so the options of a
  package add up to its tactical score, news or not.
- **durability** (0-100): 100 x D, the expected share of the horizon at peace (the mean of the
  survival curve): the one durability figure the game shows everywhere.
- **total** (0-100): every year of the horizon pays the role something, and the total is the
  average, scaled so that the best possible result is 100::

      total = 100 / (100 + P) x [ D x (tactical + P) + (1 - D) x r x tactical ]

  A year at peace pays what the role won (tactical) plus the peace itself (``P``, the model's
  ``peace_value``, the same for every party: lives, trade, rebuilding). A year after the deal
  has collapsed pays only ``r`` (``relapse_share``) of what was won: the war resumes from where
  the deal left each side, after its concessions, and is worth less than never having signed
  (a relapse pays at most ``100 r x 100/(100+P)``, below any no-deal value of the default
  scenario). No agreement scores every role its no-deal value (and tactical 0, durability 0:
  there is no package).

So a greedy package that collapses early scores less than a compromise that holds, while
between two equally durable packages the one that wins more still scores more. The rationale
and a worked example are in ``docs/durability.md``.

A role whose points do not differ between packages gets tactical 50 for any package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .durability import DISPLAY_DIGITS, REPLAYS, Durability, evaluator
from .scenario import Model, Scenario, packages

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
    valid = packages(scenario) if scenario.exclusions else []
    for role in scenario.roles:
        values = {
            i.key: {o.key: float(o.points.get(role.key, 0.0)) for o in i.options} for i in scenario.issues
        }
        for item in items:
            for ref, delta in item.value_effects.get(role.key, {}).items():
                ik, _, ok = ref.partition("/")
                if ik in values and ok in values[ik]:
                    values[ik][ok] += delta
        # 0 is the sum of each issue's least-liked option (so every option's share of the scale
        # is its own: the points a student sees add up to the tactical score), 100 the best
        # package that can be agreed.
        worst = sum(min(opts.values()) for opts in values.values())
        if scenario.exclusions:
            best = max(sum(values[ik][ok] for ik, ok in t.items()) for t in valid)
        else:
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


def shown_values(scenario: Scenario, role: str, news: Sequence[str] = ()) -> dict[str, dict[str, float]]:
    """The role's points as a student sees them: on the tactical scale, so that the options of a
    package add up to its tactical score (0-100) whatever news moved the raw values. Without
    news, in a scenario whose points run from 0 to 100, they are the raw points. Rounded to one
    decimal."""
    t = _table(scenario, role, news)
    span = t.best - t.worst
    out = {}
    for ik, opts in t.values.items():
        low = min(opts.values())
        out[ik] = {
            ok: round(100.0 * (v - low) / span, 1) if span else round(INDIFFERENT_TACTICAL / len(t.values), 1)
            for ok, v in opts.items()
        }
    return out


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


def total_of(model: Model, tac: float, d: float) -> float:
    """The total for a tactical score (0-100) and an expected share of peace D (0-1)."""
    p, r = model.peace_value, model.relapse_share
    return 100.0 * (d * (tac + p) + (1.0 - d) * r * tac) / (100.0 + p)


def _score(t: _RoleTable, tac: float | None, d: float, model: Model) -> Score:
    if tac is None:  # no deal: its own value, whatever the status quo's durability (shown for what it is)
        return Score(tactical=0.0, durability=100.0 * d, total=t.no_deal_value)
    return Score(tactical=tac, durability=100.0 * d, total=total_of(model, tac, d))


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
    return _score(t, tac, durability.expected_peace, scenario.model)


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

    Beyond the contract's fields it carries ``news`` (the news the table received, which the
    durability depends on), ``scoring`` (the formula's parameters), ``lesson`` (for every role,
    what its greediest package and the compromise would have scored) and, for an agreement,
    ``durability.replays``: the same deal under a hundred other histories.

    Its texts (factor labels and sentences, the story) are in the scenario's language; a
    recorded outcome is told in another language by :func:`localized_outcome`.
    """
    ev = evaluator(scenario)
    s = 0 if seed is None else seed
    dur = ev.no_deal(news, s) if terms is None else ev.evaluate(terms, news, s)
    d = dur.to_dict()
    if terms is not None:
        d["replays"] = ev.replays(dur.hazards, s, REPLAYS)
    return {
        "agreement": dict(terms) if terms is not None else None,
        "news": list(dict.fromkeys(news)),
        "durability": d,
        "scores": {k: v.to_dict() for k, v in scores(scenario, terms, dur, news).items()},
        "scoring": scoring_rule(scenario),
        "lesson": lesson(scenario, news),
    }


def localized_outcome(
    scenario: Scenario, outcome: Mapping[str, Any], news: Sequence[str] | None = None
) -> dict[str, Any]:
    """A recorded outcome (``game.ended`` data) with its texts told in ``scenario``'s language:
    each factor's label and sentence and the story of the year the deal collapsed in (or held).
    Every number, key and the story's year stay exactly as recorded (the model is the same in
    every language). ``news``: the news the table received, by default the outcome's own.
    An outcome this scenario cannot retell (it names an option the scenario lacks) is returned
    unchanged."""
    out = dict(outcome)
    dur_d = outcome.get("durability")
    if not isinstance(dur_d, Mapping):
        return out
    news = tuple(outcome.get("news") or ()) if news is None else tuple(news)
    realized = dur_d.get("realized") if isinstance(dur_d.get("realized"), Mapping) else None
    year = realized.get("collapse_year") if realized else None
    try:
        dur, story = evaluator(scenario).retell(outcome.get("agreement"), news, year)
    except (ValueError, KeyError, TypeError, IndexError):
        return out
    by_key = {f.key: f for f in dur.factors}
    d = dict(dur_d)
    d["factors"] = [
        {**f, "label": by_key[f["key"]].label, "explanation": by_key[f["key"]].explanation}
        if isinstance(f, Mapping) and f.get("key") in by_key
        else f
        for f in dur_d.get("factors") or ()
    ]
    if realized is not None and story is not None and story.cause_key == realized.get("cause_key"):
        d["realized"] = {**realized, "cause": story.cause}
    out["durability"] = d
    return out


def scoring_rule(scenario: Scenario) -> dict[str, Any]:
    """The parameters of the total, for a page to show the formula with the numbers."""
    m = scenario.model
    return {
        "peace_value": m.peace_value,
        "relapse_share": m.relapse_share,
        "horizon_years": m.horizon_years,
        "no_deal": {r.key: r.no_deal_value for r in scenario.roles},
    }


@dataclass(frozen=True)
class PackageRow:
    terms: dict[str, str]
    p_hold: float
    expected_peace: float
    tactical: dict[str, float]
    total: dict[str, float]


def package_table(scenario: Scenario, news: Sequence[str] = ()) -> list[PackageRow]:
    """Every package that can be agreed, with its durability and each role's scores (memoised
    per scenario and news)."""
    news_key = tuple(sorted(dict.fromkeys(news)))
    ev = evaluator(scenario)
    hit = ev.memo.get(("packages", news_key))
    if hit is not None:
        return hit
    rows = []
    roles = scenario.role_keys
    for terms in packages(scenario):
        dur = ev.evaluate(terms, news_key)
        sc = scores(scenario, terms, dur, news_key)
        rows.append(
            PackageRow(
                terms,
                dur.p_hold,
                dur.expected_peace,
                {r: sc[r].tactical for r in roles},
                {r: sc[r].total for r in roles},
            )
        )
    if len(ev.memo) > _MEMO_LIMIT:
        ev.memo.clear()
    ev.memo[("packages", news_key)] = rows
    return rows


def compromise(scenario: Scenario, news: Sequence[str] = ()) -> PackageRow:
    """The compromise: the package that maximises the lowest total across roles (ties: the
    more durable one)."""
    rows = package_table(scenario, news)
    return max(rows, key=lambda p: (min(p.total.values()), p.expected_peace))


def greediest(scenario: Scenario, role: str, news: Sequence[str] = ()) -> PackageRow:
    """The role's greediest package: the most tactical points for it (ties: the best total)."""
    rows = package_table(scenario, news)
    return max(rows, key=lambda p: (p.tactical[role], p.total[role]))


def lesson(scenario: Scenario, news: Sequence[str] = ()) -> dict[str, Any]:
    """For every role: its greediest package and the compromise, with what each would have
    scored for it, so that a student sees their result beside the lesson's two reference
    points."""
    news_key = tuple(sorted(dict.fromkeys(news)))
    ev = evaluator(scenario)
    hit = ev.memo.get(("lesson", news_key))
    if hit is not None:
        return hit
    comp = compromise(scenario, news_key)
    r = DISPLAY_DIGITS
    out: dict[str, Any] = {
        "compromise": {
            "terms": dict(comp.terms),
            "p_hold": round(comp.p_hold, r),
            "expected_peace": round(comp.expected_peace, r),
        },
        "roles": {},
    }
    for role in scenario.role_keys:
        g = greediest(scenario, role, news_key)
        out["roles"][role] = {
            "greedy": {
                "terms": dict(g.terms),
                "p_hold": round(g.p_hold, r),
                "expected_peace": round(g.expected_peace, r),
                "tactical": round(g.tactical[role], r),
                "total": round(g.total[role], r),
            },
            "compromise": {
                "tactical": round(comp.tactical[role], r),
                "total": round(comp.total[role], r),
            },
        }
    ev.memo[("lesson", news_key)] = out
    return out


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
    sc = _score(t, _scale(t, raw), dur.expected_peace, scenario.model)
    d = dur.to_dict()
    d.pop("realized", None)
    r = DISPLAY_DIGITS
    return {
        "points": round(raw, r),
        "tactical": round(sc.tactical, r),
        "total": round(sc.total, r),
        "durability": d,
    }
