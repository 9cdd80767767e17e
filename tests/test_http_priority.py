"""The HTTP threads' lower scheduling priority (negotiation/httpthreads.py, ``GAME_HTTP_NICE``).

While a lecture hall joins on a machine with no spare core, the tables already playing keep their
pace because the join's pages and form run on threads the operating system serves last. The
measurement is in docs/performance.md; these tests hold the mechanism: which threads are lowered,
by how much, never raised, and a clear error for a value the system cannot honour."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from negotiation.httpthreads import PooledASGIHandler
from tests.infra import settings_process

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-thread nice on this system")


def nice_of_this_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def pool_threads_nice(handler: PooledASGIHandler) -> set[int]:
    """The nice of every thread of the handler's pool, each held until all have reported."""
    barrier = threading.Barrier(handler.threads, timeout=10)

    def report() -> int:
        barrier.wait()
        return nice_of_this_thread()

    futures = [handler.pool.submit(report) for _ in range(handler.threads)]
    return {f.result(timeout=20) for f in futures}


@pytest.fixture
def make_handler(settings):
    made: list[PooledASGIHandler] = []

    def make(nice: int, threads: int = 3) -> PooledASGIHandler:
        settings.GAME = {**settings.GAME, "HTTP_NICE": nice}
        handler = PooledASGIHandler(threads=threads)
        made.append(handler)
        return handler

    yield make
    from negotiation import httpthreads

    for h in made:
        h.pool.shutdown(wait=True)
        httpthreads._handlers.remove(h)


def in_a_thread_at(nice: int, fn):
    """Run fn in a fresh thread that first lowers itself to ``nice`` (as a worker started with
    ``nice -n`` would be), and return what fn returned."""
    box: dict = {}

    def run():
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        try:
            box["value"] = fn()
        except BaseException as exc:  # carried to the test's thread
            box["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_the_http_threads_run_at_the_configured_nice_and_the_caller_keeps_its_own(make_handler):
    before = nice_of_this_thread()
    handler = make_handler(19)
    assert pool_threads_nice(handler) == {19}
    assert nice_of_this_thread() == before  # the event loop's thread, here the test's, is untouched


def test_nice_zero_leaves_the_http_threads_at_the_workers_priority(make_handler):
    handler = make_handler(0)
    assert pool_threads_nice(handler) == {nice_of_this_thread()}


def test_a_worker_already_running_lower_keeps_its_own_priority(make_handler):
    # A worker started with `nice -n 15` and GAME_HTTP_NICE=10: its HTTP threads stay at 15,
    # never raised above the worker (which would need privilege, and would be the opposite intent).
    def build_and_read():
        handler = make_handler(10)
        # the pool's threads are created from this thread and inherit its nice
        return pool_threads_nice(handler)

    assert in_a_thread_at(15, build_and_read) == {15}


def test_a_system_that_refuses_says_so_once_and_still_serves(make_handler, monkeypatch, caplog):
    def refuse(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "setpriority", refuse)
    handler = make_handler(19)
    with caplog.at_level("WARNING", logger="negotiation.httpthreads"):
        niceness = pool_threads_nice(handler)
    assert niceness == {nice_of_this_thread()}
    warnings = [r for r in caplog.records if "keep the worker's priority" in r.getMessage()]
    assert len(warnings) == 1
    assert "GAME_HTTP_NICE=19" in warnings[0].getMessage()
    assert handler.pool.submit(lambda: "served").result(timeout=10) == "served"


def settings_error(tmp_path, **env: str) -> str:
    out = settings_process(tmp_path, **env)
    assert out.returncode != 0
    return out.stderr


@pytest.mark.parametrize("value", ["-1", "20"])
def test_a_nice_the_system_cannot_honour_is_refused_at_start(tmp_path, value):
    err = settings_error(tmp_path, GAME_HTTP_NICE=value)
    assert "ImproperlyConfigured" in err
    assert "GAME_HTTP_NICE must be from 0" in err


@pytest.mark.parametrize(
    "database_url, expected",
    [
        (None, "0"),  # SQLite: no gain measured, and a lowered thread may hold the one write lock
        ("postgres://game:secret@127.0.0.1:5432/game", "19"),
    ],
)
def test_the_default_is_the_lowest_priority_on_postgresql_only(tmp_path, database_url, expected):
    out = settings_process(
        tmp_path, "print(s.GAME['HTTP_NICE'])", DJANGO_DEBUG="1", DATABASE_URL=database_url
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected


def test_only_linux_lowers_a_thread(make_handler, monkeypatch, caplog):
    # Elsewhere setpriority(PRIO_PROCESS, id) takes a process id: a thread's id must not be used.
    calls = []
    monkeypatch.setattr(os, "setpriority", lambda *a: calls.append(a))
    monkeypatch.setattr(sys, "platform", "darwin")
    handler = make_handler(19)
    with caplog.at_level("WARNING", logger="negotiation.httpthreads"):
        assert handler.pool.submit(lambda: "served").result(timeout=10) == "served"
    assert calls == []
    assert any("needs Linux" in r.getMessage() for r in caplog.records)
