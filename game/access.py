"""Who may see and run what: instructors, co-instructors and department administrators.

* A session belongs to the instructor who opened it (``created_by``). Its owner, the
  co-instructors the owner added, and department administrators may see it, open its pages and
  exports, connect its host socket and control it. Anyone else is told it does not exist (404).
* An instructor is an active staff user with the ``game.host_sessions`` permission (the
  "Instructor" group gives it, with the scenario permissions; ``manage.py create_instructor``).
* A department administrator is a superuser or a member of the "Department administrator" group.
* A scenario belongs to its owner; one marked shared can be read, played and copied by every
  instructor. Only its owner and administrators may change it. A scenario without an owner is the
  department's (the shipped default, shared).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from game.roles import ADMINISTRATOR as ADMIN_GROUP
from game.roles import INSTRUCTOR as INSTRUCTOR_GROUP

HOST_PERMISSION = "game.host_sessions"


def _active_staff(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def is_admin(user: Any) -> bool:
    if not _active_staff(user):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_game_is_admin", None)
    if cached is None:
        cached = user.groups.filter(name=ADMIN_GROUP).exists()
        user._game_is_admin = cached
    return cached


def is_instructor(user: Any) -> bool:
    """May use /host/ at all (open sessions, run the ones they may see)."""
    return _active_staff(user) and (is_admin(user) or user.has_perm(HOST_PERMISSION))


def sessions_for(user: Any) -> QuerySet:
    from game.models import GameSession

    if is_admin(user):
        return GameSession.objects.all()
    if not is_instructor(user):
        return GameSession.objects.none()
    mine = GameSession.objects.filter(Q(created_by=user) | Q(co_instructors=user))
    return GameSession.objects.filter(pk__in=mine.values("pk"))


def can_host(user: Any, session: Any) -> bool:
    if is_admin(user):
        return True
    if not is_instructor(user):
        return False
    if session.created_by_id == user.pk:
        return True
    return session.co_instructors.filter(pk=user.pk).exists()


def can_manage(user: Any, session: Any) -> bool:
    """May add or remove co-instructors, and anonymise: the owner and administrators."""
    return is_admin(user) or (is_instructor(user) and session.created_by_id == user.pk)


def scenarios_for(user: Any) -> QuerySet:
    """Scenarios this user may read and play: their own and the shared ones (all for admins)."""
    from game.models import ScenarioConfig

    if is_admin(user):
        return ScenarioConfig.objects.all()
    if not _active_staff(user):
        return ScenarioConfig.objects.none()
    return ScenarioConfig.objects.filter(Q(owner=user) | Q(shared=True))


def can_edit_scenario(user: Any, config: Any) -> bool:
    if config is None:
        return _active_staff(user)
    return is_admin(user) or (
        _active_staff(user) and config.owner_id is not None and config.owner_id == user.pk
    )


def instructors() -> QuerySet:
    """Everyone who may be added as a co-instructor: active staff with the host permission."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(
            Q(is_superuser=True)
            | Q(groups__name__in=[INSTRUCTOR_GROUP, ADMIN_GROUP])
            | Q(user_permissions__codename="host_sessions")
            | Q(groups__permissions__codename="host_sessions")
        )
        .distinct()
        .order_by("username")
    )


def host_socket_allowed(user_id: int, session_key: str | None, session_id: int) -> bool:
    """Re-checked by a host socket before every action and every few seconds: the browser's
    login is still there (not logged out, password not changed), the user is still active, and
    still may run this session."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.utils.crypto import constant_time_compare

    from game.models import GameSession

    if not session_key:
        return False
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).load()
    if str(data.get(SESSION_KEY, "")) != str(user_id):
        return False
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        return False
    if not constant_time_compare(str(data.get(HASH_SESSION_KEY, "")), user.get_session_auth_hash()):
        return False
    session = GameSession.objects.filter(pk=session_id).first()
    return session is not None and can_host(user, session)
