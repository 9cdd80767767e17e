"""Load test of the game server against a bare relay baseline, over real sockets.

Run: ``.venv/bin/python bench/load.py`` (both configurations, the issue's sizes; about 10 minutes
on a 2-core machine) or ``--quick`` (smaller and shorter, for development: about 3 minutes).
The results table is printed and written to ``artifacts/bench/`` (JSON and Markdown).

For each configuration this starts a throwaway server (bench/servers.py) and then, against the
same Daphne worker(s) and channel layer:

1. **joins**: creates a session of T tables and 4T students join it, ``--join-concurrency`` at a
   time, each as a phone does after scanning the QR code: ``GET /?code=...`` (the join page and
   its CSRF cookie), ``POST /join/`` (302 and the session cookie), ``GET /play/<code>/``, then the
   page's socket on ``/ws/play/<code>/`` until its first ``state`` (which must show a role; every
   table must have four distinct roles). Measured: the phase (first request to last ``state``) and
   each student's own join (the form's post to their first ``state``). The session is started.
2. **baseline**: 4T sockets on ``/ws/relay/<group>/`` in groups of four; the server's memory per
   idle socket; then every socket sends a frame every ``--interval`` seconds (jittered uniformly
   over 0.5x to 1.5x) for ``--duration`` seconds.
3. **game**: the players' 4T sockets open again (memory per idle socket), and every player acts
   at the same rate: 85% table chat, 10% ``proposal.make``, 5% ``proposal.answer`` on an open
   proposal of another role.
4. **joins under load** (``--busy-tables``, 100 by default): 100 of those tables keep playing at
   the same rate while 4T new students join a second session as in 1.
5. department only, **the next size up** (``--big-tables``, 500 by default): a third session
   brings the department to 500 tables (2,000 players, three classes at once); the relay
   baseline and the game run again at that size.

Fan-out latency is the time from a send to the arrival of the resulting event at all four seats
of the table (a unique token rides in the chat text, the proposal's note, or is the
(proposal, role, answer) of an answer). Every seat checks that the ``seq`` of the table's events
is gap-free and never repeats (only table-audience events happen in this load, so every seat
sees every seq). In ``department`` the four players of every table are split two and two
between the two workers, so every fan-out crosses workers through Redis.

Nothing here asserts a target: it measures and reports. The machine's load average is recorded
with every phase: this machine is shared, and a figure measured under other load says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import re
import resource
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rawhttp
import servers

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "artifacts" / "bench"

TARGETS = {
    "join_s": 10.0,  # 1: 800 students joined (first request to last first state)
    "own_join_p95_s": 1.0,  # 1: a student's own join, form post to first state, p95
    "p99_ms": 200.0,  # 1 (busy tables), 2 and 3
    "p50_ratio": 3.0,  # 2: game p50 within 3x the relay's
    "mem_kb": 50.0,  # 3: memory per idle socket
}
DEFAULTS = {"tables": 200, "interval": 5.0, "duration": 45.0, "busy_tables": 100, "big_tables": 500}
QUICK = {"tables": 50, "duration": 15.0, "busy_tables": 25, "big_tables": 125, "drain": 5.0, "quiesce": 10.0}
MAX_TABLES_PER_SESSION = 200

TOKEN_RE = re.compile(
    r"name=[\"']csrfmiddlewaretoken[\"'][^>]*value=[\"']([^\"']+)|"
    r"value=[\"']([^\"']+)[\"'][^>]*name=[\"']csrfmiddlewaretoken[\"']"
)
FILLER = (
    "We could accept a phased arrangement on this point if the guarantees are credible; "
    "what would you need from us?"
)


def scenario_exclusions() -> set[frozenset[tuple[str, str]]]:
    """Pairs of options the default scenario refuses to combine (a proposal with both is refused
    as ``invalid``, which the load must not provoke: the snapshot does not list them)."""
    data = json.loads((ROOT / "game" / "scenarios" / "default.json").read_text())
    out = set()
    for issue in data.get("issues", []):
        for o in issue.get("options", []):
            for ref in o.get("excludes", []):
                other_issue, _, other_opt = ref.partition("/")
                out.add(frozenset({(issue["key"], o["key"]), (other_issue, other_opt)}))
    return out


EXCLUDED = scenario_exclusions()

now = time.perf_counter  # CLOCK_MONOTONIC: one clock for send and arrival times


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    i = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[i]


def summary_ms(values_s: list[float]) -> dict[str, Any]:
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50": pct(ms, 50),
        "p95": pct(ms, 95),
        "p99": pct(ms, 99),
        "max": max(ms) if ms else None,
    }


# --- the measurement state -----------------------------------------------------------------


@dataclass
class Pending:
    t0: float
    kind: str
    table: Any
    mask: int = 0
    first: float = 0.0


@dataclass
class Phase:
    """What one load phase (game or baseline) measured."""

    name: str
    sockets: int = 0
    pending: dict[str, Pending] = field(default_factory=dict)
    by_ref: dict[str, str] = field(default_factory=dict)
    ref_t0: dict[str, float] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    first_latencies: list[float] = field(default_factory=list)
    timeline: list[tuple[float, float]] = field(default_factory=list)
    ack_latencies: list[float] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)
    acks: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    frames_in: int = 0
    events_in: int = 0
    events_in_window: int = 0
    duplicates: int = 0
    seq_gaps: int = 0
    seq_missing: int = 0
    seq_repeats: int = 0
    sync_behind: int = 0
    disconnects: int = 0
    window: tuple[float, float] = (0.0, 0.0)
    measuring: bool = False

    def arrive(self, token: str, bit: int, t: float) -> None:
        p = self.pending.get(token)
        if p is None:
            return
        if p.mask & bit:
            self.duplicates += 1
            return
        if not p.mask:
            p.first = t
        p.mask |= bit
        if p.mask == 0b1111:
            self.latencies.setdefault(p.kind, []).append(t - p.t0)
            self.first_latencies.append(p.first - p.t0)
            self.timeline.append((p.t0, t - p.t0))
            del self.pending[token]


class Seat:
    """One socket: a player of the game, or a member of a relay group."""

    def __init__(self, idx: int, base: str, worker: int):
        self.idx, self.base, self.worker = idx, base, worker
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.table: Any = None
        self.bit = 0
        self.role: str | None = None
        self.state: dict | None = None
        self.state_seen = asyncio.Event()
        self.last_seq: int | None = None
        self.n = 0
        self.phase: Phase | None = None
        self.closed_by_us = False
        self.session = ""  # game only: the session's code
        self.cookie = ""
        self.proposals: dict[int, str] = {}  # id -> author role
        self.my_answers: dict[int, str] = {}
        self.issues: list[tuple[str, list[str]]] = []


# --- joining -------------------------------------------------------------------------------


def _count(d: dict[str, int], key: str) -> None:
    d[key] = d.get(key, 0) + 1


async def join_students(
    bases: list[str],
    code: str,
    idxs: list[int],
    args,
    phase: Phase,
    meter: CpuMeter | None = None,
    label: str = "join",
) -> tuple[list[Seat], dict[str, Any]]:
    """Students ``idxs`` join session ``code``, ``--join-concurrency`` at a time, student i through
    worker i % len(bases), each as a phone does (see the module's docstring), and keep their socket
    open. Returns the seated students' seats (sockets open, first state read) and the report."""
    W = len(bases)
    sem = asyncio.Semaphore(args.join_concurrency)
    seats: list[Seat] = []
    failures: dict[str, int] = {}
    steps: dict[str, list[float]] = {"get": [], "post": [], "play": [], "socket": []}
    own: list[float] = []
    whole: list[float] = []
    last_state = [0.0]

    async def one(i: int) -> None:
        w = i % W
        base = bases[w]
        async with sem:
            conn = rawhttp.Connection(base, timeout=30)
            seat = Seat(i, base, w)
            seat.session, seat.phase = code, phase
            try:
                t0 = now()
                page = await conn.get(f"/?code={code}")
                t1 = now()
                if page.status != 200:
                    _count(failures, f"join_page_{page.status}")
                    return
                csrf = page.cookies().get("csrftoken", "")
                m = TOKEN_RE.search(page.text)
                token = (m.group(1) or m.group(2)) if m else csrf
                r = await conn.post_form(
                    "/join/",
                    {"code": code, "name": f"Student {i:04d}", "csrfmiddlewaretoken": token},
                    headers={
                        "Cookie": f"csrftoken={csrf}",
                        "Origin": base,
                        "Referer": f"{base}/?code={code}",
                    },
                )
                t2 = now()
                sid = r.cookies().get("sessionid")
                if r.status != 302 or not sid:
                    _count(failures, f"join_{r.status}")
                    return
                seat.cookie = f"sessionid={sid}; csrftoken={csrf}"
                play = await conn.get(r.header("location") or "", headers={"Cookie": seat.cookie})
                t3 = now()
                await conn.close()
                if play.status != 200:
                    _count(failures, f"play_{play.status}")
                    return
                await open_socket(seat, f"/ws/play/{code}/", on_game_frame, {"Cookie": seat.cookie})
                await asyncio.wait_for(seat.state_seen.wait(), 30)
                t4 = now()
            except (OSError, TimeoutError, rawhttp.HttpError, InvalidHandshake, ConnectionClosed) as e:
                _count(failures, type(e).__name__)
                await conn.close()
                await close_seats([seat])
                return
            steps["get"].append(t1 - t0)
            steps["post"].append(t2 - t1)
            steps["play"].append(t3 - t2)
            steps["socket"].append(t4 - t3)
            own.append(t4 - t1)
            whole.append(t4 - t0)
            last_state[0] = max(last_state[0], t4)
            seats.append(seat)

    prof = []
    if args.profile is not None and meter is not None:
        prof = meter.stack.profile(args.profile, f"{meter.stack.config}-{label}", args.profile_join_s)
    load0 = loadavg()
    c0 = meter.snap() if meter is not None else None
    t0 = now()
    try:
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in idxs)), args.join_timeout)
    except TimeoutError:
        failures["phase_timeout"] = len(idxs) - len(seats)
    c1 = meter.snap() if meter is not None else None
    elapsed = (last_state[0] or now()) - t0
    if prof:
        await asyncio.to_thread(meter.stack.wait_for, prof, args.profile_join_s + 30)
    roles: dict[Any, list[str | None]] = {}
    for s in seats:
        roles.setdefault(s.table, []).append(s.role)
    complete = sum(1 for t, rs in roles.items() if t is not None and len(rs) == 4 and len(set(rs)) == 4)
    rep: dict[str, Any] = {
        "players": len(idxs),
        "joined": len(seats),
        "seated": sum(1 for s in seats if s.role),
        "tables_complete": complete,
        "seconds": round(elapsed, 2),
        "own_join_ms": summary_ms(own),
        "whole_join_ms": summary_ms(whole),
        "step_ms": {k: summary_ms(v) for k, v in steps.items()},
        "failures": failures,
        "concurrency": args.join_concurrency,
        "loadavg": {"start": load0, "end": loadavg()},
    }
    if c0 is not None and c1 is not None and seats:
        wall = c1["t"] - c0["t"]
        daphne = sum(c1[k] - c0[k] for k in c0 if k.startswith("daphne"))
        aux = sum(c1[k] - c0[k] for k in ("redis", "postgres") if k in c0)
        rep["server_cpu_ms_per_join"] = round(1000 * daphne / len(seats), 1)
        rep["aux_cpu_ms_per_join"] = round(1000 * aux / len(seats), 1)
        rep["client_cpu_ms_per_join"] = round(1000 * (c1["client"] - c0["client"]) / len(seats), 1)
        rep["cpu_pct"] = CpuMeter.diff(c0, c1)
        rep["cpu_wall_s"] = round(wall, 2)
    return seats, rep


