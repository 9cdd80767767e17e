from django.core.management.base import BaseCommand

from game.scenario_io import ensure_shipped


class Command(BaseCommand):
    help = (
        "Load the shipped scenarios (the default one and the others in game/scenarios/), or update "
        "older copies of them (idempotent). A copy an instructor edited is kept under a new slug, "
        "never overwritten."
    )

    def handle(self, *args, **options):
        for config in ensure_shipped(report=self.stdout.write):
            self.stdout.write(f"Scenario ready: {config.title} ({config.slug})")
