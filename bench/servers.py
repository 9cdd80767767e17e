"""Start and stop throwaway servers for the load benchmark (bench/load.py) and its smoke test.

Two stacks, both on 127.0.0.1 only and under a temporary directory that is removed at the end:

* ``embedded``: one Daphne, the in-memory channel layer, SQLite (what ``make run`` gives a
  teacher's laptop).
* ``department``: a private ``redis-server`` (no persistence), a throwaway PostgreSQL 15 cluster
  (or SQLite shared by the workers, with ``db="sqlite"``), and two Daphne workers on two ports.

Every process is started in its own process group and stopped by its id (SIGTERM, then SIGKILL
after a grace period), also when the caller is interrupted: use ``Stack`` as a context manager.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import infra  # noqa: E402  (the test suite's server helpers: one manage() for both)

VENV_BIN = (
    Path(sys.executable).parent
    if (Path(sys.executable).parent / "daphne").exists()
    else ROOT / ".venv" / "bin"
)
DAPHNE = str(VENV_BIN / "daphne")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit() -> None:
    """Thousands of sockets need thousands of file descriptors (client and server)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def rss_kb(pid: int) -> int:
    """Resident set size of a process in KiB (VmRSS of /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int, children: bool = False) -> float:
    """utime + stime of a process (plus its reaped children's, if asked), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLK_TCK


def child_pids(parent: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        if int(raw[raw.rindex(")") + 2 :].split()[1]) == parent:
            out.append(int(d))
    return out


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (from /proc/stat), to see other load."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    vals = [int(x) for x in parts]
    idle = vals[3] + vals[4]  # idle + iowait
    return (sum(vals[:8]) - idle) / CLK_TCK


def machine_info() -> dict[str, str]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    free = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout.strip()
    mem = next((ln.split()[1] for ln in free.splitlines() if ln.startswith("Mem:")), "?")
    return {"nproc": str(os.cpu_count()), "cpu": model, "memory": mem, "free_h": free}


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


@dataclass
class Stack:
    """One configuration of the server, started in a temporary directory."""

    config: str = "embedded"  # or "department"
    workers: int = 0  # 0: 1 for embedded, 2 for department
    db: str = ""  # "sqlite" or "postgres"; "": sqlite for embedded, postgres for department
    debug: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    verbose: bool = True

    def __post_init__(self) -> None:
        if self.config not in ("embedded", "department"):
            raise ValueError(f"unknown configuration {self.config!r}")
        self.workers = self.workers or (1 if self.config == "embedded" else 2)
        self.db = self.db or ("sqlite" if self.config == "embedded" else "postgres")
        self.tmp: Path | None = None
        self.procs: list[Proc] = []
        self.daphnes: list[Proc] = []
        self.redis: Proc | None = None
        self.postgres: Proc | None = None
        self.ports: list[int] = []
        self.env: dict[str, str] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def say(self, *args) -> None:
        if self.verbose:
            print("[servers]", *args, file=sys.stderr, flush=True)

    def start(self) -> None:
        raise_fd_limit()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{self.config}-"))
        os.chmod(self.tmp, 0o755)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GAME_"))}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        env.update(
            {
                "GAME_VAR_DIR": str(self.tmp / "var"),
                "DJANGO_DEBUG": "1" if self.debug else "0",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)[:50],
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DJANGO_SECURE_SSL_REDIRECT": "0",
                "DJANGO_LOG_LEVEL": "WARNING",
                "GAME_BOTS": "0",
                # The bare relay baseline is served only when a benchmark asks for it, and the
                # load generator joins hundreds of players from one address in a minute.
                "GAME_BENCH_RELAY": "1",
                "GAME_JOINS_PER_MINUTE": "100000",
                "PYTHONUNBUFFERED": "1",
                # the server code of this checkout (also when the bench runs from a scratch copy)
                "PYTHONPATH": str(ROOT),
            }
        )
        if self.config == "department":
            self.redis = self._start_redis()
            env["REDIS_URL"] = f"redis://127.0.0.1:{self.redis_port}/0"
        if self.db == "postgres":
            self.postgres = self._start_postgres()
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{self.pg_port}/game"
        env.update(self.extra_env)
        self.env = env
        t0 = time.monotonic()
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("load_default_scenario")
        if not self.debug:  # whitenoise's manifest storage needs collected files with DEBUG=0
            self.manage("collectstatic", "--noinput", "-v", "0")
        self.say(f"database ready in {time.monotonic() - t0:.1f}s ({self.db})")
        for i in range(self.workers):
            port = free_port()
            log = self.tmp / f"daphne-{i}.log"
            p = self._spawn(
                f"daphne-{i}",
                [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "negotiation.asgi:application"],
                log,
                cwd=ROOT,
                env=env,
            )
            self.daphnes.append(p)
            self.ports.append(port)
        for port, p in zip(self.ports, self.daphnes, strict=True):
            self._wait_http(f"http://127.0.0.1:{port}/healthz", p, timeout=60)
        self.say(f"{self.workers} Daphne worker(s) on ports {self.ports} ({self.config})")

    def extra_workers(self, n: int) -> list[tuple[str, Proc]]:
        """Start ``n`` more Daphne workers on the same database and channel layer (fresh processes,
        e.g. to measure what sockets cost a worker that has served nothing else); the caller
        stops them with ``stop_proc``. Returns (base URL, process) pairs."""
        out = []
        for _ in range(n):
            port = free_port()
            k = len(self.procs)
            p = self._spawn(
                f"daphne-extra-{k}",
                [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "negotiation.asgi:application"],
                self.tmp / f"daphne-extra-{k}.log",
                cwd=ROOT,
                env=self.env,
            )
            out.append((f"http://127.0.0.1:{port}", p))
        for base, p in out:
            self._wait_http(f"{base}/healthz", p, timeout=60)
        return out

    def stop_proc(self, p: Proc) -> None:
        self._terminate(p)
        if p in self.procs:
            self.procs.remove(p)

    def stop(self) -> None:
        for p in reversed(self.procs):
            self._terminate(p)
        self.procs.clear()
        if self.tmp is not None and self.tmp.exists():
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------
    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    @property
    def daphne_pids(self) -> list[int]:
        return [p.pid for p in self.daphnes]

    def aux_cpu_seconds(self) -> dict[str, float]:
        """CPU used so far by Redis and PostgreSQL (the postmaster's reaped backends included)."""
        out = {}
        if self.redis is not None:
            out["redis"] = cpu_seconds(self.redis.pid)
        if self.postgres is not None:
            pm = self.postgres.pid
            out["postgres"] = cpu_seconds(pm, children=True) + sum(cpu_seconds(c) for c in child_pids(pm))
        return out

    def manage(self, *args: str, timeout: float = 180) -> str:
        return infra.manage(self.env, *args, timeout=timeout)

    def create_session(self, tables: int) -> dict:
        out = self.manage("create_session", "--tables", str(tables), "--json")
        return json.loads(out.strip().splitlines()[-1])

    def start_session(self, code: str) -> None:
        self.start_sessions([code])

    def start_sessions(self, codes: list[str]) -> None:
        if not codes:
            return
        self.manage(
            "shell",
            "-c",
            "from game.services import clock; from game.models import GameSession\n"
            f"for code in {list(codes)!r}:\n"
            "    clock.start_session(GameSession.objects.get(code=code).pk)",
        )

    def profile(self, out_dir: Path, label: str, seconds: float, rate: int = 0) -> list[Proc]:
        """Sample every Daphne worker with py-spy for ``seconds`` (collapsed stacks, all threads, idle
        too; ``PYSPY_RATE`` samples a second, 67 by default)."""
        rate = rate or int(os.environ.get("PYSPY_RATE", "67"))
        exe = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
        if exe is None:
            raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
        out_dir.mkdir(parents=True, exist_ok=True)
        procs = []
        for i, pid in enumerate(self.daphne_pids):
            out = out_dir / f"{label}-worker{i}.txt"
            cmd = [exe, "record", "-p", str(pid), "-o", str(out), "-f", "raw", "-r", str(rate)]
            cmd += ["-d", str(max(1, int(seconds))), "--threads", "--nonblocking"]
            # PYSPY_GIL=1: only the thread holding the GIL (where one worker's CPU really goes).
            cmd += ["--gil"] if os.environ.get("PYSPY_GIL") == "1" else ["--idle"]
            procs.append(self._spawn(f"py-spy-{label}-{i}", cmd, out_dir / f"{label}-worker{i}.log"))
        return procs

    def wait_for(self, procs: list[Proc], timeout: float) -> None:
        for p in procs:
            try:
                p.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._terminate(p)

    def log_tail(self, lines: int = 30) -> str:
        out = []
        for p in self.procs:
            with contextlib.suppress(OSError):
                text = p.log.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {p.name} ({p.log.name})\n" + "\n".join(text))
        return "\n".join(out)

    def _spawn(self, name: str, cmd: list[str], log: Path, *, user: str | None = None, **kw) -> Proc:
        fh = open(log, "wb")  # noqa: SIM115 (kept open for the child's lifetime)
        extra = {}
        if user is not None:
            extra = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}
        popen = subprocess.Popen(
            cmd,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **extra,
            **kw,
        )
        fh.close()
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def _terminate(self, p: Proc, grace: float = 8.0) -> None:
        if p.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGTERM)  # its own group (start_new_session): only what we started
        try:
            p.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.popen.wait(timeout=5)

    def _wait_http(self, url: str, proc: Proc, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{url} did not answer within {timeout}s:\n{self.log_tail()}")

    def _wait_port(self, port: int, proc: Proc, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{proc.name} did not listen on {port} within {timeout}s")

    def _start_redis(self) -> Proc:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (Debian package redis-server)")
        self.redis_port = free_port()
        p = self._spawn(
            "redis",
            [
                "redis-server",
                "--port", str(self.redis_port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.tmp),
                "--daemonize", "no",
            ],
            self.tmp / "redis.log",
        )  # fmt: skip
        self._wait_port(self.redis_port, p, 15)
        return p

    def _start_postgres(self) -> Proc:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL 15 is not installed ({PG_BIN})")
        self.pg_port = free_port()
        data = self.tmp / "pgdata"
        user = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the postgres user
            user = "postgres"
            pw = pwd.getpwnam(user)
            data.mkdir(mode=0o700)
            os.chown(data, pw.pw_uid, pw.pw_gid)
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        run_as = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []} if user else {}
        subprocess.run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            cwd=self.tmp,
            **run_as,
        )
        # Default durability settings (fsync on): this is meant to look like a department server.
        p = self._spawn(
            "postgres",
            [
                str(PG_BIN / "postgres"),
                "-D", str(data),
                "-p", str(self.pg_port),
                "-k", str(self.tmp),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "max_connections=100",
            ],
            self.tmp / "postgres.log",
            user=user,
            cwd=self.tmp,
        )  # fmt: skip
        self._wait_port(self.pg_port, p, 30)
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "game"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return p


if __name__ == "__main__":  # a manual check: start a stack, print where it listens, wait for Ctrl-C
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", choices=["embedded", "department"], default="embedded")
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="")
    a = ap.parse_args()
    with Stack(config=a.config, db=a.db) as s:
        print(
            json.dumps(
                {"bases": s.bases, "pids": s.daphne_pids, "env": {k: s.env[k] for k in ("GAME_VAR_DIR",)}}
            )
        )
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
