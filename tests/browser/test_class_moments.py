"""What a real class ran into, from the first click to the debrief (issue 18), in a real browser.

One test per moment, each on a desktop (1280x800) and a phone (390x844; a phone in landscape,
844x390, for the chat and the tabs). They share the session's Daphne (tests/browser/conftest.py)
and one instructor login; the clock is driven through the instructor's socket (taking time off
with the confirmation the dashboard sends), never by waiting for real minutes.
Screenshots go to artifacts/screenshots/i18-*.png.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHROMIUM_ARGS, SHOTS, SOCKET_JS, join, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LANDSCAPE = {"width": 844, "height": 390}
T = 15_000
ROLE_NAMES = {"us": "United States", "russia": "Russia", "ukraine": "Ukraine", "europe": "Europe"}
MINUS_ONE = "\u22121 min"  # as the dashboard prints it
DEAL = {"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "bilateral_arms_training"}


# Is the element at its own centre (not covered by anything else)?
UNCOVERED_JS = """
(el) => {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return false;
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) return false;
  const top = document.elementFromPoint(x, y);
  return top === el || el.contains(top);
}
"""


def shot(page: Page, name: str, *, full: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"i18-{name}.png"), full_page=full)


@pytest.fixture(scope="module")
def staff_state(browser, server):
    """One instructor login for the whole module: its cookies, for every instructor context."""
    ctx = browser.new_context(viewport=DESK)
    page = ctx.new_page()
    sign_in(page, server.base)
    state = ctx.storage_state()
    ctx.close()
    return state


@pytest.fixture
def cls(browser, server, staff_state):
    """A class to run: a session, an instructor's pages, students' pages on desktops and phones.
    Every page is checked for uncaught script errors at the end."""
    made, errors = [], []

    def context(viewport, *, phone=False, staff=False):
        kw = {"viewport": viewport}
        if phone:
            kw.update(device_scale_factor=2, is_mobile=True, has_touch=True)
        if staff:
            kw["storage_state"] = staff_state
        ctx = browser.new_context(**kw)
        ctx.set_default_timeout(T)
        ctx.on("page", lambda p: p.on("pageerror", lambda e: errors.append(f"{p.url}: {e}")))
        made.append(ctx)
        return ctx

    def session(tables: int = 1, seed: int | None = None) -> str:
        args = ["create_session", "--tables", str(tables), "--json"]
        if seed is not None:
            args += ["--seed", str(seed)]
        return json.loads(server.manage(*args).strip().splitlines()[-1])["code"]

    def student(code: str, name: str, viewport=DESK, *, phone: bool = False) -> Page:
        return join(context(viewport, phone=phone), server.base, code, name)

    def instructor(path: str, viewport=DESK, *, phone: bool = False) -> Page:
        page = context(viewport, phone=phone, staff=True).new_page()
        page.goto(server.base + path)
        return page

    def host(page: Page, code: str, *msgs) -> list[dict]:
        out = page.evaluate(SOCKET_JS, [f"/ws/host/{code}/", list(msgs)])["replies"]
        assert all(r and r["type"] == "ack" for r in out), out
        return out

    def act(page: Page, code: str, *msgs) -> dict:
        return page.evaluate(SOCKET_JS, [f"/ws/play/{code}/", list(msgs)])

    def role(page: Page) -> str:
        text = page.locator("#you-badge").inner_text().strip()
        return next(k for k, v in ROLE_NAMES.items() if v == text)

    yield SimpleNamespace(
        base=server.base,
        manage=server.manage,
        session=session,
        student=student,
        instructor=instructor,
        host=host,
        act=act,
        role=role,
        context=context,
    )
    for ctx in made:
        ctx.close()
    assert not errors, "uncaught errors in the page:\n" + "\n".join(errors)


def pick(page: Page, issue: str, option: str) -> None:
    page.locator(f"#pick-{issue}").select_option(option)


def card(page: Page, pid: int):
    return page.locator(f"#proposal-{pid}")


def tab(page: Page, name: str):
    return page.locator("#tabbar").get_by_role("tab", name=re.compile(f"^{name}"))


def in_view(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    vp = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= vp["height"]


# --- 1. Counter = reject + propose ----------------------------------------------------------------


def test_a_counter_is_the_rejection_and_the_new_proposal_in_one_step_linked_everywhere(cls):
    code = cls.session()
    us = cls.student(code, "Ada Lovelace")  # desktop: the United States
    ru = cls.student(code, "Boris Pasternak", PHONE, phone=True)  # phone: Russia
    assert (cls.role(us), cls.role(ru)) == ("us", "russia")
    dash = cls.instructor(f"/host/{code}/")
    cls.host(dash, code, {"type": "session.start"})
    expect(us.locator("#game")).to_be_visible()
    pick(us, "territory", "freeze_line")
    pick(us, "nato", "moratorium")
    pick(us, "guarantees", "reassurance_force")
    us.get_by_role("button", name="Propose", exact=True).click()
    expect(card(ru, 1)).to_contain_text("Ceasefire and freeze on the current contact line")

    # Russia counters #1 on its phone: one button sends the counter, and says what it does.
    tab(ru, "Proposals").click()
    card(ru, 1).get_by_role("button", name="Counter #1: edit its terms in the builder").click()
    expect(ru.locator("#counter-banner")).to_contain_text("records your rejection of #1, in one step")
    pick(ru, "territory", "donbas_exchange")
    pick(ru, "guarantees", "assurances_army_cap")
    expect(ru.locator("#builder button[type=submit]")).to_have_count(1)
    expect(ru.get_by_role("button", name=re.compile("Propose as new"))).to_have_count(0)
    shot(ru, "counter-phone")
    ru.get_by_role("button", name="Send counter to #1").click()
    expect(ru.locator("#builder-status")).to_contain_text("#1 shows your rejection")

    for page in (us, ru):
        expect(card(page, 1).locator('.ans[data-role="russia"]')).to_contain_text("rejects")
        expect(card(page, 2).locator(".p-counters")).to_contain_text(
            "Counters #1 by United States (and rejects it)"
        )
        expect(card(page, 1).locator(".p-countered")).to_contain_text("Countered by #2 (Russia)")
    # The link from the counter brings the countered card into view.
    card(us, 2).locator(".p-counters a").click()
    expect(card(us, 1).locator(".p-title")).to_be_focused()
    shot(us, "counter-desktop")

    # The dashboard, the transcript and the export say the same.
    table = dash.locator(".table-card").first
    prop = {n: table.locator(".prop", has=dash.locator(".prop-id", has_text=f"#{n}")) for n in (1, 2)}
    expect(prop[2]).to_contain_text("counters #1 (and rejects it)")
    expect(prop[1]).to_contain_text("countered by #2")
    expect(prop[1].locator(".ans-reject")).to_have_count(1)
    tr = cls.instructor(f"/host/{code}/table/1/")
    made = tr.locator(".ev-proposal", has=tr.locator("#p2"))
    expect(made).to_contain_text("countering #1 (and rejecting it)")
    expect(made.get_by_role("link", name="#1")).to_have_attribute("href", "#p1")
    expect(tr.locator(".ev-answer")).to_contain_text("rejects proposal #1 by countering it with #2")
    rows = list(csv.DictReader(io.StringIO(tr.request.get(f"{cls.base}/host/{code}/export.csv").text())))
    answered = [r for r in rows if r["kind"] == "proposal.answered"]
    assert [(r["proposal"], r["role"], r["answer"], json.loads(r["detail"])) for r in answered] == [
        ("1", "russia", "reject", {"counter": 2})
    ]
    made.scroll_into_view_if_needed()
    shot(tr, "transcript-desktop")
    tr.set_viewport_size(PHONE)
    made.scroll_into_view_if_needed()
    shot(tr, "transcript-phone")


# --- 2. No irreversible click without a second step -------------------------------------------------


def test_a_start_clicked_before_the_dashboard_has_its_tables_waits_for_them_and_still_asks(cls):
    """ "Live" shows when the dashboard's socket opens, a moment before its first snapshot, which
    can take a while when the server is busy. A start clicked in that moment found no tables, so
    no empty seat to ask about, and started the class with Europe empty. It now waits for the
    snapshot and asks; if none comes in 10 s it says so and starts nothing."""
    code = cls.session()
    for name in ("Chen", "Dana", "Eli"):  # Europe stays empty
        cls.student(code, name)
    held: list = []
    gate = {"open": False, "page_side": None}

    def route(ws):
        server = ws.connect_to_server()
        gate["page_side"] = ws

        def from_server(m):
            if not gate["open"] and isinstance(m, str) and '"host.state"' in m:
                held.append(m)
            else:
                ws.send(m)

        server.on_message(from_server)
        ws.on_message(lambda m: server.send(m))

    ctx = cls.context(DESK, staff=True)
    ctx.route_web_socket(re.compile(r"/ws/host/"), route)
    ctx.clock.install()
    dash = ctx.new_page()
    dash.goto(f"{cls.base}/host/{code}/")
    expect(dash.locator("#conn-state")).to_have_attribute("data-state", "online")
    for _ in range(100):
        if held:
            break
        dash.wait_for_timeout(100)
    assert held, "the dashboard's first snapshot was never sent"
    start = dash.get_by_role("button", name="Start the negotiation")
    dialog = dash.locator("#start-dialog")

    # No snapshot within 10 s: a clear message, and the class is not started.
    start.click()
    dash.clock.run_for(11_000)
    expect(dash.locator("#alert")).to_contain_text(
        "The negotiation has not started yet. The tables are still loading. Try again in a moment."
    )
    expect(dialog).to_be_hidden()
    shot(dash, "start-before-the-tables-desktop")
    dash.set_viewport_size(PHONE)
    shot(dash, "start-before-the-tables-phone")
    dash.set_viewport_size(DESK)
    expect(dash.locator("#status-pill")).to_have_text("Lobby")
    assert status_of(cls, code) == "lobby"

    # Clicked again, and again while it waits (a busy server, an impatient instructor): the
    # button says it is busy, and when the snapshot arrives there is one question and one start.
    start.click()
    expect(start).to_be_disabled()
    dash.evaluate("document.querySelector('#start-btn').form.requestSubmit()")
    dash.wait_for_timeout(300)
    expect(dialog).to_be_hidden()
    gate["open"] = True
    for m in held:
        gate["page_side"].send(m)
    expect(dialog).to_contain_text("Table 1: Europe")
    assert dash.locator("#start-empty li").count() == 1
    dialog.get_by_role("button", name="Start with empty seats").click()
    expect(dash.locator("#status-pill")).to_have_text("Running")
    dash.wait_for_timeout(1000)  # a second start would be refused ("already started") by now
    expect(dash.locator("#alert")).to_be_hidden()
    expect(dialog).to_be_hidden()
    assert status_of(cls, code) == "running"

    # What the page declines itself (nothing sent) is not "The server refused that.".
    dash.evaluate(
        "document.querySelector('#remove-player').form"
        ".dispatchEvent(new SubmitEvent('submit', {bubbles: true, cancelable: true}))"
    )
    expect(dash.locator("#alert")).to_contain_text("Not sent. Choose a student first.")


def status_of(cls, code: str) -> str:
    """The session's status as the database has it."""
    out = cls.manage(
        "shell",
        "-c",
        f"from game.models import GameSession; print(GameSession.objects.get(code='{code}').status)",
    )
    return out.strip().splitlines()[-1]


