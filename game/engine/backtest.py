"""The durability model against history: real ceasefires and peace agreements since 1945.

Each case in a cases file (``game/backtest/cases.json``; the format is in ``docs/backtest.md``)
is coded in the model's own factors, with a source for every value, and carries what actually
happened: the date war resumed, or none if it still holds. :func:`run` predicts each case's
survival with a scenario's model (its factors, baseline and time profiles; not its fixed
context, which belongs to that scenario's war) and scores the predictions:

- **Harrell's C**: over every pair of cases in which one failed before the other was last seen,
  the share in which the model gave the earlier failure the lower predicted 10-year survival
  (ties count one half). Cases still holding are censored, not counted as successes of unknown
  length. 0.5 is chance, 1 is a perfect ranking.
- **Spearman** between the predicted 10-year survival and the years each case survived (to the
  renewed war, or to the date of observation for a case that holds).
- **Brier score at the horizon**: the mean squared difference between the predicted survival
  to the horizon and what happened (1 held, 0 failed), against a constant-rate baseline fitted
  to the same cases (one yearly hazard for every case: events within the horizon over years
  observed within it). Lower is better.

Pure Python: no Django here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .durability import Evaluator
from .scenario import Scenario

FORMAT = 1
SETS = ("tuning", "held_out")
YEAR_DAYS = 365.25


class CasesError(ValueError):
    """A cases file that cannot be used; the message names the case and the field at fault."""


@dataclass(frozen=True)
class Case:
    key: str
    name: str
    signed: dt.date
    renewed_war: dt.date | None
    set: str
    values: Mapping[str, float]
    sources: Mapping[str, str]
    implementer: str = ""
    challenger: str = ""
    outcome_note: str = ""

    def years(self, observed_until: dt.date) -> float:
        """Years from signing to the renewed war, or to the date of observation."""
        end = self.renewed_war or observed_until
        return (end - self.signed).days / YEAR_DAYS

    @property
    def event(self) -> bool:
        return self.renewed_war is not None


@dataclass(frozen=True)
class Cases:
    title: str
    observed_until: dt.date
    horizon_years: int
    cases: tuple[Case, ...]
    renewed_war: str = ""
    held_out_rule: str = ""


def _date(value: Any, where: str) -> dt.date:
    if not isinstance(value, str):
        raise CasesError(f"{where}: must be a date written YYYY-MM-DD.")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CasesError(f"{where}: {value!r} is not a date written YYYY-MM-DD.") from None


def parse_cases(data: Any, scenario: Scenario, *, lenient: bool = False) -> Cases:
    """Check a cases file against a scenario's model; raises :class:`CasesError` naming the
    case and the field at fault. Every factor of the model must be coded in every case, within
    its bounds, with a source. ``lenient`` ignores codes of factors the model lacks (for a
    mutant model with a factor dropped)."""
    if not isinstance(data, Mapping):
        raise CasesError("A cases file must be a JSON object.")
    if data.get("format") != FORMAT:
        raise CasesError(
            f"format: this game reads cases files of format {FORMAT}; got {data.get('format')!r}."
        )
    known = {"format", "title", "observed_until", "horizon_years", "renewed_war", "held_out_rule", "cases"}
    extra = sorted(set(data) - known)
    if extra:
        raise CasesError(f"Unknown top-level field {extra[0]!r}; the fields are {', '.join(sorted(known))}.")
    observed = _date(data.get("observed_until"), "observed_until")
    horizon = data.get("horizon_years", scenario.model.horizon_years)
    if (
        isinstance(horizon, bool)
        or not isinstance(horizon, int)
        or not 1 <= horizon <= scenario.model.horizon_years
    ):
        raise CasesError(
            f"horizon_years: must be a whole number from 1 to the model's horizon ({scenario.model.horizon_years})."
        )
    raw = data.get("cases")
    if not isinstance(raw, list) or not raw:
        raise CasesError("cases: must be a non-empty list.")
    factors = {f.key: f for f in scenario.model.factors}
    out: list[Case] = []
    seen: set[str] = set()
    case_fields = {
        "key", "name", "signed", "renewed_war", "set", "values", "implementer", "challenger",
        "outcome_note", "references",
    }  # fmt: skip
    for n, c in enumerate(raw):
        key = c.get("key") if isinstance(c, Mapping) else None
        where = f"case {key!r}" if isinstance(key, str) else f"case #{n + 1}"
        if not isinstance(c, Mapping):
            raise CasesError(f"{where}: must be an object.")
        extra = sorted(set(c) - case_fields)
        if extra:
            raise CasesError(f"{where}: unknown field {extra[0]!r}.")
        if not isinstance(key, str) or not key:
            raise CasesError(f"{where}: needs a key (text).")
        if key in seen:
            raise CasesError(f"{where}: two cases have this key.")
        seen.add(key)
        name = c.get("name")
        if not isinstance(name, str) or not name:
            raise CasesError(f"{where}: needs a name (text).")
        signed = _date(c.get("signed"), f"{where}: signed")
        renewed = c.get("renewed_war")
        renewed_date = None if renewed is None else _date(renewed, f"{where}: renewed_war")
        if renewed_date is not None and renewed_date < signed:
            raise CasesError(f"{where}: renewed_war comes before the signing.")
        if renewed_date is None and signed > observed:
            raise CasesError(f"{where}: signed after observed_until.")
        cset = c.get("set")
        if cset not in SETS:
            raise CasesError(f"{where}: set must be one of {', '.join(SETS)}.")
        values = c.get("values")
        if not isinstance(values, Mapping):
            raise CasesError(f"{where}: values must be an object {{factor: {{value, source}}}}.")
        unknown = sorted(set(values) - set(factors))
        if lenient:
            values = {k: v for k, v in values.items() if k in factors}
            unknown = []
        if unknown:
            raise CasesError(
                f"{where}: codes unknown factor {unknown[0]!r}; the model's factors are {', '.join(factors)}."
            )
        missing = [k for k in factors if k not in values]
        if missing:
            raise CasesError(
                f"{where}: factor {missing[0]!r} is not coded (every factor needs a value and a source)."
            )
        vals: dict[str, float] = {}
        srcs: dict[str, str] = {}
        for fk, entry in values.items():
            f = factors[fk]
            if not isinstance(entry, Mapping) or set(entry) - {"value", "source"}:
                raise CasesError(f'{where}: factor {fk!r} must be {{"value": number, "source": text}}.')
            v = entry.get("value")
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise CasesError(f"{where}: factor {fk!r}: value must be a number, not {v!r}.")
            if not f.lo <= v <= f.hi:
                raise CasesError(
                    f"{where}: factor {fk!r}: value {v:g} lies outside its range {f.lo:g} to {f.hi:g}."
                )
            src = entry.get("source")
            if not isinstance(src, str) or len(src.strip()) < 3:
                raise CasesError(f"{where}: factor {fk!r}: every coded value needs a source (text).")
            vals[fk] = float(v)
            srcs[fk] = src
        out.append(
            Case(
                key=key,
                name=name,
                signed=signed,
                renewed_war=renewed_date,
                set=cset,
                values=vals,
                sources=srcs,
                implementer=str(c.get("implementer", "")),
                challenger=str(c.get("challenger", "")),
                outcome_note=str(c.get("outcome_note", "")),
            )
        )
    return Cases(
        title=str(data.get("title", "")),
        observed_until=observed,
        horizon_years=horizon,
        cases=tuple(sorted(out, key=lambda c: c.signed)),
        renewed_war=str(data.get("renewed_war", "")),
        held_out_rule=str(data.get("held_out_rule", "")),
    )


# -- the figures --------------------------------------------------------------------------------


def harrell_c(predicted_survival: Sequence[float], times: Sequence[float], events: Sequence[bool]) -> float:
    """Harrell's concordance for censored data: pairs (i, j) are comparable when i failed (an
    event) before j's time, failed or not; concordant when i's predicted survival is lower."""
    conc = 0.0
    comparable = 0
    n = len(times)
    for i in range(n):
        if not events[i]:
            continue
        for j in range(n):
            if i == j or not times[i] < times[j]:
                continue
            comparable += 1
            if predicted_survival[i] < predicted_survival[j]:
                conc += 1.0
            elif predicted_survival[i] == predicted_survival[j]:
                conc += 0.5
    return conc / comparable if comparable else math.nan


def _ranks(x: Sequence[float]) -> list[float]:
    order = sorted(range(len(x)), key=lambda i: x[i])
    r = [0.0] * len(x)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    if len(x) < 2:
        return math.nan
    rx, ry = _ranks(x), _ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else math.nan


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b."""
    n = len(x)
    conc = disc = tx = ty = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx = (x[i] > x[j]) - (x[i] < x[j])
            dy = (y[i] > y[j]) - (y[i] < y[j])
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                tx += 1
            elif dy == 0:
                ty += 1
            elif dx == dy:
                conc += 1
            else:
                disc += 1
    denom = math.sqrt((conc + disc + tx) * (conc + disc + ty))
    return (conc - disc) / denom if denom else math.nan


