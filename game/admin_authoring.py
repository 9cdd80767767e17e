"""Authoring tools of the admin: factors as typed forms, one grid for options, points, loadings
and news effects, the standard factors as a template, and a live list of problems.

Everything is checked by the engine's own parser and validator (``game.engine.scenario``), the
same code the import and the game use: one validator, whatever the way in.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy

from game.engine.scenario import (
    COMBINE_KINDS,
    SIDES,
    TIME_KINDS,
    Factor,
    Scenario,
    ScenarioError,
    _build,
    validate,
)
from game.models import ScenarioConfig, ScenarioFactor, ScenarioOption

TEMPLATES_PATH = Path(__file__).resolve().parent / "scenarios" / "templates" / "factors.json"

# --- factors as typed forms --------------------------------------------------------------------------

PARAM_FIELDS = (
    "beta",
    "centre",
    "combine",
    "default",
    "base",
    "lo",
    "hi",
    "time",
    "time_rate",
    "time_start",
    "side",
    "moderator",
    "accepted_by",
    "coupling",
    "explanation_up",
    "explanation_down",
    "source",
)


def _coupling_text(coupling: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in (coupling or {}).items())


def parse_coupling(text: str, where: str) -> dict[str, float]:
    """``other_factor=coef, other=coef`` -> {other_factor: coef}; a clear error otherwise."""
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            raise ValidationError(
                f"{where}: write the coupling as other_factor=number, separated by commas (got {part!r})."
            ) from None
    return out


class FactorForm(forms.ModelForm):
    """One durability factor with a labelled, typed, range-checked field per parameter (no JSON).

    The parameters are assembled into ``params`` and read by the engine's own parser, so the
    admin accepts exactly what the import accepts."""

    beta = forms.FloatField(
        label=gettext_lazy("β (strength and direction)"),
        help_text=gettext_lazy(
            "Positive: the higher the factor's value, the higher the risk of war; negative: the lower. "
            "The hazard ratio between two values is exp(β x difference): β = 0.69 doubles the risk over a "
            "difference of 1, β = -0.69 halves it."
        ),
    )
    centre = forms.FloatField(
        initial=0.0,
        help_text=gettext_lazy(
            "The value at which the factor leaves the risk unchanged: a typical historical deal."
        ),
    )
    combine = forms.ChoiceField(
        choices=[(c, c) for c in COMBINE_KINDS],
        initial="sum",
        help_text=gettext_lazy(
            "How the chosen options' loadings make one value: sum (parts add up), mean, max (the strongest "
            "clause decides), opposition (0.6 x the worst clause + 0.4 x the average)."
        ),
    )
    default = forms.FloatField(
        initial=0.0, help_text=gettext_lazy("The loading of an option that does not load on this factor.")
    )
    base = forms.FloatField(
        initial=0.0,
        help_text=gettext_lazy("Added before the options, e.g. a side's strength before the deal."),
    )
    lo = forms.FloatField(
        initial=0.0,
        label=gettext_lazy("Lowest value"),
        help_text=gettext_lazy("The value is clamped to [lowest, highest]."),
    )
    hi = forms.FloatField(initial=1.0, label=gettext_lazy("Highest value"))
    time = forms.ChoiceField(
        choices=[(t, t) for t in TIME_KINDS],
        initial="constant",
        help_text=gettext_lazy(
            "constant: the same every year; ramp: grows from 'start' by 'rate' a year to full; decay: falls by 'rate' a year."
        ),
    )
    time_rate = forms.FloatField(initial=0.0, min_value=0.0, max_value=1.0, label=gettext_lazy("Rate a year"))
    time_start = forms.FloatField(
        initial=1.0, min_value=0.0, max_value=1.0, label=gettext_lazy("Ramp's weight in year 1")
    )
    side = forms.ChoiceField(
        choices=[("", gettext_lazy("(none)"))] + [(k, f"{k}: {v}") for k, v in SIDES.items()],
        required=False,
        help_text=gettext_lazy("Which side of the model the factor speaks of, if one (for readers)."),
    )
    moderator = forms.ChoiceField(
        choices=[("", gettext_lazy("(none)"))],
        required=False,
        help_text=gettext_lazy(
            "A factor whose value, relative to its centre, scales this one (a side's incentive by its ability to act)."
        ),
    )
    accepted_by = forms.MultipleChoiceField(
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Rejection factors that must accept what this one settles: it counts only as far as both sides accept."
        ),
    )
    coupling = forms.CharField(
        required=False,
        help_text=gettext_lazy(
            "Other factors that shift this one: other_factor=coefficient, separated by commas (e.g. guarantee_credibility=-0.15)."
        ),
    )
    explanation_up = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "Why, in plain words, this factor raises the risk (students read it). {implementer} and {challenger} name the sides."
        ),
    )
    explanation_down = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Why it lowers the risk."),
    )
    source = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "The evidence for the size and the values, and which numbers are design choices."
        ),
    )

    class Meta:
        model = ScenarioFactor
        fields = ("order", "key", "label")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        params = dict(getattr(self.instance, "params", None) or {})
        scenario = (
            getattr(self.instance, "scenario", None) if self.instance and self.instance.scenario_id else None
        )
        others = []
        if scenario is not None:
            others = [f.key for f in scenario.factors.all() if f.pk != self.instance.pk]
        self.fields["moderator"].choices = [("", gettext("(none)"))] + [(k, k) for k in others]
        self.fields["accepted_by"].choices = [(k, k) for k in others]
        key = (self.data.get(f"{self.prefix}-key") if self.is_bound else None) or self.instance.key or "?"
        for name, field in self.fields.items():
            if isinstance(field, forms.FloatField):
                field.error_messages["invalid"] = f"factor `{key}`: `{name}` must be a number."
                field.error_messages["required"] = f"factor `{key}`: `{name}` is needed."
        for name in PARAM_FIELDS:
            if name in params and not self.is_bound:
                value = params[name]
                if name == "coupling":
                    value = _coupling_text(value)
                self.fields[name].initial = value

    def clean(self):
        data = super().clean()
        key = data.get("key") or "?"
        where = f"factor `{key}`"
        params: dict[str, Any] = {}
        for name in PARAM_FIELDS:
            value = data.get(name)
            if name == "coupling":
                value = parse_coupling(value or "", where)
            elif name == "accepted_by":
                value = list(value or [])
            elif name in ("side", "moderator", "explanation_up", "explanation_down", "source"):
                value = value or ""
            if value is None:
                continue
            params[name] = value
        if params.get("lo") is not None and params.get("hi") is not None and params["lo"] > params["hi"]:
            raise ValidationError({"hi": gettext("The highest value must not be below the lowest.")})
        try:
            _build(Factor, {"key": key, "label": data.get("label") or key, **params}, where)
        except ScenarioError as e:
            raise ValidationError(str(e)) from None
        self.instance.params = params
        return data


# --- the standard factors ---------------------------------------------------------------------------


def standard_factors() -> list[dict[str, Any]]:
    return json.loads(TEMPLATES_PATH.read_text(encoding="utf-8"))["factors"]


def add_standard_factors(config: ScenarioConfig) -> list[str]:
    """Copy the standard factors the scenario does not have yet; the keys added."""
    have = set(config.factors.values_list("key", flat=True))
    order = config.factors.count()
    added = []
    for f in standard_factors():
        if f["key"] in have:
            continue
        ScenarioFactor.objects.create(
            scenario=config,
            order=order,
            key=f["key"],
            label=f["label"],
            params={k: v for k, v in f.items() if k not in ("key", "label")},
        )
        order += 1
        added.append(f["key"])
    return added


# --- the grid: options, points, loadings and news effects on one page --------------------------------


def _num(raw: str, where: str, errors: list[str], *, blank: Any = None) -> Any:
    raw = (raw or "").strip().replace(",", ".")
    if raw == "":
        return blank
    try:
        value = float(raw)
    except ValueError:
        errors.append(
            gettext("%(where)s must be a number, not %(raw)s.") % {"where": where, "raw": repr(raw)}
        )
        return blank
    if not math.isfinite(value):
        errors.append(gettext("%(where)s must be a finite number.") % {"where": where})
        return blank
    return value


def draft_from_post(config: ScenarioConfig, post: Any) -> tuple[dict[str, Any], list[str]]:
    """The scenario's JSON form with the grid's values in it, and the fields that are not numbers."""
    data = config.to_dict()
    errors: list[str] = []
    roles = {r["key"]: r["name"] for r in data["roles"]}
    factor_keys = [f["key"] for f in data["model"]["factors"]]
    for issue in data["issues"]:
        for o in issue["options"]:
            ref = f"{issue['key']}/{o['key']}"
            for r, name in roles.items():
                field = f"pts:{ref}:{r}"
                if field in post:
                    v = _num(
                        post.get(field),
                        gettext("Option %(option)s: the points for %(role)s") % {"option": ref, "role": name},
                        errors,
                    )
                    if v is None:
                        o["points"].pop(r, None)
                    else:
                        o["points"][r] = v
            for fk in factor_keys:
                field = f"load:{ref}:{fk}"
                if field in post:
                    v = _num(
                        post.get(field),
                        gettext("Option %(option)s: the loading on %(factor)s")
                        % {"option": ref, "factor": fk},
                        errors,
                    )
                    if v is None:
                        o["loadings"].pop(fk, None)
                    else:
                        o["loadings"][fk] = v
    import re

    for issue in data["issues"]:
        key = (post.get(f"new:{issue['key']}:key") or "").strip()
        label = (post.get(f"new:{issue['key']}:label") or "").strip()
        if not key and not label:
            continue
        where = gettext("The new option of issue %(issue)s") % {"issue": repr(issue["key"])}
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", key):
            errors.append(
                f"{where}: its key must be lower-case letters, digits and underscores, starting with a letter."
            )
            continue
        if any(o["key"] == key for o in issue["options"]):
            errors.append(
                gettext("%(where)s: the issue already has an option %(key)s.")
                % {"where": where, "key": repr(key)}
            )
            continue
        if not label:
            errors.append(gettext("%(where)s: give it a label, as students will see it.") % {"where": where})
            continue
        new = {
            "key": key,
            "label": label,
            "summary": "",
            "points": {},
            "commits": [],
            "loadings": {},
            "excludes": [],
            "new": True,
        }
        for r, name in roles.items():
            v = _num(post.get(f"new:{issue['key']}:pts:{r}"), f"{where}: the points for {name}", errors)
            if v is not None:
                new["points"][r] = v
        for fk in factor_keys:
            v = _num(post.get(f"new:{issue['key']}:load:{fk}"), f"{where}: the loading on {fk}", errors)
            if v is not None:
                new["loadings"][fk] = v
        issue["options"].append(new)
    for n in data["news"]:
        for fk in factor_keys:
            field = f"newsf:{n['key']}:{fk}"
            if field in post:
                v = _num(
                    post.get(field),
                    gettext("News %(news)s: the effect on %(factor)s")
                    % {"news": repr(n["key"]), "factor": fk},
                    errors,
                )
                if v is None or v == 0:
                    n["factor_effects"].pop(fk, None)
                else:
                    n["factor_effects"][fk] = v
        for issue in data["issues"]:
            for o in issue["options"]:
                ref = f"{issue['key']}/{o['key']}"
                for r, name in roles.items():
                    field = f"newsv:{n['key']}:{r}:{ref}"
                    if field in post:
                        v = _num(
                            post.get(field),
                            gettext("News %(news)s: the change of %(role)s's points for %(option)s")
                            % {"news": repr(n["key"]), "role": name, "option": ref},
                            errors,
                        )
                        per = n["value_effects"].setdefault(r, {})
                        if v is None or v == 0:
                            per.pop(ref, None)
                        else:
                            per[ref] = v
        n["value_effects"] = {r: v for r, v in n["value_effects"].items() if v}
    return data, errors


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """The draft without the grid's own markers."""
    out = json.loads(json.dumps(data))
    for issue in out["issues"]:
        for o in issue["options"]:
            o.pop("new", None)
    return out


