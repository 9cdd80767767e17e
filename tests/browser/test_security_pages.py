"""The pages issue 13 changed, in Chromium under the Content-Security-Policy: the dashboard's
co-instructor, readmit and anonymise controls, a removed student kept out and let back in, a
tab replaced by newer ones, every instructor page, and the admin login lockout.

The ``contexts`` fixture fails the test on any page error or CSP violation. Screenshots (desktop
and phone) go to ``artifacts/screenshots/security-*.png``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "a-long-test-password-13"
T = 15_000


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(200)
    page.screenshot(path=str(SHOTS / f"security-{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(250)
    page.screenshot(path=str(SHOTS / f"security-{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def sign_in(page, base: str, user: str, password: str = PASSWORD) -> None:
    page.goto(base + "/admin/login/?next=/host/")
    page.fill("#id_username", user)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def join(ctx, base: str, code: str, name: str):
    page = ctx.new_page()
    page.goto(f"{base}/?code={code}")
    page.fill("#id_name", name)
    page.click("form.join-form button[type=submit]")
    return page


def test_the_changed_pages_work_under_the_csp(own_server, contexts):
    srv = own_server
    base = srv.base
    srv.env["GAME_INSTRUCTOR_PASSWORD"] = PASSWORD
    srv.manage("create_instructor", "owner13")
    srv.manage("create_instructor", "assistant13")
    srv.manage("create_instructor", "stranger13")

    # --- the owner opens a session and students join ---------------------------------------------
    host_ctx = contexts()
    host = host_ctx.new_page()
    sign_in(host, base, "owner13")
    host.wait_for_url(re.compile(r".*/host/$"))
    host.get_by_label("Number of tables").fill("1")
    host.get_by_label("Title").fill("Security review class")
    host.get_by_role("button", name="Open the session").click()
    host.wait_for_url(re.compile(r".*/host/[A-Z0-9]{6}/$"))
    code = host.locator("#join-code").inner_text().strip()
    expect(host.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=T)

    students = {}
    for name in ("Alina", "Bogdan", "Chloé", "Dieter"):
        ctx = contexts(phone=name == "Alina")
        students[name] = (ctx, join(ctx, base, code, name))
    for _ctx, page in students.values():
        expect(page.locator("#lobby")).to_be_visible(timeout=T)

    # --- co-instructor -------------------------------------------------------------------------
    host.select_option("#co-user", label="assistant13")
    host.locator("#people").get_by_role("button", name="Add").click()
    expect(host.locator(".notice-ok")).to_contain_text("assistant13 can now see and run this session")
    expect(host.locator(".people-list")).to_contain_text("assistant13")
    host.locator("#people").scroll_into_view_if_needed()
    shoot(host, "dashboard-co-instructor")

    ta_ctx = contexts()
    ta = ta_ctx.new_page()
    sign_in(ta, base, "assistant13")
    expect(ta.locator("table.sessions")).to_contain_text(code)
    ta.goto(f"{base}/host/{code}/")
    expect(ta.locator("#conn-state")).to_have_attribute("data-state", "online", timeout=T)
    expect(ta.locator("#people")).not_to_contain_text("Add a co-instructor")

    stranger_ctx = contexts()
    stranger = stranger_ctx.new_page()
    sign_in(stranger, base, "stranger13")
    expect(stranger.locator("h1")).to_have_text("Your sessions")
    expect(stranger.locator("body")).not_to_contain_text(code)
    r = stranger.goto(f"{base}/host/{code}/")
    assert r.status == 404

    # --- a removed student stays out until let back in ----------------------------------------
    srv.remove_player(code, "Dieter")
    dctx, dpage = students["Dieter"]
    expect(dpage.locator("#blocked")).to_be_visible(timeout=T)
    again = join(dctx, base, code, "Totally New Name")
    expect(again.locator("body")).to_contain_text("Your instructor removed you from this session")
    shoot(again, "removed-student-join")
    host.reload()
    host.locator("#seat-tools summary").click()
    expect(host.locator("#readmit-player option", has_text="Dieter")).to_have_count(1, timeout=T)
    host.select_option("#readmit-player", label="Dieter")
    host.get_by_role("button", name="Let back in").click()
    expect(host.locator("#readmit-player option", has_text="Dieter")).to_have_count(0, timeout=T)
    dpage.goto(f"{base}/play/{code}/")
    expect(dpage.locator("#lobby")).to_be_visible(timeout=T)
    host.locator("#seat-tools").scroll_into_view_if_needed()
    shoot(host, "dashboard-seat-tools")

    # --- more tabs than allowed: the oldest waits instead of reconnecting -------------------------
    actx, apage = students["Alina"]
    extra = []
    for _ in range(3):
        p = actx.new_page()
        p.goto(f"{base}/play/{code}/")
        expect(p.locator("#lobby")).to_be_visible(timeout=T)
        extra.append(p)
    expect(apage.locator("#replaced-banner")).to_be_visible(timeout=T)
    expect(apage.locator("#conn-text")).to_have_text("Open elsewhere")
    apage.bring_to_front()
    apage.screenshot(path=str(SHOTS / "security-replaced-tab-phone.png"))
    for p in extra:
        p.close()
    apage.get_by_role("button", name="Use this page").click()
    expect(apage.locator("#replaced-banner")).to_be_hidden(timeout=T)
    expect(apage.locator("#conn-text")).to_have_text("Connected", timeout=T)

    # --- play, end, then the instructor pages and anonymising -----------------------------------
    srv.start_session(code)
    expect(apage.locator("#tab-chat")).to_be_visible(timeout=T)
    srv.end_session(code)
    host.goto(f"{base}/host/{code}/")
    expect(host.locator("#anonymise")).to_contain_text("Yes, anonymise this session")
    host.locator("#anonymise").scroll_into_view_if_needed()
    shoot(host, "dashboard-anonymise")
    for path in ("table/1/", "debrief/"):
        page = host_ctx.new_page()
        page.goto(f"{base}/host/{code}/{path}")
        expect(page.locator("h1").first).to_be_visible()
        page.close()
    page = host_ctx.new_page()
    page.goto(f"{base}/host/scenario/default/balance/?games=20")
    expect(page.locator("h1").first).to_be_visible(timeout=60_000)
    shoot(page, "balance")
    page.goto(f"{base}/admin/game/scenarioconfig/")
    expect(page.locator("#result_list")).to_contain_text("default")
    page.goto(f"{base}/admin/game/scenarioconfig/1/change/")
    expect(page.locator(".messagelist")).to_contain_text("shared scenario")
    shoot(page, "admin-shared-scenario")
    page.close()
    host.locator("#anonymise input[name=confirm]").check()
    host.get_by_role("button", name="Anonymise…").click()
    expect(host.locator(".notice-ok")).to_contain_text("Anonymised")
    expect(host.locator("#lobby-list")).not_to_contain_text("Alina")
    expect(host.locator("#lobby-list")).to_contain_text("Table 1")
    host.goto(f"{base}/host/")
    expect(host.locator("table.sessions")).to_contain_text("anonymised")
    shoot(host, "index")

    # --- last, as it locks this address out: the admin login lockout ------------------------------
    lock_ctx = contexts()
    page = lock_ctx.new_page()
    for _ in range(5):
        sign_in(page, base, "owner13", "wrong-password")
    expect(page.locator("body")).to_contain_text("Too many failed sign-ins")
    shoot(page, "login-lockout")
