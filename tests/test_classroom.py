"""The classroom configuration's parts: this machine's addresses, the generated secret key, full
origin checks, the static-file check, the instructor's first login and the join URL.

The whole of it, run as `make run HOST=0.0.0.0` on a fresh var directory, is in
tests/test_make_run.py; phones in Chromium in tests/browser/test_classroom_phone.py.
"""

from __future__ import annotations

import io
import ipaddress
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import segno
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from game import firstlogin
from negotiation import netinfo, origin, secretkey
from tests.conftest import connect
from tests.infra import settings_process

ROOT = Path(__file__).resolve().parent.parent


def addr(host: str, interface: str) -> netinfo.Address:
    ip = ipaddress.ip_address(netinfo.strip_brackets(host))
    return netinfo.Address(netinfo.url_host(ip), interface, ip)


# --- this machine's addresses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST:8000", True),
        ("127.0.0.1", True),
        ("127.0.0.1:8123", True),
        ("127.4.5.6", True),
        ("[::1]", True),
        ("[::1]:8000", True),
        ("::1", True),
        ("app.localhost", True),
        ("192.168.1.5", False),
        ("192.168.1.5:8123", False),
        ("[fd00::2]:8123", False),
        ("laptop.local", False),
        ("game.example.edu", False),
    ],
)
def test_loopback_hosts_are_told_apart_from_the_rooms(host, loopback):
    assert netinfo.is_loopback(host) is loopback


def test_allowed_hosts_are_loopback_this_machines_addresses_and_names_and_the_extra_ones(monkeypatch):
    monkeypatch.setattr(
        netinfo, "addresses", lambda: [addr("192.168.1.5", "wlan0"), addr("fd00::5", "wlan0")]
    )
    monkeypatch.setattr(netinfo.socket, "gethostname", lambda: "Lecture-Laptop")
    hosts = netinfo.allowed_hosts(["game.example.edu", " ", "192.168.1.5"])
    assert hosts == [
        "localhost",
        "127.0.0.1",
        "[::1]",
        "192.168.1.5",
        "[fd00::5]",
        "lecture-laptop",
        "lecture-laptop.local",
        "game.example.edu",
    ]


def test_the_real_interfaces_give_addresses_a_phone_can_use():
    for a in netinfo.addresses():
        assert not (a.ip.is_loopback or a.ip.is_link_local or a.ip.is_unspecified)
        assert a.host == (f"[{a.ip}]" if a.ip.version == 6 else str(a.ip))
        assert a.host in netinfo.allowed_hosts()


def test_join_addresses_follow_what_the_server_listens_on_and_skip_bridges(monkeypatch):
    every = [
        addr("192.168.1.5", "wlan0"),
        addr("10.0.0.4", "eth0"),
        addr("fd00::5", "wlan0"),
        addr("172.17.0.1", "docker0"),
    ]
    monkeypatch.setattr(netinfo, "addresses", lambda: every)
    hosts = lambda bind: [a.host for a in netinfo.join_addresses(bind)]  # noqa: E731
    assert hosts("") == ["192.168.1.5", "10.0.0.4", "[fd00::5]"]
    assert hosts("0.0.0.0") == ["192.168.1.5", "10.0.0.4"], "0.0.0.0 listens on IPv4 only"
    assert hosts("::") == ["192.168.1.5", "10.0.0.4", "[fd00::5]"]
    assert hosts("10.0.0.4") == ["10.0.0.4"]
    assert hosts("[fd00::5]") == ["[fd00::5]"]
    monkeypatch.setattr(netinfo, "addresses", lambda: [addr("172.17.0.1", "docker0")])
    assert hosts("0.0.0.0") == ["172.17.0.1"], "a bridge is better than nothing"


