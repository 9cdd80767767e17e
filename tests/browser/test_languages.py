# ruff: noqa: RUF001 (Ukrainian names and texts: Cyrillic letters are meant)
"""Four students at one table in two languages, in a real browser: each reads the scenario (brief,
options, phases, news, the outcome's story) in their own, while the proposals on the table and
the scores are the same for all.

Ukrainian comes from the browser's language (Accept-Language), German from the language cookie
that the language menu sets; the interface's own words follow the same language. Screenshots go to artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def seated(contexts, server, code: str, name: str, *, phone: bool, lang: str) -> Page:
    if lang == "uk":
        ctx = contexts(phone=phone, locale="uk-UA")
    else:
        ctx = contexts(phone=phone)
        ctx.add_cookies([{"name": "django_language", "value": lang, "url": server.base}])
    page = ctx.new_page()
    # The join page speaks the browser's language too: find its fields by id, not by English label.
    page.goto(f"{server.base}/")
    page.fill("#id_code", code)
    page.fill("#id_name", name)
    page.click("form.join-form button[type=submit]")
    page.wait_for_url(re.compile(r"/play/[A-Z0-9]+/$"))
    return page


def test_students_at_one_table_read_the_scenario_in_their_own_languages(server, contexts, shots):
    s = server.create_session()
    code = s["code"]
    intro = contexts(locale="uk-UA").new_page()
    intro.goto(f"{server.base}/?code={code}")
    expect(intro.get_by_text("Після Аляски: переговори про рамку з трьох пунктів")).to_be_visible()

    pages = {
        ("uk", "desktop"): seated(contexts, server, code, "Оксана", phone=False, lang="uk"),
        ("de", "desktop"): seated(contexts, server, code, "Jonas", phone=False, lang="de"),
        ("uk", "phone"): seated(contexts, server, code, "Тарас", phone=True, lang="uk"),
        ("de", "phone"): seated(contexts, server, code, "Lena", phone=True, lang="de"),
    }
    server.start_session(code)
    for (lang, view), page in pages.items():
        brief = page.locator("#brief-body")
        expect(brief).to_contain_text("Ви представляєте" if lang == "uk" else "Sie vertreten", timeout=20000)
        expect(brief.locator("h3").first).to_have_text("Ваша ситуація" if lang == "uk" else "Ihre Lage")
        expect(page.locator("#phase-name")).to_have_text(
            "Експертні групи" if lang == "uk" else "Expertengruppen"
        )
        brief.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"lang-brief-{lang}-{view}.png"))

    # the same options in the builder, in two languages
    uk, de = pages[("uk", "desktop")], pages[("de", "desktop")]

    expect(uk.locator("#pick-territory option[value=freeze_line]")).to_have_text(
        re.compile("Припинення вогню і заморожування на нинішній лінії зіткнення")
    )
    expect(de.locator("#pick-territory option[value=freeze_line]")).to_have_text(
        re.compile("Waffenstillstand und Einfrieren an der jetzigen Kontaktlinie")
    )

    # news reaches every reader in their language
    server.inject_news(code, "european_pledge")
    expect(uk.locator("#news-headline")).to_have_text(
        "Європейська коаліція обіцяє війська й кошти для сил заспокоєння", timeout=20000
    )
    expect(de.locator("#news-headline")).to_have_text(
        "Europäische Koalition sagt Truppen und Mittel für eine Rückversicherungstruppe zu", timeout=20000
    )
    for (lang, view), page in pages.items():
        page.screenshot(path=str(shots / f"lang-news-{lang}-{view}.png"))

    # a proposal made on one page reaches the other in its own words
    server.manage("shell", "-c", AGREE.format(code=code))
    expect(uk.locator("#proposal-1")).to_contain_text(
        "Заморожування з демілітаризованою зоною", timeout=20000
    )
    expect(de.locator("#proposal-1")).to_contain_text("Einfrieren mit entmilitarisierter Zone", timeout=20000)
    server.advance_phase(code)
    server.advance_phase(code)  # the leaders' meeting: the signed proposal becomes the agreement
    # the outcome: the same scores, the story in each reader's words
    expect(uk.locator("#outcome-story")).to_contain_text(
        re.compile(r"Угода (протрималася|зруйнувалася)"), timeout=20000
    )
    expect(de.locator("#outcome-story")).to_contain_text(
        re.compile(r"(Hielt alle|Zerbrach im)"), timeout=20000
    )
    scores = {}
    for (lang, view), page in pages.items():
        expect(page.locator("#outcome-score-line")).not_to_be_empty()
        scores[(lang, view)] = page.locator("#outcome-factors").inner_text()
        page.locator("#outcome-title").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"lang-outcome-{lang}-{view}.png"))
        page.locator("#outcome-factors").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"lang-factors-{lang}-{view}.png"))
    assert "Надійність гарантій безпеки" in scores[("uk", "desktop")]
    assert "Glaubwürdigkeit der Sicherheitsgarantien" in scores[("de", "desktop")]

    # the instructor's debrief and transcript, in the instructor's language
    for lang, locale, phone in (("de", "de-DE", False), ("uk", "uk-UA", True)):
        host = contexts(phone=phone, locale=locale).new_page()
        sign_in(host, server.base)
        host.goto(f"{server.base}/host/{code}/debrief/")
        expect(host.locator("body")).to_contain_text(
            "Einfrieren mit entmilitarisierter Zone"
            if lang == "de"
            else "Заморожування з демілітаризованою зоною"
        )
        host.screenshot(path=str(shots / f"lang-debrief-{lang}-{'phone' if phone else 'desktop'}.png"))
        host.goto(f"{server.base}/host/{code}/table/1/")
        expect(host.locator("body")).to_contain_text(
            "Europäische Koalition" if lang == "de" else "Європейська коаліція"
        )

    # the admin's page for a language: every text beside its English
    for phone in (False, True):
        admin = contexts(phone=phone).new_page()
        sign_in(admin, server.base)
        admin.goto(f"{server.base}/admin/game/scenarioconfig/")
        admin.get_by_role("link", name=re.compile("After Alaska")).first.click()
        admin.get_by_role("link", name="Edit the Українська texts").click()
        expect(admin.get_by_label(re.compile("Role “Russia”: confidential brief"))).to_have_value(
            re.compile("^Ви представляєте")
        )
        admin.screenshot(path=str(shots / f"lang-admin-uk-{'phone' if phone else 'desktop'}.png"))


# Every seat signs the same package, as four students would.
AGREE = """
from game.services import moves
from game.models import GameSession, Player
s = GameSession.objects.get(code={code!r})
p = {{x.role: x for x in Player.objects.filter(session=s)}}
terms = {{"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "bilateral_arms_training"}}
moves.player_action(p["ukraine"].pk, {{"type": "proposal.make", "terms": terms}})
for r in ("russia", "europe", "us"):
    moves.player_action(p[r].pk, {{"type": "proposal.answer", "proposal": 1, "answer": "accept"}})
"""
