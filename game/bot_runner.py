"""Drives bots: for each table with bots, ask the policy what to do and do it via services.

``step(now)`` runs every second in every worker (``bots.run_bots``) and may run in several
workers at once. It keeps no pacing state in memory: whether a bot may act is derived from the
table's event log in the database, and every action goes through ``moves.player_action``
(the path people use: same validation, same event log, same broadcast) with a ``ref`` made of
the bot and the table ``seq`` its decision was based on. Two workers that decide at the same
moment therefore send the same ``ref``, and the ``ClientRef`` idempotency applies the action
once; a worker that reads the table after the other acted sees a newer ``seq`` and a fresh
event, so the bot is not due yet.

Pacing (``settings.GAME["BOT_DELAY_SECONDS"]``, default 4): a bot acts only when the table has
been quiet for half to one delay ("reading time") and its role's own last action is one to two
delays old; the jitter is deterministic (from the session seed, the table, the role and the
table's ``seq``). At most one bot action per table per step.

A bot plays a role only while nobody else plays it: a stand-in stops as soon as its student
takes the seat back (``stand_in`` False), and a role that also has an active human player is
left to the human.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from itertools import groupby
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from game.engine import bot
from game.engine import rules as R
from game.engine.durability import seed_from
from game.engine.scenario import TRANSLATED_LANGUAGES
from game.models import Event, GameSession, Player
from game.services import moves, snapshots
from game.services.errors import ServiceError

log = logging.getLogger(__name__)

ACTION_KINDS = ("chat.message", "proposal.made", "proposal.answered", "proposal.withdrawn")
RECENT_ACTIONS = 60  # how far back to look for a role's last action
DEFAULT_DELAY = 4.0

# A memo, not pacing state: (table seq, until) for bots whose policy chose to wait, so an idle
# bot is not re-asked every second while nothing changes. Losing it changes nothing but cost.
_idle: dict[int, tuple[int, float]] = {}
_idle_lock = threading.Lock()


def delay_seconds() -> float:
    return float(settings.GAME.get("BOT_DELAY_SECONDS", DEFAULT_DELAY))


def bot_seed(session_seed: int, table_number: int, role: str) -> int:
    """The seed of one bot's decisions: session seed, table and role."""
    return seed_from("bot", session_seed, table_number, role)


class BotSeat(NamedTuple):
    player_id: int
    table_id: int
    role: str
    session_id: int
    session_seed: int
    table_number: int

    @property
    def seed(self) -> int:
        return bot_seed(self.session_seed, self.table_number, self.role)


def active_bots() -> list[BotSeat]:
    """One query: the bots that may act now (running, unpaused sessions; live tables)."""
    rows = (
        Player.objects.filter(Q(is_bot=True) | Q(stand_in=True), removed=False, table__isnull=False)
        .filter(
            session__status=GameSession.RUNNING,
            session__paused_remaining__isnull=True,
            table__outcome__isnull=True,
        )
        .exclude(role="")
        .order_by("table_id", "id")
        .values_list("pk", "table_id", "role", "session_id", "session__seed", "table__number")
    )
    return [BotSeat(*r) for r in rows]


def step(now: datetime | None = None) -> int:
    """Let at most one due bot act at every table that has bots. Returns the actions taken."""
    now = now or timezone.now()
    rows = active_bots()
    if not rows:
        return 0
    done = 0
    for table_id, group in groupby(rows, key=lambda r: r.table_id):
        try:
            if _step_table(table_id, list(group), now):
                done += 1
        except Exception as e:  # one table's trouble must not stop the others
            from game import faults

            faults.report("bot step", e, f"table {table_id}")
    return done


def due_bots(table_id: int, bots: list[BotSeat], now: datetime) -> tuple[int, list[BotSeat]]:
    """The table's latest ``seq`` and its bots whose turn has come, most overdue first
    (derived from the event log)."""
    last = Event.objects.filter(table_id=table_id).order_by("-seq").values_list("seq", "at").first()
    if last is None:
        return 0, []
    seq, last_at = last
    delay = delay_seconds()
    quiet = (now - last_at).total_seconds()
    if quiet < delay / 2:
        return seq, []  # nobody has had time to read the last event yet
    humans = set(
        Player.objects.filter(table_id=table_id, removed=False, is_bot=False, stand_in=False).values_list(
            "role", flat=True
        )
    )
    candidates, seen = [], set()
    for b in bots:
        if b.role in humans or b.role in seen:
            continue  # a person plays this role; or another bot of the role was listed first
        seen.add(b.role)
        candidates.append(b)
    if not candidates:
        return seq, []
    last_own = _last_actions(table_id)
    out = []
    for b in candidates:
        jitter = (seed_from(b.seed, seq) % 1000) / 1000.0
        if quiet < delay * (0.5 + 0.5 * jitter):
            continue
        own_at = last_own.get(b.role)
        since = (now - own_at).total_seconds() if own_at is not None else float("inf")
        if since < delay * (1.0 + jitter):
            continue
        out.append((since, b))
    out.sort(key=lambda x: -x[0])
    return seq, [b for _, b in out]


