"""The project's session store (negotiation/sessions.py) answers as Django's database store does.

Each case is read through both stores, the project's (one plain statement) and Django's own (the
ORM), on the same rows; on PostgreSQL too (Makefile, PG_TESTS).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from negotiation.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _both(key):
    ours, django = SessionStore(key), DjangoStore(key)
    return (ours.load(), ours.session_key), (django.load(), django.session_key)


def test_a_saved_session_reads_back():
    store = SessionStore()
    store["players"] = {"ABC123": "6b1c8a3e-0000-4000-8000-000000000001"}
    store["note"] = "Оля & <b>"
    store.create()
    ours, django = _both(store.session_key)
    assert ours == django
    assert ours == (
        {"players": {"ABC123": "6b1c8a3e-0000-4000-8000-000000000001"}, "note": "Оля & <b>"},
        store.session_key,
    )


def test_an_expired_session_is_empty_and_its_key_forgotten():
    store = SessionStore()
    store["x"] = 1
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    ours, django = _both(store.session_key)
    assert ours == django == ({}, None)


def test_a_session_expiring_later_is_still_read():
    store = SessionStore()
    store["x"] = 1
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + timedelta(seconds=30)
    )
    ours, django = _both(store.session_key)
    assert ours == django == ({"x": 1}, store.session_key)


@pytest.mark.parametrize(
    "key", ["nosuchkeynosuchkeynosuchkey12345", "short", "bad key; DROP TABLE x", None, ""]
)
def test_an_unknown_or_malformed_key_is_empty(key):
    ours, django = _both(key)
    assert ours == django
    assert ours[0] == {} and ours[1] is None


def test_tampered_data_is_empty():
    store = SessionStore()
    store["x"] = 1
    store.create()
    Session.objects.filter(session_key=store.session_key).update(session_data="forged:data")
    ours, django = _both(store.session_key)
    assert ours == django
    assert ours[0] == {}


def test_a_taken_key_is_drawn_again(monkeypatch):
    """``create`` skips the query for a free key; an insert that collides draws another key."""
    first = SessionStore()
    first.create()
    keys = iter([first.session_key, "k" * 32])
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys))
    second = SessionStore()
    second["y"] = 2
    second.create()
    assert second.session_key == "k" * 32
    assert SessionStore("k" * 32).load() == {"y": 2}


@pytest.mark.django_db(transaction=True)
def test_a_new_session_is_one_insert_outside_a_transaction_and_a_taken_key_is_refused_alone():
    """Outside any transaction (a request's), the new session is one INSERT committed on its own on
    PostgreSQL (SQLite keeps Django's transaction, where its writers queue); on both, a taken key
    raises CreateError and leaves the connection usable."""
    from django.contrib.sessions.backends.base import CreateError
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    store = SessionStore()
    store["x"] = 1
    with CaptureQueriesContext(connection) as q:
        store.create()
    if connection.vendor == "postgresql":
        assert [x["sql"].split()[0] for x in q.captured_queries] == ["INSERT"]
    again = SessionStore(store.session_key)
    again["y"] = 2
    with pytest.raises(CreateError):
        again.save(must_create=True)
    assert SessionStore(store.session_key).load() == {"x": 1}


def test_a_taken_key_inside_a_transaction_leaves_the_transaction_usable():
    from django.contrib.sessions.backends.base import CreateError

    store = SessionStore()
    store.create()
    again = SessionStore(store.session_key)
    with pytest.raises(CreateError):
        again.save(must_create=True)
    assert Session.objects.filter(session_key=store.session_key).count() == 1
