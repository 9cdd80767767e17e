"""The README's classroom command as a new instructor runs it: `make run HOST=0.0.0.0 PORT=…` on a
fresh var directory with none of our environment variables, then a phone on the room's network,
and a server behind a TLS proxy.

Traffic goes to 127.0.0.1 only; a phone is simulated with a Host header naming this machine's
network address (sockets by a raw handshake, so the Host header is exactly the phone's).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from negotiation import netinfo
from tests.infra import Worker, free_port, manage

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(300)

TRACEBACK_WORDS = ("Traceback", "DisallowedHost", "ALLOWED_HOSTS", "settings.py", "Django tried", "DEBUG")


def fresh_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a new user's shell: none of the game's or Django's variables (and none
    of the make that runs the tests), only a var directory of the test's own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "GAME_", "MAKE", "MFLAGS")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    return {**env, "GAME_VAR_DIR": str(var_dir), **extra}


class MakeRun:
    """`make run HOST=0.0.0.0 PORT=port` in its own process group, stopped like Ctrl-C."""

    def __init__(self, var_dir: Path, port: int):
        self.var_dir, self.port = var_dir, port
        self.proc: subprocess.Popen | None = None
        self.runs = 0

    def start(self) -> str:
        self.runs += 1
        self.log = self.var_dir.parent / f"make-run-{self.runs}.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                ["make", "run", "HOST=0.0.0.0", f"PORT={self.port}"],
                cwd=ROOT,
                env=fresh_env(self.var_dir),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        end = time.monotonic() + 240
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"make run exited:\n{self.log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return self.log.read_text()
            time.sleep(0.2)
        raise AssertionError(f"make run did not serve:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def room_host() -> str:
    """How a phone in the room names this machine: its first network address (or its name)."""
    addrs = netinfo.join_addresses("0.0.0.0")
    if addrs:
        return addrs[0].host
    names = netinfo.host_names()
    assert names, "this machine has neither a network address nor a host name to test with"
    return names[-1]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def ws_handshake(
    port: int, path: str, host: str, origin: str | None, cookie: str = "", **headers: str
) -> int:
    """The HTTP status of a WebSocket handshake sent exactly as given (101: accepted)."""
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
    ]
    if origin:
        lines.append(f"Origin: {origin}")
    if cookie:
        lines.append(f"Cookie: {cookie}")
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


def set_cookie_headers(r: httpx.Response, name: str) -> list[str]:
    return [h for h in r.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


def test_make_run_on_a_fresh_clone_serves_the_room_safely(tmp_path):
    var = tmp_path / "var"
    port = free_port()
    net = room_host()
    phone_host = f"{net}:{port}"
    here = f"127.0.0.1:{port}"
    srv = MakeRun(var, port)
    try:
        out = srv.start()
        print(out)  # what `make run` prints on a fresh clone (shown with -s)

        # --- what it prints ----------------------------------------------------------------------
        assert "Negotiation game: classroom (debug off" in out
        assert f"Students      http://{phone_host}/" in out or not netinfo.join_addresses("0.0.0.0")
        assert f"Instructor    http://{here}/host/" in out
        link = re.search(r"First login   (http://\S+)", out).group(1)
        assert "valid 15 minutes" in out
        answers = re.search(r"Answers to    (.*)", out).group(1)
        assert net in answers.split(", ") and "127.0.0.1" in answers.split(", ")
        assert "Secret key    " in out and "owner-only" in out
        assert "Traceback" not in out

        # --- the secret key: generated, owner-only ------------------------------------------------
        key_file = var / "secret_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text()

        # --- a phone opens the machine's network address ------------------------------------------
        phone = httpx.Client(base_url=f"http://{here}", headers={"Host": phone_host}, timeout=15)
        r = phone.get("/")
        assert r.status_code == 200 and "Join the negotiation" in r.text
        assert not r.headers.get("Strict-Transport-Security")
        for c in set_cookie_headers(r, "csrftoken"):
            assert "secure" not in c.lower(), "phones drop Secure cookies on plain HTTP"
        # static files are served (collected by make run, under hashed names)
        css = re.search(r'href="(/static/game/base\.[0-9a-f]{12}\.css)"', r.text).group(1)
        assert phone.get(css).status_code == 200

        # --- error pages are plain -----------------------------------------------------------------
        r404 = phone.get("/no/such/page/")
        assert r404.status_code == 404 and "There is nothing at this address" in r404.text
        r400 = httpx.get(f"http://{here}/", headers={"Host": f"203.0.113.9:{port}"}, timeout=15)
        assert r400.status_code == 400
        for page in (r404, r400):
            for word in TRACEBACK_WORDS:
                assert word not in page.text, word
        # the terminal says what happened in one line, not a traceback
        time.sleep(0.5)
        log = srv.log.read_text()
        assert f"Refused a request for host '203.0.113.9:{port}'" in log and "DJANGO_ALLOWED_HOSTS" in log
        assert "Traceback" not in log

        # --- the instructor logs in with the printed link, chooses a password, opens a session ----
        teacher = httpx.Client(base_url=f"http://{here}", timeout=15)
        page = teacher.get(link.replace(f"http://{here}", ""))
        assert page.status_code == 200 and "Log in as" in page.text
        r = teacher.post(link.replace(f"http://{here}", ""), data={"csrfmiddlewaretoken": csrf_of(page.text)})
        assert r.status_code == 302 and r.headers["location"] == "/host/password/"
        page = teacher.get("/host/password/")
        r = teacher.post(
            "/host/password/",
            data={
                "csrfmiddlewaretoken": csrf_of(page.text),
                "new_password1": "a-class-of-two-hundred",
                "new_password2": "a-class-of-two-hundred",
            },
        )
        assert r.status_code == 302 and r.headers["location"] == "/host/"
        assert teacher.get(link.replace(f"http://{here}", "")).status_code == 410, "one time only"
        page = teacher.get("/host/")
        scenario = re.search(r'<option value="(\d+)"[^>]*>', page.text).group(1)
        r = teacher.post(
            "/host/",
            data={
                "csrfmiddlewaretoken": csrf_of(page.text),
                "scenario": scenario,
                "tables": "1",
                "title": "",
            },
        )
        assert r.status_code == 302
        code = re.fullmatch(r"/host/([A-Z0-9]{6})/", r.headers["location"]).group(1)
        # the dashboard, opened on this machine, shows the address phones can reach
        dash = teacher.get(f"/host/{code}/").text
        if netinfo.join_addresses("0.0.0.0"):
            assert f'href="http://{phone_host}/?code={code}"' in dash
        else:
            assert "This computer has no network address" in dash

        # --- a student joins from the phone; foreign and other-port forms are refused --------------
        page = phone.get(f"/?code={code}")
        form = {"csrfmiddlewaretoken": csrf_of(page.text), "code": code, "name": "Olena"}
        for bad in ("http://evil.example", f"http://{net}:{port + 1}"):
            r = phone.post("/join/", data=form, headers={"Origin": bad})
            assert r.status_code == 403, bad
            assert "That form was refused" in r.text and "Traceback" not in r.text
        r = phone.post("/join/", data=form, headers={"Origin": f"http://{phone_host}"})
        assert r.status_code == 302 and r.headers["location"] == f"/play/{code}/"
        [session_cookie] = set_cookie_headers(r, "sessionid")
        assert "secure" not in session_cookie.lower()
        seat = phone.get(f"/play/{code}/")
        assert seat.status_code == 200 and "Olena" in seat.text
        cookie = f"sessionid={phone.cookies['sessionid']}"

        # --- sockets: only from the page's own full origin ----------------------------------------
        path = f"/ws/play/{code}/"
        assert ws_handshake(port, path, phone_host, f"http://{phone_host}", cookie) == 101
        assert ws_handshake(port, path, phone_host, "http://evil.example", cookie) == 403
        assert ws_handshake(port, path, phone_host, f"http://{net}:{port + 1}", cookie) == 403
        assert ws_handshake(port, path, phone_host, f"https://{phone_host}", cookie) == 403
        assert ws_handshake(port, path, phone_host, None, cookie) == 403

        # --- a restart: the same key, the seat and the login kept --------------------------------
        srv.stop()
        out2 = srv.start()
        assert key_file.read_text() == key
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert "First login" not in out2 and "log in as 'instructor' with your password" in out2
        seat = phone.get(f"/play/{code}/")
        assert seat.status_code == 200 and "Olena" in seat.text, "the phone's seat survived the restart"
        assert teacher.get("/host/").status_code == 200, "the instructor's login survived the restart"
        assert ws_handshake(port, path, phone_host, f"http://{phone_host}", cookie) == 101
    finally:
        srv.stop()


def test_make_run_refuses_a_port_in_use_and_names_the_fix(tmp_path):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run(
            ["make", "run", "HOST=0.0.0.0", f"PORT={port}"],
            cwd=ROOT,
            env=fresh_env(tmp_path / "var"),
            capture_output=True,
            text=True,
            timeout=240,
            stdin=subprocess.DEVNULL,
        )
    assert out.returncode != 0
    assert f"Port {port} is already in use" in out.stderr and f"make run PORT={port + 1}" in out.stderr


def test_serve_refuses_an_unmigrated_database_and_names_the_fix(tmp_path):
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "serve", "--check-only"],
        cwd=ROOT,
        env={**fresh_env(tmp_path / "var"), "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "The database is missing" in out.stderr and "manage.py migrate" in out.stderr


# --- behind a TLS proxy ----------------------------------------------------------------------


@pytest.fixture
def proxied(tmp_path):
    env = {
        **fresh_env(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "negotiation.settings",
        "DJANGO_SECURE_SSL_REDIRECT": "1",
        "DJANGO_ALLOWED_HOSTS": "game.example.edu",
        "GAME_BOTS": "0",
    }
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "load_default_scenario")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    code = manage(env, "create_session", "--tables", "1").strip().splitlines()[-1]
    w = Worker(env)
    # healthz answers on plain HTTP (exempt from the redirect) for the proxy's checks
    w.start()
    yield w, code
    w.stop()


def test_behind_a_tls_proxy_cookies_are_secure_and_plain_http_is_redirected(proxied):
    w, code = proxied
    base = f"http://127.0.0.1:{w.port}"
    r = httpx.get(f"{base}/?code={code}", headers={"Host": "game.example.edu"}, timeout=15)
    assert r.status_code == 301 and r.headers["location"] == f"https://game.example.edu/?code={code}"
    https = {"Host": "game.example.edu", "X-Forwarded-Proto": "https"}
    # The client speaks plain HTTP to 127.0.0.1 as the proxy does, so it would not send Secure
    # cookies back by itself: they are passed by hand, as the browser behind the proxy would.
    c = httpx.Client(base_url=base, headers=https, timeout=15)
    page = c.get(f"/?code={code}")
    assert page.status_code == 200
    assert "max-age=31536000" in page.headers["strict-transport-security"]
    [csrf_cookie] = set_cookie_headers(page, "csrftoken")
    assert "; secure" in csrf_cookie.lower()
    jar = {"Cookie": csrf_cookie.split(";", 1)[0]}
    form = {"csrfmiddlewaretoken": csrf_of(page.text), "code": code, "name": "Ada"}
    r = c.post("/join/", data=form, headers={**jar, "Origin": "http://game.example.edu"})
    assert r.status_code == 403, "an http origin is another origin behind TLS"
    r = c.post("/join/", data=form, headers={**jar, "Origin": "https://game.example.edu"})
    assert r.status_code == 302
    [session_cookie] = set_cookie_headers(r, "sessionid")
    assert "; secure" in session_cookie.lower()
    cookie = session_cookie.split(";", 1)[0]
    seat = c.get(f"/play/{code}/", headers={"Cookie": cookie})
    assert seat.status_code == 200 and "Ada" in seat.text
    path = f"/ws/play/{code}/"
    ok = ws_handshake(
        w.port, path, "game.example.edu", "https://game.example.edu", cookie, X_Forwarded_Proto="https"
    )
    assert ok == 101
    bad = ws_handshake(
        w.port, path, "game.example.edu", "http://game.example.edu", cookie, X_Forwarded_Proto="https"
    )
    assert bad == 403