def test_no_click_ends_a_phase_or_the_session_without_a_second_step_and_the_clock_warns(cls):
    code = cls.session()
    for name in ("Chen", "Dana", "Eli"):  # Europe stays empty
        cls.student(code, name)
    dash = cls.instructor(f"/host/{code}/")
    expect(dash.locator("#conn-state")).to_have_attribute("data-state", "online")
    expect(dash.locator(".table-card").first).to_contain_text("Eli")

    # Start with an empty seat: the dashboard asks, and waiting changes nothing.
    dash.get_by_role("button", name="Start the negotiation").click()
    dialog = dash.locator("#start-dialog")
    expect(dialog).to_contain_text("Table 1: Europe")
    shot(dash, "start-empty-seats-desktop")
    dash.set_viewport_size(PHONE)
    shot(dash, "start-empty-seats-phone")
    dash.set_viewport_size(DESK)
    dialog.get_by_role("button", name="Wait for more students").click()
    expect(dialog).to_be_hidden()
    expect(dash.locator("#status-pill")).to_have_text("Lobby")
    dash.get_by_role("button", name="Start the negotiation").click()
    dialog.get_by_role("button", name="Fill them with bots and start").click()
    expect(dash.locator("#status-pill")).to_have_text("Running")
    expect(dash.locator("#lobby-list")).to_contain_text("1 bot")

    # Advance asks first; cancelling keeps the phase.
    confirm = dash.locator("#confirm-dialog")
    dash.locator("#advance-btn").click()
    expect(confirm).to_contain_text("End Expert groups now")
    confirm.get_by_role("button", name="Cancel").click()
    expect(dash.locator("#phase-name")).to_have_text("Expert groups")

    # A minute before the end of a phase, the dashboard warns and offers more time.
    cls.host(dash, code, {"type": "phase.extend", "seconds": -(900 - 50), "confirm": True})
    warn = dash.locator("#clock-warning")
    expect(warn).to_be_visible()
    expect(warn).to_contain_text("left in Expert groups. Then Senior officials starts")
    dash.set_viewport_size(PHONE)
    expect(warn).to_be_in_viewport()
    shot(dash, "clock-warning-phone")
    dash.set_viewport_size(DESK)
    # "-1 min" with less than a minute left would end the phase: it asks, and Cancel keeps it.
    dash.get_by_role("button", name=MINUS_ONE).click()
    expect(confirm).to_contain_text("taking a minute off ends Expert groups now")
    shot(dash, "minus-minute-confirm-desktop")
    confirm.get_by_role("button", name="Cancel").click()
    expect(dash.locator("#phase-name")).to_have_text("Expert groups")
    # The server refuses it too, from any client that does not confirm.
    refused = dash.evaluate(SOCKET_JS, [f"/ws/host/{code}/", [{"type": "phase.extend", "seconds": -60}]])
    assert refused["replies"][0]["code"] == "conflict"
    dash.get_by_role("button", name=MINUS_ONE).click()
    confirm.get_by_role("button", name="End Expert groups now").click()
    expect(dash.locator("#phase-name")).to_have_text("Senior officials", timeout=T)

    # In the last phase the warning says the clock ends the game.
    dash.locator("#advance-btn").click()
    confirm.get_by_role("button", name=re.compile("Advance to Leaders")).click()
    expect(dash.locator("#phase-name")).to_contain_text("Leaders")
    cls.host(dash, code, {"type": "phase.extend", "seconds": -(1200 - 50), "confirm": True})
    expect(warn).to_contain_text("the clock ends the game: tables without an agreement end with no deal")
    shot(dash, "clock-warning-final-desktop")
    dash.locator("#clock-warning").get_by_role("button", name="+2 min").click()
    expect(warn).to_be_hidden()
    expect(dash.locator("#status-pill")).to_have_text("Running")