def problems_of(data: dict[str, Any]) -> list[str]:
    try:
        return validate(Scenario.from_dict(_clean(data)))
    except ScenarioError as e:
        return [str(e)]


@transaction.atomic
def save_grid(config: ScenarioConfig, data: dict[str, Any]) -> None:
    options = {
        (o.issue.key, o.key): o
        for o in ScenarioOption.objects.filter(issue__scenario=config).select_related("issue")
    }
    issues = {i.key: i for i in config.issues.all()}
    for issue in data["issues"]:
        for n, o in enumerate(issue["options"]):
            if o.get("new"):
                ScenarioOption.objects.create(
                    issue=issues[issue["key"]],
                    order=n,
                    key=o["key"],
                    label=o["label"],
                    points=o["points"],
                    loadings=o["loadings"],
                )
                continue
            row = options[(issue["key"], o["key"])]
            row.points, row.loadings = o["points"], o["loadings"]
            row.save(update_fields=["points", "loadings"])
    for n in data["news"]:
        config.news.filter(key=n["key"]).update(
            factor_effects=n["factor_effects"], value_effects=n["value_effects"]
        )


def grid_context(config: ScenarioConfig, data: dict[str, Any]) -> dict[str, Any]:
    roles = data["roles"]
    factors = data["model"]["factors"]
    defaults = {f["key"]: f.get("default", 0.0) for f in factors}
    issues = []
    for issue in data["issues"]:
        rows = []
        for o in issue["options"]:
            ref = f"{issue['key']}/{o['key']}"
            rows.append(
                {
                    "ref": ref,
                    "label": o["label"],
                    "points": [
                        {
                            "name": f"pts:{ref}:{r['key']}",
                            "value": _fmt(o["points"].get(r["key"])),
                            "role": r["name"],
                        }
                        for r in roles
                    ],
                    "loadings": [
                        {
                            "name": f"load:{ref}:{f['key']}",
                            "value": _fmt(o["loadings"].get(f["key"])),
                            "placeholder": _fmt(defaults[f["key"]]),
                            "factor": f["key"],
                        }
                        for f in factors
                    ],
                }
            )
        issues.append(
            {
                "key": issue["key"],
                "name": issue["name"],
                "rows": rows,
                "new": {
                    "key": f"new:{issue['key']}:key",
                    "label": f"new:{issue['key']}:label",
                    "points": [
                        {"name": f"new:{issue['key']}:pts:{r['key']}", "role": r["name"]} for r in roles
                    ],
                    "loadings": [
                        {
                            "name": f"new:{issue['key']}:load:{f['key']}",
                            "placeholder": _fmt(defaults[f["key"]]),
                            "factor": f["key"],
                        }
                        for f in factors
                    ],
                },
            }
        )
    news = []
    for n in data["news"]:
        news.append(
            {
                "key": n["key"],
                "headline": n["headline"],
                "factor_effects": [
                    {
                        "name": f"newsf:{n['key']}:{f['key']}",
                        "value": _fmt(n["factor_effects"].get(f["key"])),
                        "factor": f["key"],
                    }
                    for f in factors
                ],
                "issues": [
                    {
                        "name": issue["name"],
                        "rows": [
                            {
                                "label": o["label"],
                                "cells": [
                                    {
                                        "name": f"newsv:{n['key']}:{r['key']}:{issue['key']}/{o['key']}",
                                        "value": _fmt(
                                            n["value_effects"]
                                            .get(r["key"], {})
                                            .get(f"{issue['key']}/{o['key']}")
                                        ),
                                        "role": r["name"],
                                    }
                                    for r in roles
                                ],
                            }
                            for o in issue["options"]
                        ],
                    }
                    for issue in data["issues"]
                ],
            }
        )
    return {
        "config": config,
        "roles": roles,
        "factors": [{"key": f["key"], "label": f["label"]} for f in factors],
        "issues": issues,
        "news": news,
    }


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    return f"{v:g}" if isinstance(v, float | int) else str(v)


def grid_view(admin_site: Any, request: HttpRequest, config: ScenarioConfig) -> HttpResponse:
    errors: list[str] = []
    if request.method == "POST":
        data, errors = draft_from_post(config, request.POST)
        if request.POST.get("check"):
            return JsonResponse({"errors": errors, "problems": problems_of(data)})
        if not errors:
            save_grid(config, data)
            from django.contrib import messages

            problems = problems_of(data)
            messages.success(
                request,
                "Saved."
                + (
                    f" {len(problems)} problem(s) still to fix before the scenario can be played."
                    if problems
                    else " The scenario can be played."
                ),
            )
            return redirect(request.path)
    else:
        data = config.to_dict()
    ctx = {
        **admin_site.each_context(request),
        **grid_context(config, data),
        "title": gettext("Options, points and the model: %(title)s") % {"title": config.title},
        "errors": errors,
        "problems": problems_of(data),
        "opts": ScenarioConfig._meta,
    }
    return render(request, "admin/game/scenario_grid.html", ctx, status=400 if errors else 200)
