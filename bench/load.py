"""Load test of the game server against a bare relay baseline, over real sockets.

Run: ``.venv/bin/python bench/load.py [--config embedded|department|both] [--tables T]
[--interval S] [--duration S]``. With no arguments both configurations run with the defaults
below (about 4 minutes each on a 2-core machine) and the results table is printed and written
to ``artifacts/bench/`` (JSON and Markdown).

For each configuration this starts a throwaway server (bench/servers.py) and then, against the
same Daphne worker(s) and channel layer:

1. creates a session with T tables (``manage.py create_session``) and joins 4T players through
   the join form, as a browser does (``GET /`` for the CSRF token, ``POST /join/``, then
   ``GET /play/<code>/``), ``--join-concurrency`` at a time; then starts the session;
2. baseline: opens 4T sockets on ``/ws/relay/<group>/`` in groups of four and measures the
   server's memory per idle socket; then every socket sends a frame every ``--interval``
   seconds (jittered uniformly over 0.5x to 1.5x) for ``--duration`` seconds;
3. game: opens the players' 4T sockets on ``/ws/play/<code>/``, checks that every player is
   seated (a role, four distinct roles per table), measures memory per idle socket, and then
   every player acts at the same rate: 85% table chat, 10% ``proposal.make``, 5%
   ``proposal.answer`` on an open proposal of another role.

Fan-out latency is the time from a send to the arrival of the resulting event at all four seats
of the table (a unique token rides in the chat text, the proposal's note, or is the
(proposal, role, answer) of an answer). Every seat checks that the ``seq`` of the table's events
is gap-free and never repeats (only table-audience events happen in this load, so every seat
sees every seq). In ``department`` the four players of every table are split two and two
between the two workers, so every fan-out crosses workers through Redis.

Nothing here asserts a target: it measures and reports.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import http.cookiejar
import json
import random
import re
import resource
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servers

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "artifacts" / "bench"

TARGETS = {"p99_ms": 200.0, "p50_ratio": 3.0, "join_s": 20.0, "mem_kb": 200.0}
DEFAULTS = {"tables": 200, "interval": 5.0, "duration": 45.0}

TOKEN_RE = re.compile(
    r"name=[\"']csrfmiddlewaretoken[\"'][^>]*value=[\"']([^\"']+)|"
    r"value=[\"']([^\"']+)[\"'][^>]*name=[\"']csrfmiddlewaretoken[\"']"
)
FILLER = (
    "We could accept a phased arrangement on this point if the guarantees are credible; "
    "what would you need from us?"
)

now = time.perf_counter  # CLOCK_MONOTONIC: one clock for send and arrival times


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


class NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Every player is a browser of its own: the shared HTTP client must never keep cookies."""

    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False


def set_cookie_value(resp: httpx.Response, name: str) -> str | None:
    for raw in resp.headers.get_list("set-cookie"):
        k, _, rest = raw.partition("=")
        if k.strip() == name:
            return rest.split(";", 1)[0]
    return None


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
        # game only
        self.cookie = ""
        self.proposals: dict[int, str] = {}  # id -> author role
        self.my_answers: dict[int, str] = {}
        self.issues: list[tuple[str, list[str]]] = []


# --- joining -------------------------------------------------------------------------------


