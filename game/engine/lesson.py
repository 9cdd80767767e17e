"""Does the scenario teach the article's lesson? Checks that run on any scenario, and a
mutation test that shows the checks would catch a wrong model.

Two kinds of checks:

- **Score checks** (:func:`score_checks`, for every scenario): over every package that can be
  agreed, without news,

  1. *greed does not pay*: for every role that is a party to the war (not a mediator), its
     total at its greediest package (the most
     tactical points for it) is lower than its total at the compromise (the package that
     maximises the lowest total across roles) and lower than its median total over the packages
     that every role prefers to no deal;
  2. each role's best total lies at a package in the top third by durability (D);
  3. *the negotiation stays real*: no single package is the best total for every role, and
     among the top third by durability at least one pair of roles ranks the packages
     differently (Kendall's tau below 0.3);
  4. *tactical points still count*: between two packages whose D differs by less than 2
     points, the one that gives a role at least 10 more tactical points gives it the higher
     total;
  5. totals stay within 0-100, and no deal scores each role its no-deal value.

- **Model checks** (:func:`model_checks`), written for one scenario in a checks file beside it
  (``game/scenarios/<slug>.checks.json``): each factor's direction on a named pair of packages,
  each factor's time profile on a named package, and absolute anchors from history (a
  Minsk-like package must collapse within seven years with probability at least 0.75, ...).

:func:`mutants` makes wrong models from a scenario's model: for each factor, its sign flipped,
the factor dropped, its time profile swapped for each other one; and the fixed context's
hazard ratio doubled and halved. :func:`mutation_report` runs every check on every mutant:
a mutant that passes all of them would have gone unnoticed.

Pure Python: no Django here.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import statistics
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import durability as D
from . import scoring as S
from .backtest import kendall_tau
from .scenario import Factor, Model, Scenario

TOP_SHARE = 1 / 3
TAU_LIMIT = 0.3
D_BAND = 0.02  # "durability differs by less than 2 points"
TAC_GAP = 10.0
EPS = 1e-9


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


# -- score checks ---------------------------------------------------------------------------------


def score_checks(scenario: Scenario, news: Sequence[str] = ()) -> list[Check]:
    rows = S.package_table(scenario, news)
    roles = scenario.role_keys
    names = {r.key: r.name for r in scenario.roles}
    nd = {r.key: r.no_deal_value for r in scenario.roles}
    out: list[Check] = []
    comp = S.compromise(scenario, news)
    plus = [p for p in rows if all(p.total[r] > nd[r] for r in roles)]
    n_top = max(1, math.ceil(len(rows) * TOP_SHARE))
    top = sorted(rows, key=lambda p: -p.expected_peace)[:n_top]
    top_ids = {id(p) for p in top}
    for r in roles:
        if scenario.role(r).mediator:  # type: ignore[union-attr]
            # A mediator is not a party to the war: its own maximum is the settlement it would
            # broker, which the parties still have to sign. The greed check is about the parties.
            continue
        g = S.greediest(scenario, r, news)
        med = statistics.median(p.total[r] for p in plus) if plus else math.nan
        ok = g.total[r] < comp.total[r] - EPS and (not plus or g.total[r] < med - EPS)
        out.append(
            Check(
                f"greed does not pay: {names[r]}",
                bool(ok),
                f"greediest package {g.total[r]:.1f} (tactical {g.tactical[r]:.0f}, D {100 * g.expected_peace:.0f}); "
                f"compromise {comp.total[r]:.1f}; median over the {len(plus)} packages all prefer to no deal {med:.1f}",
            )
        )
    for r in roles:
        best = max(rows, key=lambda p: p.total[r])
        rank = sorted(rows, key=lambda p: -p.expected_peace).index(best) + 1
        out.append(
            Check(
                f"best total among the most durable third: {names[r]}",
                id(best) in top_ids,
                f"best total {best.total[r]:.1f} at a package ranked {rank} of {len(rows)} by durability",
            )
        )
    bests = {id(max(rows, key=lambda p: p.total[r])) for r in roles}
    out.append(
        Check(
            "no single package is the best for every role",
            len(bests) > 1,
            f"{len(bests)} different best packages for {len(roles)} roles",
        )
    )
    taus = [
        (kendall_tau([p.total[a] for p in top], [p.total[b] for p in top]), a, b)
        for a, b in itertools.combinations(roles, 2)
    ]
    tau, a, b = min(taus) if taus else (math.nan, "", "")
    out.append(
        Check(
            "the roles disagree among the durable packages",
            tau < TAU_LIMIT,
            f"lowest Kendall tau among the top third: {tau:.2f} ({names.get(a, a)} against {names.get(b, b)})",
        )
    )
    worst_gap = None
    bad = 0
    for r in roles:
        srt = sorted(rows, key=lambda p: p.expected_peace)
        for i, p in enumerate(srt):
            for q in srt[i + 1 :]:
                if q.expected_peace - p.expected_peace >= D_BAND:
                    break
                for hi, lo in ((p, q), (q, p)):
                    if hi.tactical[r] >= lo.tactical[r] + TAC_GAP and not hi.total[r] > lo.total[r]:
                        bad += 1
                        gap = hi.total[r] - lo.total[r]
                        worst_gap = gap if worst_gap is None else min(worst_gap, gap)
    out.append(
        Check(
            "tactical points still count",
            bad == 0,
            f"{bad} pairs where 10 more tactical points within 2 points of durability did not raise the total"
            + (f" (worst {worst_gap:.2f})" if bad else ""),
        )
    )
    totals = [p.total[r] for p in rows for r in roles]
    no_deal = S.outcome(scenario, None, news)["scores"]
    nd_ok = all(abs(no_deal[r]["total"] - nd[r]) < 1e-6 for r in roles)
    out.append(
        Check(
            "totals stay within 0-100 and no deal scores the no-deal value",
            min(totals) >= -EPS and max(totals) <= 100 + EPS and nd_ok,
            f"totals from {min(totals):.1f} to {max(totals):.1f}; no deal as its value: {nd_ok}",
        )
    )
    return out


# -- model checks ---------------------------------------------------------------------------------


def _factor_effect(scenario: Scenario, terms: Mapping[str, str], key: str) -> D.FactorEffect | None:
    for f in D.evaluate(scenario, terms).factors:
        if f.key == key:
            return f
    return None


def _metric(d: D.Durability, metric: str) -> float:
    if metric == "p_hold":
        return d.p_hold
    if metric == "expected_peace":
        return d.expected_peace
    if metric.startswith("survival_year_"):
        return d.survival[int(metric.rsplit("_", 1)[1]) - 1]
    raise ValueError(f"unknown metric {metric!r}")


def model_checks(scenario: Scenario, spec: Mapping[str, Any]) -> list[Check]:
    """The scenario's own checks (see the module docstring); ``spec`` is its checks file."""
    out: list[Check] = []
    named: dict[str, dict[str, str]] = {k: dict(v) for k, v in spec.get("packages", {}).items()}

    def terms(ref: Any) -> dict[str, str]:
        return named[ref] if isinstance(ref, str) else dict(ref)

    for c in spec.get("directions", ()):
        k = c["factor"]
        a = _factor_effect(scenario, terms(c["riskier"]), k)
        b = _factor_effect(scenario, terms(c["safer"]), k)
        ok = a is not None and b is not None and a.effect > b.effect + 1e-6
        out.append(
            Check(
                f"direction of {k}: {c['riskier']} riskier than {c['safer']}",
                ok,
                (f"x{a.hazard_ratio:.2f} against x{b.hazard_ratio:.2f}" if a and b else "factor missing")
                + f": {c.get('why', '')}",
            )
        )
    for c in spec.get("time_profiles", ()):
        f = _factor_effect(scenario, terms(c["package"]), c["factor"])
        out.append(
            _trend_check(f"time profile of {c['factor']}: {c['trend']}", f, c["trend"], c.get("why", ""))
        )
    for c in spec.get("anchors", ()):
        d = D.evaluate(scenario, terms(c["package"]))
        v = _metric(d, c["metric"])
        lo, hi = c.get("min", -math.inf), c.get("max", math.inf)
        out.append(
            Check(
                f"anchor: {c['package']} {c['metric']}",
                lo <= v <= hi,
                f"{v:.3f} (allowed {lo:g} to {hi:g}): {c.get('why', '')}",
            )
        )
    for c in spec.get("orders", ()):
        better = D.evaluate(scenario, terms(c["better"]))
        worse = D.evaluate(scenario, terms(c["worse"]))
        for metric in c.get("metrics", ("expected_peace", "p_hold")):
            vb, vw = _metric(better, metric), _metric(worse, metric)
            out.append(
                Check(
                    f"order: {c['better']} holds better than {c['worse']} ({metric})",
                    vb > vw,
                    f"{vb:.3f} against {vw:.3f}: {c.get('why', '')}",
                )
            )
    return out


