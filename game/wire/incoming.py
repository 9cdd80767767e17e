"""The incoming half of the wire (game/wire/): every frame a player's or an instructor's socket may
send, read into a typed action or refused with a ``WireError``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from game.services.errors import ServiceError

MAX_REF_LENGTH = 64


class WireError(ServiceError):
    """A frame the server cannot read: nothing was changed. ``code`` is the contract's error code
    (``invalid``, ``unknown_type``); ``ref`` is the frame's own when it could be read. A kind of
    ``ServiceError`` (whoever answers refusals answers it the same way), never a ``RuleViolation``:
    the rules only ever see actions that could be read."""

    def __init__(self, code: str, message: Any, ref: str | None = None):
        super().__init__(code, message)
        self.ref = ref


# -- reading one field -------------------------------------------------------------------------


def _whole(msg: dict[str, Any], field: str, ref: str | None, message: Any = None) -> int:
    v = msg.get(field)
    if not isinstance(v, int) or isinstance(v, bool):
        raise WireError(
            "invalid",
            message or format_lazy(gettext_lazy("{field} must be a whole number."), field=field),
            ref,
        )
    return v


def ref_of(msg: dict[str, Any]) -> str | None:
    """The frame's ``ref``: None, or text of at most 64 characters."""
    ref = msg.get("ref")
    if ref is not None and (not isinstance(ref, str) or len(ref) > MAX_REF_LENGTH):
        raise WireError("invalid", gettext_lazy("ref must be a string of at most 64 characters."))
    return ref


def header(msg: Any) -> tuple[str | None, str]:
    """A frame's ``ref`` and ``type``, checked before anything else (and before the rate limit)."""
    ref = ref_of(msg)
    kind = msg.get("type")
    if not isinstance(kind, str):
        raise WireError("invalid", gettext_lazy("Every message needs a 'type'."), ref)
    return ref, kind


# -- the player's frames -----------------------------------------------------------------------


@dataclass(frozen=True)
class Hello:
    """A socket's (re)start: send the snapshot, and the events after ``since`` if given."""

    ref: str | None
    since: int | None


@dataclass(frozen=True)
class Preview:
    """What a package would give this player (nothing is written)."""

    ref: str | None
    terms: Any  # the engine checks the package (rules.check_terms)


@dataclass(frozen=True)
class ChatSend:
    ref: str | None
    channel: Any  # the engine's chat rules check who may talk where
    text: Any  # and what a line may contain


@dataclass(frozen=True)
class ProposalMake:
    ref: str | None
    terms: Any
    note: str
    replaces: int | None


@dataclass(frozen=True)
class ProposalAnswer:
    ref: str | None
    proposal: int
    answer: Any  # accept / reject: the engine's rule


@dataclass(frozen=True)
class ProposalWithdraw:
    ref: str | None
    proposal: int


PlayerAction = Hello | Preview | ChatSend | ProposalMake | ProposalAnswer | ProposalWithdraw


def _hello(msg: dict[str, Any], ref: str | None) -> Hello:
    since = msg.get("since")
    if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
        raise WireError("invalid", gettext_lazy("since must be a non-negative whole number."), ref)
    return Hello(ref, since)


def _proposal_make(msg: dict[str, Any], ref: str | None) -> ProposalMake:
    note = msg.get("note", "") or ""
    if not isinstance(note, str):
        raise WireError("invalid", gettext_lazy("The note must be text."), ref)
    replaces = msg.get("replaces")
    if replaces is not None:
        replaces = _whole(msg, "replaces", ref, gettext_lazy("replaces must be the id of a proposal."))
    return ProposalMake(ref, msg.get("terms"), note, replaces)


def _proposal_id(msg: dict[str, Any], ref: str | None) -> int:
    return _whole(msg, "proposal", ref, gettext_lazy("proposal must be the id of a proposal."))


PLAYER_FRAMES = {
    "hello": _hello,
    "package.preview": lambda msg, ref: Preview(ref, msg.get("terms")),
    "chat.send": lambda msg, ref: ChatSend(ref, msg.get("channel"), msg.get("text")),
    "proposal.make": _proposal_make,
    "proposal.answer": lambda msg, ref: ProposalAnswer(ref, _proposal_id(msg, ref), msg.get("answer")),
    "proposal.withdraw": lambda msg, ref: ProposalWithdraw(ref, _proposal_id(msg, ref)),
}

# The player's frames that change the game: each is applied once per ``ref``.
MUTATING = frozenset({"chat.send", "proposal.make", "proposal.answer", "proposal.withdraw"})
MUTATING_ACTIONS = (ChatSend, ProposalMake, ProposalAnswer, ProposalWithdraw)


def unknown(kind: Any, ref: str | None) -> WireError:
    """The refusal of a ``type`` this socket does not take."""
    return WireError(
        "unknown_type", format_lazy(gettext_lazy("Unknown message type {type}."), type=repr(kind)), ref
    )


def player_action(
    msg: dict[str, Any] | PlayerAction, head: tuple[str | None, str] | None = None
) -> PlayerAction:
    """A player's frame as its typed action (an action already read is returned as it is).
    ``head``: the frame's header when the socket has read it already (``header``)."""
    if not isinstance(msg, dict):
        return msg
    ref, kind = head if head is not None else header(msg)
    read = PLAYER_FRAMES.get(kind)
    if read is None:
        raise unknown(kind, ref)
    return read(msg, ref)