def test_the_default_routes_interface_comes_first(monkeypatch, tmp_path):
    class Snic:
        def __init__(self, family, address):
            self.family, self.address = family, address

    class Stat:
        isup = True

    monkeypatch.setattr(
        netinfo.psutil,
        "net_if_addrs",
        lambda: {
            "eth0": [Snic(netinfo.socket.AF_INET, "10.0.0.4")],
            "wlan0": [
                Snic(netinfo.socket.AF_INET, "192.168.1.5"),
                Snic(netinfo.socket.AF_INET6, "fe80::1%wlan0"),
            ],
            "lo": [Snic(netinfo.socket.AF_INET, "127.0.0.1")],
            "down0": [Snic(netinfo.socket.AF_INET, "10.9.9.9")],
        },
    )
    monkeypatch.setattr(
        netinfo.psutil,
        "net_if_stats",
        lambda: {"eth0": Stat(), "wlan0": Stat(), "lo": Stat(), "down0": type("S", (), {"isup": False})()},
    )
    monkeypatch.setattr(netinfo, "_default_route_interfaces", lambda: ["wlan0"])
    assert [(a.host, a.interface) for a in netinfo.addresses()] == [
        ("192.168.1.5", "wlan0"),
        ("10.0.0.4", "eth0"),
    ]


# --- the secret key --------------------------------------------------------------------------


def test_a_secret_key_is_generated_owner_only_and_reused(tmp_path):
    path = tmp_path / "secret_key"
    key = secretkey.load_or_create(path)
    assert len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secretkey.load_or_create(path) == key
    assert not [p for p in tmp_path.iterdir() if p.name != "secret_key"], "no temporary file left"


