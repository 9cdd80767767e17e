"""Browser fixtures: a real Daphne server on its own database, and Debian's Chromium via Playwright.

The server runs in a subprocess with its own ``GAME_VAR_DIR`` (so its own SQLite database). Host
actions run as ``manage.py shell`` in another process; with the in-memory channel layer their
broadcasts cannot reach the server's sockets, so the server runs with a 1-second ``sync`` period
and the sockets pick the events up from the event log (the contract's recovery path).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PY = ROOT / ".venv" / "bin" / "python"
DAPHNE = ROOT / ".venv" / "bin" / "daphne"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = ROOT / "artifacts" / "screenshots"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GameServer:
    """One Daphne process on one database; it can be stopped and started again on the same port."""

    def __init__(self, var_dir: Path):
        self.var_dir = var_dir
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            {
                "GAME_VAR_DIR": str(var_dir),
                "DJANGO_DEBUG": "1",
                "GAME_BOTS": "0",
                "GAME_SYNC_SECONDS": "1",
                "DJANGO_SETTINGS_MODULE": "negotiation.settings",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.log_path = var_dir / "daphne.log"

    # -- processes ------------------------------------------------------------------------
    def manage(self, *args: str) -> str:
        res = subprocess.run(
            [str(PY), "manage.py", *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=90
        )
        if res.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")
        return res.stdout

    def start(self) -> None:
        log = open(self.log_path, "a")  # noqa: SIM115 - kept open for the life of the process
        self.proc = subprocess.Popen(
            [str(DAPHNE), "-b", "127.0.0.1", "-p", str(self.port), "negotiation.asgi:application"],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"daphne exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as r:
                    if json.loads(r.read()).get("ok"):
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"daphne did not become healthy:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    # -- the game, driven like a host would ------------------------------------------------
    def create_session(self) -> dict:
        return json.loads(self.manage("create_session", "--tables", "1", "--json").strip().splitlines()[-1])

    def service(self, code: str, call: str, *args) -> None:
        extra = "".join(f", {a!r}" for a in args)
        self.manage(
            "shell",
            "-c",
            "from game.services import clock; from game.models import GameSession; "
            f"clock.{call}(GameSession.objects.get(code={code!r}).pk{extra})",
        )

    def start_session(self, code: str) -> None:
        self.service(code, "start_session")

    def advance_phase(self, code: str) -> None:
        self.service(code, "advance_phase")

    def end_session(self, code: str) -> None:
        self.service(code, "end_session")

    def pause_clock(self, code: str) -> None:
        self.service(code, "pause_clock")

    def resume_clock(self, code: str) -> None:
        self.service(code, "resume_clock")

    def inject_news(self, code: str, key: str) -> None:
        self.service(code, "inject_news", key)

    def remove_player(self, code: str, name: str) -> None:
        self.manage(
            "shell",
            "-c",
            "from game.services import seating; from game.models import GameSession, Player; "
            f"s = GameSession.objects.get(code={code!r}); "
            f"seating.remove_player(s, Player.objects.get(session=s, name={name!r}).pk)",
        )


# An instructor account on every test server, so one server serves the students' and the
# instructor's tests alike.
USER, PASSWORD = "instructor-test", "a-long-test-password-91"
CREATE_USER = f"""
from django.contrib.auth import get_user_model
U = get_user_model()
u, _ = U.objects.get_or_create(username={USER!r})
u.is_staff = u.is_superuser = True
u.set_password({PASSWORD!r})
u.save()
"""


def _boot(var_dir: Path) -> GameServer:
    srv = GameServer(var_dir)
    srv.manage("migrate", "--noinput", "-v", "0")
    srv.manage("load_default_scenario")
    srv.manage("shell", "-c", CREATE_USER)
    srv.start()
    return srv


def sign_in(page, base: str) -> None:
    """Log the page's context in as the instructor (the cookie then serves every page of it)."""
    import re

    page.goto(base + "/admin/login/?next=/host/")
    page.fill("#id_username", USER)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/host/$"))


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = _boot(tmp_path_factory.mktemp("game-var"))
    yield srv
    srv.stop()


@pytest.fixture
def own_server(tmp_path_factory):
    """A server of the test's own, for tests that stop and restart it."""
    srv = _boot(tmp_path_factory.mktemp("game-var-own"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: sync Playwright keeps an event loop running in the main thread while it is
    open, which would stop later async tests (pytest-asyncio) from running their own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def contexts(browser):
    """Make browser contexts (one per player); all are closed after the test, which fails if a
    page threw an uncaught JavaScript error."""
    made = []
    errors: list[str] = []

    def make(phone: bool = False, locale: str | None = None):
        """``locale``: the browser's language (its Accept-Language), e.g. "uk-UA"."""
        extra = {"locale": locale} if locale else {}
        if phone:
            ctx = browser.new_context(
                viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, **extra
            )
        else:
            ctx = browser.new_context(viewport=DESKTOP, **extra)
        ctx.set_default_timeout(15000)

        def watch(page):
            page.on("pageerror", lambda err: errors.append(f"{page.url}: {err}"))
            # Every page runs under the Content-Security-Policy: anything it refuses (an inline
            # style or script, a remote image) is a defect of the page.
            page.on(
                "console",
                lambda msg: (
                    errors.append(f"{page.url}: {msg.text}")
                    if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
                    else None
                ),
            )

        ctx.on("page", watch)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()
    assert not errors, "uncaught errors or CSP violations in the page:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


# A socket of the page's own origin (so its cookie goes along): send messages, wait for each answer.
# Returns {replies: the ack or error of each message in order, state: the first snapshot}.
SOCKET_JS = """
async ([path, msgs]) => {
  const ws = new WebSocket(`ws://${location.host}${path}`);
  const inbox = [];
  ws.addEventListener("message", (e) => inbox.push(JSON.parse(e.data)));
  await new Promise((ok, fail) => { ws.addEventListener("open", ok); ws.addEventListener("error", fail); });
  for (let i = 0; i < 200 && !inbox.some((m) => m.type === "state" || m.type === "host.state"); i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  const out = [];
  for (const m of msgs) {
    const ref = "t" + Math.random().toString(36).slice(2);
    ws.send(JSON.stringify({ ...m, ref }));
    let reply = null;
    for (let i = 0; i < 400 && !reply; i++) {
      await new Promise((r) => setTimeout(r, 25));
      reply = inbox.find((x) => x.ref === ref && (x.type === "ack" || x.type === "error"));
    }
    out.push(reply);
  }
  ws.close();
  return { replies: out, state: inbox.find((m) => m.type === "state" || m.type === "host.state") };
}
"""


def send_acked(page, path: str, *msgs) -> None:
    """Send messages on a socket of the page's origin; every one must be acknowledged."""
    out = page.evaluate(SOCKET_JS, [path, list(msgs)])["replies"]
    assert all(r and r["type"] == "ack" for r in out), out


def join(ctx, base: str, code: str, name: str):
    """A student joins through the join form in a new page of ``ctx`` and gets a role."""
    import re

    from playwright.sync_api import expect

    page = ctx.new_page()
    page.goto(f"{base}/?code={code}")
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join the table").click()
    page.wait_for_url(re.compile(r"/play/[A-Z0-9]+/$"))
    expect(page.locator("#you-badge")).not_to_have_text("Your role")
    return page
