"""Settings, health, scenario files and the admin: the ground floor."""

from __future__ import annotations

import copy
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from game import scenario_io
from game.models import CODE_ALPHABET, GameSession, ScenarioConfig

ROOT = Path(__file__).resolve().parent.parent


def settings_in_subprocess(env: dict[str, str], expr: str) -> str:
    """Evaluate an expression on freshly loaded settings with the given environment."""
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "negotiation.settings", **env}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings; print({expr})",
        ],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return (out.stdout + out.stderr).strip()


def test_the_channel_layer_is_in_memory_without_redis_url_and_redis_with_it():
    assert "InMemoryChannelLayer" in settings_in_subprocess(
        {"REDIS_URL": ""}, "settings.CHANNEL_LAYERS['default']['BACKEND']"
    )
    out = settings_in_subprocess(
        {"REDIS_URL": "redis://127.0.0.1:6390/0"}, "settings.CHANNEL_LAYERS['default']"
    )
    assert "channels_redis.pubsub.RedisPubSubChannelLayer" in out and "redis://127.0.0.1:6390/0" in out
    out = settings_in_subprocess(
        {"REDIS_URL": "redis://127.0.0.1:6390/0", "GAME_REDIS_LAYER": "core"},
        "settings.CHANNEL_LAYERS['default']",
    )
    assert "channels_redis.core.RedisChannelLayer" in out and "redis://127.0.0.1:6390/0" in out


def test_database_url_selects_postgresql():
    out = settings_in_subprocess(
        {"DATABASE_URL": "postgres://u:p@127.0.0.1:5999/game"}, "settings.DATABASES['default']['ENGINE']"
    )
    assert out.endswith("postgresql")


def _clean_env(tmp_path, **extra: str) -> dict[str, str]:
    """A server's environment as on a fresh clone: nothing of ours set but a var directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GAME_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    return {**env, "DJANGO_SETTINGS_MODULE": "negotiation.settings", "GAME_VAR_DIR": str(tmp_path), **extra}


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    """Behind a TLS proxy (DJANGO_SECURE_SSL_REDIRECT=1) with its own key and host name."""
    out = _check_deploy(
        _clean_env(
            tmp_path,
            DJANGO_SECRET_KEY="x" * 30 + "a-real-looking-secret-key-with-entropy-12345",
            DJANGO_ALLOWED_HOSTS="game.example.edu",
            DJANGO_SECURE_SSL_REDIRECT="1",
        )
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_check_deploy_is_clean_with_the_generated_key_behind_a_tls_proxy(tmp_path):
    out = _check_deploy(_clean_env(tmp_path, DJANGO_SECURE_SSL_REDIRECT="1"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_check_deploy_in_the_classroom_names_only_the_plain_http_trade_offs(tmp_path):
    """The classroom default serves plain HTTP on purpose (docs/deployment.md): exactly the four
    HTTPS warnings, nothing about debug, the key or the hosts."""
    out = _check_deploy(_clean_env(tmp_path))
    text = out.stdout + out.stderr
    ids = set(re.findall(r"\(security\.(W\d+)\)", text))
    assert ids == {"W004", "W008", "W012", "W016"}, text


@pytest.mark.django_db
def test_healthz_reports_ok_when_the_database_and_layer_answer(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"ok": True, "db": "ok", "channel_layer": "ok"}


@pytest.mark.django_db
def test_healthz_reports_a_broken_database_as_503(client, monkeypatch):
    """The check runs through the sockets' own database threads (game.lifecycle.health)."""
    from django.db import OperationalError

    from game import lifecycle

    def broken(*a, **k):
        raise OperationalError("database is down")

    monkeypatch.setattr(lifecycle, "_ping", broken)
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["db"] == "error: OperationalError: database is down" and r.json()["ok"] is False
    assert r.json()["failed"] == ["db"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "backend", ["channels_redis.pubsub.RedisPubSubChannelLayer", "channels_redis.core.RedisChannelLayer"]
)
def test_healthz_reports_a_broken_channel_layer_as_503(client, settings, backend):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": backend,
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    channel_layers.backends.clear()
    try:
        r = client.get("/healthz")
    finally:
        channel_layers.backends.clear()
    assert r.status_code == 503
    assert r.json()["channel_layer"].startswith("error") and r.json()["db"] == "ok"


