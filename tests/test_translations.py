# ruff: noqa: RUF001 (texts in Ukrainian, Russian, German and French: their letters and quotes are meant)
"""Scenario content per reader's language: files and the admin hold the translations, and each
student (and the instructor) reads the scenario in their own language at the same table, with
the same proposals and scores for all."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

from game import bot_runner, bots, i18n, scenario_io
from game.engine.scenario import TRANSLATED_LANGUAGES
from game.models import Event, GameSession, ScenarioConfig
from game.services import clock, moves, seating, snapshots
from tests.conftest import connect

TERMS = {"territory": "freeze_dmz_monitors", "nato": "moratorium", "guarantees": "bilateral_arms_training"}


def shipped() -> dict:
    return json.loads(scenario_io.DEFAULT_PATH.read_text(encoding="utf-8"))


# --- files ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_and_export_round_trip_every_translation():
    data = shipped()
    config = scenario_io.import_dict(data)
    out = scenario_io.export_dict(config)
    assert out["translations"] == data["translations"]
    # and a second trip changes nothing
    again = scenario_io.import_text(scenario_io.export_text(config))
    assert scenario_io.export_dict(again) == out
    sc = again.to_engine()
    assert sc.localized("de").role("us").name == "USA"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["translations"].update(xx={"title": "?"}),
            "the language 'xx' is not one the game offers",
        ),
        (
            lambda d: d["translations"].update(en={"title": "?"}),
            "the language 'en' is not one the game offers",
        ),
        (
            lambda d: d["translations"]["uk"].update({"roles/us/nam": "США"}),
            "'roles/us/nam' is not a text of a scenario",
        ),
        (
            lambda d: d["translations"]["fr"].update({"roles/usa/name": "USA"}),
            "Translation fr: 'roles/usa/name' is not a text",
        ),
        (lambda d: d["translations"]["de"].update({"title": 3}), "translations/de/title"),
        (
            lambda d: d["translations"]["ru"].update({"roles/us/voice/reject/0": "Нет {package}"}),
            "Translation ru: roles/us/voice/reject/0: the phrase uses {package}",
        ),
    ],
)
def test_an_import_refuses_a_bad_translation_naming_it_and_changes_nothing(mutate, message):
    before = ScenarioConfig.objects.count()
    data = shipped()
    data["slug"] = "translated-copy"
    mutate(data)
    with pytest.raises(scenario_io.ScenarioFileError) as e:
        scenario_io.import_dict(data)
    assert message in str(e.value)
    assert ScenarioConfig.objects.count() == before


@pytest.mark.django_db
def test_a_format_2_file_without_translations_still_imports():
    data = shipped()
    data.pop("translations")
    data["format"] = 2
    data["slug"] = "older-file"
    config = scenario_io.import_dict(data)
    assert config.translations == {} and "translations" not in config.to_dict()
    assert scenario_io.migration_notes(data) == []


# --- two students, two languages, one table -------------------------------------------------------


def _seated(make_session, tables=1):
    session = make_session(tables=tables, start=True)
    players = {}
    for i in range(4):
        p = seating.join(session.code, f"Student {i + 1}")
        players[p.role] = p
    return session, players


def test_two_students_reading_two_languages_see_the_same_proposals_and_scores_in_their_own_words(
    make_session,
):
    session, p = _seated(make_session)
    moves.player_action(p["ukraine"].pk, {"type": "proposal.make", "terms": TERMS, "note": "a start"})
    clock.inject_news(session.pk, "european_pledge")
    en = snapshots.player_state(p["us"].pk, "en")
    uk = snapshots.player_state(p["russia"].pk, "uk")
    de = snapshots.player_state(p["us"].pk, "de")
    # the same negotiation
    assert uk["proposals"] == en["proposals"] and uk["proposals"][0]["note"] == "a start"
    assert [i["key"] for i in uk["issues"]] == [i["key"] for i in en["issues"]]
    assert [[o["key"] for o in i["options"]] for i in uk["issues"]] == [
        [o["key"] for o in i["options"]] for i in en["issues"]
    ]
    assert de["you"]["values"] == en["you"]["values"]  # the same student's points in any language
    assert [n["key"] for n in uk["news"]] == [n["key"] for n in en["news"]] == ["european_pledge"]
    # in different words
    assert (
        en["issues"][0]["name"] == "Exchange of territory" and uk["issues"][0]["name"] == "Обмін територіями"
    )
    assert (
        de["issues"][0]["options"][1]["label"]
        == "Waffenstillstand und Einfrieren an der jetzigen Kontaktlinie"
    )
    assert uk["news"][0]["headline"].startswith("Європейська коаліція")
    assert "Ви представляєте" in uk["you"]["brief"] and "<h3>Ваша ситуація</h3>" in uk["you"]["brief"]
    assert "Sie vertreten" in de["you"]["brief"]
    assert uk["session"]["phases"][0]["name"] == "Експертні групи"
    assert uk["moral"].startswith("Тактично") and uk["no_deal_text"] == "Угоди немає: війна триває"
    assert uk["you"]["role_name"] == "Росія"
    assert {r["key"]: r["colour"] for r in uk["roles"]} == {r["key"]: r["colour"] for r in en["roles"]}
    # the preview of a package: the same numbers, the factors' sentences in the reader's language
    pe = moves.preview(p["us"].pk, {"type": "package.preview", "terms": TERMS}, "en")
    pf = moves.preview(p["us"].pk, {"type": "package.preview", "terms": TERMS}, "fr")

    def strip(d):
        factors = [
            {k: v for k, v in f.items() if k not in ("label", "explanation")}
            for f in d["durability"]["factors"]
        ]
        return {**d, "durability": {**d["durability"], "factors": factors}}

    assert strip(pe) == strip(pf)
    assert pf["durability"]["factors"][0]["label"] != pe["durability"]["factors"][0]["label"]
    # the outcome: the same scores and story's year, the story in each reader's words
    clock.advance_phase(session.pk)
    clock.advance_phase(session.pk)
    for r in ("russia", "us", "europe"):
        moves.player_action(p[r].pk, {"type": "proposal.answer", "proposal": 1, "answer": "accept"})
    en = snapshots.player_state(p["us"].pk, "en")["outcome"]
    uk = snapshots.player_state(p["russia"].pk, "uk")["outcome"]
    assert en["scores"] == uk["scores"] and en["agreement"] == uk["agreement"] == TERMS
    assert en["durability"]["survival"] == uk["durability"]["survival"]
    assert en["durability"]["realized"]["collapse_year"] == uk["durability"]["realized"]["collapse_year"]
    assert en["durability"]["realized"]["cause"] != uk["durability"]["realized"]["cause"]
    assert [f["key"] for f in en["durability"]["factors"]] == [f["key"] for f in uk["durability"]["factors"]]
    assert uk["durability"]["factors"][0]["label"] != en["durability"]["factors"][0]["label"]
    # the recorded outcome stays in the scenario's own words, whatever anyone read
    table = session.tables.get()
    assert table.outcome["durability"]["realized"]["cause"] == en["durability"]["realized"]["cause"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
async def test_each_socket_delivers_the_tables_events_in_its_own_language(make_session, join_players):
    session = await database_sync_to_async(make_session)(start=True)
    players = await join_players(session, 4)
    by_role = {p.role: (p, cookie) for p, cookie in players}
    # the page passes its language on the socket's URL; without it the language cookie decides
    _ok, uk = await connect(f"/ws/play/{session.code}/?lang=uk", by_role["ukraine"][1], name="uk")
    de_cookie = by_role["europe"][1] + "; django_language=de"
    _ok, de = await connect(f"/ws/play/{session.code}/", de_cookie, name="de")
    _ok, en = await connect(f"/ws/play/{session.code}/", by_role["us"][1], name="en")
    states = {}
    for name, c in (("uk", uk), ("de", de), ("en", en)):
        states[name] = await c.wait(lambda m: m.get("type") == "state")
    assert states["uk"]["issues"][2]["name"] == "Гарантії безпеки для України"
    assert states["de"]["issues"][2]["name"] == "Sicherheitsgarantien für die Ukraine"
    assert states["en"]["issues"][2]["name"] == "Security guarantees for Ukraine"
    await database_sync_to_async(clock.inject_news)(session.pk, "moscow_rejects_troops")
    news = {name: await c.event("news") for name, c in (("uk", uk), ("de", de), ("en", en))}
    assert {n["data"]["key"] for n in news.values()} == {"moscow_rejects_troops"}
    assert news["uk"]["seq"] == news["de"]["seq"] == news["en"]["seq"]
    assert news["uk"]["data"]["headline"] == "МЗС Росії: жодних військ НАТО в Україні без Росії"
    assert news["de"]["data"]["headline"].startswith("Russisches Außenministerium")
    assert news["en"]["data"]["headline"].startswith("Russian Foreign Ministry")
    await database_sync_to_async(clock.advance_phase)(session.pk)
    phase = {name: await c.event("phase.changed") for name, c in (("uk", uk), ("de", de))}
    assert phase["uk"]["data"]["phase"]["name"] == "Високопосадовці"
    assert phase["de"]["data"]["phase"]["name"] == "Hochrangige Beamte"
    await database_sync_to_async(clock.end_session)(session.pk)
    ended = {name: await c.event("game.ended") for name, c in (("uk", uk), ("de", de), ("en", en))}
    assert ended["uk"]["data"]["scores"] == ended["de"]["data"]["scores"] == ended["en"]["data"]["scores"]
    assert ended["uk"]["data"]["durability"]["realized"]["cause"] == "Угоди немає: війна триває."
    assert ended["de"]["data"]["durability"]["realized"]["cause"] == "Keine Einigung: Der Krieg geht weiter."
    await asyncio.gather(uk.close(), de.close(), en.close())


def test_a_bot_speaks_to_each_reader_in_their_language(make_session):
    session = make_session()
    student = seating.join(session.code, "Ann")
    bots.fill_empty_seats(session.pk)
    now = timezone.now()
    clock.start_session(session.pk, now=now)
    table = session.tables.get()
    for _ in range(30):
        now += timedelta(seconds=15)
        bot_runner.step(now)
        if (
            Event.objects.filter(table=table, kind="proposal.made").exists()
            and Event.objects.filter(table=table, kind="chat.message").count() >= 2
        ):
            break
    line = Event.objects.filter(table=table, kind="chat.message").first()
    assert set(line.data["i18n"]) == set(TRANSLATED_LANGUAGES)
    en = snapshots.player_state(student.pk, "en")
    uk = snapshots.player_state(student.pk, "uk")
    assert en["chat"][0]["text"] == line.data["text"] and "i18n" not in en["chat"][0]
    assert uk["chat"][0]["text"] == line.data["i18n"]["uk"] != line.data["text"]
    made = next(p for p in uk["proposals"] if p["author"] != "us")
    assert "Тривкість" in made["note"] and "note_translations" not in made
    assert [p["terms"] for p in uk["proposals"]] == [p["terms"] for p in en["proposals"]]
    # what a browser sends cannot set another language's words
    moves.player_action(
        student.pk, {"type": "chat.send", "channel": "table", "text": "hello", "i18n": {"uk": "spoof"}}
    )
    mine = Event.objects.filter(table=table, kind="chat.message", data__name="Ann").get()
    assert "i18n" not in mine.data
    assert snapshots.player_state(student.pk, "uk")["chat"][-1]["text"] == "hello"


# --- pages in the reader's language -------------------------------------------------------------


def test_the_language_comes_from_the_request_the_cookie_or_the_socket(rf):
    r = rf.get("/", HTTP_ACCEPT_LANGUAGE="uk-UA,uk;q=0.9,en;q=0.5")
    assert i18n.request_language(r) == "uk"
    r = rf.get("/", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert i18n.request_language(r) == "en"
    r = rf.get("/", HTTP_ACCEPT_LANGUAGE="uk")
    r.COOKIES["django_language"] = "fr"
    assert i18n.request_language(r) == "fr"
    r.LANGUAGE_CODE = "de"  # what LocaleMiddleware decided wins
    assert i18n.request_language(r) == "de"
    scope = {"query_string": b"lang=ru", "headers": [(b"accept-language", b"de")]}
    assert i18n.scope_language(scope) == "ru"
    assert (
        i18n.scope_language({"query_string": b"lang=xx", "headers": [(b"accept-language", b"de-AT,de")]})
        == "de"
    )
    assert i18n.scope_language({"headers": [(b"cookie", b"a=1; django_language=uk")]}) == "uk"
    assert i18n.scope_language({}) == "en"


def test_the_player_page_asks_its_socket_for_the_pages_language(make_session):
    session = make_session()
    p = seating.join(session.code, "Ann")
    c = Client(HTTP_ACCEPT_LANGUAGE="de")
    s = c.session
    s["players"] = {session.code: str(p.token)}
    s.save()
    html = c.get(f"/play/{session.code}/").content.decode()
    assert f'data-ws-path="/ws/play/{session.code}/?lang=de"' in html
    intro = c.get(f"/?code={session.code}").content.decode()
    assert "Nach Alaska" in intro


def test_the_debrief_and_the_transcript_speak_the_instructors_language(make_session, admin_client):
    session, p = _seated(make_session)
    moves.player_action(p["ukraine"].pk, {"type": "proposal.make", "terms": TERMS})
    clock.inject_news(session.pk, "prisoner_exchange")
    clock.end_session(session.pk)
    html = admin_client.get(f"/host/{session.code}/debrief/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Échange de territoires" in html or "Pas d’accord" in html
    assert "Pas d’accord\u00a0: la guerre continue" in html
    t = admin_client.get(f"/host/{session.code}/table/1/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Стамбульский канал приносит ещё один обмен пленными" in t
    assert "Заморозка с демилитаризованной зоной и наблюдателями" in t
    host = snapshots.session_scenario(session.pk, "ru")
    assert host.language == "ru"


# --- the admin ---------------------------------------------------------------------------------


def test_the_admin_edits_one_languages_texts_beside_the_english(admin_client, default_scenario):
    url = f"/admin/game/scenarioconfig/{default_scenario.pk}/translate/uk/"
    page = admin_client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Role \u201cUnited States\u201d: confidential brief" in html and "You represent" in html
    assert "Ви представляєте" in html and 'lang="uk"' in html
    change = admin_client.get(f"/admin/game/scenarioconfig/{default_scenario.pk}/change/").content.decode()
    assert "Edit the Deutsch texts" in change and "134 of 134" in change
    form = {k: v for k, v in default_scenario.translations["uk"].items()}
    form["roles/us/name"] = "США"
    form["moral"] = ""  # blank: read in English
    r = admin_client.post(url, form)
    assert r.status_code == 302
    default_scenario.refresh_from_db()
    assert default_scenario.translations["uk"]["roles/us/name"] == "США"
    assert "moral" not in default_scenario.translations["uk"]
    sc = default_scenario.to_engine().localized("uk")
    assert sc.role("us").name == "США" and sc.moral == default_scenario.moral
    assert "uk" in default_scenario.translations and default_scenario.to_engine().translations["de"]


def test_the_admin_refuses_a_broken_translation_naming_item_and_language_and_saves_nothing(
    admin_client, default_scenario
):
    before = copy.deepcopy(default_scenario.translations)
    url = f"/admin/game/scenarioconfig/{default_scenario.pk}/translate/de/"
    form = dict(default_scenario.translations["de"])
    form["roles/russia/voice/accept/0"] = "Russland unterschreibt {package}."  # a field this line lacks
    form["roles/us/voice/reject/0"] = "Washington kann nicht unterschreiben."  # loses {id} and {own}
    form["title"] = "Nach Alaska {"  # a stray brace is fine outside the bots' lines
    r = admin_client.post(url, form)
    html = r.content.decode()
    assert r.status_code == 400 and "Nothing was saved" in html
    assert (
        "Deutsch (de), Role \u201cRussia\u201d: the bot&#x27;s accept line 1: use the same {placeholders}"
        in html
    )
    assert "unknown {package}" in html
    assert (
        "Deutsch (de), Role \u201cUnited States\u201d: the bot&#x27;s reject line 1" in html
        and "missing {id}, {own}" in html
    )
    default_scenario.refresh_from_db()
    assert default_scenario.translations == before
    assert (
        admin_client.get(f"/admin/game/scenarioconfig/{default_scenario.pk}/translate/xx/").status_code == 404
    )


def test_a_renamed_item_keeps_its_translations_and_a_removed_ones_go(admin_client, default_scenario):
    from tests.test_foundation import _form_data

    # a phase's key changed on the scenario's page: its translations follow it
    url = f"/admin/game/scenarioconfig/{default_scenario.pk}/change/"
    data = _form_data(admin_client.get(url).content.decode())
    n = next(k for k, v in data.items() if k.startswith("phases-") and k.endswith("-key") and v == "experts")
    data[n] = "experten"
    r = admin_client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:3000]
    config = ScenarioConfig.objects.get(pk=default_scenario.pk)
    assert config.translations["de"]["phases/experten/name"] == "Expertengruppen"
    assert "phases/experts/name" not in config.translations["de"]
    assert config.problems() == []
    assert config.to_engine().localized("uk").phase("experten").name == "Експертні групи"
    # an option's key changed on its issue's page
    issue = config.issues.get(key="nato")
    url = f"/admin/game/scenarioissue/{issue.pk}/change/"
    data = _form_data(admin_client.get(url).content.decode())
    n = next(
        k for k, v in data.items() if k.startswith("options-") and k.endswith("-key") and v == "moratorium"
    )
    data[n] = "moratorium_20"
    r = admin_client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:3000]
    config.refresh_from_db()
    assert config.translations["fr"]["issues/nato/options/moratorium_20/label"].startswith("Pas d’invitation")
    assert config.problems() == []
    # a translation of an item that is gone is dropped when the scenario is next saved
    config.translations["fr"]["news/nothing/headline"] = "Rien"
    config.save()
    assert any("news/nothing/headline" in p for p in config.problems())
    url = f"/admin/game/scenarioconfig/{config.pk}/change/"
    r = admin_client.post(url, _form_data(admin_client.get(url).content.decode()))
    assert r.status_code == 302
    config.refresh_from_db()
    assert "news/nothing/headline" not in config.translations["fr"] and config.problems() == []


def test_a_session_keeps_the_translations_it_opened_with(make_session, default_scenario):
    session = make_session()
    config = ScenarioConfig.objects.get(pk=default_scenario.pk)
    config.translations["uk"]["roles/us/name"] = "США (змінено)"
    config.save()
    s = GameSession.objects.get(pk=session.pk)
    assert s.engine_scenario("uk").role("us").name == "Сполучені Штати"
