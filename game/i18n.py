"""Which language a person reads the scenario in.

A scenario's texts exist in English and in each language its translations cover
(``Scenario.localized``); students at one table may read different languages while the
proposals and scores are the same for all. The language is chosen where Django chooses the
interface's:

- an HTTP request: ``request.LANGUAGE_CODE`` when ``LocaleMiddleware`` has set it, else
  Django's own choice from the request (the ``django_language`` cookie, then the browser's
  ``Accept-Language``);
- a WebSocket: the language of the page that opened it, which the page passes as ``?lang=`` on
  the socket's URL; failing that, the same cookie and ``Accept-Language`` header, which a
  browser sends with the socket's handshake too.

Anything that is not one of the game's languages (``LANGUAGES``) falls back to English.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from game.engine.scenario import LANGUAGE_NAMES, LANGUAGES

DEFAULT = "en"


def supported(code: Any) -> str | None:
    """The game's language for a language code ("uk", "uk-UA", "de_AT"), or None."""
    if not isinstance(code, str) or not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


def default_language() -> str:
    return supported(settings.LANGUAGE_CODE) or DEFAULT


def request_language(request: HttpRequest) -> str:
    """The language of an HTTP request (see the module's docstring)."""
    chosen = supported(getattr(request, "LANGUAGE_CODE", None))
    if chosen:
        return chosen
    return supported(translation.get_language_from_request(request)) or default_language()


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers") or ():
        try:
            out[name.decode("latin-1").lower()] = value.decode("latin-1")
        except (AttributeError, UnicodeDecodeError):
            continue
    return out


def _cookie(scope: dict[str, Any], headers: dict[str, str], name: str) -> str | None:
    cookies = scope.get("cookies")
    if isinstance(cookies, dict) and name in cookies:
        return cookies[name]
    from http.cookies import CookieError, SimpleCookie

    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except CookieError:
        return None
    return jar[name].value if name in jar else None


def scope_language(scope: dict[str, Any]) -> str:
    """The language of a WebSocket (see the module's docstring)."""
    query = scope.get("query_string") or b""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    chosen = supported((parse_qs(query).get("lang") or [None])[0])
    if chosen:
        return chosen
    headers = _headers(scope)
    chosen = supported(_cookie(scope, headers, settings.LANGUAGE_COOKIE_NAME))
    if chosen:
        return chosen
    for code, _q in parse_accept_lang_header(headers.get("accept-language", "")):
        chosen = supported(code)
        if chosen:
            return chosen
    return default_language()


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)
