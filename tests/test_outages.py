"""Outages cost students nothing: PostgreSQL restarts and stops, and a worker drained by SIGTERM.

Department configuration with real processes (PostgreSQL, redis-server, two Daphne workers);
the students are ``PageClient``s, which behave on the wire like the player page. The periodic
sync is set to 30 s, so a delivery within seconds is never the sync's doing.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time

import httpx
import psycopg
import pytest

from tests.infra import Postgres, Redis, Worker, manage, server_env
from tests.pageclient import PageClient, eventually

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.timeout(240)]

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DRAIN_SECONDS = 4.0


@pytest.fixture(scope="module")
def stack():
    pg = Postgres().start()
    redis = Redis().start()
    env = server_env(
        tempfile.mkdtemp(prefix="game-outage-"),
        DATABASE_URL=pg.url,
        REDIS_URL=redis.url,
        GAME_SYNC_SECONDS="30",
        GAME_TICK_SECONDS="1",
        GAME_DRAIN_SECONDS=str(DRAIN_SECONDS),
    )
    manage(env, "migrate", "--noinput")
    manage(env, "load_default_scenario")
    workers = [Worker(env).start(), Worker(env).start()]
    st = {"env": env, "pg": pg, "redis": redis, "workers": workers}
    yield st
    for w in st["workers"]:
        w.stop()
    redis.stop()
    pg.stop()


def started_session(env) -> tuple[str, int]:
    out = manage(
        env,
        "shell",
        "-c",
        "from game.services import clock, seating; from game.models import ScenarioConfig; "
        "s = seating.create_session(ScenarioConfig.objects.get(slug='default'), 1); "
        "clock.start_session(s.pk); print(s.code, s.tables.get().pk)",
    )
    code, table = out.strip().splitlines()[-1].split()
    return code, int(table)


def join(base: str, code: str, name: str) -> str:
    with httpx.Client(base_url=base, timeout=10) as c:
        token = TOKEN.search(c.get("/").text).group(1)
        r = c.post("/join/", data={"code": code, "name": name, "csrfmiddlewaretoken": token})
        assert r.status_code == 302, r.text[:500]
        return "; ".join(f"{k}={v}" for k, v in c.cookies.items())


async def four_pages(st, code: str) -> list[PageClient]:
    """Four students of one table, seats 0 and 2 on the first worker, 1 and 3 on the second."""
    bases = [w.base for w in st["workers"]]
    pages = []
    for i in range(4):
        cookie = await asyncio.to_thread(join, bases[i % 2], code, f"P{i}-{code}")
        urls = [b.replace("http", "ws", 1) + f"/ws/play/{code}/" for b in (bases[i % 2], bases[(i + 1) % 2])]
        page = PageClient(f"P{i}", urls, cookie, origin=bases[i % 2])
        page.start()
        pages.append(page)
    await eventually(lambda: all(p.state and p.opened.is_set() for p in pages), 15, "every page's state")
    return pages


def logged(pg: Postgres, table: int, kind: str) -> list[dict]:
    rows = pg.psql(
        f"SELECT coalesce(json_agg(data ORDER BY seq), '[]') FROM game_event WHERE table_id = {table} AND kind = '{kind}'"
    )
    return json.loads(rows)


async def act_steadily(pages: list[PageClient], stop: asyncio.Event, every: float = 0.5) -> None:
    async def one(p: PageClient) -> None:
        i = 0
        while not stop.is_set():
            await p.chat(f"{p.name} line {i}")
            i += 1
            await asyncio.sleep(every)

    await asyncio.gather(*(one(p) for p in pages))


async def settle(pages: list[PageClient], timeout: float = 25.0) -> None:
    await eventually(lambda: all(not p.outbox for p in pages), timeout, "every action acknowledged")


def check_exactly_once(st, pages: list[PageClient], table: int) -> None:
    made = {ref for p in pages for ref in p.sent_at}
    acked = {ref for p in pages for ref in p.acked}
    assert made == acked, f"{len(made - acked)} actions never acknowledged"
    texts = [d["text"] for d in logged(st["pg"], table, "chat.message")]
    assert len(texts) == len(set(texts)), "an action was applied twice"
    assert len(texts) == len(made), f"{len(made)} actions made, {len(texts)} applied"
    for p in pages:
        assert not p.refused, f"{p.name} was shown errors: {p.refused[:3]}"


async def test_a_postgres_restart_while_four_players_act_refuses_nothing_once_it_is_back(stack):
    code, table = await asyncio.to_thread(started_session, stack["env"])
    pages = await four_pages(stack, code)
    stop = asyncio.Event()
    load = asyncio.create_task(act_steadily(pages, stop))
    await asyncio.sleep(2)
    t0 = time.monotonic()
    await asyncio.to_thread(stack["pg"].pg_ctl, "restart", "-m", "fast")
    back = time.monotonic()
    await asyncio.sleep(3)
    stop.set()
    await load
    await settle(pages)
    # Kept connections that PostgreSQL closed are dropped before use: nothing sent after the
    # restart is refused, even once (and nothing before it is lost).
    late = [
        (p.name, m)
        for p in pages
        for at, m in p.retryable
        if m.get("ref") in p.sent_at and p.sent_at[m["ref"]] > back
    ]
    assert not late, f"actions sent after the database was back were answered {late[:3]}"
    check_exactly_once(stack, pages, table)
    texts = {d["text"] for d in logged(stack["pg"], table, "chat.message")}
    for p in pages:
        await eventually(lambda p=p: texts <= set(p.texts()), 10, f"{p.name} sees every line")
    for w in stack["workers"]:
        assert httpx.get(f"{w.base}/healthz", timeout=5).status_code == 200
    print(f"restart took {back - t0:.2f} s; retryable answers: {sum(len(p.retryable) for p in pages)}")
    for p in pages:
        await p.stop()


async def test_postgres_stopped_10_s_answers_unavailable_then_applies_every_resend_once(stack):
    code, table = await asyncio.to_thread(started_session, stack["env"])
    pages = await four_pages(stack, code)
    logs_before = [len(w.log_text()) for w in stack["workers"]]
    await asyncio.to_thread(stack["pg"].pg_ctl, "stop", "-m", "fast")
    down = time.monotonic()
    stop = asyncio.Event()
    load = asyncio.create_task(act_steadily(pages, stop))
    await asyncio.sleep(2)
    health = [await asyncio.to_thread(httpx.get, f"{w.base}/healthz", timeout=10) for w in stack["workers"]]
    await asyncio.sleep(max(0.0, 10 - (time.monotonic() - down)))
    stop.set()
    await load
    await asyncio.to_thread(stack["pg"].pg_ctl, "start")
    back = time.monotonic()
    await settle(pages, timeout=30)
    recovered = time.monotonic() - back
    # During the outage: unavailable within a second of each action, never invalid.
    for p in pages:
        first: dict[str, float] = {}
        for at, m in p.retryable:
            assert m["code"] == "unavailable" and m["retry_after"] > 0, m
            first.setdefault(m["ref"], at)
        during = [r for r, at in p.wire_at.items() if at < back - 0.5]
        assert during, "the page made no action during the outage"
        for ref in during:
            assert ref in first, f"{p.name}: {ref} was never answered during the outage"
            assert first[ref] - p.wire_at[ref] < 1.0, "unavailable came later than a second"
    for r in health:
        assert r.status_code == 503
        body = r.json()
        assert body["db"].startswith("error: OperationalError") and "db" in body["failed"], body
        assert body["channel_layer"] == "ok"
    check_exactly_once(stack, pages, table)
    # One line per failure; a traceback once per distinct failure, not one per action.
    for w, before in zip(stack["workers"], logs_before, strict=True):
        text = w.log_text()[before:]
        failures = len(re.findall(r"database unavailable", text))
        tracebacks = text.count("Traceback (most recent call last)")
        assert failures >= 10 and tracebacks <= 8, (failures, tracebacks)
        print(f"worker log: {failures} failure lines, {tracebacks} tracebacks")
        assert re.search(r"database reachable again after \d+\.\d s", text)
        assert "invalid" not in text
    print(f"recovered {recovered:.1f} s after PostgreSQL was back")
    for p in pages:
        await p.stop()


def _hold_table_lock(url: str, table: int) -> psycopg.Connection:
    conn = psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=False)
    conn.execute("SELECT id FROM game_gametable WHERE id = %s FOR UPDATE", [table])
    return conn


async def _drain_with_a_proposal_in_flight(st, hold_seconds: float) -> dict:
    a, _b = st["workers"]
    code, table = await asyncio.to_thread(started_session, st["env"])
    pages = await four_pages(st, code)
    terms = {i["key"]: i["options"][1]["key"] for i in pages[0].state["issues"]}
    lock = await asyncio.to_thread(_hold_table_lock, st["pg"].url, table)
    ref = await pages[0].act("proposal.make", terms=terms, note=f"in flight {hold_seconds}")
    await asyncio.sleep(0.3)  # the proposal now waits for the table's row lock in worker A
    sigterm = time.monotonic()
    a.terminate()
    exit_task = asyncio.create_task(
        asyncio.to_thread(lambda: (a.proc.wait(DRAIN_SECONDS + 5), time.monotonic()))
    )
    await asyncio.sleep(hold_seconds)
    released = time.monotonic()
    await asyncio.to_thread(lock.commit)
    lock.close()
    exited, exit_at = await exit_task
    exit_after = exit_at - sigterm
    await eventually(lambda: ref in pages[0].acked, 15, "the proposal's ack")
    seen = []
    for p in pages:
        await eventually(
            lambda p=p: any(e["kind"] == "proposal.made" for e in p.events.values()), 10, f"{p.name} sees it"
        )
        at = min(p.event_at[s] for s, e in p.events.items() if e["kind"] == "proposal.made")
        seen.append(at - released)
    made = logged(st["pg"], table, "proposal.made")
    result = {
        "pages": pages,
        "exit_code": exited,
        "exit_after": exit_after,
        "seen_after_release": seen,
        "made": made,
        "log": a.log_text(),
        "ack_after_release": pages[0].acked[ref] - released,
    }
    for p in pages:
        await p.stop()
    st["workers"][0] = Worker(st["env"], a.port).start()
    return result


async def test_sigterm_with_a_proposal_in_flight_acknowledges_it_and_closes_sockets_with_1012(stack):
    r = await _drain_with_a_proposal_in_flight(stack, hold_seconds=0.5)
    pages = r["pages"]
    for p in pages[0::2]:  # the drained worker's sockets
        assert p.closes and p.closes[0][1] == 1012, p.closes
    assert r["exit_after"] < DRAIN_SECONDS, r["exit_after"]
    assert len(r["made"]) == 1
    assert max(r["seen_after_release"]) < 2.0, r["seen_after_release"]
    assert r["ack_after_release"] < 2.0
    assert "0 calls cancelled" in r["log"], "the proposal finished on its own"
    for p in pages:
        assert not p.refused
    print(f"exit {r['exit_after']:.2f} s after SIGTERM; seen after {max(r['seen_after_release']):.2f} s")
    print(r["log"][r["log"].find("SIGTERM: draining") :][:6000])


async def test_sigterm_with_a_hung_call_rolls_it_back_and_exits_within_the_bound(stack):
    """The call waits on a row lock longer than the drain allows: the worker cancels it (its
    transaction rolls back), closes with 1012 and exits in time; the page's resend, to the other
    worker, applies the proposal once when the lock is released."""
    r = await _drain_with_a_proposal_in_flight(stack, hold_seconds=DRAIN_SECONDS + 1)
    assert r["exit_after"] < DRAIN_SECONDS + 0.5, r["exit_after"]
    assert "cancelled 1 database calls" in r["log"]
    assert len(r["made"]) == 1
    assert max(r["seen_after_release"]) < 2.0, r["seen_after_release"]
    for p in r["pages"][0::2]:
        assert p.closes and p.closes[0][1] == 1012, p.closes
    for p in r["pages"]:
        assert not p.refused
