"""Log lines an instructor reads in the terminal of `make run`."""

from __future__ import annotations

import logging
import re

_HOST = re.compile(r"Invalid HTTP_HOST header: '([^']*)'")


class OneLineDisallowedHost(logging.Filter):
    """A request for a host this server does not answer (a wrong address typed, or a name pointed
    at the machine by someone else) is one line saying what to do, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        m = _HOST.search(record.getMessage())
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        record.msg = (
            "Refused a request for host %r: not an address or name of this computer "
            "(if students should use it, add it with DJANGO_ALLOWED_HOSTS)."
        )
        record.args = (m.group(1) if m else "?",)
        return True
