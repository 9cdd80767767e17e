"""Django's database sessions, one query lighter for a new session.

Django checks that a new session key is free with a query before it inserts the session. Every
student's join creates a session, so in a lecture hall that check ran hundreds of times a minute
for nothing: a 32-character random key is never taken in practice, and if one were, the insert
(``save(must_create=True)``) would refuse it and ``create()`` would draw another, as it does
after a lost race today.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)
