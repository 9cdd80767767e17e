"""``manage.py create_instructor USERNAME``: an instructor account (or a department administrator's).

The password comes from the environment variable ``GAME_INSTRUCTOR_PASSWORD`` if it is set,
else from a prompt (typed twice, not shown); it is checked by the password validators. Never
from the command line, where other users of the machine could read it.
"""

from __future__ import annotations

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from game.roles import ADMINISTRATOR, INSTRUCTOR, ensure_groups

PASSWORD_ENV = "GAME_INSTRUCTOR_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create an instructor account (staff, in the Instructor group), or add an existing user to "
        f"the group. The password is read from ${PASSWORD_ENV} or prompted for."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--department-admin",
            action="store_true",
            help="Also make the account a department administrator (sees and runs every session).",
        )
        parser.add_argument(
            "--keep-password",
            action="store_true",
            help="For an existing account: add it to the group(s) without asking for a password.",
        )

    def handle(self, *args, username, email, department_admin, keep_password, **options):
        username = (username or "").strip()
        if not username:
            raise CommandError("Give the new instructor's user name.")
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        password = None
        if user is None or not keep_password:
            password = self._password(user or User(username=username, email=email))
        with transaction.atomic():
            groups = ensure_groups()
            created = user is None
            if created:
                user = User(username=username, email=email)
            user.is_staff = True
            user.is_active = True
            if email:
                user.email = email
            if password is not None:
                user.set_password(password)
            user.save()
            user.groups.add(groups[INSTRUCTOR])
            if department_admin:
                user.groups.add(groups[ADMINISTRATOR])
        role = "department administrator" if department_admin else "instructor"
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} {role} {username!r}: log in at /admin/login/, then open /host/.")

    def _password(self, user) -> str:
        password = os.environ.get(PASSWORD_ENV)
        if password is None:
            if not self.stdin_is_tty():
                raise CommandError(
                    f"No password: set ${PASSWORD_ENV} or run the command in a terminal to type one."
                )
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ; nothing was changed.")
        try:
            validate_password(password, user)
        except ValidationError as e:
            raise CommandError("That password is refused: " + " ".join(e.messages)) from None
        return password

    @staticmethod
    def stdin_is_tty() -> bool:
        import sys

        return sys.stdin is not None and sys.stdin.isatty()
