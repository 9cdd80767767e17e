"""Log lines an outage can be timed and traced with: time, level, worker, session code and table.

Every line carries a UTC timestamp with milliseconds, its level and the worker's name
(``GAME_WORKER_NAME``, set per systemd unit; else ``pid<N>``). A line written while a socket
handles a game, in its own code or in the services it calls, also carries the session's code and
the table: consumers set them in context variables, which ``sync_to_async`` carries into the
database threads. ``GAME_LOG_FORMAT=json`` writes one JSON object per line instead.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import time

session_code: contextvars.ContextVar[str | None] = contextvars.ContextVar("game_session", default=None)
table_label: contextvars.ContextVar[str | None] = contextvars.ContextVar("game_table", default=None)


def worker_name() -> str:
    return os.environ.get("GAME_WORKER_NAME") or f"pid{os.getpid()}"


def set_game(code: str | None = None, table: int | str | None = None) -> None:
    """Mark the current task (and the database calls it makes) as concerning this game."""
    if code is not None:
        session_code.set(code)
    table_label.set(None if table is None else str(table))


def clear_game() -> None:
    session_code.set(None)
    table_label.set(None)


class GameContext(logging.Filter):
    """Adds ``worker``, ``session`` and ``table`` to every record (``-`` where unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = worker_name()
        if not hasattr(record, "session"):
            record.session = session_code.get() or "-"
        if not hasattr(record, "table"):
            record.table = table_label.get() or "-"
        return True


def _stamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s worker=%(worker)s session=%(session)s table=%(table)s %(name)s: %(message)s"
        )

    def formatTime(self, record, datefmt=None):
        return _stamp(record)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": _stamp(record),
            "level": record.levelname,
            "worker": getattr(record, "worker", worker_name()),
            "session": getattr(record, "session", "-"),
            "table": getattr(record, "table", "-"),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)
