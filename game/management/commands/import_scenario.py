import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from game.scenario_io import ScenarioFileError, import_text, migration_notes


class Command(BaseCommand):
    help = "Create or update a scenario from a JSON file, in one transaction (a bad file changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise CommandError(f"Cannot read {file}: {e}") from e
        try:
            config = import_text(text)
        except ScenarioFileError as e:
            raise CommandError(f"{file}: {e}") from e
        self.stdout.write(f"Imported {config.slug}: {config.title}")
        for note in migration_notes(json.loads(text)):
            self.stdout.write(f"Migrated from an older file format: {note}")
