"""The interface in five languages (docs/translations.md).

- The committed catalogues are up to date: collecting the messages afresh from the templates,
  the Python code and the scripts gives exactly the messages of every language's .po file.
- Every message is translated in every language: no empty, no fuzzy entry, every plural form,
  placeholders kept (msgfmt --check-format).
- The compiled .mo files are the ones the .po files make now (built by `make install`, never
  committed).
- Each page rendered in each language shows no interface text left in English: its visible text
  is compared, text by text, with the English catalogue.
- The language comes from Accept-Language, the menu on every page changes it and it is remembered
  per browser; dates and numbers follow it; the script catalogue is served per language.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.pofile import messages

ROOT = Path(__file__).resolve().parent.parent
LANGS = ["uk", "ru", "de", "fr"]
DOMAINS = ["django", "djangojs"]
NPLURALS = {"uk": 3, "ru": 3, "de": 2, "fr": 2}


def _po(lang: str, domain: str) -> Path:
    return ROOT / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"


def _msgfmt() -> str:
    tool = shutil.which("msgfmt")
    assert tool, "msgfmt (Debian's gettext) is missing: `make install` installs it"
    return tool


# -- the catalogues ---------------------------------------------------------------------------


def _makefile_makemessages_ignores() -> list[str]:
    text = (ROOT / "Makefile").read_text()
    block = text[text.index("MAKEMESSAGES :=") :]
    block = block[: block.index("\nmessages:")]
    return re.findall(r"--ignore '([^']+)'", block)


@pytest.fixture(scope="module")
def fresh_catalogues(tmp_path_factory):
    """The messages collected now from a copy of the sources, as `make messages` collects them."""
    work = tmp_path_factory.mktemp("messages")
    for name in ("game", "negotiation", "templates", "static", "locale"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(ROOT / "manage.py", work / "manage.py")
    cmd = [sys.executable, "manage.py", "makemessages", "--add-location", "file", "--no-obsolete"]
    for lang in LANGS:
        cmd += ["--locale", lang]
    for pattern in _makefile_makemessages_ignores():
        cmd += ["--ignore", pattern]
    for domain in DOMAINS:
        subprocess.run(
            [*cmd, "--domain", domain], cwd=work, check=True, capture_output=True, env=_env(), timeout=300
        )
    return work


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "negotiation.settings"
    env.pop("DATABASE_URL", None)
    return env


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("lang", LANGS)
def test_the_committed_catalogue_holds_exactly_the_messages_of_the_sources(fresh_catalogues, lang, domain):
    committed = {e.key for e in messages(_po(lang, domain))}
    fresh = {e.key for e in messages(fresh_catalogues / "locale" / lang / "LC_MESSAGES" / f"{domain}.po")}
    missing, stale = sorted(fresh - committed, key=str), sorted(committed - fresh, key=str)
    assert not missing and not stale, (
        f"locale/{lang}/LC_MESSAGES/{domain}.po is out of date: run `make messages` and translate.\n"
        f"  not in the catalogue: {missing[:10]}\n  no longer in the sources: {stale[:10]}"
    )


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_translated_with_its_placeholders_and_plural_forms(lang, domain):
    path = _po(lang, domain)
    entries = messages(path)
    assert len(entries) > (300 if domain == "django" else 150), f"{path}: suspiciously few messages"
    untranslated = [e.msgid for e in entries if not e.translated]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    short = [e.msgid for e in entries if e.msgid_plural is not None and len(e.msgstr) != NPLURALS[lang]]
    assert not untranslated, f"{path}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{path}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"
    assert not short, f"{path}: wrong number of plural forms for {short[:5]}"
    check = subprocess.run(
        [_msgfmt(), "--check-format", "--check-header", "-o", "/dev/null", str(path)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, f"{path}: {check.stderr}"


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("lang", LANGS)
def test_the_compiled_catalogue_is_built_from_the_current_translations(tmp_path, lang, domain):
    po = _po(lang, domain)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: `make install` compiles it"
    fresh = tmp_path / "fresh.mo"
    subprocess.run([_msgfmt(), "--check-format", "-o", str(fresh), str(po)], check=True)
    assert fresh.read_bytes() == mo.read_bytes(), f"{mo} is stale: `make install` recompiles it"


def test_compiled_catalogues_are_never_committed():
    tracked = subprocess.run(
        ["git", "ls-files", "locale"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    if not tracked:  # not a git checkout (an unpacked release): nothing to check
        pytest.fail("locale/ holds no tracked file: the .po files must be committed")
    assert not [t for t in tracked if t.endswith(".mo")]
    assert {f"locale/{lang}/LC_MESSAGES/{d}.po" for lang in LANGS for d in DOMAINS} <= set(tracked)


# -- the pages --------------------------------------------------------------------------------


class _VisibleText(HTMLParser):
    """The text a reader sees (or hears): text nodes outside scripts and styles, plus the
    accessible names and hints that attributes carry. Code (<code>: a scenario file's paths and
    placeholders) is the same in every language and is left out."""

    ATTRS = ("aria-label", "title", "placeholder", "alt", "aria-description")

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template", "code"):
            self._skip += 1
        for name, value in attrs:
            if name in self.ATTRS and value:
                self.texts.append(value)
            if tag == "input" and name == "value" and dict(attrs).get("type") in ("submit", "button"):
                self.texts.append(value or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    p = _VisibleText()
    p.feed(html)
    return [" ".join(t.split()) for t in p.texts if t.strip()]


_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]+\}")


def _english_chrome(lang: str) -> dict[str, str]:
    """English texts of the catalogue that read differently in ``lang``: if one of them is a whole
    visible text of a page rendered in ``lang``, that text was left untranslated. Texts with
    placeholders become patterns. The languages' own names are left out: the language menu shows
    each language in its own words on every page ("English" among them)."""
    own_names = {name for _code, name in settings.LANGUAGES}
    out = {}
    for e in messages(_po(lang, "django")):
        for english, translated in ((e.msgid, e.msgstr.get(0, "")), (e.msgid_plural, e.msgstr.get(1, ""))):
            if not english or "<" in english or english == translated or english in own_names:
                continue
            text = " ".join(english.split())
            if len(re.sub(_PLACEHOLDER, "", text).strip(" :.·—-")) < 3:
                continue
            out[text] = translated
    return out


def _untranslated(html: str, lang: str) -> list[str]:
    chrome = _english_chrome(lang)
    patterns = [
        re.compile(
            "^"
            + _PLACEHOLDER.sub(
                ".+?", re.escape(t).replace(r"\%", "%").replace(r"\{", "{").replace(r"\}", "}")
            )
            + "$"
        )
        for t in chrome
        if _PLACEHOLDER.search(t)
    ]
    found = []
    for text in visible_texts(html):
        if text in chrome or any(p.match(text) for p in patterns):
            found.append(text)
    return found


@pytest.fixture
def pages(db, default_scenario, make_session, staff_user, admin_client):
    """Every kind of page, each as (name, client, url): a student's pages, the instructor's pages
    before, during and after a game, the scenario's balance report, the admin's scenario pages."""
    from game.services import clock, seating
    from tests.conftest import make_instructor  # noqa: F401  (the owner is staff_user)

    waiting = make_session(tables=1)
    ended = make_session(tables=1, start=True)
    student = Client()
    student.post(reverse("join_submit"), {"code": ended.code, "name": "Olena"})
    for name in ("Ivan", "Claire", "Jonas"):
        seating.join(ended.code, name)
    table = ended.tables.first()
    clock.end_session(ended.pk)
    running = make_session(tables=1, start=True)
    playing = Client()
    playing.post(reverse("join_submit"), {"code": running.code, "name": "Taras"})
    host = Client()
    host.force_login(staff_user)
    anonymous = Client()
    return [
        ("join", anonymous, reverse("join")),
        ("join error", anonymous, reverse("join") + "?code=ZZZZZZ"),
        ("play, mid-game", playing, reverse("play", args=[running.code])),
        ("play, outcome", student, reverse("play", args=[ended.code])),
        ("host index", host, reverse("host_index")),
        ("dashboard before", host, reverse("host_session", args=[waiting.code])),
        ("dashboard during", host, reverse("host_session", args=[running.code])),
        ("dashboard after", host, reverse("host_session", args=[ended.code])),
        ("projector", host, reverse("projector", args=[running.code])),
        ("debrief", host, reverse("debrief", args=[ended.code])),
        ("transcript", host, reverse("host_transcript", args=[ended.code, table.number])),
        ("balance", host, reverse("scenario_balance", args=[default_scenario.slug]) + "?games=4"),
        ("not found", anonymous, "/no-such-page/"),
        ("admin scenarios", admin_client, "/admin/game/scenarioconfig/"),
        ("admin scenario", admin_client, f"/admin/game/scenarioconfig/{default_scenario.pk}/change/"),
        (
            "admin scenario translation",
            admin_client,
            reverse("admin:game_scenario_translate", args=[default_scenario.pk, "de"]),
        ),
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_shows_its_interface_in_the_language_with_nothing_left_in_english(pages, lang):
    problems = []
    for name, client, url in pages:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        response = client.get(url)
        assert response.status_code in (200, 404), (name, url, response.status_code)
        html = response.content.decode()
        assert f'lang="{lang}"' in html, f"{name}: the page does not declare lang={lang}"
        if name != "projector":  # the room's screen carries no control: it follows the dashboard's choice
            assert 'name="language" value="uk"' in html, f"{name}: the page has no language menu"
        left = _untranslated(html, lang)
        if left:
            problems.append(f"{name} ({url}): {left[:8]}")
    assert not problems, f"interface text left in English in {lang}:\n" + "\n".join(problems)


def test_the_english_pages_have_no_false_alarm(pages):
    """The comparison itself: an English page is full of catalogue texts, so it must find some."""
    _name, client, url = pages[0]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert _untranslated(client.get(url).content.decode(), "de")


# -- choosing the language --------------------------------------------------------------------


def test_the_language_comes_from_accept_language_then_the_menu_and_is_remembered(db, default_scenario):
    c = Client()
    page = c.get(reverse("join"), headers={"accept-language": "uk,en;q=0.5"}).content.decode()
    assert '<html lang="uk"' in page
    assert 'name="language" value="de"' in page, "every page carries the language menu"
    r = c.post(reverse("set_language"), {"language": "de", "next": reverse("join")})
    assert r.status_code == 302 and r.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    page = c.get(reverse("join"), headers={"accept-language": "uk,en;q=0.5"}).content.decode()
    assert '<html lang="de"' in page, "the menu's choice wins over the browser's and is remembered"
    r = c.post(reverse("set_language"), {"language": "xx", "next": reverse("join")})
    assert c.get(reverse("join")).content.decode().count('<html lang="de"') == 1, (
        "a bad choice changes nothing"
    )


def test_the_instructor_and_a_student_may_read_different_languages_in_one_session(make_session, staff_user):
    session = make_session(tables=1)
    student, host = Client(), Client()
    student.cookies[settings.LANGUAGE_COOKIE_NAME] = "uk"
    host.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    host.force_login(staff_user)
    student.post(reverse("join_submit"), {"code": session.code, "name": "Oksana"})
    assert '<html lang="uk"' in student.get(reverse("play", args=[session.code])).content.decode()
    assert '<html lang="fr"' in host.get(reverse("host_session", args=[session.code])).content.decode()


@pytest.mark.parametrize("lang", ["en", *LANGS])
def test_the_script_catalogue_is_served_per_language(db, lang):
    from game import l10n

    c = Client()
    r = c.get(l10n.catalogue_url(lang))
    assert r.status_code == 200
    body = r.content.decode()
    assert "django.gettext" in body or "gettext" in body
    if lang != "en":
        assert len(messages(_po(lang, "djangojs"))) > 0
        assert '"Send"' in body or "catalog" in body
    assert c.get(f"/jsi18n/{lang}.000000000000.js").status_code in (301, 302, 404)


def test_dates_and_numbers_follow_the_language():
    from django.utils import formats, translation

    with translation.override("de"):
        assert formats.number_format(1234.5, 1, use_l10n=True, force_grouping=True) == "1.234,5"
    with translation.override("fr"):
        assert formats.number_format(0.5, 1, use_l10n=True) == "0,5"
    with translation.override("uk"):
        assert formats.number_format(0.5, 1, use_l10n=True) == "0,5"
    with translation.override("en"):
        assert formats.number_format(0.5, 1, use_l10n=True) == "0.5"
