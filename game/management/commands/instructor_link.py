from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from game import firstlogin


class Command(BaseCommand):
    help = (
        "Print a one-time login link (valid 15 minutes) for an instructor account that has no "
        "password yet. `make run` prints one at every start; this makes another without a restart."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=firstlogin.DEFAULT_USERNAME)
        parser.add_argument(
            "--base", default="http://127.0.0.1:8000", help="the server's address, e.g. http://127.0.0.1:8123"
        )

    def handle(self, *args, username, base, **options):
        user, _created = firstlogin.ensure_instructor(username)
        if not firstlogin.needs_link(user):
            raise CommandError(
                f"{username!r} already has a password: log in at {base.rstrip('/')}/admin/login/ "
                f"(forgotten? .venv/bin/python manage.py changepassword {username})."
            )
        token = firstlogin.make_token(user)
        self.stdout.write(base.rstrip("/") + reverse("first_login", args=[token]))
