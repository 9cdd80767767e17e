"""The secret key kept in the var directory: generated on the first start, reused after.

Signed cookies and the sessions that hold students' seats are signed with it, so it must survive a
restart (a new key would send every student back to the join page) and be readable by nobody but
the server's user. Workers started at the same moment agree on one key: the file appears at once,
complete, or not at all (written aside, then hard-linked into place).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 50


def load_or_create(path: Path) -> str:
    path = Path(path)
    if not path.exists():
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    key = secrets.token_urlsafe(64)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another worker created it first: then theirs is used
        except FileExistsError:
            pass
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            # a file system without hard links: create exclusively and write in place
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(fd, "w") as f:
                f.write(key + "\n")
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as e:
        raise ImproperlyConfigured(
            f"Cannot write the secret key file {path}: {e.strerror}. Make its directory writable "
            "(GAME_VAR_DIR chooses another), or set DJANGO_SECRET_KEY."
        ) from e


def _read(path: Path) -> str:
    try:
        st = path.stat()
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            # Readable by others (copied with a permissive umask?): owner-only again, or refuse.
            try:
                os.chmod(path, 0o600)
            except OSError as e:
                raise ImproperlyConfigured(
                    f"The secret key file {path} is readable by other users and cannot be made "
                    f"private ({e.strerror}): run `chmod 600 {path}` as its owner."
                ) from e
        key = path.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ImproperlyConfigured(
            f"Cannot read the secret key file {path}: {e.strerror}. Run the server as the user "
            "that owns it, or set DJANGO_SECRET_KEY."
        ) from e
    if len(key) < MIN_LENGTH:
        raise ImproperlyConfigured(
            f"The secret key file {path} is empty or too short. Delete it to have a new key made "
            "(browsers that joined a session or logged in before lose that), or set DJANGO_SECRET_KEY."
        )
    return key
