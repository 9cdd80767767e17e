"""The kept join and player pages (game/shells.py) are the pages a fresh render gives.

Each test gets a page through the view (from the kept copy, after a first request has made it),
then renders the template the way the view did before pages were kept, for the same request, and
compares the two byte for byte. The CSRF token is masked afresh at every render, so both tokens are
checked to carry the request's secret and then compared as equal; the CSP nonce is the request's
own and must be the one its header allows.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.middleware.csrf import _unmask_cipher_token
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from game import shells
from game.i18n import request_language
from game.models import GameSession, Player, normalise_code
from game.services import eventlog, seating
from game.views import JoinForm, _join_intro, _my_sessions
from tests.conftest import cookie_for_players

TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')
NONCE_RE = re.compile(r'nonce="([^"]*)"')


def _same_page(response, fresh: str) -> None:
    kept = response.content.decode()
    secret = response.wsgi_request.META["CSRF_COOKIE"]
    for html in (kept, fresh):
        tokens = TOKEN_RE.findall(html)
        assert tokens, "the page has its forms' CSRF token"
        assert all(_unmask_cipher_token(t) == secret for t in tokens)
    nonces = NONCE_RE.findall(kept)
    for n in nonces:
        assert f"'nonce-{n}'" in response["Content-Security-Policy"]
    assert TOKEN_RE.sub("TOKEN", kept) == TOKEN_RE.sub("TOKEN", fresh)


def _player_page(
    client: Client, session: GameSession, player: Player, query: str = "", lang: str | None = None
):
    client.cookies.load(cookie_for_players({session.code: str(player.token)}))
    if lang:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    response = client.get(f"/play/{session.code}/{query}")
    assert response.status_code == 200
    request = response.wsgi_request
    row = eventlog.player_row(session.code, str(player.token))
    fresh = render_to_string(
        "game/play.html",
        {"player": row, "code": session.code, "content_lang": request_language(request)},
        request=request,
    )
    return response, fresh


def _join_page(client: Client, query: str):
    response = client.get(f"/{query}")
    assert response.status_code == 200
    request = response.wsgi_request
    code = normalise_code(request.GET.get("code", ""))
    fresh = render_to_string(
        "game/join.html",
        {
            "form": JoinForm(initial={"code": code}),
            "rejoin": _my_sessions(request),
            "intro": _join_intro(code, request_language(request)),
        },
        request=request,
    )
    return response, fresh


NAMES = st.one_of(
    st.text(min_size=1, max_size=40),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            'Ann "the bold" O\'Neil & co',
            "Оля Коваленко",
            "{{ code }} {% csrf_token %}",
            "\ue000deadbeef:name\ue001",  # the shape of a marker, with a wrong word
            shells._marks(shells._WORD)("code"),  # this process's marker itself, typed as a name
        ]
    ),
)


@pytest.mark.django_db
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=NAMES, query=st.sampled_from(["", "?a=<b>&c='d'", '?"x"']), lang=st.sampled_from([None, "en", "uk"])
)
def test_the_kept_player_page_is_the_fresh_render(make_session, name, query, lang):
    session = make_session()
    player = Player.objects.create(session=session, name=name, name_key=f"k{Player.objects.count()}")
    client = Client()
    _player_page(client, session, player, query, lang)  # the first request keeps the page
    response, fresh = _player_page(client, session, player, query, lang)
    _same_page(response, fresh)
    assert player.rejoin_code in fresh


@pytest.mark.django_db
def test_the_kept_join_page_is_the_fresh_render(make_session):
    session = make_session()
    GameSession.objects.filter(pk=session.pk).update(
        title="Seminar <b>7</b> & friends \ue000deadbeef:name\ue001"
    )
    client = Client()
    for query in ["", f"?code={session.code}", f"?code={session.code.lower()}&x=<i>", "?code=NOSUCH"]:
        for lang in ["en", "uk"]:
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
            _join_page(client, query)
            response, fresh = _join_page(client, query)
            _same_page(response, fresh)


@pytest.mark.django_db
def test_a_returning_student_gets_their_own_page_and_nothing_is_kept(make_session):
    session = make_session()
    player = seating.join(session.code, "Returning Student")
    client = Client()
    client.cookies.load(cookie_for_players({session.code: str(player.token)}))
    shells.clear()
    response, fresh = _join_page(client, f"?code={session.code}")
    assert "Returning Student" in fresh
    _same_page(response, fresh)
    assert shells._pages == {}


@pytest.mark.django_db
def test_a_new_title_is_a_new_page(make_session, monkeypatch):
    """The join page's words about the session come from its variant: a retitled session is served
    its new title once the intro's few seconds have passed, not the kept page's."""
    from game import views

    session = make_session()
    client = Client()
    response, _ = _join_page(client, f"?code={session.code}")
    GameSession.objects.filter(pk=session.pk).update(title="A brand new title")
    views._intros.clear()
    response, fresh = _join_page(client, f"?code={session.code}")
    assert "A brand new title" in response.content.decode()
    _same_page(response, fresh)


@pytest.mark.django_db
def test_made_up_codes_share_one_kept_page(make_session):
    """The code is one of the request's values, not part of the page's key: a stream of made-up
    codes (anyone can send them) keeps one page, and each still shows its own code."""
    shells.clear()
    client = Client()
    for i in range(12):
        r = client.get(f"/?code=NOPE{i:02d}")
        assert f'value="NOPE{i:02d}"' in r.content.decode()
    assert len(shells._pages) == 1


@pytest.fixture
def probe(tmp_path, settings):
    """A template of the test's own, in a directory added to the templates'."""
    (tmp_path / "game").mkdir()
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path), *settings.TEMPLATES[0]["DIRS"]]}]
    shells.clear()

    def page(text: str, context, values: dict):
        (tmp_path / "game" / "shell_probe.html").write_text(text)
        return shells.page(RequestFactory().get("/"), "game/shell_probe.html", context, values)

    yield page
    shells.clear()


def test_a_kept_page_takes_each_request_s_values(probe):
    marked = lambda mark: {"code": mark("code")}  # noqa: E731
    first = probe("one {{ code }} {% csrf_token %}", marked, {"code": "<A>"}).content.decode()
    assert first.startswith('one &lt;A&gt; <input type="hidden" name="csrfmiddlewaretoken" value="')
    second = probe("not read again", marked, {"code": "B&B"}).content.decode()
    assert second.startswith('one B&amp;B <input type="hidden" name="csrfmiddlewaretoken" value="')
    assert TOKEN_RE.findall(first) != TOKEN_RE.findall(second)  # each request's own token


@pytest.mark.parametrize("shown", ["{{ code|upper }}", "{{ code|urlencode }}", "{{ code|slice:'3:' }}"])
def test_a_value_printed_through_a_filter_is_refused(probe, shown):
    """A filter changes the marker, so the page would show it instead of the value: refused at
    once, naming the template."""
    with pytest.raises(ValueError, match=r"shell_probe\.html prints a marked value other than plainly"):
        probe(f"code {shown}", lambda mark: {"code": mark("code")}, {"code": "A"})


def test_a_marked_value_the_caller_did_not_give_is_refused(probe):
    with pytest.raises(KeyError, match=r"shell_probe\.html"):
        probe("{{ who }}", lambda mark: {"who": mark("who")}, {})


def test_a_worker_warms_up_what_the_first_joins_need():
    """negotiation/asgi.py calls warm_up before the first request: the confusables table is parsed
    and both pages' templates are compiled in every language, so the first forty joins do not."""
    from django.template import engines

    from game import names
    from negotiation.startup import warm_up

    names._prototypes.cache_clear()
    loader = engines["django"].engine.template_loaders[0]
    loader.reset()
    warm_up()
    assert names._prototypes.cache_info().currsize == 1
    assert {"game/join.html", "game/play.html"} <= {k.split("-")[0] for k in loader.get_template_cache}


def test_kept_pages_are_bounded_the_oldest_going_first(probe, monkeypatch):
    monkeypatch.setattr(shells, "MAX_PAGES", 3)
    probe("v {{ code }}", lambda mark: {"code": mark("code")}, {"code": "x"})  # the probe's template
    request = RequestFactory().get("/")
    for i in range(6):
        shells.page(
            request, "game/shell_probe.html", lambda mark: {"code": mark("code")}, {"code": "x"}, variant=i
        )
        assert len(shells._pages) <= 3
    assert [k[2] for k in shells._pages] == [3, 4, 5]
