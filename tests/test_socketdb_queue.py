"""The sockets' database threads serve the most urgent calls first (game/socketdb.py)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from game import socketdb
from game.socketdb import BACKGROUND, NORMAL, URGENT, PriorityExecutor


def _gate(ex: PriorityExecutor) -> threading.Event:
    """Occupy the executor's one thread until the returned event is set."""
    release, running = threading.Event(), threading.Event()

    def hold() -> None:
        running.set()
        release.wait(10)

    ex.submit(hold)
    assert running.wait(5)
    return release


def _submit_at(ex: PriorityExecutor, level: int, fn):
    token = socketdb._level.set(level)
    try:
        return ex.submit(fn)
    finally:
        socketdb._level.reset(token)


def test_waiting_calls_run_most_urgent_first_and_in_arrival_order_within_a_level():
    ex = PriorityExecutor(1)
    try:
        release = _gate(ex)
        order: list[str] = []
        futures = [
            _submit_at(ex, level, lambda name=name: order.append(name))
            for name, level in (
                ("closed 1", BACKGROUND),
                ("open 1", NORMAL),
                ("chat 1", URGENT),
                ("closed 2", BACKGROUND),
                ("open 2", NORMAL),
                ("chat 2", URGENT),
            )
        ]
        assert ex.queued() == [2, 2, 2]
        release.set()
        for f in futures:
            f.result(5)
        assert order == ["chat 1", "chat 2", "open 1", "open 2", "closed 1", "closed 2"]
    finally:
        ex.shutdown()


def test_a_call_that_has_waited_long_enough_goes_before_newer_urgent_ones(monkeypatch):
    monkeypatch.setattr(socketdb, "AGE_SECONDS", 0.05)
    ex = PriorityExecutor(1)
    try:
        release = _gate(ex)
        order: list[str] = []
        old = _submit_at(ex, BACKGROUND, lambda: order.append("presence"))
        time.sleep(0.1)
        new = [_submit_at(ex, URGENT, lambda i=i: order.append(f"chat {i}")) for i in range(3)]
        release.set()
        for f in [old, *new]:
            f.result(5)
        assert order == ["presence", "chat 0", "chat 1", "chat 2"]
    finally:
        ex.shutdown()


def test_results_and_errors_reach_the_caller_and_shutdown_cancels_what_waits():
    ex = PriorityExecutor(2)
    try:
        assert ex.submit(lambda: 6 * 7).result(5) == 42
        with pytest.raises(ZeroDivisionError):
            ex.submit(lambda: 1 / 0).result(5)
        assert ex.workers == 2
    finally:
        ex.shutdown()
    ex = PriorityExecutor(1)
    release = _gate(ex)
    waiting = ex.submit(lambda: "never")
    ex.shutdown(wait=False, cancel_futures=True)
    release.set()
    assert waiting.cancelled()
    with pytest.raises(RuntimeError):
        ex.submit(lambda: None)


@pytest.mark.django_db(transaction=True)
async def test_db_queues_a_call_at_its_level():
    """``db(fn, level=...)`` is how the sockets say how urgent a call is: an action queued behind
    a socket's opening and a presence report still runs first."""
    ex = PriorityExecutor(1)
    before, socketdb._pool = socketdb._pool, ex
    try:
        release = _gate(ex)
        order: list[str] = []
        calls = [
            asyncio.ensure_future(socketdb.db(lambda: order.append("presence"), level=BACKGROUND)()),
            asyncio.ensure_future(socketdb.db(lambda: order.append("socket opens"))()),
            asyncio.ensure_future(socketdb.db(lambda: order.append("chat"), level=URGENT)()),
        ]
        for _ in range(50):
            await asyncio.sleep(0.01)
            if sum(ex.queued()) == 3:
                break
        assert ex.queued() == [1, 1, 1]
        release.set()
        await asyncio.wait_for(asyncio.gather(*calls), 5)
        assert order == ["chat", "socket opens", "presence"]
    finally:
        socketdb._pool = before
        ex.shutdown()
