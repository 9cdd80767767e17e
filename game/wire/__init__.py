"""The wire: every frame a socket may send, read in one place, and every frame the server sends,
built in one place.

A frame is a JSON object with a ``type`` and, for anything that changes the game, a ``ref``
(docs/protocol.md). Here a frame's header (its ``ref`` and ``type``) and then its fields are
checked for shape -- whole numbers, text, lists -- and it becomes a typed action, one frozen
dataclass per ``type``, found in one dispatch table per socket (``PLAYER_FRAMES``,
``HOST_FRAMES``). A frame that cannot be read is refused with a ``WireError``; what the game's
rules say about a readable action (a package with an unknown option, a chat channel one may not
use, a phase that does not allow it) is the engine's ``RuleViolation`` or a service's
``ServiceError``, decided further in. Nothing here touches the database.

The sockets (game/consumers.py) read every frame here; the services accept the typed actions,
and read a plain dict (from the bots or a test) through the same functions, so there is one
reading of each field. That is the incoming half (game/wire/incoming.py).

The outgoing half (game/wire/outgoing.py) builds every frame the server sends: the answers
(``ack``, ``error``, ``preview``), the snapshots (``state``, ``host.state``) from the rows the
services read (game/services/snapshots.py, game/host.py), the data a table's events carry and
each event as its reader receives it, in their language. Callers import the package
(``from game import wire``) and use both halves through it.
"""

from game.wire.incoming import *  # noqa: F403
from game.wire.incoming import __all__ as _incoming
from game.wire.outgoing import *  # noqa: F403
from game.wire.outgoing import __all__ as _outgoing

__all__ = [*_incoming, *_outgoing]