# --- sockets -------------------------------------------------------------------------------


async def open_socket(seat: Seat, path: str, on_frame, headers: dict[str, str] | None = None) -> None:
    ws_url = seat.base.replace("http", "ws", 1) + path
    seat.ws = await connect(
        ws_url,
        origin=seat.base,
        additional_headers=headers or {},
        compression=None,
        proxy=None,
        open_timeout=30,
        ping_interval=None,
        close_timeout=5,
        max_size=4 * 1024 * 1024,
        max_queue=None,
    )
    seat.closed_by_us = False
    seat.reader = asyncio.create_task(read_loop(seat, on_frame))


async def read_loop(seat: Seat, on_frame) -> None:
    try:
        async for raw in seat.ws:
            on_frame(seat, raw, now())
    except asyncio.CancelledError:
        raise
    except Exception:
        pass
    if not seat.closed_by_us and seat.phase is not None:
        seat.phase.disconnects += 1


async def close_seats(seats: list[Seat]) -> None:
    async def one(s: Seat) -> None:
        s.closed_by_us = True
        if s.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(s.ws.close(), 5)
        if s.reader is not None:
            s.reader.cancel()
            with contextlib.suppress(BaseException):
                await s.reader

    for i in range(0, len(seats), 200):
        await asyncio.gather(*(one(s) for s in seats[i : i + 200]))


async def bounded_gather(coros, limit: int) -> list:
    sem = asyncio.Semaphore(limit)

    async def run(c):
        async with sem:
            return await c

    return await asyncio.gather(*(run(c) for c in coros), return_exceptions=True)


# --- frames ---------------------------------------------------------------------------------


def on_relay_frame(seat: Seat, raw: str, t: float) -> None:
    ph = seat.phase
    ph.frames_in += 1
    try:
        msg = json.loads(raw)
    except ValueError:
        return
    ph.events_in += 1
    if ph.window[0] <= t <= ph.window[1]:
        ph.events_in_window += 1
    ph.arrive(msg.get("t", ""), seat.bit, t)


def on_game_frame(seat: Seat, raw: str, t: float) -> None:
    ph = seat.phase
    ph.frames_in += 1
    msg = json.loads(raw)
    kind = msg.get("type")
    if kind == "event":
        ph.events_in += 1
        if ph.window[0] <= t <= ph.window[1]:
            ph.events_in_window += 1
        seq = msg.get("seq")
        if seat.last_seq is not None and isinstance(seq, int):
            if seq <= seat.last_seq:
                ph.seq_repeats += 1
                return
            if seq > seat.last_seq + 1:
                ph.seq_gaps += 1
                ph.seq_missing += seq - seat.last_seq - 1
            seat.last_seq = seq
        ek, data = msg.get("kind"), msg.get("data") or {}
        if ek == "chat.message":
            text = data.get("text", "")
            if text.startswith("lt:"):
                ph.arrive(text[3:].split(" ", 1)[0], seat.bit, t)
        elif ek == "proposal.made":
            prop = data.get("proposal") or {}
            if isinstance(prop.get("id"), int):
                seat.proposals[prop["id"]] = prop.get("author")
                if prop.get("author") == seat.role:
                    seat.my_answers[prop["id"]] = "accept"
            note = prop.get("note") or ""
            if note.startswith("lt:"):
                ph.arrive(note[3:].split(" ", 1)[0], seat.bit, t)
        elif ek == "proposal.answered":
            key = f"a:{seat.table}:{data.get('proposal')}:{data.get('role')}:{data.get('answer')}"
            ph.arrive(key, seat.bit, t)
        return
    if kind == "ack":
        ref = msg.get("ref")
        t0 = ph.ref_t0.pop(ref, None)
        ph.by_ref.pop(ref, None)
        if t0 is not None:
            ph.acks += 1
            if ph.measuring:
                ph.ack_latencies.append(t - t0)
    elif kind == "error":
        code = msg.get("code") or "?"
        ph.errors[code] = ph.errors.get(code, 0) + 1
        ref = msg.get("ref")
        ph.ref_t0.pop(ref, None)
        token = ph.by_ref.pop(ref, None)
        if token is not None:
            ph.pending.pop(token, None)  # refused: no event will come
    elif kind == "sync":
        if isinstance(msg.get("seq"), int) and seat.last_seq is not None and msg["seq"] > seat.last_seq:
            ph.sync_behind += 1
    elif kind == "state":
        seat.role = (msg.get("you") or {}).get("role")
        tbl = msg.get("table") or {}
        seat.table = tbl.get("id")
        seat.last_seq = msg.get("seq")
        seat.issues = [(i["key"], [o["key"] for o in i.get("options", [])]) for i in msg.get("issues", [])]
        for p in msg.get("proposals", []):
            seat.proposals[p["id"]] = p.get("author")
            if seat.role in (p.get("answers") or {}):
                seat.my_answers[p["id"]] = p["answers"][seat.role]
        seat.state_seen.set()


