"""A whole game of an instructor's own scenario in Chromium: the shipped Karabakh scenario (three
roles, one a mediator; a no deal that is a ceasefire line of its own), its role names stretched
to 40 characters as an author may write them. A student plays Armenia with two bots to an
outcome; the instructor follows on the dashboard and opens the debrief. Every page speaks the
scenario's words (none of the default scenario's), a mediator is never crowned, and no page
overflows a phone's width with the long names. Screenshots: the student's page, the outcome and
the debrief, desktop and phone."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CREATE_USER, GameServer, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

LONG_NAMES = {
    "armenia": "Republic of Armenia: President Sargsyan",
    "azerbaijan": "Republic of Azerbaijan: President Aliyev",
    "mediator": "Russia, co-chair of the OSCE Minsk Group",
}
DEFAULT_ONLY = (
    "Alaska",
    "Ukraine",
    "Europe",
    "Zelensky",
    "war goes on",
    "war went on",
    "Tactically",
    "four students",
)

RENAME = "from game.models import ScenarioRole; " + "; ".join(
    f"ScenarioRole.objects.filter(scenario__slug='karabakh', key={k!r}).update(name={v!r})"
    for k, v in LONG_NAMES.items()
)


def leaks(text: str) -> list[str]:
    return [w for w in DEFAULT_ONLY if re.search(rf"\b{re.escape(w)}\b", text, re.IGNORECASE)]


def no_overflow(page) -> None:
    """Nothing wider than the viewport: no sideways scrolling on a phone."""
    over = page.evaluate(
        """() => {
          const w = document.documentElement.clientWidth;
          const bad = [];
          for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (r.width && r.right > w + 1 && getComputedStyle(el).position !== 'fixed'
                && !el.closest('.table-scroll, [role=region], .sr-only, .visually-hidden, svg')) {
              bad.push(`${el.tagName.toLowerCase()}.${el.className} in ${(el.closest('table,section')||{}).className}: ${Math.round(r.right)} > ${w} ${el.textContent.slice(0,30)}`);
            }
          }
          return {scroll: document.documentElement.scrollWidth, width: w, bad: bad.slice(0, 5)};
        }"""
    )
    assert over["scroll"] <= over["width"] + 1 and not over["bad"], over


@pytest.fixture
def karabakh_server(tmp_path_factory):
    srv = GameServer(tmp_path_factory.mktemp("game-var-karabakh"))
    srv.env.update({"GAME_BOTS": "1", "GAME_BOT_DELAY_SECONDS": "0.5"})
    srv.manage("migrate", "--noinput", "-v", "0")
    srv.manage("load_default_scenario")
    srv.manage("shell", "-c", CREATE_USER)
    srv.manage("shell", "-c", RENAME)
    srv.start()
    yield srv
    srv.stop()


def test_a_karabakh_game_with_bots_speaks_its_own_words_from_join_to_debrief(
    karabakh_server, contexts, shots
):
    srv = karabakh_server
    out = srv.manage("create_session", "--scenario", "karabakh", "--tables", "1", "--json")
    code = json.loads(out.strip().splitlines()[-1])["code"]

    student_ctx = contexts()
    page = student_ctx.new_page()
    page.goto(f"{srv.base}/?code={code}")
    expect(page.locator(".join-lede")).to_contain_text("Karabakh: the Basic Principles (2011)")
    assert not leaks(page.inner_text("body"))
    page.get_by_label("Your name").fill("Anahit")
    page.get_by_role("button", name="Join the table").click()
    page.wait_for_url(re.compile(r"/play/[A-Z0-9]+/$"))
    expect(page.locator("#you-badge")).to_have_text(LONG_NAMES["armenia"])
    expect(page.get_by_role("region", name=f"You play {LONG_NAMES['armenia']}")).to_be_visible()
    no_overflow(page)

    # The instructor fills the other seats with bots and starts from the dashboard.
    host_ctx = contexts()
    host = host_ctx.new_page()
    sign_in(host, srv.base)
    host.goto(f"{srv.base}/host/{code}/")
    host.get_by_role("button", name="Fill empty seats with bots").click()
    expect(host.locator(".seat").filter(has_text=LONG_NAMES["mediator"]).first).to_be_visible()
    # Start once the dashboard shows both bots seated: pressed before that news reaches it, Start
    # asks what to do with the empty seats (a dialog this test does not answer), and the session
    # stayed in the lobby on a loaded machine.
    expect(host.locator(".seat .mark-bot")).to_have_count(2, timeout=30_000)
    host.get_by_role("button", name=re.compile("Start the negotiation")).click()
    confirm = host.get_by_role("button", name=re.compile(r"^Start"))
    if confirm.count() > 1:
        confirm.last.click()
    # The start goes through the dashboard's socket: the student's page says when it has begun.
    expect(page.get_by_text("The negotiation has started")).to_be_visible(timeout=30_000)
    expect(page.locator("[id^=proposal-]").first).to_be_visible(timeout=60_000)
    page.screenshot(path=str(shots / "karabakh-student-desktop.png"), full_page=False)
    assert not leaks(page.inner_text("body")), leaks(page.inner_text("body"))
    host.screenshot(path=str(shots / "karabakh-dashboard-desktop.png"), full_page=True)
    assert not leaks(host.inner_text("body")), leaks(host.inner_text("body"))

    # On to the presidents' summit, where a deal can be concluded; the student accepts what is
    # put to Armenia, as a cooperative student would.
    srv.service(code, "advance_phase")
    srv.service(code, "advance_phase")
    title = page.locator("#outcome-title")
    for _ in range(60):
        if title.is_visible():
            break
        accept = page.get_by_role("button", name=re.compile(r"^Accept"))
        if accept.count() and accept.first.is_enabled():
            accept.first.click()
        page.wait_for_timeout(2_000)
    else:
        srv.end_session(code)
    expect(title).to_be_visible(timeout=15_000)
    expect(title).to_contain_text(re.compile(r"Agreement signed|No agreement: the 1994 ceasefire line"))
    text = page.inner_text("body")
    assert not leaks(text), leaks(text)
    expect(page.locator("#outcome-others")).to_contain_text("A frozen conflict is not a peace")
    page.screenshot(path=str(shots / "karabakh-outcome-desktop.png"), full_page=True)

    # The same seat on a phone: the outcome fits its width with the long names.
    phone = contexts(phone=True)
    phone.add_cookies(student_ctx.cookies())
    pp = phone.new_page()
    pp.goto(f"{srv.base}/play/{code}/")
    expect(pp.locator("#outcome-title")).to_be_visible()
    no_overflow(pp)
    pp.screenshot(path=str(shots / "karabakh-outcome-phone.png"), full_page=True)

    # The debrief: the scenario's moral, no crowned mediator, no default words; desktop and phone.
    srv.end_session(code)
    host.goto(f"{srv.base}/host/{code}/debrief/")
    expect(host.locator("#s-lesson blockquote")).to_contain_text("A frozen conflict is not a peace")
    text = host.inner_text("body")
    assert not leaks(text), leaks(text)
    winner = host.locator(".story-winner")
    if winner.count():
        expect(winner.first).not_to_contain_text(LONG_NAMES["mediator"])
    host.screenshot(path=str(shots / "karabakh-debrief-desktop.png"), full_page=True)
    hp = contexts(phone=True)
    hp.add_cookies(host_ctx.cookies())
    dp = hp.new_page()
    dp.goto(f"{srv.base}/host/{code}/debrief/")
    expect(dp.locator("#s-lesson blockquote")).to_contain_text("A frozen conflict")
    dp.screenshot(path=str(shots / "karabakh-debrief-phone.png"), full_page=True)
    no_overflow(dp)
    dp.goto(f"{srv.base}/host/{code}/")
    dp.screenshot(path=str(shots / "karabakh-dashboard-phone.png"), full_page=True)
    no_overflow(dp)