async def join_players(
    bases: list[str], code: str, n: int, concurrency: int, timeout: float
) -> tuple[list[dict], float, list[float], dict[str, int]]:
    """Join n players, player i through worker i % len(bases). Returns (players, seconds, per-join, failures)."""
    clients = [
        httpx.AsyncClient(
            timeout=30,
            follow_redirects=False,
            trust_env=False,
            cookies=httpx.Cookies(http.cookiejar.CookieJar(policy=NoCookies())),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        for _ in bases
    ]
    sem = asyncio.Semaphore(concurrency)
    players: list[dict] = []
    per_join: list[float] = []
    failures: dict[str, int] = {}
    order = 0

    async def one(i: int) -> None:
        nonlocal order
        w = i % len(bases)
        base, c = bases[w], clients[w]
        async with sem:
            t0 = now()
            try:
                page = await c.get(base + "/")
                csrf = set_cookie_value(page, "csrftoken")
                m = TOKEN_RE.search(page.text)
                token = (m.group(1) or m.group(2)) if m else csrf
                r = await c.post(
                    base + "/join/",
                    data={"code": code, "name": f"Player {i:04d}", "csrfmiddlewaretoken": token or ""},
                    headers={"Cookie": f"csrftoken={csrf}", "Origin": base, "Referer": base + "/"},
                )
                sid = set_cookie_value(r, "sessionid")
                if r.status_code != 302 or not sid:
                    failures[f"join_{r.status_code}"] = failures.get(f"join_{r.status_code}", 0) + 1
                    return
                cookie = f"sessionid={sid}; csrftoken={csrf}"
                play = await c.get(base + r.headers["location"], headers={"Cookie": cookie})
                if play.status_code != 200:
                    failures[f"play_{play.status_code}"] = failures.get(f"play_{play.status_code}", 0) + 1
                    return
            except (httpx.HTTPError, KeyError) as e:
                failures[type(e).__name__] = failures.get(type(e).__name__, 0) + 1
                return
            per_join.append(now() - t0)
            players.append({"i": i, "worker": w, "cookie": cookie, "done": order})
            order += 1

    t0 = now()
    try:
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout)
    except TimeoutError:
        failures["phase_timeout"] = n - len(players)
    elapsed = now() - t0
    for c in clients:
        await c.aclose()
    players.sort(key=lambda p: p["done"])
    return players, elapsed, per_join, failures


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
        seat.state = msg
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
        if others:
            pid = rng.choice(others[-8:])
            answer = "reject" if seat.my_answers.get(pid) == "accept" else "accept"
            seat.my_answers[pid] = answer
            token = f"a:{seat.table}:{pid}:{seat.role}:{answer}"
            msg = {"type": "proposal.answer", "ref": ref, "proposal": pid, "answer": answer}
            kind = "answer"
    elif r >= 0.85 and seat.issues:
        terms = {k: rng.choice(opts) for k, opts in seat.issues}
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


async def drive(seats: list[Seat], ph: Phase, args, game: bool, seed: int) -> None:
    """Every seat acts every interval (jittered) until the end of the window."""
    end = ph.window[1]

    async def actor(seat: Seat, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, args.interval))
        while now() < end:
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
        await asyncio.wait_for(asyncio.gather(*tasks), args.duration + args.interval * 2 + 30)
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


async def run_phase(ph: Phase, seats: list[Seat], args, game: bool, meter: CpuMeter, seed: int) -> dict:
    """Drive the load over ``ph``'s seats; the seq checks count from each socket's first state."""
    ph.sockets = len(seats)
    for s in seats:
        s.phase = ph
    start = now() + 0.5
    ph.window = (start, start + args.duration)
    lag: list[float] = []
    stop = asyncio.Event()
    lag_task = asyncio.create_task(loop_lag(lag, stop))
    await asyncio.sleep(max(0.0, start - now()))
    ph.measuring = True
    c0 = meter.snap()
    prof = []
    if args.profile is not None:
        prof = meter.stack.profile(args.profile, f"{meter.stack.config}-{ph.name}", args.duration)
    await drive(seats, ph, args, game, seed)
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
    return {
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
    }


# --- one configuration -----------------------------------------------------------------------


def worker_of(i: int, n_workers: int) -> int:
    """Socket i of a group of four: seats 0-1 on worker 0, seats 2-3 on worker 1."""
    return 0 if n_workers == 1 else (i % 4) // 2 % n_workers