# --- scenario files -------------------------------------------------------------------------


def default_data() -> dict:
    return json.loads(scenario_io.DEFAULT_PATH.read_text(encoding="utf-8"))


def test_the_default_scenario_file_passes_its_json_schema_and_the_engines_validation():
    data = default_data()
    jsonschema.Draft202012Validator(scenario_io.schema()).validate(data)
    scenario_io.check(data)


def test_the_json_schema_is_itself_a_valid_schema():
    jsonschema.Draft202012Validator.check_schema(scenario_io.schema())


def test_the_default_scenario_is_faithful_in_shape_to_the_article():
    data = default_data()
    assert [r["key"] for r in data["roles"]] == ["us", "russia", "ukraine", "europe"]
    assert [i["key"] for i in data["issues"]] == ["territory", "nato", "guarantees"]
    for issue in data["issues"]:
        assert 4 <= len(issue["options"]) <= 6
    assert [p["agreement"] for p in data["phases"]] == [False, False, True]
    assert set(data["necessary_signatories"]) == {"ukraine", "russia"}
    for role in data["roles"]:
        assert len(role["brief"].split()) > 250
    # no option is good for everyone: each option is someone's worst on its issue or below half
    for issue in data["issues"]:
        for o in issue["options"]:
            worst_for = [
                r
                for r in o["points"]
                if o["points"][r] <= 0.5 * max(x["points"][r] for x in issue["options"])
            ]
            assert worst_for, f"{issue['key']}/{o['key']} is good for everyone"


@pytest.mark.django_db
def test_export_then_import_preserves_a_scenario_exactly(default_scenario):
    first = scenario_io.export_dict(default_scenario)
    changed = copy.deepcopy(first)
    changed["slug"] = "roundtrip"
    config = scenario_io.import_dict(changed)
    second = scenario_io.export_dict(config)
    second["slug"] = "default"
    assert second == first
    # and the file on disk, loaded and exported, is the same data
    assert scenario_io.export_dict(default_scenario) == _normalised(default_data())


def _normalised(data: dict) -> dict:
    return scenario_io.export_dict(scenario_io.import_dict({**data, "slug": "norm"})) | {"slug": data["slug"]}


@pytest.mark.django_db
def test_the_export_and_import_commands_round_trip_through_a_file(default_scenario, tmp_path):
    out = tmp_path / "s.json"
    call_command("export_scenario", "default", output=str(out))
    data = json.loads(out.read_text())
    data["slug"] = "copy"
    data["title"] = "A copy"
    out.write_text(json.dumps(data))
    call_command("import_scenario", str(out), stdout=io.StringIO())
    assert ScenarioConfig.objects.get(slug="copy").title == "A copy"


@pytest.mark.django_db
def test_a_bad_scenario_file_changes_nothing_and_names_the_fault(default_scenario, tmp_path):
    before = scenario_io.export_dict(default_scenario)
    bad = default_data()
    bad["issues"][1]["options"][2]["points"].pop("europe")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(CommandError, match="no points for europe"):
        call_command("import_scenario", str(path))
    assert scenario_io.export_dict(ScenarioConfig.objects.get(slug="default")) == before
    path.write_text('{"slug": "x",\n "title": }')
    with pytest.raises(CommandError, match="line 2"):
        call_command("import_scenario", str(path))
    wrong = default_data()
    wrong["phases"][0]["duration_seconds"] = "long"
    path.write_text(json.dumps(wrong))
    with pytest.raises(CommandError, match=r"phases/0 \(experts\)/duration_seconds"):
        call_command("import_scenario", str(path))
    assert ScenarioConfig.objects.count() == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["issues"][0]["options"][0]["points"].pop("us"), "no points for us"),
        (lambda d: d["roles"].append(dict(d["roles"][0])), "Two roles have the key 'us'"),
        (lambda d: [p.update(agreement=False) for p in d["phases"]], "No phase allows an agreement"),
        (lambda d: d["issues"][2].update(options=d["issues"][2]["options"][:1]), "guarantees"),
    ],
)
def test_validation_refuses_an_inconsistent_scenario_with_a_message_that_says_what_to_fix(mutate, message):
    data = default_data()
    mutate(data)
    with pytest.raises(scenario_io.ScenarioFileError, match=message):
        scenario_io.check(data)


