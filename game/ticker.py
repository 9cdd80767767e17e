"""The phase clock: a periodic tick in every worker that advances expired phases.

Deadlines are timestamps in the database and ``clock.tick`` is idempotent under row locks,
so running it in every worker at once is safe, and a restart loses no deadline.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from game import faults, lifecycle
from game.services import clock
from game.socketdb import URGENT, db

log = logging.getLogger(__name__)


async def run_ticker(period: float | None = None) -> None:
    period = period or settings.GAME["TICK_SECONDS"]
    while not lifecycle.draining():  # a draining worker leaves the clock to the others
        try:
            async with lifecycle.work():
                await db(clock.tick, level=URGENT)()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            faults.report("phase tick", e)
        await asyncio.sleep(period)


class TickerMiddleware:
    """Starts the ticker (and the bots' driver) in the server's event loop on the first request."""

    def __init__(self, app):
        self.app = app
        self.tasks: list[asyncio.Task] = []

    async def __call__(self, scope, receive, send):
        if not self.tasks and settings.GAME.get("TICKER", True):
            self.tasks.append(asyncio.create_task(run_ticker()))
            from game.bots import run_bots

            self.tasks.append(asyncio.create_task(run_bots()))
        return await self.app(scope, receive, send)
