"""Every page, in every state a person meets, passes axe-core's WCAG 2.0/2.1/2.2 A and AA rules
with no violation of impact "serious" or "critical", on a desktop (1280x800) and a phone
(390x844) viewport.

One server, one class: a session is opened from the instructor's index, four students join and
negotiate (proposals, answers, chat, news) to an agreement, a second session ends with no deal,
and axe runs at each state the students, the instructor and the administrator see. The findings
of every state are collected before the test fails, each named with its rule, its element and
its page, and written to artifacts/a11y/axe-report.json.
"""

from __future__ import annotations

import json
import re

import pytest
from django.template.loader import render_to_string
from playwright.sync_api import Page, expect

from tests.browser.a11y import Sweep, moving, overflow
from tests.browser.conftest import ROOT, join, send_acked, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 320, "height": 640}  # WCAG 1.4.10: 320 CSS pixels wide
ZOOMED = {"width": 640, "height": 400}  # the desktop at 200% zoom
T = 15_000
DEAL = {"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "bilateral_arms_training"}
OPENER = {
    "territory": "donbas_exchange",
    "nato": "constitutional_neutrality",
    "guarantees": "assurances_army_cap",
}


def open_session(page: Page, base: str, title: str) -> str:
    page.goto(f"{base}/host/")
    page.get_by_label("Number of tables").fill("1")
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Open the session").click()
    page.wait_for_url(re.compile(r".*/host/[A-Z0-9]{6}/$"))
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def phone_tab(page: Page, tab: str) -> None:
    page.locator(f"#tab-{tab}").dispatch_event("click")
    expect(page.locator(f"#tab-{tab}")).to_have_attribute("aria-selected", "true")


def test_every_page_in_every_state_passes_axe(server, browser):
    base = server.base
    sweep = Sweep(ROOT / "artifacts" / "a11y" / "axe-report.json")
    made = []
    errors: list[str] = []

    def context(**kw):
        ctx = browser.new_context(viewport=DESK, **kw)
        ctx.set_default_timeout(T)
        ctx.on("page", lambda p: p.on("pageerror", lambda e: errors.append(f"{p.url}: {e}")))
        made.append(ctx)
        return ctx

    def check(page: Page, state: str, *, phone: bool = True, before_phone=None) -> None:
        page.set_viewport_size(DESK)
        sweep.check(page, f"{state} · desktop")
        if phone:
            page.set_viewport_size(PHONE)
            if before_phone:
                before_phone()
            sweep.check(page, f"{state} · phone")
            page.set_viewport_size(DESK)

    sideways: list[str] = []

    def reflow(page: Page, state: str, before=None) -> None:
        """At 320 CSS pixels and at 200% zoom the page itself never scrolls sideways (content in
        a scroll region of its own may)."""
        for name, size in (("320 px wide", NARROW), ("200% zoom", ZOOMED)):
            page.set_viewport_size(size)
            if before:
                before()
            found = overflow(page)
            if found:
                sideways.append(f"[{state} · {name}] the page scrolls sideways: {found}")
        page.set_viewport_size(DESK)

    motion: list[str] = []
    moves_without_the_preference: list[str] = []

    def still(page: Page, state: str) -> None:
        """With prefers-reduced-motion: reduce, nothing transitions or animates."""
        moves_without_the_preference.extend(moving(page, reduce=False))
        motion.extend(f"[{state}] {m}" for m in moving(page, reduce=True))

    try:
        # --- error pages (rendered as the server renders them with debug off) -----------------
        anon = context().new_page()
        for name in ("400", "403", "403_csrf", "404", "500"):
            html = render_to_string(f"{name}.html")
            anon.route(
                f"{base}/__error__/{name}",
                lambda route, _req, body=html: route.fulfill(body=body, content_type="text/html"),
            )
            anon.goto(f"{base}/__error__/{name}")
            check(anon, f"error page {name}")

        # --- the instructor's first login and password ----------------------------------------
        link = server.manage("instructor_link", "--username", "a11y-first", "--base", base).strip()
        first = context().new_page()
        first.goto(base + "/host/login/not-a-token/")
        check(first, "first login: link used up")
        first.goto(link)
        expect(first.get_by_role("heading", name=re.compile("Log in as"))).to_be_visible()
        check(first, "first login")
        first.get_by_role("button", name="Log in").click()
        first.wait_for_url(re.compile(r"/host/password/$"))
        check(first, "set password")
        first.locator("#id_new_password1").fill("short")
        first.locator("#id_new_password2").fill("different")
        first.get_by_role("button", name="Save the password").click()
        expect(first.locator(".errorlist").first).to_be_visible()
        check(first, "set password: error")

        # --- the instructor opens a session ---------------------------------------------------
        staff = context()
        host = staff.new_page()
        sign_in(host, base)
        code = open_session(host, base, "Accessibility class")
        host.goto(f"{base}/host/")
        check(host, "instructor's index")
        host.goto(f"{base}/host/{code}/")
        expect(host.locator("#conn-state")).to_have_attribute("data-state", "online")
        check(host, "dashboard before the start")
        reflow(host, "dashboard before the start")
        projector = staff.new_page()
        projector.goto(f"{base}/host/{code}/projector/")
        expect(projector.locator("#pj-join")).to_be_visible()
        check(projector, "projector: joining")

        # --- students: the join page, an error, the lobby ------------------------------------
        student = context()
        page = student.new_page()
        page.goto(f"{base}/?code={code}")
        check(page, "join")
        reflow(page, "join")
        still(page, "join")
        page.get_by_label("Session code").fill("ZZZZZZ")
        page.get_by_label("Your name").fill("Alina")
        page.get_by_role("button", name="Join the table").click()
        expect(page.locator("#code-errors")).to_be_visible()
        check(page, "join: error")
        reflow(page, "join: error")
        names = ["Alina", "Bogdan", "Chloé", "Dieter"]  # seated in role order: us, russia, ukraine, europe
        pages = [join(student, base, code, names[0])] + [join(context(), base, code, n) for n in names[1:]]
        us, ru, ua, eu = pages
        page.close()
        expect(us.locator("#lobby")).to_be_visible()
        expect(us.locator("#lobby-seats li")).to_have_count(4)
        check(us, "player: lobby")
        reflow(us, "player: lobby")
        page = student.new_page()
        page.goto(f"{base}/?code={code}")
        expect(page.get_by_role("link", name=re.compile("Rejoin"))).to_be_visible()
        check(page, "join: rejoin link", phone=False)
        page.close()

        # --- the negotiation: proposals, answers, chat, news ---------------------------------
        send_acked(host, f"/ws/host/{code}/", {"type": "session.start"})
        expect(us.locator("#game")).to_be_visible(timeout=T)
        play = f"/ws/play/{code}/"
        send_acked(ru, play, {"type": "proposal.make", "terms": OPENER, "note": "A realistic line."})
        send_acked(ua, play, {"type": "proposal.answer", "proposal": 1, "answer": "reject"})
        send_acked(
            ua, play, {"type": "chat.send", "channel": "table", "text": "Ukraine cannot give up land."}
        )
        send_acked(ru, play, {"type": "chat.send", "channel": "russia+us", "text": "Between us: a freeze?"})
        send_acked(host, f"/ws/host/{code}/", {"type": "news.inject", "news": "european_pledge"})
        expect(us.locator("#proposal-1")).to_be_visible()
        expect(us.locator("#chat-log-table")).to_contain_text("Ukraine cannot give up land.")
        for issue, option in DEAL.items():
            us.locator(f"#pick-{issue}").select_option(option)
        expect(us.locator("#m-hold")).to_have_text(re.compile(r"^\d+%$"))
        still(us, "player: negotiating")
        check(
            us,
            "player: negotiating (builder, proposals, chat, news)",
            before_phone=lambda: phone_tab(us, "builder"),
        )
        us.set_viewport_size(PHONE)
        for tab in ("brief", "proposals", "chat"):
            phone_tab(us, tab)
            sweep.check(us, f"player: negotiating, {tab} tab · phone")
        us.set_viewport_size(DESK)
        for tab in ("brief", "builder", "proposals", "chat"):
            reflow(us, f"player: negotiating, {tab} tab", before=lambda tab=tab: phone_tab(us, tab))
        expect(host.locator("#table-grid .table-card")).to_have_count(1)
        check(host, "dashboard during the game")
        reflow(host, "dashboard during the game")
        still(host, "dashboard during the game")
        expect(projector.locator("#pj-live")).to_be_visible(timeout=T)
        check(projector, "projector: running")
        still(projector, "projector: running")
        transcript = staff.new_page()
        transcript.goto(f"{base}/host/{code}/table/1/")
        check(transcript, "transcript during the game")

        # A late joiner meets the role first; a removed student is told so.
        late = join(context(), base, code, "Farida")
        expect(late.locator("#lobby-started")).to_be_visible()
        check(late, "player: a late joiner's introduction")
        option = host.locator("#remove-player option", has_text="Farida")
        expect(option).to_have_count(1)
        send_acked(
            host, f"/ws/host/{code}/", {"type": "seat.remove", "player": int(option.get_attribute("value"))}
        )
        expect(late.locator("#blocked")).to_be_visible(timeout=T)
        check(late, "player: removed")

        # --- an agreement, the outcome ---------------------------------------------------------
        send_acked(host, f"/ws/host/{code}/", {"type": "phase.advance"}, {"type": "phase.advance"})
        send_acked(us, play, {"type": "proposal.make", "terms": DEAL})
        for p in (ru, ua, eu):
            send_acked(p, play, {"type": "proposal.answer", "proposal": 2, "answer": "accept"})
        expect(us.locator("#outcome-title")).to_contain_text("Agreement", timeout=T)
        check(us, "player: outcome, deal", before_phone=lambda: phone_tab(us, "outcome"))
        reflow(us, "player: outcome, deal", before=lambda: phone_tab(us, "outcome"))
        still(us, "player: outcome, deal")

        # --- a second session that ends with no deal ------------------------------------------
        code2 = open_session(host, base, "No-deal class")
        solo = join(context(), base, code2, "Emil")
        expect(host.locator("#player-count")).to_have_text("1", timeout=T)
        host.locator("#start-btn").click()
        expect(host.locator("#start-dialog")).to_be_visible()
        check(host, "dashboard: the start dialog (empty seats)")
        host.locator("#start-anyway").click()
        expect(solo.locator("#game")).to_be_visible(timeout=T)
        send_acked(host, f"/ws/host/{code2}/", {"type": "session.end"})
        expect(solo.locator("#outcome-title")).to_be_visible(timeout=T)
        check(solo, "player: outcome, no deal")
        reflow(solo, "player: outcome, no deal")

        # --- after the game: the dashboard, the projector, the debrief, the transcript --------
        host.goto(f"{base}/host/{code}/")
        send_acked(host, f"/ws/host/{code}/", {"type": "session.end"})
        expect(host.locator("#status-pill")).to_have_text(re.compile("Ended", re.I), timeout=T)
        check(host, "dashboard after the game")
        reflow(host, "dashboard after the game")
        expect(projector.locator("#pj-end")).to_be_visible(timeout=T)
        check(projector, "projector: the end")
        host.goto(f"{base}/host/{code}/debrief/")
        for story in host.locator("details.story").all():
            story.evaluate("(d) => (d.open = true)")
        check(host, "debrief")
        reflow(host, "debrief")
        still(host, "debrief")
        host.goto(f"{base}/host/{code2}/debrief/")
        check(host, "debrief: no deal", phone=False)
        transcript.goto(f"{base}/host/{code}/table/1/")
        check(transcript, "transcript after the game")
        host.goto(f"{base}/host/scenario/default/balance/?games=20")
        check(host, "balance report")

        # --- the administrator's scenario pages ---------------------------------------------
        host.goto(f"{base}/admin/game/scenarioconfig/")
        check(host, "admin: scenarios")
        href = host.locator("#result_list a[href*='/change/']").first.get_attribute("href")
        host.goto(base + href)
        check(host, "admin: scenario form")
        host.goto(base + href.replace("/change/", "/translate/uk/"))
        expect(host.locator("#content")).to_contain_text("Ukrainian")
        check(host, "admin: scenario translation (Ukrainian)")
        host.goto(base + href.replace("/change/", "/grid/"))
        check(host, "admin: authoring grid")
        host.goto(f"{base}/admin/game/scenarioconfig/import/")
        check(host, "admin: import")
    finally:
        sweep.write()
        for ctx in made:
            ctx.close()

    print(json.dumps({s: c["serious_or_critical"] for s, c in sweep.counts().items()}, indent=1))
    assert not errors, "uncaught errors in the page:\n" + "\n".join(errors)
    assert not sideways, "\n".join(sideways)
    assert moves_without_the_preference, (
        "the motion check found nothing that moves even without the preference"
    )
    assert not motion, "prefers-reduced-motion: reduce, and still moving:\n" + "\n".join(motion)
    failures = sweep.failures()
    assert not failures, "axe-core: serious or critical WCAG 2.2 A/AA violations\n" + failures
