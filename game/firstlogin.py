"""The instructor's first login: a one-time link that `make run` prints, valid for 15 minutes.

No password is ever stored in the repository or printed: the link is signed with the server's
secret key and names the account's current login state (its password hash and last login), so it
stops working as soon as it has been used (the login changes the last login), once a password is
set, and after 15 minutes. Only an active staff account without a usable password gets one; after
that, the usual Django login.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "game.firstlogin"
MAX_AGE_SECONDS = 15 * 60
DEFAULT_USERNAME = "instructor"


def _state(user) -> str:
    last = user.last_login.isoformat() if user.last_login else ""
    return salted_hmac(SALT, f"{user.pk}|{user.password}|{last}|{user.is_active}").hexdigest()[:32]


def needs_link(user) -> bool:
    return bool(user and user.is_active and user.is_staff and not user.has_usable_password())


def make_token(user) -> str:
    if not needs_link(user):
        raise ValueError("only an active staff account without a password gets a login link")
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=SALT, compress=True)


def check_token(token: str):
    """The account the token logs in, or None if it is forged, expired, used or superseded."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
        pk, state = data["u"], data["s"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None or not needs_link(user) or not constant_time_compare(state, _state(user)):
        return None
    return user


def ensure_instructor(username: str = DEFAULT_USERNAME):
    """The instructor account (a staff superuser), made without a password if it is missing."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_unusable_password()
        user.save()
    return user, created
