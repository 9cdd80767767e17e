"""WebSockets only from this server's own pages: the Origin must be the full origin (scheme, host
and port) of the address the socket was opened on.

channels' AllowedHostsOriginValidator compares host names only, so with a permissive
ALLOWED_HOSTS any page could open a socket, and a page served by another program on the same
machine (another port) always could. Here a socket is accepted when

- its Host header names an allowed host (the check Django makes for every HTTP request), and
- its Origin equals ``scheme://Host`` (http for ws, https for wss or behind a TLS proxy that says
  so in X-Forwarded-Proto), default ports written or not, or is listed in CSRF_TRUSTED_ORIGINS.

Forms get the same rule from Django's CSRF middleware (Origin against ``scheme://Host``).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

log = logging.getLogger("game.security")

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def normalise_origin(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or URL; None if it is not one (e.g. 'null')."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port if port is not None else DEFAULT_PORTS[scheme]


def _trusted(origin: tuple[str, str, int]) -> bool:
    """Listed in CSRF_TRUSTED_ORIGINS (exactly, or under a ``scheme://*.domain`` pattern)."""
    for pattern in getattr(settings, "CSRF_TRUSTED_ORIGINS", []):
        if "://*." in pattern:
            want = normalise_origin(pattern.replace("://*.", "://", 1))
            if want and (origin[0], origin[2]) == (want[0], want[2]) and origin[1].endswith("." + want[1]):
                return True
        elif normalise_origin(pattern) == origin:
            return True
    return False


def _secure(scope: dict, headers: dict[bytes, bytes]) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, value = proxy
        key = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        got = headers.get(key, b"").decode("latin1").split(",", 1)[0].strip()
        return got == value
    return False


def socket_origin_refusal(scope: dict) -> str | None:
    """Why a WebSocket handshake is refused, or None if it comes from this server's own page."""
    headers: dict[bytes, bytes] = {}
    for name, value in scope.get("headers", []):
        headers.setdefault(bytes(name).lower(), bytes(value))
    host = headers.get(b"host", b"").decode("latin1").strip()
    origin_raw = headers.get(b"origin", b"").decode("latin1").strip()
    if not host:
        return "no Host header"
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return f"Host {host!r} is not one of this server's addresses"
    if not origin_raw:
        return "no Origin header"
    origin = normalise_origin(origin_raw)
    if origin is None:
        return f"Origin {origin_raw!r} is not an origin"
    expected = normalise_origin(f"{'https' if _secure(scope, headers) else 'http'}://{host}")
    if origin == expected or _trusted(origin):
        return None
    return f"Origin {origin_raw!r} is not this server's page ({expected[0]}://{host})"


class SameOriginValidator:
    """ASGI middleware for the websocket router: refuses handshakes from other origins."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            why = socket_origin_refusal(scope)
            if why is not None:
                log.warning("WebSocket refused on %s: %s", scope.get("path", ""), why)
                return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
