"""The test suite's own settings: the development configuration, said explicitly.

The server's default is the classroom configuration (debug off, static files from a collected
manifest, allowed hosts from this machine's addresses). Most tests drive views and sockets
in-process through Django's test client (Host ``testserver``) and need the development one, so it
is chosen here rather than inherited from a default. Tests of the classroom and TLS-proxy
configurations run servers in subprocesses with their own environment (tests/test_classroom.py).
"""

import os

os.environ["DJANGO_DEBUG"] = "1"

from negotiation.settings import *  # noqa: F403
