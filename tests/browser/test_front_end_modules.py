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


def in_a_page(server, browser, js, arg=None):
    """What ``js`` (an async function of ``arg``) returns, evaluated in a page of the server (so
    that the modules import from its static files)."""
    page = browser.new_page()
    try:
        page.goto(server.base + "/")
        return page.evaluate(js) if arg is None else page.evaluate(js, arg)
    finally:
        page.close()


# --- the survival curve ---------------------------------------------------------------------

DRAW_JS = """
async (survival) => {
  const m = await import("/static/game/lib/survival.js");
  const chart = m.survivalChart({ width: 640, height: 300 });
  document.body.append(chart.el);
  chart.update(survival);
  const el = chart.el;
  return {
    line: el.querySelector(".chart-line").getAttribute("d"),
    area: el.querySelector(".chart-area").getAttribute("d"),
    ticks: [...el.querySelectorAll(".tick-x")].map((t) => t.textContent),
    end: el.querySelector(".end-label").textContent,
    desc: el.querySelector("desc").textContent,
  };
}
"""


def _pairs(text: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in re.findall(r"(-?[\d.]+),(-?[\d.]+)", text)]


def _normalised(points: list[tuple[float, float]], y_zero: float) -> list[tuple[float, float]]:
    """Chart coordinates as (year, proportion): the first point is year 0 at a proportion of 1,
    the last is the last year; y_zero is where the proportion 0 is drawn."""
    (x0, y_one), (xn, _) = points[0], points[-1]
    years = len(points) - 1
    return [
        (round(years * (x - x0) / (xn - x0), 2), round((y_zero - y) / (y_zero - y_one), 2)) for x, y in points
    ]


