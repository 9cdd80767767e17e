"""The "Instructor" and "Department administrator" groups with their permissions; the shipped
scenarios shared with all instructors; every player's name key (game/names.py)."""

from django.db import migrations


def groups(apps, schema_editor):
    from game.roles import ensure_groups

    ensure_groups(apps)


def share_default(apps, schema_editor):
    ScenarioConfig = apps.get_model("game", "ScenarioConfig")
    # The shipped scenarios (and the edited copies an upgrade kept of them) are the department's.
    ScenarioConfig.objects.filter(owner__isnull=True).exclude(shipped_digest="").update(shared=True)
    ScenarioConfig.objects.filter(owner__isnull=True, slug="default").update(shared=True)
    ScenarioConfig.objects.filter(owner__isnull=True, slug__contains="-kept-").update(shared=True)


def name_keys(apps, schema_editor):
    from game.names import name_key

    Player = apps.get_model("game", "Player")
    taken = set()
    for p in Player.objects.order_by("pk").only("pk", "session_id", "name").iterator():
        key = name_key(p.name) or f"#{p.pk}"
        if (p.session_id, key) in taken:  # an old look-alike pair: keep both, distinct keys
            key = f"{key}#{p.pk}"
        taken.add((p.session_id, key))
        Player.objects.filter(pk=p.pk).update(name_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("game", "0007_ownership_names_presence"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [
        migrations.RunPython(groups, migrations.RunPython.noop),
        migrations.RunPython(share_default, migrations.RunPython.noop),
        migrations.RunPython(name_keys, migrations.RunPython.noop),
    ]
