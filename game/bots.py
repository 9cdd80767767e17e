"""Bots at the table: seats filled by the instructor, and stand-ins for students who left.

The bot's decisions come from the pure policy in ``game.engine.bot``; this module only seats
bots and drives them through the same service path as people.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from game.models import GameSession, Player
from game.names import name_key
from game.services import seating
from game.services.errors import ServiceError

log = logging.getLogger(__name__)


def fill_empty_seats(session_id: int) -> int:
    """Seat a bot in every role of every table that has no active player. Returns how many."""
    added = 0
    with transaction.atomic():
        session = GameSession.objects.select_for_update().get(pk=session_id)
        if session.status == GameSession.ENDED:
            raise ServiceError("phase", gettext_lazy("The session has ended."))
        scenario = session.engine_scenario()
        changed = []
        for table in session.tables.all():
            taken = set(Player.objects.filter(table=table, removed=False).values_list("role", flat=True))
            for role in scenario.roles:
                if role.key in taken:
                    continue
                n = 1
                while Player.objects.filter(
                    session=session, name_key=name_key(f"{role.name} bot {n}")
                ).exists():
                    n += 1
                Player.objects.create(
                    session=session,
                    name=f"{role.name} bot {n}",
                    name_key=name_key(f"{role.name} bot {n}"),
                    table=table,
                    role=role.key,
                    is_bot=True,
                )
                added += 1
                changed.append(table)
        if changed:
            seating.seats_changed(session, list(dict.fromkeys(changed)), timezone.now())
    return added


def set_stand_in(session_id: int, player_id: int, on: bool) -> None:
    """Hand a student's seat to a bot (on) or give it back (off)."""
    with transaction.atomic():
        player = Player.objects.select_for_update().filter(session_id=session_id, pk=player_id).first()
        if player is None or player.removed:
            raise ServiceError("invalid", gettext_lazy("That player is not part of this session."))
        if player.is_bot:
            raise ServiceError("invalid", gettext_lazy("That seat is already played by a bot."))
        player.stand_in = on
        player.save(update_fields=["stand_in"])
        if player.table_id:
            seating.seats_changed(player.session, [player.table], timezone.now())


async def run_bots() -> None:
    """Let every bot whose turn has come act; runs in each worker (decisions are claimed in
    the database, so two workers never act twice for one decision)."""
    if not settings.GAME.get("BOTS", True):
        return
    from game import bot_runner, faults, lifecycle
    from game.socketdb import db

    while not lifecycle.draining():
        try:
            async with lifecycle.work():
                await db(bot_runner.step)()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            faults.report("bot step", e)
        await asyncio.sleep(1.0)
