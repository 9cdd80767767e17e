"""The test suite's own settings: the development configuration, said explicitly.

The server's default is the classroom configuration (debug off, static files from a collected
manifest, allowed hosts from this machine's addresses). Most tests drive views and sockets
in-process through Django's test client (Host ``testserver``) and need the development one, so it
is chosen here rather than inherited from a default; processes the tests start inherit
DJANGO_DEBUG=1 from here unless they set their own. Tests of the classroom and TLS-proxy
configurations run servers with an environment of their own, stripped of DJANGO_* and GAME_*
(tests/test_make_run.py, tests/browser/test_classroom_phone.py).
"""

import os

os.environ["DJANGO_DEBUG"] = "1"

from negotiation.settings import *  # noqa: F403
