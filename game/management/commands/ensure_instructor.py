from django.core.management.base import BaseCommand

from game import firstlogin


class Command(BaseCommand):
    help = "Make sure an instructor (staff superuser) account exists; never sets a password itself."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=firstlogin.DEFAULT_USERNAME)

    def handle(self, *args, username, **options):
        user, _created = firstlogin.ensure_instructor(username)
        if firstlogin.needs_link(user):
            self.stdout.write(
                f"Instructor account: {username!r}, no password yet. `make run` prints a one-time "
                f"login link; or: .venv/bin/python manage.py instructor_link --username {username}"
            )
        else:
            self.stdout.write(
                f"Instructor account: {username!r} (log in at /admin/login/, then open /host/)."
            )
