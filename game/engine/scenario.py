"""A scenario as plain, immutable data: what the engine reads.

The same shape is the scenario file format (``game/scenarios/scenario.schema.json``), what the
Django models persist and what the admin edits. ``Scenario.from_dict`` / ``to_dict`` convert
between the JSON form and these dataclasses; ``validate`` lists everything that makes a
scenario unplayable, each as a sentence that says what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# How a factor combines the loadings of the chosen options into one value.
COMBINE_KINDS = ("sum", "max", "opposition")
# How a factor's contribution changes over the simulated years.
TIME_KINDS = ("constant", "ramp", "decay")


def _frozen(d: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True)
class Role:
    key: str
    name: str
    colour: str = "#555555"
    description: str = ""
    brief: str = ""  # Markdown, confidential to the role
    no_deal_value: float = 0.0  # the role's total score (0-100) if no agreement is reached
    peace_weight: float = 0.5  # how much the role values peace itself in its total (0-1)


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    summary: str = ""
    points: Mapping[str, float] = field(default_factory=dict)  # role key -> points
    commits: tuple[str, ...] = ()  # roles that must sign any agreement containing this option
    loadings: Mapping[str, float] = field(default_factory=dict)  # factor key -> value

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _frozen(self.points))
        object.__setattr__(self, "loadings", _frozen(self.loadings))
        object.__setattr__(self, "commits", tuple(self.commits))


@dataclass(frozen=True)
class Issue:
    key: str
    name: str
    description: str = ""
    options: tuple[Option, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))

    def option(self, key: str) -> Option | None:
        for o in self.options:
            if o.key == key:
                return o
        return None


@dataclass(frozen=True)
class Phase:
    key: str
    name: str
    duration_seconds: int = 900
    agreement: bool = False  # can an agreement be concluded in this phase?


@dataclass(frozen=True)
class Factor:
    """One driver of the risk that the outcome collapses into war again.

    The factor's value x is ``combine`` over the loadings of the chosen options (options that
    do not load on it count as ``default``), plus any news effects, plus ``coupling`` terms
    (``{other_factor: coef}``: x += coef * value of the other factor at year 1), clamped to
    [``lo``, ``hi``]. Its log hazard ratio in year t is
    ``beta * (x - centre) * time_weight(t)``.
    """

    key: str
    label: str
    beta: float
    centre: float = 0.0
    combine: str = "sum"
    default: float = 0.0
    lo: float = 0.0
    hi: float = 1.0
    time: str = "constant"
    time_rate: float = 0.0  # ramp: start + rate*(t-1) up to 1; decay: (1-rate)^(t-1)
    time_start: float = 1.0  # ramp's weight in year 1
    coupling: Mapping[str, float] = field(default_factory=dict)
    explanation_up: str = ""  # why, in plain words, this factor raises the risk
    explanation_down: str = ""  # why it lowers the risk
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "coupling", _frozen(self.coupling))


@dataclass(frozen=True)
class NewsItem:
    key: str
    headline: str
    body: str = ""
    factor_effects: Mapping[str, float] = field(default_factory=dict)  # factor key -> added value
    value_effects: Mapping[str, Mapping[str, float]] = field(
        default_factory=dict
    )  # role -> "issue/option" -> delta

    def __post_init__(self) -> None:
        object.__setattr__(self, "factor_effects", _frozen(self.factor_effects))
        object.__setattr__(
            self, "value_effects", _frozen({r: _frozen(v) for r, v in dict(self.value_effects).items()})
        )


@dataclass(frozen=True)
class Model:
    """Parameters of the discrete-time proportional-hazards durability model."""

    horizon_years: int = 10
    baseline_hazard: float = 0.12  # h0 in year 1
    baseline_decay: float = 0.85  # h0_t = baseline_hazard * baseline_decay**(t-1)
    context_log_hr: float = 0.0  # fixed, non-negotiable context (log of its hazard ratio)
    context_label: str = ""
    factors: tuple[Factor, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors", tuple(self.factors))


@dataclass(frozen=True)
class Scenario:
    slug: str
    title: str
    description: str = ""
    roles: tuple[Role, ...] = ()
    issues: tuple[Issue, ...] = ()
    phases: tuple[Phase, ...] = ()
    news: tuple[NewsItem, ...] = ()
    model: Model = field(default_factory=Model)
    necessary_signatories: tuple[str, ...] = ()  # roles that must sign every agreement

    def __post_init__(self) -> None:
        for name in ("roles", "issues", "phases", "news", "necessary_signatories"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    # -- look-ups -------------------------------------------------------------------------
    @property
    def role_keys(self) -> tuple[str, ...]:
        return tuple(r.key for r in self.roles)

    @property
    def issue_keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.issues)

    def role(self, key: str) -> Role | None:
        return next((r for r in self.roles if r.key == key), None)

    def issue(self, key: str) -> Issue | None:
        return next((i for i in self.issues if i.key == key), None)

    def phase(self, key: str) -> Phase | None:
        return next((p for p in self.phases if p.key == key), None)

    def news_item(self, key: str) -> NewsItem | None:
        return next((n for n in self.news if n.key == key), None)

    def options_of(self, terms: Mapping[str, str]) -> tuple[Option, ...]:
        """The chosen options, in issue order. Assumes ``terms`` is valid."""
        out = []
        for issue in self.issues:
            opt = issue.option(terms[issue.key])
            assert opt is not None
            out.append(opt)
        return tuple(out)

    # -- JSON form ------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Scenario:
        m = dict(d.get("model") or {})
        factors = tuple(Factor(**f) for f in m.pop("factors", ()))
        return cls(
            slug=d["slug"],
            title=d["title"],
            description=d.get("description", ""),
            roles=tuple(Role(**r) for r in d.get("roles", ())),
            issues=tuple(
                Issue(
                    key=i["key"],
                    name=i["name"],
                    description=i.get("description", ""),
                    options=tuple(
                        Option(
                            key=o["key"],
                            label=o["label"],
                            summary=o.get("summary", ""),
                            points=o.get("points", {}),
                            commits=tuple(o.get("commits", ())),
                            loadings=o.get("loadings", {}),
                        )
                        for o in i.get("options", ())
                    ),
                )
                for i in d.get("issues", ())
            ),
            phases=tuple(Phase(**p) for p in d.get("phases", ())),
            news=tuple(NewsItem(**n) for n in d.get("news", ())),
            model=Model(factors=factors, **m),
            necessary_signatories=tuple(d.get("necessary_signatories", ())),
        )

    def to_dict(self) -> dict[str, Any]:
        def plain(x: Any) -> Any:
            if isinstance(x, Mapping):
                return {k: plain(v) for k, v in x.items()}
            if isinstance(x, tuple | list):
                return [plain(v) for v in x]
            return x

        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "necessary_signatories": list(self.necessary_signatories),
            "roles": [plain(vars(r)) for r in self.roles],
            "issues": [
                {
                    "key": i.key,
                    "name": i.name,
                    "description": i.description,
                    "options": [plain(vars(o)) for o in i.options],
                }
                for i in self.issues
            ],
            "phases": [plain(vars(p)) for p in self.phases],
            "news": [plain(vars(n)) for n in self.news],
            "model": {
                "horizon_years": self.model.horizon_years,
                "baseline_hazard": self.model.baseline_hazard,
                "baseline_decay": self.model.baseline_decay,
                "context_log_hr": self.model.context_log_hr,
                "context_label": self.model.context_label,
                "factors": [plain(vars(f)) for f in self.model.factors],
            },
        }


def _dupes(keys: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({k for k in keys if k in seen or seen.add(k)})  # type: ignore[func-returns-value]


def validate(s: Scenario) -> list[str]:
    """Every problem that makes the scenario unplayable, each saying what to fix."""
    problems: list[str] = []
    roles = s.role_keys
    factor_keys = {f.key for f in s.model.factors}
    if len(roles) < 2:
        problems.append("A scenario needs at least two roles.")
    for k in _dupes(list(roles)):
        problems.append(f"Two roles have the key {k!r}; give each role its own key.")
    for k in _dupes([i.key for i in s.issues]):
        problems.append(f"Two issues have the key {k!r}; give each issue its own key.")
    for k in _dupes([p.key for p in s.phases]):
        problems.append(f"Two phases have the key {k!r}; give each phase its own key.")
    for k in _dupes([n.key for n in s.news]):
        problems.append(f"Two news items have the key {k!r}; give each news item its own key.")
    for k in _dupes([f.key for f in s.model.factors]):
        problems.append(f"Two durability factors have the key {k!r}; give each its own key.")
    if not s.issues:
        problems.append("A scenario needs at least one issue to negotiate.")
    if not s.phases:
        problems.append("A scenario needs at least one phase.")
    elif not any(p.agreement for p in s.phases):
        problems.append(
            "No phase allows an agreement: tick 'agreement' on at least one phase (usually the last)."
        )
    for p in s.phases:
        if p.duration_seconds <= 0:
            problems.append(f"Phase {p.key!r} must last a positive number of seconds.")
    for r in s.necessary_signatories:
        if r not in roles:
            problems.append(f"The necessary signatory {r!r} is not a role of this scenario.")
    for r in s.roles:
        if not 0 <= r.no_deal_value <= 100:
            problems.append(f"Role {r.key!r}: the no-deal value must be between 0 and 100.")
        if not 0 <= r.peace_weight <= 1:
            problems.append(f"Role {r.key!r}: the peace weight must be between 0 and 1.")
    for issue in s.issues:
        if not issue.options:
            problems.append(f"Issue {issue.key!r} has no options: add at least two.")
        elif len(issue.options) < 2:
            problems.append(f"Issue {issue.key!r} has only one option: add at least one more to negotiate.")
        for k in _dupes([o.key for o in issue.options]):
            problems.append(f"Issue {issue.key!r} has two options with the key {k!r}.")
        for o in issue.options:
            missing = [r for r in roles if r not in o.points]
            if missing:
                problems.append(
                    f"Option {issue.key}/{o.key} has no points for {', '.join(missing)}: "
                    "give it points for every role."
                )
            extra = [r for r in o.points if r not in roles]
            if extra:
                problems.append(
                    f"Option {issue.key}/{o.key} gives points to unknown roles {', '.join(extra)}."
                )
            for r in o.commits:
                if r not in roles:
                    problems.append(f"Option {issue.key}/{o.key} commits {r!r}, which is not a role.")
            for f in o.loadings:
                if f not in factor_keys:
                    problems.append(f"Option {issue.key}/{o.key} loads on unknown factor {f!r}.")
    for n in s.news:
        for f in n.factor_effects:
            if f not in factor_keys:
                problems.append(f"News {n.key!r} changes unknown factor {f!r}.")
        for r, vals in n.value_effects.items():
            if r not in roles:
                problems.append(f"News {n.key!r} changes the values of unknown role {r!r}.")
            all_options = {f"{i.key}/{o.key}" for i in s.issues for o in i.options}
            for ok in vals:
                if ok not in all_options:
                    problems.append(
                        f"News {n.key!r} changes the value of unknown option {ok!r} (write it as issue/option)."
                    )
    for f in s.model.factors:
        if f.combine not in COMBINE_KINDS:
            problems.append(f"Factor {f.key!r}: combine must be one of {', '.join(COMBINE_KINDS)}.")
        if f.time not in TIME_KINDS:
            problems.append(f"Factor {f.key!r}: time must be one of {', '.join(TIME_KINDS)}.")
        if f.lo > f.hi:
            problems.append(f"Factor {f.key!r}: its lower bound is above its upper bound.")
        for other in f.coupling:
            if other not in factor_keys:
                problems.append(f"Factor {f.key!r} is coupled to unknown factor {other!r}.")
    if s.model.horizon_years < 1:
        problems.append("The durability horizon must be at least one year.")
    if not 0 < s.model.baseline_hazard < 1:
        problems.append("The baseline yearly hazard must be between 0 and 1.")
    return problems