# --- 3. A projector page of its own ------------------------------------------------------------------


def test_the_projector_page_shows_the_room_what_it_needs_and_never_a_control_or_a_proposal(cls):
    code = cls.session(tables=2)
    dash = cls.instructor(f"/host/{code}/")
    link = dash.get_by_role("link", name=re.compile("Projector page"))
    expect(link).to_have_attribute("href", f"/host/{code}/projector/")
    expect(dash.get_by_role("button", name=re.compile("Projector view"))).to_have_count(0)
    pj = cls.instructor(f"/host/{code}/projector/")
    phone_pj = cls.instructor(f"/host/{code}/projector/", PHONE, phone=True)
    for page in (pj, phone_pj):
        expect(page.locator(".pj-code")).to_have_text(code)
        expect(page.locator(".pj-qr svg")).to_be_visible()
    students = [cls.student(code, n) for n in ("Fay", "Gus", "Hal", "Ivy")]
    expect(pj.locator("#pj-count")).to_have_text("4")
    expect(pj.locator("#pj-names")).to_contain_text("Ivy")
    shot(pj, "projector-lobby-desktop")
    shot(phone_pj, "projector-lobby-phone")

    cls.host(dash, code, {"type": "session.start"})
    expect(pj.locator("#pj-phase")).to_have_text("Expert groups")
    expect(pj.locator("#pj-clock")).to_have_text(re.compile(r"^1[45]:\d\d$"))
    expect(pj.locator("#pj-allows")).to_contain_text("nothing is binding yet")
    cls.act(students[0], code, {"type": "proposal.make", "terms": DEAL, "note": "Secret plan"})
    cls.act(students[1], code, {"type": "chat.send", "channel": "table", "text": "Psst, the table only"})
    cls.host(dash, code, {"type": "news.inject", "news": "european_pledge"})
    expect(pj.locator("#pj-news")).to_contain_text("European coalition pledges troops")
    cls.host(dash, code, {"type": "phase.advance"}, {"type": "phase.advance"})
    expect(pj.locator("#pj-allows")).to_contain_text("Deals can be concluded now")
    pj.reload()  # a reload never brings the controls (the page has none)
    expect(pj.locator("#pj-phase")).to_contain_text("Leaders")
    for page in (pj, phone_pj):
        assert page.locator("button, form, select, input, textarea").count() == 0
        text = page.locator("body").inner_text()
        for secret in ("Secret plan", "Psst", "demilitarised zone", "No NATO invitation", "arms, money"):
            assert secret not in text, f"{secret!r} is on the projector"
    shot(pj, "projector-running-desktop")
    shot(phone_pj, "projector-running-phone")

    cls.host(dash, code, {"type": "session.end"})
    for page in (pj, phone_pj):
        expect(page.locator("#pj-end-title")).to_have_text("The negotiation is over")
        expect(page.locator(".pj-code")).to_be_hidden()
        expect(page.locator(".pj-qr")).to_be_hidden()
    shot(pj, "projector-end-desktop")
    shot(phone_pj, "projector-end-phone")
    pj.get_by_role("link", name="Open the debrief").click()
    expect(pj.get_by_role("heading", name="Who won?")).to_be_visible()


