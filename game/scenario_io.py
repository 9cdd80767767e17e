"""Scenario files: JSON in, JSON out, checked against the schema and the engine's validation.

An import creates or updates a scenario by slug inside one transaction: a bad file changes
nothing and the error names the line or the key at fault.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from django.db import transaction

from game.engine.scenario import Scenario, validate
from game.models import (
    ScenarioConfig,
    ScenarioFactor,
    ScenarioIssue,
    ScenarioNews,
    ScenarioOption,
    ScenarioPhase,
    ScenarioRole,
)

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
SCHEMA_PATH = SCENARIO_DIR / "scenario.schema.json"
DEFAULT_PATH = SCENARIO_DIR / "default.json"


class ScenarioFileError(ValueError):
    """A scenario file that cannot be imported; the message says where and why."""


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def parse(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ScenarioFileError(f"Not valid JSON: line {e.lineno}, column {e.colno}: {e.msg}.") from e
    check(data)
    return data


def check(data: Any) -> Scenario:
    """Schema first (shape), then the engine's rules (meaning). Raises ScenarioFileError."""
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise ScenarioFileError(f"At {_where(data, list(e.absolute_path))}: {_say(e)}{more}.")
    try:
        scenario = Scenario.from_dict(data)
    except TypeError as e:  # an unexpected field inside a factor, say
        raise ScenarioFileError(f"Unexpected content: {e}.") from e
    problems = validate(scenario)
    if problems:
        raise ScenarioFileError("The scenario is not playable: " + " ".join(problems))
    return scenario


def _where(data: Any, path: list) -> str:
    """A JSON path that also names the keyed item it passes through: issues/2 (guarantees)/options."""
    parts, node = [], data
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
        label = str(step)
        if isinstance(step, int) and isinstance(node, dict) and isinstance(node.get("key"), str):
            label += f" ({node['key']})"
        parts.append(label)
    return "/".join(parts) or "(top level)"


def _say(e: jsonschema.ValidationError) -> str:
    if e.validator == "minItems":
        return f"needs at least {e.validator_value} entries"
    if e.validator == "required":
        return e.message
    if e.validator == "additionalProperties":
        return e.message
    text = e.message
    return text if len(text) <= 200 else text[:200] + "…"


def export_dict(config: ScenarioConfig) -> dict[str, Any]:
    return config.to_dict()


def export_text(config: ScenarioConfig) -> str:
    return json.dumps(export_dict(config), indent=2, ensure_ascii=False) + "\n"


@transaction.atomic
def import_dict(data: dict[str, Any]) -> ScenarioConfig:
    """Create or replace the scenario with ``data['slug']``. Checks everything first."""
    check(data)
    model = data.get("model", {})
    config, _ = ScenarioConfig.objects.update_or_create(
        slug=data["slug"],
        defaults={
            "title": data["title"],
            "description": data.get("description", ""),
            "horizon_years": model.get("horizon_years", 10),
            "baseline_hazard": model.get("baseline_hazard", 0.12),
            "baseline_decay": model.get("baseline_decay", 0.85),
            "context_log_hr": model.get("context_log_hr", 0.0),
            "context_label": model.get("context_label", ""),
        },
    )
    config.roles.all().delete()
    config.issues.all().delete()
    config.phases.all().delete()
    config.news.all().delete()
    config.factors.all().delete()
    necessary = set(data.get("necessary_signatories", ()))
    ScenarioRole.objects.bulk_create(
        ScenarioRole(
            scenario=config,
            order=n,
            key=r["key"],
            name=r["name"],
            colour=r.get("colour", "#555555"),
            description=r.get("description", ""),
            brief=r.get("brief", ""),
            no_deal_value=r.get("no_deal_value", 0),
            peace_weight=r.get("peace_weight", 0.5),
            necessary_signatory=r["key"] in necessary,
        )
        for n, r in enumerate(data["roles"])
    )
    for n, i in enumerate(data["issues"]):
        issue = ScenarioIssue.objects.create(
            scenario=config, order=n, key=i["key"], name=i["name"], description=i.get("description", "")
        )
        ScenarioOption.objects.bulk_create(
            ScenarioOption(
                issue=issue,
                order=m,
                key=o["key"],
                label=o["label"],
                summary=o.get("summary", ""),
                points=o.get("points", {}),
                commits=o.get("commits", []),
                loadings=o.get("loadings", {}),
            )
            for m, o in enumerate(i["options"])
        )
    ScenarioPhase.objects.bulk_create(
        ScenarioPhase(
            scenario=config,
            order=n,
            key=p["key"],
            name=p["name"],
            duration_seconds=p.get("duration_seconds", 900),
            agreement=p.get("agreement", False),
        )
        for n, p in enumerate(data["phases"])
    )
    ScenarioNews.objects.bulk_create(
        ScenarioNews(
            scenario=config,
            order=n,
            key=x["key"],
            headline=x["headline"],
            body=x.get("body", ""),
            factor_effects=x.get("factor_effects", {}),
            value_effects=x.get("value_effects", {}),
        )
        for n, x in enumerate(data.get("news", []))
    )
    ScenarioFactor.objects.bulk_create(
        ScenarioFactor(
            scenario=config,
            order=n,
            key=f["key"],
            label=f["label"],
            params={k: v for k, v in f.items() if k not in ("key", "label")},
        )
        for n, f in enumerate(model.get("factors", []))
    )
    return config


def import_text(text: str) -> ScenarioConfig:
    return import_dict(parse(text))


def ensure_default() -> ScenarioConfig:
    """Load the shipped default scenario unless it is already there (idempotent)."""
    existing = ScenarioConfig.objects.filter(slug="default").first()
    if existing is not None:
        return existing
    return import_text(DEFAULT_PATH.read_text(encoding="utf-8"))
