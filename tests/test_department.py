"""Department mode with real processes: PostgreSQL, redis-server and two Daphne workers.

Players of one table sit on different workers; workers are killed, Redis restarts, every worker
restarts. Nothing that was acknowledged may be lost.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.infra import Postgres, Redis, Worker, manage, server_env

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.timeout(300)]

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def department():
    pg = Postgres().start()
    redis = Redis().start()
    env = server_env(
        tempfile.mkdtemp(prefix="game-dept-"),
        DATABASE_URL=pg.url,
        REDIS_URL=redis.url,
        GAME_SYNC_SECONDS="2",
        GAME_TICK_SECONDS="0.5",
    )
    manage(env, "migrate", "--noinput")
    manage(env, "load_default_scenario")
    workers = [Worker(env).start(), Worker(env).start()]
    dept = {"env": env, "pg": pg, "redis": redis, "workers": workers}
    yield dept
    for w in dept["workers"]:
        w.stop()
    redis.stop()
    pg.stop()


def new_session(env, tables=1, start=True) -> dict:
    out = json.loads(manage(env, "create_session", "--tables", str(tables), "--json"))
    return out


def start(env, code: str) -> None:
    manage(
        env,
        "shell",
        "-c",
        f"from game.services import clock; from game.models import GameSession; "
        f"clock.start_session(GameSession.objects.get(code='{code}').pk)",
    )


def host_call(env, code: str, call: str) -> str:
    return (
        manage(
            env,
            "shell",
            "-c",
            f"from game.services import clock; from game.models import GameSession; "
            f"s = GameSession.objects.get(code='{code}'); print({call})",
        )
        .strip()
        .splitlines()[-1]
    )


def join(base: str, code: str, name: str) -> str:
    with httpx.Client(base_url=base, timeout=10) as c:
        page = c.get("/")
        token = TOKEN.search(page.text).group(1)
        r = c.post("/join/", data={"code": code, "name": name, "csrfmiddlewaretoken": token})
        assert r.status_code == 302, r.text[:500]
        return "; ".join(f"{k}={v}" for k, v in c.cookies.items())


class Seat:
    """A player's socket that reconnects to whichever worker is given and resumes with since."""

    def __init__(self, code: str, cookie: str, name: str):
        self.code, self.cookie, self.name = code, cookie, name
        self.events: dict[int, dict] = {}
        self.acks: set[str] = set()
        self.inbox: list[dict] = []
        self.ws = None
        self.pump_task = None
        self.last_seq = 0
        self.state: dict = {}

    async def open(self, base: str, since: int | None = None) -> None:
        ws_base = base.replace("http", "ws", 1)
        self.ws = await connect(
            f"{ws_base}/ws/play/{self.code}/",
            origin=base,
            additional_headers={"Cookie": self.cookie},
            open_timeout=10,
        )
        self.pump_task = asyncio.create_task(self._pump())
        self.state = await self.wait(lambda m: m.get("type") == "state")
        self.last_seq = max(self.last_seq, self.state["seq"])
        if since is not None:
            await self.send("hello", since=since)
            await self.wait(lambda m: m.get("type") == "state")

    async def _pump(self):
        try:
            async for raw in self.ws:
                m = json.loads(raw)
                if m.get("type") == "event":
                    assert m["seq"] not in self.events or self.events[m["seq"]] == m, "duplicate seq differs"
                    self.events[m["seq"]] = m
                    self.last_seq = max(self.last_seq, m["seq"])
                elif m.get("type") == "ack":
                    self.acks.add(m["ref"])
                self.inbox.append(m)
        except Exception:
            return

    async def send(self, type_, **fields) -> str:
        ref = fields.pop("ref", None) or uuid.uuid4().hex[:16]
        await self.ws.send(json.dumps({"type": type_, "ref": ref, **fields}))
        return ref

    async def wait(self, pred, timeout=10.0):
        end = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < end:
            for i, m in enumerate(self.inbox):
                if pred(m):
                    return self.inbox.pop(i)
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.name} timed out; last: {self.inbox[-3:]}")

    async def chat(self, text: str) -> str:
        ref = await self.send("chat.send", channel="table", text=text)
        await self.wait(lambda m: m.get("ref") == ref and m.get("type") == "ack")
        return ref

    def texts(self) -> set[str]:
        return {e["data"]["text"] for e in self.events.values() if e["kind"] == "chat.message"}

    async def close(self):
        if self.ws is not None:
            await self.ws.close()
        if self.pump_task:
            self.pump_task.cancel()