def _trend_check(name: str, f: D.FactorEffect | None, trend: str, why: str) -> Check:
    """Does the factor's effect grow (ramp), fade (decay) or stay steady (constant) over the years?"""
    if f is None or not f.yearly:
        return Check(name, False, "factor missing")
    ln = [abs(math.log(x)) for x in f.yearly]
    first, mid, last = ln[0], ln[min(4, len(ln) - 1)], ln[-1]
    if trend == "grows":
        ok = mid > first * 1.05 and last >= mid - 1e-9
    elif trend == "fades":
        ok = last < first * 0.95 and first > 1e-6
    else:  # steady
        ok = first > 1e-6 and abs(last - first) <= 1e-6 * max(1.0, first)
    return Check(
        name, ok, f"|log hazard ratio| year 1 {first:.3f}, year 5 {mid:.3f}, last year {last:.3f}: {why}"
    )


def check_spec(scenario: Scenario, spec: Any) -> list[str]:
    """Problems with a checks file against its scenario (empty when it can be run)."""
    problems: list[str] = []
    if not isinstance(spec, Mapping):
        return ["A checks file must be a JSON object."]
    factor_keys = {f.key for f in scenario.model.factors}
    named = spec.get("packages", {})
    if not isinstance(named, Mapping):
        return ["packages must be an object of named packages."]
    for name, t in named.items():
        if not isinstance(t, Mapping):
            problems.append(f"package {name!r} must map issues to options.")
            continue
        try:
            D.evaluator(scenario)._chosen(t)
        except ValueError as e:
            problems.append(f"package {name!r}: {e}")

    def ref_ok(ref: Any, where: str) -> None:
        if isinstance(ref, str) and ref not in named:
            problems.append(f"{where} names the unknown package {ref!r}.")

    for n, c in enumerate(spec.get("directions", ())):
        if c.get("factor") not in factor_keys:
            problems.append(f"directions #{n + 1}: unknown factor {c.get('factor')!r}.")
        ref_ok(c.get("riskier"), f"directions #{n + 1}")
        ref_ok(c.get("safer"), f"directions #{n + 1}")
    for n, c in enumerate(spec.get("time_profiles", ())):
        if c.get("factor") not in factor_keys:
            problems.append(f"time_profiles #{n + 1}: unknown factor {c.get('factor')!r}.")
        if c.get("trend") not in ("grows", "fades", "steady"):
            problems.append(f"time_profiles #{n + 1}: trend must be grows, fades or steady.")
        ref_ok(c.get("package"), f"time_profiles #{n + 1}")
    for n, c in enumerate(spec.get("anchors", ())):
        ref_ok(c.get("package"), f"anchors #{n + 1}")
    for n, c in enumerate(spec.get("history_time_profiles", ())):
        if c.get("factor") not in factor_keys:
            problems.append(f"history_time_profiles #{n + 1}: unknown factor {c.get('factor')!r}.")
        if c.get("trend") not in ("grows", "fades", "steady"):
            problems.append(f"history_time_profiles #{n + 1}: trend must be grows, fades or steady.")
    for n, c in enumerate(spec.get("orders", ())):
        ref_ok(c.get("better"), f"orders #{n + 1}")
        ref_ok(c.get("worse"), f"orders #{n + 1}")
    return problems


