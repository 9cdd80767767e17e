"""A scenario as plain, immutable data: what the engine reads.

The same shape is the scenario file format (``game/scenarios/scenario.schema.json``), what the
Django models persist and what the admin edits. ``Scenario.from_dict`` / ``to_dict`` convert
between the JSON form and these dataclasses; ``validate`` lists everything that makes a
scenario unplayable, each as a sentence that says what to fix.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from . import messages

# How a factor combines the loadings of the chosen options into one value.
COMBINE_KINDS = ("sum", "mean", "max", "opposition")
# How a factor's contribution changes over the simulated years.
TIME_KINDS = ("constant", "ramp", "decay")
# The kinds of line a bot says, and the fields its phrases may use ({name} is the role's name,
# {years} the horizon's number of years and {span} the same with its noun in the phrase's
# language, "10 years", "10 років": for languages whose noun changes with the number).
VOICE_KINDS = {
    "opening": ("name", "years", "span", "top_issue", "top_option"),
    "propose": ("name", "years", "span", "id", "package", "peace", "hold"),
    "counter": ("name", "years", "span", "id", "other", "changes", "peace", "hold"),
    "accept": ("name", "years", "span", "id", "peace", "hold"),
    "reject": ("name", "years", "span", "id", "own"),
    "reject_alone": ("name", "years", "span", "id"),
}
# The version of the scenario file format this game writes (see migrate()).
FORMAT = 3
# The languages a scenario's texts can be read in. English is the scenario's own text (the
# fields of each item) and the fallback of every other: a translation gives, per language, the
# texts it translates by their path (see ``Scenario.texts``); a text it leaves out is read in
# English.
LANGUAGES = ("en", "uk", "ru", "de", "fr")
TRANSLATED_LANGUAGES = LANGUAGES[1:]
LANGUAGE_NAMES = {
    "en": "English",
    "uk": "Українська",
    "ru": "Русский",
    "de": "Deutsch",
    "fr": "Français",
}
# The sides the model speaks of. A scenario maps each to one of its roles (``Model.sides``), so
# that factors, explanations and stories can name them ("{implementer}" in a text becomes the
# role's name) and the same engine can describe another conflict.
SIDES = {
    "implementer": "the side that must implement the concessions",
    "challenger": "the side able to restart the war",
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# What no agreement means when a scenario does not say (the default scenario's words).
DEFAULT_NO_DEAL_LABEL = "No agreement: the war goes on"


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
    # A mediator is not a party to the war: it signs only what commits it, and the debrief never
    # crowns it for what the warring sides won or lost.
    mediator: bool = False
    # The bot's phrases in this role's voice, per kind of line (see VOICE_KINDS); a kind left out
    # uses the generic voice of the role's side in the model.
    voice: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "voice", _frozen({k: tuple(v) for k, v in dict(self.voice).items()}))


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    summary: str = ""
    points: Mapping[str, float] = field(default_factory=dict)  # role key -> points
    commits: tuple[str, ...] = ()  # roles that must sign any agreement containing this option
    loadings: Mapping[str, float] = field(default_factory=dict)  # factor key -> value
    # Options of other issues this one cannot be combined with, as "issue/option": a package
    # holding both is contradictory (the rules refuse it). Exclusion works both ways.
    excludes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _frozen(self.points))
        object.__setattr__(self, "loadings", _frozen(self.loadings))
        object.__setattr__(self, "commits", tuple(self.commits))
        object.__setattr__(self, "excludes", tuple(self.excludes))


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

    The factor's value x is ``base`` plus ``combine`` over the loadings of the chosen options
    (options that do not load on it count as ``default``), plus any news effects, plus
    ``coupling`` terms (``{other_factor: coef}``: x += coef * the other factor's value before its
    own coupling), clamped to [``lo``, ``hi``]. Two optional interactions follow:

    - ``accepted_by``: factors that measure how far a side rejects the deal (shares from 0 to 1).
      The value is multiplied by each one's *acceptance*, 1 at or below that factor's ``lo``
      falling to 0 at its ``centre`` (a majority rejecting): something settled on paper counts
      only as far as both sides accept it.
    - ``moderator``: a factor whose value, relative to its centre, scales this factor's effect
      (``x_m / centre_m``): a dissatisfied side twice as able to restart the war is twice as
      dangerous; a weak one much less.

    Its log hazard ratio in year t is
    ``beta * (x - centre) * time_weight(t) * (x_m / centre_m if moderator else 1)``.
    ``side`` names the side of the model the factor speaks of (a key of :data:`SIDES`), for
    readers; texts may name any mapped side as ``{implementer}`` or ``{challenger}``.
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
    base: float = 0.0  # added to the combined loadings (e.g. a side's strength before the deal)
    accepted_by: tuple[str, ...] = ()  # rejection factors that must accept what this one settles
    moderator: str = ""  # a factor whose value relative to its centre scales this one's effect
    side: str = ""  # which side of the model the factor speaks of, if one

    def __post_init__(self) -> None:
        object.__setattr__(self, "coupling", _frozen(self.coupling))
        object.__setattr__(self, "accepted_by", tuple(self.accepted_by))


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
    sides: Mapping[str, str] = field(default_factory=dict)  # model side (SIDES) -> role key
    # The score (see scoring.py): a year at peace pays tactical + peace_value; a year after a
    # collapse pays relapse_share x tactical; the mean over the horizon, scaled to 0-100.
    peace_value: float = 50.0
    relapse_share: float = 0.1
    # What no agreement means here, in words ("the war goes on", or "the 1994 ceasefire line
    # stays, with no peacekeepers"), and, if it is itself a ceasefire that can break, its factor
    # values: then the model gives no deal its own survival curve (else 0 every year).
    no_deal_text: str = ""
    no_deal_values: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "sides", _frozen(self.sides))
        object.__setattr__(self, "no_deal_values", _frozen(self.no_deal_values))


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
    moral: str = ""  # the lesson the debrief and the pages close on, in the scenario's own words
    # Per language (a key of LANGUAGES other than English), the translated texts by path:
    # {"uk": {"roles/us/name": "Сполучені Штати", ...}}. See texts() and localized().
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # The language this object's texts are in: "en" for a scenario as read; localized() makes
    # the others. Not part of the file format.
    language: str = "en"

    def __post_init__(self) -> None:
        for name in ("roles", "issues", "phases", "news", "necessary_signatories"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(
            self, "translations", _frozen({k: _frozen(v) for k, v in dict(self.translations).items()})
        )

    # -- texts and languages ----------------------------------------------------------------
    def texts(self) -> dict[str, str]:
        """Every text a student or an instructor reads in this scenario, by its path, in the
        order of the file: what a translation translates. Empty texts are left out (there is
        nothing to translate). Paths name items by key::

            title  description  moral
            roles/<role>/name | description | brief
            roles/<role>/voice/<kind>/<n>          (the n-th phrase, from 0)
            issues/<issue>/name | description
            issues/<issue>/options/<option>/label | summary
            phases/<phase>/name
            news/<item>/headline | body
            model/context_label  model/no_deal_text
            model/factors/<factor>/label | explanation_up | explanation_down
        """
        return {path: text for path, text in self._slots() if text}

    def _slots(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = [
            ("title", self.title),
            ("description", self.description),
            ("moral", self.moral),
        ]
        for r in self.roles:
            base = f"roles/{r.key}"
            out += [
                (f"{base}/name", r.name),
                (f"{base}/description", r.description),
                (f"{base}/brief", r.brief),
            ]
            for kind, phrases in r.voice.items():
                out += [(f"{base}/voice/{kind}/{n}", p) for n, p in enumerate(phrases)]
        for i in self.issues:
            base = f"issues/{i.key}"
            out += [(f"{base}/name", i.name), (f"{base}/description", i.description)]
            for o in i.options:
                out += [
                    (f"{base}/options/{o.key}/label", o.label),
                    (f"{base}/options/{o.key}/summary", o.summary),
                ]
        out += [(f"phases/{p.key}/name", p.name) for p in self.phases]
        for n in self.news:
            out += [(f"news/{n.key}/headline", n.headline), (f"news/{n.key}/body", n.body)]
        out += [
            ("model/context_label", self.model.context_label),
            ("model/no_deal_text", self.model.no_deal_text),
        ]
        for f in self.model.factors:
            base = f"model/factors/{f.key}"
            out += [
                (f"{base}/label", f.label),
                (f"{base}/explanation_up", f.explanation_up),
                (f"{base}/explanation_down", f.explanation_down),
            ]
        return out

    def localized(self, lang: str) -> Scenario:
        """This scenario with its texts in ``lang``, each text falling back to English where
        the translation leaves it out (or is empty). Keys, points, loadings, the model's numbers
        and every rule are the same objects' values, so every number the engine computes is the
        same in every language. An unknown language gives the English scenario. Built once per
        language and kept on this object (so the engine's per-scenario caches stay warm)."""
        if lang == self.language or lang not in LANGUAGES:
            return self
        if self.language != "en":
            raise ValueError("Localize the scenario as read (in English), not a translation of it.")
        memo = self.__dict__.setdefault("_localized", {})
        hit = memo.get(lang)
        if hit is None:
            hit = memo[lang] = self._localize(lang)
        return hit

    def _localize(self, lang: str) -> Scenario:
        table = self.translations.get(lang, {})

        def tr(path: str, text: str) -> str:
            return table.get(path) or text

        def role(r: Role) -> Role:
            base = f"roles/{r.key}"
            return dataclasses.replace(
                r,
                name=tr(f"{base}/name", r.name),
                description=tr(f"{base}/description", r.description),
                brief=tr(f"{base}/brief", r.brief),
                voice={
                    kind: tuple(tr(f"{base}/voice/{kind}/{n}", p) for n, p in enumerate(phrases))
                    for kind, phrases in r.voice.items()
                },
            )

        def issue(i: Issue) -> Issue:
            base = f"issues/{i.key}"
            return dataclasses.replace(
                i,
                name=tr(f"{base}/name", i.name),
                description=tr(f"{base}/description", i.description),
                options=tuple(
                    dataclasses.replace(
                        o,
                        label=tr(f"{base}/options/{o.key}/label", o.label),
                        summary=tr(f"{base}/options/{o.key}/summary", o.summary),
                    )
                    for o in i.options
                ),
            )

        def factor(f: Factor) -> Factor:
            base = f"model/factors/{f.key}"
            return dataclasses.replace(
                f,
                label=tr(f"{base}/label", f.label),
                explanation_up=tr(f"{base}/explanation_up", f.explanation_up),
                explanation_down=tr(f"{base}/explanation_down", f.explanation_down),
            )

        m = self.model
        return dataclasses.replace(
            self,
            title=tr("title", self.title),
            description=tr("description", self.description),
            moral=tr("moral", self.moral),
            roles=tuple(role(r) for r in self.roles),
            issues=tuple(issue(i) for i in self.issues),
            phases=tuple(
                dataclasses.replace(p, name=tr(f"phases/{p.key}/name", p.name)) for p in self.phases
            ),
            news=tuple(
                dataclasses.replace(
                    n,
                    headline=tr(f"news/{n.key}/headline", n.headline),
                    body=tr(f"news/{n.key}/body", n.body),
                )
                for n in self.news
            ),
            model=dataclasses.replace(
                m,
                context_label=tr("model/context_label", m.context_label),
                no_deal_text=tr("model/no_deal_text", m.no_deal_text),
                factors=tuple(factor(f) for f in m.factors),
            ),
            language=lang,
        )

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

    def side_names(self) -> dict[str, str]:
        """Each mapped side of the model with its role's name, e.g. {"challenger": "Russia"}."""
        out = {}
        for side, key in self.model.sides.items():
            r = self.role(key)
            if r is not None:
                out[side] = r.name
        return out

    def say(self, text: str) -> str:
        """The text with every "{side}" placeholder replaced by its role's name."""
        if "{" not in text:
            return text
        names = self.side_names()
        return _PLACEHOLDER.sub(lambda m: names.get(m.group(1), m.group(0)), text)

    def no_deal_label(self) -> str:
        """What no agreement means here, as a short label for charts and stories ("No agreement:
        the war goes on"), from the model's ``no_deal_text`` (without its final full stop)."""
        text = self.say(self.model.no_deal_text or "").strip()
        return text.rstrip(".") if text else messages.text(self.language, "no_deal_label")

    @property
    def parties(self) -> tuple[Role, ...]:
        """The roles that are parties to the conflict: every role but a mediator."""
        return tuple(r for r in self.roles if not r.mediator)

    @functools.cached_property
    def exclusions(self) -> dict[tuple[str, str], frozenset[tuple[str, str]]]:
        """(issue, option) -> the (issue, option) pairs it cannot be combined with, both ways."""
        out: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for issue in self.issues:
            for o in issue.options:
                for ref in o.excludes:
                    ik, _, ok = ref.partition("/")
                    out.setdefault((issue.key, o.key), set()).add((ik, ok))
                    out.setdefault((ik, ok), set()).add((issue.key, o.key))
        return {k: frozenset(v) for k, v in out.items()}

    def conflicts(self, terms: Mapping[str, str]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
        """The pairs of chosen options that exclude each other, each pair once, in issue order."""
        ex = self.exclusions
        if not ex:
            return []
        chosen = [(i.key, terms.get(i.key)) for i in self.issues if terms.get(i.key) is not None]
        found = []
        for n, a in enumerate(chosen):
            for b in chosen[n + 1 :]:
                if b in ex.get(a, ()):  # type: ignore[operator]
                    found.append((a, b))
        return found

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
        """Build the scenario from its JSON form.

        Raises :class:`ScenarioError` naming the item and the field at fault (an unknown field,
        or text where a number belongs), so nothing half-built is ever used.
        """
        if not isinstance(d, Mapping):
            raise ScenarioError("A scenario must be a JSON object.")
        d, _notes = migrate(d)
        m = dict(_mapping(d.get("model") or {}, "model"))
        factors = tuple(
            _build(Factor, f, f"factor {_name(f, n)}")
            for n, f in enumerate(_seq(m.pop("factors", ()), "model/factors"))
        )
        model = _build(Model, {**m, "factors": factors}, "model", prebuilt=("factors",))
        issues = []
        for n, i in enumerate(_seq(d.get("issues", ()), "issues")):
            where = f"issue {_name(i, n)}"
            i = _mapping(i, where)
            options = tuple(
                _build(Option, o, f"option {_name(i, n)}/{_name(o, k)}")
                for k, o in enumerate(_seq(i.get("options", ()), f"{where}/options"))
            )
            issues.append(_build(Issue, {**i, "options": options}, where, prebuilt=("options",)))
        return _build(
            cls,
            {
                **{
                    k: v
                    for k, v in d.items()
                    if k in ("slug", "title", "description", "necessary_signatories", "moral")
                },
                "translations": _translations(d.get("translations", {})),
                "roles": tuple(
                    _build(Role, r, f"role {_name(r, n)}")
                    for n, r in enumerate(_seq(d.get("roles", ()), "roles"))
                ),
                "issues": tuple(issues),
                "phases": tuple(
                    _build(Phase, p, f"phase {_name(p, n)}")
                    for n, p in enumerate(_seq(d.get("phases", ()), "phases"))
                ),
                "news": tuple(
                    _build(NewsItem, x, f"news {_name(x, n)}")
                    for n, x in enumerate(_seq(d.get("news", ()), "news"))
                ),
                "model": model,
            },
            "scenario",
            prebuilt=("roles", "issues", "phases", "news", "model", "translations"),
        )

    def to_dict(self) -> dict[str, Any]:
        def plain(x: Any) -> Any:
            if isinstance(x, Mapping):
                return {k: plain(v) for k, v in x.items()}
            if isinstance(x, tuple | list):
                return [plain(v) for v in x]
            return x

        return {
            "format": FORMAT,
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "moral": self.moral,
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
                "sides": dict(self.model.sides),
                "peace_value": self.model.peace_value,
                "relapse_share": self.model.relapse_share,
                "no_deal_text": self.model.no_deal_text,
                "no_deal_values": dict(self.model.no_deal_values),
                "factors": [plain(vars(f)) for f in self.model.factors],
            },
            **({"translations": plain(self.translations)} if self.translations else {}),
        }


class ScenarioError(ValueError):
    """A scenario whose JSON form cannot be read; the message names the item and the field."""


def migrate(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A scenario written by an earlier version of the game, brought to the current format,
    with a note of every change (shown on import). Data already current is returned as is.

    - format 1 (no ``format`` field; the game's first versions): roles had a ``peace_weight``
      that the score never used; it is dropped.
    - format 2: no ``translations``; nothing changes (every text is read in English). Format 3
      added them, so that a game that cannot read translations refuses such a file by its
      format instead of by an unknown field.
    """
    d = dict(data)
    notes: list[str] = []
    version = d.get("format", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ScenarioError(f"format: must be a whole number (this game writes {FORMAT}).")
    if version > FORMAT:
        raise ScenarioError(
            f"format: this file was written by a newer version of the game (format {version}); "
            f"this one reads up to format {FORMAT}."
        )
    if version < 2:
        roles = d.get("roles")
        if isinstance(roles, list):
            dropped = [r.get("key", "?") for r in roles if isinstance(r, Mapping) and "peace_weight" in r]
            if dropped:
                d["roles"] = [
                    {k: v for k, v in r.items() if k != "peace_weight"} if isinstance(r, Mapping) else r
                    for r in roles
                ]
                notes.append(
                    "Roles' peace_weight dropped ("
                    + ", ".join(map(str, dropped))
                    + "): the score never used it; "
                    "what peace is worth to every party is now the model's peace_value."
                )
    d.pop("format", None)
    return d, notes


def _name(item: Any, n: int) -> str:
    key = item.get("key") if isinstance(item, Mapping) else None
    return f"`{key}`" if isinstance(key, str) and key else f"#{n + 1}"


def _translations(x: Any) -> dict[str, dict[str, str]]:
    """The ``translations`` object, its shape checked: {language: {path: text}}. Which languages
    and paths are allowed is checked by ``validate`` (naming each one at fault)."""
    if not isinstance(x, Mapping):
        raise ScenarioError('translations: must be an object of languages, e.g. {"uk": {"title": "…"}}.')
    out: dict[str, dict[str, str]] = {}
    for lang, table in x.items():
        if not isinstance(lang, str) or not isinstance(table, Mapping):
            raise ScenarioError(
                f'translations/{lang}: must be an object of texts by path, e.g. {{"roles/us/name": "…"}}.'
            )
        for path, text in table.items():
            if not isinstance(path, str) or not isinstance(text, str):
                raise ScenarioError(
                    f"translations/{lang}/{path}: a translation must be text, not {_kind(text)}."
                )
        out[lang] = dict(table)
    return out


def _mapping(x: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(x, Mapping):
        raise ScenarioError(f"{where}: must be an object with named fields.")
    return x


def _seq(x: Any, where: str) -> list[Any]:
    if not isinstance(x, list | tuple):
        raise ScenarioError(f"{where}: must be a list.")
    return list(x)


def _field_types(cls: type) -> dict[str, Any]:
    import typing

    return typing.get_type_hints(cls)


def _check_value(value: Any, hint: Any, where: str, name: str) -> Any:
    """The value converted to the field's type, or a ScenarioError saying what to write."""
    import typing

    origin = typing.get_origin(hint)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"{where}: `{name}` must be a number, not {_kind(value)}.")
        if value != value or value in (float("inf"), float("-inf")):
            raise ScenarioError(f"{where}: `{name}` must be a finite number.")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(f"{where}: `{name}` must be a whole number, not {_kind(value)}.")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ScenarioError(f"{where}: `{name}` must be true or false, not {_kind(value)}.")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ScenarioError(f"{where}: `{name}` must be text, not {_kind(value)}.")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ScenarioError(f"{where}: `{name}` must be a list of keys (text).")
        return tuple(value)
    if origin in (Mapping, dict) or hint is Mapping:
        args = typing.get_args(hint)
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise ScenarioError(f"{where}: `{name}` must be an object of named values.")
        inner = args[1] if len(args) == 2 else Any
        if inner is float:
            for k, v in value.items():
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise ScenarioError(
                        f"{where}: `{name}`: the value for `{k}` must be a number, not {_kind(v)}."
                    )
            return {k: float(v) for k, v in value.items()}
        if inner is str:
            for k, v in value.items():
                if not isinstance(v, str):
                    raise ScenarioError(f"{where}: `{name}`: the value for `{k}` must be a key (text).")
            return dict(value)
        if typing.get_origin(inner) is tuple:
            for k, v in value.items():
                if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
                    raise ScenarioError(f"{where}: `{name}`: `{k}` must be a list of texts.")
            return {k: tuple(v) for k, v in value.items()}
        if typing.get_origin(inner) in (Mapping, dict):
            out = {}
            for k, v in value.items():
                out[k] = _check_value(v, inner, where, f"{name}/{k}")
            return out
        return dict(value)
    return value


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _build(cls: Any, data: Any, where: str, prebuilt: tuple[str, ...] = ()) -> Any:
    """``cls(**data)`` with every field's name and type checked first."""
    import dataclasses as dc

    data = _mapping(data, where)
    fields = {f.name: f for f in dc.fields(cls)}
    unknown = [k for k in data if k not in fields]
    if unknown:
        known = ", ".join(f"`{k}`" for k in fields)
        raise ScenarioError(f"{where}: unknown field `{unknown[0]}` (a typo?). Known fields: {known}.")
    missing = [
        f.name
        for f in fields.values()
        if f.name not in data and f.default is dc.MISSING and f.default_factory is dc.MISSING
    ]
    if missing:
        raise ScenarioError(f"{where}: the field `{missing[0]}` is missing.")
    hints = _field_types(cls)
    kwargs = {k: (v if k in prebuilt else _check_value(v, hints[k], where, k)) for k, v in data.items()}
    return cls(**kwargs)


def _packages(s: Scenario):
    """Every package of the scenario that no exclusion forbids, as {issue: option}, lazily."""
    import itertools

    keys = s.issue_keys
    for combo in itertools.product(*[[o.key for o in i.options] for i in s.issues]):
        terms = dict(zip(keys, combo, strict=True))
        if not s.conflicts(terms):
            yield terms


def packages(s: Scenario) -> list[dict[str, str]]:
    """Every package that can be agreed (one option per issue, no two options that exclude each
    other), in the order of the issues' options."""
    return list(_packages(s))


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
        for kind, phrases in r.voice.items():
            fields = VOICE_KINDS.get(kind)
            if fields is None:
                problems.append(
                    f"Role {r.key!r}: the voice has an unknown kind of line {kind!r}; the kinds are "
                    f"{', '.join(VOICE_KINDS)}."
                )
                continue
            for phrase in phrases:
                try:
                    phrase.format(**{f: "x" for f in fields})
                except (KeyError, IndexError, ValueError) as e:
                    problems.append(
                        f"Role {r.key!r}: a {kind!r} phrase uses {{{e.args[0] if e.args else '?'}}}, which "
                        f"this kind of line does not know; it may use {', '.join('{' + f + '}' for f in fields)}."
                    )
            if not phrases:
                problems.append(
                    f"Role {r.key!r}: the voice's {kind!r} lines are empty; remove the kind or add a line."
                )
    if s.roles and all(r.mediator for r in s.roles):
        problems.append("Every role is a mediator: at least two roles must be parties to the conflict.")
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
    by_key = {f.key: f for f in s.model.factors}
    for side, role in s.model.sides.items():
        if side not in SIDES:
            problems.append(f"The model maps an unknown side {side!r}; the sides are {', '.join(SIDES)}.")
        if role not in roles:
            problems.append(f"The model's side {side!r} is mapped to {role!r}, which is not a role.")
    texts = [("the fixed context's label", s.model.context_label)] + [
        (f"Factor {f.key!r}", t)
        for f in s.model.factors
        for t in (f.label, f.explanation_up, f.explanation_down)
    ]
    for where, text in texts:
        for name in _PLACEHOLDER.findall(text):
            if name not in s.model.sides:
                problems.append(
                    f"{where} names the side {{{name}}}, which the model does not map to a role: "
                    f"map it under the model's sides, or write the role's name."
                )
    for issue in s.issues:
        for o in issue.options:
            for ref in o.excludes:
                ik, _, ok = ref.partition("/")
                other = s.issue(ik)
                if other is None or other.option(ok) is None:
                    problems.append(
                        f"Option {issue.key}/{o.key} excludes {ref!r}, which is not an option "
                        "(write it as issue/option)."
                    )
                elif ik == issue.key:
                    problems.append(
                        f"Option {issue.key}/{o.key} excludes {ref!r} of its own issue; a package "
                        "holds one option per issue already, so remove it."
                    )
    if s.issues and all(len(i.options) for i in s.issues) and not any(True for _ in _packages(s)):
        problems.append("The exclusions leave no package that can be agreed: remove some of them.")
    for f in s.model.factors:
        for other in f.accepted_by:
            g = by_key.get(other)
            if g is None:
                problems.append(f"Factor {f.key!r} must be accepted by unknown factor {other!r}.")
            elif not g.lo < g.centre:
                problems.append(
                    f"Factor {f.key!r} must be accepted by {other!r}, whose centre must lie above its "
                    "lower bound (acceptance runs from the lower bound to the centre)."
                )
        if f.moderator:
            g = by_key.get(f.moderator)
            if g is None:
                problems.append(f"Factor {f.key!r} is moderated by unknown factor {f.moderator!r}.")
            elif g.key == f.key:
                problems.append(f"Factor {f.key!r} cannot moderate itself.")
            elif not (g.centre > 0 and g.lo >= 0):
                problems.append(
                    f"Factor {f.key!r} is moderated by {g.key!r}, which needs a positive centre and no "
                    "negative values (its value is read relative to its centre)."
                )
        if f.side and f.side not in SIDES:
            problems.append(f"Factor {f.key!r}: side must be one of {', '.join(SIDES)}.")
        if f.time == "ramp" and not (0 <= f.time_start <= 1 and f.time_rate >= 0):
            problems.append(f"Factor {f.key!r}: a ramp starts between 0 and 1 and rises (rate 0 or more).")
        if f.time == "decay" and not 0 <= f.time_rate < 1:
            problems.append(f"Factor {f.key!r}: a decay rate lies between 0 and 1.")
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
    if not 0 <= s.model.peace_value <= 1000:
        problems.append(
            "The model's peace value (what a year at peace is worth to every party) must lie between 0 and 1000."
        )
    if not 0 <= s.model.relapse_share < 1:
        problems.append(
            "The model's relapse share (what is left of a party's gains in a renewed war) must lie from 0 up to, not including, 1."
        )
    for k in s.model.no_deal_values:
        if k not in factor_keys:
            problems.append(f"The model's no-deal values name unknown factor {k!r}.")
    if s.model.horizon_years < 1:
        problems.append("The durability horizon must be at least one year.")
    if not 0 < s.model.baseline_hazard < 1:
        problems.append("The baseline yearly hazard must be between 0 and 1.")
    problems += translation_problems(s)
    return problems


def translation_problems(s: Scenario) -> list[str]:
    """What makes a translation unusable, naming the language and the text: a language the game
    does not know, a path that names no text of this scenario (a typo, or an item renamed or
    removed), a phrase or text whose {placeholders} the game cannot fill. (Whether a translation
    is complete and faithful to the English, its numbers and structure, is checked by
    ``game.engine.translation.report``.)"""
    problems: list[str] = []
    slots = dict(s._slots())
    voice_kind = re.compile(r"^roles/([^/]+)/voice/([^/]+)/\d+$")
    side_texts = re.compile(r"^model/(context_label|factors/[^/]+/(label|explanation_up|explanation_down))$")
    for lang, table in s.translations.items():
        if lang not in TRANSLATED_LANGUAGES:
            problems.append(
                f"Translations: the language {lang!r} is not one the game offers"
                + (
                    " (English is the scenario's own text: edit the fields themselves)"
                    if lang == "en"
                    else ""
                )
                + f"; the languages are {', '.join(TRANSLATED_LANGUAGES)}."
            )
            continue
        for path, text in table.items():
            if path not in slots:
                problems.append(
                    f"Translation {lang}: {path!r} is not a text of this scenario (a typo in the path, "
                    "or an item that was renamed or removed); paths look like roles/<key>/name."
                )
                continue
            m = voice_kind.match(path)
            if m and text:
                fields = VOICE_KINDS.get(m.group(2), ())
                try:
                    text.format(**{f: "x" for f in fields})
                except (KeyError, IndexError, ValueError) as e:
                    name = e.args[0] if isinstance(e, KeyError) and e.args else "a brace"
                    problems.append(
                        f"Translation {lang}: {path}: the phrase uses {{{name}}}, which this kind of line "
                        f"does not know; it may use {', '.join('{' + f + '}' for f in fields)} "
                        "(write a literal brace as {{ or }})."
                    )
            elif side_texts.match(path):
                for name in _PLACEHOLDER.findall(text):
                    if name not in s.model.sides:
                        problems.append(
                            f"Translation {lang}: {path} names the side {{{name}}}, which the model does "
                            "not map to a role."
                        )
    return problems
