"""What one player action costs on the database thread, next to a bare baseline in the same run.

Run: ``.venv/bin/python bench/bench_actions.py [actions] [--profile]``

Sets up a throwaway SQLite database (``GAME_VAR_DIR`` in a temporary directory, removed at the
end), a started session of ten tables of four players, and then times, single-threaded, what a
socket's database thread does per action (broadcasts collected, as a socket's thread does):

- ``chat.send`` through ``moves.player_action`` (the 85% case of the load benchmark),
- ``proposal.make`` and ``proposal.answer`` through the same path (about 20 proposals a table),
- ``seating.join`` (the service only, without the HTTP requests around it),
- the baseline: one bare transaction that inserts one row of the same event table with raw SQL
  (the least any durable action can cost on this database).

It prints microseconds per action and the ratio to the baseline, and with ``--profile`` the top
of a cProfile of the chat loop.
"""

from __future__ import annotations

import atexit
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


TABLES = 10


def setup() -> tuple[list, int, float]:
    """A started session of TABLES tables, 4 players each. Returns (players, a table id, the
    service time of one join in microseconds)."""
    if "GAME_VAR_DIR" not in os.environ:
        tmp = tempfile.mkdtemp(prefix="bench-actions-")
        atexit.register(shutil.rmtree, tmp, True)
        os.environ["GAME_VAR_DIR"] = tmp
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "negotiation.settings")
    os.environ.setdefault("GAME_BOTS", "0")
    os.environ.setdefault("DJANGO_DEBUG", "0")  # as served: no query log
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(16).hex())
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_default_scenario", verbosity=0)
    from game.models import ScenarioConfig
    from game.services import clock, eventlog, seating

    sc = ScenarioConfig.objects.first()
    session = seating.create_session(sc, tables=TABLES)
    t0 = time.perf_counter()
    with eventlog.collect_broadcasts():
        players = [seating.join(session.code, f"P{n}") for n in range(4 * TABLES)]
    join_us = 1e6 * (time.perf_counter() - t0) / len(players)
    clock.start_session(session.pk)
    return players, players[0].table_id, join_us


def main() -> None:
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), "2000"))
    profile = "--profile" in sys.argv
    players, table_id, join_us = setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from game.services import eventlog, moves

    def act(pid: int, msg: dict) -> None:
        # As a socket's database thread runs it: broadcasts are collected for the event loop.
        with eventlog.collect_broadcasts():
            moves.player_action(pid, msg)

    def chat(i: int) -> None:
        act(
            players[i % len(players)].pk,
            {"type": "chat.send", "ref": f"c{i}", "channel": "table", "text": f"hi {i}"},
        )

    def baseline(i: int) -> None:
        with transaction.atomic(), connection.cursor() as c:
            c.execute(
                "INSERT INTO game_event (table_id, seq, kind, data, audience, at) VALUES (%s, %s, %s, %s, %s, %s)",
                [table_id, 1_000_000 + i, "bench", '{"text": "x"}', "table", timezone.now()],
            )

    def timed(fn, count: int, warm: int = 50) -> float:
        for i in range(warm):
            fn(10_000_000 + i)
        start = time.perf_counter()
        for i in range(count):
            fn(i)
        return 1e6 * (time.perf_counter() - start) / count

    base = timed(baseline, n)
    chat_us = timed(chat, n)
    # Proposals spread over the tables (about 20 per table, a long game), each rejected by the
    # next seat of its table (the maker's proposal stays open for the others).
    terms = {
        "territory": "freeze_dmz_monitors",
        "nato": "constitutional_neutrality",
        "guarantees": "bilateral_arms_training",
    }
    made = max(1, n // 10)
    make_t = answer_t = 0.0
    from game.models import GameTable

    for i in range(made):
        maker = players[i % len(players)]
        t0 = time.perf_counter()
        act(maker.pk, {"type": "proposal.make", "ref": f"m{i}", "terms": terms, "note": "try"})
        t1 = time.perf_counter()
        pid = GameTable.objects.get(pk=maker.table_id).engine_state().proposals[-1].id
        other = next(p for p in players if p.table_id == maker.table_id and p.role != maker.role)
        t2 = time.perf_counter()
        act(other.pk, {"type": "proposal.answer", "ref": f"a{i}", "proposal": pid, "answer": "reject"})
        answer_t += time.perf_counter() - t2
        make_t += t1 - t0
    rows = [
        ("baseline: bare INSERT in a transaction", base),
        ("chat.send", chat_us),
        ("proposal.make", 1e6 * make_t / made),
        ("proposal.answer", 1e6 * answer_t / made),
        (f"join (service only, {4 * TABLES} players)", join_us),
    ]
    print(f"{'measure (SQLite, one thread)':<42} {'us/action':>10} {'x baseline':>10}")
    for label, us in rows:
        print(f"{label:<42} {us:>10.0f} {us / base:>10.1f}")
    if profile:
        pr = cProfile.Profile()
        pr.enable()
        for i in range(n):
            chat(20_000_000 + i)
        pr.disable()
        pstats.Stats(pr).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
