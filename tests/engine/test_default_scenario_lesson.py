"""The article's lesson must come out of the numbers of the real default scenario.

A package that gives Russia its maximum, and one that gives Ukraine its maximum, must each hold
less well (lower expected peace and lower 10-year survival) than the best compromise.

**Best compromise** = the Nash bargaining solution over the 125 packages: the package that
maximises the product, over all four roles, of each role's gain over its no-deal value
(``total - no_deal_value``), among packages where every role gains something. If no package
gives every role a gain, it falls back to the package that maximises the lowest total.

This file also generates the numbers in ``docs/durability.md``:
``python tests/engine/test_default_scenario_lesson.py`` prints them and
``python tests/engine/test_default_scenario_lesson.py --write`` rewrites the generated section.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # when run as a script
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from game.engine import durability as D  # noqa: E402
from game.engine import scoring as S  # noqa: E402
from game.engine.scenario import Scenario  # noqa: E402

DEFAULT_JSON = ROOT / "game" / "scenarios" / "default.json"
DOC = ROOT / "docs" / "durability.md"
# Generated blocks in docs/durability.md sit between "<!-- generated:NAME -->" and END.
END = "<!-- /generated -->"
WORKED_ROLE = "ukraine"
MINSK_II = {  # Minsk II (Feb 2015) coded in the model's terms: see docs/durability.md
    "ukraine_rejection": 0.6,
    "russia_revanchism": 0.5,
    "guarantee_credibility": 0.0,
    "deterrence_gap": 0.0,
    "agreement_strength": 4.0,
    "border_unsettled": 1.0,
}


def load() -> Scenario:
    return Scenario.from_dict(json.loads(DEFAULT_JSON.read_text(encoding="utf-8")))


def packages(sc: Scenario) -> list[dict[str, str]]:
    return [
        dict(zip(sc.issue_keys, combo, strict=True))
        for combo in itertools.product(*[[o.key for o in i.options] for i in sc.issues])
    ]


def has_points(sc: Scenario) -> bool:
    return all(set(sc.role_keys) <= set(o.points) for i in sc.issues for o in i.options) and any(
        v for i in sc.issues for o in i.options for v in o.points.values()
    )


def maxima(sc: Scenario, role: str) -> list[dict[str, str]]:
    """Every package that gives the role its maximum points (usually exactly one)."""
    pk = packages(sc)
    pts = [S.points(sc, role, t) for t in pk]
    top = max(pts)
    return [t for t, p in zip(pk, pts, strict=True) if p == top]


def totals(sc: Scenario, terms: dict[str, str]) -> dict[str, float]:
    dur = D.evaluate(sc, terms)
    return {r: s.total for r, s in S.scores(sc, terms, dur).items()}


def best_compromise(sc: Scenario) -> dict[str, str]:
    nd = {r.key: r.no_deal_value for r in sc.roles}

    def nash(t: dict[str, str]) -> float:
        gains = [v - nd[r] for r, v in totals(sc, t).items()]
        return math.prod(gains) if all(g > 0 for g in gains) else -math.inf

    pk = packages(sc)
    best = max(pk, key=nash)
    if nash(best) == -math.inf:
        best = max(pk, key=lambda t: min(totals(sc, t).values()))
    return best


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    sc = load()
    assert has_points(sc), "default.json has no points: the lesson needs every role's points"
    return sc


def test_the_best_compromise_is_neither_sides_maximum(scenario):
    best = best_compromise(scenario)
    assert best not in maxima(scenario, "russia")
    assert best not in maxima(scenario, "ukraine")


@pytest.mark.parametrize("side", ["russia", "ukraine"])
def test_a_sides_maximum_holds_less_well_than_the_best_compromise(scenario, side):
    best = D.evaluate(scenario, best_compromise(scenario))
    for terms in maxima(scenario, side):
        d = D.evaluate(scenario, terms)
        assert d.expected_peace < best.expected_peace, terms
        assert d.p_hold < best.p_hold, terms


def test_the_generated_numbers_in_docs_durability_md_are_up_to_date(scenario):
    text = DOC.read_text(encoding="utf-8")
    for name, block in blocks(scenario).items():
        begin = _begin(name)
        assert begin in text, f"docs/durability.md lacks the block {begin}"
        current = text.split(begin, 1)[1].split(END, 1)[0].strip()
        assert current == block.strip(), (
            f"docs/durability.md block {name!r} is stale: run "
            "python tests/engine/test_default_scenario_lesson.py --write"
        )


# -- the generated part of docs/durability.md -----------------------------------------------


def _label(sc: Scenario, terms: dict[str, str]) -> str:
    return "; ".join(sc.issue(i).option(o).label or o for i, o in terms.items())


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def render_lesson(sc: Scenario) -> str:
    rows = [
        ("Russia's maximum", maxima(sc, "russia")[0]),
        ("Ukraine's maximum", maxima(sc, "ukraine")[0]),
        ("Best compromise", best_compromise(sc)),
    ]
    roles = list(sc.roles)
    out = []
    out.append("#### The three packages\n")
    for name, terms in rows:
        out.append(f"- **{name}**: {_label(sc, terms)} (`{'`, `'.join(terms.values())}`)")
    out.append("")
    head = "| Package | Holds 3 years | Holds 10 years | Expected peace | " + " | ".join(
        f"{r.name}: tactical → total" for r in roles
    )
    out.append(head + " |")
    out.append("|---" * (4 + len(roles)) + "|")
    for name, terms in rows:
        dur = D.evaluate(sc, terms)
        sc_ = S.scores(sc, terms, dur)
        cells = [
            name,
            _pct(dur.survival[2]),
            _pct(dur.p_hold),
            _pct(dur.expected_peace),
            *(f"{sc_[r.key].tactical:.0f} → {sc_[r.key].total:.0f}" for r in roles),
        ]
        out.append("| " + " | ".join(cells) + " |")
    out.append(
        "| No deal | n/a | n/a | 0% | " + " | ".join(f"n/a → {r.no_deal_value:.0f}" for r in roles) + " |"
    )
    out.append("")
    maximin = max(packages(sc), key=lambda t: min(totals(sc, t).values()))
    same = "is also" if maximin == rows[2][1] else "is not"
    out.append(
        f"The best compromise {same} the package that maximises the lowest total"
        + ("." if maximin == rows[2][1] else f" ({_label(sc, maximin)}).")
    )
    out.append("")
    out.append("#### Each role's best package by total\n")
    out.append("| Role | Best total comes from | Its total | Total at its own maximum points |")
    out.append("|---|---|---|---|")
    pk = packages(sc)
    all_totals = [totals(sc, t) for t in pk]
    for r in roles:
        i = max(range(len(pk)), key=lambda i: all_totals[i][r.key])
        own = maxima(sc, r.key)[0]
        out.append(
            f"| {r.name} | {_label(sc, pk[i])} | {all_totals[i][r.key]:.0f} | {totals(sc, own)[r.key]:.0f} |"
        )
    out.append("")
    out.append("#### What drives each package (hazard ratio, averaged over the ten years)\n")
    keys = [f.key for f in sc.model.factors]
    out.append("| Factor | " + " | ".join(name for name, _ in rows) + " |")
    out.append("|---" * (1 + len(rows)) + "|")
    evals = [{f.key: f for f in D.evaluate(sc, t).factors} for _, t in rows]
    for k, f in zip(keys, sc.model.factors, strict=True):
        cells = [f"x{e[k].hazard_ratio:.2f} (value {e[k].value:.2f})" for e in evals]
        out.append(f"| {f.label} | " + " | ".join(cells) + " |")
    out.append("")
    # worked example of the score
    name, terms = rows[2]
    dur = D.evaluate(sc, terms)
    role = sc.role(WORKED_ROLE)
    values = S.role_values(sc, role.key)
    raw = S.points(sc, role.key, terms)
    worst = sum(min(v.values()) for v in values.values())
    best = sum(max(v.values()) for v in values.values())
    tac = S.tactical(sc, role.key, terms)
    d = dur.expected_peace
    total = S.score(sc, role.key, terms, dur).total
    parts = " + ".join(f"{values[i][o]:g}" for i, o in terms.items())
    out.append(f"#### Worked example: {role.name} and the best compromise\n")
    out.append(
        f"1. Points: {parts} = **{raw:g}**. {role.name}'s worst package scores {worst:g}, its best {best:g}."
    )
    out.append(f"2. Tactical = 100 x ({raw:g} - {worst:g}) / ({best:g} - {worst:g}) = **{tac:.1f}**.")
    out.append(
        "3. Durability: the survival curve is "
        + ", ".join(f"{s:.2f}" for s in dur.survival)
        + f"; its mean D = **{d:.3f}** (durability score {100 * d:.1f})."
    )
    out.append(
        f"4. Total = tactical x D + no-deal value x (1 - D) = {tac:.1f} x {d:.3f} + "
        f"{role.no_deal_value:g} x {1 - d:.3f} = **{total:.1f}**."
    )
    out.append("")
    # Minsk sanity check
    _, surv = D.evaluator(sc).curve(MINSK_II)
    median = next((t + 1 for t, s in enumerate(surv) if s < 0.5), None)
    out.append("#### Sanity check: Minsk II\n")
    out.append(
        "Minsk II coded in the model's terms ("
        + ", ".join(f"`{k}` {v:g}" for k, v in MINSK_II.items())
        + f") gets a {_pct(surv[0])} chance of lasting one year, {_pct(surv[2])} three years, "
        f"{_pct(surv[6])} seven years and {_pct(surv[-1])} ten years; the median time to collapse is year "
        f"{median}. The real agreement froze into daily violations and was torn up in February 2022, "
        "seven years on."
    )
    return "\n".join(out) + "\n"


def _begin(name: str) -> str:
    return f"<!-- generated:{name} -->"


def _direction(beta: float) -> str:
    return "higher value, more risk" if beta > 0 else "higher value, less risk"


def _time(f) -> str:
    if f.time == "ramp":
        full = math.ceil((1 - f.time_start) / f.time_rate) + 1 if f.time_rate > 0 else None
        return f"ramp: weight {f.time_start:g} in year 1, +{f.time_rate:g} a year, full from year {full}"
    if f.time == "decay":
        w10 = (1 - f.time_rate) ** 9
        return f"decay: weight falls {100 * f.time_rate:g}% a year ({w10:.2f} in year 10)"
    return "constant"


def render_calibration(sc: Scenario) -> str:
    m = sc.model
    ev = D.evaluator(sc)
    vals = [ev.values(t) for t in packages(sc)]
    out = [
        f"Baseline yearly risk h0 = {m.baseline_hazard:g} x {m.baseline_decay:g}^(year - 1); "
        f"fixed context x{math.exp(m.context_log_hr):.2f} ({m.context_label}).",
        "",
        "| Factor | Direction | Hazard ratio at full weight | Range over the 125 packages | Time profile | Source |",
        "|---|---|---|---|---|---|",
    ]
    for i, f in enumerate(m.factors):
        lo_hr = math.exp(f.beta * (f.lo - f.centre))
        hi_hr = math.exp(f.beta * (f.hi - f.centre))
        xs = [v[i] for v in vals]
        a, b = min(xs), max(xs)
        out.append(
            f"| **{f.label}** (`{f.key}`) | {_direction(f.beta)} | "
            f"x{lo_hr:.2f} at {f.lo:g} to x{hi_hr:.2f} at {f.hi:g} (x1 at {f.centre:g}) | "
            f"{a:.2f} to {b:.2f}: x{math.exp(f.beta * (a - f.centre)):.2f} to x{math.exp(f.beta * (b - f.centre)):.2f} | "
            f"{_time(f)} | {f.source} |"
        )
    return "\n".join(out) + "\n"


def render_options(sc: Scenario) -> str:
    keys = [f.key for f in sc.model.factors]
    defaults = {f.key: f.default for f in sc.model.factors}
    out = [
        "| Issue | Option | " + " | ".join(f"`{k}`" for k in keys) + " |",
        "|---|---" + "|---" * len(keys) + "|",
    ]
    for issue in sc.issues:
        for o in issue.options:
            cells = [f"{o.loadings[k]:g}" if k in o.loadings else f"({defaults[k]:g})" for k in keys]
            out.append(f"| {issue.name} | {o.label or o.key} (`{o.key}`) | " + " | ".join(cells) + " |")
    out += ["", "| News | Effect on factor values |", "|---|---|"]
    for n in sc.news:
        eff = ", ".join(f"`{k}` {v:+g}" for k, v in n.factor_effects.items()) or "none"
        out.append(f"| {n.headline or n.key} (`{n.key}`) | {eff} |")
    return "\n".join(out) + "\n"


def blocks(sc: Scenario) -> dict[str, str]:
    return {"calibration": render_calibration(sc), "options": render_options(sc), "lesson": render_lesson(sc)}


def write() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, block in blocks(load()).items():
        begin = _begin(name)
        head, rest = text.split(begin, 1)
        _, tail = rest.split(END, 1)
        text = f"{head}{begin}\n\n{block.strip()}\n\n{END}{tail}"
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv:
        write()
    else:
        for name, block in blocks(load()).items():
            print(f"{_begin(name)}\n\n{block}")