def test_a_key_file_readable_by_others_is_made_private_again(tmp_path):
    path = tmp_path / "secret_key"
    key = secretkey.load_or_create(path)
    path.chmod(0o644)
    assert secretkey.load_or_create(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_empty_key_file_is_a_clear_error_not_a_weak_key(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("short\n")
    path.chmod(0o600)
    with pytest.raises(ImproperlyConfigured, match="empty or too short"):
        secretkey.load_or_create(path)


def test_an_unwritable_var_directory_is_a_clear_error(tmp_path):
    if os.geteuid() == 0:
        # root writes anywhere: a file in the way of the directory makes the same failure
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("")
        path = blocker / "secret_key"
    else:
        tmp_path.chmod(0o500)
        path = tmp_path / "secret_key"
    with pytest.raises(ImproperlyConfigured, match="Cannot write the secret key file"):
        secretkey.load_or_create(path)


def test_workers_starting_together_agree_on_one_key(tmp_path):
    code = "import sys; from negotiation import secretkey; print(secretkey.load_or_create(sys.argv[1]))"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / "secret_key")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(keys) == 1 and len(next(iter(keys))) >= 50


def settings_value(tmp_path, expr: str, **env: str) -> str:
    out = settings_process(tmp_path, f"print({expr})", **env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_an_explicit_secret_key_wins_and_no_file_is_made(tmp_path):
    assert settings_value(tmp_path, "s.SECRET_KEY", DJANGO_SECRET_KEY="k" * 60) == "k" * 60
    assert not (tmp_path / "secret_key").exists()
    generated = settings_value(tmp_path, "s.SECRET_KEY")
    assert generated == (tmp_path / "secret_key").read_text().strip()
    assert "dev-only" not in generated


def test_the_default_is_the_classroom_and_a_tls_proxy_gets_the_production_behaviour(tmp_path):
    expr = (
        "(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.STORAGES['staticfiles']['BACKEND'])"
    )
    assert settings_value(tmp_path, expr) == (
        "(False, False, False, False, 0, None, 'whitenoise.storage.CompressedManifestStaticFilesStorage')"
    )
    assert settings_value(tmp_path, expr, DJANGO_SECURE_SSL_REDIRECT="1") == (
        "(False, True, True, True, 31536000, ('HTTP_X_FORWARDED_PROTO', 'https'), "
        "'whitenoise.storage.CompressedManifestStaticFilesStorage')"
    )
    # a proxy that redirects by itself
    assert settings_value(tmp_path, expr, DJANGO_HTTPS="1").startswith("(False, True, True, False, 31536000")
    assert settings_value(tmp_path, expr, DJANGO_DEBUG="1").startswith("(True, False, False, False")
    hosts = settings_value(tmp_path, "s.ALLOWED_HOSTS", DJANGO_ALLOWED_HOSTS="game.example.edu")
    assert "'game.example.edu'" in hosts and "'127.0.0.1'" in hosts and "testserver" not in hosts


# --- origins ---------------------------------------------------------------------------------


def ws_scope(host: str | None, origin_: str | None, scheme: str = "ws", **headers: str) -> dict:
    hs = [(b"host", host.encode())] if host is not None else []
    if origin_ is not None:
        hs.append((b"origin", origin_.encode()))
    hs += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": hs, "path": "/ws/play/X/"}


@pytest.fixture
def room(settings):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "192.168.1.5", "laptop.local"]
    settings.CSRF_TRUSTED_ORIGINS = []
    return settings


@pytest.mark.parametrize(
    ("host", "origin_", "ok"),
    [
        ("192.168.1.5:8123", "http://192.168.1.5:8123", True),
        ("192.168.1.5:8123", "HTTP://192.168.1.5:8123", True),
        ("192.168.1.5", "http://192.168.1.5:80", True),
        ("laptop.local:8123", "http://laptop.local:8123", True),
        ("192.168.1.5:8123", "http://192.168.1.5:9999", False),  # same host, another port
        ("192.168.1.5:8123", "http://192.168.1.5", False),
        ("192.168.1.5:8123", "https://192.168.1.5:8123", False),  # another scheme
        ("192.168.1.5:8123", "http://evil.example", False),
        ("192.168.1.5:8123", "http://evil.example:8123", False),
        ("192.168.1.5:8123", "null", False),
        ("192.168.1.5:8123", None, False),
        (None, "http://192.168.1.5:8123", False),
        ("evil.example:8123", "http://evil.example:8123", False),  # a name pointed at us (rebinding)
    ],
)
def test_a_socket_is_accepted_only_from_its_own_full_origin(room, host, origin_, ok):
    assert (origin.socket_origin_refusal(ws_scope(host, origin_)) is None) is ok


def test_behind_a_tls_proxy_a_socket_needs_the_https_origin(room):
    room.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    scope = ws_scope("192.168.1.5", "https://192.168.1.5", x_forwarded_proto="https")
    assert origin.socket_origin_refusal(scope) is None
    scope = ws_scope("192.168.1.5", "http://192.168.1.5", x_forwarded_proto="https")
    assert origin.socket_origin_refusal(scope) is not None
    assert origin.socket_origin_refusal(ws_scope("192.168.1.5", "https://192.168.1.5", scheme="wss")) is None


def test_without_a_proxy_the_forwarded_proto_header_is_not_believed(room):
    room.SECURE_PROXY_SSL_HEADER = None
    scope = ws_scope("192.168.1.5", "https://192.168.1.5", x_forwarded_proto="https")
    assert origin.socket_origin_refusal(scope) is not None


def test_trusted_origins_are_compared_in_full(room):
    room.CSRF_TRUSTED_ORIGINS = ["https://game.example.edu", "https://*.example.org"]
    assert origin.socket_origin_refusal(ws_scope("127.0.0.1:8001", "https://game.example.edu")) is None
    assert origin.socket_origin_refusal(ws_scope("127.0.0.1:8001", "https://a.example.org")) is None
    for bad in ("http://game.example.edu", "https://game.example.edu:8443", "https://example.org.evil"):
        assert origin.socket_origin_refusal(ws_scope("127.0.0.1:8001", bad)) is not None, bad


@pytest.mark.django_db(transaction=True)
async def test_the_application_refuses_foreign_and_other_port_sockets_in_the_handshake(
    make_session, join_players, room
):
    session = await database_sync_to_async(make_session)()
    [(_, cookie)] = await join_players(session, 1)
    path = f"/ws/play/{session.code}/"
    for host, origin_ in [
        ("192.168.1.5:8123", "http://evil.example"),
        ("192.168.1.5:8123", "http://192.168.1.5:8124"),
        ("evil.example:8123", "http://evil.example:8123"),
    ]:
        ok, c = await connect(path, cookie, origin=origin_, host=host)
        assert not ok, (host, origin_)
    ok, c = await connect(path, cookie, origin="http://192.168.1.5:8123", host="192.168.1.5:8123")
    assert ok
    await c.wait(lambda m: m.get("type") == "state")
    await c.close()


@pytest.mark.django_db
def test_a_form_from_another_origin_or_port_is_refused(make_session, room):
    session = make_session()
    c = Client(enforce_csrf_checks=True)
    page = c.get("/", HTTP_HOST="192.168.1.5:8123")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    data = {"csrfmiddlewaretoken": token, "code": session.code, "name": "Ada"}
    for bad in ("http://evil.example", "http://192.168.1.5:9999", "https://192.168.1.5:8123"):
        r = c.post("/join/", data, HTTP_HOST="192.168.1.5:8123", HTTP_ORIGIN=bad)
        assert r.status_code == 403, bad
    assert session.players.count() == 0
    r = c.post("/join/", data, HTTP_HOST="192.168.1.5:8123", HTTP_ORIGIN="http://192.168.1.5:8123")
    assert r.status_code == 302 and session.players.count() == 1


# --- the static files -------------------------------------------------------------------------


def test_a_server_without_collected_static_files_refuses_to_start_and_names_the_fix(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GAME_"))}
    env.pop("DATABASE_URL", None)
    env.update({"DJANGO_SETTINGS_MODULE": "negotiation.settings", "GAME_VAR_DIR": str(tmp_path)})
    probe = [sys.executable, "-c", "import negotiation.asgi; print('served')"]
    out = subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "The static files have not been collected" in out.stderr
    assert "collectstatic --noinput" in out.stderr
    collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"]
    subprocess.run(collect, cwd=ROOT, env=env, check=True, timeout=120)
    out = subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "served", out.stderr
    # a collection older than a source file is refused too (it would serve the old version)
    manifest = tmp_path / "staticfiles" / "staticfiles.json"
    # an hour before the newest source file (not before now: in a checkout older than an hour,
    # no file would be newer than the collection)
    newest = max(p.stat().st_mtime for p in (ROOT / "static").rglob("*") if p.is_file())
    old = newest - 3600
    os.utime(manifest, (old, old))
    out = subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "changed since they were collected" in out.stderr


# --- the instructor's first login ------------------------------------------------------------


@pytest.fixture
def instructor(db):
    user, created = firstlogin.ensure_instructor()
    assert created and not user.has_usable_password()
    return user


def test_the_one_time_link_logs_in_once_then_asks_for_a_password(instructor, default_scenario):
    token = firstlogin.make_token(instructor)
    c = Client(enforce_csrf_checks=True)
    page = c.get(f"/host/login/{token}/")
    assert page.status_code == 200 and "Log in as" in page.content.decode()
    assert c.get(f"/host/login/{token}/").status_code == 200, "looking at the link does not use it up"
    assert c.get("/host/").status_code == 302, "not logged in yet"
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    r = c.post(f"/host/login/{token}/", {"csrfmiddlewaretoken": csrf})
    assert r.status_code == 302 and r["Location"] == "/host/password/"
    assert c.get("/host/").status_code == 200, "logged in"
    # used: the link is dead, in this browser and any other
    assert Client().get(f"/host/login/{token}/").status_code == 410
    form = c.get("/host/password/")
    assert "Choose a password for next time" in form.content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()).group(1)
    r = c.post(
        "/host/password/",
        {
            "csrfmiddlewaretoken": csrf,
            "new_password1": "ten-long-words-42",
            "new_password2": "ten-long-words-42",
        },
    )
    assert r.status_code == 302 and r["Location"] == "/host/"
    assert c.get("/host/").status_code == 200, "still logged in after the password change"
    instructor.refresh_from_db()
    assert instructor.check_password("ten-long-words-42")
    assert not firstlogin.needs_link(instructor)
    with pytest.raises(ValueError):
        firstlogin.make_token(instructor)
    # then the usual Django login (through the login page: the login throttle needs a request)
    r = Client().post("/admin/login/", {"username": "instructor", "password": "ten-long-words-42"})
    assert r.status_code == 302


def test_a_link_expires_after_fifteen_minutes(instructor, monkeypatch):
    token = firstlogin.make_token(instructor)
    real = time.time
    monkeypatch.setattr("django.core.signing.time.time", lambda: real() + 14 * 60)
    assert firstlogin.check_token(token) == instructor
    monkeypatch.setattr("django.core.signing.time.time", lambda: real() + 15 * 60 + 5)
    assert firstlogin.check_token(token) is None
    assert Client().get(f"/host/login/{token}/").status_code == 410


def test_a_forged_or_superseded_link_logs_nobody_in(instructor):
    token = firstlogin.make_token(instructor)
    assert firstlogin.check_token(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]) is None
    assert firstlogin.check_token("not-a-token") is None
    instructor.set_password("chosen-by-the-instructor-1")
    instructor.save()
    assert firstlogin.check_token(token) is None, "a password set elsewhere ends the link"
    student = get_user_model().objects.create_user("someone")
    student.set_unusable_password()
    student.save()
    assert not firstlogin.needs_link(student), "only staff get a link"


