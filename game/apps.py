from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class GameConfig(AppConfig):
    name = "game"
    verbose_name = gettext_lazy("Negotiation game")
    default_auto_field = "django.db.models.BigAutoField"
