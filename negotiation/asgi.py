"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Each worker also runs the phase clock (``game.ticker``): deadlines live in the database, so any
worker may advance an expired phase, and a restarted one picks up where the others left off.
"""

import gc
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "negotiation.settings")
# GIL hand-over: the sockets' database thread releases the GIL in every SQLite or PostgreSQL call
# and then waits for the event loop thread to give it back, by default up to 5 ms each time;
# with a handful of statements per action that wait, not the work, made an action slow.
sys.setswitchinterval(float(os.environ.get("GAME_SWITCH_INTERVAL", "0.0005")))
django.setup(set_prefix=False)

from negotiation.httpthreads import PooledASGIHandler  # noqa: E402

# HTTP requests in one trip each to a few long-lived threads that keep their database connection
# (negotiation/httpthreads.py), instead of Django's new thread and connection per request.
django_asgi_app = PooledASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from game import lifecycle  # noqa: E402
from game.routing import websocket_urlpatterns  # noqa: E402
from game.ticker import TickerMiddleware  # noqa: E402
from negotiation.origin import SameOriginValidator  # noqa: E402
from negotiation.startup import static_problem, warm_up  # noqa: E402

# A server that could not serve its pages (static files not collected) refuses to start.
_problem = static_problem()
if _problem:
    raise ImproperlyConfigured(_problem)
warm_up()

# The ticker (and the bots) start on the first request of any kind, a health check included;
# inside, the lifecycle layer answers /healthz and counts requests in flight for the drain.
application = TickerMiddleware(
    lifecycle.Lifecycle(
        ProtocolTypeRouter(
            {
                "http": django_asgi_app,
                # The session for every socket; the user (a query) only for the host's
                # (game/routing.py): a player's socket reads its session in its first trip.
                "websocket": SameOriginValidator(SessionMiddlewareStack(URLRouter(websocket_urlpatterns))),
            }
        )
    )
)

# Under Daphne (which installs Twisted's reactor before it imports this module), SIGTERM drains
# the worker instead of cutting its sockets: game/lifecycle.py.
if "twisted.internet.reactor" in sys.modules:
    from twisted.internet import reactor

    reactor.callWhenRunning(lifecycle.install_under_daphne)

# Garbage collection: a worker holding 800 sockets tracks ~350,000 objects, and every full
# collection walked them all in 140-320 ms, stalling every socket (the p99 of the load benchmark).
# What was loaded at start-up is frozen out of the collector, and young objects are collected
# every 20,000 allocations instead of 700, so far fewer survive into the old generations that
# trigger full collections. GAME_GC_THRESHOLD=700 restores Python's default.
gc.collect()
gc.freeze()
gc.set_threshold(int(os.environ.get("GAME_GC_THRESHOLD", "20000")), 10, 100)
