"""Sockets and presence: a socket registered and forgotten, a player's coming and going told
to the table (coalesced), and the periodic sweep that keeps both fresh."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from game.engine.scenario import Scenario
from game.models import (
    Connection,
    GameTable,
    scenario_for,
)
from game.services import eventlog, moves, seating


@dataclass
class OpenedSocket:
    seat: moves.Seat
    evict: list[str]  # this player's older sockets beyond the cap (see socket_opened)
    presence_later: float | None  # when to report a held-back presence change (see socket_opened)
    scenario: Scenario  # the session's scenario in the socket's language


def open_player_socket(
    code: str, token: str | None, channel_name: str, lang: str | None = None
) -> OpenedSocket | None:
    """A player's socket opening, in one trip to the database: who the cookie's token is in this
    session (None: nobody, or removed), the socket registered (so the snapshot that follows shows
    the player online; ``socket_opened``), the seat it is registered from and the session's
    scenario in ``lang`` (built once per process: no query, no parsing, after the first)."""
    player = eventlog.player_row(code, token)
    if player is None:
        return None
    evict, later = socket_opened(player.pk, channel_name)
    seat = moves.Seat(player.pk, player.session_id, player.table_id, player.role or None, player.name)
    return OpenedSocket(seat, evict, later, scenario_for(player.session_id, player.session_stamp, lang))


def socket_opened(player_id: int, channel_name: str) -> tuple[list[str], float | None]:
    """Register a player's new socket. Returns the channel names of this player's older sockets
    beyond ``MAX_SOCKETS_PER_PLAYER`` (their rows are already gone: the caller tells them to
    close), and, when the presence change is held back to coalesce reconnect churn, how many
    seconds to wait before calling :func:`report_presence`."""
    now = timezone.now()
    with transaction.atomic():
        eventlog.register_socket(channel_name, player_id, now)
        evict = eventlog.surplus_sockets(player_id, channel_name, now)
        retry = announce_presence(player_id, now, seen=True, live=True)  # this socket was seen just now
    return evict, retry


def socket_closed(player_id: int, channel_name: str) -> float | None:
    """Forget a closed socket. Returns seconds to wait before :func:`report_presence` when the
    presence change is held back (see :func:`_presence`)."""
    now = timezone.now()
    with transaction.atomic():
        Connection.objects.filter(channel_name=channel_name).delete()
        return announce_presence(player_id, now, seen=True)


def report_presence(player_id: int) -> float | None:
    """Announce a held-back presence change if it still stands (nothing if the player came back
    in the meantime). Returns seconds to wait again, if still too soon."""
    with transaction.atomic():
        return announce_presence(player_id, timezone.now())


def sweep(channel_names: Sequence[str], table_ids: Sequence[int]) -> dict[int, int]:
    """A batch of sockets' periodic sync: mark them alive (presence counts a socket while its
    ``seen_at`` is fresh), and return each of their tables' latest seq."""
    now = timezone.now()
    names = list(channel_names)
    with transaction.atomic():  # a transaction: on SQLite it queues for the write lock without sleeping
        for i in range(0, len(names), 500):
            Connection.objects.filter(channel_name__in=names[i : i + 500]).update(seen_at=now)
    ids = list(table_ids)
    seqs: dict[int, int] = {}
    for i in range(0, len(ids), 500):
        seqs.update(GameTable.objects.filter(pk__in=ids[i : i + 500]).values_list("pk", "seq"))
    return seqs


def announce_presence(
    player_id: int, now: datetime, *, seen: bool = False, live: bool | None = None
) -> float | None:
    """Tell the table (and the dashboard) that a player came or went, coalesced: only a change
    from what was last announced is an event, and at most one per player every
    ``PRESENCE_COALESCE_SECONDS``. A change inside that window is held back: the return value is
    how long until it may be announced (the socket's worker then calls ``report_presence``), so
    twenty quick reconnects cost one or two events, not forty. ``seen`` also records the time in
    ``last_seen``.

    The player's row is changed by one UPDATE at most, under a lock that does not block keys:
    on PostgreSQL a second UPDATE of a row in the same transaction makes the foreign keys be
    checked again (a share lock on the session's row at commit), which deadlocked with a join
    holding that row while it waited for the table's. ``live``: whether the player has a live
    socket, when the caller knows (a socket registered just now); else it is read."""
    player = eventlog.lock_presence_row(player_id)
    if player is None:
        return None
    retry, connected = None, None
    if player.table_id is not None:
        if live is None:
            live = bool(seating.live_player_ids([player_id]))
        window = float(settings.GAME["PRESENCE_COALESCE_SECONDS"])
        wait = window - (now - player.presence_at).total_seconds() if player.presence_at and window > 0 else 0
        if live != player.presence:
            if wait > 0:
                retry = wait
            else:
                connected = live
    eventlog.update_presence(
        player_id,
        last_seen=now if seen else None,
        presence=connected,
        at=now,
    )
    if connected is not None:
        data = {"role": player.role, "name": player.name, "connected": connected}
        ev, _stage = eventlog.append_raw(player.table_id, "presence", data, "table", now)
        eventlog.commit_broadcast(player.table_id, [ev])
        eventlog.notify_session(player.session_id, "presence")
    return retry
