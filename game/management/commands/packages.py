"""Every package of a scenario with its durability and each role's scores."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from game.engine import scoring
from game.management.commands.simulate import load_scenario


class Command(BaseCommand):
    help = (
        "List every package that can be agreed in a scenario, with its chance of holding to the "
        "horizon (p_hold), its expected peace D and each role's tactical and total scores."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scenario", default="default", help="Slug of the scenario (default: default).")
        parser.add_argument("--file", help="A scenario JSON file instead of a stored scenario.")
        parser.add_argument("--news", nargs="*", default=[], help="News items the tables received.")
        parser.add_argument(
            "--sort",
            choices=("durability", "order"),
            default="durability",
            help="Most durable first (default), or in option order.",
        )
        parser.add_argument("--json", action="store_true", help="Print the packages as JSON.")

    def handle(self, *args, **o):
        scenario = load_scenario(o["scenario"], o["file"])
        unknown = [k for k in o["news"] if scenario.news_item(k) is None]
        if unknown:
            raise CommandError(f"Unknown news item(s): {', '.join(unknown)}.")
        rows = scoring.package_table(scenario, o["news"])
        if o["sort"] == "durability":
            rows = sorted(rows, key=lambda p: -p.expected_peace)
        comp = scoring.compromise(scenario, o["news"])
        roles = scenario.role_keys
        if o["json"]:
            out = {
                "scenario": scenario.slug,
                "news": list(o["news"]),
                "roles": {r.key: r.name for r in scenario.roles},
                "no_deal": {r.key: r.no_deal_value for r in scenario.roles},
                "compromise": dict(comp.terms),
                "packages": [
                    {
                        "terms": dict(p.terms),
                        "p_hold": round(p.p_hold, 4),
                        "expected_peace": round(p.expected_peace, 4),
                        "scores": {
                            r: {"tactical": round(p.tactical[r], 4), "total": round(p.total[r], 4)}
                            for r in roles
                        },
                    }
                    for p in rows
                ],
            }
            self.stdout.write(json.dumps(out, indent=1, ensure_ascii=False))
            return
        names = [r.name[:10] for r in scenario.roles]
        self.stdout.write(
            f"{len(rows)} packages of {scenario.title} ({scenario.slug}); scores are tactical/total; "
            f"* marks the compromise\n"
        )
        self.stdout.write(f"{'p_hold':>6} {'D':>5}  " + " ".join(f"{n:>11}" for n in names) + "  package\n")
        for p in rows:
            mark = "*" if p.terms == comp.terms else " "
            cells = " ".join(f"{p.tactical[r]:>5.0f}/{p.total[r]:<5.1f}" for r in roles)
            self.stdout.write(
                f"{p.p_hold:>6.2f} {p.expected_peace:>5.2f} {mark}{cells}  {', '.join(p.terms.values())}\n"
            )