# --- acting ---------------------------------------------------------------------------------


def random_terms(issues: list[tuple[str, list[str]]], rng: random.Random) -> dict[str, str]:
    """One option per issue, drawn again while two of them exclude each other."""
    while True:
        terms = {k: rng.choice(opts) for k, opts in issues}
        chosen = list(terms.items())
        if not any(frozenset({a, b}) in EXCLUDED for i, a in enumerate(chosen) for b in chosen[i + 1 :]):
            return terms


async def send_relay(seat: Seat, ph: Phase) -> None:
    seat.n += 1
    token = f"r{seat.idx}.{seat.n}"
    frame = json.dumps({"t": token, "text": FILLER})
    ph.pending[token] = Pending(now(), "relay", seat.table)
    ph.sent["relay"] = ph.sent.get("relay", 0) + 1
    await seat.ws.send(frame)


async def send_game(seat: Seat, ph: Phase, rng: random.Random) -> None:
    seat.n += 1
    token = f"g{seat.idx}.{seat.n}"
    ref = f"{token}"
    r = rng.random()
    kind = "chat"
    if r >= 0.95:
        others = [pid for pid, author in seat.proposals.items() if author != seat.role]
        # An answer is known at the seats only by (proposal, role, answer): never send one whose
        # same answer from this seat is still on its way (accept, reject, accept while the server
        # lags), or its two events would count as one delivered twice.
        others = [
            pid
            for pid in others
            if f"a:{seat.table}:{pid}:{seat.role}:accept" not in ph.pending
            and f"a:{seat.table}:{pid}:{seat.role}:reject" not in ph.pending
        ]
        if others:
            pid = rng.choice(others[-8:])
            answer = "reject" if seat.my_answers.get(pid) == "accept" else "accept"
            seat.my_answers[pid] = answer
            token = f"a:{seat.table}:{pid}:{seat.role}:{answer}"
            msg = {"type": "proposal.answer", "ref": ref, "proposal": pid, "answer": answer}
            kind = "answer"
    elif r >= 0.85 and seat.issues:
        terms = random_terms(seat.issues, rng)
        msg = {"type": "proposal.make", "ref": ref, "terms": terms, "note": f"lt:{token} counter-offer"}
        kind = "proposal"
    if kind == "chat":
        msg = {"type": "chat.send", "ref": ref, "channel": "table", "text": f"lt:{token} {FILLER}"}
    t0 = now()
    ph.pending[token] = Pending(t0, kind, seat.table)
    ph.by_ref[ref] = token
    ph.ref_t0[ref] = t0
    ph.sent[kind] = ph.sent.get(kind, 0) + 1
    await seat.ws.send(json.dumps(msg))


async def drive(seats: list[Seat], ph: Phase, args, game: bool, seed: int, limit: float) -> None:
    """Every seat acts every interval (jittered) until the end of the window (which a phase
    that lasts as long as something else may move while the seats act)."""

    async def actor(seat: Seat, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, args.interval))
        while now() < ph.window[1]:
            try:
                if game:
                    await send_game(seat, ph, rng)
                else:
                    await send_relay(seat, ph)
            except Exception:
                ph.errors["send_failed"] = ph.errors.get("send_failed", 0) + 1
                return
            await asyncio.sleep(args.interval * rng.uniform(0.5, 1.5))

    tasks = [asyncio.create_task(actor(s, random.Random(seed * 100003 + s.idx))) for s in seats]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), limit + args.interval * 2 + 30)
    except TimeoutError:
        for t in tasks:
            t.cancel()


