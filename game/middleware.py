"""Middleware of the game: HTTP pages during an outage (503 with Retry-After and a page that
retries, not a 500), and the Permissions-Policy header."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.html import escape

from game import faults

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{delay}"><title>Reconnecting… · Negotiation game</title>
<style nonce="{nonce}">body{{font:1.05rem/1.5 system-ui,sans-serif;max-width:36rem;margin:12vh auto;padding:0 1.25rem;color:#1d2430}}
h1{{font-size:1.4rem}}</style></head>
<body><h1>Reconnecting…</h1>
<p>The game server cannot reach its {part} for a moment. Nothing you did is lost.</p>
<p>This page tries again by itself every {delay} seconds.</p></body></html>"""


class OutageMiddleware:
    """A view that fails because the database (or channel layer) is out answers 503 with
    ``Retry-After`` and a page that reloads itself; the log gets one line, not a traceback."""

    RETRY_SECONDS = 5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        part = faults.part_of(exception)
        if part is None:
            return None
        faults.report(f"{request.method} {request.path}", exception)
        # The page's one style block carries the Content-Security-Policy nonce of this response.
        nonce = escape(str(getattr(request, "csp_nonce", "")))  # lazy: evaluating it adds it to the header
        body = PAGE.format(delay=self.RETRY_SECONDS, part=escape(part), nonce=nonce)
        response = HttpResponse(body, status=503)
        response["Retry-After"] = str(self.RETRY_SECONDS)
        response["Cache-Control"] = "no-store"
        response._has_been_logged = True  # the line above says it, with its cause
        return response


class PermissionsPolicyMiddleware:
    """``Permissions-Policy`` on every response: the browser features the game never uses
    (camera, microphone, location, payment, …) are switched off for every page."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.value = settings.PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.value)
        return response
