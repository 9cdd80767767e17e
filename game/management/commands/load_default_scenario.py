from django.core.management.base import BaseCommand

from game.scenario_io import ensure_default


class Command(BaseCommand):
    help = "Load the shipped default scenario unless it is already in the database (idempotent)."

    def handle(self, *args, **options):
        config = ensure_default()
        self.stdout.write(f"Default scenario ready: {config.title} ({config.slug})")
