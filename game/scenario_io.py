"""Scenario files: JSON in, JSON out, checked against the schema and the engine's validation.

An import creates or updates a scenario by slug inside one transaction: a bad file changes
nothing and the error names the line or the key at fault.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from django.db import transaction

from game.engine.scenario import Scenario, ScenarioError, migrate, validate
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
    """Schema first (shape), then the engine's rules (meaning). Raises ScenarioFileError.

    A file written by an earlier version of the game is migrated first (see
    ``game.engine.scenario.migrate``); :func:`migration_notes` says what changed."""
    if isinstance(data, dict):
        try:
            data, _ = migrate(data)
        except ScenarioError as e:
            raise ScenarioFileError(str(e)) from e
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise ScenarioFileError(f"At {_where(data, list(e.absolute_path))}: {_say(e)}{more}.")
    try:
        scenario = Scenario.from_dict(data)
    except (ScenarioError, TypeError) as e:  # a field of the wrong kind inside a factor, say
        raise ScenarioFileError(str(e)) from e
    problems = validate(scenario)
    if problems:
        raise ScenarioFileError("The scenario is not playable: " + " ".join(problems))
    return scenario


def migration_notes(data: Any) -> list[str]:
    """What importing ``data`` changes to bring it to the current format (empty if current)."""
    if not isinstance(data, dict):
        return []
    try:
        return migrate(data)[1]
    except ScenarioError:
        return []


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
    if "propertyNames" in e.schema_path and list(e.schema_path)[:2] == ["properties", "translations"]:
        if e.validator == "enum":
            return (
                f"the language {e.instance!r} is not one the game offers; the languages are "
                f"{', '.join(e.validator_value)} (English is the scenario's own text, the fields themselves)"
            )
        return (
            f"{e.instance!r} is not a text of a scenario; paths look like title, roles/<key>/brief, "
            "roles/<key>/voice/<kind>/<n>, issues/<key>/options/<key>/label, news/<key>/headline or "
            "model/factors/<key>/explanation_up (docs/authoring.md, 'Translating a scenario')"
        )
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
def import_dict(data: dict[str, Any], *, owner: Any = None, may_replace: Any = None) -> ScenarioConfig:
    """Create or replace the scenario with ``data['slug']``. Checks everything first; a file of
    an earlier format is migrated (``migration_notes`` says how).

    ``owner`` owns a scenario this import creates. ``may_replace(existing)``, when given, says
    whether an existing scenario with the same slug may be overwritten (an instructor may replace
    their own, never another's): if not, nothing changes and the error says to change the slug."""
    check(data)
    data, _ = migrate(data)
    model = data.get("model", {})
    existing = ScenarioConfig.objects.select_for_update().filter(slug=data["slug"]).first()
    if existing is not None and may_replace is not None and not may_replace(existing):
        raise ScenarioFileError(
            f"A scenario with the slug {data['slug']!r} already exists and is not yours to change: "
            "give the file another slug (and title) to import it as your own."
        )
    fields = {
        "title": data["title"],
        "description": data.get("description", ""),
        "moral": data.get("moral", ""),
        "horizon_years": model.get("horizon_years", 10),
        "baseline_hazard": model.get("baseline_hazard", 0.12),
        "baseline_decay": model.get("baseline_decay", 0.85),
        "context_log_hr": model.get("context_log_hr", 0.0),
        "context_label": model.get("context_label", ""),
        "sides": dict(model.get("sides", {})),
        "peace_value": model.get("peace_value", 50.0),
        "relapse_share": model.get("relapse_share", 0.1),
        "no_deal_text": model.get("no_deal_text", ""),
        "no_deal_values": dict(model.get("no_deal_values", {})),
        "translations": {k: dict(v) for k, v in (data.get("translations") or {}).items() if v},
    }
    config, _ = ScenarioConfig.objects.update_or_create(
        slug=data["slug"], defaults=fields, create_defaults={**fields, "owner": owner}
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
            mediator=r.get("mediator", False),
            voice=r.get("voice", {}),
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
                excludes=o.get("excludes", []),
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


def import_text(text: str, **kwargs: Any) -> ScenarioConfig:
    return import_dict(parse(text), **kwargs)


def digest(data: Any) -> str:
    """A stable digest of a scenario's JSON form (key order and whitespace do not count)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _load_shipped(text: str) -> ScenarioConfig:
    data = parse(text)
    config = import_dict(data)
    config.shipped_digest = digest(data)
    config.content_digest = digest(config.to_dict())
    # The department's scenario: no owner, shared with every instructor (read, play, copy).
    config.owner, config.shared = None, True
    config.save(update_fields=["shipped_digest", "content_digest", "owner", "shared"])
    return config


# Every format whose export a stored ``content_digest`` may have been computed from. A copy
# loaded by an older game and never edited reads back in today's format (a new "format"
# number, no translations): its digest is checked as that older game would have written it.
DIGESTED_FORMATS = (2, 3)


def _unedited(config: ScenarioConfig) -> bool:
    """Whether a stored scenario is still exactly what was loaded (its content digest holds)."""
    if not config.content_digest:
        return False
    current = config.to_dict()
    if digest(current) == config.content_digest:
        return True
    if current.get("translations"):
        return False  # translations exist only since format 3, whose digest did not match
    return any(digest({**current, "format": f}) == config.content_digest for f in DIGESTED_FORMATS)


def shipped_paths() -> list[Path]:
    """The scenario files shipped with the game (``game/scenarios/<slug>.json``), default first."""
    paths = [p for p in SCENARIO_DIR.glob("*.json") if not p.name.endswith((".checks.json", ".schema.json"))]
    return sorted(paths, key=lambda p: (p.stem != "default", p.stem))


def ensure_default(report: Any = None) -> ScenarioConfig:
    """Load the shipped default scenario, or bring an older copy up to date (see ensure_shipped)."""
    return _ensure(DEFAULT_PATH, report)


def ensure_shipped(report: Any = None) -> list[ScenarioConfig]:
    """Every shipped scenario loaded or brought up to date (idempotent)."""
    return [_ensure(p, report) for p in shipped_paths()]


def _ensure(path: Path, report: Any = None) -> ScenarioConfig:
    """Load a shipped scenario, or bring an older copy up to date (idempotent).

    A copy loaded from an older version of the file and never edited is replaced in place. A
    copy that an instructor edited (or one loaded before the game kept digests) is kept under
    a new slug, ``<slug>-kept-<date>``, with its sessions, and the shipped version is loaded
    under the slug: an upgrade never overwrites an instructor's work. ``report`` (a callable)
    is told what happened.
    """
    say = report or (lambda _msg: None)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    slug = data.get("slug", path.stem)
    shipped = digest(data)
    existing = ScenarioConfig.objects.filter(slug=slug).first()
    if existing is None:
        return _load_shipped(text)
    if existing.shipped_digest == shipped:
        return existing
    with transaction.atomic():
        edited = not _unedited(existing)
        if edited:
            from django.utils import timezone

            stamp = timezone.now().strftime("%Y%m%d-%H%M")
            kept = f"{slug}-kept-{stamp}"
            n = 2
            while ScenarioConfig.objects.filter(slug=kept).exists():
                kept = f"{slug}-kept-{stamp}-{n}"
                n += 1
            ScenarioConfig.objects.filter(pk=existing.pk).update(
                slug=kept, title=f"{existing.title} (kept before an update)"[:200]
            )
            say(
                f"The {slug} scenario in the database differs from the shipped one; it was kept as "
                f"{kept!r} and the shipped version loaded as {slug!r}."
            )
        else:
            say(f"The {slug} scenario was updated to the shipped version.")
        return _load_shipped(text)
