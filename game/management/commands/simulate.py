"""Play bot-only games of a scenario in the engine and print the balance report."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from game import simulate
from game.engine.scenario import Scenario, validate
from game.models import ScenarioConfig
from game.scenario_io import SCENARIO_DIR, ScenarioFileError, check


def load_scenario(slug: str | None, path: str | None) -> Scenario:
    """The scenario from a file, else from the database by slug, else the shipped file of that slug."""
    if path:
        try:
            return check(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, ScenarioFileError) as e:
            raise CommandError(f"Cannot use {path}: {e}") from e
    slug = slug or "default"
    try:
        config = ScenarioConfig.objects.filter(slug=slug).first()
    except DatabaseError:  # no database yet: the shipped files still work
        config = None
    if config is not None:
        scenario = config.to_engine()
        problems = validate(scenario)
        if problems:
            raise CommandError(f"The scenario {slug!r} cannot be played: " + " ".join(problems))
        return scenario
    shipped = SCENARIO_DIR / f"{slug}.json"
    if shipped.is_file():
        return check(json.loads(shipped.read_text(encoding="utf-8")))
    raise CommandError(f"No scenario has the slug {slug!r} (neither in the database nor in {SCENARIO_DIR}).")


class Command(BaseCommand):
    help = (
        "Play bot-only games of a scenario in the engine (no sockets, no database events) and "
        "print a balance report: how often tables agree, on what, how durable, each role's "
        "scores, and what broke the deals."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scenario", default="default", help="Slug of the scenario (default: default).")
        parser.add_argument("--file", help="A scenario JSON file to simulate instead of a stored scenario.")
        parser.add_argument("--games", type=int, default=1000, help="How many games (default 1000).")
        parser.add_argument(
            "--seed", type=int, default=0, help="Seed of the run; each game's seed derives from it."
        )
        parser.add_argument(
            "--rounds",
            type=int,
            default=simulate.ROUNDS_PER_PHASE,
            help=f"Rounds per phase; every role acts once a round (default {simulate.ROUNDS_PER_PHASE}).",
        )
        parser.add_argument(
            "--news", nargs="*", default=[], help="News items every table receives at the start."
        )
        parser.add_argument("--top", type=int, default=10, help="How many packages to list (default 10).")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **o):
        if not 1 <= o["games"] <= 1_000_000:
            raise CommandError("--games must be between 1 and 1,000,000.")
        if not 1 <= o["rounds"] <= 100:
            raise CommandError("--rounds must be between 1 and 100.")
        scenario = load_scenario(o["scenario"], o["file"])
        unknown = [k for k in o["news"] if scenario.news_item(k) is None]
        if unknown:
            raise CommandError(f"Unknown news item(s): {', '.join(unknown)}.")
        start = time.perf_counter()
        report = simulate.balance(scenario, o["games"], o["seed"], rounds=o["rounds"], news=o["news"])
        report["elapsed"] = time.perf_counter() - start
        if o["json"]:
            self.stdout.write(json.dumps(report, indent=1, ensure_ascii=False))
        else:
            self.stdout.write(simulate.format_report(report, top=o["top"]))
