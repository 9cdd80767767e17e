"""The player's pages in a real browser: join, lobby, chat, proposals, agreement, outcome.

Sync Playwright in plain (non-async) tests against a Daphne subprocess (see conftest.py).
Screenshots go to artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ROLE_NAMES = {"us": "United States", "russia": "Russia", "ukraine": "Ukraine", "europe": "Europe"}
EN_DASH, TIMES, MINUS = "\u2013", "\u00d7", "\u2212"  # as the page prints them
NAMES = ["Alice Martin", "Boris Ivanov", "Oksana Shevchenko", "Emma Dubois"]


def join(page: Page, base: str, code_typed: str, name: str) -> None:
    page.goto(f"{base}/")
    page.get_by_label("Session code").fill(code_typed)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join the table").click()
    page.wait_for_url(re.compile(r"/play/[A-Z0-9]+/$"))


def role_of(page: Page) -> str:
    expect(page.locator("#you-badge")).not_to_have_text("Your role")
    text = page.locator("#you-badge").inner_text().strip()
    return next(k for k, v in ROLE_NAMES.items() if v == text)


def pick(page: Page, issue: str, option: str) -> None:
    page.locator(f"#pick-{issue}").select_option(option)


def card(page: Page, pid: int):
    return page.locator(f"#proposal-{pid}")


def open_channel(page: Page, label: str) -> None:
    page.locator("#chat-tabs").get_by_role("tab", name=re.compile(rf"^{re.escape(label)}")).click()


def say(page: Page, text: str) -> None:
    page.locator("#chat-input").fill(text)
    page.locator("#chat-send").click()


def visible_log(page: Page):
    return page.locator(".chat-log-wrap:not([hidden]) .chat-log")


def test_join_page_fills_code_and_explains_errors(server, contexts, shots):
    ctx = contexts()
    page = ctx.new_page()
    page.goto(f"{server.base}/?code=k7qx2m")
    expect(page.get_by_role("heading", name="Join the negotiation")).to_be_visible()
    expect(page.get_by_label("Session code")).to_have_value("K7QX2M")
    expect(page.get_by_label("Your name")).to_be_focused()
    page.screenshot(path=str(shots / "join-desktop.png"))

    # A code that names no session: the form says what to do, and keeps what was typed.
    page.get_by_label("Your name").fill("Alice")
    page.get_by_role("button", name="Join the table").click()
    expect(page.get_by_text("No session has the code K7QX2M; check it with your instructor.")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Alice")
    expect(page.get_by_label("Session code")).to_have_attribute("aria-invalid", "true")

    # No name: the name box says so.
    s = server.create_session()
    page.get_by_label("Session code").fill(s["code"].lower())
    page.get_by_label("Your name").fill("   ")
    page.get_by_role("button", name="Join the table").click()
    expect(page.get_by_text("Please type the name your classmates know you by.")).to_be_visible()
    page.screenshot(path=str(shots / "join-error-desktop.png"))

    phone = contexts(phone=True).new_page()
    phone.goto(f"{server.base}/?code={s['code']}")
    expect(phone.get_by_label("Session code")).to_have_value(s["code"])
    phone.screenshot(path=str(shots / "join-phone.png"))
    # Joining, then coming back to the join page, offers the way back to the seat.
    join(phone, server.base, s["code"], "Zoe")
    phone.goto(f"{server.base}/")
    rejoin = phone.get_by_role("link", name=f"Rejoin {s['code']} as Zoe")
    expect(rejoin).to_be_visible()
    phone.screenshot(path=str(shots / "join-rejoin-phone.png"))
    rejoin.click()
    expect(phone).to_have_url(re.compile(rf"/play/{s['code']}/$"))


def test_four_players_negotiate_to_an_agreement(server, contexts, shots):
    s = server.create_session()
    code = s["code"]
    typed = f"{code[:3].lower()} {code[3:].lower()}"  # lower case and a space: the server normalises
    pages: dict[str, Page] = {}
    for name in NAMES:
        page = contexts().new_page()
        join(page, server.base, typed, name)
        pages[role_of(page)] = page
    assert set(pages) == set(ROLE_NAMES), "four players, four different roles"
    us, ru, ua, eu = pages["us"], pages["russia"], pages["ukraine"], pages["europe"]

    # --- the lobby: your role, your table, who else is seated, your brief -------------------
    for role, page in pages.items():
        expect(page.locator("#lobby")).to_be_visible()
        expect(page.locator("#lobby-role")).to_have_text(ROLE_NAMES[role])
        seats = page.locator("#lobby-seats")
        for name in NAMES:
            expect(seats).to_contain_text(name)  # live: later joiners appear without a reload
        expect(page.locator("#lobby-brief")).not_to_be_empty()
    briefs = {role: page.locator("#lobby-brief").inner_text() for role, page in pages.items()}
    assert len(set(briefs.values())) == 4, "each role reads its own brief"
    assert "Russian Federation" in briefs["russia"]
    us.screenshot(path=str(shots / "lobby-desktop.png"))
    ua.set_viewport_size({"width": 390, "height": 844})
    ua.screenshot(path=str(shots / "lobby-phone.png"))
    ua.set_viewport_size({"width": 1440, "height": 900})

    # --- the host starts: everyone moves from the lobby to the table ------------------------
    server.start_session(code)
    for page in pages.values():
        expect(page.locator("#game")).to_be_visible(timeout=15000)
        expect(page.locator("#phase-name")).to_have_text("Expert groups")
        expect(page.locator("#agreement-status")).to_contain_text("not yet")
        expect(page.locator("#countdown")).to_have_text(re.compile(r"^\d\d:\d\d left$"))
        expect(page.locator("#conn-text")).to_have_text("Connected")

    # --- chat: the table, then a private channel that a third party must not see -------------
    say(us, "Good morning, everyone. Shall we start with territory?")
    for page in pages.values():
        expect(page.locator("#chat-log-table")).to_contain_text("Shall we start with territory?")
    expect(ru.locator("#chat-log-table .msg").last).to_contain_text("United States")

    open_channel(us, "Russia")
    expect(us.locator("#chat-scope")).to_contain_text("Private: only you and Russia")
    say(us, "Between us: we can live with a Donbas exchange.")
    expect(visible_log(us)).to_contain_text("Between us")
    # Russia is looking at the table channel: the private tab counts one unread message.
    ru_tab = ru.locator("#chat-tabs").get_by_role("tab", name=re.compile(r"^United States"))
    # The name is the tab's own text, the unread count spoken after it (Chromium may put a space
    # before the comma where the role chip ends; a screen reader does not say it).
    expect(ru_tab).to_have_accessible_name(re.compile(r"^United States ?, 1 unread$"))
    ru_tab.click()
    expect(visible_log(ru)).to_contain_text("Between us: we can live with a Donbas exchange.")
    expect(ru_tab).to_have_accessible_name("United States")
    # Ukraine and Europe never receive it.
    say(ua, "Ukraine is listening.")
    for page in (ua, eu):
        expect(page.locator("#chat-log-table")).to_contain_text("Ukraine is listening.")
        assert page.get_by_text("Between us").count() == 0
        assert "Between us" not in page.content()
    # Chat is text, never markup.
    say(eu, "<b>bold?</b> <img src=x onerror=alert(1)>")
    expect(us.locator("#chat-log-table")).to_contain_text("<b>bold?</b> <img src=x onerror=alert(1)>")
    assert us.locator("#chat-log-table img").count() == 0

    # --- Russia proposes; the meter previews it live ------------------------------------------
    pick(ru, "territory", "donbas_exchange")
    pick(ru, "nato", "constitutional_neutrality")
    expect(ru.locator("#m-hold")).to_have_text(EN_DASH)  # not complete yet
    pick(ru, "guarantees", "assurances_army_cap")
    expect(ru.locator("#m-points")).to_have_text("72")  # 28 + 28 + 16, Russia's own points
    expect(ru.locator("#m-hold")).to_have_text(re.compile(r"^\d+%$"))
    expect(ru.locator("#m-peace")).to_have_text(re.compile(r"^\d+%$"))
    expect(ru.locator("#m-curve path.chart-line")).to_have_attribute("d", re.compile(r"^M"))
    expect(ru.locator("#m-against li").first).to_be_visible()
    expect(ru.locator("#m-sign")).to_contain_text(
        "Needs Russia and Ukraine (and United States: it commits it to"
    )
    first_hold = ru.locator("#m-hold").inner_text()
    pick(ru, "guarantees", "guarantors_with_veto")
    expect(ru.locator("#m-hold")).not_to_have_text(first_hold)  # live, as the pickers change
    pick(ru, "guarantees", "assurances_army_cap")
    expect(ru.locator("#m-hold")).to_have_text(first_hold)
    ru.locator("#note").fill("A realistic line and a neutral Ukraine.")
    ru.get_by_role("button", name="Propose", exact=True).click()
    expect(ru.locator("#builder-status")).to_have_text("Proposed. It is on the table now.")
    for page in pages.values():
        c = card(page, 1)
        expect(c).to_be_visible()
        expect(c).to_contain_text("Donbas exchange")
        expect(c).to_contain_text("A realistic line and a neutral Ukraine.")
        expect(c.locator(".p-needs")).to_contain_text("Needs Russia and Ukraine (and United States")
        expect(c.locator('.ans[data-role="russia"]')).to_contain_text("✓Russiaaccepts")

    # --- Ukraine counters #1 -------------------------------------------------------------------
    card(ua, 1).get_by_role("button", name="Counter #1: edit its terms in the builder").click()
    expect(ua.locator("#counter-banner")).to_contain_text("Countering #1 by Russia")
    expect(ua.locator("#pick-territory")).to_have_value("donbas_exchange")
    pick(ua, "territory", "freeze_dmz_monitors")
    pick(ua, "nato", "moratorium")
    pick(ua, "guarantees", "reassurance_force")
    expect(ua.locator("#m-sign")).to_contain_text("Europe")
    ua.get_by_role("button", name="Send counter to #1", exact=True).click()
    for page in pages.values():
        c = card(page, 2)
        expect(c).to_be_visible()
        expect(c).to_contain_text("Counters #1")
        expect(c.locator(".p-needs")).to_contain_text(
            "Needs Russia and Ukraine (and United States and Europe"
        )
        expect(card(page, 1).locator('.ans[data-role="ukraine"]')).to_contain_text("✗Ukrainerejects")
    ua.screenshot(path=str(shots / "midgame-desktop.png"))
    expect(ua.locator("#counter-banner")).to_be_hidden()

    # --- a reload in the middle of the game loses nothing -------------------------------------
    eu.reload()
    expect(eu.locator("#game")).to_be_visible()
    expect(eu.locator("#chat-log-table")).to_contain_text("Shall we start with territory?")
    expect(eu.locator("#chat-log-table")).to_contain_text("Ukraine is listening.")
    expect(card(eu, 1)).to_be_visible()
    expect(card(eu, 2)).to_be_visible()
    expect(eu.locator("#conn-text")).to_have_text("Connected")
    # ...and the builder keeps what Russia had picked, after Russia reloads too.
    ru.reload()
    expect(ru.locator("#pick-nato")).to_have_value("constitutional_neutrality")
    expect(ru.locator("#chat-log-russia_us")).to_contain_text("Between us")

    # --- news reaches everyone ------------------------------------------------------------------
    server.inject_news(code, "european_pledge")
    for page in pages.values():
        expect(page.locator("#news-headline")).to_have_text(
            re.compile("European coalition pledges troops"), timeout=15000
        )

    # --- on to the leaders' meeting ------------------------------------------------------------
    server.advance_phase(code)
    expect(us.locator("#phase-name")).to_have_text("Senior officials", timeout=15000)
    server.advance_phase(code)
    for page in pages.values():
        expect(page.locator("#agreement-status")).to_have_text("Agreement possible now", timeout=15000)

    # Russia withdraws its first proposal: it leaves the open ones for the earlier proposals.
    card(ru, 1).get_by_role("button", name="Withdraw #1").click()
    for page in pages.values():
        expect(page.locator("#proposal-history-list #proposal-1")).to_contain_text("Withdrawn")
    assert ua.locator("#proposal-list .proposal").count() == 1

    # Accepting: the United States, then Europe; Russia's acceptance then concludes it.
    card(us, 2).get_by_role("button", name="Accept #2").click()
    expect(card(ru, 2).locator('.ans[data-role="us"]')).to_have_class(re.compile("ans-accept"))
    expect(card(ru, 2).locator('.ans[data-role="us"]')).to_contain_text("accepts")
    card(eu, 2).get_by_role("button", name="Accept #2").click()
    expect(card(ru, 2)).to_contain_text("Your acceptance concludes the agreement now.")
    # The card says what signing would be worth to Russia, next to its no-deal value.
    expect(card(ru, 2).locator(".p-figures")).to_contain_text(
        re.compile(r"Your score if signed\s*[\d.]+ \(no deal 35\)")
    )
    card(ru, 2).scroll_into_view_if_needed()
    ru.screenshot(path=str(shots / "concludes-desktop.png"))
    card(ru, 2).get_by_role("button", name="Accept #2 and conclude").click()

    # --- everyone sees the outcome ---------------------------------------------------------------
    for role, page in pages.items():
        out = page.locator("#panel-outcome")
        expect(out).to_be_visible(timeout=15000)
        expect(page.locator("#outcome-title")).to_contain_text("Agreement signed")
        expect(page.locator("#outcome-terms")).to_contain_text("European reassurance force")
        chart = page.locator("#outcome-chart svg.chart-survival")
        expect(chart).to_be_visible()
        expect(chart.locator("path.chart-line")).to_have_attribute("d", re.compile(r"^M"))
        expect(chart).to_contain_text("Years after the agreement")
        expect(page.locator("#outcome-story")).not_to_be_empty()
        expect(page.locator("#outcome-factors li").first).to_be_visible()
        # the rule in one line, with this table's numbers, and the lesson beside the result
        expect(page.locator("#outcome-you .formula")).to_contain_text(
            f"Total = 66.7% {TIMES} [D {TIMES} (tactical + 50) + (1 {MINUS} D) {TIMES} 0.1 {TIMES} tactical] = "
        )
        bars = page.locator("#outcome-you .lesson-bars li")
        expect(bars).to_have_count(4)
        expect(bars.nth(1)).to_contain_text("Your own maximum")
        expect(bars.nth(2)).to_contain_text("The compromise")
        expect(page.locator("#outcome-replays")).to_contain_text(
            re.compile(r"It held all 10 years in \d+ of 100\.")
        )
        expect(page.locator("#outcome-replays .rb")).to_have_count(11)
        rows = page.locator("#outcome-others tbody tr")
        expect(rows).to_have_count(4)
        expect(page.locator("#outcome-others tr.is-you")).to_contain_text(ROLE_NAMES[role])
        expect(card(page, 2)).to_contain_text("This is the agreement of your table.")
        expect(page.locator("#chat-input")).to_be_disabled()
        expect(page.locator("#countdown")).to_have_text("Ended")
    us.screenshot(path=str(shots / "outcome-desktop.png"))
    us.set_viewport_size({"width": 1440, "height": 2600})  # tall enough for the whole outcome
    us.screenshot(path=str(shots / "outcome-desktop-tall.png"))
    us.set_viewport_size({"width": 1440, "height": 900})
    ua.set_viewport_size({"width": 390, "height": 844})
    expect(ua.locator("#tabbar")).to_be_visible()
    expect(ua.locator("#tab-outcome")).to_have_attribute("aria-selected", "true")
    ua.screenshot(path=str(shots / "outcome-phone.png"))
    ua.screenshot(path=str(shots / "outcome-phone-full.png"), full_page=True)


def test_phone_is_usable(server, contexts, shots):
    s = server.create_session()
    code = s["code"]
    page = contexts(phone=True).new_page()
    join(page, server.base, code, "Pat")
    expect(page.locator("#lobby")).to_be_visible()
    page.screenshot(path=str(shots / "lobby-phone-seat.png"), full_page=True)
    other = contexts().new_page()
    join(other, server.base, code, "Quinn")
    server.start_session(code)

    tabbar = page.locator("#tabbar")
    expect(tabbar).to_be_visible(timeout=15000)
    # The clock: running, then paused by the host, then running again.
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^\d\d:\d\d left$"))
    server.pause_clock(code)
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^\d\d:\d\d paused$"), timeout=15000)
    server.resume_clock(code)
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^\d\d:\d\d left$"), timeout=15000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    for name in ("Brief", "Propose", "Proposals", "Chat"):
        expect(tabbar.get_by_role("tab", name=re.compile(name))).to_be_visible()

    # The builder is one tap away, and its numbers follow the pickers.
    tabbar.get_by_role("tab", name=re.compile("Propose")).click()
    expect(page.locator("#pickers")).to_be_visible()
    expect(page.locator("#panel-chat")).to_be_hidden()
    page.get_by_label("Exchange of territory").select_option("freeze_dmz_monitors")
    page.get_by_label("Ukraine and NATO").select_option("moratorium")
    expect(page.locator("#pick-nato-sum")).to_contain_text("not to invite Ukraine for about 20 years")
    page.get_by_label("Security guarantees for Ukraine").select_option("bilateral_arms_training")
    expect(page.locator("#m-hold")).to_have_text(re.compile(r"^\d+%$"))
    expect(page.locator("#meter-numbers")).to_be_in_viewport()
    page.screenshot(path=str(shots / "midgame-phone.png"))
    page.get_by_role("button", name="Propose", exact=True).scroll_into_view_if_needed()
    page.get_by_role("button", name="Propose", exact=True).tap()

    # The proposal is on the Proposals tab.
    tabbar.get_by_role("tab", name=re.compile("Proposals")).click()
    expect(card(page, 1)).to_be_visible()
    expect(page.locator("#pickers")).to_be_hidden()
    page.screenshot(path=str(shots / "proposals-phone.png"))

    # Chat: a message from the other player shows as unread on the Chat tab.
    other.locator("#chat-input").fill("Hello from the laptop")
    other.locator("#chat-send").click()
    expect(page.locator("#tab-chat-badge .tab-badge")).to_have_text("1")
    tabbar.get_by_role("tab", name=re.compile("Chat")).click()
    expect(page.locator("#chat-log-table")).to_contain_text("Hello from the laptop")
    expect(page.locator("#tab-chat-badge")).to_be_hidden()
    page.locator("#chat-input").fill("Hello from the phone")
    page.locator("#chat-send").tap()
    expect(other.locator("#chat-log-table")).to_contain_text("Hello from the phone")
    expect(page.locator("#chat-input")).to_be_in_viewport()
    page.screenshot(path=str(shots / "chat-phone.png"))

    tabbar.get_by_role("tab", name=re.compile("Brief")).click()
    expect(page.locator("#brief-body")).to_be_visible()
    page.screenshot(path=str(shots / "brief-phone.png"))

    # Keyboard: arrows move between the tabs.
    page.locator("#tab-brief").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-builder")).to_be_focused()
    expect(page.locator("#pickers")).to_be_visible()

    # The host ends the session without a deal: the outcome says so on both screens.
    server.end_session(code)
    for p in (page, other):
        expect(p.locator("#outcome-title")).to_have_text("No agreement: the war goes on.", timeout=15000)
        expect(p.locator("#outcome-you .formula")).to_contain_text(
            "No agreement, so your total is your no-deal value"
        )
        expect(card(p, 1)).to_contain_text("Closed")
    expect(page.locator("#tab-outcome")).to_have_attribute("aria-selected", "true")
    page.screenshot(path=str(shots / "outcome-nodeal-phone.png"), full_page=True)


def test_reconnects_after_a_restart_and_stops_when_not_seated(own_server, contexts):
    srv = own_server
    s = srv.create_session()
    code = s["code"]
    ctx = contexts()
    page = ctx.new_page()
    join(page, srv.base, code, "Robin")
    srv.start_session(code)
    expect(page.locator("#game")).to_be_visible(timeout=15000)
    page.locator("#chat-input").fill("Before the restart")
    page.locator("#chat-send").click()
    expect(page.locator("#chat-log-table")).to_contain_text("Before the restart")

    srv.stop()
    expect(page.locator("#conn-text")).to_have_text("Reconnecting…")
    expect(page.locator("#offline-banner")).to_be_visible()
    srv.start()
    expect(page.locator("#conn-text")).to_have_text("Connected", timeout=20000)
    expect(page.locator("#offline-banner")).to_be_hidden()
    expect(page.locator("#chat-log-table")).to_contain_text("Before the restart")
    page.locator("#chat-input").fill("After the restart")
    page.locator("#chat-send").click()
    expect(page.locator("#chat-log-table")).to_contain_text("After the restart")
    assert page.locator("#chat-log-table .msg").count() == 2

    # Without the cookie the server refuses the socket (4403): the page stops and says why.
    ctx.clear_cookies()
    srv.stop()
    expect(page.locator("#conn-text")).to_have_text("Reconnecting…")
    srv.start()
    expect(
        page.get_by_role("heading", name="You are not (or no longer) seated in this session")
    ).to_be_visible(timeout=20000)
    expect(page.get_by_role("link", name="Go to the join page")).to_have_attribute("href", f"/?code={code}")
    expect(page.locator("#conn-text")).to_have_text("Not seated")


def test_removed_player_is_told_so(server, contexts):
    s = server.create_session()
    code = s["code"]
    page = contexts().new_page()
    join(page, server.base, code, "Sam")
    expect(page.locator("#lobby")).to_be_visible()
    server.remove_player(code, "Sam")
    expect(
        page.get_by_role("heading", name="You are not (or no longer) seated in this session")
    ).to_be_visible(timeout=15000)
