from django.core.management.base import BaseCommand

from game.scenario_io import ensure_default


class Command(BaseCommand):
    help = (
        "Load the shipped default scenario, or update an older copy of it (idempotent). A copy an "
        "instructor edited is kept under a new slug, never overwritten."
    )

    def handle(self, *args, **options):
        config = ensure_default(report=self.stdout.write)
        self.stdout.write(f"Default scenario ready: {config.title} ({config.slug})")
