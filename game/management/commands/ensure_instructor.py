from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Make sure an instructor (staff superuser) account exists; never sets a password itself."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="instructor")

    def handle(self, *args, username, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_unusable_password()
            user.save()
        if created or not user.has_usable_password():
            self.stdout.write(
                f"Instructor account: {username!r}. Set its password with:\n"
                f"    .venv/bin/python manage.py changepassword {username}\n"
                f"then log in at /admin/login/ and open /host/."
            )
        else:
            self.stdout.write(
                f"Instructor account: {username!r} (log in at /admin/login/, then open /host/)."
            )
