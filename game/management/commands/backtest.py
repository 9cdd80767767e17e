"""Run the durability model against real ceasefires and peace agreements (docs/backtest.md)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from game.engine import backtest
from game.management.commands.simulate import load_scenario

CASES = Path(__file__).resolve().parents[2] / "backtest" / "cases.json"


class Command(BaseCommand):
    help = (
        "Predict the survival of real ceasefires and peace agreements with a scenario's durability "
        "model and compare with what happened: each case's predicted survival at years 1, 3 and 10, "
        "Harrell's C, Spearman and the Brier score against a constant-rate baseline."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scenario", default="default", help="Whose model to test (default: default).")
        parser.add_argument("--cases", help=f"A cases file in the documented format (default: {CASES.name}).")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **o):
        scenario = load_scenario(o["scenario"], None)
        path = Path(o["cases"]) if o["cases"] else CASES
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise CommandError(f"Cannot read {path}: {e.strerror or e}.") from e
        except json.JSONDecodeError as e:
            raise CommandError(
                f"{path} is not valid JSON: line {e.lineno}, column {e.colno}: {e.msg}."
            ) from e
        try:
            cases = backtest.parse_cases(data, scenario)
        except backtest.CasesError as e:
            raise CommandError(f"{path}: {e}") from e
        report = backtest.run(scenario, cases)
        if o["json"]:
            self.stdout.write(json.dumps(report, indent=1, ensure_ascii=False))
        else:
            self.stdout.write(backtest.format_report(report))