def test_the_link_command_prints_a_working_link_or_says_why_not(instructor):
    out = io.StringIO()
    call_command("instructor_link", "--base", "http://127.0.0.1:8123", stdout=out)
    link = out.getvalue().strip()
    assert link.startswith("http://127.0.0.1:8123/host/login/")
    assert firstlogin.check_token(link.rstrip("/").rsplit("/", 1)[1]) == instructor
    instructor.set_password("chosen-by-the-instructor-1")
    instructor.save()
    with pytest.raises(CommandError, match="already has a password"):
        call_command("instructor_link", stdout=io.StringIO())


# --- the join URL and QR code ----------------------------------------------------------------


@pytest.fixture
def dashboard(db, make_session, staff_user, monkeypatch, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "192.168.1.5", "10.0.0.4", "laptop.local"]
    settings.GAME["LISTEN"] = "0.0.0.0:8123"
    monkeypatch.setattr(
        netinfo, "addresses", lambda: [addr("192.168.1.5", "wlan0"), addr("10.0.0.4", "eth0")]
    )
    session = make_session()
    c = Client()
    c.force_login(staff_user)

    def get(host: str, query: str = "") -> str:
        r = c.get(f"/host/{session.code}/{query}", HTTP_HOST=host)
        assert r.status_code == 200
        return r.content.decode()

    get.code = session.code
    return get