# --- 4. Seat reclaim from another device ---------------------------------------------------------------


def test_a_student_on_a_new_device_gets_their_own_seat_back(cls):
    code = cls.session()
    cls.student(code, "Ana")
    laptop = cls.student(code, "Sam Okafor")  # Russia
    seat = cls.role(laptop)
    rejoin = laptop.locator("#lobby-rejoin").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{5}", rejoin)
    shot(laptop, "rejoin-code-desktop")

    # A phone: their own name is taken; the page says how to get the seat back.
    phone = cls.context(PHONE, phone=True).new_page()
    phone.goto(f"{cls.base}/?code={code}")
    phone.get_by_label("Your name").fill("Sam Okafor")
    phone.get_by_role("button", name="Join the table").click()
    expect(phone.get_by_text("If that is you on another device, type your rejoin code")).to_be_visible()
    expect(phone.locator("#rejoin-box")).to_have_attribute("open", "")
    shot(phone, "rejoin-form-phone", full=True)
    phone.set_viewport_size(DESK)
    shot(phone, "rejoin-form-desktop")
    phone.set_viewport_size(PHONE)
    phone.get_by_label("Your rejoin code").fill(rejoin.lower())
    phone.get_by_role("button", name="Join the table").click()
    phone.wait_for_url(re.compile(rf"/play/{code}/$"))
    expect(phone.locator("#you-badge")).to_have_text(ROLE_NAMES[seat])
    expect(phone.locator("#you-name")).to_have_text("Sam Okafor")
    expect(phone.locator("#lobby-seats")).not_to_contain_text("Sam Okafor 2")

    # Or the instructor hands the seat to the device that joined as "Lee 2".
    lee = cls.student(code, "Lee")
    lee_role = cls.role(lee)
    tablet = cls.student(code, "Lee 2", PHONE, phone=True)
    dash = cls.instructor(f"/host/{code}/")
    expect(dash.locator("#conn-state")).to_have_attribute("data-state", "online")
    dash.get_by_text("Seats: move, stand-in, new device, remove").click()
    form = dash.locator("form", has=dash.locator("#handover-title"))
    pick_player(dash.locator("#rejoin-player"), "Lee")
    expect(dash.locator("#rejoin-show")).to_contain_text("Lee's rejoin code:")
    pick_player(form.locator("select[name=player]"), "Lee")
    pick_player(form.locator("select[name=to]"), "Lee 2")
    form.locator("#rejoin-show").scroll_into_view_if_needed()
    shot(dash, "handover-desktop")
    dash.set_viewport_size(PHONE)
    form.locator("#rejoin-show").scroll_into_view_if_needed()
    shot(dash, "handover-phone")
    dash.set_viewport_size(DESK)
    form.get_by_role("button", name="Hand the seat over…").click()
    dash.locator("#confirm-dialog").get_by_role("button", name="Hand the seat over").click()
    expect(tablet.locator("#you-name")).to_have_text("Lee", timeout=T)
    expect(tablet.locator("#you-badge")).to_have_text(ROLE_NAMES[lee_role])
    shot(tablet, "handed-over-phone")
    expect(dash.locator("#lobby-list")).not_to_contain_text("Lee 2")