async def run_config(stack: servers.Stack, args) -> dict:
    T, N = args.tables, 4 * args.tables
    bases, pids = stack.bases, stack.daphne_pids
    W = len(bases)
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
    }
    say = lambda *a: print(f"[{stack.config}]", *a, file=sys.stderr, flush=True)  # noqa: E731

    async with httpx.AsyncClient(trust_env=False, timeout=10) as c:  # warm-up: templates, static, caches
        for b in bases:
            for path in ("/healthz", "/", "/"):
                await c.get(b + path)
    for b in bases:
        ws = await connect(
            b.replace("http", "ws", 1) + "/ws/relay/warmup/", origin=b, proxy=None, compression=None
        )
        await ws.send("{}")
        await asyncio.wait_for(ws.recv(), 10)
        await ws.close()

    session = await asyncio.to_thread(stack.create_session, T)
    code, table_ids = session["code"], session["tables"]
    say(f"session {code}: {len(table_ids)} tables; joining {N} players")

    # With --profile, the first 20 s of the joins and of the socket connects are sampled too.
    prof = stack.profile(args.profile, f"{stack.config}-join", 20) if args.profile is not None else []
    players, join_s, per_join, join_fail = await join_players(
        bases, code, N, args.join_concurrency, args.join_timeout
    )
    await asyncio.to_thread(stack.wait_for, prof, 30)
    rep["join"] = {
        "players": N,
        "joined": len(players),
        "seconds": round(join_s, 2),
        "per_join_ms": summary_ms(per_join),
        "failures": join_fail,
        "concurrency": args.join_concurrency,
    }
    say(f"joined {len(players)}/{N} in {join_s:.1f}s")
    await asyncio.to_thread(stack.start_session, code)

    # -- baseline: relay sockets in groups of four ----------------------------------------------
    rss0 = await settle_rss(pids, quiet=1.0)
    relay = [Seat(i, bases[worker_of(i, W)], worker_of(i, W)) for i in range(N)]
    base_ph = Phase("baseline")
    for s in relay:
        s.table, s.bit = f"b{s.idx // 4}", 1 << (s.idx % 4)
        s.phase = base_ph
    t0 = now()
    res = await bounded_gather((open_socket(s, f"/ws/relay/{s.table}/", on_relay_frame) for s in relay), 64)
    relay_fail = sum(isinstance(r, BaseException) for r in res)
    relay_connect_s = now() - t0
    rss1 = await settle_rss(pids)
    relay_ok = [s for s, r in zip(relay, res, strict=True) if not isinstance(r, BaseException)]
    say(f"{len(relay_ok)} relay sockets in {relay_connect_s:.1f}s; baseline load for {args.duration:.0f}s")
    base_res = await run_phase(base_ph, relay_ok, args, False, meter, args.seed)
    base_res["connect_s"] = round(relay_connect_s, 2)
    base_res["connect_failures"] = relay_fail
    base_res["mem_kb_per_socket"] = round((sum(rss1) - sum(rss0)) / max(1, len(relay_ok)), 1)

    # -- the game: the players' sockets ---------------------------------------------------------
    rss2 = await settle_rss(pids, quiet=1.0)
    game = []
    game_ph = Phase("game")
    for k, p in enumerate(players):
        # join completion order is close to seating order (table k // 4): start from an even split
        w = worker_of(k, W)
        s = Seat(p["i"], bases[w], w)
        s.cookie = p["cookie"]
        s.phase = game_ph
        game.append(s)

    retries: dict[str, int] = {}
    connect_deadline = now() + args.connect_timeout
    connect_times: list[float] = []

    async def open_player(s: Seat) -> None:
        """Open a player's socket as the page does: on failure, retry with a growing pause."""
        t0 = now()
        for attempt in range(6):
            if now() > connect_deadline:
                raise TimeoutError("connect phase over")
            try:
                await open_socket(s, f"/ws/play/{code}/", on_game_frame, {"Cookie": s.cookie})
                await asyncio.wait_for(s.state_seen.wait(), 30)
                connect_times.append(now() - t0)
                return
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as e:
                if attempt == 5:
                    raise
                retries[type(e).__name__] = retries.get(type(e).__name__, 0) + 1
                await close_seats([s])
                s.state_seen.clear()
                await asyncio.sleep(min(8.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0))

    prof = stack.profile(args.profile, f"{stack.config}-connect", 15) if args.profile is not None else []
    t0 = now()
    res = await bounded_gather((open_player(s) for s in game), 64)
    game_connect_s = now() - t0
    await asyncio.to_thread(stack.wait_for, prof, 30)
    game_fail = sum(isinstance(r, BaseException) for r in res)
    game = [s for s, r in zip(game, res, strict=True) if not isinstance(r, BaseException)]
    moved = 0
    if W > 1:  # make every table exactly two and two across the workers (moved before measuring)
        movers: list[Seat] = []
        by_table: dict[Any, list[Seat]] = {}
        for s in game:
            by_table.setdefault(s.table, []).append(s)
        for ss in by_table.values():
            on = [[s for s in ss if s.worker == 0], [s for s in ss if s.worker == 1]]
            while abs(len(on[0]) - len(on[1])) > 1:
                src = 0 if len(on[0]) > len(on[1]) else 1
                s = on[src].pop()
                on[1 - src].append(s)
                movers.append(s)

        async def move(s: Seat) -> None:
            await close_seats([s])
            s.worker = 1 - s.worker
            s.base = bases[s.worker]
            s.state_seen.clear()
            s.proposals.clear()
            s.my_answers.clear()
            await open_player(s)

        connect_deadline = now() + args.connect_timeout
        res = await bounded_gather((move(s) for s in movers), 32)
        failed = {id(s) for s, r in zip(movers, res, strict=True) if isinstance(r, BaseException)}
        game_fail += len(failed)
        game = [s for s in game if id(s) not in failed]
        moved = len(movers) - len(failed)
    rss3 = await settle_rss(pids)
    busy_s = await quiesce(pids, args.quiesce)
    roles: dict[Any, list[str | None]] = {}
    for s in game:
        roles.setdefault(s.table, []).append(s.role)
    seated = sum(1 for s in game if s.role)
    complete = sum(
        1
        for t, rs in roles.items()
        if t is not None and len(rs) == 4 and len(set(rs)) == 4 and None not in rs
    )
    crossing = 0
    for t in roles:
        ws_ = {s.worker for s in game if s.table == t}
        crossing += len(ws_) > 1
    for t in roles:  # one bit per seat of a table: a fan-out is complete at 0b1111
        for j, s in enumerate(sorted((s for s in game if s.table == t), key=lambda s: str(s.role))):
            s.bit = 1 << j if j < 4 else 0
    rep["join"].update(
        {
            "connected": len(game),
            "seated": seated,
            "tables_complete": complete,
            "tables_expected": T,
            "tables_crossing_workers": crossing if W > 1 else None,
            "sockets_moved_to_balance": moved,
        }
    )
    say(
        f"{len(game)} player sockets in {game_connect_s:.1f}s; seated {seated}, complete tables {complete}/{T}"
    )
    full_tables = {
        t
        for t, rs in roles.items()
        if t is not None and len(rs) == 4 and len(set(rs)) == 4 and None not in rs
    }
    full = [s for s in game if s.table in full_tables]
    game_res = await run_phase(game_ph, full, args, True, meter, args.seed + 1)
    game_res["connect_s"] = round(game_connect_s, 2)
    game_res["connect_failures"] = game_fail
    game_res["connect_retries"] = retries
    game_res["busy_after_connect_s"] = busy_s
    game_res["connect_ms"] = summary_ms(connect_times)
    game_res["mem_kb_per_socket"] = round((sum(rss3) - sum(rss2)) / max(1, len(game)), 1)
    rep["rss_kb"] = {"start": rss0, "relay_connected": rss1, "before_game": rss2, "game_connected": rss3}
    rep["baseline"], rep["game"] = base_res, game_res
    rep["ratio"] = ratios(game_res, base_res)
    await close_seats(game + relay_ok)
    if join_fail or game_fail or relay_fail or game_res["errors"] or base_res["errors"]:
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
        "mem_per_socket": r(g["mem_kb_per_socket"], b["mem_kb_per_socket"]),
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


