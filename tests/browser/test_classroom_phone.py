"""A class on the room's network in Chromium: a phone reaches the classroom server (debug off,
plain HTTP) by a host name mapped to 127.0.0.1 (--host-resolver-rules), lands on its brief,
proposes, reloads and keeps its seat; the instructor logs in with the one-time link and the
dashboard shows a join URL phones can open.

The server is the classroom configuration with no settings of ours: a fresh var directory, its
generated key, collected static files, allowed hosts computed from this machine.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from negotiation import netinfo
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, PY, ROOT
from tests.browser.test_player_flow import join, pick
from tests.infra import Worker

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

DESKTOP = {"width": 1280, "height": 800}
MADE_UP = "lecture-hall-laptop.test"


def phone_name() -> tuple[str, dict[str, str]]:
    """The name a phone uses for this machine, and what the server needs to answer to it: the
    machine's own name on the local network (name.local) needs nothing; a machine without a
    usable name gets a made-up one through DJANGO_ALLOWED_HOSTS."""
    names = [n for n in netinfo.host_names() if re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)*", n)]
    if names:
        return names[-1], {}
    return MADE_UP, {"DJANGO_ALLOWED_HOSTS": MADE_UP}


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    name, extra = phone_name()
    var = tmp_path_factory.mktemp("classroom-var")
    env = {
        k: v
        for k, v in __import__("os").environ.items()
        if not k.startswith(("DJANGO_", "GAME_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "negotiation.settings",
            "GAME_VAR_DIR": str(var),
            "GAME_BOTS": "0",
            # host actions run in another process; sockets pick them up from the log each second
            "GAME_SYNC_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )

    def manage(*args: str) -> str:
        res = subprocess.run(
            [str(PY), "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert res.returncode == 0, res.stdout + res.stderr
        return res.stdout

    manage("migrate", "--noinput", "-v", "0")
    manage("load_default_scenario")
    manage("collectstatic", "--noinput", "-v", "0")
    w = Worker(env).start()
    w.name, w.manage = name, manage
    yield w
    w.stop()


@pytest.fixture(scope="module")
def chromium(classroom):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {classroom.name} 127.0.0.1"],
        )
        yield b
        b.close()


def test_a_phone_joins_by_name_reads_its_brief_first_proposes_and_keeps_its_seat(
    classroom, chromium, shots: Path
):
    srv = classroom
    code = srv.manage("create_session", "--tables", "1").strip().splitlines()[-1]
    room = f"http://{srv.name}:{srv.port}"
    errors: list[str] = []
    ctx = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    ctx.set_default_timeout(15000)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))

    # --- join through the room's name, on plain HTTP ------------------------------------------------
    join(page, room, code, "Olena")
    expect(page.locator("#conn-text")).to_have_text("Connected")
    expect(page.locator("#you-badge")).not_to_have_text("Your role")
    role = page.locator("#you-badge").inner_text()
    assert role in ("United States", "Russia", "Ukraine", "Europe")
    # the lobby: who you are, then your brief, on the first screen
    expect(page.locator("#lobby-role")).to_have_text(role)
    expect(page.locator("#lobby-brief")).not_to_be_empty()
    expect(page.locator("#lobby-brief")).to_be_in_viewport()
    page.screenshot(path=str(shots / "classroom-phone-lobby.png"))
    [sid] = [c for c in ctx.cookies() if c["name"] == "sessionid"]
    assert sid["secure"] is False and sid["domain"] == srv.name

    # --- the negotiation starts: the Brief tab is selected until it has been read once --------------
    srv.manage(
        "shell",
        "-c",
        f"from game.services import clock; from game.models import GameSession as G; clock.start_session(G.objects.get(code={code!r}).pk)",
    )
    expect(page.locator("#tabbar")).to_be_visible(timeout=20000)
    expect(page.locator("#tab-brief")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#brief-body")).to_be_visible()
    expect(page.locator("#brief-body")).to_be_in_viewport()
    expect(page.locator("#pickers")).to_be_hidden()
    # role, phase and clock stay in view
    expect(page.locator("#you-badge")).to_have_text(role)
    expect(page.locator("#phase-name")).to_have_text("Expert groups")
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^\d\d:\d\d left$"))
    for el in ("#you-badge", "#phase-name", "#countdown"):
        expect(page.locator(el)).to_be_in_viewport()
    page.screenshot(path=str(shots / "classroom-phone-first-screen.png"))
    page.mouse.wheel(0, 600)
    for el in ("#you-badge", "#phase-name", "#countdown"):
        expect(page.locator(el)).to_be_in_viewport()  # the top bar stays while reading
    page.reload()
    expect(page.locator("#tab-brief")).to_have_attribute("aria-selected", "true", timeout=20000)

    # --- reading done, the student proposes ---------------------------------------------------------
    tabbar = page.locator("#tabbar")
    tabbar.get_by_role("tab", name=re.compile("Propose")).tap()
    expect(page.locator("#pickers")).to_be_visible()
    pick(page, "territory", "freeze_dmz_monitors")
    pick(page, "nato", "moratorium")
    pick(page, "guarantees", "bilateral_arms_training")
    expect(page.locator("#m-hold")).to_have_text(re.compile(r"^\d+%$"))
    page.get_by_role("button", name="Propose", exact=True).scroll_into_view_if_needed()
    page.get_by_role("button", name="Propose", exact=True).tap()
    expect(page.locator("#builder-status")).to_contain_text("Proposed")
    tabbar.get_by_role("tab", name=re.compile("Proposals")).tap()
    expect(page.locator("#proposal-list > article")).to_have_count(1)

    # --- a reload: the same seat comes back (the cookie was kept on plain HTTP) ---------------------
    page.reload()
    expect(page.locator("#conn-text")).to_have_text("Connected", timeout=20000)
    expect(page.locator("#you-name")).to_have_text("Olena")
    expect(page.locator("#you-badge")).to_have_text(role)
    expect(page.locator("#tab-brief")).to_have_attribute("aria-selected", "false")
    expect(page.locator("#proposal-list > article")).to_have_count(1)
    assert page.url == f"{room}/play/{code}/"

    # a laptop student joining the running session meets the role and the brief first, then goes
    # to the table with the brief open beside the builder
    desk = chromium.new_context(viewport=DESKTOP)
    student = desk.new_page()
    student.on("pageerror", lambda e: errors.append(str(e)))
    join(student, room, code, "Marek")
    expect(student.locator("#lobby-title")).to_contain_text("You play", timeout=20000)
    expect(student.locator("#lobby-brief")).to_be_in_viewport()
    student.get_by_role("button", name="I have read my brief: go to the table").click()
    expect(student.locator("#brief-body")).to_be_visible()
    expect(student.locator("#brief-body")).to_be_in_viewport()
    student.screenshot(path=str(shots / "classroom-student-first-screen-desktop.png"))
    desk.close()
    ctx.close()
    assert not errors, errors


def test_the_instructor_logs_in_with_the_link_and_the_dashboard_shows_a_reachable_join_url(
    classroom, chromium, shots: Path
):
    srv = classroom
    local = f"http://127.0.0.1:{srv.port}"
    link = srv.manage("instructor_link", "--base", local).strip()
    code = (
        srv.manage("create_session", "--tables", "2", "--title", "IR 201, Tuesday").strip().splitlines()[-1]
    )
    ctx = chromium.new_context(viewport=DESKTOP)
    ctx.set_default_timeout(15000)
    page = ctx.new_page()
    page.goto(link)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Choose a password for next time")).to_be_visible()
    page.screenshot(path=str(shots / "classroom-set-password-desktop.png"))
    page.get_by_role("link", name="Later: go to the sessions").click()
    expect(page.get_by_role("heading", name="Your sessions")).to_be_visible()

    page.goto(f"{local}/host/{code}/")
    addrs = netinfo.join_addresses()
    join_url = page.locator("#join-url")
    if addrs:
        expected = f"http://{addrs[0].host}:{srv.port}/?code={code}"
        expect(join_url).to_have_text(expected)
        expect(page.locator("#join-host")).to_have_text(f"{addrs[0].host}:{srv.port}")
    else:
        expect(page.get_by_text("This computer has no network address")).to_be_visible()
    expect(page.locator(".hero-qr svg")).to_be_visible()
    page.screenshot(path=str(shots / "classroom-dashboard-desktop.png"))
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(shots / "classroom-dashboard-phone.png"))
    page.set_viewport_size(DESKTOP)

    # opened by the room's name, the dashboard shows that name: it is what the class can reach
    page.goto(f"http://{srv.name}:{srv.port}/host/{code}/")
    if "login" in page.url:  # the login cookie belongs to 127.0.0.1: log in again by name
        link = srv.manage("instructor_link", "--base", f"http://{srv.name}:{srv.port}").strip()
        page.goto(link)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"http://{srv.name}:{srv.port}/host/{code}/")
    expect(join_url).to_have_text(f"http://{srv.name}:{srv.port}/?code={code}")

    ctx.close()
