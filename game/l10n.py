"""The interface's languages: the JavaScript catalogue and the language menu's choices.

The pages' scripts translate with Django's JavaScript catalogue (``gettext``, ``ngettext``,
``interpolate`` as globals). It is served from this site at an address that names its language
and a digest of its compiled catalogue, ``/jsi18n/uk.<digest>.js``: a browser keeps it for a year
and fetches a new one only when the translations change (a new digest) or the reader picks another
language (another address). The page loads it with an ordinary ``<script src>`` before its modules,
which the Content-Security-Policy allows ('self').
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

DOMAIN = "djangojs"
YEAR = 60 * 60 * 24 * 365


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def current_language() -> str:
    """The active interface language, as one of ``LANGUAGES`` (English otherwise)."""
    code = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return code if code in language_codes() else settings.LANGUAGE_CODE


def _catalogue_files(lang: str) -> list[Path]:
    return [Path(p) / lang / "LC_MESSAGES" / f"{DOMAIN}.mo" for p in settings.LOCALE_PATHS]


def _digest(lang: str) -> str:
    h = hashlib.sha256(lang.encode())
    for f in _catalogue_files(lang):
        try:
            h.update(f.read_bytes())
        except FileNotFoundError:
            h.update(b"-")
    return h.hexdigest()[:12]


_cached_digest = lru_cache(maxsize=16)(_digest)


def catalogue_digest(lang: str) -> str:
    """A digest of the language's compiled catalogue (recomputed on every call in development,
    where the catalogue may be recompiled while the server runs)."""
    return _digest(lang) if settings.DEBUG else _cached_digest(lang)


def catalogue_url(lang: str | None = None) -> str:
    lang = lang or current_language()
    return reverse("js_catalogue", kwargs={"lang": lang, "digest": catalogue_digest(lang)})


_bodies: dict[tuple[str, str], bytes] = {}


def _render(request: HttpRequest, lang: str) -> bytes:
    with translation.override(lang):
        response = JavaScriptCatalog.as_view(domain=DOMAIN, packages=["game"])(request)
    return response.content


@require_GET
def js_catalogue(request: HttpRequest, lang: str, digest: str) -> HttpResponse:
    if lang not in language_codes():
        raise Http404("No such language.")
    current = catalogue_digest(lang)
    if digest != current:
        # An address from before the translations changed: the current catalogue's.
        response = HttpResponseRedirect(catalogue_url(lang))
        response["Cache-Control"] = "no-cache"
        return response
    key = (lang, current)
    body = _bodies.get(key)
    if body is None or settings.DEBUG:
        body = _bodies[key] = _render(request, lang)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    response["Content-Language"] = lang
    return response


def _supported(code) -> str | None:
    if not isinstance(code, str) or not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0]
    return base if base in language_codes() else None


def scope_language(scope: dict) -> str:
    """The language of a WebSocket: the ``?lang=`` its page passes (the page's own language),
    else the language cookie, else the handshake's ``Accept-Language``, else English."""
    from http.cookies import CookieError, SimpleCookie
    from urllib.parse import parse_qs

    from django.utils.translation.trans_real import parse_accept_lang_header

    query = scope.get("query_string") or b""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    chosen = _supported((parse_qs(query).get("lang") or [None])[0])
    if chosen:
        return chosen
    headers = {}
    for name, value in scope.get("headers") or ():
        try:
            headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        except (AttributeError, UnicodeDecodeError):
            continue
    cookies = scope.get("cookies")
    cookie = cookies.get(settings.LANGUAGE_COOKIE_NAME) if isinstance(cookies, dict) else None
    if cookie is None:
        jar = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except CookieError:
            jar = SimpleCookie()
        cookie = jar[settings.LANGUAGE_COOKIE_NAME].value if settings.LANGUAGE_COOKIE_NAME in jar else None
    chosen = _supported(cookie)
    if chosen:
        return chosen
    for code, _q in parse_accept_lang_header(headers.get("accept-language", "")):
        chosen = _supported(code)
        if chosen:
            return chosen
    return settings.LANGUAGE_CODE