def pick_player(select, name: str) -> None:
    value = (
        select.locator("option")
        .filter(has_text=re.compile(rf"^{re.escape(name)}( ·|$)"))
        .first.get_attribute("value")
    )
    select.select_option(value)


# --- 5. Phones in both orientations ------------------------------------------------------------------------


def test_a_phone_in_landscape_keeps_the_tabs_and_the_chat_box_usable(cls):
    code = cls.session()
    side = cls.student(code, "Kim")
    page = cls.student(code, "Lou", LANDSCAPE, phone=True)
    dash = cls.instructor(f"/host/{code}/")
    cls.host(dash, code, {"type": "session.start"})
    expect(page.locator("#game")).to_be_visible()
    tabbar = page.locator("#tabbar")
    expect(tabbar).to_be_visible()
    expect(tabbar).to_be_in_viewport()
    for name in ("Brief", "Propose", "Proposals", "Chat"):
        expect(tab(page, name)).to_be_visible()

    # The builder is the first thing on its tab, not thousands of pixels down.
    tab(page, "Propose").click()
    assert page.locator("#panel-builder").bounding_box()["y"] < 390
    expect(page.locator("#pick-territory")).to_be_in_viewport()
    shot(page, "landscape-builder")

    # The chat: its box and Send stay uncovered, however long the conversation.
    tab(page, "Chat").click()
    for i in range(8):
        cls.act(
            side,
            code,
            {"type": "chat.send", "channel": "table", "text": f"Message {i}: " + "long words " * 12},
        )
    expect(page.locator("#chat-log-table .msg")).to_have_count(8)
    for sel in ("#chat-input", "#chat-send"):
        assert page.locator(sel).evaluate(UNCOVERED_JS), f"{sel} is covered or out of view"
    page.locator("#chat-input").fill("Landscape works")
    page.locator("#chat-send").tap()
    expect(side.locator("#chat-log-table")).to_contain_text("Landscape works")
    assert page.locator("#chat-input").evaluate(UNCOVERED_JS)
    assert page.evaluate("document.documentElement.scrollWidth") <= 844
    shot(page, "landscape-chat")

    # Portrait, and the desktop, keep the same promise.
    page.set_viewport_size(PHONE)
    tab(page, "Chat").click()
    for sel in ("#chat-input", "#chat-send"):
        assert page.locator(sel).evaluate(UNCOVERED_JS)
    shot(page, "portrait-chat")
    for sel in ("#chat-input", "#chat-send"):
        assert side.locator(sel).evaluate(UNCOVERED_JS)


# --- 6. Moments everyone sees ----------------------------------------------------------------------------


