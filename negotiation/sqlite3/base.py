"""Django's SQLite backend, with the write lock of a process handed over by a Python lock.

SQLite has one writer at a time. When a second thread's ``BEGIN IMMEDIATE`` finds the database
locked, SQLite's busy handler puts it to sleep (1, 2, 5, 10 ... up to 100 ms) and retries, so a
lock that is free again after a millisecond is often taken only tens of milliseconds later. With
forty students joining at once (each join and its session cookie are write transactions, run in
threads of their own) the threads spent most of the join phase asleep, the database idle.

Here a transaction first takes a lock shared by the threads of the process (per database file),
which wakes the next writer the moment the previous one commits; SQLite's own busy timeout still
arbitrates between processes (several workers on one file). Reads are untouched: in WAL mode they
never wait for a writer.

A hook on private APIs: it overrides ``DatabaseWrapper._start_transaction_under_autocommit``,
``_commit``, ``_rollback`` and ``_close`` of Django's SQLite backend, written against Django 5.2.19
(pinned to 5.2.x in pyproject.toml). tests/test_private_hooks.py fails, naming this module, if an
upgrade renames them or stops calling them where this lock relies on it.
"""

from __future__ import annotations

import threading

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def write_lock(name: str) -> threading.Lock:
    with _guard:
        return _locks.setdefault(name, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _held: threading.Lock | None = None

    def _start_transaction_under_autocommit(self):
        lock = write_lock(str(self.settings_dict["NAME"]))
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if not lock.acquire(timeout=timeout):
            raise OperationalError(
                f"database is locked: another thread of this process held the write lock for {timeout:g} s"
            )
        self._held = lock
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        lock, self._held = self._held, None
        if lock is not None:
            lock.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release()
