"""The FastAPI application: :func:`create_app` assembles session, CSRF, error mapping, the
HTML pages (:mod:`journeylens.web.pages`) and the JSON API (:mod:`journeylens.web.api`).

The app holds no logic of its own: it reads requests, calls the :class:`Backend` (the
store) and the render / analytics functions, and formats the answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from journeylens import __version__
from journeylens.web.backend import (
    Backend,
    BackendError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    StaleVersion,
    Unauthorized,
)
from journeylens.web.server import lifespan
from journeylens.web.session import SessionCodec
from journeylens.web.session_middleware import SessionMiddleware
from journeylens.web.settings import WebSettings

HERE = Path(__file__).parent

STATUS: dict[type[BackendError], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    StaleVersion: 409,
    InvalidInput: 422,
    RateLimited: 429,
    PayloadTooLarge: 413,
}


def status_of(exc: BackendError) -> int:
    """The HTTP status a backend error stands for (400 for any other backend error)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(exc: BackendError) -> dict[str, Any]:
    """The JSON body of an error: ``{"error": kind, "field": …, "reason": …}`` (+ changes)."""
    body: dict[str, Any] = {
        "error": type(exc).__name__,
        "field": exc.field,
        "reason": exc.message,
    }
    if isinstance(exc, InvalidInput):
        body["issues"] = exc.issues
    if isinstance(exc, StaleVersion):
        body["current_version"] = exc.current_version
        body["changes"] = exc.changes
    return body


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def pydantic_issues(exc: ValidationError | RequestValidationError) -> list[dict[str, str]]:
    """Each problem of a validation error as ``{"field": "a.b.0", "reason": …}``."""
    return [
        {
            "field": ".".join(str(part) for part in err.get("loc", ()) if part != "body"),
            "reason": str(err.get("msg", "")),
        }
        for err in exc.errors()
    ]


def create_app(settings: WebSettings, backend: Backend | None = None) -> FastAPI:
    """The web app over ``backend`` (by default the SQLAlchemy store at
    ``settings.database_url``, migrated to the latest schema)."""
    if backend is None:
        from journeylens.web.store_backend import StoreBackend

        backend = StoreBackend.connect(settings.database_url)

    app = FastAPI(
        title="journeylens",
        version=__version__,
        description="Journey maps shared by a team: view, edit, discuss, version.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,  # handler threads: see journeylens.web.server
    )
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    templates = Jinja2Templates(env=env)
    codec = SessionCodec(settings.secret_key, max_age_s=settings.session_max_age_s)
    app.state.settings = settings
    app.state.backend = backend
    app.state.templates = templates
    app.state.codec = codec
    from journeylens.web.pages import RenderCache

    app.state.render_cache = RenderCache()

    # Every visitor gets a session (signed-out ones too) so that the sign-in form already
    # carries a CSRF token; plain ASGI, see journeylens.web.session_middleware.
    app.add_middleware(SessionMiddleware, codec=codec, settings=settings)

    @app.exception_handler(BackendError)
    async def backend_error(request: Request, exc: BackendError) -> Response:
        code = status_of(exc)
        if _wants_json(request):
            return JSONResponse(error_body(exc), status_code=code)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": code, "error": error_body(exc), "user": None, "csrf": ""},
            status_code=code,
        )

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> Response:
        issues = pydantic_issues(exc)
        if _wants_json(request):
            return JSONResponse({"error": "InvalidInput", "issues": issues}, status_code=422)
        first = issues[0] if issues else {"field": None, "reason": "invalid request"}
        return templates.TemplateResponse(
            request,
            "error.html",
            {
                "status": 422,
                "error": {"error": "InvalidInput", **first},
                "user": None,
                "csrf": "",
            },
            status_code=422,
        )

    from journeylens.web import api, pages, pages_edit, pages_exports, pages_personas

    app.include_router(pages_exports.router)  # before pages: export.png would match export.{fmt}
    app.include_router(pages_edit.router)
    app.include_router(pages_personas.router)
    app.include_router(pages.router)
    from journeylens.web import pages_analytics

    app.include_router(pages_analytics.router)
    from journeylens.web import pages_data, pages_members

    app.include_router(pages_data.router)
    app.include_router(pages_members.router)
    app.include_router(api.router)
    from journeylens.web import api_analytics, api_data, api_shares

    app.include_router(api_analytics.router)  # the pages' analytics as JSON
    app.include_router(api_data.router)
    app.include_router(api_shares.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
