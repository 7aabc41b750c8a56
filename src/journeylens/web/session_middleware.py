"""The session cookie and the security headers, as a plain ASGI middleware.

Every request reads the signed session cookie (or starts a new session, so the sign-in
form already carries a CSRF token) into ``request.state.session``; a handler that changes
it (sign in, sign out) gets the new cookie set on its response. Every response also gets
``X-Content-Type-Options``, ``X-Frame-Options`` and ``Referrer-Policy`` unless it set them.

Written against ASGI directly rather than with ``@app.middleware("http")``: Starlette's
``BaseHTTPMiddleware`` runs each request through an extra task and memory streams, a
measurable share of a cached map page.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from journeylens.web.session import COOKIE_NAME, SessionCodec, SessionData, new_session
from journeylens.web.settings import WebSettings

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SessionMiddleware:
    """Load the session into ``request.state.session``; write it back when it changed."""

    def __init__(self, app: ASGIApp, codec: SessionCodec, settings: WebSettings) -> None:
        self.app = app
        self.codec = codec
        self.settings = settings

    def cookie_header(self, session: SessionData) -> str:
        """The ``Set-Cookie`` value for ``session`` (HTTP-only, SameSite=Lax, Secure when
        configured)."""
        carrier = Response()
        carrier.set_cookie(
            COOKIE_NAME,
            self.codec.dumps(session),
            max_age=self.settings.session_max_age_s,
            httponly=True,
            samesite="lax",
            secure=self.settings.cookie_secure,
            path="/",
        )
        return carrier.headers["set-cookie"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loaded = self.codec.loads(HTTPConnection(scope).cookies.get(COOKIE_NAME))
        state = scope.setdefault("state", {})
        state["session"] = loaded or new_session()

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                final: SessionData = state["session"]  # a handler may have replaced it
                if final != loaded:
                    headers.append("set-cookie", self.cookie_header(final))
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_session)
