# ruff: noqa: RUF001 (texts in Ukrainian, Russian, German and French: their letters and quotes are meant)
"""Scenario texts in five languages: complete and faithful translations of every shipped scenario,
the engine's own sentences in every language, and numbers that never depend on the language."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import string
from pathlib import Path

import pytest

from game.engine import bot, messages, rules, scoring, translation
from game.engine import durability as D
from game.engine.scenario import (
    LANGUAGES,
    TRANSLATED_LANGUAGES,
    VOICE_KINDS,
    Scenario,
    ScenarioError,
    migrate,
    packages,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "game" / "scenarios"
SHIPPED = sorted(
    p.stem for p in SCENARIOS.glob("*.json") if not p.name.endswith((".checks.json", ".schema.json"))
)


def data(slug: str) -> dict:
    return json.loads((SCENARIOS / f"{slug}.json").read_text(encoding="utf-8"))


def load(slug: str) -> Scenario:
    return Scenario.from_dict(data(slug))


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


# --- every shipped scenario, every language ------------------------------------------------------


@pytest.mark.parametrize("lang", TRANSLATED_LANGUAGES)
@pytest.mark.parametrize("slug", SHIPPED)
def test_every_text_of_a_shipped_scenario_is_translated_faithfully(slug, lang):
    """Nothing a student reads stays in English, and no translation loses a placeholder, a
    heading, a list item, a bold span or a number of its English (a brief's points above all)."""
    sc = load(slug)
    assert validate(sc) == []
    rep = translation.report(sc, (lang,))[lang]
    assert rep.total > 50
    assert rep.missing == [], (
        f"{slug}: {len(rep.missing)} texts still in English in {lang}: {rep.missing[:5]}"
    )
    assert rep.mismatches == [], f"{slug} ({lang}):\n" + "\n".join(rep.mismatches)


@pytest.mark.parametrize("slug", SHIPPED)
def test_a_translation_is_written_in_its_own_script_not_left_in_english(slug):
    sc = load(slug)
    english = sc.texts()
    for lang in TRANSLATED_LANGUAGES:
        table = sc.translations[lang]
        same = [p for p, t in table.items() if t == english[p] and len(t) > 25]
        assert not same, f"{slug} ({lang}) copies the English: {same[:3]}"
    for lang in ("uk", "ru"):
        for path, text in sc.translations[lang].items():
            # a word mixing Latin and Cyrillic letters is a typing slip a reader stumbles on
            mixed = [
                w
                for w in re.findall(r"\w+", text)
                if re.search("[а-яіїєґё]", w, re.I) and re.search("[a-z]", w, re.I)
            ]
            assert not mixed, f"{slug} ({lang}) {path}: {mixed}"
    # the letters that only one of the two languages has
    assert not any(re.search("[ыэъё]", t) for t in sc.translations["uk"].values())
    assert not any(re.search("[іїєґ]", t) for t in sc.translations["ru"].values())


def test_the_default_scenario_uses_the_press_terms_of_each_language():
    sc = load("default")
    t = sc.translations
    assert "припинення вогню" in t["uk"]["roles/us/description"]
    assert "лінія зіткнення" in t["uk"]["issues/territory/options/freeze_line/label"].replace(
        "лінії зіткнення", "лінія зіткнення"
    )
    assert "прекращения огня" in t["ru"]["roles/us/description"]
    assert "линии соприкосновения" in t["ru"]["issues/territory/options/freeze_line/label"]
    assert "Kontaktlinie" in t["de"]["issues/territory/options/freeze_line/label"]
    assert "Waffenstillstand" in t["de"]["roles/us/description"]
    assert "ligne de contact" in t["fr"]["issues/territory/options/freeze_line/label"]
    assert "cessez-le-feu" in t["fr"]["roles/us/description"]
    assert "OTAN" in t["fr"]["issues/nato/name"] and "НАТО" in t["uk"]["issues/nato/name"]
    assert "Selenskyj" in t["de"]["roles/us/brief"] and "Зеленський" in t["uk"]["roles/us/brief"]
    assert "Зеленский" in t["ru"]["roles/us/brief"] and "Zelensky" in t["fr"]["roles/us/brief"]
    assert (
        "Донбас" in t["uk"]["roles/russia/description"] and "Донбасс" in t["ru"]["roles/russia/description"]
    )
    assert (
        "Donbass" in t["de"]["roles/russia/description"] and "Donbass" in t["fr"]["roles/russia/description"]
    )
    for lang, word in (
        ("uk", "Гарантії безпеки"),
        ("ru", "Гарантии безопасности"),
        ("de", "Sicherheitsgarantien"),
        ("fr", "Garanties de sécurité"),
    ):
        assert word in t[lang]["issues/guarantees/name"]


# --- the engine's own sentences ------------------------------------------------------------------


def test_the_engines_sentences_exist_in_every_language_with_the_same_fields():
    english = messages.MESSAGES["en"]
    for lang in LANGUAGES:
        table = messages.MESSAGES[lang]
        assert set(table) == set(english), lang
        for key, text in table.items():
            assert fields(text) <= fields(english[key]) | {"times", "nth", "span"}, (lang, key)
            assert fields(english[key]) - fields(text) <= {"year", "years", "span", "nth"}, (lang, key)


def test_the_bots_generic_voice_exists_in_every_language_for_every_kind():
    for lang in LANGUAGES:
        for position in ("implementer", "challenger", "mediator", "party"):
            for kind, allowed in VOICE_KINDS.items():
                for phrase in messages.voice(lang, position, kind):
                    assert fields(phrase) <= set(allowed), (lang, position, kind, phrase)
                    phrase.format(**{f: "x" for f in allowed})


def test_numbers_are_written_the_languages_way():
    assert messages.number("en", 1.4, 2) == "1.40" and messages.number("de", 1.4, 2) == "1,40"
    assert messages.percent("en", 0.183) == "18%" and messages.percent("fr", 0.183) == "18\u00a0%"
    assert messages.years("uk", 10) == "10 років" and messages.years("uk", 2) == "2 роки"
    assert messages.years("uk", 21) == "21 рік" and messages.years("ru", 12) == "12 лет"
    assert messages.years("ru", 3) == "3 года" and messages.years("en", 1) == "1 year"
    assert messages.ordinal("fr", 1) == "1re" and messages.ordinal("fr", 3) == "3e"


# --- localized() ---------------------------------------------------------------------------------


def test_a_localized_scenario_reads_each_text_in_its_language_and_falls_back_per_text():
    d = data("default")
    d["translations"] = {"uk": {"roles/us/name": "США", "issues/nato/options/moratorium/label": "Мораторій"}}
    sc = Scenario.from_dict(d)
    uk = sc.localized("uk")
    assert uk.language == "uk" and uk.role("us").name == "США"
    assert uk.issue("nato").option("moratorium").label == "Мораторій"
    assert uk.role("russia").name == "Russia"  # not translated: English
    assert uk.issue("nato").option("moratorium").points == sc.issue("nato").option("moratorium").points
    assert sc.localized("uk") is uk  # built once, so the engine's caches stay warm
    assert sc.localized("pt") is sc and sc.localized("en") is sc
    assert uk.say("{implementer}") == "Ukraine"
    de = sc.localized("de")  # no German translation: the scenario's words in English, the engine's in German
    assert de.role("us").name == "United States" and de.no_deal_label() == "No agreement: the war goes on"
    with pytest.raises(ValueError):
        uk.localized("de")


@pytest.mark.parametrize("slug", SHIPPED)
def test_every_number_the_engine_computes_is_the_same_in_every_language(slug):
    """Proposals, scores, keys and durability: identical for the five languages, package by
    package, with and without news; only words differ."""
    sc = load(slug)
    news_sets = [(), tuple(n.key for n in sc.news[:2])]
    english = {}
    for news in news_sets:
        for terms in packages(sc):
            dur = D.evaluate(sc, terms, news)
            english[(tuple(terms.values()), news)] = (
                dur.survival,
                dur.hazards,
                dur.p_hold,
                dur.expected_peace,
                [(f.key, f.value, f.effect, f.yearly) for f in dur.factors],
                {r: s.to_dict() for r, s in scoring.scores(sc, terms, dur, news).items()},
                rules.required_signatories(sc, terms),
            )
    for lang in TRANSLATED_LANGUAGES:
        loc = sc.localized(lang)
        assert loc.role_keys == sc.role_keys and loc.issue_keys == sc.issue_keys
        for news in news_sets:
            for terms in packages(loc):
                dur = D.evaluate(loc, terms, news)
                got = (
                    dur.survival,
                    dur.hazards,
                    dur.p_hold,
                    dur.expected_peace,
                    [(f.key, f.value, f.effect, f.yearly) for f in dur.factors],
                    {r: s.to_dict() for r, s in scoring.scores(loc, terms, dur, news).items()},
                    rules.required_signatories(loc, terms),
                )
                assert got == english[(tuple(terms.values()), news)], (lang, terms, news)
            assert scoring.lesson(loc, news) == scoring.lesson(sc, news)
            for r in sc.role_keys:
                assert scoring.shown_values(loc, r, news) == scoring.shown_values(sc, r, news)


def _numbers_of(outcome: dict) -> dict:
    o = copy.deepcopy(outcome)
    for f in o["durability"]["factors"]:
        f.pop("label"), f.pop("explanation")
    o["durability"]["realized"].pop("cause")
    return o


@pytest.mark.parametrize("slug", SHIPPED)
def test_an_outcome_told_in_another_language_keeps_every_number_and_retells_the_same_story(slug):
    sc = load(slug)
    comp = dict(scoring.compromise(sc).terms)
    greedy = dict(scoring.greediest(sc, sc.necessary_signatories[0]).terms)
    news = (sc.news[0].key,)
    for terms in (comp, greedy, None):
        for seed in range(6):
            en = scoring.outcome(sc, terms, news, seed=seed)
            for lang in TRANSLATED_LANGUAGES:
                loc = sc.localized(lang)
                direct = scoring.outcome(loc, terms, news, seed=seed)
                assert _numbers_of(direct) == _numbers_of(en)
                # a recorded English outcome retold in the language reads as if told in it
                retold = scoring.localized_outcome(loc, en)
                assert retold == direct
                assert retold["durability"]["realized"]["cause"] != en["durability"]["realized"]["cause"]


def test_the_story_of_a_collapse_names_its_year_and_cause_in_the_readers_language():
    sc = load("default")
    terms = dict(scoring.greediest(sc, "russia").terms)
    seed = next(s for s in range(200) if D.evaluate(sc, terms, (), seed=s).realized.collapse_year)
    en = D.evaluate(sc, terms, (), seed=seed).realized
    uk = D.evaluate(sc.localized("uk"), terms, (), seed=seed).realized
    de = D.evaluate(sc.localized("de"), terms, (), seed=seed).realized
    fr = D.evaluate(sc.localized("fr"), terms, (), seed=seed).realized
    assert en.collapse_year == uk.collapse_year == de.collapse_year and en.cause_key == uk.cause_key
    assert en.cause.startswith(f"Collapsed in year {en.collapse_year}:")
    assert uk.cause.startswith(f"Угода зруйнувалася в {en.collapse_year}-му році")
    assert de.cause.startswith(f"Zerbrach im {en.collapse_year}. Jahr")
    assert "année" in fr.cause and "%" in fr.cause
    assert "×" in uk.cause and "Collapsed" not in uk.cause


def test_the_bot_decides_the_same_in_every_language_and_says_it_in_each():
    sc = load("default")
    state = rules.TableState()
    state, _ = rules.apply(sc, state, rules.Start())
    values = scoring.shown_values(sc, "ukraine")
    view = bot.BotView(
        role="ukraine",
        scenario=bot.public_scenario(sc, "ukraine"),
        values=values,
        no_deal_value=sc.role("ukraine").no_deal_value,
        proposals=state.proposals,
        seed=5,
    )
    opening = bot.decide(view)
    assert isinstance(opening, bot.Say)
    publics = {lang: bot.public_scenario(sc.localized(lang), "ukraine") for lang in TRANSLATED_LANGUAGES}
    words = bot.words_in(view, opening, publics)
    assert set(words) == set(TRANSLATED_LANGUAGES)
    assert words["uk"] != opening.text and "«" in words["uk"]
    # after talking, it proposes: the same package in every language, its note in each
    view2 = dataclasses.replace(view, chat=(bot.ChatLine("ukraine", "table", opening.text),))
    made = bot.decide(view2)
    assert isinstance(made, rules.MakeProposal) and made.note
    for public in publics.values():
        other = bot.decide(dataclasses.replace(view2, scenario=public))
        assert dict(other.terms) == dict(made.terms) and other.replaces == made.replaces
        assert other.note != made.note
    notes = bot.words_in(view2, made, publics)
    assert "Тривкість" in notes["uk"] and "Haltbarkeit" in notes["de"] and "Durabilité" in notes["fr"]


# --- the format ------------------------------------------------------------------------------


def test_a_file_of_format_2_without_translations_still_reads_and_is_written_as_format_3():
    d = data("default")
    d.pop("translations")
    d["format"] = 2
    migrated, notes = migrate(d)
    assert notes == [] and "translations" not in migrated
    sc = Scenario.from_dict(d)
    assert validate(sc) == [] and sc.to_dict()["format"] == 3 and "translations" not in sc.to_dict()
    assert sc.localized("uk").role("us").name == "United States"


def test_translations_round_trip_through_the_json_form():
    sc = load("default")
    again = Scenario.from_dict(sc.to_dict())
    assert again == sc and again.translations["fr"] == sc.translations["fr"]


@pytest.mark.parametrize(
    ("translations", "message"),
    [
        ({"pt": {"title": "Depois do Alasca"}}, "the language 'pt' is not one the game offers"),
        ({"en": {"title": "After"}}, "English is the scenario's own text"),
        ({"uk": {"roles/usa/name": "США"}}, "'roles/usa/name' is not a text of this scenario"),
        ({"uk": {"roles/us/voice/opening/7": "x"}}, "'roles/us/voice/opening/7' is not a text"),
        ({"uk": {"roles/us/voice/accept/0": "Ми підписуємо {package}"}}, "uses {package}"),
        ({"de": {"model/factors/imposed/label": "Druck auf {mediator}"}}, "names the side {mediator}"),
    ],
)
def test_a_translation_the_game_cannot_use_is_a_problem_naming_language_and_text(translations, message):
    d = data("default")
    d["translations"] = translations
    problems = validate(Scenario.from_dict(d))
    assert any(message in p for p in problems), problems


def test_a_translation_that_is_not_text_is_refused_when_read():
    d = data("default")
    d["translations"] = {"uk": {"title": 5}}
    with pytest.raises(ScenarioError, match="translations/uk/title: a translation must be text"):
        Scenario.from_dict(d)


def test_the_report_names_what_a_translation_lost():
    english = (
        "### Your points\n- **Territory:** freeze 12 · DMZ 30\n\nA {hold}% chance; 10,000 troops, 0.1 of it."
    )
    good = "### Ihre Punkte\n- **Territorium:** Einfrieren 12 · EMZ 30\n\n{hold}\u00a0% Chance; 10.000 Soldaten, 0,1 davon."
    assert translation.differences(english, good) == []
    bad = "## Ihre Punkte\nEinfrieren 12 · EMZ 31\n\n{peace}% Chance; 10.000 Soldaten, 0,1 davon."
    diffs = " | ".join(translation.differences(english, bad))
    assert "placeholders: ['hold'] in English, ['peace'] here" in diffs
    assert "headings: [3] in English, [2] here" in diffs
    assert "list items: 1 in English, 0 here" in diffs and "bold spans" in diffs
    assert "numbers: missing 30; not in the English 31" in diffs
