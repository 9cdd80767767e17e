"""The game in the reader's language, in a real browser (docs/translations.md).

A student whose browser asks for Ukrainian plays with three bots and reads the table, the
scripts' live texts and the outcome in Ukrainian; the menu switches the page to German and the
choice survives a reload. Meanwhile the instructor reads the same session's debrief in German.
Screenshots (desktop and phone) go to artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, GameServer, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

CREATE_USER = """
from django.contrib.auth import get_user_model
U = get_user_model()
u, _ = U.objects.get_or_create(username="instructor-test")
u.is_staff = u.is_superuser = True
u.set_password("a-long-test-password-91")
u.save()
"""


@pytest.fixture
def bot_server(tmp_path_factory):
    srv = GameServer(tmp_path_factory.mktemp("game-var-interface-languages"))
    srv.env.update({"GAME_BOTS": "1", "GAME_BOT_DELAY_SECONDS": "0.5"})
    srv.manage("migrate", "--noinput", "-v", "0")
    srv.manage("load_default_scenario")
    srv.manage("shell", "-c", CREATE_USER)
    srv.start()
    yield srv
    srv.stop()


def choose_language(page, name: str) -> None:
    page.locator(".lang-summary").first.click()
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state()


def test_a_student_plays_in_ukrainian_and_switches_to_german_while_the_instructor_reads_german(
    bot_server, browser, shots
):
    code = bot_server.create_session()["code"]
    student = browser.new_context(viewport=DESKTOP, locale="uk-UA")
    errors: list[str] = []
    student.on("page", lambda p: p.on("pageerror", lambda e: errors.append(str(e))))
    page = student.new_page()
    page.goto(f"{bot_server.base}/?code={code}")
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.get_by_role("heading", name="Приєднатися до переговорів")).to_be_visible()
    page.get_by_label("Ваше ім'я").fill("Оксана Шевченко")
    page.get_by_role("button", name="Сісти за стіл").click()
    page.wait_for_url(re.compile(r"/play/[A-Z0-9]+/$"))

    bot_server.service(code, "start_session")
    bot_server.manage(
        "shell",
        "-c",
        "from game import bots; from game.models import GameSession; "
        f"print(bots.fill_empty_seats(GameSession.objects.get(code={code!r}).pk))",
    )
    # The scripts' words come from the Ukrainian catalogue: the lobby, the table, the proposals.
    go = page.get_by_role("button", name="Я прочитав вказівки: до столу")
    if go.is_visible():
        go.click()
    expect(page.locator("[id^=proposal-]").first).to_be_visible(timeout=60_000)
    expect(page.get_by_role("heading", name="На столі")).to_be_visible()  # noqa: RUF001 (Ukrainian)
    expect(page.get_by_role("button", name="Запропонувати")).to_be_visible()
    # What a screen reader hears (the bots' seats, proposals and answers) is Ukrainian too.
    expect(page.locator("#announcer")).to_have_text(
        re.compile(r"(грає за|Нова пропозиція|пропозицію №|Угоди досягнуто|Зараз:)"), timeout=60_000
    )
    expect(page.locator("#announcer")).not_to_have_text(re.compile(r"\b(plays|proposal|Now:)\b"))
    page.screenshot(path=str(shots / "i18n-play-uk-desktop.png"), full_page=True)
    phone = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="uk-UA"
    )
    phone.add_cookies(student.cookies())
    ppage = phone.new_page()
    ppage.goto(page.url)
    expect(ppage.locator("html")).to_have_attribute("lang", "uk")
    expect(ppage.locator("[id^=proposal-]").first).to_be_attached(timeout=30_000)
    ppage.screenshot(path=str(shots / "i18n-play-uk-phone.png"))
    phone.close()

    # The menu switches this browser to German, and the choice is remembered.
    choose_language(page, "Deutsch")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Auf dem Tisch")).to_be_visible(timeout=30_000)
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("button", name="Vorschlagen")).to_be_visible(timeout=30_000)
    page.screenshot(path=str(shots / "i18n-play-de-desktop.png"), full_page=True)
    phone = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="uk-UA"
    )
    phone.add_cookies(student.cookies())
    ppage = phone.new_page()
    ppage.goto(page.url)
    expect(ppage.locator("html")).to_have_attribute("lang", "de")
    expect(ppage.locator("[id^=proposal-]").first).to_be_attached(timeout=30_000)
    ppage.screenshot(path=str(shots / "i18n-play-de-phone.png"))
    phone.close()

    # The instructor reads the same session in German while the student's browser stays German
    # too; then the debrief, in German and in Ukrainian, on a desktop and a phone.
    bot_server.service(code, "end_session")
    expect(page.locator("#outcome-title")).to_be_visible(timeout=60_000)
    page.screenshot(path=str(shots / "i18n-outcome-de-desktop.png"), full_page=True)
    for lang, locale, heading, data_table, caption in (
        ("de", "de-DE", "Wer hat gewonnen?", "Die Daten als Tabelle", "Jede Partei an jedem Tisch"),
        ("uk", "uk-UA", "Хто переміг?", "Дані у вигляді таблиці", "Кожна сторона за кожним столом"),  # noqa: RUF001 (Ukrainian)
    ):
        for label, options in (
            ("desktop", {"viewport": DESKTOP}),
            ("phone", {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}),
        ):
            host = browser.new_context(locale=locale, **options)
            hpage = host.new_page()
            sign_in(hpage, bot_server.base)
            hpage.goto(f"{bot_server.base}/host/{code}/debrief/")
            expect(hpage.locator("html")).to_have_attribute("lang", lang)
            expect(hpage.get_by_role("heading", name=heading)).to_be_visible()
            # The charts' data tables: their summary and caption in the reader's language.
            summary = hpage.locator("details.chart-data summary").first
            expect(summary).to_contain_text(data_table)
            summary.click()
            expect(hpage.locator("details.chart-data caption").first).to_contain_text(caption)
            hpage.screenshot(path=str(shots / f"i18n-debrief-{lang}-{label}.png"), full_page=True)
            host.close()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    student.close()
    assert not errors, errors
