"""How long would the peace hold? A discrete-time proportional-hazards model.

Each simulated year t = 1..T has a baseline yearly risk of relapse into war,
``h0_t = baseline_hazard * baseline_decay**(t-1)``. The deal on the table multiplies the
underlying (continuous-time) hazard by ``HR_t = exp(context_log_hr + sum_f c_f(t))``, where each
factor contributes ``c_f(t) = beta_f * (x_f - centre_f) * w_f(t)``:

- ``x_f`` is the factor's value for this deal: ``combine`` over the loadings of the chosen
  options (an option that does not load on the factor counts as ``default``), plus the
  ``factor_effects`` of every news item the table received, plus ``coupling`` terms
  (``coef * x_other``, using the other factor's value before its own coupling), clamped to
  ``[lo, hi]``;
- ``w_f(t)`` is the factor's time profile: 1 (constant), ``min(1, time_start + time_rate*(t-1))``
  (ramp) or ``(1 - time_rate)**(t-1)`` (decay).

The yearly probability of relapse is ``h_t = 1 - (1 - h0_t)**HR_t``: the grouped-time form of a
proportional-hazards model, which equals ``h0_t * HR_t`` for small risks and never exceeds 1.
Survival ``S_t = prod_{s<=t} (1 - h_s)``; ``p_hold = S_T``; ``expected_peace`` is the mean of
``S_1..S_T``, the expected share of the horizon spent at peace.

The model is public in the game, so ``evaluate`` is built to answer the "what if?" in a few
tens of microseconds: an :class:`Evaluator` turns the scenario into flat tuples once and is
cached per scenario object (see :func:`evaluator`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import operator
import random
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .scenario import Scenario

# "opposition" combine: the most objectionable clause dominates, the others still count.
OPPOSITION_MAX_WEIGHT = 0.6
DISPLAY_DIGITS = 4
NO_DEAL_CAUSE = "No agreement: the war goes on."
NO_DEAL_CAUSE_KEY = "no_deal"
BASELINE_CAUSE_KEY = "baseline"
# Below this |log hazard ratio| (a hazard ratio between about 0.95 and 1.05) a factor is
# described as having little effect, rather than with its up/down sentence.
SMALL_EFFECT = 0.05


@dataclass(frozen=True)
class FactorEffect:
    """One factor's part in this deal's durability.

    ``effect`` is the factor's log hazard ratio averaged over the horizon's years (so a factor
    that fades or grows over time is shown by its average weight); ``hazard_ratio`` is
    ``exp(effect)``: below 1 the factor makes relapse less likely, above 1 more likely.
    """

    key: str
    label: str
    value: float
    effect: float
    hazard_ratio: float
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": round(self.value, DISPLAY_DIGITS),
            "effect": round(self.effect, DISPLAY_DIGITS),
            "hazard_ratio": round(self.hazard_ratio, DISPLAY_DIGITS),
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Realized:
    """The one story that happened at this table, drawn from the curve with a seeded generator."""

    held: bool
    collapse_year: int | None
    cause: str  # a sentence for students
    cause_key: str | None  # the factor key, "baseline", "no_deal", or None when it held

    def to_dict(self) -> dict[str, Any]:
        return {
            "held": self.held,
            "collapse_year": self.collapse_year,
            "cause": self.cause,
            "cause_key": self.cause_key,
        }


@dataclass(frozen=True)
class Durability:
    survival: tuple[float, ...]  # P(still at peace at the end of year t), t = 1..T
    p_hold: float  # survival[-1]
    expected_peace: float  # mean of survival: expected share of the horizon at peace, 0-1
    hazards: tuple[float, ...]  # yearly probability of relapse, given peace so far
    factors: tuple[FactorEffect, ...]  # sorted by |effect|, largest first
    realized: Realized | None = None

    def to_dict(self) -> dict[str, Any]:
        r = DISPLAY_DIGITS
        return {
            "survival": [round(s, r) for s in self.survival],
            "p_hold": round(self.p_hold, r),
            "expected_peace": round(self.expected_peace, r),
            "hazards": [round(h, r) for h in self.hazards],
            "factors": [f.to_dict() for f in self.factors],
            "realized": self.realized.to_dict() if self.realized is not None else None,
        }


def seed_from(*parts: object) -> int:
    """A stable 63-bit seed from strings or numbers (e.g. the session code and the table id).

    Python's ``hash()`` changes between processes, so it must not be used for replayable seeds.
    """
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def _humanize(key: str) -> str:
    return key.replace("_", " ").capitalize()


class Evaluator:
    """Everything about a scenario's durability model that does not depend on the deal."""

    def __init__(self, scenario: Scenario, cache_size: int = 8192) -> None:
        model = scenario.model
        # Results per (package, news) are pure functions of the scenario: memoise them, so a
        # table's repeated what-ifs cost a dictionary look-up. 0 turns the memo off.
        self.cache_size = cache_size
        self._results: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[Durability, list[float]]] = {}
        self._explanations: dict[tuple[Any, ...], str] = {}
        # No reference to the scenario itself: the per-scenario cache must not keep it alive.
        self.memo: dict[Any, Any] = {}  # for other engine modules' per-scenario tables (scoring)
        factors = model.factors
        self.n_years = T = model.horizon_years
        self.context = model.context_log_hr
        self.factor_keys = tuple(f.key for f in factors)
        nf = len(factors)
        index = {k: i for i, k in enumerate(self.factor_keys)}

        # log(1 - h0_t): h_t = 1 - exp(HR_t * log(1 - h0_t))
        self.log_keep0 = tuple(math.log1p(-model.baseline_hazard * model.baseline_decay**t) for t in range(T))

        self.issue_keys = tuple(i.key for i in scenario.issues)
        # issue -> option -> loading on every factor (defaults filled in)
        self.loadings: dict[str, dict[str, tuple[float, ...]]] = {}
        self.explicit: dict[str, dict[str, frozenset[int]]] = {}
        self.option_names: dict[str, dict[str, str]] = {}
        for issue in scenario.issues:
            self.loadings[issue.key] = {
                o.key: tuple(o.loadings.get(f.key, f.default) for f in factors) for o in issue.options
            }
            self.explicit[issue.key] = {
                o.key: frozenset(index[k] for k in o.loadings if k in index) for o in issue.options
            }
            self.option_names[issue.key] = {
                o.key: f"{issue.name}: {o.label or _humanize(o.key)}" for o in issue.options
            }

        self.news_effects: dict[str, tuple[float, ...]] = {
            n.key: tuple(n.factor_effects.get(f.key, 0.0) for f in factors) for n in scenario.news
        }
        self.news_headlines = {n.key: n.headline or _humanize(n.key) for n in scenario.news}

        self.combine = tuple(f.combine for f in factors)
        self._combiners = tuple(_COMBINERS.get(kind, _opposition) for kind in self.combine)
        self.bounds = tuple((f.lo, f.hi) for f in factors)
        self.couplings = tuple(
            (i, index[other], coef)
            for i, f in enumerate(factors)
            for other, coef in f.coupling.items()
            if other in index
        )
        # per factor: beta * w(t) for every year, so that c_f(t) = (x - centre) * bw[f][t]
        self.centres = tuple(f.centre for f in factors)
        self.beta_w = tuple(tuple(f.beta * _time_weight(f, t) for t in range(T)) for f in factors)
        # the same, transposed: per year, the tuple over factors
        self.beta_w_by_year = tuple(tuple(self.beta_w[i][t] for i in range(nf)) for t in range(T))
        self.mean_beta_w = tuple(sum(bw) / T for bw in self.beta_w)
        self.labels = tuple(f.label for f in factors)
        self.expl_up = tuple(f.explanation_up or f"{f.label} raises the risk." for f in factors)
        self.expl_down = tuple(f.explanation_down or f"{f.label} lowers the risk." for f in factors)
        self.context_label = model.context_label

    # -- the factor values ------------------------------------------------------------------
    def _chosen(self, terms: Mapping[str, str]) -> list[tuple[str, str]]:
        chosen = []
        for ik in self.issue_keys:
            ok = terms.get(ik)
            if ok is None or ok not in self.loadings[ik]:
                raise ValueError(f"The terms must choose one of the options of issue {ik!r}; got {ok!r}.")
            chosen.append((ik, ok))
        return chosen

    def _news(self, news: Sequence[str]) -> tuple[str, ...]:
        # A news item either happened or not: repeats do not count twice.
        keys = tuple(dict.fromkeys(news))
        for k in keys:
            if k not in self.news_effects:
                raise ValueError(f"Unknown news item {k!r}.")
        return keys

    def values(self, terms: Mapping[str, str], news: Sequence[str] = ()) -> tuple[float, ...]:
        """Each factor's value for this deal and news."""
        return self._values(self._chosen(terms), self._news(news))

    def _values(self, chosen: list[tuple[str, str]], news: tuple[str, ...]) -> tuple[float, ...]:
        loadings = self.loadings
        cols = zip(
            *[loadings[ik][ok] for ik, ok in chosen], strict=False
        )  # per factor: the chosen options' loadings
        raw = [combine(col) for combine, col in zip(self._combiners, cols, strict=False)]
        for k in news:
            raw = list(map(operator.add, raw, self.news_effects[k]))
        base = [lo if x < lo else hi if x > hi else x for x, (lo, hi) in zip(raw, self.bounds, strict=False)]
        if not self.couplings:
            return tuple(base)
        out = list(base)
        for i, j, coef in self.couplings:
            out[i] += coef * base[j]
        return tuple(
            lo if x < lo else hi if x > hi else x for x, (lo, hi) in zip(out, self.bounds, strict=False)
        )

    # -- the curve --------------------------------------------------------------------------
    def evaluate(
        self, terms: Mapping[str, str], news: Sequence[str] = (), seed: int | None = None
    ) -> Durability:
        chosen = self._chosen(terms)
        news_keys = self._news(news)
        key = (tuple(ok for _, ok in chosen), tuple(sorted(news_keys)))
        hit = self._results.get(key)
        if hit is None:
            hit = self._compute(chosen, news_keys)
            if self.cache_size:
                if len(self._results) >= self.cache_size:
                    self._results.clear()
                self._results[key] = hit
        if seed is None:
            return hit[0]
        return dataclasses.replace(
            hit[0], realized=self._realize(seed, hit[0].hazards, hit[1], chosen, news_keys)
        )

    def _compute(
        self, chosen: list[tuple[str, str]], news_keys: tuple[str, ...]
    ) -> tuple[Durability, list[float]]:
        x = self._values(chosen, news_keys)
        dev = list(map(operator.sub, x, self.centres))
        context = self.context
        exp = math.exp
        hazards = []
        survival = []
        s = 1.0
        for bw, lk in zip(self.beta_w_by_year, self.log_keep0, strict=False):
            h = -math.expm1(exp(context + sum(map(operator.mul, dev, bw))) * lk)
            s *= 1.0 - h
            hazards.append(h)
            survival.append(s)
        effects = []
        for i, d in enumerate(dev):
            eff = d * self.mean_beta_w[i]
            effects.append(
                FactorEffect(
                    self.factor_keys[i],
                    self.labels[i],
                    x[i],
                    eff,
                    exp(eff),
                    self._explain(i, eff, d, chosen, news_keys),
                )
            )
        effects.sort(key=lambda fe: -abs(fe.effect))
        dur = Durability(
            survival=tuple(survival),
            p_hold=s,
            expected_peace=sum(survival) / len(survival),
            hazards=tuple(hazards),
            factors=tuple(effects),
            realized=None,
        )
        return dur, dev

    def _explain(
        self, i: int, effect: float, dev: float, chosen: list[tuple[str, str]], news: tuple[str, ...]
    ) -> str:
        """The factor's plain-words sentence for this deal, naming what drives it."""
        if abs(effect) < SMALL_EFFECT:
            return "Little effect on this deal."
        up = effect > 0
        # Which chosen option pushes the value in the direction it went (high or low)?
        sign = 1.0 if dev > 0 else -1.0
        best, best_ok = None, None
        for ik, ok in chosen:
            if i in self.explicit[ik][ok]:
                v = sign * self.loadings[ik][ok][i]
                if best is None or v > best:
                    best, best_ok = v, (ik, ok)
        pushing = tuple(k for k in news if self.news_effects[k][i] * sign > 0)
        key = (i, up, best_ok, pushing)
        text = self._explanations.get(key)
        if text is None:
            parts = [self.expl_up[i] if up else self.expl_down[i]]
            if best_ok is not None:
                parts.append(f"Mainly: {self.option_names[best_ok[0]][best_ok[1]]}.")
            if pushing:
                parts.append("News: " + "; ".join(self.news_headlines[k] for k in pushing) + ".")
            text = self._explanations[key] = " ".join(parts)
        return text

    def _realize(
        self,
        seed: int,
        hazards: list[float],
        dev: list[float],
        chosen: list[tuple[str, str]],
        news: tuple[str, ...],
    ) -> Realized:
        # One uniform draw per year, always all of them: with the same seed, a deal whose
        # hazards are all lower never collapses earlier (common random numbers).
        rng = random.Random(seed)
        draws = [rng.random() for _ in hazards]
        for t, (u, h) in enumerate(zip(draws, hazards, strict=True)):
            if u < h:
                year = t + 1
                contribs = [d * self.beta_w[i][t] for i, d in enumerate(dev)]
                top = max(range(len(contribs)), key=contribs.__getitem__) if contribs else None
                if top is not None and contribs[top] > 0:
                    why = self._explain(top, max(contribs[top], SMALL_EFFECT), dev[top], chosen, news)
                    return Realized(False, year, f"Collapsed in year {year}: {why}", self.factor_keys[top])
                why = "no term of the deal stood out; the ordinary risk that any ceasefire faces did it" + (
                    f" ({self.context_label})." if self.context_label else "."
                )
                return Realized(False, year, f"Collapsed in year {year}: {why}", BASELINE_CAUSE_KEY)
        return Realized(True, None, f"Held through all {self.n_years} years.", None)

    def curve(self, values: Mapping[str, float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(hazards, survival) for factor values given directly, e.g. a historical case coded
        in the model's terms. Missing factors sit at their centre (no effect); values are
        clamped to each factor's bounds."""
        hazards, survival, s = [], [], 1.0
        dev = []
        for i, k in enumerate(self.factor_keys):
            lo, hi = self.bounds[i]
            x = values.get(k)
            dev.append(0.0 if x is None else min(max(x, lo), hi) - self.centres[i])
        for bw, lk in zip(self.beta_w_by_year, self.log_keep0, strict=True):
            lhr = self.context + sum(d * b for d, b in zip(dev, bw, strict=True))
            h = -math.expm1(math.exp(lhr) * lk)
            s *= 1.0 - h
            hazards.append(h)
            survival.append(s)
        return tuple(hazards), tuple(survival)

    def no_deal(self, news: Sequence[str] = (), seed: int | None = None) -> Durability:
        """No agreement: there is no peace to hold, so the curve is 0 from year 1.

        The realized story (drawn whenever a seed is given, for symmetry with ``evaluate``) is
        ``held=False, collapse_year=None``: nothing collapsed, because nothing was agreed.
        """
        self._news(news)
        T = self.n_years
        realized = None
        if seed is not None:
            realized = Realized(False, None, NO_DEAL_CAUSE, NO_DEAL_CAUSE_KEY)
        return Durability(
            survival=(0.0,) * T,
            p_hold=0.0,
            expected_peace=0.0,
            hazards=(1.0,) * T,
            factors=(),
            realized=realized,
        )


def _opposition(col: Sequence[float]) -> float:
    return OPPOSITION_MAX_WEIGHT * max(col) + (1.0 - OPPOSITION_MAX_WEIGHT) * sum(col) / len(col)


_COMBINERS: dict[str, Any] = {"sum": sum, "max": max, "opposition": _opposition}


def _time_weight(f: Any, t: int) -> float:
    """The factor's weight in year t+1 (t counts from 0)."""
    if f.time == "ramp":
        return min(1.0, f.time_start + f.time_rate * t)
    if f.time == "decay":
        return (1.0 - f.time_rate) ** t
    return 1.0


# -- one Evaluator per scenario object ------------------------------------------------------
# Scenario holds MappingProxyType fields, so it is not hashable: key the cache by identity and
# drop the entry when the scenario object is garbage-collected.
_cache: dict[int, tuple[weakref.ref[Scenario], Evaluator]] = {}
_cache_lock = threading.Lock()


def evaluator(scenario: Scenario) -> Evaluator:
    """The cached :class:`Evaluator` of this scenario object (built on first use)."""
    key = id(scenario)
    hit = _cache.get(key)
    if hit is not None and hit[0]() is scenario:
        return hit[1]
    ev = Evaluator(scenario)
    with _cache_lock:
        _cache[key] = (weakref.ref(scenario), ev)
        weakref.finalize(scenario, _cache.pop, key, None)
    return ev


def evaluate(
    scenario: Scenario, terms: Mapping[str, str], news: Sequence[str] = (), seed: int | None = None
) -> Durability:
    """Durability of the package ``terms`` ({issue: option}) given the news the table received.

    Without a seed no story is drawn (``realized`` is None): that is the live "what if?".
    Raises ValueError if the terms do not choose one valid option per issue, or a news key is
    unknown.
    """
    return evaluator(scenario).evaluate(terms, news, seed)


def no_deal(scenario: Scenario, news: Sequence[str] = (), seed: int | None = None) -> Durability:
    """The outcome when no agreement is reached: survival 0 in every year."""
    return evaluator(scenario).no_deal(news, seed)
