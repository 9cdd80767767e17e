"""The front end's shared modules (static/game/lib/) in a real browser.

- The socket (lib/socket.js): the dashboard, like the player page, replaces a socket that went
  silent (the watchdog), and reconnects after the server closed its socket (a restart), with the
  same policy.
- The survival curve (lib/survival.js): the client's drawer and the server's (game/charts.py)
  draw the same years at the same proportions for the same survival data.

The watchdog waits 75 s of silence; the tests fast-forward the page's clock (Playwright's fake
timers) instead of waiting, and make the socket silent by holding back what the server sends on
it (Playwright's WebSocket routing), so the socket stays open: only the watchdog can notice.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import join, sign_in

pytestmark = pytest.mark.browser

T = 20_000  # ms


class SilentFirstSocket:
    """Routes the page's game sockets through Playwright: the first one goes silent on demand
    (what the server sends is held back, the socket stays open); every later one is forwarded
    as it is. Records how many sockets the page opened and which the page closed."""

    def __init__(self) -> None:
        self.opened = 0
        self.silent = False
        self.closed_by_page: list[int] = []

    def __call__(self, ws) -> None:
        self.opened += 1
        n = self.opened
        server = ws.connect_to_server()
        if n == 1:
            server.on_message(lambda m: None if self.silent else ws.send(m))
            ws.on_message(lambda m: server.send(m))
            ws.on_close(lambda code, reason: (self.closed_by_page.append(n), server.close()))


def _wait_for(predicate, page, timeout_ms: int = T) -> None:
    for _ in range(timeout_ms // 100):
        if predicate():
            return
        page.wait_for_timeout(100)
    assert predicate()


def test_the_dashboard_replaces_a_socket_that_went_silent(server, browser):
    code = server.create_session()["code"]
    ctx = browser.new_context()
    route = SilentFirstSocket()
    try:
        ctx.route_web_socket(re.compile(r"/ws/host/"), route)
        ctx.clock.install()
        page = ctx.new_page()
        sign_in(page, server.base)
        page.goto(f"{server.base}/host/{code}/")
        expect(page.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=T)
        expect(page.locator("#status-pill")).to_have_text("Lobby")
        assert route.opened == 1

        route.silent = True
        # 80 s pass without a word on the socket (the server syncs every second in these tests):
        # the watchdog closes it and opens another.
        page.clock.run_for(80_000)
        _wait_for(lambda: route.opened == 2, page)
        assert route.closed_by_page == [1]
        expect(page.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=T)
        # The new socket brings a fresh snapshot: a student who joins now appears.
        student = browser.new_context()
        try:
            join(student, server.base, code, "Watchdog Wanda")
            expect(page.locator("#lobby-list")).to_contain_text("Watchdog Wanda", timeout=T)
        finally:
            student.close()
    finally:
        ctx.close()


def test_the_player_page_replaces_a_socket_that_went_silent(server, browser):
    code = server.create_session()["code"]
    ctx = browser.new_context()
    route = SilentFirstSocket()
    try:
        ctx.route_web_socket(re.compile(r"/ws/play/"), route)
        ctx.clock.install()
        page = join(ctx, server.base, code, "Silent Sam")
        expect(page.locator("#conn-text")).to_have_text("Connected", timeout=T)
        assert route.opened == 1

        route.silent = True
        page.clock.run_for(80_000)
        _wait_for(lambda: route.opened == 2, page)
        assert route.closed_by_page == [1]
        expect(page.locator("#conn-text")).to_have_text("Connected", timeout=T)
        # What happened while the socket was silent reaches the page on the new one.
        server.start_session(code)
        expect(page.locator("#game")).to_be_visible(timeout=T)
    finally:
        ctx.close()


def test_the_dashboard_reconnects_after_the_server_closed_its_socket(own_server, browser):
    srv = own_server
    code = srv.create_session()["code"]
    ctx = browser.new_context()
    errors: list[str] = []
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(page, srv.base)
        page.goto(f"{srv.base}/host/{code}/")
        expect(page.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=T)

        srv.stop()
        expect(page.locator("#conn-state")).to_have_attribute("data-state", "offline", timeout=T)
        expect(page.locator("#conn-banner")).to_be_visible()
        expect(page.locator("#conn-banner-title")).to_have_text("Connection lost.")
        expect(page.locator("#conn-banner-text")).to_contain_text("Reconnecting in")
        srv.start()
        expect(page.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=T)
        expect(page.locator("#conn-banner")).to_be_hidden()

        # The dashboard is live again: a change made after the restart shows.
        student = browser.new_context()
        try:
            join(student, srv.base, code, "After Restart")
            expect(page.locator("#lobby-list")).to_contain_text("After Restart", timeout=T)
        finally:
            student.close()
        assert not errors, errors
    finally:
        ctx.close()


def test_a_socket_drained_for_a_restart_comes_back_at_once_on_both_pages(server, browser):
    """Close code 1012 (the server drains its sockets before a restart): both pages reconnect
    within a second, without the backoff of a lost connection."""
    code = server.create_session()["code"]
    ctx = browser.new_context()
    routes: list = []

    def route(ws) -> None:
        routes.append(ws)
        ws.connect_to_server()

    try:
        ctx.route_web_socket(re.compile(r"/ws/(host|play)/"), route)
        player = join(ctx, server.base, code, "Drained Dora")
        host = ctx.new_page()
        sign_in(host, server.base)
        host.goto(f"{server.base}/host/{code}/")
        expect(host.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=T)
        expect(player.locator("#conn-text")).to_have_text("Connected", timeout=T)
        before = len(routes)
        for ws in list(routes):
            ws.close(code=1012, reason="restarting")
        _wait_for(lambda: len(routes) >= before + 2, host, 5_000)
        expect(host.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=T)
        expect(player.locator("#conn-text")).to_have_text("Connected", timeout=T)
    finally:
        ctx.close()


POLICY_JS = """
async () => {
  const { backoff, resendDelay, WATCHDOG_MS } = await import("/static/game/lib/socket.js");
  const low = () => 0, high = () => 0.999999;
  return {
    low: [1, 2, 3, 4, 5, 6, 7, 10].map((n) => backoff(n, low)),
    high: [1, 2, 3, 4, 5, 6, 7, 10].map((n) => backoff(n, high)),
    resend: [1, 2, 3, 4].map((n) => Math.round(resendDelay(n, 0, () => 0.5))),
    hinted: Math.round(resendDelay(1, 7, () => 0.5)),
    watchdog: WATCHDOG_MS,
  };
}
"""


def test_one_reconnect_policy_backoff_with_jitter_and_the_watchdogs_limit(server, browser):
    page = browser.new_page()
    try:
        page.goto(server.base + "/")
        out = page.evaluate(POLICY_JS)
    finally:
        page.close()
    # 500 ms doubling to 10 s; equal jitter: between half the step and the whole step.
    assert out["low"] == [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]
    assert out["high"] == [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]
    assert out["resend"] == [1000, 2000, 4000, 5000]
    assert out["hinted"] == 7000
    # The server syncs every 20 s: three missed syncs and more before a socket is called dead.
    assert out["watchdog"] == 75_000
