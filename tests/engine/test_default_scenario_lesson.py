"""The numbers in docs/durability.md and docs/backtest.md come from the code, and stay current.

``python tests/engine/test_default_scenario_lesson.py`` prints the generated blocks and
``python tests/engine/test_default_scenario_lesson.py --write`` rewrites them in the docs; the
tests below fail when a block is stale. The checks themselves live in game/engine/lesson.py
and run in tests/engine/test_lesson.py.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # when run as a script
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from game.engine import backtest as B  # noqa: E402
from game.engine import durability as D  # noqa: E402
from game.engine import lesson as L  # noqa: E402
from game.engine import scoring as S  # noqa: E402
from game.engine.scenario import Scenario, packages  # noqa: E402

DEFAULT_JSON = ROOT / "game" / "scenarios" / "default.json"
CHECKS_JSON = ROOT / "game" / "scenarios" / "default.checks.json"
CASES_JSON = ROOT / "game" / "backtest" / "cases.json"
DURABILITY_DOC = ROOT / "docs" / "durability.md"
BACKTEST_DOC = ROOT / "docs" / "backtest.md"
END = "<!-- /generated -->"
WORKED_ROLE = "ukraine"


def load(slug: str = "default") -> Scenario:
    return Scenario.from_dict(
        json.loads((ROOT / "game" / "scenarios" / f"{slug}.json").read_text(encoding="utf-8"))
    )


def spec(slug: str = "default") -> dict:
    return json.loads((ROOT / "game" / "scenarios" / f"{slug}.checks.json").read_text(encoding="utf-8"))


def cases() -> dict:
    return json.loads(CASES_JSON.read_text(encoding="utf-8"))


def _label(sc: Scenario, terms: dict[str, str]) -> str:
    return "; ".join(sc.issue(i).option(o).label or o for i, o in terms.items())


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _begin(name: str) -> str:
    return f"<!-- generated:{name} -->"


# -- docs/durability.md ---------------------------------------------------------------------------


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


def _interactions(sc: Scenario, f) -> str:
    parts = []
    if f.accepted_by:
        parts.append(
            "counts only as far as both sides accept the terms ("
            + ", ".join(f"`{k}`" for k in f.accepted_by)
            + ")"
        )
    if f.moderator:
        parts.append(f"scaled by `{f.moderator}` relative to its centre")
    if f.coupling:
        parts.append("; ".join(f"{v:+g} x `{k}`" for k, v in f.coupling.items()))
    if f.base:
        parts.append(f"starts at {f.base:g} before the options")
    return "; ".join(parts) or "none"


def render_calibration(sc: Scenario) -> str:
    m = sc.model
    ev = D.evaluator(sc)
    pk = packages(sc)
    effects = [{f.key: f for f in ev.evaluate(t).factors} for t in pk]
    out = [
        f"Baseline yearly risk h0 = {m.baseline_hazard:g} x {m.baseline_decay:g}^(year - 1); "
        f"fixed context x{math.exp(m.context_log_hr):.2f} ({m.context_label}). "
        f"Sides: the implementer is {sc.role(m.sides['implementer']).name}, the challenger "
        f"{sc.role(m.sides['challenger']).name}.",
        "",
        f"| Factor | Direction | Hazard ratio at full weight | Averaged over the years, over the {len(pk)} packages | Time profile | Interactions | Source |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in m.factors:
        lo_hr = math.exp(f.beta * (f.lo - f.centre))
        hi_hr = math.exp(f.beta * (f.hi - f.centre))
        hrs = [e[f.key].hazard_ratio for e in effects]
        out.append(
            f"| **{sc.say(f.label)}** (`{f.key}`) | {_direction(f.beta)} | "
            f"x{lo_hr:.2f} at {f.lo:g} to x{hi_hr:.2f} at {f.hi:g} (x1 at {f.centre:g}) | "
            f"x{min(hrs):.2f} to x{max(hrs):.2f} | {_time(f)} | {_interactions(sc, f)} | {f.source} |"
        )
    return "\n".join(out) + "\n"


def render_options(sc: Scenario) -> str:
    keys = [f.key for f in sc.model.factors]
    defaults = {f.key: f.default for f in sc.model.factors}
    out = [
        "| Issue | Option | " + " | ".join(f"`{k}`" for k in keys) + " | Excludes |",
        "|---|---" + "|---" * len(keys) + "|---|",
    ]
    for issue in sc.issues:
        for o in issue.options:
            cells = [f"{o.loadings[k]:g}" if k in o.loadings else f"({defaults[k]:g})" for k in keys]
            ex = ", ".join(f"`{r}`" for r in o.excludes) or ""
            out.append(
                f"| {issue.name} | {o.label or o.key} (`{o.key}`) | " + " | ".join(cells) + f" | {ex} |"
            )
    out += ["", "| News | Effect on factor values |", "|---|---|"]
    for n in sc.news:
        eff = ", ".join(f"`{k}` {v:+g}" for k, v in n.factor_effects.items()) or "none"
        out.append(f"| {n.headline or n.key} (`{n.key}`) | {eff} |")
    return "\n".join(out) + "\n"


def _possessive(name: str) -> str:
    if name.endswith(")"):
        return f"the {name}"
    return f"{name}'" if name.endswith("s") else f"{name}'s"


EXTRA_ROWS = {"default": (("Minsk-like", "minsk_like"),), "karabakh": (("The frozen line", "frozen"),)}


def named_packages(sc: Scenario) -> list[tuple[str, dict[str, str]]]:
    rows = [
        (
            f"{_possessive(r.name)} maximum" if not r.name.endswith(")") else f"Maximum of {r.name}",
            S.greediest(sc, r.key).terms,
        )
        for r in sc.roles
    ]
    rows.append(("The compromise", S.compromise(sc).terms))
    for label, key in EXTRA_ROWS.get(sc.slug, ()):
        rows.append((label, spec(sc.slug)["packages"][key]))
    return rows


def _spearman(xs, ys) -> float:
    return B.spearman(xs, ys)


def render_lesson(sc: Scenario) -> str:
    roles = list(sc.roles)
    rows = named_packages(sc)
    table = S.package_table(sc)
    out = ["#### The packages that tell the lesson\n"]
    for name, terms in rows:
        out.append(f"- **{name}**: {_label(sc, terms)} (`{'`, `'.join(terms.values())}`)")
    out.append("")
    out.append(
        "| Package | Holds 3 years | Holds 10 years | Expected peace D | "
        + " | ".join(f"{r.name}: tactical → total" for r in roles)
        + " |"
    )
    out.append("|---" * (4 + len(roles)) + "|")
    for name, terms in rows:
        dur = D.evaluate(sc, terms)
        sc_ = S.scores(sc, terms, dur)
        cells = [
            name,
            _pct(dur.survival[2]),
            _pct(dur.p_hold),
            _pct(dur.expected_peace),
            *(f"{sc_[r.key].tactical:.0f} → {sc_[r.key].total:.1f}" for r in roles),
        ]
        out.append("| " + " | ".join(cells) + " |")
    nd_dur = D.no_deal(sc)
    out.append(
        f"| No deal | {_pct(nd_dur.survival[2]) if nd_dur.p_hold else 'n/a'} | "
        f"{_pct(nd_dur.p_hold) if nd_dur.p_hold else 'n/a'} | {_pct(nd_dur.expected_peace)} | "
        + " | ".join(f"n/a → {r.no_deal_value:.0f}" for r in roles)
        + " |"
    )
    out.append("")
    nd = {r.key: r.no_deal_value for r in roles}
    plus = [p for p in table if all(p.total[r] > nd[r] for r in nd)]
    out.append("#### Greed against the compromise, role by role\n")
    out.append(
        f"Over all {len(table)} packages that can be agreed ({len(plus)} of them better than no deal for every role):\n"
    )
    out.append(
        "| Role | Total at its own maximum | Total at the compromise | Median total over the packages all prefer to no deal | Its best total (tactical, D) | Spearman(tactical, total) |"
    )
    out.append("|---|---|---|---|---|---|")
    for r in roles:
        g = S.greediest(sc, r.key)
        comp = S.compromise(sc)
        med = statistics.median(p.total[r.key] for p in plus) if plus else math.nan
        best = max(table, key=lambda p: p.total[r.key])
        rho = _spearman([p.tactical[r.key] for p in table], [p.total[r.key] for p in table])
        out.append(
            f"| {r.name}{' (mediator)' if r.mediator else ''} | {g.total[r.key]:.1f} | {comp.total[r.key]:.1f} | {med:.1f} | "
            f"{best.total[r.key]:.1f} ({best.tactical[r.key]:.0f}, {100 * best.expected_peace:.0f}%) | {rho:.2f} |"
        )
    out.append("")
    out.append("#### What drives each package (hazard ratio, averaged over the ten years)\n")
    out.append("| Factor | " + " | ".join(name for name, _ in rows) + " |")
    out.append("|---" * (1 + len(rows)) + "|")
    evals = [{f.key: f for f in D.evaluate(sc, t).factors} for _, t in rows]
    for f in sc.model.factors:
        cells = [f"x{e[f.key].hazard_ratio:.2f}" for e in evals]
        out.append(f"| {sc.say(f.label)} | " + " | ".join(cells) + " |")
    out.append("")
    if sc.slug != "default":
        return "\n".join(out + _checks_table(sc)) + "\n"
    # worked example of the score
    terms = S.compromise(sc).terms
    dur = D.evaluate(sc, terms)
    role = sc.role(WORKED_ROLE)
    values = S.role_values(sc, role.key)
    raw = S.points(sc, role.key, terms)
    tac = S.tactical(sc, role.key, terms)
    d = dur.expected_peace
    p, rr = sc.model.peace_value, sc.model.relapse_share
    total = S.score(sc, role.key, terms, dur).total
    parts = " + ".join(f"{values[i][o]:g}" for i, o in terms.items())
    out.append(f"#### Worked example: {role.name} and the compromise\n")
    out.append(
        f"1. Points: {parts} = **{raw:g}**, which is tactical **{tac:.1f}** on {_possessive(role.name)} 0-100 scale."
    )
    out.append(
        "2. Durability: the survival curve is "
        + ", ".join(f"{s:.2f}" for s in dur.survival)
        + f"; its mean D = **{d:.3f}**: {role.name} can expect {10 * d:.1f} of the ten years at peace."
    )
    out.append(
        f"3. A year at peace pays {tac:.1f} + {p:g} = {tac + p:.1f}; a year after a collapse pays "
        f"{rr:g} x {tac:.1f} = {rr * tac:.1f}."
    )
    out.append(
        f"4. Total = 100/{100 + p:g} x ({d:.3f} x {tac + p:.1f} + {1 - d:.3f} x {rr * tac:.1f}) = **{total:.1f}**, "
        f"against {role.no_deal_value:g} for no deal and "
        f"{S.greediest(sc, role.key).total[role.key]:.1f} for {_possessive(role.name)} own maximum."
    )
    out.append("")
    # Minsk-like anchor and the mutation test
    minsk = D.evaluate(sc, spec()["packages"]["minsk_like"])
    out.append("#### Minsk, in the model and in history\n")
    report = B.run(sc, B.parse_cases(cases(), sc))
    m2 = next(r for r in report["cases"] if r["key"] == "minsk_2_2015")
    out.append(
        f"The Minsk-like package (a thin freeze, no guarantor, no monitoring, NATO left open as in 2015) "
        f"holds one year with {_pct(minsk.survival[0])}, three with {_pct(minsk.survival[2])}, seven with "
        f"{_pct(minsk.survival[6])} and ten with {_pct(minsk.p_hold)}: it collapses within seven years with "
        f"probability {_pct(1 - minsk.survival[6])}. Minsk II itself, coded from history in the backtest "
        f"(without this war's fixed context), holds seven years with {_pct(m2['survival'][6])}; it collapsed "
        f"after {m2['years']:.1f}."
    )
    out.append("")
    return "\n".join(out + _checks_table(sc)) + "\n"


def _checks_table(sc: Scenario) -> list[str]:
    out = []
    checks = L.all_checks(sc, spec(sc.slug), cases())
    muts = L.mutation_report(sc, spec(sc.slug), cases())
    out.append("#### The checks, and the wrong models they catch\n")
    out.append(
        f"{sum(c.passed for c in checks)} of {len(checks)} lesson checks pass. Of {len(muts)} mutants of the "
        f"model (each factor's sign flipped, the factor dropped, its time profile swapped for each other "
        f"one; the fixed context doubled and halved), {sum(m.killed for m in muts)} fail at least one check:"
    )
    out.append("")
    out.append("| Mutant | Caught by (first two checks that fail) |")
    out.append("|---|---|")
    for m in muts:
        out.append(f"| {m.name} | {'; '.join(m.failed[:2]) if m.killed else '**not caught**'} |")
    return out


def durability_blocks(sc: Scenario) -> dict[str, str]:
    return {"calibration": render_calibration(sc), "options": render_options(sc), "lesson": render_lesson(sc)}


# -- docs/backtest.md -----------------------------------------------------------------------------


def render_backtest_cases(sc: Scenario) -> str:
    parsed = B.parse_cases(cases(), sc)
    report = B.run(sc, parsed)
    rows = {r["key"]: r for r in report["cases"]}
    keys = [f.key for f in sc.model.factors]
    out = [
        "| Case | Signed | Set | "
        + " | ".join(f"`{k}`" for k in keys)
        + " | Predicted S1 / S3 / S10 | What happened |",
        "|---|---|---" + "|---" * len(keys) + "|---|---|",
    ]
    for c in parsed.cases:
        r = rows[c.key]
        happened = (
            f"war again after {r['years']:.1f} years ({r['renewed_war']})"
            if r["event"]
            else f"holding after {r['years']:.1f} years"
        )
        p = r["predicted"]
        out.append(
            f"| {c.name} | {c.signed.isoformat()} | {c.set.replace('_', '-')} | "
            + " | ".join(f"{c.values[k]:g}" for k in keys)
            + f" | {p['year_1']:.2f} / {p['year_3']:.2f} / {p['year_10']:.2f} | {happened} |"
        )
    return "\n".join(out) + "\n"


def render_backtest_figures(sc: Scenario) -> str:
    report = B.run(sc, B.parse_cases(cases(), sc))
    out = [
        "| Cases | n | Failed within 10 years | Harrell's C | Spearman | Brier at 10 years | Constant-rate baseline (its S10) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, f in report["figures"].items():
        out.append(
            f"| {name.replace('_', '-')} | {f['n']} | {f['failed_within_horizon']} | {f['c_index']:.3f} | "
            f"{f['spearman']:.3f} | {f['brier']:.3f} | {f['brier_baseline']:.3f} ({f['baseline_survival']:.2f}) |"
        )
    return "\n".join(out) + "\n"


def backtest_blocks(sc: Scenario) -> dict[str, str]:
    return {"backtest-figures": render_backtest_figures(sc), "backtest-cases": render_backtest_cases(sc)}


# -- tests and the writer -------------------------------------------------------------------------


def karabakh_blocks(sc: Scenario) -> dict[str, str]:
    k = load("karabakh")
    return {"karabakh-options": render_options(k), "karabakh-lesson": render_lesson(k)}


KARABAKH_DOC = ROOT / "docs" / "scenario-karabakh.md"
DOCS = ((DURABILITY_DOC, durability_blocks), (BACKTEST_DOC, backtest_blocks), (KARABAKH_DOC, karabakh_blocks))


@pytest.mark.parametrize(("doc", "make"), DOCS, ids=[d.name for d, _ in DOCS])
def test_the_generated_numbers_in_the_docs_are_up_to_date(doc, make):
    text = doc.read_text(encoding="utf-8")
    for name, block in make(load()).items():
        begin = _begin(name)
        assert begin in text, f"{doc.name} lacks the block {begin}"
        current = text.split(begin, 1)[1].split(END, 1)[0].strip()
        assert current == block.strip(), (
            f"{doc.name} block {name!r} is stale: run python tests/engine/test_default_scenario_lesson.py --write"
        )


def write() -> None:
    sc = load()
    for doc, make in DOCS:
        text = doc.read_text(encoding="utf-8")
        for name, block in make(sc).items():
            begin = _begin(name)
            head, rest = text.split(begin, 1)
            _, tail = rest.split(END, 1)
            text = f"{head}{begin}\n\n{block.strip()}\n\n{END}{tail}"
        doc.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv:
        write()
    else:
        sc = load()
        for _, make in DOCS:
            for name, block in make(sc).items():
                print(f"{_begin(name)}\n\n{block}")
