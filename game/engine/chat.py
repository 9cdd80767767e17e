"""Who may talk where, and what a chat message may contain."""

from __future__ import annotations

import unicodedata

from game.engine.rules import RuleViolation, gettext_noop
from game.engine.scenario import Scenario

TABLE = "table"
MAX_TEXT = 2000


def channel_name(a: str, b: str) -> str:
    """The private channel of two roles: their keys sorted and joined by '+'."""
    return "+".join(sorted((a, b)))


def private_channels(scenario: Scenario, role: str) -> list[str]:
    return [channel_name(role, other) for other in scenario.role_keys if other != role]


def audience_of(channel: str) -> str:
    return TABLE if channel == TABLE else f"channel:{channel}"


def can_read(audience: str, role: str | None, *, host: bool = False) -> bool:
    """May a seat of ``role`` (or the host) read an event with this audience?"""
    if host:
        return True
    if audience == TABLE:
        return True
    if role is None:
        return False
    kind, _, rest = audience.partition(":")
    if kind == "channel":
        return role in rest.split("+")
    if kind == "role":
        return rest == role
    return False


def clean_text(text: object) -> str:
    """Plain text: control characters other than newlines and tabs are dropped."""
    if not isinstance(text, str):
        raise RuleViolation("invalid", gettext_noop("The message text must be a string."))
    if text.isprintable():  # no "Other" character at all (Cc, Cf, Cs, Co, Cn): nothing to drop
        cleaned = text.strip()
    else:
        cleaned = "".join(
            ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
        ).strip()
    if not cleaned:
        raise RuleViolation("invalid", gettext_noop("The message is empty: write something first."))
    if len(cleaned) > MAX_TEXT:
        raise RuleViolation(
            "invalid", gettext_noop("The message is too long: at most {limit} characters."), limit=MAX_TEXT
        )
    return cleaned


def check_channel(scenario: Scenario, role: str, channel: object) -> str:
    """The audience of a message from ``role`` on ``channel``, or RuleViolation."""
    if not isinstance(channel, str):
        raise RuleViolation(
            "invalid", gettext_noop("Say which channel: 'table' or a private one like 'russia+us'.")
        )
    if channel != TABLE:
        parts = channel.split("+")
        if len(parts) != 2 or any(p not in scenario.role_keys for p in parts) or parts[0] == parts[1]:
            raise RuleViolation(
                "invalid", gettext_noop("There is no channel {channel} at this table."), channel=repr(channel)
            )
        if channel != channel_name(*parts):
            raise RuleViolation(
                "invalid",
                gettext_noop("Write the channel as {channel} (keys sorted)."),
                channel=repr(channel_name(*parts)),
            )
        if role not in parts:
            raise RuleViolation(
                "forbidden", gettext_noop("You can only write in private channels that include your role.")
            )
    return audience_of(channel)


def check_open(started: bool, ended: bool) -> None:
    """Talk only while the game at the table is on (the table's started and ended flags)."""
    if not started:
        raise RuleViolation(
            "phase", gettext_noop("The session has not started yet: wait for your instructor.")
        )
    if ended:
        raise RuleViolation("phase", gettext_noop("The game at this table has ended."))