def status_at(times: Sequence[float], events: Sequence[bool], horizon: float) -> list[float | None]:
    """1 if the case held to the horizon, 0 if it failed before, None if it was last seen
    before the horizon still holding (status unknown: left out of the Brier score)."""
    out: list[float | None] = []
    for t, e in zip(times, events, strict=True):
        if t >= horizon:
            out.append(1.0)
        elif e:
            out.append(0.0)
        else:
            out.append(None)
    return out


def brier(predicted: Sequence[float], outcome: Sequence[float | None]) -> float:
    pairs = [(p, y) for p, y in zip(predicted, outcome, strict=True) if y is not None]
    return sum((p - y) ** 2 for p, y in pairs) / len(pairs) if pairs else math.nan


def constant_rate(times: Sequence[float], events: Sequence[bool], horizon: float) -> float:
    """The constant yearly hazard that best fits the cases within the horizon (maximum
    likelihood of an exponential model: events within the horizon over years observed
    within it); its survival to the horizon is exp(-rate * horizon)."""
    exposure = sum(min(t, horizon) for t in times)
    d = sum(1 for t, e in zip(times, events, strict=True) if e and t < horizon)
    return d / exposure if exposure else math.nan


@dataclass(frozen=True)
class Figures:
    n: int
    failed_within_horizon: int
    c_index: float
    spearman: float
    brier: float
    brier_baseline: float
    baseline_survival: float

    def to_dict(self) -> dict[str, Any]:
        r = 4
        return {
            "n": self.n,
            "failed_within_horizon": self.failed_within_horizon,
            "c_index": round(self.c_index, r),
            "spearman": round(self.spearman, r),
            "brier": round(self.brier, r),
            "brier_baseline": round(self.brier_baseline, r),
            "baseline_survival": round(self.baseline_survival, r),
        }


