"""Signed session cookie and CSRF protection.

The session cookie holds the signed-in user id and a random CSRF token (signed with the
app's secret key, HttpOnly, SameSite=Lax, Secure when configured). Every state-changing
request authenticated by the cookie must echo the token, either as the ``csrf_token`` form
field or in the ``X-CSRF-Token`` header (HTMX sends the header, see ``base.html``).
Requests authenticated by ``Authorization: Bearer`` carry no cookie and need no token:
a browser never adds that header by itself, so there is nothing to forge.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "jl_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class SessionData:
    """What the cookie carries: the user (``None`` when signed out) and the CSRF token."""

    user_id: int | None
    csrf: str


class SessionCodec:
    """Signs and reads session cookies with the app's secret key.

    >>> codec = SessionCodec("k", max_age_s=60)
    >>> data = codec.loads(codec.dumps(SessionData(user_id=7, csrf="t")))
    >>> (data.user_id, data.csrf)
    (7, 't')
    >>> codec.loads("forged") is None
    True
    """

    def __init__(self, secret_key: str, *, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="journeylens-session")
        self._max_age_s = max_age_s

    def dumps(self, data: SessionData) -> str:
        """The cookie value for ``data``."""
        return str(self._serializer.dumps({"u": data.user_id, "c": data.csrf}))

    def loads(self, value: str | None) -> SessionData | None:
        """The session in ``value``, or ``None`` when missing, forged, expired or malformed."""
        if not value:
            return None
        try:
            raw = self._serializer.loads(value, max_age=self._max_age_s)
        except BadSignature:
            return None
        if not isinstance(raw, dict):
            return None
        user, csrf = raw.get("u"), raw.get("c")
        if not isinstance(csrf, str) or not (user is None or isinstance(user, int)):
            return None
        return SessionData(user_id=user, csrf=csrf)


def new_session(user_id: int | None = None) -> SessionData:
    """A fresh session with a new CSRF token (issued at sign-in so tokens never carry over)."""
    return SessionData(user_id=user_id, csrf=secrets.token_urlsafe(24))


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of the session's token with the one the request sent."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
