"""Pages every student opens, rendered once per language and kept, the request's own values set in.

The join page and the player page are the same for every student but for a few values: the
player's name and rejoin code, the session's code, the CSRF token of the forms, the
Content-Security-Policy nonce and the page's own address (the language menu's ``next``). A
lecture hall opens them hundreds of times a minute, and rendering the template (a few hundred
translated strings and tags) was the largest part of serving them (docs/performance.md).

So a page is rendered once per template, language and variant with a marker in place of each of
those values, split at the markers, and kept; a request joins the pieces with its own values,
escaped as the template would have escaped them (``{{ value }}`` under autoescape, which is the
only way these templates print them). tests/test_shells.py holds every kept page to a fresh
render of the same request, names full of markup included.

A kept page lives as long as the worker, as the compiled templates of Django's cached template
loader do (on in every configuration since Django 4.1): an edited template shows after a restart.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Hashable, Mapping

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.translation import get_language

# The markers: characters of Unicode's private use area, which escaping leaves alone, around a
# random word drawn per process, so no text a page shows (a scenario's title, a name) can forge one.
# A page is rendered a second time with another word: a template that printed a marked value
# through a filter (which changes the marker) would give two different pages, and is refused.
_WORD, _OTHER_WORD = secrets.token_hex(8), secrets.token_hex(8)

MAX_PAGES = 500  # pages kept per process (a template, a language and a variant each)

_pages: dict[tuple, tuple[tuple[str, ...], tuple[str, ...]]] = {}
_lock = threading.Lock()


Marks = Callable[[str], str]  # a value's name -> the marker that stands for it in a kept page


def _marks(word: str) -> Marks:
    return lambda name: f"\ue000{word}:{name}\ue001"


_REQUEST_WIDE = {
    "csrf_token": get_token,
    "csp_nonce": lambda request: str(getattr(request, "csp_nonce", "")),
    "full_path": lambda request: request.get_full_path(),
}


class _PathOnly:
    """What the templates read of the request itself: its address (the language menu's ``next``)."""

    def __init__(self, path: str) -> None:
        self._path = path

    def get_full_path(self) -> str:
        return self._path


def page(
    request: HttpRequest,
    template: str,
    context: Callable[[Marks], Mapping[str, object]],
    values: Mapping[str, str],
    variant: Hashable = (),
) -> HttpResponse:
    """``render(request, template, context(mark))`` from the page kept for this template, language
    and ``variant``: ``context`` builds the template's context with ``mark(name)`` in place of each
    of ``values`` (the request's own, unescaped); ``variant`` is whatever else in the context
    differs between requests (it must decide the rest of the page)."""
    key = (template, get_language(), variant)
    kept = _pages.get(key)
    if kept is None:
        kept, again = (_split(request, template, context, word) for word in (_WORD, _OTHER_WORD))
        if kept != again:
            raise ValueError(f"{template} prints a marked value other than plainly ({{{{ value }}}})")
        missing = set(kept[1]) - set(values) - set(_REQUEST_WIDE)
        if missing:
            raise KeyError(f"{template}: no value for {sorted(missing)}")
        with _lock:
            while len(_pages) >= MAX_PAGES:  # the oldest kept page goes first
                _pages.pop(next(iter(_pages)), None)
            _pages[key] = kept
    text, slots = kept
    # The request-wide values only where the page prints them, as the template's tags would: the
    # token sets the CSRF cookie, the nonce enters the Content-Security-Policy header.
    escaped = {k: escape(values[k] if k in values else _REQUEST_WIDE[k](request)) for k in set(slots)}
    out = [text[0]]
    for name, after in zip(slots, text[1:], strict=True):
        out.append(escaped[name])
        out.append(after)
    return HttpResponse("".join(out))


def _split(request: HttpRequest, template: str, context: Callable[[Marks], Mapping[str, object]], word: str):
    """The page rendered with the markers of ``word``: its text between the markers, and the
    names of the values that go between."""
    mark = _marks(word)
    ctx = dict(context(mark))
    ctx["csrf_token"] = mark("csrf_token")
    ctx["CSP_NONCE"] = mark("csp_nonce")
    ctx["request"] = _PathOnly(mark("full_path"))
    parts = re.split("\ue000" + word + r":(\w+)\ue001", render_to_string(template, ctx, request=request))
    return tuple(parts[0::2]), tuple(parts[1::2])


def clear() -> None:
    """Forget every kept page (tests; a template changed under a running worker)."""
    with _lock:
        _pages.clear()
