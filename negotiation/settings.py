"""Settings for the negotiation game, configured by environment variables.

Embedded defaults (SQLite under var/, in-memory channel layer) run a class on a laptop; a
department sets DATABASE_URL (PostgreSQL) and REDIS_URL (channels_redis) for several workers.

Three configurations (docs/deployment.md explains the trade-off):

- classroom (the default, what `make run` serves): debug off, a secret key generated into the var
  directory, allowed hosts computed from this machine's addresses and names, plain HTTP with
  cookies phones keep (not Secure) and no redirect to HTTPS;
- behind a TLS proxy (DJANGO_SECURE_SSL_REDIRECT=1, or DJANGO_HTTPS=1 where the proxy redirects
  itself): X-Forwarded-Proto trusted, Secure cookies, HSTS, plain HTTP redirected;
- development (DJANGO_DEBUG=1, `make dev`): Django's debug pages, static files from the source.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from negotiation import netinfo, secretkey

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GAME_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {raw!r}.")


def env_list(name: str) -> list[str]:
    return [x.strip() for x in os.environ.get(name, "").split(",") if x.strip()]


# Debug only when asked for: a room of students must never see a traceback or the settings.
DEBUG = env_bool("DJANGO_DEBUG", False)

# Served over HTTPS through a TLS proxy. Without it the server speaks plain HTTP (a laptop in a
# classroom has no certificate), so cookies must not be Secure: phones would drop them.
SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
HTTPS = env_bool("DJANGO_HTTPS", SSL_REDIRECT)

# An explicit key wins; otherwise one generated on the first start, kept owner-only in the var
# directory and reused, so students' seats (signed sessions) survive a restart.
SECRET_KEY_FILE = VAR_DIR / "secret_key"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "") or secretkey.load_or_create(SECRET_KEY_FILE)

# The Host headers served: loopback, this machine's addresses and names (so phones in the room
# reach it by address, or by name.local), and DJANGO_ALLOWED_HOSTS. Printed by `make run`.
ALLOWED_HOSTS = netinfo.allowed_hosts(env_list("DJANGO_ALLOWED_HOSTS"))

# Rotation (docs/deployment.md): the previous key(s) still verify existing sessions' cookies.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")
if DEBUG and "testserver" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append("testserver")

# Forms and sockets are accepted from this server's own pages (Origin equal to scheme://Host,
# port included) and from these origins, e.g. https://game.example.edu behind a proxy.
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "csp",
    "game",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "game.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The interface's language: the language cookie (the menu on every page sets it), else the
    # browser's Accept-Language, else English (docs/translations.md).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
    # Last, so it sees the views' exceptions first: an outage answers 503 and a page that retries.
    "game.middleware.OutageMiddleware",
]

ROOT_URLCONF = "negotiation.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "negotiation.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        # Not persistent by default: a thread that comes and goes (a test's, a command's) must not
        # leave its connection open. The worker's long-lived threads keep theirs on purpose: the
        # HTTP threads (negotiation/httpthreads.py) and the sockets' (game/socketdb.py).
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, except that the threads of a process hand the write lock over through a
    # Python lock instead of SQLite's sleeping busy handler (negotiation/sqlite3/base.py).
    DATABASES["default"]["ENGINE"] = "negotiation.sqlite3"
    # Writers wait for each other instead of failing with "database is locked" under load;
    # IMMEDIATE transactions take the write lock up front, serialising a table's changes.
    # WAL with synchronous=NORMAL: a committed action survives a crash of the server process
    # (the case that matters in class); only a power cut can lose the last few commits.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
    # A file (not :memory:) so that threads and async consumers share the test database; one per
    # process so that two test runs on one machine never share it.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A database host that does not answer fails a connect in seconds (then the sockets answer
    # `unavailable` and the pages resend) instead of hanging on the system's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)

REDIS_URL = os.environ.get("REDIS_URL", "")
# Redis: channels_redis's pub/sub layer by default (why: docs/deployment.md), the core layer on request.
REDIS_LAYER = os.environ.get("GAME_REDIS_LAYER", "pubsub")
if REDIS_LAYER not in ("pubsub", "core"):
    raise ImproperlyConfigured(f"GAME_REDIS_LAYER must be 'pubsub' or 'core', not {REDIS_LAYER!r}.")
if REDIS_URL and REDIS_LAYER == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
elif REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1500, "expiry": 30},
        }
    }
else:
    # channels' in-memory layer, sweeping expired messages once a second instead of on every
    # receive (see game/layers.py).
    CHANNEL_LAYERS = {"default": {"BACKEND": "game.layers.InMemoryChannelLayer"}}

# Admin login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user name,
# or from one address, that user name or address is locked out for the cool-off time, with a page
# that says so (templates/admin/locked_out.html). A department administrator unlocks early with
# `manage.py axes_reset_username NAME` or `axes_reset_ip ADDRESS`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("GAME_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("GAME_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "game.throttle.client_address"
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The game's languages: every shipped scenario's texts exist in each (game/i18n.py picks the
# reader's); a browser asking for another language reads English.
# The interface's words in each (docs/translations.md): every page, message and chart, the
# translations in locale/ (.po committed, .mo compiled by `make install`).
LANGUAGES = [
    ("en", "English"),
    ("uk", "Українська"),
    ("ru", "Русский"),
    ("de", "Deutsch"),
    ("fr", "Français"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and numbers follow the language; English's formats are the game's own (negotiation/formats).
FORMAT_MODULE_PATH = ["negotiation.formats"]
# The language a person chose in the menu, remembered for a year. Each browser keeps its own: the
# instructor's dashboard and the students' phones may each read another language.
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Debug off: hashed names from a manifest (students' browsers never keep an old script after an
# update), so the files must be collected: `make run` does it, and a server whose collection is
# missing or out of date refuses to start (negotiation/startup.py) instead of answering 500.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/admin/login/"

# Database sessions, without the query that checks a new key is free (negotiation/sessions.py).
SESSION_ENGINE = "negotiation.sessions"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts, styles, images, fonts and sockets from this site
# only; no inline script or style element without the page's nonce, no inline style attribute,
# no plugin, no framing. A brief's remote image (a tracking pixel) is never loaded.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Powerful browser features the game never uses are switched off for every page.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "fullscreen=(self), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), "
    "payment=(), publickey-credentials-get=(), screen-wake-lock=(), usb=(), xr-spatial-tracking=()"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = SSL_REDIRECT
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    # Preloading is a commitment (browsers hard-code HTTPS for the domain, hard to undo): only
    # when the department asks for it.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# The embedded configuration's database: the defaults below that depend on it.
_SQLITE = DATABASES["default"]["ENGINE"] == "negotiation.sqlite3"

# Game limits (documented in docs/protocol.md).
GAME = {
    "MAX_FRAME_BYTES": int(os.environ.get("GAME_MAX_FRAME_BYTES", 16384)),
    "RATE_LIMIT_PER_10S": int(os.environ.get("GAME_RATE_LIMIT_PER_10S", 40)),
    "SYNC_SECONDS": float(os.environ.get("GAME_SYNC_SECONDS", 20)),
    "TICK_SECONDS": float(os.environ.get("GAME_TICK_SECONDS", 1.0)),
    "BOT_DELAY_SECONDS": float(os.environ.get("GAME_BOT_DELAY_SECONDS", 4.0)),
    "MAX_NAME_LENGTH": 40,
    # Refused frames: JSON nested deeper than this is refused before it is parsed.
    "MAX_FRAME_DEPTH": int(os.environ.get("GAME_MAX_FRAME_DEPTH", 16)),
    # A socket that sends this many unreadable frames (bad JSON, too deep) in 10 s is closed.
    "MAX_BAD_FRAMES": int(os.environ.get("GAME_MAX_BAD_FRAMES", 10)),
    # Open sockets per player (tabs, devices); a new one beyond this closes the oldest (4409).
    "MAX_SOCKETS_PER_PLAYER": int(os.environ.get("GAME_MAX_SOCKETS_PER_PLAYER", 3)),
    # Presence: at most one presence event per player per this many seconds; changes in between
    # are coalesced into the next one.
    "PRESENCE_COALESCE_SECONDS": float(os.environ.get("GAME_PRESENCE_COALESCE_SECONDS", 5)),
    # Host sockets re-check their user's access this often (logout, deactivation, removal).
    "HOST_RECHECK_SECONDS": float(os.environ.get("GAME_HOST_RECHECK_SECONDS", 2)),
    # POST /join/ per client address: every attempt, and attempts with a code that names no open
    # session (code guessing), each counted over a sliding window (docs/privacy.md).
    "JOINS_PER_MINUTE": int(os.environ.get("GAME_JOINS_PER_MINUTE", 120)),
    "BAD_CODES_PER_10_MINUTES": int(os.environ.get("GAME_BAD_CODES_PER_10_MINUTES", 30)),
    # "As many tables as needed" opens tables up to this many (4 seats each).
    "MAX_AUTO_TABLES": int(os.environ.get("GAME_MAX_AUTO_TABLES", 60)),
    # The load benchmark's bare relay socket (/ws/relay/): off unless a benchmark turns it on.
    "BENCH_RELAY": env_bool("GAME_BENCH_RELAY", False),
    "TICKER": env_bool("GAME_TICKER", True),
    "BOTS": env_bool("GAME_BOTS", True),
    # host:port the server listens on, set by `manage.py serve` (make run): the dashboard warns
    # when it is loopback only, which no phone reaches. Empty when unknown (daphne started by hand).
    "LISTEN": os.environ.get("GAME_LISTEN", ""),
    # Threads per worker for the sockets' database work (game/socketdb.py): one for SQLite (one
    # writer at a time anyway), four for PostgreSQL (their round trips overlap; each keeps a
    # connection, so a worker holds up to this many).
    "DB_THREADS": int(os.environ.get("GAME_DB_THREADS", 1 if _SQLITE else 4)),
    # Threads per worker for HTTP requests (negotiation/httpthreads.py): each keeps a database
    # connection; more requests than this wait their turn on the event loop. Two, not four: at
    # the lowest priority (below), each thread that holds the interpreter's lock while the system
    # runs something else keeps the event loop waiting, and with two the playing tables' p99
    # while a lecture hall joined was 92-145 ms against 134-209 ms with four (docs/performance.md).
    "HTTP_THREADS": int(os.environ.get("GAME_HTTP_THREADS", 2)),
    # The HTTP threads' scheduling priority (Linux nice, 0-19; negotiation/httpthreads.py): within
    # a worker, the event loop and the database threads, which carry the tables already playing,
    # go before the join's pages and form when a lecture hall joins on a machine with no spare
    # core. 19 on PostgreSQL, where it was measured to matter; 0 (the worker's own) on SQLite,
    # where it measured no gain and where a lowered thread holding the one write lock would keep
    # the playing tables' writes waiting behind it.
    "HTTP_NICE": int(os.environ.get("GAME_HTTP_NICE", 0 if _SQLITE else 19)),
    # PostgreSQL: chat lines sent from the sockets' event loop in one statement (game/asyncdb.py),
    # on up to this many connections per worker (a line that finds them all busy goes through the
    # threads); GAME_LOOP_CHAT=0 sends every line through the threads.
    "LOOP_CHAT": env_bool("GAME_LOOP_CHAT", True),
    "LOOP_DB_CONNECTIONS": int(os.environ.get("GAME_LOOP_DB_CONNECTIONS", 4)),
}
# How long a worker may take to drain on SIGTERM before it exits (game/lifecycle.py).
GAME["DRAIN_SECONDS"] = float(os.environ.get("GAME_DRAIN_SECONDS", 10))
if GAME["DB_THREADS"] < 1:
    raise ImproperlyConfigured("GAME_DB_THREADS must be at least 1.")
if GAME["HTTP_THREADS"] < 1:
    raise ImproperlyConfigured("GAME_HTTP_THREADS must be at least 1.")
if not 0 <= GAME["HTTP_NICE"] <= 19:
    raise ImproperlyConfigured(
        "GAME_HTTP_NICE must be from 0 (the worker's own priority) to 19 (the lowest): "
        "a thread may lower its priority but not raise it above the worker's."
    )

# Logs: UTC time, level, worker, and the session code and table of the game a line concerns
# (game/logs.py); GAME_LOG_FORMAT=json for one JSON object per line.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "game": {"()": "game.logs.GameContext"},
        "one_line_host": {"()": "negotiation.logfilters.OneLineDisallowedHost"},
    },
    "formatters": {
        "text": {"()": "game.logs.TextFormatter"},
        "json": {"()": "game.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["game"],
            "formatter": "json" if os.environ.get("GAME_LOG_FORMAT") == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "django.security.DisallowedHost": {"filters": ["one_line_host"]},
    },
}
