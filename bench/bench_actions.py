"""What one player action costs on the database thread, next to a bare baseline in the same run.

Run: ``.venv/bin/python bench/bench_actions.py [actions] [--profile]``

Sets up a throwaway SQLite database (``GAME_VAR_DIR`` in a temporary directory), a started
session with one table of four players, and then times, single-threaded, what a socket's
database thread does per action:

- ``chat.send`` through ``services.player_action`` (the 85% case of the load benchmark),
- ``proposal.make`` and ``proposal.answer`` through the same path,
- the baseline: one bare transaction that inserts one row of the same event table with raw SQL
  (the least any durable action can cost on this database).

It prints microseconds per action and the ratio to the baseline, and with ``--profile`` the top
of a cProfile of the chat loop.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup() -> tuple[list[int], int]:
    os.environ.setdefault("GAME_VAR_DIR", tempfile.mkdtemp(prefix="bench-actions-"))
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
    from game import services
    from game.models import ScenarioConfig

    sc = ScenarioConfig.objects.first()
    session = services.create_session(sc, tables=1)
    players = [services.join(session.code, f"P{n}") for n in range(4)]
    services.start_session(session.pk)
    return [p.pk for p in players], players[0].table_id


def main() -> None:
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), "2000"))
    profile = "--profile" in sys.argv
    players, table_id = setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from game import services
    from game.models import Player

    roles = dict(Player.objects.filter(pk__in=players).values_list("pk", "role"))

    def chat(i: int) -> None:
        # As a socket's database thread runs it: broadcasts are collected for the event loop.
        p = players[i % 4]
        with services.collect_broadcasts():
            services.player_action(
                p, {"type": "chat.send", "ref": f"c{i}", "channel": "table", "text": f"hello {i}"}
            )

    def baseline(i: int) -> None:
        with transaction.atomic(), connection.cursor() as c:
            c.execute(
                "INSERT INTO game_event (table_id, seq, kind, data, audience, at) VALUES (%s, %s, %s, %s, %s, %s)",
                [table_id, 1_000_000 + i, "bench", '{"text": "x"}', "table", timezone.now()],
            )

    def timed(fn, count: int) -> float:
        for i in range(50):
            fn(-1 - i) if fn is not chat else fn(10_000_000 + i)
        start = time.perf_counter()
        for i in range(count):
            fn(i)
        return 1e6 * (time.perf_counter() - start) / count

    base = timed(baseline, n)
    chat_us = timed(chat, n)
    by_role = {r: p for p, r in roles.items()}
    order = list(by_role)
    t0 = time.perf_counter()
    made = 0
    for i in range(n // 10):
        maker = by_role[order[i % 4]]
        terms = {
            "territory": "freeze_dmz_monitors",
            "nato": "constitutional_neutrality",
            "guarantees": "bilateral_arms_training",
        }
        with services.collect_broadcasts():
            services.player_action(
                maker, {"type": "proposal.make", "ref": f"m{i}", "terms": terms, "note": "try"}
            )
        made += 1
    make_us = 1e6 * (time.perf_counter() - t0) / made
    rows = [
        ("baseline: bare INSERT in a transaction", base),
        ("chat.send", chat_us),
        ("proposal.make", make_us),
    ]
    print(f"{'measure':<42} {'us/action':>10} {'x baseline':>10}")
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
