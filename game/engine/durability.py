"""How long would the peace hold? A discrete-time proportional-hazards model.

Each simulated year t = 1..T has a baseline yearly risk of relapse into war,
``h0_t = baseline_hazard * baseline_decay**(t-1)``. The deal on the table multiplies the
underlying (continuous-time) hazard by ``HR_t = exp(context_log_hr + sum_f c_f(t))``, where each
factor contributes ``c_f(t) = beta_f * (x_f - centre_f) * w_f(t)``:

- ``x_f`` is the factor's value for this deal: ``base`` plus ``combine`` over the loadings of
  the chosen options (an option that does not load on the factor counts as ``default``), plus
  the ``factor_effects`` of every news item the table received, plus ``coupling`` terms
  (``coef * x_other``, using the other factor's value before its own coupling), clamped to
  ``[lo, hi]``; then, for a factor ``accepted_by`` rejection factors, multiplied by each one's
  acceptance (1 at or below its ``lo``, 0 at or above its ``centre``);
- ``w_f(t)`` is the factor's time profile: 1 (constant), ``min(1, time_start + time_rate*(t-1))``
  (ramp) or ``(1 - time_rate)**(t-1)`` (decay);
- a factor with a ``moderator`` has its contribution multiplied by ``x_m / centre_m``.

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

from . import messages
from .scenario import Scenario

# "opposition" combine: the most objectionable clause dominates, the others still count.
OPPOSITION_MAX_WEIGHT = 0.6
DISPLAY_DIGITS = 4
NO_DEAL_CAUSE = messages.MESSAGES["en"]["no_deal_cause"]  # English; see messages.text(lang, "no_deal_cause")
NO_DEAL_CAUSE_KEY = "no_deal"
BASELINE_CAUSE_KEY = "baseline"
# Below this |log hazard ratio| (a hazard ratio between about 0.91 and 1.10) a factor is
# described as having little effect, rather than with its up/down sentence: a guarantee that
# changes the risk by 5% does not "stand behind" anyone.
SMALL_EFFECT = math.log(1.1)
REPLAYS = 100


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
    yearly: tuple[float, ...] = ()  # the factor's hazard ratio in each year

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": round(self.value, DISPLAY_DIGITS),
            "effect": round(self.effect, DISPLAY_DIGITS),
            "hazard_ratio": round(self.hazard_ratio, DISPLAY_DIGITS),
            "explanation": self.explanation,
            "yearly": [round(x, DISPLAY_DIGITS) for x in self.yearly],
        }


@dataclass(frozen=True)
class Realized:
    """The one story that happened at this table, drawn from the curve with a seeded generator."""

    held: bool
    collapse_year: int | None
    cause: str  # a sentence for students
    cause_key: str | None  # the factor key, "baseline", "no_deal", or None when it held
    risk: float | None = None  # the yearly risk in the collapse year (or the highest, if it held)
    baseline_risk: float | None = None  # an average ceasefire's risk in that same year
    year: int | None = None  # the year those two risks are for

    def to_dict(self) -> dict[str, Any]:
        r = DISPLAY_DIGITS
        return {
            "held": self.held,
            "collapse_year": self.collapse_year,
            "cause": self.cause,
            "cause_key": self.cause_key,
            "risk": None if self.risk is None else round(self.risk, r),
            "baseline_risk": None if self.baseline_risk is None else round(self.baseline_risk, r),
            "year": self.year,
        }


@dataclass(frozen=True)
class Durability:
    survival: tuple[float, ...]  # P(still at peace at the end of year t), t = 1..T
    p_hold: float  # survival[-1]
    expected_peace: float  # mean of survival: expected share of the horizon at peace, 0-1
    hazards: tuple[float, ...]  # yearly probability of relapse, given peace so far
    factors: tuple[FactorEffect, ...]  # sorted by |effect|, largest first
    realized: Realized | None = None
    baseline_hazards: tuple[float, ...] = ()  # an average ceasefire's yearly risk (h0)

    def to_dict(self) -> dict[str, Any]:
        r = DISPLAY_DIGITS
        return {
            "survival": [round(s, r) for s in self.survival],
            "p_hold": round(self.p_hold, r),
            "expected_peace": round(self.expected_peace, r),
            "hazards": [round(h, r) for h in self.hazards],
            "baseline_hazards": [round(h, r) for h in self.baseline_hazards],
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
        say = scenario.say
        # The language of the scenario's texts: the story's own sentences follow it.
        self.lang = lang = scenario.language
        # Results per (package, news) are pure functions of the scenario: memoise them, so a
        # table's repeated what-ifs cost a dictionary look-up. 0 turns the memo off.
        self.cache_size = cache_size
        self._results: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[Durability, _Deal]] = {}
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
        self.baseline = tuple(model.baseline_hazard * model.baseline_decay**t for t in range(T))
        self.log_keep0 = tuple(math.log1p(-h) for h in self.baseline)

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
                o.key: messages.text(
                    lang, "option_name", issue=issue.name, option=o.label or _humanize(o.key)
                )
                for o in issue.options
            }
        self.exclusions = scenario.exclusions  # a plain dict: no reference to the scenario

        self.news_effects: dict[str, tuple[float, ...]] = {
            n.key: tuple(n.factor_effects.get(f.key, 0.0) for f in factors) for n in scenario.news
        }
        self.news_headlines = {n.key: n.headline or _humanize(n.key) for n in scenario.news}

        self.combine = tuple(f.combine for f in factors)
        self._combiners = tuple(_COMBINERS.get(kind, _opposition) for kind in self.combine)
        self.bases = tuple(f.base for f in factors)
        self.bounds = tuple((f.lo, f.hi) for f in factors)
        self.couplings = tuple(
            (i, index[other], coef)
            for i, f in enumerate(factors)
            for other, coef in f.coupling.items()
            if other in index
        )
        # per gated factor: the rejection factors (index, lo, centre) whose acceptance it needs
        self.gates = tuple(
            (
                i,
                tuple(
                    (index[k], factors[index[k]].lo, factors[index[k]].centre)
                    for k in f.accepted_by
                    if k in index
                ),
            )
            for i, f in enumerate(factors)
            if f.accepted_by
        )
        self.moderator_of = {i: index[f.moderator] for i, f in enumerate(factors) if f.moderator in index}
        # per moderated factor: (index, moderator's index, moderator's centre)
        self.moderators = tuple(
            (i, index[f.moderator], factors[index[f.moderator]].centre)
            for i, f in enumerate(factors)
            if f.moderator in index and factors[index[f.moderator]].centre > 0
        )
        # per factor: beta * w(t) for every year, so that c_f(t) = (x - centre) * m * bw[f][t]
        self.centres = tuple(f.centre for f in factors)
        self.betas = tuple(f.beta for f in factors)
        self.beta_w = tuple(tuple(f.beta * _time_weight(f, t) for t in range(T)) for f in factors)
        # the same, transposed: per year, the tuple over factors
        self.beta_w_by_year = tuple(tuple(self.beta_w[i][t] for i in range(nf)) for t in range(T))
        self.mean_beta_w = tuple(sum(bw) / T for bw in self.beta_w)
        self.labels = tuple(say(f.label) for f in factors)
        self.expl_up = tuple(
            say(f.explanation_up) or messages.text(lang, "raises_risk", label=say(f.label)) for f in factors
        )
        self.expl_down = tuple(
            say(f.explanation_down) or messages.text(lang, "lowers_risk", label=say(f.label)) for f in factors
        )
        self.context_label = say(model.context_label)
        self.no_deal_text = say(model.no_deal_text) or messages.text(lang, "no_deal_cause")
        # No agreement as a ceasefire of its own (the status quo coded in the factors), or None
        # when no deal means the war goes on.
        self.no_deal_raw = (
            tuple(model.no_deal_values.get(k, self.centres[i]) for i, k in enumerate(self.factor_keys))
            if model.no_deal_values
            else None
        )

    # -- the factor values ------------------------------------------------------------------
    def _chosen(self, terms: Mapping[str, str]) -> list[tuple[str, str]]:
        chosen = []
        for ik in self.issue_keys:
            ok = terms.get(ik)
            if ok is None or ok not in self.loadings[ik]:
                raise ValueError(f"The terms must choose one of the options of issue {ik!r}; got {ok!r}.")
            chosen.append((ik, ok))
        clash = self.conflicts(chosen)
        if clash:
            raise ValueError(conflict_message(self.option_names, clash, self.lang))
        return chosen

    def conflicts(self, chosen: Sequence[tuple[str, str]]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
        """The pairs of chosen options that exclude each other (as ``Scenario.conflicts``)."""
        ex = self.exclusions
        if not ex:
            return []
        return [(a, b) for n, a in enumerate(chosen) for b in chosen[n + 1 :] if b in ex.get(a, ())]

    def _news(self, news: Sequence[str]) -> tuple[str, ...]:
        # A news item either happened or not: repeats do not count twice.
        keys = tuple(dict.fromkeys(news))
        for k in keys:
            if k not in self.news_effects:
                raise ValueError(f"Unknown news item {k!r}.")
        return keys

    def values(self, terms: Mapping[str, str], news: Sequence[str] = ()) -> tuple[float, ...]:
        """Each factor's value for this deal and news (after acceptance, before moderation)."""
        return self._finish(self._raw(self._chosen(terms), self._news(news)))[0]

    def _raw(self, chosen: list[tuple[str, str]], news: tuple[str, ...]) -> list[float]:
        loadings = self.loadings
        cols = zip(*[loadings[ik][ok] for ik, ok in chosen], strict=False)  # per factor
        raw = [b + combine(col) for b, combine, col in zip(self.bases, self._combiners, cols, strict=False)]
        for k in news:
            raw = list(map(operator.add, raw, self.news_effects[k]))
        return raw

    def _finish(self, raw: Sequence[float]) -> tuple[tuple[float, ...], list[float], list[float]]:
        """(values, acceptance, multipliers) from the raw values: clamp, couple, gate, moderate."""
        bounds = self.bounds
        base = [lo if x < lo else hi if x > hi else x for x, (lo, hi) in zip(raw, bounds, strict=False)]
        out = list(base)
        if self.couplings:
            for i, j, coef in self.couplings:
                out[i] += coef * base[j]
            out = [lo if x < lo else hi if x > hi else x for x, (lo, hi) in zip(out, bounds, strict=False)]
        accept = [1.0] * len(out)
        if self.gates:
            coupled = list(out)
            for i, gate in self.gates:
                a = 1.0
                for j, lo, centre in gate:
                    a *= min(1.0, max(0.0, (centre - coupled[j]) / (centre - lo)))
                accept[i] = a
                out[i] = coupled[i] * a
        mult = [1.0] * len(out)
        for i, j, centre in self.moderators:
            mult[i] = out[j] / centre
        return tuple(out), accept, mult

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
        return dataclasses.replace(hit[0], realized=self._realize(seed, hit[0], hit[1]))

    def _curve(self, lhr: Sequence[float]) -> tuple[list[float], list[float]]:
        hazards, survival, s = [], [], 1.0
        for x, lk in zip(lhr, self.log_keep0, strict=True):
            h = -math.expm1(math.exp(x) * lk)
            s *= 1.0 - h
            hazards.append(h)
            survival.append(s)
        return hazards, survival

    def _contributions(
        self, x: Sequence[float], mult: Sequence[float]
    ) -> tuple[list[float], list[list[float]]]:
        """(deviation x multiplier per factor, contribution c_f(t) per year and factor)."""
        dev = [(xi - c) * m for xi, c, m in zip(x, self.centres, mult, strict=True)]
        by_year = [list(map(operator.mul, dev, bw)) for bw in self.beta_w_by_year]
        return dev, by_year

    def _compute(self, chosen: list[tuple[str, str]], news_keys: tuple[str, ...]) -> tuple[Durability, _Deal]:
        return self._compute_raw(self._raw(chosen, news_keys), chosen, news_keys)

    def _compute_raw(
        self, raw: Sequence[float], chosen: list[tuple[str, str]], news_keys: tuple[str, ...]
    ) -> tuple[Durability, _Deal]:
        x, accept, mult = self._finish(raw)
        dev, by_year = self._contributions(x, mult)
        context = self.context
        hazards, survival = self._curve([context + sum(c) for c in by_year])
        exp = math.exp
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
                    self._explain(i, eff, x[i] - self.centres[i], chosen, news_keys, accept[i], mult[i]),
                    tuple(exp(c[i]) for c in by_year),
                )
            )
        effects.sort(key=lambda fe: -abs(fe.effect))
        dur = Durability(
            survival=tuple(survival),
            p_hold=survival[-1],
            expected_peace=sum(survival) / len(survival),
            hazards=tuple(hazards),
            factors=tuple(effects),
            realized=None,
            baseline_hazards=self.baseline,
        )
        return dur, _Deal(chosen, news_keys, x, accept, mult, by_year)

    def _explain(
        self,
        i: int,
        effect: float,
        dev: float,
        chosen: list[tuple[str, str]],
        news: tuple[str, ...],
        accept: float = 1.0,
        mult: float = 1.0,
    ) -> str:
        """The factor's plain-words sentence for this deal, naming what drives it."""
        hr = math.exp(effect)
        lang = self.lang
        if abs(effect) < SMALL_EFFECT:
            return messages.text(lang, "little_effect", hr=messages.number(lang, hr, 2))
        up = effect > 0
        # Is the effect there because the deal has a lot of the factor (a high value) or too
        # little of it (a protective factor that is missing)?
        high = dev > 0
        best, best_ok = None, None
        for ik, ok in chosen:
            if i in self.explicit[ik][ok]:
                v = self.loadings[ik][ok][i]
                if best is None or v > best:
                    best, best_ok = v, (ik, ok)
        pushing = tuple(k for k in news if self.news_effects[k][i] * (1.0 if high else -1.0) > 0)
        key = (i, up, high, best_ok, pushing, round(accept, 2), round(mult, 2))
        text = self._explanations.get(key)
        if text is None:
            parts = [self.expl_up[i] if up else self.expl_down[i]]
            if high and best_ok is not None:
                parts.append(messages.text(lang, "mainly", option=self.option_names[best_ok[0]][best_ok[1]]))
            elif up and not high:
                parts.append(messages.text(lang, "nothing_provides"))
            if accept < 0.999:
                parts.append(messages.text(lang, "accepted_share", share=messages.percent(lang, accept)))
            if abs(mult - 1.0) >= 0.05 and i in self.moderator_of:
                parts.append(
                    messages.text(
                        lang,
                        "weighted_by",
                        mult=messages.number(lang, mult, 2),
                        label=self.labels[self.moderator_of[i]],
                    )
                )
            if pushing:
                joiner = messages.text(lang, "list_joiner")
                parts.append(
                    messages.text(
                        lang, "news", headlines=joiner.join(self.news_headlines[k] for k in pushing)
                    )
                )
            text = self._explanations[key] = " ".join(parts)
        return text

    def _realize(self, seed: int, dur: Durability, deal: _Deal) -> Realized:
        # One uniform draw per year, always all of them: with the same seed, a deal whose
        # hazards are all lower never collapses earlier (common random numbers).
        return self.story(first_collapse(seed, dur.hazards), dur, deal)

    def _risk_fields(self, t: int, risk: float) -> dict[str, str]:
        lang = self.lang
        return {
            "year": str(t + 1),
            "nth": messages.ordinal(lang, t + 1),
            "risk": messages.percent(lang, risk),
            "base": messages.percent(lang, self.baseline[t]),
            "span": messages.years(lang, self.n_years),
        }

    def story(self, year: int | None, dur: Durability, deal: _Deal) -> Realized:
        """The story of a deal that collapsed in ``year`` (None: it held), in the scenario's
        language. The year is all a story depends on, so a table's story can be told again in
        another language from the year it recorded."""
        lang = self.lang
        if year is None:
            t = max(range(len(dur.hazards)), key=dur.hazards.__getitem__)
            text = messages.text(lang, "held", **self._risk_fields(t, dur.hazards[t]))
            return Realized(True, None, text, None, dur.hazards[t], self.baseline[t], t + 1)
        t = year - 1
        risk, base = dur.hazards[t], self.baseline[t]
        head = messages.text(lang, "collapsed", **self._risk_fields(t, risk))
        contribs = deal.by_year[t]
        top = max(range(len(contribs)), key=contribs.__getitem__) if contribs else None
        if top is not None and contribs[top] > 0:
            i = top
            why = self._explain(
                i,
                max(contribs[i], SMALL_EFFECT),
                deal.x[i] - self.centres[i],
                deal.chosen,
                deal.news,
                deal.accept[i],
                deal.mult[i],
            )
            text = messages.text(
                lang,
                "biggest_push",
                head=head,
                label=self.labels[i],
                hr=messages.number(lang, math.exp(contribs[i]), 2),
                why=why,
            )
            return Realized(False, year, text, self.factor_keys[i], risk, base, year)
        if self.context > 0:
            hr = messages.number(lang, math.exp(self.context), 2)
            if self.context_label:
                text = messages.text(lang, "context_push", head=head, context=self.context_label, hr=hr)
            else:
                text = messages.text(lang, "context_push_bare", head=head, hr=hr)
        else:
            text = messages.text(lang, "ordinary_risk", head=head)
        return Realized(False, year, text, BASELINE_CAUSE_KEY, risk, base, year)

    def retell(
        self, terms: Mapping[str, str] | None, news: Sequence[str], year: int | None
    ) -> tuple[Durability, Realized | None]:
        """A recorded outcome told again in this evaluator's language: the deal's (or no deal's)
        durability, its factors' sentences, and the story of the year it collapsed in (None: it
        held). Every number is the recorded one, since the model is the same in every language."""
        news_keys = self._news(news)
        if terms is None:
            dur = self.no_deal(news_keys)
            if self.no_deal_raw is None:
                return dur, Realized(False, None, self.no_deal_text, NO_DEAL_CAUSE_KEY)
            return dur, self._no_deal_story(year, dur)
        chosen = self._chosen(terms)
        dur, deal = self._compute(chosen, news_keys)
        return dur, self.story(year, dur, deal)

    def replays(self, hazards: Sequence[float], seed: int, n: int = REPLAYS) -> dict[str, Any]:
        """The deal replayed under ``n`` other histories (seeds derived from ``seed``): how
        often it held, and in which years it collapsed, so one draw is not taken for the rule."""
        years = [0] * len(hazards)
        held = 0
        rng = random.Random(seed_from("replays", seed))
        draw = rng.random
        for _ in range(n):
            for t, h in enumerate(hazards):
                if draw() < h:
                    years[t] += 1
                    break
            else:
                held += 1
        collapsed = [y for y, c in enumerate(years, start=1) for _ in range(c)]
        return {
            "n": n,
            "held": held,
            "collapse_years": years,
            "median_collapse_year": collapsed[len(collapsed) // 2] if collapsed else None,
            "earliest_collapse_year": collapsed[0] if collapsed else None,
            "latest_collapse_year": collapsed[-1] if collapsed else None,
        }

    def curve(self, values: Mapping[str, float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(hazards, survival) for factor values given directly, e.g. a historical case coded
        in the model's terms. Missing factors sit at their centre (no effect); values are
        clamped to each factor's bounds, then coupled, gated by acceptance and moderated as in
        a deal. The fixed context is not applied: it belongs to this scenario's war."""
        raw = [values.get(k, self.centres[i]) for i, k in enumerate(self.factor_keys)]
        x, _, mult = self._finish(raw)
        _, by_year = self._contributions(x, mult)
        hazards, survival = self._curve([sum(c) for c in by_year])
        return tuple(hazards), tuple(survival)

    def no_deal(self, news: Sequence[str] = (), seed: int | None = None) -> Durability:
        """No agreement.

        Where no deal means the war goes on (the default), there is no peace to hold: the curve
        is 0 from year 1 and the story (drawn whenever a seed is given, for symmetry with
        ``evaluate``) is ``held=False, collapse_year=None``. Where the scenario codes the status
        quo as a ceasefire of its own (``model.no_deal_values``, e.g. a frozen line with no
        peacekeepers), that ceasefire gets its own curve and story, news included.
        """
        news_keys = self._news(news)
        if self.no_deal_raw is None:
            T = self.n_years
            realized = None
            if seed is not None:
                realized = Realized(False, None, self.no_deal_text, NO_DEAL_CAUSE_KEY)
            return Durability(
                survival=(0.0,) * T,
                p_hold=0.0,
                expected_peace=0.0,
                hazards=(1.0,) * T,
                factors=(),
                realized=realized,
                baseline_hazards=self.baseline,
            )
        raw = list(self.no_deal_raw)
        for k in news_keys:
            raw = list(map(operator.add, raw, self.news_effects[k]))
        dur, _ = self._compute_raw(raw, [], news_keys)
        if seed is None:
            return dur
        return dataclasses.replace(dur, realized=self._no_deal_story(first_collapse(seed, dur.hazards), dur))

    def _no_deal_story(self, year: int | None, dur: Durability) -> Realized:
        """The story of no deal where no deal is a ceasefire of its own (a frozen line)."""
        lang = self.lang
        if year is None:
            t = max(range(len(dur.hazards)), key=dur.hazards.__getitem__)
            text = messages.text(
                lang, "no_deal_held", no_deal=self.no_deal_text, **self._risk_fields(t, dur.hazards[t])
            )
            return Realized(True, None, text, NO_DEAL_CAUSE_KEY, dur.hazards[t], self.baseline[t], t + 1)
        t = year - 1
        text = messages.text(
            lang, "no_deal_collapsed", no_deal=self.no_deal_text, **self._risk_fields(t, dur.hazards[t])
        )
        return Realized(False, year, text, NO_DEAL_CAUSE_KEY, dur.hazards[t], self.baseline[t], year)


@dataclass(frozen=True)
class _Deal:
    """What the story needs of a computed deal: its options, news, values and contributions."""

    chosen: list[tuple[str, str]]
    news: tuple[str, ...]
    x: tuple[float, ...]
    accept: list[float]
    mult: list[float]
    by_year: list[list[float]]


def first_collapse(seed: int, hazards: Sequence[float]) -> int | None:
    """The year (1-based) a history drawn with ``seed`` collapses in, or None if it holds.

    Always draws one uniform number per year, so with one seed a deal whose yearly risks are
    all lower never collapses earlier (common random numbers)."""
    rng = random.Random(seed)
    draws = [rng.random() for _ in hazards]
    for t, (u, h) in enumerate(zip(draws, hazards, strict=True)):
        if u < h:
            return t + 1
    return None


def conflict_message(
    option_names: Mapping[str, Mapping[str, str]], clash: Sequence[Any], lang: str = "en"
) -> str:
    (ia, oa), (ib, ob) = clash[0]
    return messages.text(lang, "conflict", a=option_names[ia][oa], b=option_names[ib][ob])


def _opposition(col: Sequence[float]) -> float:
    return OPPOSITION_MAX_WEIGHT * max(col) + (1.0 - OPPOSITION_MAX_WEIGHT) * sum(col) / len(col)


def _mean(col: Sequence[float]) -> float:
    return sum(col) / len(col)


_COMBINERS: dict[str, Any] = {"sum": sum, "mean": _mean, "max": max, "opposition": _opposition}


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