def figures(
    predicted_h: Sequence[float], times: Sequence[float], events: Sequence[bool], horizon: int
) -> Figures:
    outcome = status_at(times, events, horizon)
    rate = constant_rate(times, events, horizon)
    base = math.exp(-rate * horizon)
    return Figures(
        n=len(times),
        failed_within_horizon=sum(1 for y in outcome if y == 0.0),
        c_index=harrell_c(predicted_h, times, events),
        spearman=spearman(predicted_h, times),
        brier=brier(predicted_h, outcome),
        brier_baseline=brier([base] * len(times), outcome),
        baseline_survival=base,
    )


def predict(ev: Evaluator, case: Case) -> tuple[float, ...]:
    """The case's predicted survival at the end of each year of the model's horizon."""
    return ev.curve(case.values)[1]


def run(scenario: Scenario, cases: Cases) -> dict[str, Any]:
    """Every case's predictions beside what happened, and the figures for all cases, the
    tuning cases and the held-out cases."""
    ev = Evaluator(scenario, cache_size=0)
    h = cases.horizon_years
    rows = []
    for c in cases.cases:
        surv = predict(ev, c)
        years = c.years(cases.observed_until)
        rows.append(
            {
                "key": c.key,
                "name": c.name,
                "signed": c.signed.isoformat(),
                "set": c.set,
                "survival": [round(s, 4) for s in surv],
                "predicted": {
                    "year_1": round(surv[0], 4),
                    "year_3": round(surv[min(2, len(surv) - 1)], 4),
                    f"year_{h}": round(surv[h - 1], 4),
                },
                "renewed_war": c.renewed_war.isoformat() if c.renewed_war else None,
                "years": round(years, 2),
                "event": c.event,
                "held_to_horizon": years >= h,
                "outcome_note": c.outcome_note,
            }
        )
    out: dict[str, Any] = {
        "title": cases.title,
        "observed_until": cases.observed_until.isoformat(),
        "horizon_years": h,
        "cases": rows,
        "figures": {},
    }
    for name, keep in (("all", None), ("tuning", "tuning"), ("held_out", "held_out")):
        sel = [r for r in rows if keep is None or r["set"] == keep]
        if not sel:
            continue
        out["figures"][name] = figures(
            [r["survival"][h - 1] for r in sel], [r["years"] for r in sel], [r["event"] for r in sel], h
        ).to_dict()
    return out


def format_report(report: Mapping[str, Any]) -> str:
    h = report["horizon_years"]
    lines = [
        f"Backtest: {report['title']} (observed until {report['observed_until']}; horizon {h} years)",
        "",
        f"{'case':<62} {'set':<9} {'S1':>5} {'S3':>5} {f'S{h}':>5}  what happened",
    ]
    for r in report["cases"]:
        p = r["predicted"]
        happened = (
            f"war again after {r['years']:.1f} years ({r['renewed_war']})"
            if r["event"]
            else f"still holding after {r['years']:.1f} years"
        )
        name = r["name"] if len(r["name"]) <= 52 else r["name"][:51] + "…"
        lines.append(
            f"{name + ' ' + r['signed'][:4]:<62} {r['set']:<9} {p['year_1']:>5.2f} {p['year_3']:>5.2f} "
            f"{p[f'year_{h}']:>5.2f}  {happened}"
        )
    lines.append("")
    lines.append(
        f"{'cases':<10} {'n':>3} {'failed':>7} {'C':>6} {'Spearman':>9} {'Brier':>7} {'baseline':>9}"
    )
    for name, f in report["figures"].items():
        lines.append(
            f"{name:<10} {f['n']:>3} {f['failed_within_horizon']:>7} {f['c_index']:>6.3f} {f['spearman']:>9.3f} "
            f"{f['brier']:>7.3f} {f['brier_baseline']:>9.3f}"
        )
    lines.append("")
    lines.append(
        "C: Harrell's concordance (censored cases handled); Spearman: predicted survival against years "
        f"survived; Brier at {h} years against a constant-rate baseline fitted to the same cases (lower is better)."
    )
    return "\n".join(lines) + "\n"