def table_md(reports: list[dict], machine: dict) -> str:
    lines = []
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines.append(f"Load test, {date}; {machine['nproc']} cores ({machine['cpu']}), {machine['memory']} RAM")
    lines.append("")
    hdr = "| metric |"
    sep = "|---|"
    for r in reports:
        hdr += f" {r['config']} game | {r['config']} baseline | ratio |"
        sep += "---:|---:|---:|"
    lines += [hdr, sep]

    def row(label, get, ratio_key=None, nd=1):
        s = f"| {label} |"
        for r in reports:
            g, b = get(r["game"]), get(r["baseline"])
            rv = r["ratio"].get(ratio_key) if ratio_key else None
            s += f" {fmt(g, nd)} | {fmt(b, nd)} | {fmt(rv, 2) if ratio_key else ''} |"
        lines.append(s)

    row("sockets", lambda x: x["sockets"])
    row("actions sent", lambda x: x["sent_total"])
    row("actions/s", lambda x: x["actions_per_s"])
    row("fan-out p50 ms", lambda x: x["fanout_ms"]["p50"], "p50")
    row("fan-out p95 ms", lambda x: x["fanout_ms"]["p95"], "p95")
    row("fan-out p99 ms", lambda x: x["fanout_ms"]["p99"], "p99")
    row("fan-out max ms", lambda x: x["fanout_ms"]["max"])
    row("ack p50 ms (game)", lambda x: (x.get("ack_ms") or {}).get("p50"))
    row("ack p99 ms (game)", lambda x: (x.get("ack_ms") or {}).get("p99"))
    row("events delivered/s", lambda x: x["throughput_events_per_s"], "throughput")
    row("incomplete fan-outs", lambda x: x["incomplete_fanouts"])
    row("lost deliveries", lambda x: x["lost_deliveries"])
    row("duplicates", lambda x: x["duplicates"])
    row("seq gaps / repeats", lambda x: f"{x['seq_gaps']} / {x['seq_repeats']}")
    row("errors (excl. rate_limited)", lambda x: json.dumps(x["errors"]) if x["errors"] else "0")
    row("rate_limited", lambda x: x["rate_limited"])
    row("disconnects", lambda x: x["disconnects"])
    row("socket connect p50 / max ms", lambda x: conn_fmt(x))
    row("server busy after connects s", lambda x: x.get("busy_after_connect_s"))
    row(
        "connect retries / failures",
        lambda x: f"{sum((x.get('connect_retries') or {}).values())} / {x['connect_failures']}",
    )
    row("memory KB/idle socket", lambda x: x["mem_kb_per_socket"], "mem_per_socket")
    row("server CPU % (sum of workers)", lambda x: x["cpu_pct"]["daphne_total"], "server_cpu")
    row("Daphne CPU ms per action", lambda x: x["server_cpu_ms_per_action"]["daphne"], nd=2)
    row("Redis+PostgreSQL CPU ms per action", lambda x: x["server_cpu_ms_per_action"]["aux"], nd=2)
    row(
        "Redis / PostgreSQL CPU %",
        lambda x: f"{x['cpu_pct'].get('redis', '-')} / {x['cpu_pct'].get('postgres', '-')}",
    )
    row("client CPU %", lambda x: x["cpu_pct"]["client"])
    row("other load on machine CPU %", lambda x: x["cpu_pct"]["other_load"])
    row("client loop lag p99 ms", lambda x: x["client_loop_lag_ms"]["p99"])
    lines.append("")
    for r in reports:
        j = r["join"]
        lines.append(
            f"- {r['config']}: {r['workers']} Daphne worker(s), {r['channel_layer']} channel layer, "
            f"{r['database']}, DEBUG={'1' if r['debug'] else '0'}; {r['tables']} tables, {r['players']} players, "
            f"one action per player every {r['interval_s']} s (jittered 0.5x-1.5x), {r['game']['duration_s']} s per phase. "
            f"Joins: {j['joined']}/{j['players']} in {j['seconds']} s "
            f"(per join p50 {fmt(j['per_join_ms']['p50'])} ms, p95 {fmt(j['per_join_ms']['p95'])} ms, "
            f"{j['concurrency']} at a time); sockets connected {j.get('connected')}, seated {j.get('seated')} "
            f"(a role each, checked in their first state), complete tables "
            f"{j.get('tables_complete')}/{j.get('tables_expected')}"
            + (
                f", tables spanning both workers {j.get('tables_crossing_workers')}"
                if r["workers"] > 1
                else ""
            )
            + f"; sockets opened in {r['game']['connect_s']} s (game) and {r['baseline']['connect_s']} s (relay)."
        )
    return "\n".join(lines)


