"""The SQLite backend's in-process write lock (negotiation/sqlite3/base.py)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from game.models import ScenarioConfig

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend only")


def lock():
    from negotiation.sqlite3.base import write_lock

    return write_lock(str(connection.settings_dict["NAME"]))


@pytest.mark.django_db(transaction=True)
def test_the_write_lock_is_held_for_a_transaction_and_freed_by_commit_rollback_and_close():
    assert connection.settings_dict["ENGINE"] == "negotiation.sqlite3"
    with transaction.atomic():
        ScenarioConfig.objects.count()
        assert lock().locked()
        with transaction.atomic():  # a savepoint takes nothing more
            pass
    assert not lock().locked()

    with pytest.raises(RuntimeError), transaction.atomic():
        ScenarioConfig.objects.count()
        raise RuntimeError("refused")
    assert not lock().locked()

    atomic = transaction.atomic()
    atomic.__enter__()
    assert lock().locked()
    connection.close()  # a broken connection is closed in the middle of a transaction
    assert not lock().locked()
    atomic.__exit__(None, None, None)
    assert not lock().locked()


@pytest.mark.django_db(transaction=True)
def test_a_second_writer_waits_for_the_first_and_then_goes_ahead():
    order: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def writer(name: str, hold: threading.Event | None) -> None:
        try:
            with transaction.atomic():
                order.append(f"{name} in")
                if hold is not None:
                    first_in.set()
                    hold.wait(10)
                order.append(f"{name} out")
        finally:
            connections.close_all()

    a = threading.Thread(target=writer, args=("a", release_first))
    a.start()
    assert first_in.wait(10)
    b = threading.Thread(target=writer, args=("b", None))
    b.start()
    b.join(0.3)
    assert b.is_alive() and order == ["a in"]  # b queues on the lock, not in SQLite's busy sleep
    release_first.set()
    a.join(10)
    b.join(10)
    assert order == ["a in", "a out", "b in", "b out"]
