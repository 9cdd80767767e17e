from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("game", "0008_groups_shared_default_name_keys")]

    operations = [
        migrations.AddConstraint(
            model_name="player",
            constraint=models.UniqueConstraint(
                fields=("session", "name_key"), name="unique_player_name_key_per_session"
            ),
        ),
    ]