def verdicts(reports: list[dict]) -> list[str]:
    out = []
    for r in reports:
        g, j = r["game"], r["join"]
        checks = [
            (
                "p99 fan-out < 200 ms",
                g["fanout_ms"]["p99"] is not None and g["fanout_ms"]["p99"] < TARGETS["p99_ms"],
            ),
            (
                "no lost or duplicated events",
                g["lost_deliveries"] == 0
                and g["duplicates"] == 0
                and g["seq_gaps"] == 0
                and g["seq_repeats"] == 0,
            ),
            ("game p50 within 3x baseline p50", (r["ratio"]["p50"] or 99) <= TARGETS["p50_ratio"]),
            (
                f"{r['players']} joins within 20 s, all seated",
                j["seconds"] <= TARGETS["join_s"]
                and j.get("seated") == r["players"]
                and j.get("tables_complete") == r["tables"],
            ),
            ("memory per idle socket < 200 KB", g["mem_kb_per_socket"] < TARGETS["mem_kb"]),
        ]
        out.append(
            f"{r['config']}: " + "; ".join(f"{name}: {'MET' if ok else 'MISSED'}" for name, ok in checks)
        )
    return out


# --- main ------------------------------------------------------------------------------------------


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Load test: the game against a bare relay baseline.")
    ap.add_argument("--config", choices=["embedded", "department", "both"], default="both")
    ap.add_argument("--tables", type=int, default=DEFAULTS["tables"])
    ap.add_argument(
        "--interval", type=float, default=DEFAULTS["interval"], help="seconds between a player's actions"
    )
    ap.add_argument("--duration", type=float, default=DEFAULTS["duration"], help="seconds of load per phase")
    ap.add_argument(
        "--drain", type=float, default=10.0, help="seconds to wait for late fan-outs after a phase"
    )
    ap.add_argument("--join-concurrency", type=int, default=40)
    ap.add_argument(
        "--quiesce",
        type=float,
        default=20.0,
        help="at most this many seconds for the server to idle before the game phase",
    )
    ap.add_argument("--join-timeout", type=float, default=90.0, help="seconds allowed for all joins")
    ap.add_argument(
        "--connect-timeout", type=float, default=60.0, help="seconds allowed for opening all player sockets"
    )
    ap.add_argument("--department-db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--debug", action="store_true", help="run the server with DJANGO_DEBUG=1")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json-out", type=Path, default=None, help="where to write the JSON report")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument(
        "--redis-layer",
        choices=["core", "pubsub"],
        default="core",
        help="department: channels_redis's RedisChannelLayer (core) or RedisPubSubChannelLayer",
    )
    ap.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="directory: sample the Daphne workers with py-spy during each load phase (collapsed stacks)",
    )
    a = ap.parse_args(argv)
    if not 1 <= a.tables <= 200:
        ap.error("--tables must be between 1 and 200 (the server's limit per session)")
    if a.interval <= 0 or a.duration <= 0:
        ap.error("--interval and --duration must be positive")
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
    if args.redis_layer != "core":
        extra["GAME_REDIS_LAYER"] = args.redis_layer
    for cfg in configs:
        stack = servers.Stack(
            config=cfg,
            db="sqlite" if cfg == "embedded" else args.department_db,
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
    md = table_md(reports, machine)
    verdict = verdicts(reports)
    print(md)
    print()
    print("Targets (measured, not asserted):")
    for v in verdict:
        print("- " + v)
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
        (OUT_DIR / f"load-{stamp}.md").write_text(md + "\n\n" + "\n".join("- " + v for v in verdict) + "\n")
    out.write_text(json.dumps(doc, indent=2, default=str))
    print(f"\nReport: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
