"""A whole game by keyboard alone with a visible focus, and what a screen reader hears.

The keyboard test joins, builds and sends a proposal, chats, switches chat channels and accepts
the proposal that concludes the agreement with Tab, Shift+Tab, Enter, Space, the arrow keys and
typing only (the other seats play from their own browser contexts through their sockets); at
every stop of the Tab key the focused element must show a ring (an outline or a box-shadow) that
it does not have unfocused.

The announcer test records every text that lands in the player page's live region (#announcer)
during one proposal round, a burst of chat, a phase change and the clock's last minute, and
checks it word for word: one announcement per moment, bursts coalesced, nothing of one's own read
out again, the clock not every second. The texts are written to artifacts/a11y/announcer.json.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ROOT, join, send_acked, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

DESK = {"width": 1280, "height": 800}
T = 15_000
OPENER = {
    "territory": "donbas_exchange",
    "nato": "constitutional_neutrality",
    "guarantees": "assurances_army_cap",
}
COUNTER = {"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "bilateral_arms_training"}
OPENER_TEXT = (
    "Donbas exchange: Ukraine leaves the rest of Donetsk; Permanent neutrality in Ukraine's constitution; "
    "US-led written assurances; army capped at 600,000"
)
COUNTER_TEXT = (
    "Freeze with a demilitarised zone and monitors; No NATO invitation for about 20 years; "
    "Long-term arms, money and training; no troops, no cap"
)


# Every text that lands in the announcer, in order.
RECORD_ANNOUNCER = """
window.__said = [];
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("announcer");
  if (!el) return;
  new MutationObserver(() => {
    const t = el.textContent.trim();
    if (t) window.__said.push(t);
  }).observe(el, { childList: true, characterData: true, subtree: true });
});
"""

# At every focus change: does the element reached by the keyboard show a ring, and did the one it
# left look different while it had the focus?
WATCH_FOCUS = """
window.__focus = { stops: [], problems: [] };
(() => {
  const ring = (cs) => [cs.outlineStyle, cs.outlineWidth, cs.outlineColor, cs.boxShadow].join(" | ");
  const name = (el) => {
    const label = (el.getAttribute("aria-label") || el.innerText || el.value || el.getAttribute("placeholder") || "").trim().replace(/\\s+/g, " ").slice(0, 60);
    return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${label ? ` "${label}"` : ""}`;
  };
  let prev = null;
  document.addEventListener("focusin", (e) => {
    const el = e.target;
    if (prev && prev.el !== el && prev.el.isConnected && ring(getComputedStyle(prev.el)) === prev.ring) {
      window.__focus.problems.push(`${prev.name}: the same outline and shadow with and without the focus (${prev.ring})`);
    }
    prev = null;
    if (el.tabIndex < 0) return; // a heading the script focuses (tabindex=-1), not a Tab stop
    const cs = getComputedStyle(el);
    const shown = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== "none";
    if (!shown) window.__focus.problems.push(`${name(el)}: no outline or shadow when focused`);
    prev = { el, ring: ring(cs), name: name(el) };
    window.__focus.stops.push(name(el));
  }, true);
})();
"""


@pytest.fixture
def room(browser, server):
    """An instructor's dashboard page (for its host socket) and a maker of student contexts."""
    made = []
    errors: list[str] = []

    def context(**kw):
        ctx = browser.new_context(viewport=DESK, **kw)
        ctx.set_default_timeout(T)
        ctx.on("page", lambda p: p.on("pageerror", lambda e: errors.append(f"{p.url}: {e}")))
        made.append(ctx)
        return ctx

    staff = context()
    host = staff.new_page()
    sign_in(host, server.base)
    code = json.loads(server.manage("create_session", "--tables", "1", "--json").strip().splitlines()[-1])[
        "code"
    ]
    host.goto(f"{server.base}/host/{code}/")
    yield host, code, context
    for ctx in made:
        ctx.close()
    assert not errors, "uncaught errors in the page:\n" + "\n".join(errors)


def focused(page: Page, selector: str) -> bool:
    return page.evaluate(
        "(s) => Boolean(document.activeElement && document.activeElement.matches(s))", selector
    )


def tab_to(page: Page, selector: str, path: list[str], *, back: bool = False, limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until the focus is on the element; the stops go into the path."""
    key = "Shift+Tab" if back else "Tab"
    for _ in range(limit):
        if focused(page, selector):
            path.append(f"{key} → {selector}")
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} is not reachable with {key} ({limit} presses)")


def choose(page: Page, select: str, value: str, path: list[str]) -> None:
    """A closed <select> with the focus: the arrow keys move through its options."""
    tab_to(page, select, path)
    for key in ("ArrowDown", "ArrowUp"):
        for _ in range(12):
            if page.eval_on_selector(select, "(s) => s.value") == value:
                path.append(f"arrows → {value}")
                return
            page.keyboard.press(key)
    raise AssertionError(f"{value} is not an option the arrow keys reach in {select}")


def test_a_whole_game_by_keyboard_with_a_visible_focus(room, server):
    host, code, context = room
    base = server.base
    path: list[str] = []
    ctx = context()
    ctx.add_init_script(WATCH_FOCUS)
    page = ctx.new_page()

    # --- the join page: the code box has the focus; type, Tab, type, Tab to the button, Enter --
    page.goto(f"{base}/")
    expect(page.locator("#id_code")).to_be_focused()
    page.keyboard.type(code.lower())
    tab_to(page, "#id_name", path)
    page.keyboard.type("Kim Keyboard")
    tab_to(page, "button[type=submit]", path)
    join_focus = page.evaluate("window.__focus")  # this page's stops, before it is left
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/play/[A-Z0-9]+/$"))
    expect(page.locator("#you-badge")).to_have_text("United States")
    others = {
        n: join(context(), base, code, n) for n in ("Rustam", "Ulyana", "Eva")
    }  # russia, ukraine, europe
    ru, ua = others["Rustam"], others["Ulyana"]

    # --- the instructor starts; the student dismisses the notice with Space ---------------------
    send_acked(host, f"/ws/host/{code}/", {"type": "session.start"})
    expect(page.locator("#game")).to_be_visible(timeout=T)
    tab_to(page, ".notice-phase .notice-close", path)
    page.keyboard.press("Space")
    expect(page.locator(".notice-phase")).to_have_count(0)

    # --- a proposal built with the arrow keys and sent with Enter ---------------------------------
    for issue, option in COUNTER.items():
        choose(page, f"#pick-{issue}", option, path)
    expect(page.locator("#m-hold")).to_have_text(re.compile(r"^\d+%$"))
    tab_to(page, "#note", path)
    page.keyboard.type("A line that holds.")
    tab_to(page, "#btn-propose", path)
    page.keyboard.press("Enter")
    expect(page.locator("#builder-status")).to_have_text("Proposed. It is on the table now.")
    expect(page.locator("#proposal-1")).to_be_visible()

    # --- the chat: type and Enter; the arrow keys move between the channels --------------------
    tab_to(page, "#chat-input", path)
    page.keyboard.type("Our proposal is on the table.")
    page.keyboard.press("Enter")
    expect(ru.locator("#chat-log-table")).to_contain_text("Our proposal is on the table.")
    tab_to(page, "#chat-tab-table", path, back=True)
    page.keyboard.press("ArrowRight")
    expect(page.locator("#chat-tab-russia_us")).to_be_focused()
    expect(page.locator("#chat-tab-russia_us")).to_have_attribute("aria-selected", "true")
    path.append("ArrowRight → the private channel with Russia")
    tab_to(page, "#chat-input", path)
    page.keyboard.type("Between us: can you live with a freeze?")
    tab_to(page, "#chat-send", path)
    page.keyboard.press("Enter")
    expect(ru.locator("#chat-log-russia_us")).to_contain_text("Between us: can you live with a freeze?")

    # --- the leaders' meeting: Russia proposes, Ukraine accepts, the student concludes ----------
    send_acked(host, f"/ws/host/{code}/", {"type": "phase.advance"}, {"type": "phase.advance"})
    expect(page.locator("#agreement-status")).to_have_text("Agreement possible now", timeout=T)
    send_acked(ru, f"/ws/play/{code}/", {"type": "proposal.make", "terms": OPENER})
    send_acked(ua, f"/ws/play/{code}/", {"type": "proposal.answer", "proposal": 2, "answer": "accept"})
    expect(page.locator("#proposal-2")).to_contain_text("Your acceptance concludes the agreement now.")
    page.locator("body").press("Escape")  # no mouse: the focus stays where the keyboard left it
    tab_to(page, "#proposal-2 [data-action=accept]", path, back=True)
    expect(page.locator("#proposal-2 [data-action=accept]")).to_have_text("Accept #2 and conclude")
    page.keyboard.press("Enter")

    # --- the outcome: the focus is on its headline; Tab moves on through it ------------------
    expect(page.locator("#outcome-title")).to_contain_text("Agreement signed", timeout=T)
    expect(page.locator("#outcome-title")).to_be_focused()
    path.append("the outcome's headline has the focus")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement !== document.body"), "Tab leads on from the outcome"

    problems = join_focus["problems"] + page.evaluate("window.__focus.problems")
    stops = join_focus["stops"] + page.evaluate("window.__focus.stops")
    (ROOT / "artifacts" / "a11y").mkdir(parents=True, exist_ok=True)
    (ROOT / "artifacts" / "a11y" / "keyboard.json").write_text(
        json.dumps({"path": path, "stops": stops}, indent=1)
    )
    assert len(stops) >= 20, stops
    assert not problems, "focus not visible:\n" + "\n".join(problems)


def test_what_a_screen_reader_hears_in_one_proposal_round(room, server):
    host, code, context = room
    base = server.base
    ctx = context()
    ctx.add_init_script(RECORD_ANNOUNCER)
    us = join(ctx, base, code, "Sam Reader")
    ru, ua, eu = (join(context(), base, code, n) for n in ("Rustam", "Ulyana", "Eva"))
    play, hosting = f"/ws/play/{code}/", f"/ws/host/{code}/"
    said = lambda: us.evaluate("window.__said")  # noqa: E731

    def hears(*texts: str | re.Pattern) -> None:
        """The next announcements are exactly these, in this order."""
        start = len(heard)
        for _ in range(100):
            now = said()
            if len(now) >= start + len(texts):
                break
            us.wait_for_timeout(100)
        now = said()
        got = now[start : start + len(texts)]
        for want, text in zip(texts, got, strict=False):
            ok = want.fullmatch(text) if isinstance(want, re.Pattern) else want == text
            assert ok, f"heard {text!r}, expected {want!r}; all: {now}"
        assert len(got) == len(texts), f"heard {got}, expected {texts}; all: {now}"
        heard.extend(got)

    heard: list[str] = []
    # In the lobby, each student who takes a seat is announced (a burst of them together).
    expect(us.locator("#lobby")).to_be_visible()
    us.wait_for_function("() => window.__said.some((t) => t.includes('Eva plays Europe.'))")
    heard.extend(said())
    assert " ".join(heard) == "Rustam plays Russia. Ulyana plays Ukraine. Eva plays Europe.", heard
    send_acked(host, hosting, {"type": "session.start"})
    expect(us.locator("#game")).to_be_visible(timeout=T)
    hears(
        re.compile(
            r"Now: Expert groups\. (14|15) minutes( \d+ seconds?)? on the clock\. Nothing is binding yet\."
        )
    )

    # One proposal round: a proposal, two answers at once, a counter, the student's own answer.
    send_acked(ru, play, {"type": "proposal.make", "terms": OPENER, "note": "A realistic line."})
    hears(f"New proposal #1 by Russia: {OPENER_TEXT}.")
    send_acked(ua, play, {"type": "proposal.answer", "proposal": 1, "answer": "reject"})
    send_acked(eu, play, {"type": "proposal.answer", "proposal": 1, "answer": "accept"})
    hears("Ukraine rejects proposal #1. Europe accepts proposal #1.")
    send_acked(ua, play, {"type": "proposal.make", "terms": COUNTER, "replaces": 1})
    hears(f"New proposal #2 by Ukraine, countering #1 by Russia: {COUNTER_TEXT}.")
    us.locator("#proposal-2").get_by_role("button", name="Accept #2").click()
    hears("You accept proposal #2.")

    # Chat: the student's own line is not read back (the status line confirms it once); a burst
    # from the table is summed up; a private line is read in full.
    us.locator("#chat-input").fill("We can sign #2.")
    us.locator("#chat-send").click()
    expect(us.locator("#chat-status")).to_have_text("Sent to the table.")
    send_acked(
        ru, play, *({"type": "chat.send", "channel": "table", "text": f"Point {i}."} for i in range(1, 5))
    )
    hears("4 new chat messages: 4 to the table from Russia. Open the chat to read them.")
    send_acked(ru, play, {"type": "chat.send", "channel": "russia+us", "text": "Between us: #2 is fine."})
    hears("Russia (Rustam), to you privately: Between us: #2 is fine.")

    # News, then a phase change, then the clock's last minute: once, not every second.
    send_acked(host, hosting, {"type": "news.inject", "news": "european_pledge"})
    hears(re.compile(r"Breaking news: European coalition pledges troops.*"))
    send_acked(host, hosting, {"type": "phase.advance"})
    hears(
        re.compile(
            r"Now: Senior officials\. (14|15) minutes( \d+ seconds?)? on the clock\. Nothing is binding yet\."
        )
    )
    send_acked(host, hosting, {"type": "phase.extend", "seconds": -(900 - 64), "confirm": True})
    hears(re.compile(r"The clock changed: 1 minute [1-4] seconds? left in Senior officials\."))
    hears("One minute left in Senior officials.")  # as the clock crosses into its last minute
    us.wait_for_timeout(3000)
    assert said() == heard, f"nothing more while the last minute runs down: {said()[len(heard) :]}"

    # A reload re-renders everything from a snapshot and announces nothing of it.
    us.reload()
    expect(us.locator("#proposal-2")).to_be_visible()
    us.wait_for_timeout(1500)
    again = said()
    assert again == [] or all(t.startswith("One minute left") for t in again), again

    # The durability curve beside the builder says its data in words.
    for issue, option in COUNTER.items():
        us.locator(f"#pick-{issue}").select_option(option)
    desc = us.locator("#m-curve svg desc")
    expect(desc).to_have_text(re.compile(r"Year by year: year 1 \d+%, .*year 10 \d+%\."))
    (ROOT / "artifacts" / "a11y").mkdir(parents=True, exist_ok=True)
    (ROOT / "artifacts" / "a11y" / "announcer.json").write_text(json.dumps(heard, indent=1))