def shown_join_url(html: str) -> str:
    return re.search(r'<a class="mono" id="join-url" href="([^"]+)"', html).group(1).replace("&amp;", "&")


def qr_for(url: str) -> str:
    buf = io.BytesIO()
    segno.make(url, error="m").save(
        buf,
        kind="svg",
        scale=6,
        border=2,
        dark="#111",
        light="#fff",
        xmldecl=False,
        svgns=True,
        omitsize=True,
    )
    return buf.getvalue().decode()


def test_from_loopback_the_dashboard_shows_the_machines_network_address_and_a_choice(dashboard):
    html = dashboard("127.0.0.1:8123")
    url = f"http://192.168.1.5:8123/?code={dashboard.code}"
    assert shown_join_url(html) == url
    assert qr_for(url) in html, "the QR code opens the same URL"
    assert 'id="join-host">192.168.1.5:8123<' in html
    assert "10.0.0.4:8123" in html and 'href="?via=10.0.0.4"' in html
    html = dashboard("localhost:8123", "?via=10.0.0.4")
    assert shown_join_url(html) == f"http://10.0.0.4:8123/?code={dashboard.code}"
    assert qr_for(f"http://10.0.0.4:8123/?code={dashboard.code}") in html
    # only the machine's own addresses can be chosen
    html = dashboard("127.0.0.1:8123", "?via=evil.example")
    assert shown_join_url(html) == url


def test_a_host_the_room_can_reach_is_used_as_the_instructor_typed_it(dashboard):
    html = dashboard("laptop.local:8123")
    assert shown_join_url(html) == f"http://laptop.local:8123/?code={dashboard.code}"
    assert "join-choices" not in html


def test_the_dashboard_says_when_phones_cannot_reach_the_server(dashboard, settings, monkeypatch):
    settings.GAME["LISTEN"] = "127.0.0.1:8123"
    html = dashboard("127.0.0.1:8123")
    assert "Phones cannot reach this server" in html and "make run HOST=0.0.0.0" in html
    assert shown_join_url(html) == f"http://127.0.0.1:8123/?code={dashboard.code}"
    settings.GAME["LISTEN"] = "0.0.0.0:8123"
    monkeypatch.setattr(netinfo, "addresses", lambda: [])
    assert "This computer has no network address" in dashboard("127.0.0.1:8123")


def test_the_session_list_names_the_address_students_use(db, staff_user, monkeypatch, settings):
    settings.GAME["LISTEN"] = "0.0.0.0:8000"
    monkeypatch.setattr(netinfo, "addresses", lambda: [addr("192.168.1.5", "wlan0")])
    c = Client()
    c.force_login(staff_user)
    html = c.get("/host/", HTTP_HOST="127.0.0.1:8000").content.decode()
    assert 'Students join at <strong class="mono">192.168.1.5:8000</strong>' in html
