"""`make run`: check that the server can serve its pages, say where students and the instructor go,
then hand over to Daphne.

It refuses to start, naming the fix, when the database is not migrated, the static files are not
collected (debug off), or the address cannot be listened on; a server that starts answers every
page. What it prints: the students' URL (this machine's address on the room's network), the
instructor's URL, a one-time login link while the instructor has no password, the host names
it answers to, and where the secret key is.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from game import firstlogin
from negotiation import netinfo
from negotiation.startup import static_problem


def _url(host: str, port: int, path: str = "/") -> str:
    return f"http://{host}{'' if port == 80 else f':{port}'}{path}"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class Command(BaseCommand):
    help = "Serve the game with Daphne after checking it can serve its pages; prints where to go."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every one)")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--instructor", default=firstlogin.DEFAULT_USERNAME)
        parser.add_argument(
            "--check-only", action="store_true", help="check and print, but do not start the server"
        )

    def handle(self, *args, host, port, instructor, check_only, **options):
        host = host.strip()
        bind = netinfo.strip_brackets(host)
        self._check_database()
        problem = static_problem()
        if problem:
            raise CommandError(problem)
        self._check_listen(bind, port)

        user, _created = firstlogin.ensure_instructor(instructor)
        self._print(bind, port, user)
        if check_only:
            return
        env = dict(os.environ)
        env["GAME_LISTEN"] = f"{netinfo.url_host_text(bind)}:{port}"
        sys.stdout.flush()
        sys.stderr.flush()
        for conn in connections.all():
            conn.close()
        argv = [sys.executable, "-m", "daphne", "-b", bind, "-p", str(port), "negotiation.asgi:application"]
        os.execve(sys.executable, argv, env)

    # --- checks -------------------------------------------------------------------------------

    def _check_database(self) -> None:
        try:
            executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except Exception as e:
            raise CommandError(
                f"The database cannot be opened ({type(e).__name__}: {e}). Check DATABASE_URL, "
                "or run `make run`, which creates and migrates the default SQLite database."
            ) from e
        if plan:
            raise CommandError(
                f"The database is missing {len(plan)} migration(s) (e.g. {plan[0][0]}): run `make run` "
                "(it migrates), or `.venv/bin/python manage.py migrate` with the same environment."
            )

    def _check_listen(self, bind: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((bind, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"Port {port} is already in use on {bind} (another `make run`?). Stop that "
                    f"server, or choose another port: make run PORT={port + 1}"
                ) from e
            if e.errno == errno.EADDRNOTAVAIL:
                mine = ", ".join(a.host for a in netinfo.addresses()) or "none"
                raise CommandError(
                    f"{bind} is not an address of this computer (its addresses: {mine}). Use one of "
                    "them, or HOST=0.0.0.0 to listen on every one."
                ) from e
            if e.errno == errno.EACCES:
                raise CommandError(
                    f"Port {port} needs administrator rights: choose one above 1023, e.g. make run PORT=8000"
                ) from e
            raise CommandError(f"Cannot listen on {bind}:{port}: {e.strerror}.") from e

    # --- what an instructor reads ------------------------------------------------------------

    def _print(self, bind: str, port: int, user) -> None:
        w = self.stdout.write
        local = bind if not (netinfo.is_unspecified(bind) or netinfo.is_loopback(bind)) else None
        here = netinfo.url_host_text(local) if local else ("[::1]" if ":" in bind else "127.0.0.1")
        mode = (
            "development (debug on)"
            if settings.DEBUG
            else "behind a TLS proxy"
            if getattr(settings, "HTTPS", False)
            else "classroom (debug off; `make dev` for development)"
        )
        w(f"Negotiation game: {mode}")
        w("")
        if netinfo.is_loopback(bind):
            w(f"  Students      {_url(here, port)}")
            w("                only this computer can open it. For phones in the room:")
            w(f"                make run HOST=0.0.0.0 PORT={port}")
        elif local:
            w(f"  Students      {_url(here, port)}")
        else:
            addrs = netinfo.join_addresses(bind)
            if addrs:
                w(f"  Students      {_url(addrs[0].host, port)}   ({addrs[0].interface})")
                for a in addrs[1:]:
                    w(f"                {_url(a.host, port)}   ({a.interface})")
            else:
                w(f"  Students      no network address yet: connect to the room's Wi-Fi (port {port})")
            names = netinfo.host_names()
            if names:
                w(f"                or by name: {_url(names[-1], port)}")
        host_path = reverse("host_index")
        w(f"  Instructor    {_url(here, port, host_path)}")
        if firstlogin.needs_link(user):
            link = _url(here, port, reverse("first_login", args=[firstlogin.make_token(user)]))
            w(f"  First login   {link}")
            w(
                f"                one-time link for {user.get_username()!r}, valid 15 minutes: it logs you "
                "in and asks for a password for next time"
            )
        else:
            w(f"                log in as {user.get_username()!r} with your password")
        w("")
        hosts = ", ".join(h for h in settings.ALLOWED_HOSTS if h != "testserver")
        w(f"  Answers to    {hosts}")
        w("                (more names: DJANGO_ALLOWED_HOSTS=name1,name2)")
        if os.environ.get("DJANGO_SECRET_KEY"):
            w("  Secret key    from DJANGO_SECRET_KEY")
        else:
            w(
                f"  Secret key    {_shown(settings.SECRET_KEY_FILE)} (made on the first start, owner-only, kept)"
            )
        if not getattr(settings, "HTTPS", False):
            w("  Plain HTTP    cookies are not Secure, so phones keep them; behind a TLS proxy set")
            w("                DJANGO_SECURE_SSL_REDIRECT=1 (docs/deployment.md)")
        w("")
        w(f"Listening on {netinfo.url_host_text(bind)}:{port}; Ctrl-C stops the server.")