def timeline_p50(ph: Phase, step: float = 10.0) -> list[float | None]:
    """Median fan-out of the actions sent in each ``step`` seconds of the window: does a backlog grow?"""
    start, end = ph.window
    buckets: list[list[float]] = [[] for _ in range(max(1, int((end - start) // step + 0.999)))]
    for t0, lat in ph.timeline:
        i = int((t0 - start) // step)
        if 0 <= i < len(buckets):
            buckets[i].append(lat * 1000)
    return [round(pct(b, 50), 1) if b else None for b in buckets]


class CpuMeter:
    """CPU used by the servers, the client (this process) and the whole machine over a window."""

    def __init__(self, stack: servers.Stack):
        self.stack = stack

    def snap(self) -> dict[str, float]:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        out = {
            "t": now(),
            "client": ru.ru_utime + ru.ru_stime,
            "machine": servers.machine_busy_seconds(),
        }
        for i, pid in enumerate(self.stack.daphne_pids):
            out[f"daphne{i}"] = servers.cpu_seconds(pid)
        out.update(self.stack.aux_cpu_seconds())
        return out

    @staticmethod
    def diff(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
        wall = b["t"] - a["t"]
        pcts = {k: round(100 * (b[k] - a[k]) / wall, 1) for k in a if k != "t"}
        ours = sum(v for k, v in pcts.items() if k != "machine")
        pcts["daphne_total"] = round(sum(v for k, v in pcts.items() if k.startswith("daphne")), 1)
        pcts["other_load"] = round(max(0.0, pcts["machine"] - ours), 1)
        return pcts


def cpu_per_action(a: dict[str, float], b: dict[str, float], actions: int) -> dict[str, float | None]:
    """Server CPU milliseconds per client action (Daphne, and Redis + PostgreSQL): robust to other load."""
    if not actions:
        return {"daphne": None, "aux": None}
    daphne = sum(b[k] - a[k] for k in a if k.startswith("daphne"))
    aux = sum(b[k] - a[k] for k in ("redis", "postgres") if k in a)
    return {"daphne": round(1000 * daphne / actions, 2), "aux": round(1000 * aux / actions, 2)}


async def loop_lag(samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        t = now()
        await asyncio.sleep(0.05)
        samples.append(now() - t - 0.05)


async def settle_rss(pids: list[int], quiet: float = 2.0, limit: float = 10.0) -> list[int]:
    """RSS once it stops moving (connect-time work finished), at most ``limit`` seconds."""
    end = now() + limit
    last = [servers.rss_kb(p) for p in pids]
    await asyncio.sleep(quiet)
    while now() < end:
        cur = [servers.rss_kb(p) for p in pids]
        if all(abs(c - prev) < 256 for c, prev in zip(cur, last, strict=True)):
            return cur
        last = cur
        await asyncio.sleep(quiet)
    return last


async def quiesce(pids: list[int], limit: float, idle_pct: float = 15.0) -> float:
    """Wait (at most ``limit`` s) until the workers' CPU falls below ``idle_pct`` of a core over 1 s.

    Connecting hundreds of sockets leaves work queued in the server (presence events, snapshots);
    measuring starts once that is done. Returns how long it took (= ``limit`` if it never settled).
    """
    t0 = now()
    while now() - t0 < limit:
        a = sum(servers.cpu_seconds(p) for p in pids)
        await asyncio.sleep(1.0)
        if 100 * (sum(servers.cpu_seconds(p) for p in pids) - a) < idle_pct * len(pids):
            break
    return round(now() - t0, 1)


async def run_phase(
    ph: Phase,
    seats: list[Seat],
    args,
    game: bool,
    meter: CpuMeter,
    seed: int,
    during=None,
    lead: float = 3.0,
    tail: float = 2.0,
) -> dict:
    """Drive the load over ``ph``'s seats; the seq checks count from each socket's first state.

    The window lasts ``--duration`` seconds, or, with ``during`` (a coroutine function), as long
    as it runs: it starts ``lead`` seconds into the window and the window closes ``tail``
    seconds after it returns (its result is returned as ``during``)."""
    ph.sockets = len(seats)
    for s in seats:
        s.phase = ph
    start = now() + 0.5
    ph.window = (start, start + (args.duration if during is None else 10**6))
    lag: list[float] = []
    stop = asyncio.Event()
    lag_task = asyncio.create_task(loop_lag(lag, stop))
    await asyncio.sleep(max(0.0, start - now()))
    ph.measuring = True
    load0 = loadavg()
    c0 = meter.snap()
    prof = []
    if args.profile is not None and during is None:
        prof = meter.stack.profile(args.profile, f"{meter.stack.config}-{ph.name}", args.duration)
    driver = asyncio.create_task(drive(seats, ph, args, game, seed, args.duration if during is None else 600))
    during_result = None
    if during is not None:
        await asyncio.sleep(lead)
        during_result = await during()
        await asyncio.sleep(tail)
        ph.window = (ph.window[0], now())
    await driver
    c1 = meter.snap()
    ph.measuring = False
    if prof:
        await asyncio.to_thread(meter.stack.wait_for, prof, 30)
    # drain: wait for the fan-outs still on their way
    drain_end = now() + args.drain
    while ph.pending and now() < drain_end:
        await asyncio.sleep(0.1)
    drained = now() - c1["t"]
    stop.set()
    await lag_task
    lost_deliveries = sum(4 - bin(p.mask).count("1") for p in ph.pending.values())
    all_lat = [v for vs in ph.latencies.values() for v in vs]
    window = ph.window[1] - ph.window[0]
    out = {
        "sockets": ph.sockets,
        "duration_s": round(window, 1),
        "sent": ph.sent,
        "sent_total": sum(ph.sent.values()),
        "acks": ph.acks,
        "ack_ms": summary_ms(ph.ack_latencies) if game else None,
        "errors": {k: v for k, v in ph.errors.items() if k != "rate_limited"},
        "rate_limited": ph.errors.get("rate_limited", 0),
        "fanout_ms": summary_ms(all_lat),
        "fanout_ms_by_kind": {k: summary_ms(v) for k, v in ph.latencies.items()},
        "first_seat_ms": summary_ms(ph.first_latencies),
        "fanout_p50_ms_by_10s": timeline_p50(ph),
        "events_delivered": ph.events_in,
        "throughput_events_per_s": round(ph.events_in_window / window, 1),
        "actions_per_s": round(sum(ph.sent.values()) / window, 1),
        "incomplete_fanouts": len(ph.pending),
        "lost_deliveries": lost_deliveries,
        "duplicates": ph.duplicates,
        "seq_gaps": ph.seq_gaps,
        "seq_missing": ph.seq_missing,
        "seq_repeats": ph.seq_repeats,
        "sync_behind": ph.sync_behind,
        "disconnects": ph.disconnects,
        "drain_s": round(drained, 1),
        "cpu_pct": CpuMeter.diff(c0, c1),
        "server_cpu_ms_per_action": cpu_per_action(c0, c1, sum(ph.sent.values())),
        "client_loop_lag_ms": {
            "p99": round(1000 * (pct(lag, 99) or 0), 1),
            "max": round(1000 * max(lag or [0]), 1),
        },
        "loadavg": {"start": load0, "end": loadavg()},
    }
    if during is not None:
        out["during"] = during_result
    return out


# --- one configuration -----------------------------------------------------------------------


def worker_of(i: int, n_workers: int) -> int:
    """Socket i of a group of four: seats 0-1 on worker 0, seats 2-3 on worker 1."""
    return 0 if n_workers == 1 else (i % 4) // 2 % n_workers


def complete_tables(seats: list[Seat]) -> dict[Any, list[Seat]]:
    """The tables whose four seats are all here, with four distinct roles."""
    by: dict[Any, list[Seat]] = {}
    for s in seats:
        by.setdefault(s.table, []).append(s)
    return {
        t: ss
        for t, ss in by.items()
        if t is not None and len(ss) == 4 and len({s.role for s in ss}) == 4 and all(s.role for s in ss)
    }


async def warm_up(bases: list[str]) -> None:
    """Templates, static files and caches loaded before anything is measured."""
    for b in bases:
        conn = rawhttp.Connection(b, timeout=10)
        for path in ("/healthz", "/", "/"):
            await conn.get(path)
        await conn.close()
        ws = await connect(
            b.replace("http", "ws", 1) + "/ws/relay/warmup/", origin=b, proxy=None, compression=None
        )
        await ws.send("{}")
        await asyncio.wait_for(ws.recv(), 10)
        await ws.close()


async def relay_phase(stack: servers.Stack, n: int, args, meter: CpuMeter, seed: int, say) -> dict:
    """The baseline: n relay sockets in groups of four (two and two across the workers), memory
    per idle socket, then the load; the sockets are closed at the end."""
    bases, pids, W = stack.bases, stack.daphne_pids, len(stack.bases)
    rss0 = await settle_rss(pids, quiet=1.0)
    relay = [Seat(i, bases[worker_of(i, W)], worker_of(i, W)) for i in range(n)]
    ph = Phase("baseline")
    for s in relay:
        s.table, s.bit = f"b{s.idx // 4}", 1 << (s.idx % 4)
        s.phase = ph
    t0 = now()
    res = await bounded_gather((open_socket(s, f"/ws/relay/{s.table}/", on_relay_frame) for s in relay), 64)
    fail = sum(isinstance(r, BaseException) for r in res)
    connect_s = now() - t0
    rss1 = await settle_rss(pids)
    ok = [s for s, r in zip(relay, res, strict=True) if not isinstance(r, BaseException)]
    say(f"{len(ok)} relay sockets in {connect_s:.1f}s; baseline load for {args.duration:.0f}s")
    out = await run_phase(ph, ok, args, False, meter, seed)
    out["connect_s"] = round(connect_s, 2)
    out["connect_failures"] = fail
    # Growth while the relay sockets opened (a low bound: earlier sockets' memory is used again).
    out["mem_kb_per_socket_reconnect"] = round((sum(rss1) - sum(rss0)) / max(1, len(ok)), 1)
    await close_seats(ok)
    return out


async def connect_players(
    stack: servers.Stack, seats: list[Seat], args, ph: Phase, say, rss_fresh: list[int]
) -> tuple[list[Seat], dict]:
    """Open the seated players' sockets again (as pages reconnect), each table two and two across
    the workers; measure the memory per idle socket and wait for the server to idle."""
    bases, pids, W = stack.bases, stack.daphne_pids, len(stack.bases)
    for ss in complete_tables(seats).values():
        for j, s in enumerate(sorted(ss, key=lambda s: str(s.role))):
            s.worker = worker_of(j, W)
            s.base = bases[s.worker]
            s.bit = 1 << j
    for s in seats:
        s.phase = ph
        s.state_seen.clear()
        s.proposals.clear()
        s.my_answers.clear()
    rss0 = await settle_rss(pids, quiet=1.0)
    retries: dict[str, int] = {}
    times: list[float] = []
    deadline = now() + args.connect_timeout

    async def open_player(s: Seat) -> None:
        """Open a player's socket as the page does: on failure, retry with a growing pause."""
        t0 = now()
        for attempt in range(6):
            if now() > deadline:
                raise TimeoutError("connect phase over")
            try:
                await open_socket(s, f"/ws/play/{s.session}/", on_game_frame, {"Cookie": s.cookie})
                await asyncio.wait_for(s.state_seen.wait(), 30)
                times.append(now() - t0)
                return
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as e:
                if attempt == 5:
                    raise
                retries[type(e).__name__] = retries.get(type(e).__name__, 0) + 1
                await close_seats([s])
                s.state_seen.clear()
                await asyncio.sleep(min(8.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0))

    t0 = now()
    res = await bounded_gather((open_player(s) for s in seats), 64)
    connect_s = now() - t0
    fail = sum(isinstance(r, BaseException) for r in res)
    ok = [s for s, r in zip(seats, res, strict=True) if not isinstance(r, BaseException)]
    rss1 = await settle_rss(pids)
    busy_s = await quiesce(pids, args.quiesce)
    full = complete_tables(ok)
    crossing = sum(1 for ss in full.values() if len({s.worker for s in ss}) > 1)
    say(f"{len(ok)} player sockets in {connect_s:.1f}s; complete tables {len(full)}")
    info = {
        "connect_s": round(connect_s, 2),
        "connect_failures": fail,
        "connect_retries": retries,
        "connect_ms": summary_ms(times),
        "busy_after_connect_s": busy_s,
        # Only a low bound: memory that earlier sockets freed is used again (memory_phase
        # measures on workers that have held no socket before).
        "mem_kb_per_socket_reconnect": round((sum(rss1) - sum(rss0)) / max(1, len(ok)), 1),
        "tables_complete": len(full),
        "tables_crossing_workers": crossing if W > 1 else None,
    }
    return [s for ss in full.values() for s in ss], info


async def memory_phase(stack: servers.Stack, seats: list[Seat], say) -> dict[str, Any]:
    """Memory per idle socket, measured where nothing else was ever held: as many fresh workers
    as the configuration has take one more socket for each seated player (split evenly), and as
    many others the same number of relay sockets; each worker's RSS growth once it settles,
    divided by its sockets. (On a worker that served the run, sockets reuse memory that earlier
    sockets freed, and RSS growth understates them.)"""
    W = len(stack.bases)
    fresh = await asyncio.to_thread(stack.extra_workers, 2 * W)
    relay_w, game_w = fresh[:W], fresh[W:]
    ph = Phase("memory")
    opened: list[Seat] = []
    try:
        for base, _p in fresh:
            await warm_up([base])
        pids_r, pids_g = [p.pid for _b, p in relay_w], [p.pid for _b, p in game_w]
        r0 = await settle_rss(pids_r + pids_g, quiet=1.0)
        relay = []
        for i in range(len(seats)):
            s = Seat(i, relay_w[(i // 4) % W][0], (i // 4) % W)
            s.table, s.phase = f"m{i // 4}", ph
            relay.append(s)
        mirror = []
        for k, src in enumerate(seats):
            s = Seat(src.idx, game_w[k % W][0], k % W)
            s.session, s.cookie, s.phase = src.session, src.cookie, ph
            mirror.append(s)

        async def open_player(s: Seat) -> None:
            await open_socket(s, f"/ws/play/{s.session}/", on_game_frame, {"Cookie": s.cookie})
            await asyncio.wait_for(s.state_seen.wait(), 30)

        res_r = await bounded_gather(
            (open_socket(s, f"/ws/relay/{s.table}/", on_relay_frame) for s in relay), 64
        )
        res_g = await bounded_gather((open_player(s) for s in mirror), 32)
        opened = [
            s for s, r in zip(relay + mirror, res_r + res_g, strict=True) if not isinstance(r, BaseException)
        ]
        await quiesce(pids_g, 20)
        r1 = await settle_rss(pids_r + pids_g)
        n_r = sum(not isinstance(r, BaseException) for r in res_r)
        n_g = sum(not isinstance(r, BaseException) for r in res_g)
        grow_r = sum(r1[: len(pids_r)]) - sum(r0[: len(pids_r)])
        grow_g = sum(r1[len(pids_r) :]) - sum(r0[len(pids_r) :])
        out = {
            "workers": W,
            "relay_sockets": n_r,
            "player_sockets": n_g,
            "relay_kb_per_socket": round(grow_r / max(1, n_r), 1),
            "player_kb_per_socket": round(grow_g / max(1, n_g), 1),
            "rss_kb": {
                "relay": [r0[: len(pids_r)], r1[: len(pids_r)]],
                "players": [r0[len(pids_r) :], r1[len(pids_r) :]],
            },
        }
        say(
            f"memory per idle socket on fresh workers: {out['player_kb_per_socket']} KB a player's, "
            f"{out['relay_kb_per_socket']} KB a relay's ({n_g} and {n_r} sockets)"
        )
        return out
    finally:
        await close_seats(opened)
        for _b, p in fresh:
            await asyncio.to_thread(stack.stop_proc, p)


async def run_config(stack: servers.Stack, args) -> dict:
    T, N = args.tables, 4 * args.tables
    bases, W = stack.bases, len(stack.bases)
    meter = CpuMeter(stack)
    rep: dict[str, Any] = {
        "config": stack.config,
        "workers": W,
        "database": "PostgreSQL 15" if stack.db == "postgres" else "SQLite (WAL)",
        "channel_layer": f"channels_redis ({stack.env.get('GAME_REDIS_LAYER', 'pubsub')})"
        if stack.config == "department"
        else "in-memory",
        "debug": stack.debug,
        "tables": T,
        "players": N,
        "interval_s": args.interval,
        "rate_limit_per_10s": int(stack.env.get("GAME_RATE_LIMIT_PER_10S", 40)),
        "loadavg": {"start": loadavg()},
    }
    say = lambda *a: print(f"[{stack.config}]", *a, file=sys.stderr, flush=True)  # noqa: E731
    await warm_up(bases)
    rss_fresh = await settle_rss(stack.daphne_pids, quiet=1.0)
    rep["rss_kb_fresh"] = rss_fresh
    skip = set(args.skip)
    next_idx = [0]

    def idxs(n: int) -> list[int]:
        out = list(range(next_idx[0], next_idx[0] + n))
        next_idx[0] += n
        return out

    # -- 1. joins ---------------------------------------------------------------------------------
    s1 = (await asyncio.to_thread(stack.create_session, T))["code"]
    say(f"session {s1}: {T} tables; {N} students join, {args.join_concurrency} at a time")
    seats1, rep["join"] = await join_students(bases, s1, idxs(N), args, Phase("join"), meter)
    j = rep["join"]
    rss_joined = await settle_rss(stack.daphne_pids)
    j["mem_kb_per_student"] = round((sum(rss_joined) - sum(rss_fresh)) / max(1, j["joined"]), 1)
    say(
        f"joined {j['joined']}/{N} in {j['seconds']:.1f}s (own join p95 {fmt(j['own_join_ms']['p95'])} ms), "
        f"complete tables {j['tables_complete']}/{T}"
    )
    await close_seats(seats1)
    sessions = [s1]
    await asyncio.to_thread(stack.start_sessions, [s1])
    if "baseline" in skip and "game" in skip and "busy" in skip and "big" in skip:
        rep["loadavg"]["end"] = loadavg()
        return rep

    # -- 2. baseline and 3. game at T tables ----------------------------------------------------
    if "baseline" not in skip:
        rep["baseline"] = await relay_phase(stack, N, args, meter, args.seed, say)
    game_ph = Phase("game")
    game, info = await connect_players(stack, seats1, args, game_ph, say, rss_fresh)
    if "game" not in skip:
        rep["game"] = await run_phase(game_ph, game, args, True, meter, args.seed + 1) | info
        if "baseline" in rep:
            rep["ratio"] = ratios(rep["game"], rep["baseline"])
        rep["memory"] = await memory_phase(stack, game, say)

    # -- 4. joins while tables play -----------------------------------------------------------------
    seats2: list[Seat] = []
    if "busy" not in skip and args.busy_tables:
        tables = list(complete_tables(game).values())[: args.busy_tables]
        busy = [s for ss in tables for s in ss]
        keep = {id(s) for s in busy}
        await close_seats([s for s in game if id(s) not in keep])
        await quiesce(stack.daphne_pids, args.quiesce)
        s2 = (await asyncio.to_thread(stack.create_session, T))["code"]
        sessions.append(s2)
        say(f"session {s2}: {N} students join while {len(tables)} tables play")

        async def joins():
            return await join_students(bases, s2, idxs(N), args, Phase("join2"), meter, "join-busy")

        busy_res = await run_phase(Phase("busy"), busy, args, True, meter, args.seed + 2, during=joins)
        seats2, rep["join_busy"] = busy_res.pop("during")
        rep["busy"] = busy_res
        jb = rep["join_busy"]
        say(
            f"joined {jb['joined']}/{N} in {jb['seconds']:.1f}s while {len(tables)} tables played "
            f"(their fan-out p99 {fmt(busy_res['fanout_ms']['p99'])} ms)"
        )
        await close_seats(busy + seats2)
    else:
        await close_seats(game)

    # -- 5. the next size up (department) ------------------------------------------------------------
    if stack.config == "department" and "big" not in skip and args.big_tables:
        big = args.big_tables
        have = T + (T if seats2 or "join_busy" in rep else 0)
        seats_big = list(seats1) + list(seats2)
        extra_joins = []
        while have < big:
            n_tables = min(MAX_TABLES_PER_SESSION, big - have)
            code = (await asyncio.to_thread(stack.create_session, n_tables))["code"]
            sessions.append(code)
            more, jr = await join_students(
                bases, code, idxs(4 * n_tables), args, Phase("join3"), meter, "join-big"
            )
            say(f"session {code}: {jr['joined']} more students joined in {jr['seconds']:.1f}s")
            extra_joins.append(jr)
            await close_seats(more)
            seats_big += more
            have += n_tables
        await asyncio.to_thread(stack.start_sessions, sessions[1:])
        rb: dict[str, Any] = {
            "tables": have,
            "players": 4 * have,
            "sessions": len(sessions),
            "joins": extra_joins,
        }
        rb["baseline"] = await relay_phase(stack, 4 * have, args, meter, args.seed + 3, say)
        ph = Phase("big")
        players, info = await connect_players(stack, seats_big, args, ph, say, rss_fresh)
        rb["game"] = await run_phase(ph, players, args, True, meter, args.seed + 4) | info
        rb["ratio"] = ratios(rb["game"], rb["baseline"])
        rb["memory"] = await memory_phase(stack, players, say)
        await close_seats(players)
        rep["big"] = rb
    rep["loadavg"]["end"] = loadavg()
    if any(
        (rep.get(k) or {}).get("failures") or (rep.get(k) or {}).get("errors")
        for k in ("join", "join_busy", "game")
    ):
        rep["server_log_tail"] = stack.log_tail(15)
    return rep


def ratios(g: dict, b: dict) -> dict[str, float | None]:
    def r(x, y):
        return round(x / y, 2) if x is not None and y else None

    return {
        "p50": r(g["fanout_ms"]["p50"], b["fanout_ms"]["p50"]),
        "p95": r(g["fanout_ms"]["p95"], b["fanout_ms"]["p95"]),
        "p99": r(g["fanout_ms"]["p99"], b["fanout_ms"]["p99"]),
        "throughput": r(g["throughput_events_per_s"], b["throughput_events_per_s"]),
        "server_cpu": r(g["cpu_pct"]["daphne_total"], b["cpu_pct"]["daphne_total"]),
    }


# --- reporting -----------------------------------------------------------------------------------


def fmt(v, nd=1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def conn_fmt(x: dict) -> str:
    c = x.get("connect_ms")
    return f"{fmt(c['p50'])} / {fmt(c['max'])}" if c else "-"


def load_fmt(x: dict | None) -> str:
    la = (x or {}).get("loadavg") or {}
    s, e = la.get("start"), la.get("end")
    return f"{s[0]:.2f} → {e[0]:.2f}" if s and e else "-"


def join_checks(j: dict | None, players: int, tables: int) -> tuple[bool, bool]:
    if not j:
        return False, False
    p95 = (j.get("own_join_ms") or {}).get("p95")
    all_in = j["joined"] == players and j["seated"] == players and j["tables_complete"] == tables
    return (
        all_in and j["seconds"] <= TARGETS["join_s"],
        p95 is not None and p95 < 1000 * TARGETS["own_join_p95_s"],
    )


def verdicts(reports: list[dict]) -> list[dict[str, Any]]:
    """One row per numbered target of the issue and configuration: the measured figure, met or not."""
    rows = []

    def add(n: str, target: str, cfg: str, figure: str, ok: bool | None) -> None:
        rows.append({"target": n, "what": target, "config": cfg, "figure": figure, "met": ok})

    for r in reports:
        cfg, N, T = r["config"], r["players"], r["tables"]
        j = r.get("join")
        if j:
            ok_t, ok_p = join_checks(j, N, T)
            add(
                "1",
                f"{N} join in <= {TARGETS['join_s']:.0f} s, all seated; own join p95 < 1 s",
                cfg,
                f"{j['seconds']:.1f} s, {j['seated']}/{N} seated; own join p95 {fmt(j['own_join_ms']['p95'], 0)} ms",
                ok_t and ok_p,
            )
        jb, b = r.get("join_busy"), r.get("busy")
        if jb and b:
            ok_t, ok_p = join_checks(jb, N, T)
            p99 = b["fanout_ms"]["p99"]
            clean = (
                b["lost_deliveries"] == 0
                and b["duplicates"] == 0
                and b["seq_gaps"] == 0
                and b["seq_repeats"] == 0
            )
            ok_b = p99 is not None and p99 < TARGETS["p99_ms"] and clean
            add(
                "1",
                f"the same while {b['sockets'] // 4} tables play; their fan-out p99 < 200 ms",
                cfg,
                f"{jb['seconds']:.1f} s, {jb['seated']}/{N} seated; own join p95 "
                f"{fmt(jb['own_join_ms']['p95'], 0)} ms; playing tables' p99 {fmt(p99)} ms"
                + ("" if clean else ", events lost or out of order"),
                ok_t and ok_p and ok_b,
            )
        g, ratio = r.get("game"), r.get("ratio") or {}
        if g:
            p50r, p99 = ratio.get("p50"), g["fanout_ms"]["p99"]
            add(
                "2",
                f"{T} tables: fan-out p50 within 3x the relay's, p99 < 200 ms",
                cfg,
                f"p50 {fmt(g['fanout_ms']['p50'])} ms = {fmt(p50r, 2)}x relay "
                f"({fmt((r.get('baseline') or {}).get('fanout_ms', {}).get('p50'))} ms); p99 {fmt(p99)} ms",
                p50r is not None
                and p50r <= TARGETS["p50_ratio"]
                and p99 is not None
                and p99 < TARGETS["p99_ms"],
            )
        big = r.get("big")
        if big:
            bg = big["game"]
            clean = (
                bg["lost_deliveries"] == 0
                and bg["incomplete_fanouts"] == 0
                and bg["duplicates"] == 0
                and bg["seq_gaps"] == 0
                and bg["seq_repeats"] == 0
            )
            p99 = bg["fanout_ms"]["p99"]
            mem = (big.get("memory") or {}).get("player_kb_per_socket")
            add(
                "3",
                f"{big['tables']} tables ({big['players']} players) on {r['workers']} workers: p99 < 200 ms, "
                "none lost, duplicated or out of order, < 50 KB per idle socket",
                cfg,
                f"p99 {fmt(p99)} ms (relay {fmt(big['baseline']['fanout_ms']['p99'])} ms); "
                f"{bg['incomplete_fanouts']} incomplete, {bg['duplicates']} duplicated, "
                f"{bg['seq_gaps']} gaps, {bg['seq_repeats']} repeats; {fmt(mem)} KB per idle socket",
                p99 is not None
                and p99 < TARGETS["p99_ms"]
                and clean
                and mem is not None
                and mem < TARGETS["mem_kb"],
            )
        if j and g:
            add(
                "4",
                "worker CPU per join and per action",
                cfg,
                f"{fmt(j.get('server_cpu_ms_per_join'))} ms per join (+{fmt(j.get('aux_cpu_ms_per_join'))} "
                f"Redis/PostgreSQL); {fmt(g['server_cpu_ms_per_action']['daphne'], 2)} ms per action "
                f"(+{fmt(g['server_cpu_ms_per_action']['aux'], 2)}; relay "
                f"{fmt((r.get('baseline') or {}).get('server_cpu_ms_per_action', {}).get('daphne'), 2)})",
                None,
            )
    return rows


def verdict_lines(rows: list[dict]) -> list[str]:
    out = ["| # | target | config | measured | |", "|---|---|---|---|---|"]
    for v in rows:
        mark = "" if v["met"] is None else ("**met**" if v["met"] else "**missed**")
        out.append(f"| {v['target']} | {v['what']} | {v['config']} | {v['figure']} | {mark} |")
    return out


def joins_md(reports: list[dict]) -> list[str]:
    cols = []
    for r in reports:
        for key, label in (("join", "joins"), ("join_busy", "joins while tables play")):
            if r.get(key):
                cols.append(
                    (f"{r['config']}: {label}", r[key], r.get("busy") if key == "join_busy" else None)
                )
        for k, jr in enumerate((r.get("big") or {}).get("joins", [])):
            cols.append((f"{r['config']}: joins of class {k + 3}", jr, None))
    if not cols:
        return []
    lines = ["| measure | " + " | ".join(c[0] for c in cols) + " |", "|---|" + "---:|" * len(cols)]

    def row(label, get):
        lines.append(f"| {label} | " + " | ".join(get(j, b) for _, j, b in cols) + " |")

    def ms3(d):
        return f"{fmt(d['p50'], 0)} / {fmt(d['p95'], 0)} / {fmt(d['max'], 0)}"

    row(
        "students joined / seated / tables complete",
        lambda j, b: f"{j['joined']} / {j['seated']} / {j['tables_complete']}",
    )
    row("phase: first request to last first state, s", lambda j, b: f"**{j['seconds']:.1f}**")
    row("own join (form post to first state) p50 / p95 / max ms", lambda j, b: ms3(j["own_join_ms"]))
    row("whole join (join page to first state) p50 / p95 / max ms", lambda j, b: ms3(j["whole_join_ms"]))
    for step, label in (
        ("get", "GET /?code="),
        ("post", "POST /join/"),
        ("play", "GET /play/"),
        ("socket", "socket to first state"),
    ):
        row(
            f"{label} p50 / p95 ms",
            lambda j, b, step=step: (
                f"{fmt(j['step_ms'][step]['p50'], 0)} / {fmt(j['step_ms'][step]['p95'], 0)}"
            ),
        )
    row("worker CPU ms per join", lambda j, b: fmt(j.get("server_cpu_ms_per_join")))
    row("Redis + PostgreSQL CPU ms per join", lambda j, b: fmt(j.get("aux_cpu_ms_per_join")))
    row("client CPU ms per join", lambda j, b: fmt(j.get("client_cpu_ms_per_join")))
    row(
        "CPU % of a core: workers / client / other load",
        lambda j, b: "{} / {} / {}".format(
            *(fmt((j.get("cpu_pct") or {}).get(k)) for k in ("daphne_total", "client", "other_load"))
        ),
    )
    row("failures", lambda j, b: json.dumps(j["failures"]) if j["failures"] else "0")
    row(
        "server memory KB per seated student (growth since start)",
        lambda j, b: fmt(j.get("mem_kb_per_student")),
    )
    row(
        "playing tables: fan-out p50 / p99 / max ms",
        lambda j, b: (
            f"{fmt(b['fanout_ms']['p50'])} / {fmt(b['fanout_ms']['p99'])} / {fmt(b['fanout_ms']['max'])}"
            if b
            else ""
        ),
    )
    row(
        "playing tables: incomplete / duplicates / seq gaps / repeats",
        lambda j, b: (
            f"{b['incomplete_fanouts']} / {b['duplicates']} / {b['seq_gaps']} / {b['seq_repeats']}"
            if b
            else ""
        ),
    )
    row("load average (1 min) at start → end", lambda j, b: load_fmt(j))
    return lines


def load_md(reports: list[dict]) -> list[str]:
    cols = []

    def with_memory(g: dict, b: dict, ratio: dict, mem: dict | None):
        g, b, ratio = dict(g), dict(b), dict(ratio)
        if mem:
            g["mem_kb_fresh"], b["mem_kb_fresh"] = mem["player_kb_per_socket"], mem["relay_kb_per_socket"]
            ratio["mem_per_socket"] = (
                round(g["mem_kb_fresh"] / b["mem_kb_fresh"], 2) if b["mem_kb_fresh"] else None
            )
        return g, b, ratio

    for r in reports:
        if r.get("game") and r.get("baseline"):
            cols.append(
                (
                    f"{r['config']} {r['tables']}",
                    *with_memory(r["game"], r["baseline"], r["ratio"], r.get("memory")),
                )
            )
        if r.get("big"):
            b = r["big"]
            cols.append(
                (
                    f"{b['config'] if 'config' in b else r['config']} {b['tables']}",
                    *with_memory(b["game"], b["baseline"], b["ratio"], b.get("memory")),
                )
            )
    if not cols:
        return []
    hdr = "| metric |" + "".join(f" {c} game | {c} relay | ratio |" for c, *_ in cols)
    lines = [hdr, "|---|" + "---:|---:|---:|" * len(cols)]

    def row(label, get, ratio_key=None, nd=1):
        s = f"| {label} |"
        for _, g, b, ratio in cols:
            rv = ratio.get(ratio_key) if ratio_key else None
            s += f" {fmt(get(g), nd)} | {fmt(get(b), nd)} | {fmt(rv, 2) if ratio_key else ''} |"
        lines.append(s)

    row("sockets", lambda x: x["sockets"])
    row("actions/s", lambda x: x["actions_per_s"])
    row("fan-out p50 ms", lambda x: x["fanout_ms"]["p50"], "p50")
    row("fan-out p95 ms", lambda x: x["fanout_ms"]["p95"], "p95")
    row("fan-out p99 ms", lambda x: x["fanout_ms"]["p99"], "p99")
    row("fan-out max ms", lambda x: x["fanout_ms"]["max"])
    row(
        "ack p50 / p99 ms",
        lambda x: (
            f"{fmt((x.get('ack_ms') or {}).get('p50'))} / {fmt((x.get('ack_ms') or {}).get('p99'))}"
            if x.get("ack_ms")
            else None
        ),
    )
    row("events delivered/s", lambda x: x["throughput_events_per_s"], "throughput")
    row(
        "incomplete / lost / duplicates / seq gaps / repeats",
        lambda x: (
            f"{x['incomplete_fanouts']} / {x['lost_deliveries']} / {x['duplicates']} / {x['seq_gaps']} / {x['seq_repeats']}"
        ),
    )
    row(
        "errors / rate-limited / disconnects",
        lambda x: (
            f"{json.dumps(x['errors']) if x['errors'] else 0} / {x['rate_limited']} / {x['disconnects']}"
        ),
    )
    row("sockets opened in s", lambda x: x.get("connect_s"))
    row("socket connect p50 / max ms", lambda x: conn_fmt(x))
    row("memory KB per idle socket (fresh workers)", lambda x: x.get("mem_kb_fresh"), "mem_per_socket")
    row("memory KB per idle socket (reopened, low bound)", lambda x: x.get("mem_kb_per_socket_reconnect"))
    row("worker CPU ms per action", lambda x: x["server_cpu_ms_per_action"]["daphne"], nd=2)
    row("Redis + PostgreSQL CPU ms per action", lambda x: x["server_cpu_ms_per_action"]["aux"], nd=2)
    row(
        "CPU % of a core: workers / Redis / PostgreSQL",
        lambda x: (
            f"{x['cpu_pct']['daphne_total']} / {x['cpu_pct'].get('redis', '-')} / {x['cpu_pct'].get('postgres', '-')}"
        ),
    )
    row(
        "CPU % of a core: client / other load",
        lambda x: f"{x['cpu_pct']['client']} / {x['cpu_pct']['other_load']}",
    )
    row("client loop lag p99 ms", lambda x: x["client_loop_lag_ms"]["p99"])
    row("load average (1 min) at start → end", lambda x: load_fmt(x))
    return lines


def table_md(reports: list[dict], machine: dict, args) -> str:
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Load test, {date}; {machine['nproc']} cores ({machine['cpu']}), {machine['memory']} RAM", ""]
    for r in reports:
        lines.append(
            f"- {r['config']}: {r['workers']} Daphne worker(s), {r['channel_layer']} channel layer, "
            f"{r['database']}, DEBUG={'1' if r['debug'] else '0'}; {r['tables']} tables ({r['players']} players), "
            f"one action per player every {r['interval_s']} s (jittered 0.5x-1.5x), {args.duration:.0f} s per load phase; "
            f"load average {load_fmt(r)} over the configuration's {r.get('wall_s', '?')} s."
        )
    lines += ["", "Targets (measured, never asserted):", "", *verdict_lines(verdicts(reports))]
    j = joins_md(reports)
    if j:
        lines += ["", "Joins (each student: join page, form, player page, socket to first state):", "", *j]
    m = load_md(reports)
    if m:
        lines += ["", "Load, the game beside the bare relay:", "", *m]
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------------


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Load test: the game against a bare relay baseline.")
    ap.add_argument("--config", choices=["embedded", "department", "both"], default="both")
    ap.add_argument(
        "--quick",
        action="store_true",
        help=f"for development: {QUICK['tables']} tables, {QUICK['busy_tables']} playing during the second joins, "
        f"{QUICK['big_tables']} in the department's next size up, {QUICK['duration']:.0f} s phases",
    )
    ap.add_argument(
        "--tables", type=int, default=None, help=f"tables of the first class (default {DEFAULTS['tables']})"
    )
    ap.add_argument(
        "--busy-tables",
        type=int,
        default=None,
        help=f"tables that keep playing while a second class joins (default {DEFAULTS['busy_tables']}; 0: skip)",
    )
    ap.add_argument(
        "--big-tables",
        type=int,
        default=None,
        help=f"department: tables of the next size up, over several classes (default {DEFAULTS['big_tables']}; 0: skip)",
    )
    ap.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["baseline", "game", "busy", "big"],
        help="phases to leave out (the joins always run): e.g. --skip baseline game busy big for joins only",
    )
    ap.add_argument(
        "--interval", type=float, default=DEFAULTS["interval"], help="seconds between a player's actions"
    )
    ap.add_argument("--duration", type=float, default=None, help="seconds of load per phase (default 45)")
    ap.add_argument(
        "--drain", type=float, default=None, help="seconds to wait for late fan-outs after a phase (10)"
    )
    ap.add_argument("--join-concurrency", type=int, default=40)
    ap.add_argument(
        "--quiesce",
        type=float,
        default=None,
        help="at most this many seconds for the server to idle before a load phase (20)",
    )
    ap.add_argument(
        "--join-timeout", type=float, default=120.0, help="seconds allowed for all joins of a class"
    )
    ap.add_argument(
        "--connect-timeout", type=float, default=120.0, help="seconds allowed for opening all player sockets"
    )
    ap.add_argument("--department-db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument(
        "--workers", type=int, default=0, help="Daphne workers (default: 1 embedded, 2 department)"
    )
    ap.add_argument("--debug", action="store_true", help="run the server with DJANGO_DEBUG=1")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json-out", type=Path, default=None, help="where to write the JSON report")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument(
        "--redis-layer",
        choices=["core", "pubsub"],
        default="pubsub",
        help="department: channels_redis's RedisPubSubChannelLayer (pubsub, the server's default) or RedisChannelLayer",
    )
    ap.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment setting for the servers (repeatable), e.g. GAME_DB_THREADS=1",
    )
    ap.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="directory: sample the Daphne workers with py-spy during each load phase and the joins",
    )
    ap.add_argument(
        "--profile-join-s", type=float, default=20.0, help="seconds of the joins sampled with --profile"
    )
    a = ap.parse_args(argv)
    base = DEFAULTS | (QUICK if a.quick else {})
    for k in ("tables", "busy_tables", "big_tables", "duration"):
        if getattr(a, k) is None:
            setattr(a, k, base[k])
    a.drain = a.drain if a.drain is not None else base.get("drain", 10.0)
    a.quiesce = a.quiesce if a.quiesce is not None else base.get("quiesce", 20.0)
    if not 1 <= a.tables <= MAX_TABLES_PER_SESSION:
        ap.error(f"--tables must be between 1 and {MAX_TABLES_PER_SESSION} (the server's limit per session)")
    if a.interval <= 0 or a.duration <= 0:
        ap.error("--interval and --duration must be positive")
    if a.busy_tables > a.tables:
        ap.error("--busy-tables cannot exceed --tables (they are tables of the first class)")
    for item in a.server_env:
        if "=" not in item:
            ap.error(f"--server-env wants NAME=VALUE, not {item!r}")
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    servers.raise_fd_limit()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    configs = ["embedded", "department"] if args.config == "both" else [args.config]
    machine = servers.machine_info()
    reports = []
    # The server's default rate limit (40 per 10 s per socket) is far above one action every few
    # seconds; raise it only for much faster runs so that refusals measure nothing but the limit.
    extra = {}
    per_10s = 10.0 / (args.interval * 0.5)
    if per_10s * 2 > 40:
        extra["GAME_RATE_LIMIT_PER_10S"] = str(int(per_10s * 4))
    extra["GAME_REDIS_LAYER"] = args.redis_layer
    extra.update(dict(item.split("=", 1) for item in args.server_env))
    for cfg in configs:
        stack = servers.Stack(
            config=cfg,
            db="sqlite" if cfg == "embedded" else args.department_db,
            workers=args.workers if cfg == "department" else 0,
            debug=args.debug,
            extra_env=extra,
            verbose=not args.quiet,
        )
        t0 = time.monotonic()
        try:
            with stack:
                rep = asyncio.run(run_config(stack, args))
        except KeyboardInterrupt:
            print("interrupted: servers stopped", file=sys.stderr)
            return 130
        rep["wall_s"] = round(time.monotonic() - t0, 1)
        reports.append(rep)
    md = table_md(reports, machine, args)
    verdict = verdicts(reports)
    print(md)
    doc = {
        "date": dt.datetime.now(dt.UTC).isoformat(),
        "machine": machine,
        "args": vars(args) | {"json_out": None},
        "reports": reports,
        "verdicts": verdict,
    }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    out = args.json_out
    if out is None:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        out = OUT_DIR / f"load-{stamp}.json"
        (OUT_DIR / f"load-{stamp}.md").write_text(md + "\n")
    out.write_text(json.dumps(doc, indent=2, default=str))
    print(f"\nReport: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