# -- the instructor's frames -------------------------------------------------------------------


@dataclass(frozen=True)
class HostHello:
    ref: str | None


@dataclass(frozen=True)
class SessionStart:
    ref: str | None


@dataclass(frozen=True)
class PhaseAdvance:
    ref: str | None


@dataclass(frozen=True)
class PhaseExtend:
    ref: str | None
    seconds: Any  # the clock says which numbers of seconds it accepts (clock.extend_phase)
    confirm: bool  # taking off more than is left was confirmed


@dataclass(frozen=True)
class ClockPause:
    ref: str | None


@dataclass(frozen=True)
class ClockResume:
    ref: str | None


@dataclass(frozen=True)
class NewsInject:
    ref: str | None
    news: Any  # a news key of the scenario: the clock checks it (clock.inject_news)
    tables: Any  # None (every table) or a list of this session's table ids: checked there too


@dataclass(frozen=True)
class SessionEnd:
    ref: str | None


@dataclass(frozen=True)
class SeatMove:
    ref: str | None
    player: int
    table: int
    role: str


@dataclass(frozen=True)
class SeatRemove:
    ref: str | None
    player: int


@dataclass(frozen=True)
class SeatHandOver:
    ref: str | None
    player: int
    to: int


@dataclass(frozen=True)
class SeatReadmit:
    ref: str | None
    player: int


@dataclass(frozen=True)
class TableAdd:
    ref: str | None


@dataclass(frozen=True)
class SeatsFillBots:
    ref: str | None


@dataclass(frozen=True)
class SeatStandIn:
    ref: str | None
    player: int
    on: bool


HostAction = (
    HostHello
    | SessionStart
    | PhaseAdvance
    | PhaseExtend
    | ClockPause
    | ClockResume
    | NewsInject
    | SessionEnd
    | SeatMove
    | SeatRemove
    | SeatHandOver
    | SeatReadmit
    | TableAdd
    | SeatsFillBots
    | SeatStandIn
)


def _seat_move(msg: dict[str, Any], ref: str | None) -> SeatMove:
    role = msg.get("role")
    if not isinstance(role, str):
        raise WireError("invalid", gettext_lazy("role must be a role key."), ref)
    return SeatMove(ref, _whole(msg, "player", ref), _whole(msg, "table", ref), role)


HOST_FRAMES = {
    "hello": lambda msg, ref: HostHello(ref),
    "session.start": lambda msg, ref: SessionStart(ref),
    "phase.advance": lambda msg, ref: PhaseAdvance(ref),
    "phase.extend": lambda msg, ref: PhaseExtend(ref, msg.get("seconds"), msg.get("confirm") is True),
    "clock.pause": lambda msg, ref: ClockPause(ref),
    "clock.resume": lambda msg, ref: ClockResume(ref),
    "news.inject": lambda msg, ref: NewsInject(ref, msg.get("news"), msg.get("tables")),
    "session.end": lambda msg, ref: SessionEnd(ref),
    "seat.move": _seat_move,
    "seat.remove": lambda msg, ref: SeatRemove(ref, _whole(msg, "player", ref)),
    "seat.hand_over": lambda msg, ref: SeatHandOver(ref, _whole(msg, "player", ref), _whole(msg, "to", ref)),
    "seat.readmit": lambda msg, ref: SeatReadmit(ref, _whole(msg, "player", ref)),
    "table.add": lambda msg, ref: TableAdd(ref),
    "seats.fill_bots": lambda msg, ref: SeatsFillBots(ref),
    "seat.stand_in": lambda msg, ref: SeatStandIn(ref, _whole(msg, "player", ref), bool(msg.get("on", True))),
}


def host_action(msg: dict[str, Any] | HostAction, head: tuple[str | None, str] | None = None) -> HostAction:
    """An instructor's frame as its typed action (an action already read is returned as it is).
    ``head``: the frame's header when the socket has read it already (``header``)."""
    if not isinstance(msg, dict):
        return msg
    ref, kind = head if head is not None else header(msg)
    read = HOST_FRAMES.get(kind)
    if read is None:
        raise unknown(kind, ref)
    return read(msg, ref)


__all__ = [
    "HOST_FRAMES",
    "MAX_REF_LENGTH",
    "MUTATING",
    "MUTATING_ACTIONS",
    "PLAYER_FRAMES",
    "ChatSend",
    "ClockPause",
    "ClockResume",
    "Hello",
    "HostAction",
    "HostHello",
    "NewsInject",
    "PhaseAdvance",
    "PhaseExtend",
    "PlayerAction",
    "Preview",
    "ProposalAnswer",
    "ProposalMake",
    "ProposalWithdraw",
    "SeatHandOver",
    "SeatMove",
    "SeatReadmit",
    "SeatRemove",
    "SeatStandIn",
    "SeatsFillBots",
    "SessionEnd",
    "SessionStart",
    "TableAdd",
    "WireError",
    "header",
    "host_action",
    "player_action",
    "ref_of",
    "unknown",
]
