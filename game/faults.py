"""Outages of the database or the channel layer: how they are recognised, answered and logged.

A failure of PostgreSQL, SQLite's lock or Redis is not the client's fault and changes nothing, so
a socket answers it with the retryable error code ``unavailable`` and a suggested delay
(``docs/protocol.md``); pages keep the action and send it again with the same ``ref``.

Logging: one line per failure, with its cause; a traceback only the first time a distinct failure
is seen in an outage; one line when the part works again, with how long it was out.
"""

from __future__ import annotations

import logging
import re
import threading
import time

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy

log = logging.getLogger("game.faults")

# Seconds a client should wait before sending the same message again.
RETRY_AFTER = 1.0

UNAVAILABLE_MESSAGE = gettext_lazy(
    "The server cannot reach its database right now; nothing changed. "
    "Your page sends this again by itself in a moment."
)
RESTARTING_MESSAGE = gettext_lazy(
    "This server is restarting; nothing changed. Your page sends this again by itself."
)


def _channel_layer_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    try:
        import redis.exceptions

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    return tuple(errors)


CHANNEL_LAYER_ERRORS = _channel_layer_errors()


class Restarting(Exception):
    """Raised for work refused because this worker is draining (``game.lifecycle``)."""


def part_of(exc: BaseException) -> str | None:
    """'database' or 'channel layer' if ``exc`` is an outage of that part, else None."""
    if isinstance(exc, OperationalError | InterfaceError):
        return "database"
    if isinstance(exc, CHANNEL_LAYER_ERRORS) or type(exc).__module__.startswith("redis"):
        return "channel layer"
    if isinstance(exc, Restarting):
        return "worker"
    return None


def is_unavailable(exc: BaseException) -> bool:
    return part_of(exc) is not None


def describe(exc: BaseException) -> str:
    """``TypeName: first line of the message`` (a cause short enough for one log line)."""
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _signature(what: str, exc: BaseException) -> str:
    # Numbers (ports, pids, ids) differ between otherwise identical failures.
    return f"{what}|{type(exc).__name__}|" + re.sub(r"\d+", "N", describe(exc))


class _Outages:
    """Per part: when it started failing, how often, and which failures were already traced."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_since: dict[str, float] = {}
        self.failures: dict[str, int] = {}
        self.traced: set[str] = set()

    def failed(self, part: str, what: str, exc: BaseException, extra: str = "") -> None:
        sig = f"{part}|{_signature(what, exc)}"
        with self.lock:
            self.down_since.setdefault(part, time.monotonic())
            self.failures[part] = self.failures.get(part, 0) + 1
            first = sig not in self.traced
            if first:
                if len(self.traced) > 500:
                    self.traced.clear()
                self.traced.add(sig)
        suffix = f" ({extra})" if extra else ""
        if first:
            log.error("%s unavailable: %s failed: %s%s", part, what, describe(exc), suffix, exc_info=exc)
        else:
            log.warning("%s unavailable: %s failed: %s%s", part, what, describe(exc), suffix)

    def worked(self, part: str) -> None:
        if part not in self.down_since:  # the common case: no lock, no work
            return
        with self.lock:
            since = self.down_since.pop(part, None)
            n = self.failures.pop(part, 0)
            self.traced = {s for s in self.traced if not s.startswith(part + "|")}
        if since is not None:
            log.warning(
                "%s reachable again after %.1f s (%d failed calls)", part, time.monotonic() - since, n
            )


outages = _Outages()


def report(what: str, exc: BaseException, extra: str = "") -> None:
    """Log a failure: one line with its cause, a traceback the first time this failure is seen.
    An outage of the database or channel layer is counted until that part works again."""
    part = part_of(exc)
    if part is None or part == "worker":
        if part == "worker":
            log.info("%s refused: %s", what, describe(exc))
            return
        outages.failed("error", what, exc, extra)
        return
    outages.failed(part, what, exc, extra)


def worked(part: str = "database") -> None:
    outages.worked(part)
