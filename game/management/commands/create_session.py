import json

from django.core.management.base import BaseCommand, CommandError

from game.models import ScenarioConfig
from game.scenario_io import ensure_default
from game.services import clock, seating
from game.services.errors import ServiceError


class Command(BaseCommand):
    help = "Open a game session (for automation). Prints its join code, or JSON with --json."

    def add_arguments(self, parser):
        parser.add_argument("--scenario", default="default")
        parser.add_argument("--tables", type=int, default=1, help="0: as many as the players need.")
        parser.add_argument("--title", default="")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--start", action="store_true", help="Start the session at once.")
        parser.add_argument("--json", action="store_true")
        parser.add_argument(
            "--owner",
            default=None,
            help="User name of the instructor who owns the session (default: none, administrators only).",
        )

    def handle(self, *args, scenario, tables, title, seed, start, owner, **options):
        user = None
        if owner:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"No user is called {owner!r}.")
        if scenario == "default":
            ensure_default()
        config = ScenarioConfig.objects.filter(slug=scenario).first()
        if config is None:
            raise CommandError(f"No scenario has the slug {scenario!r}.")
        try:
            session = seating.create_session(config, tables, user, title=title, seed=seed)
            if start:
                clock.start_session(session.pk)
        except ServiceError as e:
            raise CommandError(e.message) from e
        session.refresh_from_db()
        if options["json"]:
            out = {
                "code": session.code,
                "scenario": config.slug,
                "tables": [t.pk for t in session.tables.all()],
                "status": session.status,
                "seed": session.seed,
                "play_url": f"/?code={session.code}",
                "host_url": f"/host/{session.code}/",
            }
            self.stdout.write(_dumps(out))
        else:
            self.stdout.write(session.code)


def _dumps(obj) -> str:
    return json.dumps(obj)
