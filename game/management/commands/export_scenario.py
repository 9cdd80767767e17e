from django.core.management.base import BaseCommand, CommandError

from game.models import ScenarioConfig
from game.scenario_io import export_text


class Command(BaseCommand):
    help = "Write a scenario as JSON (to standard output, or to --output FILE)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--output", "-o", help="File to write; standard output if omitted.")

    def handle(self, *args, slug, output=None, **options):
        config = ScenarioConfig.objects.filter(slug=slug).first()
        if config is None:
            raise CommandError(f"No scenario has the slug {slug!r}.")
        text = export_text(config)
        if output:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
            self.stderr.write(f"Wrote {output}")
        else:
            self.stdout.write(text, ending="")
