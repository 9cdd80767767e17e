"""The instructor's flow in a real browser: sign in, open a session, watch four students join,
start, advance to the leaders' phase, inject news, see a deal, end, and walk the debrief.

Runs on the shared Daphne of tests/browser/conftest.py (its own SQLite database, with an
instructor account). Screenshots of every host page, desktop and phone,
go to ``artifacts/screenshots/host-*.png``.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, SHOTS, sign_in

pytestmark = pytest.mark.browser

STUDENTS = ["Alina", "Bogdan", "Chloé", "Dieter"]  # seated in role order: us, russia, ukraine, europe
T = 15_000  # ms: how long the dashboard may take to follow a change

# A finished class of five tables, for a debrief with something to show.
SEED_CLASS = """
from game.services import clock, moves, seating
from game.services.errors import ServiceError
from game.models import GameTable, ScenarioConfig
cfg = ScenarioConfig.objects.get(slug="default")
s = seating.create_session(cfg, 5, None, title="Demo class (seeded)", seed=11)
for n in ["Anna","Ben","Chloe","Dmytro","Eve","Farid","Greta","Hiro","Ines","Jonas","Kai","Lena",
          "Mateo","Nadia","Oleh","Priya","Quinn","Rosa","Sami","Tess"]:
    seating.join(s.code, n)
clock.start_session(s.pk)
clock.inject_news(s.pk, "summer_offensive", [t.pk for t in s.tables.filter(number__in=[1, 4])])
clock.advance_phase(s.pk)
clock.advance_phase(s.pk)
sc = s.engine_scenario()
deals = {1: ("freeze_line", "moratorium", "reassurance_force"),
         2: ("recognition_four_regions", "neutrality_demilitarised", "guarantors_with_veto"),
         4: ("donbas_exchange", "alliance_pledge", "assurances_army_cap"),
         5: ("freeze_dmz_monitors", "moratorium", "article5_like")}
for t in s.tables.all():
    seat = {p.role: p.pk for p in t.players.all()}
    if t.number not in deals:
        continue
    moves.player_action(seat["us"], {"type": "proposal.make", "terms": dict(zip(sc.issue_keys, deals[t.number]))})
    pid = max(p.id for p in GameTable.objects.get(pk=t.pk).engine_state().proposals)
    for r in ("russia", "ukraine", "europe"):
        try:
            moves.player_action(seat[r], {"type": "proposal.answer", "proposal": pid, "answer": "accept"})
        except ServiceError:
            pass  # the deal was already concluded