# --- create_session -------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_session_prints_json_with_a_code_from_the_contract_alphabet():
    out = io.StringIO()
    call_command("create_session", "--scenario", "default", "--tables", "3", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert len(data["code"]) == 6 and set(data["code"]) <= set(CODE_ALPHABET)
    session = GameSession.objects.get(code=data["code"])
    assert session.tables.count() == 3 and session.status == "lobby"


@pytest.mark.django_db
def test_create_session_loads_the_default_scenario_into_a_fresh_database():
    assert not ScenarioConfig.objects.exists()
    call_command("create_session", "--json", stdout=io.StringIO())
    assert ScenarioConfig.objects.filter(slug="default").exists()


@pytest.mark.django_db
def test_codes_are_unique_among_open_sessions(default_scenario, monkeypatch):
    from game import models
    from game.services import seating

    codes = iter(["AAAAAA", "AAAAAA", "BBBBBB"])
    monkeypatch.setattr(seating, "new_code", lambda: next(codes))
    a = seating.create_session(default_scenario, 1)
    b = seating.create_session(default_scenario, 1)
    assert (a.code, b.code) == ("AAAAAA", "BBBBBB")
    assert models.CODE_LENGTH == 6


# --- admin ----------------------------------------------------------------------------------


@pytest.fixture
def admin_client(db, default_scenario):
    user = get_user_model().objects.create_superuser("prof", "prof@example.edu", "a-long-password-1")
    c = Client()
    c.force_login(user)  # Client.login() passes no request, which the login throttle (axes) needs
    c.user = user
    return c


@pytest.mark.django_db
def test_the_instructor_logs_in_to_the_admin_and_sees_the_default_scenario(default_scenario):
    get_user_model().objects.create_superuser("prof", "prof@example.edu", "a-long-password-1")
    c = Client()
    page = c.get("/admin/login/")
    assert page.status_code == 200
    r = c.post(
        "/admin/login/?next=/admin/", {"username": "prof", "password": "a-long-password-1"}, follow=True
    )
    assert r.status_code == 200
    r = c.get("/admin/game/scenarioconfig/")
    assert r.status_code == 200
    assert "After Alaska" in r.content.decode()
    r = c.get(f"/admin/game/scenarioconfig/{default_scenario.pk}/change/")
    body = r.content.decode()
    assert r.status_code == 200
    assert "None: this scenario can be played." in body
    assert "Leaders" in body and "Ukraine" in body


def _form_data(html: str) -> dict:
    from html.parser import HTMLParser

    data: dict[str, list[str]] = {}

    class P(HTMLParser):
        select = None
        textarea = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            name = a.get("name")
            if tag == "input" and name:
                t = a.get("type", "text")
                if t in ("checkbox", "radio"):
                    if "checked" in a:
                        data.setdefault(name, []).append(a.get("value", "on"))
                elif t not in ("submit", "button", "file"):
                    data.setdefault(name, []).append(a.get("value", ""))
            elif tag == "select" and name:
                self.select = name
            elif tag == "option" and self.select and "selected" in a:
                data.setdefault(self.select, []).append(a.get("value", ""))
            elif tag == "textarea" and name:
                self.textarea = name
                data.setdefault(name, []).append("")

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None
            if tag == "textarea":
                self.textarea = None

        def handle_data(self, d):
            if self.textarea:
                data[self.textarea][-1] += d

    P().feed(html)
    return {k: v if len(v) > 1 else v[0] for k, v in data.items()}


def test_admin_refuses_a_scenario_with_no_phase_that_allows_an_agreement(admin_client, default_scenario):
    url = f"/admin/game/scenarioconfig/{default_scenario.pk}/change/"
    data = _form_data(admin_client.get(url).content.decode())
    for k in [k for k in data if k.startswith("phases-") and k.endswith("-agreement")]:
        data.pop(k)
    r = admin_client.post(url, data)
    assert r.status_code == 200
    assert "No phase allows an agreement" in r.content.decode()
    assert default_scenario.phases.filter(agreement=True).exists()


def test_admin_refuses_duplicate_role_keys(admin_client, default_scenario):
    url = f"/admin/game/scenarioconfig/{default_scenario.pk}/change/"
    data = _form_data(admin_client.get(url).content.decode())
    data["roles-1-key"] = data["roles-0-key"]
    r = admin_client.post(url, data)
    assert "Two roles have the key" in r.content.decode()


def test_admin_refuses_an_option_without_points_for_every_role(admin_client, default_scenario):
    issue = default_scenario.issues.get(key="nato")
    url = f"/admin/game/scenarioissue/{issue.pk}/change/"
    data = _form_data(admin_client.get(url).content.decode())
    data["options-0-points_europe"] = ""
    r = admin_client.post(url, data)
    assert "Give this option points for Europe" in r.content.decode()
    assert "europe" in issue.options.order_by("order").first().points


def test_admin_refuses_an_issue_left_with_a_single_option(admin_client, default_scenario):
    issue = default_scenario.issues.get(key="nato")
    url = f"/admin/game/scenarioissue/{issue.pk}/change/"
    data = _form_data(admin_client.get(url).content.decode())
    for i in range(1, 5):
        data[f"options-{i}-DELETE"] = "on"
    r = admin_client.post(url, data)
    assert "at least two options" in r.content.decode()
    assert issue.options.count() == 5


def test_admin_saves_an_edited_option_and_the_engine_sees_it(admin_client, default_scenario):
    issue = default_scenario.issues.get(key="nato")
    url = f"/admin/game/scenarioissue/{issue.pk}/change/"
    data = _form_data(admin_client.get(url).content.decode())
    data["options-0-points_us"] = "3"
    data["options-0-label"] = "Door left open (edited)"
    r = admin_client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    sc = ScenarioConfig.objects.get(pk=default_scenario.pk).to_engine()
    opt = sc.issue("nato").options[0]
    assert opt.label == "Door left open (edited)" and opt.points["us"] == 3


def test_admin_duplicates_a_scenario_and_exports_and_imports_files(admin_client, default_scenario):
    r = admin_client.post(
        "/admin/game/scenarioconfig/",
        {"action": "duplicate", "_selected_action": [default_scenario.pk]},
        follow=True,
    )
    assert r.status_code == 200
    copy_ = ScenarioConfig.objects.get(slug="default-copy")
    assert scenario_io.export_dict(copy_)["issues"] == scenario_io.export_dict(default_scenario)["issues"]
    r = admin_client.get(f"/admin/game/scenarioconfig/{copy_.pk}/export/")
    assert r.status_code == 200 and json.loads(r.content)["slug"] == "default-copy"
    data = json.loads(r.content)
    data["slug"] = "uploaded"
    upload = io.BytesIO(json.dumps(data).encode())
    upload.name = "uploaded.json"
    r = admin_client.post("/admin/game/scenarioconfig/import/", {"file": upload})
    assert r.status_code == 302
    assert ScenarioConfig.objects.filter(slug="uploaded").exists()
    bad = io.BytesIO(b'{"slug": "x"}')
    bad.name = "bad.json"
    r = admin_client.post("/admin/game/scenarioconfig/import/", {"file": bad})
    assert r.status_code == 200 and "is a required property" in r.content.decode()
