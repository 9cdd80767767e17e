from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy
from django.views.i18n import set_language

from game import l10n, views, views_balance, views_login

urlpatterns = [
    path("", views.join_page, name="join"),
    path("join/", views.join_submit, name="join_submit"),
    path("play/<str:code>/", views.play, name="play"),
    path("healthz", views.healthz, name="healthz"),
    path("host/", views.host_index, name="host_index"),
    path("host/login/<str:token>/", views_login.first_login, name="first_login"),
    path("host/password/", views_login.set_password, name="set_password"),
    path("host/scenario/<slug:slug>/balance/", views_balance.scenario_balance, name="scenario_balance"),
    path("host/<str:code>/", views.host_session, name="host_session"),
    path("host/<str:code>/control/", views.host_control, name="host_control"),
    path("host/<str:code>/co-instructors/", views.host_co_instructors, name="host_co_instructors"),
    path("host/<str:code>/anonymise/", views.host_anonymise, name="host_anonymise"),
    path("host/<str:code>/debrief/", views.debrief, name="debrief"),
    path("host/<str:code>/table/<int:table>/", views.host_transcript, name="host_transcript"),
    path("host/<str:code>/export.json", views.export_json, name="export_json"),
    path("host/<str:code>/export.csv", views.export_csv, name="export_csv"),
    path("host/<str:code>/grades.csv", views.export_grades, name="export_grades"),
    path("host/<str:code>/projector/", views.projector, name="projector"),
    # The language menu of every page posts here (CSRF-protected); the catalogue of the pages'
    # scripts is served per language under a digest of its translations (game/l10n.py).
    path("i18n/setlang/", set_language, name="set_language"),
    path("jsi18n/<str:lang>.<str:digest>.js", l10n.js_catalogue, name="js_catalogue"),
    path("admin/", admin.site.urls),
]

admin.site.site_header = gettext_lazy("Negotiation game: instructor administration")
admin.site.site_title = gettext_lazy("Negotiation game")
admin.site.index_title = gettext_lazy("Scenarios and sessions")
