from django.db import migrations, models


def fill_stage(apps, schema_editor):
    """Tables that existed before the column: derive the stage from the stored state."""
    GameTable = apps.get_model("game", "GameTable")
    for t in GameTable.objects.only("pk", "state").iterator():
        state = t.state or {}
        stage = "ended" if state.get("ended") else "live" if state.get("started") else "waiting"
        if stage != "waiting":
            GameTable.objects.filter(pk=t.pk).update(stage=stage)


class Migration(migrations.Migration):
    dependencies = [
        ("game", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="gametable",
            name="stage",
            field=models.CharField(
                choices=[("waiting", "Not started"), ("live", "In play"), ("ended", "Ended")],
                default="waiting",
                help_text="Mirrors the state's started/ended flags, so a chat line needs no state parsing.",
                max_length=8,
            ),
        ),
        migrations.RunPython(fill_stage, migrations.RunPython.noop),
    ]
