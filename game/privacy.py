"""Students' data: anonymising an ended session, and purging old ones (docs/privacy.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy

from game.models import ClientRef, Connection, Event, GameSession, Player
from game.services.errors import ServiceError


def _label(role_names: dict[str, str], player: Player, table_numbers: dict[int, int]) -> str:
    if player.table_id is None or not player.role:
        return f"Player {player.pk}"
    return f"Table {table_numbers.get(player.table_id, '?')} {role_names.get(player.role, player.role)}"


@transaction.atomic
def anonymise_session(session_id: int) -> dict[str, int]:
    """Replace every student's name by their role and table ("Table 2 Russia", "Table 2 Russia 2"
    for a team's second member), remove every private channel's messages, and forget sockets and
    replayed answers. Kept: the scenario, seats, table chat, proposals, answers, news, outcomes and
    scores, so the results still serve research. Only an ended session can be anonymised, once."""
    session = GameSession.objects.select_for_update().get(pk=session_id)
    if session.status != GameSession.ENDED:
        raise ServiceError(
            "phase", gettext_lazy("End the session first: only an ended session can be anonymised.")
        )
    if session.anonymised_at is not None:
        raise ServiceError("conflict", gettext_lazy("This session is already anonymised."))
    scenario = session.engine_scenario()
    role_names = {r.key: r.name for r in scenario.roles}
    tables = dict(session.tables.values_list("pk", "number"))
    new_names: dict[str, str] = {}
    used: set[str] = set()
    players = list(session.players.order_by("table_id", "role", "pk"))
    # Free every name first: the new names must not collide with old ones on the unique key.
    Player.objects.filter(session=session).update(name_key=Concat(Value("tmp:"), Cast(F("pk"), CharField())))
    for p in players:
        base = _label(role_names, p, tables)
        label, n = base, 2
        while label.casefold() in used:
            label, n = f"{base} {n}", n + 1
        used.add(label.casefold())
        new_names[p.name] = label
        Player.objects.filter(pk=p.pk).update(name=label, name_key=f"anon:{label.casefold()}")
    private = Event.objects.filter(table__session=session, audience__startswith="channel:")
    removed_chats = private.count()
    private.delete()
    renamed = 0
    for e in Event.objects.filter(table__session=session, kind__in=("chat.message", "presence", "seats")):
        data = _rename(e.data, new_names)
        if data != e.data:
            Event.objects.filter(pk=e.pk).update(data=data)
            renamed += 1
    ClientRef.objects.filter(player__session=session).delete()
    Connection.objects.filter(player__session=session).delete()
    session.anonymised_at = timezone.now()
    session.save(update_fields=["anonymised_at"])
    return {"players": len(players), "private_messages_removed": removed_chats, "events_renamed": renamed}


def _rename(data: Any, names: dict[str, str]) -> Any:
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if k == "name" and isinstance(v, str):
                out[k] = names.get(v, "A player")
            elif k == "names" and isinstance(v, list):
                out[k] = [names.get(x, "A player") if isinstance(x, str) else x for x in v]
            else:
                out[k] = _rename(v, names)
        return out
    if isinstance(data, list):
        return [_rename(x, names) for x in data]
    return data


def purge_sessions(older_than_days: int, *, dry_run: bool = False) -> dict[str, int]:
    """Delete the sessions that ended more than ``older_than_days`` days ago, with their tables,
    players, event logs (chats included), sockets and replayed answers."""
    if not isinstance(older_than_days, int) or isinstance(older_than_days, bool) or older_than_days < 0:
        raise ValueError("The age must be a whole number of days, 0 or more.")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    old = GameSession.objects.filter(status=GameSession.ENDED, ended_at__lt=cutoff)
    counts = {
        "sessions": old.count(),
        "players": Player.objects.filter(session__in=old).count(),
        "events": Event.objects.filter(table__session__in=old).count(),
    }
    if not dry_run and counts["sessions"]:
        with transaction.atomic():
            # One session at a time: each statement stays small on a large database.
            for session_id in list(old.values_list("pk", flat=True)):
                Event.objects.filter(table__session_id=session_id).delete()
                GameSession.objects.filter(pk=session_id).delete()
    return counts