clock.end_session(s.pk)
print("CODE=" + s.code)
"""

# Opens a player socket from a joined student's page (same origin, so the session cookie goes
# with it) and keeps it on window, so the student shows as online; optionally sends messages.
PLAYER_SOCKET_JS = """
async ([code, messages]) => {
  if (!window.__hostTestWs || window.__hostTestWs.readyState > 1) {
    const ws = new WebSocket(`ws://${location.host}/ws/play/${code}/`);
    window.__hostTestWs = ws;
    window.__hostTestInbox = [];
    ws.addEventListener("message", (e) => window.__hostTestInbox.push(JSON.parse(e.data)));
    await new Promise((ok, fail) => { ws.addEventListener("open", ok); ws.addEventListener("error", fail); });
    for (let i = 0; i < 100 && !window.__hostTestInbox.some((m) => m.type === "state"); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const ws = window.__hostTestWs;
  const state = window.__hostTestInbox.filter((m) => m.type === "state").pop();
  const answers = [];
  for (const m of messages) {
    const msg = typeof m === "function" ? m(state) : m;
    if (msg.terms === "FIRST_OPTIONS") {
      msg.terms = Object.fromEntries(state.issues.map((i) => [i.key, i.options[1].key]));
    }
    const ref = "t" + Math.random().toString(36).slice(2);
    ws.send(JSON.stringify({ ...msg, ref }));
    let reply = null;
    for (let i = 0; i < 200 && !reply; i++) {
      await new Promise((r) => setTimeout(r, 25));
      reply = window.__hostTestInbox.find((x) => x.ref === ref && (x.type === "ack" || x.type === "error"));
    }
    answers.push(reply);
  }
  return { role: state && state.you && state.you.role, answers };
}
"""


@pytest.fixture(scope="module")
def host_game_server(server):
    """The shared test server (tests/browser/conftest.py), which has an instructor account."""
    return SimpleNamespace(base=server.base, manage=server.manage, log=server.log_path)


@pytest.fixture(scope="module")
def chromium(browser):
    return browser


def shoot(page, name: str, *, full: bool = False) -> None:
    """Desktop and phone screenshots of the page as it is now."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(250)
    page.screenshot(path=str(SHOTS / f"host-{name}-desktop.png"), full_page=full)
    page.set_viewport_size(PHONE)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(250)
    page.screenshot(path=str(SHOTS / f"host-{name}-phone.png"))
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(150)


def test_instructor_runs_a_class(host_game_server, chromium):
    base = host_game_server.base
    problems: list[str] = []
    ctx = chromium.new_context(viewport=DESKTOP)
    host = ctx.new_page()
    host.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    host.on(
        "console",
        lambda m: problems.append(f"CSP: {m.text}") if "Content Security Policy" in m.text else None,
    )
    students = []
    try:
        # --- sign in and open a session ------------------------------------------------------
        sign_in(host, base)
        expect(host.get_by_role("heading", name="Your sessions")).to_be_visible()
        expect(host.get_by_role("link", name="Scenarios")).to_have_attribute(
            "href", re.compile("/admin/game/")
        )
        host.get_by_label("Number of tables").fill("1")
        host.get_by_label("Title").fill("Browser test class")
        host.get_by_role("button", name="Open the session").click()
        host.wait_for_url(re.compile(r".*/host/[A-Z0-9]{6}/$"))
        code = host.locator("#join-code").inner_text().strip()
        assert re.fullmatch(r"[A-Z0-9]{6}", code), code
        expect(host.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=T)
        expect(host.locator(".hero-qr svg")).to_be_visible()
        expect(host.locator(".join-url")).to_contain_text(f"?code={code}")
        expect(host.locator("#status-pill")).to_have_text("Lobby")
        expect(host.locator("#player-count")).to_have_text("0")

        # --- four students join through the join form ----------------------------------------
        for name in STUDENTS:
            sctx = chromium.new_context(viewport=PHONE)
            page = sctx.new_page()
            page.goto(base + "/")
            page.fill("input[name=code]", " " + code.lower()[:3] + " " + code.lower()[3:])
            page.fill("input[name=name]", name)
            page.locator("form[action$='/join/'] [type=submit]").click()
            page.wait_for_url(re.compile(rf".*/play/{code}/$"))
            page.evaluate(PLAYER_SOCKET_JS, [code, []])  # stays connected, like an open player page
            students.append(SimpleNamespace(name=name, ctx=sctx, page=page))
        expect(host.locator("#player-count")).to_have_text("4", timeout=T)
        lobby = host.locator("#lobby-list")
        for name in STUDENTS:
            expect(lobby).to_contain_text(name)
        card = host.locator(".table-card").first
        for name in STUDENTS:
            expect(card).to_contain_text(name)
        expect(card.locator(".seat").first).to_contain_text("United States")
        expect(host.locator("#online-count")).to_contain_text("4 online", timeout=T)
        shoot(host, "dashboard-lobby")

        # --- start, advance to the leaders' phase, inject news -------------------------------
        host.get_by_role("button", name="Start the negotiation").click()  # every seat is taken: no question
        expect(host.locator("#status-pill")).to_have_text("Running", timeout=T)
        expect(host.locator("#phase-name")).to_contain_text("Expert groups")
        expect(host.locator("#clock")).to_have_text(re.compile(r"^\d\d:\d\d$"))
        advance = host.locator("#advance-btn")
        expect(advance).to_have_text(re.compile("Senior officials"))
        dialog = host.locator("#confirm-dialog")
        advance.click()  # advancing asks first
        expect(dialog).to_contain_text("move every table on to Senior officials")
        dialog.get_by_role("button", name="Advance to Senior officials").click()
        expect(host.locator("#phase-name")).to_contain_text("Senior officials", timeout=T)
        expect(advance).to_have_text(re.compile("Leaders"), timeout=T)
        advance.click()
        dialog.get_by_role("button", name=re.compile("Advance to Leaders")).click()
        expect(host.locator("#phase-name")).to_contain_text("Leaders", timeout=T)
        expect(advance).to_have_text(re.compile("ends the session"), timeout=T)

        # extend the phase by two minutes: the countdown jumps up
        before = host.locator("#clock").inner_text()
        host.get_by_role("button", name="+2 min").click()
        expect(host.locator("#toast")).to_contain_text("2 more minutes", timeout=T)
        secs = int(before[:2]) * 60 + int(before[3:])
        host.wait_for_function(
            "s => { const t = document.querySelector('#clock').textContent;"
            " return +t.slice(0, 2) * 60 + +t.slice(3) > s + 60; }",
            arg=secs,
            timeout=T,
        )

        host.select_option("#news-select", "summer_offensive")
        host.get_by_role("button", name="Send the news").click()
        expect(host.locator("#toast")).to_contain_text("Send the news", timeout=T)
        expect(card.locator(".tc-news")).to_contain_text("Russian offensive", timeout=T)
        # the same news again to the same table: the server refuses, and the page says so
        host.locator("#target-tables input[type=checkbox]").first.check()
        host.get_by_role("button", name="Send the news").click()
        expect(host.locator("#alert")).to_be_visible(timeout=T)
        expect(host.locator("#alert-text")).to_contain_text("already")
        host.get_by_role("button", name="Dismiss").click()
        expect(host.locator("#alert")).to_be_hidden()

        # --- a proposal: the card shows its terms and every role's answer ---------------------
        us = students[0]
        made = us.page.evaluate(
            PLAYER_SOCKET_JS, [code, [{"type": "proposal.make", "terms": "FIRST_OPTIONS"}]]
        )
        assert made["role"] == "us" and made["answers"][0]["type"] == "ack", made
        expect(card.locator(".prop")).to_have_count(1, timeout=T)
        expect(card.locator(".prop")).to_contain_text("United States")
        expect(card.locator(".prop .ans-accept")).to_have_count(1)
        expect(card.locator(".prop .needs")).to_contain_text("Russia", timeout=T)  # who must still sign
        shoot(host, "dashboard-running", full=True)

        for s in students[1:]:
            got = s.page.evaluate(
                PLAYER_SOCKET_JS, [code, [{"type": "proposal.answer", "proposal": 1, "answer": "accept"}]]
            )
            reply = got["answers"][0]
            assert reply["type"] == "ack" or reply.get("code") == "conflict", got
        expect(card.locator(".agree-badge")).to_have_text(re.compile("Agreement"), timeout=T)
        expect(card.locator(".tc-outcome")).to_contain_text("Durability", timeout=T)

        # --- the transcript opens from the card, in a new tab -------------------------------
        with ctx.expect_page() as new_tab:
            card.locator(".tc-link").click()
        tr = new_tab.value
        tr.wait_for_load_state()
        expect(tr.get_by_role("heading", name=re.compile("Table 1: full transcript"))).to_be_visible()
        events = tr.locator(".events")
        expect(events).to_contain_text("Proposal #1")
        expect(events).to_contain_text("Leaders")
        expect(events).to_contain_text("Russian offensive")  # the news, by headline
        expect(events.locator(".ev-agreement")).to_contain_text("is agreed")
        expect(events.locator(".ev-ended")).to_contain_text("Deal")
        shoot(tr, "transcript", full=True)
        tr.close()

        # --- end the session (after confirming) ---------------------------------------------
        host.get_by_role("button", name="End the session…").click()
        dialog = host.locator("#confirm-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("End the session for every table")
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        expect(host.locator("#status-pill")).to_have_text("All tables finished")
        host.get_by_role("button", name="End the session…").click()
        dialog.get_by_role("button", name="End the session").click()
        expect(host.locator("#status-pill")).to_have_text("Ended", timeout=T)
        expect(host.locator("#phase-name")).to_have_text("Session ended")

        # --- the debrief ------------------------------------------------------------------------
        host.locator("#all-finished").get_by_role("link", name="Open the debrief").click()
        host.wait_for_url(re.compile(rf".*/host/{code}/debrief/$"))
        expect(host.get_by_role("heading", name="Who won?")).to_be_visible()
        expect(host.locator("svg.chart-scatter g.dot")).to_have_count(4)
        expect(host.locator("svg.chart-curves polyline.curve")).to_have_count(1)
        expect(host.locator("#s-lesson")).to_contain_text("strategically there can be no winners")
        story = host.locator("details.story").first
        story.locator("summary").click()
        expect(story.locator(".story-scores")).to_be_visible()
        shoot(host, "debrief", full=True)

        # --- the session list, now with the ended session ---------------------------------------
        host.goto(base + "/host/")
        row = host.locator("table.sessions tr", has_text=code)
        expect(row).to_contain_text("Ended")
        expect(row.get_by_role("link", name="Debrief")).to_be_visible()
        shoot(host, "index")
    finally:
        for s in students:
            s.ctx.close()
        ctx.close()
    assert not problems, problems


SEED_LOBBY = """
from game.services import clock, moves, seating
from game.services.errors import ServiceError
from game.models import ScenarioConfig
s = seating.create_session(ScenarioConfig.objects.get(slug="default"), 1, None, title="Seat tools")
for n in ["Ana", "Bo", "Cy", "Di", "Eve"]:
    seating.join(s.code, n)
print("CODE=" + s.code)
"""


def pick(select, name: str) -> None:
    """Choose the student called ``name`` in a player picker ("Name · T1 Russia")."""
    value = select.locator("option").filter(has_text=re.compile(rf"^{name} ·")).first.get_attribute("value")
    select.select_option(value)


def test_seat_tools_before_the_start(host_game_server, chromium):
    """Move a student, hand a seat to a stand-in bot and back, add a table, fill it with bots,
    and remove a gate-crasher (after confirming)."""
    out = host_game_server.manage("shell", "-c", SEED_LOBBY)
    code = re.search(r"CODE=([A-Z0-9]{6})", out).group(1)
    ctx = chromium.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, host_game_server.base)
        page.goto(f"{host_game_server.base}/host/{code}/")
        expect(page.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=T)
        expect(page.locator("#player-count")).to_have_text("5")
        lobby = page.locator("#lobby-list")
        eve = lobby.locator(".lobby-item", has_text="Eve")
        expect(eve).to_contain_text("United States")  # a second US player: a team
        page.get_by_text("Seats: move, stand-in, new device, remove").click()

        move = page.locator("form", has=page.locator("#move-title"))
        pick(move.locator("select[name=player]"), "Eve")
        move.get_by_label("Role").select_option("europe")
        move.get_by_role("button", name="Move").click()
        expect(eve).to_contain_text("Europe", timeout=T)

        away = page.locator("form", has=page.locator("#away-title"))
        pick(away.locator("select[name=player]"), "Bo")
        away.get_by_role("button", name="Away: a bot plays for them").click()
        bo = lobby.locator(".lobby-item", has_text="Bo")
        expect(bo.locator(".mark-away")).to_be_visible(timeout=T)
        pick(away.locator("select[name=player]"), "Bo")
        away.get_by_role("button", name="Back: give the seat back").click()
        expect(bo.locator(".mark-away")).to_have_count(0, timeout=T)

        page.get_by_role("button", name="Add a table").click()
        expect(page.locator(".table-card")).to_have_count(2, timeout=T)
        page.get_by_role("button", name="Fill empty seats with bots").click()
        expect(lobby).to_contain_text("4 bots", timeout=T)
        expect(page.locator(".table-card").nth(1).locator(".mark-bot")).to_have_count(4)

        remove = page.locator("form", has=page.locator("#remove-title"))
        pick(remove.locator("select[name=player]"), "Eve")
        remove.get_by_role("button", name="Remove…").click()
        dialog = page.locator("#confirm-dialog")
        expect(dialog).to_contain_text("Remove Eve from the session?")
        dialog.get_by_role("button", name="Remove the student").click()
        expect(page.locator("#player-count")).to_have_text("4", timeout=T)
        expect(lobby).not_to_contain_text("Eve")
    finally:
        ctx.close()
    assert not errors, errors


def test_debrief_of_a_whole_class(host_game_server, chromium):
    """A seeded class of five tables (four deals, one no deal): every chart has something to show."""
    out = host_game_server.manage("shell", "-c", SEED_CLASS)
    code = re.search(r"CODE=([A-Z0-9]{6})", out).group(1)
    ctx = chromium.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, host_game_server.base)
        page.goto(f"{host_game_server.base}/host/{code}/debrief/")
        expect(page.locator("svg.chart-scatter g.dot")).to_have_count(20)
        expect(page.locator("svg.chart-role")).to_have_count(4)
        expect(page.locator("svg.chart-curves polyline.curve")).to_have_count(4)
        expect(page.locator("svg.chart-causes rect.bar").first).to_be_visible()
        expect(page.locator("#s-news table")).to_contain_text("Russian offensive")
        expect(page.locator(".db-stats")).to_contain_text("of 5")
        page.locator("details.story summary").nth(1).click()
        expect(page.locator("details.story").nth(1).locator(".factors")).to_be_visible()
        shoot(page, "debrief-class", full=True)
        page.goto(f"{host_game_server.base}/host/{code}/")
        expect(page.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=T)
        expect(page.locator(".table-card")).to_have_count(5)
        shoot(page, "dashboard-ended", full=True)
    finally:
        ctx.close()
    assert not errors, errors