@pytest.mark.parametrize(
    "survival",
    [
        [0.95, 0.9, 0.84, 0.8, 0.77, 0.73, 0.7, 0.66, 0.63, 0.6],
        [0.5, 0.3, 0.2, 0.12, 0.08],
        [1.0, 1.0, 0.99, 0.97, 0.95, 0.9, 0.85, 0.8, 0.75, 0.71, 0.68, 0.66, 0.64, 0.62, 0.6],
    ],
    ids=["ten-years", "five-years-steep", "fifteen-years"],
)
def test_the_clients_survival_curve_agrees_with_the_servers(server, browser, survival):
    from game import charts

    client = in_a_page(server, browser, DRAW_JS, survival)

    # The client: its line from year 0 to the last year; its area closes along the proportion 0.
    line = _pairs(client["line"])
    area = _pairs(client["area"])
    client_curve = _normalised(line, y_zero=area[-1][1])

    # The server: the debrief's small curve of a table (a polyline from year 0, an area that
    # starts on the proportion 0).
    svg = charts.sparkline(survival)
    poly = re.search(r'<polyline[^>]*points="([^"]+)"', svg).group(1)
    server_area = re.search(r'<path d="M([-\d.]+),([-\d.]+)', svg)
    server_curve = _normalised(_pairs(poly), y_zero=float(server_area.group(2)))

    expected = [(0.0, 1.0)] + [(float(i + 1), round(p, 2)) for i, p in enumerate(survival)]
    assert client_curve == expected
    assert server_curve == expected
    # The same years on the axis, and the same last proportion in words.
    years = len(survival)
    step = 1 if years <= 12 else -(-years // 10)
    assert client["ticks"] == [str(t) for t in range(0, years + 1, step)]
    last = f"{round(100 * survival[-1])}%"
    assert client["end"] == last
    assert last in client["desc"]
    assert last in svg


# --- the element builder and the keyed list update --------------------------------------------

DOM_JS = """
async () => {
  const { h, keyedList, setChildren } = await import("/static/game/lib/dom.js");
  const out = {};
  // Text is text: markup in a name stays characters.
  const p = h("p", { class: "x", dataset: { n: "1" } }, "<b>bold</b>", h("span", { text: "<i>" }));
  out.builtHTML = p.innerHTML;
  out.builtText = p.textContent;
  out.dataN = p.dataset.n;

  const list = h("ul");
  document.body.append(list);
  let builds = 0;
  const opts = {
    key: (it) => it.id,
    sig: (it) => [it.label],
    build: (it) => { builds += 1; return h("li", {}, it.label, h("button", { "data-action": "go", text: "Go" })); },
  };
  keyedList(list, [{ id: 1, label: "a" }, { id: 2, label: "b" }, { id: 3, label: "c" }], opts);
  const [one, two, three] = [...list.children];
  out.first = { builds, text: list.textContent };
  two.querySelector("button").focus();
  // Reordered, one changed (2), one removed (3), one new (4).
  keyedList(list, [{ id: 2, label: "B" }, { id: 1, label: "a" }, { id: 4, label: "d" }], opts);
  await new Promise((r) => setTimeout(r, 0));
  out.second = {
    builds,
    text: list.textContent,
    keys: [...list.children].map((li) => li.dataset.key),
    oneKept: list.children[1] === one,
    twoRebuilt: list.children[0] !== two,
    threeGone: !list.contains(three),
    focusFollowed: document.activeElement === list.children[0].querySelector("button"),
  };
  // Nothing changed: nothing rebuilt.
  keyedList(list, [{ id: 2, label: "B" }, { id: 1, label: "a" }, { id: 4, label: "d" }], opts);
  out.third = { builds };
  const box = h("div");
  out.set = [setChildren(box, [1], () => [h("i", { text: "x" })]), setChildren(box, [1], () => []), box.childNodes.length];
  return out;
}
"""


def test_the_element_builder_sets_text_as_text_and_the_keyed_list_keeps_what_did_not_change(server, browser):
    out = in_a_page(server, browser, DOM_JS)
    assert out["builtHTML"] == "&lt;b&gt;bold&lt;/b&gt;<span>&lt;i&gt;</span>"
    assert out["builtText"] == "<b>bold</b><i>"
    assert out["dataN"] == "1"
    assert out["first"] == {"builds": 3, "text": "aGobGocGo"}
    assert out["second"] == {
        "builds": 5,  # 2 changed, 4 is new; 1 kept as it was
        "text": "BGoaGodGo",
        "keys": ["2", "1", "4"],
        "oneKept": True,
        "twoRebuilt": True,
        "threeGone": True,
        "focusFollowed": True,
    }
    assert out["third"] == {"builds": 5}
    assert out["set"] == [True, False, 1]


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
    out = in_a_page(server, browser, POLICY_JS)
    # 500 ms doubling to 10 s; equal jitter: between half the step and the whole step.
    assert out["low"] == [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]
    assert out["high"] == [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]
    assert out["resend"] == [1000, 2000, 4000, 5000]
    assert out["hinted"] == 7000
    # The server syncs every 20 s: three missed syncs and more before a socket is called dead.
    assert out["watchdog"] == 75_000


# --- what a phase allows: one rule, each page's words ----------------------------------------------

PHASES_JS = """
async () => {
  const { phaseAllows } = await import("/static/game/lib/phases.js");
  const w = { now: "NOW", noDeal: "NODEAL", later: "LATER %(phases)s", final: "FINAL" };
  const three = [{ key: "a", name: "Experts" }, { key: "b", name: "Officials" }, { key: "c", name: "Leaders", agreement: true }];
  const two = [{ key: "a", name: "Talks", agreement: true }, { key: "b", name: "Summit", agreement: true }];
  const none = [{ key: "a", name: "Talks" }];
  return [
    phaseAllows(three, 0, w), phaseAllows(three, 2, w), phaseAllows(two, 0, w), phaseAllows(two, 1, w),
    phaseAllows(none, 0, w), phaseAllows(three, 5, w),
  ];
}
"""


def test_what_a_phase_allows_is_one_rule_in_each_page_s_words(server, browser):
    out = in_a_page(server, browser, PHASES_JS)
    assert out == ["LATER Leaders", "NOW NODEAL", "NOW", "NOW NODEAL", "FINAL", ""]


# --- the clock --------------------------------------------------------------------------------

CLOCK_JS = """
async () => {
  const { clockText } = await import("/static/game/lib/clock.js");
  return [0, 0.2, 1, 59.4, 60, 299.01, 3599.5, 3600, 3900, -5, null].map(clockText);
}
"""


def test_every_screen_counts_down_with_one_clock(server, browser):
    # The player page rounded down and the dashboard and projector up, so at one instant a
    # student read 04:59 while the projector read 05:00; the dashboard wrote a 65-minute phase
    # as 65:00 and the projector as 1:05:00. One function now, rounding up: 00:01 until the time
    # is really up.
    out = in_a_page(server, browser, CLOCK_JS)
    assert out == [
        "00:00",
        "00:01",
        "00:01",
        "01:00",
        "01:00",
        "05:00",
        "1:00:00",
        "1:00:00",
        "1:05:00",
        "00:00",
        "00:00",
    ]