def test_phase_changes_and_news_are_notices_everyone_sees_and_a_late_joiner_meets_the_role_first(cls):
    code = cls.session()
    us = cls.student(code, "Mia")  # desktop: the United States
    ru = cls.student(code, "Nik", PHONE, phone=True)  # phone: Russia
    ua = cls.student(code, "Ola")  # Ukraine; Europe stays empty
    dash = cls.instructor(f"/host/{code}/")
    cls.host(dash, code, {"type": "session.start"})
    for page in (us, ru):
        expect(page.locator(".notice-phase")).to_contain_text("The negotiation has started: Expert groups")
        page.locator(".notice-phase").get_by_role("button", name=re.compile("dismiss")).click()

    # Ukraine writing privately to the empty Europe seat is told nobody sits there yet.
    ua.locator("#chat-tabs").get_by_role("tab", name=re.compile("^Europe")).click()
    expect(ua.locator("#chat-scope")).to_contain_text("Nobody plays Europe at your table yet")

    # A phase change: a notice that says what the new phase allows, in view on a scrolled phone.
    tab(ru, "Brief").click()
    ru.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    cls.host(dash, code, {"type": "phase.advance"})
    for page in (us, ru):
        note = page.locator(".notice-phase")
        expect(note).to_contain_text("Now: Senior officials")
        expect(note).to_contain_text("nothing is binding yet")
        expect(note).to_be_in_viewport()
    shot(ru, "phase-notice-phone")

    # Before sending news, the instructor previews the item and its effects.
    dash.select_option("#news-select", "summer_offensive")
    preview = dash.locator("#news-preview")
    expect(preview).to_contain_text("Kramatorsk")
    expect(preview.locator(".np-points")).to_contain_text("Crimea and four regions recognised as Russian +6")
    expect(preview).to_contain_text(re.compile(r"Durability of the compromise deal: \d+% → \d+%"))
    preview.scroll_into_view_if_needed()
    shot(dash, "news-preview-desktop")
    # News: a notice with its effect on this student's own points.
    cls.host(dash, code, {"type": "news.inject", "news": "summer_offensive"})
    for page in (us, ru):
        note = page.locator(".notice-news")
        expect(note).to_contain_text("Russian offensive pushes deeper into Donetsk region")
        expect(note.locator(".notice-effect")).to_contain_text(re.compile(r"Your points: .+ \(now [\d.]+\)"))
        expect(note).to_be_in_viewport()
    expect(ru.locator(".notice-news")).to_contain_text("Crimea and four regions recognised as Russian +")
    expect(us.locator(".notice-news")).to_contain_text(
        "Donbas exchange: Ukraine leaves the rest of Donetsk +"
    )
    shot(ru, "news-notice-phone")
    shot(us, "news-notice-desktop")

    # A late joiner takes the empty Europe seat and meets the role and the brief first.
    late = cls.student(code, "Pia", PHONE, phone=True)
    expect(late.locator("#lobby-title")).to_have_text("You play Europe")
    expect(late.locator("#lobby-kicker")).to_have_text("You join a negotiation under way")
    expect(late.locator("#lobby-started")).to_contain_text("it is now the Senior officials stage")
    expect(late.locator("#lobby-brief")).not_to_be_empty()
    expect(late.locator("#game")).to_be_hidden()
    shot(late, "late-joiner-phone")
    late.get_by_role("button", name="I have read my brief: go to the table").click()
    expect(late.locator("#game")).to_be_visible()
    expect(late.locator("#pickers")).to_be_visible()
    late.reload()  # once met, the introduction does not come back
    expect(late.locator("#game")).to_be_visible()
    desk_late = cls.student(code, "Quin")  # a second late joiner, on a desktop, joins a team
    expect(desk_late.locator("#lobby-title")).to_contain_text("You play")
    expect(desk_late.locator("#lobby-team")).to_contain_text("as a team with")
    shot(desk_late, "late-joiner-desktop")


# --- 7. One durability figure everywhere ----------------------------------------------------------------------


def test_one_durability_figure_everywhere_and_points_that_add_up(cls):
    code = cls.session()
    pages = {}
    for i, name in enumerate(("Rae", "Sol", "Tia", "Uma")):
        p = cls.student(code, name, PHONE if i == 1 else DESK, phone=i == 1)
        pages[cls.role(p)] = p
    us, ru = pages["us"], pages["russia"]
    expect(us.locator(".lobby-how")).to_contain_text("Durability")
    dash = cls.instructor(f"/host/{code}/")
    cls.host(dash, code, {"type": "session.start"}, {"type": "news.inject", "news": "summer_offensive"})
    expect(us.locator("#news-headline")).to_contain_text("Russian offensive")
    expect(us.locator("#news-list li")).to_have_count(1)
    expect(us.locator("#news-list li .news-effect")).to_have_text(re.compile(r"\S"))  # the full item
    us.evaluate("document.querySelector('#news-list li').dataset.kept = '1'")
    for k, v in DEAL.items():
        pick(us, k, v)
    meter = us.locator("#meter")
    expect(us.locator("#m-peace")).to_have_text(re.compile(r"^\d+%$"))
    expect(meter).to_contain_text("Durability")
    expect(meter).to_contain_text("Lasts all 10 years")
    expect(us.locator("#m-points-max")).to_have_text("(of 100)")
    d = us.locator("#m-peace").inner_text()
    us.get_by_role("button", name="Propose", exact=True).click()
    for page in (us, ru):
        figs = card(page, 1).locator(".p-durability")
        expect(figs).to_contain_text(f"Durability{d}")
        expect(figs).to_contain_text("lasts all 10 years")
    # No other name for durability, and points on the 0-100 scale after the news.
    for page in (us, ru):
        text = page.locator("body").inner_text()
        assert "Holds 10 years" not in text and "Expected peace" not in text
        points = [float(x) for x in page.locator("#points-body td.pt-points").all_inner_texts()]
        assert points and max(points) <= 100
    parts = [float(us.locator(f"#pick-{k}-pts strong").inner_text()) for k in DEAL]
    assert float(us.locator("#m-points").inner_text()) == pytest.approx(sum(parts), abs=0.11)
    shot(us, "durability-desktop")
    shot(ru, "durability-phone")

    cls.host(dash, code, {"type": "phase.advance"}, {"type": "phase.advance"})
    for r in ("russia", "ukraine", "europe"):
        cls.act(pages[r], code, {"type": "proposal.answer", "proposal": 1, "answer": "accept"})
    # The news list is rebuilt when the news changes, not with everything else the page redraws
    # (two phase changes and the outcome here).
    expect(us.locator("#panel-outcome")).to_be_visible()
    expect(us.locator("#news-list li[data-kept='1']")).to_have_count(1)
    for page in (us, ru):
        expect(page.locator("#panel-outcome")).to_be_visible()
        you = page.locator("#outcome-you")
        expect(you.locator(".score").nth(2)).to_contain_text(f"Durability{d}")
        expect(page.locator("#outcome-story")).to_contain_text(f"Its durability is {d}")
        # the student's own score is in view at once, even above a long story on a phone
        expect(page.locator("#outcome-score-line")).to_contain_text(f"durability {d}")
        expect(page.locator("#outcome-score-line")).to_be_in_viewport()
        tactical = float(you.locator(".score").nth(1).locator(".big-value").inner_text())
        terms = [float(x) for x in page.locator("#outcome-terms .t-pts").all_inner_texts()]
        assert tactical == pytest.approx(sum(terms), abs=0.11), (tactical, terms)
    expect(dash.locator(".table-card .tc-outcome")).to_contain_text(f"Durability {d}")
    shot(ru, "outcome-phone")
    debrief = cls.instructor(f"/host/{code}/debrief/")
    expect(debrief.locator(".story-peace").first).to_have_text(f"durability {d}")
    assert "Peace expected" not in debrief.locator("body").inner_text()