async def seat_four(department, code) -> list[Seat]:
    a, b = department["workers"]
    seats = []
    for i in range(4):
        w = (a, b)[i % 2]
        seat = Seat(code, await asyncio.to_thread(join, w.base, code, f"P{i}-{code}"), f"P{i}")
        await seat.open(w.base)
        seats.append(seat)
    return seats


async def eventually(pred, timeout=15.0, what="condition"):
    end = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < end:
        if pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_players_on_different_workers_see_each_others_actions_live(department):
    env = department["env"]
    code = (await asyncio.to_thread(new_session, env))["code"]
    seats = await seat_four(department, code)
    await asyncio.to_thread(start, env, code)
    await seats[0].chat("from worker A")
    await seats[1].chat("from worker B")
    for s in seats:
        await eventually(
            lambda s=s: {"from worker A", "from worker B"} <= s.texts(), what=f"{s.name} sees both"
        )
    for s in seats:
        await s.close()


def thread_nices(pid: int) -> dict[int, int]:
    """Each thread of a process and its nice (field 19 of /proc/PID/task/TID/stat)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended while the list was read
        out[int(task.name)] = int(stat[stat.rindex(")") + 2 :].split()[16])
    return out


async def test_each_worker_serves_pages_on_its_lowest_priority_threads_and_plays_on_its_own(department):
    # GAME_HTTP_NICE (19 on PostgreSQL) and GAME_HTTP_THREADS (2) by default: the join's pages
    # and form run on two threads the system serves last; the event loop and the database threads, which carry
    # the tables already playing, keep the worker's priority (docs/performance.md).
    env = department["env"]
    code = (await asyncio.to_thread(new_session, env))["code"]
    seats = await seat_four(department, code)  # pages and forms on both workers
    await asyncio.to_thread(start, env, code)
    await seats[0].chat("played at the worker's priority")
    for s in seats:
        await eventually(lambda s=s: "played at the worker's priority" in s.texts(), what=f"{s.name} sees it")
    own = os.getpriority(os.PRIO_PROCESS, 0)
    if own >= 19:
        pytest.skip("the tests run at the lowest priority already: no thread can be lower")
    for w in department["workers"]:
        nices = thread_nices(w.proc.pid)
        assert nices[w.proc.pid] == own  # the event loop's thread
        lowered = [tid for tid, n in nices.items() if n == 19]
        assert 1 <= len(lowered) <= 2, nices
        # the event loop, the database threads (four on PostgreSQL: had they been lowered too,
        # more than two would be at 19) and the rest at the worker's own
        assert all(n == own for tid, n in nices.items() if tid not in lowered), nices
    for s in seats:
        await s.close()


async def test_an_idle_socket_on_redis_stays_open_longer_than_redis_py_8s_idle_timeout(department):
    env = department["env"]
    code = (await asyncio.to_thread(new_session, env))["code"]
    seats = await seat_four(department, code)
    await asyncio.to_thread(start, env, code)
    await asyncio.sleep(8)  # channels_redis 4.3 with redis-py 8 closed idle sockets after ~5 s
    assert all(s.ws.close_code is None for s in seats)
    await seats[2].chat("still alive after 8 s")
    for s in seats:
        await eventually(lambda s=s: "still alive after 8 s" in s.texts(), what="delivery after idling")
    for s in seats:
        await s.close()


async def test_killing_a_worker_mid_game_loses_nothing_acknowledged(department):
    env = department["env"]
    a, b = department["workers"]
    code = (await asyncio.to_thread(new_session, env))["code"]
    seats = await seat_four(department, code)
    await asyncio.to_thread(start, env, code)
    acked = set()
    for i in range(10):
        for s in seats:
            await s.chat(f"{s.name} message {i}")
            acked.add(f"{s.name} message {i}")
    a.kill()
    # players of the killed worker reconnect to the other one and resume from what they saw
    for s in seats[0::2]:
        await s.close()
        await s.open(b.base, since=s.last_seq)
    for s in seats[1::2]:
        await s.chat(f"{s.name} after the crash")
        acked.add(f"{s.name} after the crash")
    for s in seats:
        await eventually(lambda s=s: acked <= s.texts(), what=f"{s.name} has every acknowledged message")
        seqs = sorted(s.events)
        assert seqs == list(range(seqs[0], seqs[-1] + 1)), "a gap in a table-visible seq stream"
    for s in seats:
        await s.close()
    department["workers"][0] = Worker(env, a.port).start()


async def test_a_redis_restart_mid_game_recovers_without_restarting_the_server(department):
    env = department["env"]
    code = (await asyncio.to_thread(new_session, env))["code"]
    seats = await seat_four(department, code)
    await asyncio.to_thread(start, env, code)
    await seats[0].chat("before the restart")
    await asyncio.to_thread(department["redis"].restart)
    await asyncio.sleep(1)
    # A socket whose worker lost its Redis connection is closed (1011); like the page, the client
    # reconnects and resumes from the last seq it saw. Sockets that stayed open resync by `sync`.
    for i, s in enumerate(seats):
        if s.ws.close_code is not None:
            await s.close()
            await s.open(department["workers"][i % 2].base, since=s.last_seq)
    acked = {"before the restart"}
    for s in seats:
        for _ in range(20):
            try:
                await s.chat(f"{s.name} after redis restart")
                acked.add(f"{s.name} after redis restart")
                break
            except AssertionError:
                await asyncio.sleep(0.5)
    for s in seats:
        await eventually(
            lambda s=s: acked <= s.texts(), timeout=20, what=f"{s.name} resynced after Redis restart"
        )
    for s in seats:
        await s.close()


async def test_restarting_every_worker_keeps_state_seats_proposals_and_deadlines(department):
    env = department["env"]
    code = (await asyncio.to_thread(new_session, env))["code"]
    seats = await seat_four(department, code)
    await asyncio.to_thread(start, env, code)
    terms = {i["key"]: i["options"][1]["key"] for i in seats[0].state["issues"]}
    ref = await seats[0].send("proposal.make", terms=terms, note="survives restarts")
    await seats[0].wait(lambda m: m.get("ref") == ref and m.get("type") == "ack")
    await seats[0].chat("said before the restart")
    await seats[0].send("hello")
    before = await seats[0].wait(lambda m: m.get("type") == "state")
    deadline = json.loads(json.dumps(before["session"]["phase"]["ends_at"]))
    for w in department["workers"]:
        w.stop()
    for s in seats:
        await s.close()
    department["workers"] = [Worker(env, w.port).start() for w in department["workers"]]
    for i, s in enumerate(seats):
        await s.open(department["workers"][i % 2].base)
        st = s.state
        if i == 0:
            assert st["you"]["role"] == before["you"]["role"]
        assert st["session"]["phase"]["ends_at"] == deadline
        assert [p["note"] for p in st["proposals"]] == ["survives restarts"]
        assert "said before the restart" in json.dumps(st["chat"])
    for s in seats:
        await s.close()


async def test_a_phase_deadline_passes_with_nobody_connected_across_workers(department):
    env = department["env"]
    code = (await asyncio.to_thread(new_session, env))["code"]
    await asyncio.to_thread(start, env, code)
    await asyncio.to_thread(host_call, env, code, "clock.extend_phase(s.pk, -(10**3))")
    out = ""
    for _ in range(40):
        out = await asyncio.to_thread(host_call, env, code, "GameSession.objects.get(pk=s.pk).phase_index")
        if out.strip() == "1":
            break
        await asyncio.sleep(0.25)
    assert out.strip() == "1", "no worker advanced the expired phase"


async def test_bots_on_two_workers_reach_an_outcome_and_never_act_twice_for_one_decision(department):
    env = {**department["env"], "GAME_BOTS": "1", "GAME_BOT_DELAY_SECONDS": "0.3"}
    code = (await asyncio.to_thread(new_session, env))["code"]
    await asyncio.to_thread(host_call, env, code, "__import__('game.bots').bots.fill_empty_seats(s.pk)")
    await asyncio.to_thread(start, env, code)
    bot_workers = [Worker(env).start(), Worker(env).start()]  # both drive the same bots
    try:
        await asyncio.sleep(6)
        await asyncio.to_thread(host_call, env, code, "clock.advance_phase(s.pk)")
        await asyncio.to_thread(host_call, env, code, "clock.advance_phase(s.pk)")
        ended = ""
        for _ in range(100):  # up to about 150 s: bots pace themselves like people
            ended = await asyncio.to_thread(
                host_call, env, code, "list(s.tables.values_list('state__ended', flat=True))"
            )
            if ended == "[True]":
                break
            await asyncio.sleep(1.0)
        assert ended == "[True]", "the bots did not reach an outcome"
        actions = await asyncio.to_thread(
            host_call,
            env,
            code,
            "__import__('json').dumps([[e.kind, e.data] for e in __import__('game.models').models.Event"
            ".objects.filter(table__session=s, kind__in=['chat.message', 'proposal.made', 'proposal.answered'])"
            ".order_by('seq')])",
        )
        actions = json.loads(actions)
        assert any(kind == "proposal.made" for kind, _ in actions)
        # A decision taken by both workers at once shares one ref and is applied once: no bot
        # ever repeats its own last action back to back.
        for before, after in itertools.pairwise(actions):
            assert before != after, f"an action was applied twice: {after}"
    finally:
        for w in bot_workers:
            w.stop()
