"""The two staff roles as Django groups, with exactly the permissions each needs.

* "Instructor": their own scenarios in the admin (every page of a scenario is one of the
  scenario models) and opening sessions at /host/ (``game.host_sessions``). Nothing on sessions
  in the admin: the /host/ pages show an instructor their own sessions, the admin would show
  everyone's.
* "Department administrator": all of that, every session in the admin, and lifting a login
  lockout (axes). Accounts are managed by superusers: ``auth.change_user`` would let an
  administrator make themselves a superuser.

Created by a migration (game/migrations/0005) and kept up to date by ``ensure_groups``, which
``create_instructor`` also runs.
"""

from __future__ import annotations

from django.apps import apps as global_apps

INSTRUCTOR = "Instructor"
ADMINISTRATOR = "Department administrator"

SCENARIO_MODELS = (
    "scenarioconfig",
    "scenariorole",
    "scenarioissue",
    "scenariooption",
    "scenariophase",
    "scenarionews",
    "scenariofactor",
)
SESSION_MODELS = ("gamesession", "gametable", "player", "event", "clientref", "connection")

INSTRUCTOR_PERMISSIONS = [
    ("game", f"{action}_{model}")
    for model in SCENARIO_MODELS
    for action in ("add", "change", "delete", "view")
] + [("game", "host_sessions")]
ADMINISTRATOR_PERMISSIONS = [
    *INSTRUCTOR_PERMISSIONS,
    *[("game", f"{action}_{model}") for model in SESSION_MODELS for action in ("change", "delete", "view")],
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
    ("axes", "view_accesslog"),
]
GROUPS = {INSTRUCTOR: INSTRUCTOR_PERMISSIONS, ADMINISTRATOR: ADMINISTRATOR_PERMISSIONS}


def ensure_groups(apps=global_apps) -> dict:
    """Create both groups (or reset their permissions to exactly these). Returns them by name."""
    from django.contrib.auth.management import create_permissions

    for label in ("game", "axes"):
        create_permissions(global_apps.get_app_config(label), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    out = {}
    for name, wanted in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [Permission.objects.get(content_type__app_label=a, codename=c) for a, c in wanted]
        )
        out[name] = group
    return out
