"""Counting requests per client address: the join form's throttle.

Counts live in Django's cache (per process by default). In a department deployment nginx's
``ip_hash`` sends one address to one worker, so a per-process count is the address's count.
A cache that fails never blocks a student: the request is let through and the failure logged.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.http import HttpRequest

log = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str | None:
    """The client's address, or None when the request has none (a login made in-process). Daphne
    with ``--proxy-headers`` (docs/deployment.md) puts the address nginx saw into REMOTE_ADDR, so
    this is the student's, not the proxy's. Also the login throttle's (axes) idea of the address,
    which it stores in an address column: never a made-up string."""
    return request.META.get("REMOTE_ADDR") or None


class Window:
    """At most ``limit`` events per ``seconds`` for one key, counted in two fixed halves of the
    window (a sliding approximation that needs two cache keys and no list of timestamps)."""

    def __init__(self, name: str, limit: int, seconds: int):
        self.name, self.limit, self.seconds = name, limit, seconds

    def _keys(self, key: str, now: float) -> tuple[str, str]:
        half = max(1, self.seconds // 2)
        slot = int(now // half)
        return f"throttle:{self.name}:{key}:{slot}", f"throttle:{self.name}:{key}:{slot - 1}"

    def count(self, key: str) -> int:
        cur, prev = self._keys(key, time.time())
        try:
            got = cache.get_many([cur, prev])
        except Exception:
            log.warning("throttle %s: the cache did not answer; letting the request through", self.name)
            return 0
        return int(got.get(cur, 0)) + int(got.get(prev, 0))

    def blocked(self, key: str) -> bool:
        return self.limit > 0 and self.count(key) >= self.limit

    def hit(self, key: str) -> None:
        cur, _prev = self._keys(key, time.time())
        try:
            if not cache.add(cur, 1, self.seconds + 5):
                cache.incr(cur)
        except ValueError:  # expired between add and incr
            cache.add(cur, 1, self.seconds + 5)
        except Exception:
            log.warning("throttle %s: the cache did not answer; not counted", self.name)

    def retry_after(self) -> int:
        return max(1, self.seconds // 2)
