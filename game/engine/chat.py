"""Who may talk where, and what a chat message may contain."""

from __future__ import annotations

import unicodedata

from game.engine.rules import RuleViolation
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
        raise RuleViolation("invalid", "The message text must be a string.")
    cleaned = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    ).strip()
    if not cleaned:
        raise RuleViolation("invalid", "The message is empty: write something first.")
    if len(cleaned) > MAX_TEXT:
        raise RuleViolation("invalid", f"The message is too long: at most {MAX_TEXT} characters.")
    return cleaned


def check_channel(scenario: Scenario, role: str, channel: object) -> str:
    """The audience of a message from ``role`` on ``channel``, or RuleViolation."""
    if not isinstance(channel, str):
        raise RuleViolation("invalid", "Say which channel: 'table' or a private one like 'russia+us'.")
    if channel != TABLE:
        parts = channel.split("+")
        if len(parts) != 2 or any(p not in scenario.role_keys for p in parts) or parts[0] == parts[1]:
            raise RuleViolation("invalid", f"There is no channel {channel!r} at this table.")
        if channel != channel_name(*parts):
            raise RuleViolation("invalid", f"Write the channel as {channel_name(*parts)!r} (keys sorted).")
        if role not in parts:
            raise RuleViolation("forbidden", "You can only write in private channels that include your role.")
    return audience_of(channel)


def check_open(started: bool, ended: bool) -> None:
    """Talk only while the game at the table is on (the table's started and ended flags)."""
    if not started:
        raise RuleViolation("phase", "The session has not started yet: wait for your instructor.")
    if ended:
        raise RuleViolation("phase", "The game at this table has ended.")
