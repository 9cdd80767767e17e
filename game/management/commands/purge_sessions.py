"""``manage.py purge_sessions --older-than DAYS``: delete old ended sessions (docs/privacy.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from game.privacy import purge_sessions


def _days(raw: str) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise CommandError(f"--older-than takes a whole number of days, not {raw!r}.") from None
    if value < 0:
        raise CommandError("--older-than takes a number of days of 0 or more.")
    return value


class Command(BaseCommand):
    help = (
        "Delete the sessions that ended more than DAYS days ago, with their tables, players (names), "
        "chats, event logs and outcomes. Sessions still open are never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", dest="days", required=True, metavar="DAYS", type=str)
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be deleted.")

    def handle(self, *args, days, dry_run, **options):
        n = _days(days)
        counts = purge_sessions(n, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {counts['sessions']} session(s) ended more than {n} day(s) ago: "
            f"{counts['players']} player(s), {counts['events']} event(s)."
        )
