"""What a service refuses with: one error type, its code the contract's error code."""

from __future__ import annotations

from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext

from game.engine.rules import RuleViolation


class ServiceError(Exception):
    """A refusal with a contract error code; nothing was changed. ``message`` is a lazy
    translation: it reads in the language active where it is turned into text (the socket's
    language when a socket sends it, the page's in a view)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _engine_text(texts: tuple[tuple[str, dict[str, Any]], ...]) -> str:
    """The engine's refusal (``RuleViolation.texts``) in the active language."""
    return " ".join(gettext(t).format(**v) if v else gettext(t) for t, v in texts)


engine_message = lazy(_engine_text, str)


def refusal(e: RuleViolation) -> ServiceError:
    """The engine's refusal as the service's, its words translated where they are read."""
    return ServiceError(e.code, engine_message(e.texts))
