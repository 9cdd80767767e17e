"""Django's database sessions, lighter on the two paths every student takes.

- A new session: Django checks that a new session key is free with a query before it inserts the
  session. Every student's join creates a session, so in a lecture hall that check ran hundreds
  of times a minute for nothing: a 32-character random key is never taken in practice, and if one
  were, the insert (``save(must_create=True)``) would refuse it and ``create()`` would draw
  another, as it does after a lost race today.
- Saving a new session on PostgreSQL: Django inserts it inside a transaction of its own (three
  round trips: BEGIN, INSERT, COMMIT); one INSERT on its own is one, and a taken key still
  fails alone. Inside a caller's transaction it runs in a savepoint, as Django's does. SQLite
  keeps Django's transaction, which is where the project's backend queues writers.
- Reading a session: the player page and the player's socket each read the student's session.
  The ORM built, compiled and turned into a model the query ``Session.objects.get(session_key=...,
  expire_date__gt=now)`` each time, several times the cost of the statement itself; here it is
  the same statement, written once (tests/test_sessions.py holds the two to the same answers).
"""

from __future__ import annotations

from contextlib import nullcontext

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def load(self) -> dict:
        data = self._session_data_from_db()
        return self.decode(data) if data is not None else {}

    def _session_data_from_db(self) -> str | None:
        """The session's data if it exists and has not expired (Django's ``_get_session_from_db``
        in one plain statement); else forgets the key, as Django does."""
        if self.session_key is None:
            return None
        connection = connections[router.db_for_read(self.model)]
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as c:
            c.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = c.fetchone()
        if row is None:
            self._session_key = None
            return None
        return row[0]

    def save(self, must_create: bool = False) -> None:
        alias = router.db_for_write(self.model)
        connection = connections[alias]
        # SQLite keeps Django's transaction: the project's backend hands the write lock between
        # threads only at a transaction's start (negotiation/sqlite3/base.py).
        if not must_create or self.session_key is None or connection.vendor != "postgresql":
            return super().save(must_create)
        data = self.encode(self._get_session(no_load=True))
        table = connection.ops.quote_name(self.model._meta.db_table)
        expires = connection.ops.adapt_datetimefield_value(self.get_expiry_date())
        try:
            savepoint = transaction.atomic(using=alias) if connection.in_atomic_block else nullcontext()
            with savepoint, connection.cursor() as c:
                c.execute(
                    f"INSERT INTO {table} (session_key, session_data, expire_date) VALUES (%s, %s, %s)",
                    [self.session_key, data, expires],
                )
        except IntegrityError as e:
            raise CreateError from e
