"""A database outage in a real browser: the student's proposal waits, then reaches every seat.

One Daphne worker on its own PostgreSQL cluster (started here). Russia proposes while PostgreSQL
is stopped: the page answers "Reconnecting… your move will be sent" instead of an error, keeps
the proposal, and sends it again (same ref) until the database is back; then all four seats see
it, and it is in the log exactly once.
"""

from __future__ import annotations

import json
import re
import tempfile
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_player_flow import ROLE_NAMES, card, join, pick, role_of
from tests.infra import Postgres, Worker, manage, server_env

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.timeout(240)]


@pytest.fixture
def pg_server():
    pg = Postgres().start()
    env = server_env(tempfile.mkdtemp(prefix="game-browser-pg-"), DATABASE_URL=pg.url, GAME_SYNC_SECONDS="5")
    manage(env, "migrate", "--noinput")
    manage(env, "load_default_scenario")
    worker = Worker(env).start()
    yield {"pg": pg, "env": env, "worker": worker}
    worker.stop()
    pg.stop()


def test_a_proposal_made_during_a_database_outage_is_sent_once_the_database_is_back(
    pg_server, contexts, shots
):
    env, pg, base = pg_server["env"], pg_server["pg"], pg_server["worker"].base
    code = json.loads(manage(env, "create_session", "--tables", "1", "--json").strip().splitlines()[-1])[
        "code"
    ]
    pages: dict[str, Page] = {}
    for i in range(4):
        page = contexts().new_page()
        join(page, base, code, f"Student {i + 1}")
        pages[role_of(page)] = page
    manage(
        env,
        "shell",
        "-c",
        f"from game.services import clock; from game.models import GameSession; clock.start_session(GameSession.objects.get(code='{code}').pk)",
    )
    for page in pages.values():
        expect(page.locator("#game")).to_be_visible(timeout=20000)
    ru = pages["russia"]
    pick(ru, "territory", "donbas_exchange")
    pick(ru, "nato", "constitutional_neutrality")
    pick(ru, "guarantees", "assurances_army_cap")
    ru.locator("#note").fill("Sent during the outage.")

    pg.pg_ctl("stop", "-m", "fast")
    down = time.monotonic()
    try:
        ru.get_by_role("button", name="Propose", exact=True).click()
        # Pending, not refused: the page says it will send it, and keeps the button busy.
        expect(ru.locator("#builder-status")).to_have_text(
            "Reconnecting… your move will be sent.", timeout=5000
        )
        expect(ru.locator("#builder-status")).not_to_have_class(re.compile("is-error"))
        banner = ru.locator("#offline-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Reconnecting… your move will be sent")
        ru.screenshot(path=str(shots / "outage-pending-desktop.png"))
        ru.set_viewport_size({"width": 390, "height": 844})
        ru.screenshot(path=str(shots / "outage-pending-phone.png"))
        ru.set_viewport_size({"width": 1440, "height": 900})
        time.sleep(max(0.0, 10 - (time.monotonic() - down)))
        expect(ru.locator("#builder-status")).to_have_text("Reconnecting… your move will be sent.")
        for page in pages.values():
            expect(card(page, 1)).to_have_count(0)
    finally:
        pg.pg_ctl("start")
    back = time.monotonic()
    for role, page in pages.items():
        expect(card(page, 1)).to_be_visible(timeout=15000)
        expect(card(page, 1)).to_contain_text("Sent during the outage.")
        assert page.locator(".proposal.card").count() == 1, f"{ROLE_NAMES[role]} sees it more than once"
    took = time.monotonic() - back
    expect(ru.locator("#builder-status")).to_have_text("Proposed. It is on the table now.")
    expect(ru.locator("#offline-banner")).to_be_hidden()
    made = pg.psql("SELECT count(*) FROM game_event WHERE kind = 'proposal.made'")
    assert made == "1", f"the proposal was applied {made} times"
    print(f"the proposal reached all four seats {took:.1f} s after PostgreSQL was back")
