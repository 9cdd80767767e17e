"""The department runbook (docs/deployment.md) as written, for everything that runs without systemd.

- ``deploy/game.env`` parses the same under systemd's EnvironmentFile rules (a parser following
  systemd's env-file.c, below) and under the shell (``deploy/game-manage`` sources it), with no
  comment swallowed into a value, and production settings load from it;
- the systemd units pass ``systemd-analyze verify``;
- ``deploy/backup.sh`` creates an owner-only folder, keeps a retention window, and its dump
  restores;
- ``deploy/nginx/game.conf`` passes ``nginx -t`` and carries the game: an nginx started here on
  127.0.0.1 with TLS in front of two workers configured from the environment file; sockets get
  their state and are spread over both workers; the health check command works as written; a
  worker restart reconnects its pages within 5 s; a rolling restart of both workers under a
  steady load of three tables loses nothing and shows students no error.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.infra import ROOT, Postgres, Redis, Worker, free_port, manage, wait_port
from tests.pageclient import PageClient, eventually

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.timeout(300)]

DEPLOY = ROOT / "deploy"
HOST = "game.example.edu"


# --- the environment file -------------------------------------------------------------------


def systemd_env(text: str) -> dict[str, str]:
    """Parse an EnvironmentFile the way systemd does (src/basic/env-file.c, a state machine):
    ``#`` and ``;`` start a comment only where a key would start; an unquoted value runs to the
    end of the line (a ``#`` in it is part of it) with trailing whitespace removed; single quotes
    are literal; double quotes unescape ``"``, ``\\``, `````, ``$``; a backslash before a newline
    continues the line. Names that are not valid environment names are dropped, as systemd does."""
    ws, nl = " \t\n\r", "\n\r"
    out: dict[str, str] = {}
    state, key, value = "pre_key", [], []
    key_ws = value_ws = None

    def push() -> None:
        k = "".join(key[:key_ws] if key_ws is not None else key)
        v = "".join(value)
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
            out[k] = v

    for c in text:
        if state == "pre_key":
            if c in "#;":
                state = "comment"
            elif c not in ws:
                state, key, key_ws = "key", [c], None
        elif state == "key":
            if c in nl:
                state, key = "pre_key", []
            elif c == "=":
                state, value, value_ws = "pre_value", [], None
            else:
                if c not in ws:
                    key_ws = None
                elif key_ws is None:
                    key_ws = len(key)
                key.append(c)
        elif state == "pre_value":
            if c in nl:
                push()
                state = "pre_key"
            elif c == "'":
                state = "single"
            elif c == '"':
                state = "double"
            elif c == "\\":
                state = "value_escape"
            elif c not in ws:
                state = "value"
                value.append(c)
        elif state == "value":
            if c in nl:
                if value_ws is not None:
                    del value[value_ws:]
                push()
                state = "pre_key"
            elif c == "\\":
                state, value_ws = "value_escape", None
            else:
                if c not in ws:
                    value_ws = None
                elif value_ws is None:
                    value_ws = len(value)
                value.append(c)
        elif state == "value_escape":
            state = "value"
            if c not in nl:
                value.append(c)
        elif state == "single":
            if c == "'":
                state = "pre_value"
            else:
                value.append(c)
        elif state == "double":
            if c == '"':
                state = "pre_value"
            elif c == "\\":
                state = "double_escape"
            else:
                value.append(c)
        elif state == "double_escape":
            state = "double"
            if c in '"\\`$':
                value.append(c)
            elif c != "\n":
                value += ["\\", c]
        elif state == "comment":
            if c == "\\":
                state = "comment_escape"
            elif c in nl:
                state = "pre_key"
        elif state == "comment_escape":
            state = "pre_key" if c in nl else "comment"
    if state in ("pre_value", "value", "value_escape", "single", "double", "double_escape"):
        if state == "value" and value_ws is not None:
            del value[value_ws:]
        push()
    return out


def shell_env(path: Path) -> dict[str, str]:
    """The variables the shell sets when it sources the file (as deploy/game-manage does)."""
    script = f"set -a; . {path}; set +a; env -0"
    out = subprocess.run(["sh", "-c", script], env={}, capture_output=True, check=True).stdout
    env = dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)
    return {k: v for k, v in env.items() if k not in ("PWD", "SHLVL", "_", "OLDPWD")}


def test_the_systemd_parser_keeps_an_inline_comment_in_the_value_as_systemd_does():
    parsed = systemd_env("GAME_VAR_DIR=/srv/game/var   # collected static files\n#X=1\n K = 'a b' \n")
    assert parsed == {"GAME_VAR_DIR": "/srv/game/var   # collected static files", "K": "a b"}


def test_the_environment_file_parses_the_same_under_systemd_and_the_shell_and_loads_production_settings():
    path = DEPLOY / "game.env"
    text = path.read_text()
    parsed = systemd_env(text)
    assert set(parsed) >= {
        "DATABASE_URL",
        "REDIS_URL",
        "DJANGO_DEBUG",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "GAME_VAR_DIR",
        "GAME_DRAIN_SECONDS",
    }
    for k, v in parsed.items():
        assert "#" not in v and v == v.strip() and v, f"{k}={v!r}: a comment or blank in the value"
    assert parsed == shell_env(path), "systemd and the shell read the file differently"
    assert parsed["GAME_VAR_DIR"] == "/srv/game/var" and parsed["DJANGO_DEBUG"] == "0"
    # The settings load from exactly these values (with a real key and a writable var dir).
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("DJANGO_")
        },
        "DJANGO_SETTINGS_MODULE": "negotiation.settings",  # the workers' settings, not the tests'
        **parsed,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "GAME_VAR_DIR": tempfile.mkdtemp(prefix="game-env-"),
    }
    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: `make test` installs systemd"
    for unit in (DEPLOY / "systemd").iterdir():
        name = "game@01.service" if unit.name == "game@.service" else unit.name
        # Point the units at this checkout, so that the programs they start exist here.
        (tmp_path / name).write_text(unit.read_text().replace("/srv/game/app", str(ROOT)))
    units = sorted(str(p) for p in tmp_path.iterdir())
    out = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), out.stdout + out.stderr
    worker = (tmp_path / "game@01.service").read_text()
    assert "User=game" in worker and "EnvironmentFile=/etc/game/game.env" in worker
    assert "--proxy-headers" in worker and "TimeoutStopSec=20" in worker


# --- backups --------------------------------------------------------------------------------


def test_the_backup_script_keeps_owner_only_dumps_for_the_retention_window_and_they_restore():
    pg = Postgres().start()
    base = Path(tempfile.mkdtemp(prefix="game-backups-"))  # the postgres user must reach it
    try:
        pg.psql("CREATE TABLE game_event (id serial PRIMARY KEY, data text)")
        pg.psql("INSERT INTO game_event (data) SELECT 'event ' || g FROM generate_series(1, 50) g")
        shutil.chown(base, "postgres", "postgres")
        folder = base / "game"
        env = {
            "PATH": f"/usr/lib/postgresql/15/bin:{os.environ['PATH']}",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(pg.port),
            "PGUSER": "postgres",
            "GAME_BACKUP_DIR": str(folder),
            "GAME_BACKUP_KEEP_DAYS": "14",
        }
        as_pg = ["runuser", "-u", "postgres", "--", "env", *(f"{k}={v}" for k, v in env.items())]
        # the checkout may sit in a folder the postgres user cannot enter (a 0700 temporary one)
        script = base / "backup.sh"
        shutil.copy(DEPLOY / "backup.sh", script)
        shutil.chown(script, "postgres", "postgres")
        subprocess.run([*as_pg, str(script)], check=True, capture_output=True, timeout=60)
        assert (folder.stat().st_mode & 0o777) == 0o700, "the backup folder must be owner-only"
        dumps = sorted(folder.glob("game-*.dump"))
        assert len(dumps) == 1 and (dumps[0].stat().st_mode & 0o777) == 0o600
        # Retention: a dump older than the window goes at the next run; a recent one stays.
        old, recent = folder / "game-2000-01-01T000000Z.dump", folder / "game-recent.dump"
        for f, days in ((old, 20), (recent, 3)):
            f.write_bytes(b"x")
            t = time.time() - days * 86400
            os.utime(f, (t, t))
        time.sleep(1.1)  # a distinct timestamp for the second dump
        subprocess.run([*as_pg, str(script)], check=True, capture_output=True, timeout=60)
        assert not old.exists() and recent.exists()
        assert len(list(folder.glob("game-20*.dump"))) == 2
        # Restore, as the runbook says (workers stopped first): into the database it came from.
        pg.psql("DELETE FROM game_event WHERE id > 10")
        subprocess.run(
            [*as_pg, "pg_restore", "--clean", "--if-exists", "--dbname=game", str(dumps[0])],
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert pg.psql("SELECT count(*) FROM game_event") == "50"
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


# --- nginx in front of two workers ----------------------------------------------------------


class Nginx:
    """Debian's nginx running the shipped site file, with only its addresses, ports and paths
    replaced for this machine."""

    def __init__(self, workers: list[Worker], cert: Path, key: Path):
        self.dir = Path(tempfile.mkdtemp(prefix="game-nginx-"))
        self.http, self.https = free_port(), free_port()
        site = (DEPLOY / "nginx" / "game.conf").read_text()
        servers = "".join(f"    server 127.0.0.1:{w.port} max_fails=1 fail_timeout=2s;\n" for w in workers)
        site = re.sub(r"(    server 127\.0\.0\.1:800\d max_fails=1 fail_timeout=2s;\n)+", servers, site)
        site = site.replace("listen [::]:80;", "").replace("listen [::]:443 ssl http2;", "")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.http};")
        site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https} ssl http2;")
        site = site.replace(f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(cert))
        site = site.replace(f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(key))
        site = site.replace("/var/www/letsencrypt", str(self.dir / "acme"))
        site = site.replace("/srv/game/var/staticfiles/", str(self.dir / "static") + "/")
        directives = "\n".join(line for line in site.splitlines() if not line.strip().startswith("#"))
        assert not re.search(r"127\.0\.0\.1:800\d\b|/etc/", directives), "a replacement did not apply"
        (self.dir / "game.conf").write_text(site)
        for d in ("acme/.well-known/acme-challenge", "static", "tmp"):
            (self.dir / d).mkdir(parents=True)
        (self.dir / "acme/.well-known/acme-challenge/token").write_text("renewal works")
        (self.dir / "nginx.conf").write_text(
            f"""user root;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {self.dir}/access.log;
    client_body_temp_path {self.dir}/tmp/body;
    proxy_temp_path {self.dir}/tmp/proxy;
    fastcgi_temp_path {self.dir}/tmp/fastcgi;
    uwsgi_temp_path {self.dir}/tmp/uwsgi;
    scgi_temp_path {self.dir}/tmp/scgi;
    include {self.dir}/game.conf;
}}
"""
        )
        self.proc: subprocess.Popen | None = None

    def cmd(self, *args: str) -> list[str]:
        return ["nginx", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), *args]

    def test_config(self) -> subprocess.CompletedProcess:
        return subprocess.run(self.cmd("-t"), capture_output=True, text=True, timeout=30)

    def start(self) -> Nginx:
        self.proc = subprocess.Popen(self.cmd("-g", "daemon off;"), stderr=subprocess.PIPE)
        wait_port(self.https)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def self_signed(dir_: Path) -> tuple[Path, Path]:
    cert, key = dir_ / "cert.pem", dir_ / "key.pem"
    subprocess.run(
        [
            *(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                f"/CN={HOST}",
            ),
            *("-addext", f"subjectAltName=DNS:{HOST}", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture(scope="module")
def site():
    """PostgreSQL, Redis, two production workers configured by deploy/game.env, nginx in front."""
    pg = Postgres().start()
    redis = Redis().start()
    var = tempfile.mkdtemp(prefix="game-prod-")
    parsed = systemd_env((DEPLOY / "game.env").read_text())
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        **parsed,
        "DATABASE_URL": pg.url,
        "REDIS_URL": redis.url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "GAME_VAR_DIR": var,
        "GAME_BOTS": "0",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "negotiation.settings",
    }
    manage(env, "migrate", "--noinput")
    manage(env, "load_default_scenario")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    workers = [Worker({**env, "GAME_WORKER_NAME": f"0{i + 1}"}).start() for i in range(2)]
    cert, key = self_signed(Path(var))
    nginx = Nginx(workers, cert, key)
    checked = nginx.test_config()
    assert checked.returncode == 0, checked.stderr
    nginx.start()
    st = {"env": env, "pg": pg, "workers": workers, "nginx": nginx, "nginx_t": checked.stderr}
    yield st
    nginx.stop()
    for w in st["workers"]:
        w.stop()
    redis.stop()
    pg.stop()


def https_client(st) -> httpx.Client:
    return httpx.Client(
        base_url=f"https://127.0.0.1:{st['nginx'].https}",
        headers={"Host": HOST, "Origin": f"https://{HOST}", "Referer": f"https://{HOST}/"},
        verify=False,
        timeout=15,
    )


def session_with_tables(env, tables: int) -> str:
    out = manage(
        env,
        "shell",
        "-c",
        "from game.services import clock, seating; from game.models import ScenarioConfig; "
        f"s = seating.create_session(ScenarioConfig.objects.get(slug='default'), {tables}); print(s.code)",
    )
    return out.strip().splitlines()[-1]


def start_session(env, code: str) -> None:
    manage(
        env,
        "shell",
        "-c",
        "from game.services import clock, seating; from game.models import GameSession; "
        f"clock.start_session(GameSession.objects.get(code='{code}').pk)",
    )


def join_through_nginx(st, code: str, name: str) -> str:
    with https_client(st) as c:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', c.get("/").text).group(1)
        r = c.post("/join/", data={"code": code, "name": name, "csrfmiddlewaretoken": token})
        assert r.status_code == 302, (r.status_code, r.text[:300])
        return "; ".join(f"{k}={v}" for k, v in c.cookies.items())


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def pages_through_nginx(st, code: str, n: int) -> list[PageClient]:
    port = st["nginx"].https
    pages = []
    for i in range(n):
        cookie = await asyncio.to_thread(join_through_nginx, st, code, f"S{i}-{code}")
        page = PageClient(
            f"S{i}",
            [f"wss://{HOST}:{port}/ws/play/{code}/"],
            cookie,
            origin=f"https://{HOST}",
            connect_kwargs={"host": "127.0.0.1", "port": port, "ssl": tls_context(), "server_hostname": HOST},
        )
        page.start()
        pages.append(page)
    await eventually(lambda: all(p.state for p in pages), 20, "every page's state through nginx")
    return pages


async def restart(st, i: int) -> float:
    """What systemd does on `systemctl restart game@0N`: SIGTERM, wait for the exit, start again."""
    w = st["workers"][i]
    t = time.monotonic()
    w.terminate()
    await asyncio.to_thread(w.proc.wait, 30)
    st["workers"][i] = await asyncio.to_thread(Worker(w.env, w.port).start)
    return time.monotonic() - t


def test_nginx_accepts_the_shipped_configuration_and_serves_renewals_and_redirects(site):
    assert "syntax is ok" in site["nginx_t"] and "test is successful" in site["nginx_t"]
    base = f"http://127.0.0.1:{site['nginx'].http}"
    r = httpx.get(f"{base}/.well-known/acme-challenge/token", headers={"Host": HOST})
    assert r.status_code == 200 and r.text == "renewal works", "certbot's webroot renewal would fail"
    r = httpx.get(f"{base}/play/ABC/", headers={"Host": HOST})
    assert r.status_code == 301 and r.headers["location"] == f"https://{HOST}/play/ABC/"


async def test_sockets_through_nginx_get_their_state_spread_over_workers_and_reconnect_after_a_restart(site):
    # The health check command exactly as the runbook gives it, against a production worker.
    for w in site["workers"]:
        out = subprocess.run(
            ["curl", "-fsS", f"http://127.0.0.1:{w.port}/healthz"], capture_output=True, text=True, timeout=20
        )
        assert out.returncode == 0 and '"ok": true' in out.stdout, out.stdout + out.stderr
    code = await asyncio.to_thread(session_with_tables, site["env"], 2)
    logs_before = [len(w.log_text()) for w in site["workers"]]
    pages = await pages_through_nginx(site, code, 8)
    assert all(p.state["you"]["role"] for p in pages)
    per_worker = [
        w.log_text()[n:].count(f"WSCONNECT /ws/play/{code}/")
        for w, n in zip(site["workers"], logs_before, strict=True)
    ]
    assert min(per_worker) >= 2, f"sockets from one address all went to one worker: {per_worker}"
    print(f"8 sockets from one address through nginx: {per_worker} per worker")
    # Restart the first worker: its pages are closed with 1012 and reconnect through nginx.
    took = await restart(site, 0)
    moved = [p for p in pages if p.closes]
    assert moved and all(code_ == 1012 for p in moved for _at, code_ in p.closes)
    for p in moved:
        await eventually(lambda p=p: len(p.opens) >= 2, 10, f"{p.name} reconnects")
        closed_at = p.closes[0][0]
        reopened = min(t for t in p.opens if t > closed_at)
        assert reopened - closed_at < 5.0, f"{p.name} reconnected after {reopened - closed_at:.1f} s"
    print(
        f"restart took {took:.1f} s; {len(moved)} pages reconnected, worst {max(min(t for t in p.opens if t > p.closes[0][0]) - p.closes[0][0] for p in moved):.2f} s"
    )
    for p in pages:
        await p.stop()


async def test_a_rolling_restart_of_both_workers_under_load_loses_nothing_and_shows_no_error(site):
    env = site["env"]
    code = await asyncio.to_thread(session_with_tables, env, 3)
    pages = await pages_through_nginx(site, code, 12)
    await asyncio.to_thread(start_session, env, code)
    stop = asyncio.Event()

    async def student(p: PageClient) -> None:
        i = 0
        await eventually(lambda: p.state, 10)
        while not stop.is_set():
            await p.chat(f"{p.name} says {i}")
            i += 1
            await asyncio.sleep(1.0)

    load = asyncio.gather(*(student(p) for p in pages))
    await asyncio.sleep(2)
    took = [await restart(site, 0)]
    await asyncio.sleep(1)
    took.append(await restart(site, 1))
    await asyncio.sleep(2)
    stop.set()
    await load
    await eventually(lambda: all(not p.outbox for p in pages), 30, "every action acknowledged")
    made = {ref for p in pages for ref in p.sent_at}
    acked = {ref for p in pages for ref in p.acked}
    assert made == acked
    for p in pages:
        assert not p.refused, f"{p.name} was shown an error: {p.refused[:2]}"
    rows = (
        site["pg"]
        .psql(
            "SELECT e.table_id, e.data->>'text' FROM game_event e JOIN game_gametable t ON t.id = e.table_id "
            f"JOIN game_gamesession s ON s.id = t.session_id WHERE s.code = '{code}' AND e.kind = 'chat.message'"
        )
        .splitlines()
    )
    texts = [r.split("|", 1)[1] for r in rows]
    assert len(texts) == len(set(texts)) == len(made), "an action was lost or applied twice"
    by_table: dict[str, set[str]] = {}
    for r in rows:
        t, text = r.split("|", 1)
        by_table.setdefault(t, set()).add(text)
    for p in pages:
        mine = by_table[str(p.state["table"]["id"])]
        await eventually(lambda p=p, mine=mine: mine <= set(p.texts()), 15, f"{p.name} sees its table")
    drained = sum(1 for p in pages for _t, c in p.closes if c == 1012)
    print(
        f"restarts took {took[0]:.1f} s and {took[1]:.1f} s; {len(made)} actions; {drained} sockets drained"
    )
    for p in pages:
        await p.stop()
