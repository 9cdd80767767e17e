"""Round trip from `proposal.make` to the other three seats' `proposal.made`, on a real server.

    .venv/bin/python bench/rtt.py [--count 300] [--redis]

Starts an embedded Daphne (or, with --redis, Redis + Daphne) on loopback, joins four players
through /join/, starts the session, then sends COUNT proposals one after another from rotating
seats and records, for each, the time until all three other seats have received it (each frame is
stamped as it arrives). Prints the median, p95 and worst, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.infra import Redis, Worker, manage, server_env
from tests.test_department import Seat, join


class TimedSeat(Seat):
    """The department tests' seat, with each frame stamped on arrival: their ``wait`` polls every
    20 ms, which must not be part of the measured round trip."""

    async def _pump(self):
        try:
            async for raw in self.ws:
                m = json.loads(raw)
                m["_arrived"] = time.perf_counter()
                self.inbox.append(m)
        except Exception:
            return


async def measure(base: str, code: str, count: int) -> list[float]:
    seats = []
    for i in range(4):
        s = TimedSeat(code, await asyncio.to_thread(join, base, code, f"rtt-{i}"), f"rtt-{i}")
        await s.open(base)
        seats.append(s)
    await seats[0].wait(lambda m: m.get("kind") == "phase.changed", timeout=60)  # the session started
    options = [[o["key"] for o in i["options"]] for i in seats[0].state["issues"]]
    issues = [i["key"] for i in seats[0].state["issues"]]
    rtts = []
    for n in range(count):
        author = seats[n % 4]
        others = [s for s in seats if s is not author]
        terms = {
            k: opts[(n + j) % len(opts)] for j, (k, opts) in enumerate(zip(issues, options, strict=True))
        }
        note = f"rtt {n}"
        t0 = time.perf_counter()
        await author.send("proposal.make", terms=terms, note=note)
        arrived = []
        for s in others:
            m = await s.wait(
                lambda m, note=note: (
                    m.get("kind") == "proposal.made" and m["data"]["proposal"]["note"] == note
                ),
                timeout=10,
            )
            arrived.append(m["_arrived"])
        rtts.append((max(arrived) - t0) * 1000)
        for s in seats:
            s.inbox.clear()
    for s in seats:
        await s.close()
    return rtts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--redis", action="store_true")
    args = ap.parse_args()
    redis = Redis().start() if args.redis else None
    extra = {"REDIS_URL": redis.url} if redis else {}
    env = server_env(tempfile.mkdtemp(prefix="game-rtt-"), GAME_RATE_LIMIT_PER_10S="100000", **extra)
    manage(env, "migrate", "--noinput")
    code = json.loads(manage(env, "create_session", "--tables", "1", "--json"))["code"]
    worker = Worker(env).start()
    try:
        rtts = asyncio.run(_run(worker.base, code, env, args.count))
    finally:
        worker.stop()
        if redis:
            redis.stop()
    rtts.sort()
    layer = "Redis" if redis else "in-memory"
    print(
        f"proposal.make -> 3 x proposal.made, {len(rtts)} proposals, {layer} layer, SQLite: "
        f"median {statistics.median(rtts):.1f} ms, p95 {rtts[int(0.95 * len(rtts)) - 1]:.1f} ms, "
        f"worst {rtts[-1]:.1f} ms"
    )


async def _run(base, code, env, count):
    seats_task = asyncio.create_task(measure(base, code, count))
    await asyncio.sleep(3)  # let the four join and connect, then start the session
    await asyncio.to_thread(
        manage,
        env,
        "shell",
        "-c",
        f"from game.services import clock; from game.models import GameSession; "
        f"clock.start_session(GameSession.objects.get(code='{code}').pk)",
    )
    return await seats_task


if __name__ == "__main__":
    main()