def _last_actions(table_id: int) -> dict[str, datetime]:
    """When each role last acted at the table (chat, proposals, answers, withdrawals)."""
    recent = (
        Event.objects.filter(table_id=table_id, kind__in=ACTION_KINDS)
        .order_by("-seq")
        .values_list("kind", "data", "at")[:RECENT_ACTIONS]
    )
    out: dict[str, datetime] = {}
    authors: dict[int, str] = {}
    rows = list(recent)
    for kind, data, _ in rows:
        if kind == "proposal.made":
            p = data.get("proposal") or {}
            authors[p.get("id")] = p.get("author")
    for kind, data, at in rows:
        if kind == "proposal.made":
            role = (data.get("proposal") or {}).get("author")
        elif kind == "proposal.withdrawn":
            role = authors.get(data.get("proposal"))
        else:
            role = data.get("role")
        if role and role not in out:
            out[role] = at
    return out


def _step_table(table_id: int, bots: list[BotSeat], now: datetime) -> bool:
    seq, due = due_bots(table_id, bots, now)
    for b in due:
        memo = _idle.get(b.player_id)
        if memo is not None and memo[0] in (seq, -1) and now.timestamp() < memo[1]:
            continue  # it chose to wait at this very state a moment ago
        plan = decide_for(b, now)
        if plan is None:
            continue
        pid, msg, texts = plan
        try:
            moves.player_action(pid, msg, now=now, texts=texts)
        except ServiceError as e:  # the table moved on between deciding and acting
            log.info("bot %s could not %s: %s", pid, msg.get("type"), e.message)
            _remember_idle(pid, -1, now)
            continue
        return True
    return False


def _remember_idle(pid: int, seq: int, now: datetime) -> None:
    with _idle_lock:
        if len(_idle) > 10000:
            _idle.clear()
        _idle[pid] = (seq, now.timestamp() + 2 * delay_seconds())


def decide_for(b: BotSeat, now: datetime) -> tuple[int, dict[str, Any], dict[str, str]] | None:
    """What this bot would do now, as (player id, message with its ref, the message's words in
    the scenario's other languages); None to wait."""
    pid = b.player_id
    state = snapshots.player_state(pid)
    seq = int(state.get("seq") or 0)
    if state["you"].get("role") != b.role or not state.get("table"):
        return None
    view = build_view(state, b, now)
    decision = bot.decide(view)
    if decision is None:
        _remember_idle(pid, seq, now)
        return None
    msg = to_message(decision)
    msg["ref"] = f"bot:{pid}:{seq}"  # one decision per bot per table state
    return pid, msg, words_in_every_language(view, decision, b)


def build_view(state: dict[str, Any], b: BotSeat, now: datetime) -> bot.BotView:
    """The bot's view: ``player_state`` (this seat's values only) plus the public scenario."""
    session = GameSession.objects.defer("scenario_data").get(pk=b.session_id)  # loaded only if not cached
    public = bot.public_scenario(session.engine_scenario(), b.role)
    return bot.view_from_state(state, public, progress=progress(state["session"], now), seed=b.seed)


def words_in_every_language(view: bot.BotView, decision: bot.Decision, b: BotSeat) -> dict[str, str]:
    """A bot's chat line or note in each of the scenario's other languages, so that students
    at one table who read different languages each read the bot in theirs."""
    if not isinstance(decision, bot.Say) and not (isinstance(decision, R.MakeProposal) and decision.note):
        return {}
    session = GameSession.objects.defer("scenario_data").get(pk=b.session_id)
    scenarios = {
        lang: bot.public_scenario(session.engine_scenario(lang), b.role) for lang in TRANSLATED_LANGUAGES
    }
    return bot.words_in(view, decision, scenarios)


def progress(session: dict[str, Any], now: datetime) -> float:
    """Share of the negotiation's scheduled time spent, from the session's phase clock."""
    phases = session.get("phases") or []
    phase = session.get("phase") or {}
    durations = [float(p.get("duration_seconds") or 0) for p in phases]
    if not durations:
        return 0.0
    i = int(phase.get("index") or 0)
    cur = durations[min(i, len(durations) - 1)]
    if phase.get("paused") and phase.get("remaining") is not None:
        remaining = float(phase["remaining"])
    elif phase.get("ends_at"):
        remaining = (datetime.fromisoformat(phase["ends_at"]) - now).total_seconds()
    else:
        remaining = cur
    return bot.progress_of(durations, i, cur - remaining)


def to_message(d: bot.Decision) -> dict[str, Any]:
    """A policy decision as the wire message a person's browser would send."""
    if isinstance(d, bot.Say):
        return {"type": "chat.send", "channel": d.channel, "text": d.text}
    if isinstance(d, R.MakeProposal):
        msg: dict[str, Any] = {"type": "proposal.make", "terms": dict(d.terms), "note": d.note}
        if d.replaces is not None:
            msg["replaces"] = d.replaces
        return msg
    if isinstance(d, R.Answer):
        return {"type": "proposal.answer", "proposal": d.proposal, "answer": d.answer}
    if isinstance(d, R.Withdraw):
        return {"type": "proposal.withdraw", "proposal": d.proposal}
    raise TypeError(f"not a bot decision: {d!r}")