def history_checks(scenario: Scenario, spec: Mapping[str, Any], cases: Any) -> list[Check]:
    """Anchors on real cases of the backtest (``spec["history"]``), and the backtest's own
    figures (``spec["backtest"]``: a floor for Harrell's C, and a Brier score better than the
    constant-rate baseline), run with this scenario's model."""
    from .backtest import parse_cases, run

    report = run(scenario, parse_cases(cases, scenario, lenient=True))
    by_key = {r["key"]: r for r in report["cases"]}
    out: list[Check] = []
    for c in spec.get("history", ()):
        row = by_key[c["case"]]
        metric = c["metric"]
        index = -1 if metric == "p_hold" else int(metric.rsplit("_", 1)[1]) - 1
        v = row["survival"][index]
        lo, hi = c.get("min", -math.inf), c.get("max", math.inf)
        out.append(
            Check(
                f"history: {row['name']} {metric}",
                lo <= v <= hi,
                f"{v:.3f} (allowed {lo:g} to {hi:g}): {c.get('why', '')}",
            )
        )
    cases_by_key = {c.key: c for c in parse_cases(cases, scenario, lenient=True).cases}
    ev = D.Evaluator(scenario, cache_size=0)
    for c in spec.get("history_time_profiles", ()):
        case = cases_by_key[c["case"]]
        raw = [case.values.get(k, ev.centres[i]) for i, k in enumerate(ev.factor_keys)]
        dur, _ = ev._compute_raw(raw, [], ())
        f = next((f for f in dur.factors if f.key == c["factor"]), None)
        out.append(
            _trend_check(
                f"history: time profile of {c['factor']} in {case.name}", f, c["trend"], c.get("why", "")
            )
        )
    bt = spec.get("backtest")
    if bt:
        f = report["figures"]["all"]
        out.append(
            Check(
                "backtest: concordance",
                f["c_index"] >= bt.get("c_index_min", 0.5),
                f"Harrell's C {f['c_index']:.3f} (floor {bt.get('c_index_min', 0.5)})",
            )
        )
        out.append(
            Check(
                "backtest: better than a constant rate",
                f["brier"] < f["brier_baseline"],
                f"Brier {f['brier']:.3f} against {f['brier_baseline']:.3f}",
            )
        )
    return out