# --- 8. A clear end, and a debrief that never contradicts itself ------------------------------------------


FIND_BROKEN_SEED = """
from game.engine import scoring
from game.models import ScenarioConfig
sc = ScenarioConfig.objects.get(slug="default").to_engine()
terms = {"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "bilateral_arms_training"}
for seed in range(1, 5000):
    o = scoring.outcome(sc, terms, seed=(seed * 1_000_003 + 1) % (2**63))
    r = o["durability"]["realized"]
    if not r["held"] and o["durability"]["expected_peace"] >= 0.5 and r["collapse_year"] >= 2:
        print("SEED=%d YEAR=%d" % (seed, r["collapse_year"]))
        break
"""


def test_the_end_is_clear_and_the_debrief_agrees_with_each_tables_story(cls):
    found = re.search(r"SEED=(\d+) YEAR=(\d+)", cls.manage("shell", "-c", FIND_BROKEN_SEED))
    seed, year = int(found.group(1)), int(found.group(2))
    code = cls.session(seed=seed)
    pages = {}
    for name in ("Vic", "Wes", "Xia", "Yan"):
        p = cls.student(code, name)
        pages[cls.role(p)] = p
    dash = cls.instructor(f"/host/{code}/")
    phone_dash = cls.instructor(f"/host/{code}/", PHONE, phone=True)
    cls.host(dash, code, {"type": "session.start"}, {"type": "phase.advance"}, {"type": "phase.advance"})
    cls.act(pages["us"], code, {"type": "proposal.make", "terms": DEAL})
    for r in ("russia", "ukraine", "europe"):
        cls.act(pages[r], code, {"type": "proposal.answer", "proposal": 1, "answer": "accept"})
    # The only table agreed: the dashboard says so instead of counting down, and offers the debrief.
    for page in (dash, phone_dash):
        done = page.locator("#all-finished")
        expect(done).to_contain_text("The table has finished.")
        expect(done).to_contain_text("The clock no longer matters")
        expect(page.locator("#clock")).to_have_text("Done")
        expect(page.locator("#status-pill")).to_have_text("All tables finished")
    shot(dash, "finished-desktop")
    shot(phone_dash, "finished-phone")
    dash.get_by_role("button", name="End the session and open the debrief").click()
    dash.wait_for_url(re.compile(rf"/host/{code}/debrief/$"))

    # The debrief: the deal broke, so nobody "won and kept the peace", in words and in the chart.
    stats = dash.locator(".db-stats")
    expect(stats.locator(".stat-bad")).to_contain_text("1 of 1")
    expect(stats.locator(".stat-good")).to_contain_text("0 of 4")
    scatter = dash.locator("svg.chart-scatter")
    expect(scatter).to_contain_text(f"T1 · broke in year {year}")
    expect(scatter).not_to_contain_text("Won, and the peace lasted")
    expect(dash.locator("#s-scatter .takeaway")).to_contain_text("Nobody won and kept the peace")
    shot(dash, "debrief-broken-desktop")
    dash.locator("#s-scatter").screenshot(path=str(SHOTS / "i18-debrief-scatter-desktop.png"))
    dash.set_viewport_size(PHONE)
    shot(dash, "debrief-broken-phone")
    # ...and the dashboard, after the end, leads to the debrief too.
    phone_dash.reload()
    expect(phone_dash.locator("#all-finished").get_by_role("link", name="Open the debrief")).to_be_visible()


# --- 9. Honest privacy -----------------------------------------------------------------------------------


