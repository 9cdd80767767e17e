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

from django.conf import global_settings

os.environ["DJANGO_DEBUG"] = "1"

from negotiation.settings import *  # noqa: F403

# Every in-process test that opens a session makes its instructor (tests/conftest.py) and so hashes
# a password: PBKDF2 at Django's 1,000,000 iterations costs about 0.2 s of CPU each time, in well
# over a hundred tests of each pass. The tests hash with MD5 instead, as Django's testing
# documentation advises; the real hashers stay listed after it, so a hash made by a server process
# (negotiation.settings, PBKDF2) still verifies here. Servers the tests start keep the real ones.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *global_settings.PASSWORD_HASHERS]