def all_checks(scenario: Scenario, spec: Mapping[str, Any] | None, cases: Any = None) -> list[Check]:
    out = score_checks(scenario)
    if spec:
        out += model_checks(scenario, spec)
        if cases is not None:
            out += history_checks(scenario, spec, cases)
    return out


# -- mutants --------------------------------------------------------------------------------------

_PROFILES = {
    "constant": {"time": "constant", "time_rate": 0.0, "time_start": 1.0},
    "ramp": {"time": "ramp", "time_rate": 0.125, "time_start": 0.5},
    "decay": {"time": "decay", "time_rate": 0.1, "time_start": 1.0},
}


def _with_factors(scenario: Scenario, factors: Sequence[Factor], context: float | None = None) -> Scenario:
    model: Model = dataclasses.replace(
        scenario.model,
        factors=tuple(factors),
        context_log_hr=scenario.model.context_log_hr if context is None else context,
    )
    return dataclasses.replace(scenario, model=model)


def _drop(scenario: Scenario, key: str) -> Scenario:
    """The scenario without factor ``key``: loadings, news effects, couplings, acceptance and
    moderation that named it are dropped with it."""
    factors = [
        dataclasses.replace(
            f,
            coupling={k: v for k, v in f.coupling.items() if k != key},
            accepted_by=tuple(k for k in f.accepted_by if k != key),
            moderator="" if f.moderator == key else f.moderator,
        )
        for f in scenario.model.factors
        if f.key != key
    ]
    issues = tuple(
        dataclasses.replace(
            i,
            options=tuple(
                dataclasses.replace(o, loadings={k: v for k, v in o.loadings.items() if k != key})
                for o in i.options
            ),
        )
        for i in scenario.issues
    )
    news = tuple(
        dataclasses.replace(n, factor_effects={k: v for k, v in n.factor_effects.items() if k != key})
        for n in scenario.news
    )
    return dataclasses.replace(_with_factors(scenario, factors), issues=issues, news=news)


def mutants(scenario: Scenario) -> Iterator[tuple[str, Scenario]]:
    """Wrong models: each factor's sign flipped, the factor dropped, its time profile swapped
    for each other one; the fixed context's hazard ratio doubled and halved."""
    factors = scenario.model.factors
    for i, f in enumerate(factors):
        flipped = list(factors)
        flipped[i] = dataclasses.replace(f, beta=-f.beta)
        yield f"{f.key}: sign flipped", _with_factors(scenario, flipped)
        yield f"{f.key}: dropped", _drop(scenario, f.key)
        for name, profile in _PROFILES.items():
            if name == f.time:
                continue
            swapped = list(factors)
            swapped[i] = dataclasses.replace(f, **profile)
            yield f"{f.key}: time profile {f.time} -> {name}", _with_factors(scenario, swapped)
    ctx = scenario.model.context_log_hr
    yield "fixed context x2", _with_factors(scenario, factors, ctx + math.log(2))
    yield "fixed context x0.5", _with_factors(scenario, factors, ctx - math.log(2))


@dataclass(frozen=True)
class MutantResult:
    name: str
    killed: bool
    failed: tuple[str, ...]  # the checks that caught it


def mutation_report(
    scenario: Scenario, spec: Mapping[str, Any] | None, cases: Any = None
) -> list[MutantResult]:
    out = []
    for name, m in mutants(scenario):
        try:
            failed = tuple(c.name for c in all_checks(m, spec, cases) if not c.passed)
        except (ValueError, KeyError, ZeroDivisionError) as e:  # a mutant the checks cannot even run on
            failed = (f"error: {e}",)
        out.append(MutantResult(name, bool(failed), failed))
    return out