def test_students_are_told_the_instructor_reads_private_channels_and_exports_are_anonymised(cls):
    code = cls.session()
    us = cls.student(code, "Zoe Quartermaine")
    ru = cls.student(code, "Yusuf Bellweather", PHONE, phone=True)
    for page in (us, ru):
        expect(page.locator(".lobby-privacy")).to_contain_text("and by your instructor")
    dash = cls.instructor(f"/host/{code}/")
    cls.host(dash, code, {"type": "session.start"})
    # Before writing anything: a private channel says the instructor reads it.
    us.locator("#chat-tabs").get_by_role("tab", name=re.compile("^Russia")).click()
    expect(us.locator("#chat-scope")).to_contain_text("and your instructor, who can read every channel")
    tab(ru, "Chat").click()
    ru.locator("#chat-tabs").get_by_role("tab", name=re.compile("^United States")).click()
    expect(ru.locator("#chat-scope")).to_contain_text("and your instructor")
    shot(ru, "privacy-phone")
    us.locator("#chat-input").fill("A private word about Zanzibar")
    us.locator("#chat-send").click()
    expect(ru.locator("#chat-log-russia_us")).to_contain_text("A private word about Zanzibar")
    cls.act(us, code, {"type": "chat.send", "channel": "table", "text": "Hello, table"})
    shot(us, "privacy-desktop")

    # The research export: participant codes, no private channel, unless the instructor chooses.
    form = dash.locator(".export-form")
    expect(form).to_contain_text("Anonymised")
    with dash.expect_download() as dl:
        form.get_by_role("button", name="JSON").click()
    with open(dl.value.path(), encoding="utf-8") as f:
        data = json.load(f)
    text = json.dumps(data, ensure_ascii=False)
    assert data["anonymised"] and not data["private_channels"]
    assert "Quartermaine" not in text and "Bellweather" not in text
    assert "Zanzibar" not in text and "Hello, table" in text
    form.get_by_label("Include private channels").check()
    with dash.expect_download() as dl:
        form.get_by_role("button", name="CSV").click()
    with open(dl.value.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert any("Zanzibar" in r["text"] for r in rows)
    assert not any("Quartermaine" in json.dumps(r) for r in rows)
    # The grading export: one row per student, with names.
    grades = list(csv.DictReader(io.StringIO(dash.request.get(f"{cls.base}/host/{code}/grades.csv").text())))
    assert sorted((g["name"], g["role"], g["table"]) for g in grades) == [
        ("Yusuf Bellweather", "russia", "1"),
        ("Zoe Quartermaine", "us", "1"),
    ]
    dash.locator(".export-form").scroll_into_view_if_needed()
    shot(dash, "export-desktop")


# --- the smaller things ------------------------------------------------------------------------------


def _covered_by_a_font(ch: str) -> bool:
    out = subprocess.run(["fc-list", f":charset={ord(ch):x}"], capture_output=True, text=True, timeout=30)
    return bool(out.stdout.strip())


def test_the_smaller_things(cls):
    code = cls.session()
    students = [cls.student(code, n, PHONE, phone=True) for n in ("Abe", "Bea", "Cal")]
    dash = cls.instructor(f"/host/{code}/")
    expect(dash.locator("#conn-state")).to_have_attribute("data-state", "online")
    # Every glyph on the dashboard's buttons and links is in an installed font (no empty box).
    texts = dash.locator("button, a.btn, .host-nav a").all_inner_texts()
    odd = {ch for t in texts for ch in t if ord(ch) > 127}
    assert "\uff0b" not in odd
    missing = sorted(ch for ch in odd if not _covered_by_a_font(ch))
    assert not missing, f"glyphs no installed font has: {missing}"
    expect(dash.get_by_role("button", name="Add a table")).to_have_text("+ Add a table")

    # The session list counts the students still in the session.
    cls.host(
        dash,
        code,
        {
            "type": "seat.remove",
            "player": dash.evaluate(
                "async (c) => { const r = await fetch(`/host/${c}/export.json?names=1`); const d = await r.json();"
                " return d.players.find((p) => p.name === 'Cal').id; }",
                code,
            ),
        },
    )
    index = cls.instructor("/host/")
    expect(index.locator("table.sessions tr", has_text=code)).to_contain_text("2 students")

    # On a phone, "Table" means one thing (the whole-table chat); the proposals' tab is "Proposals".
    page = students[0]
    cls.host(dash, code, {"type": "session.start"})
    expect(page.locator("#tabbar")).to_be_visible()
    assert [
        t.strip() for t in page.locator("#tabbar [role=tab]:not([hidden]) .tab-text").all_inner_texts()
    ] == [
        "Brief",
        "Propose",
        "Proposals",
        "Chat",
    ]
    # On a phone, the score comes first in the outcome: in view without scrolling.
    cls.host(dash, code, {"type": "session.end"})
    expect(page.locator("#panel-outcome")).to_be_visible()
    expect(page.locator("#outcome-you .score.is-total")).to_be_in_viewport()
    shot(page, "outcome-score-first-phone")
    shot(index, "session-list-desktop")
    index.set_viewport_size(PHONE)
    index.locator("table.sessions tr", has_text=code).scroll_into_view_if_needed()
    shot(index, "session-list-phone")
