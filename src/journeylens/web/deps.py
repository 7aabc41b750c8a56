"""Request dependencies shared by pages and API: who is asking, and the CSRF check."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from journeylens.web.backend import Backend, Forbidden, Unauthorized, User
from journeylens.web.session import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, SessionData, csrf_matches
from journeylens.web.settings import WebSettings


def backend_of(request: Request) -> Backend:
    """The app's backend."""
    return cast(Backend, request.app.state.backend)


def settings_of(request: Request) -> WebSettings:
    """The app's settings."""
    return cast(WebSettings, request.app.state.settings)


def session_of(request: Request) -> SessionData:
    """The request's session (set by the session middleware)."""
    return cast(SessionData, request.state.session)


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def optional_user(request: Request) -> User | None:
    """The user behind the bearer token or the session cookie, or ``None``.

    A bearer header that does not name a live token is an error (401), not an anonymous
    request: a script with a revoked token must notice.
    """
    token = bearer_token(request)
    if token is not None:
        user = backend_of(request).user_for_token(token)
        if user is None:
            raise Unauthorized("unknown or revoked API token", field="Authorization")
        return user
    session = session_of(request)
    if session.user_id is None:
        return None
    return backend_of(request).user(session.user_id)


def current_user(request: Request) -> User:
    """The signed-in user (401 when nobody is)."""
    user = optional_user(request)
    if user is None:
        raise Unauthorized("sign in first", field="session")
    return user


async def csrf_protect(request: Request) -> None:
    """Reject a state-changing request authenticated by cookie that does not echo the
    session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``)."""
    if request.method in SAFE_METHODS or bearer_token(request) is not None:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # cached by Starlette: the route's Form fields still work
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not csrf_matches(session_of(request).csrf, given):
        raise Forbidden(
            "missing or wrong CSRF token: reload the page and try again", field=CSRF_FIELD
        )


#: A route parameter that resolves to the signed-in user (401 otherwise).
CurrentUser = Annotated[User, Depends(current_user)]
