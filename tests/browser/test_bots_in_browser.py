"""Bots fill a real browser game: one student and three bots negotiate to an outcome.

The server runs its bots' driver (GAME_BOTS=1) with a short delay, exactly as in class: the
instructor fills the empty seats, starts, and the bots act through the same service path as
people while the student watches the table and the chat in Chromium.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import GameServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture
def bot_server(tmp_path_factory):
    srv = GameServer(tmp_path_factory.mktemp("game-var-bots"))
    srv.env.update({"GAME_BOTS": "1", "GAME_BOT_DELAY_SECONDS": "0.5"})
    srv.manage("migrate", "--noinput", "-v", "0")
    srv.manage("load_default_scenario")
    srv.start()
    yield srv
    srv.stop()


def test_a_student_plays_with_three_bots_to_an_outcome(bot_server, contexts, shots):
    code = bot_server.create_session()["code"]
    page = contexts().new_page()
    page.goto(f"{bot_server.base}/?code={code}")
    page.get_by_label("Your name").fill("Solo Student")
    page.get_by_role("button", name="Join the table").click()
    page.wait_for_url(re.compile(r"/play/[A-Z0-9]+/$"))
    expect(page.locator("#you-badge")).to_have_text("United States")

    bot_server.service(code, "start_session")
    bot_server.manage(
        "shell",
        "-c",
        "from game import bots; from game.models import GameSession; "
        f"print(bots.fill_empty_seats(GameSession.objects.get(code={code!r}).pk))",
    )
    # Bots talk and propose on their own; the student sees it live.
    expect(page.locator(".chat-log .msg, .chat-log li").first).to_be_visible(timeout=60_000)
    expect(page.locator("[id^=proposal-]").first).to_be_visible(timeout=60_000)
    page.screenshot(path=str(shots / "bots-midgame-desktop.png"))

    # The instructor moves to the leaders' meeting; the bots conclude (the US is not needed
    # unless a US-committing option is chosen, in which case the student's acceptance is asked).
    bot_server.service(code, "advance_phase")
    bot_server.service(code, "advance_phase")
    deadline_ms = 120_000
    step = 3_000
    waited = 0
    title = page.locator("#outcome-title")
    while waited < deadline_ms and not title.is_visible():
        # If a proposal waits for the US, accept it like a cooperative student would.
        accept = page.get_by_role("button", name=re.compile(r"^Accept"))
        if accept.count() and accept.first.is_enabled():
            accept.first.click()
        page.wait_for_timeout(step)
        waited += step
    expect(title).to_contain_text(re.compile(r"Agreement|No deal"), timeout=5_000)
    expect(page.locator("#outcome-chart svg")).to_be_visible()
    page.screenshot(path=str(shots / "bots-outcome-desktop.png"))
    transcript = bot_server.manage(
        "shell",
        "-c",
        "from game.models import Event, GameSession; s = GameSession.objects.get(code=" + repr(code) + "); "
        "print(sorted(set(Event.objects.filter(table__session=s).values_list('kind', flat=True))))",
    )
    assert "proposal.made" in transcript and "chat.message" in transcript
