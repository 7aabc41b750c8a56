"""``journeylens serve``: run the web app (FastAPI under uvicorn)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from journeylens.cli._output import fail

if TYPE_CHECKING:
    from fastapi import FastAPI

#: Environment through which ``serve --workers N`` hands its settings to each worker.
_ENV_DATABASE = "JOURNEYLENS_SERVE_DATABASE_URL"
_ENV_WORKSPACE = "JOURNEYLENS_SERVE_WORKSPACE"
_ENV_SECRET = "JOURNEYLENS_SERVE_SECRET"
_ENV_SECURE = "JOURNEYLENS_SERVE_SECURE_COOKIES"
_ENV_UPLOAD_MAX = "JOURNEYLENS_SERVE_UPLOAD_MAX_BYTES"


def app_from_env() -> FastAPI:
    """The app of one worker process of ``serve --workers N`` (a uvicorn factory).

    The parent resolved the settings once (so every worker signs sessions with the same
    secret key and the schema is migrated before any worker starts) and passed them in
    the environment.
    """
    from journeylens.web.app import create_app
    from journeylens.web.settings import make_settings

    workspace = os.environ.get(_ENV_WORKSPACE)
    settings = make_settings(
        Path(workspace) if workspace else None,
        os.environ[_ENV_DATABASE],
        cookie_secure=os.environ.get(_ENV_SECURE) == "1",
        secret_key=os.environ[_ENV_SECRET],
    )
    upload_max = os.environ.get(_ENV_UPLOAD_MAX, "")
    if upload_max.isdigit():
        settings = dataclasses.replace(settings, upload_max_bytes=int(upload_max))
    return create_app(settings)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the main app."""

    @app.command("serve")
    def serve_cmd(
        workspace: Annotated[
            Path | None,
            typer.Option(
                "--workspace",
                "-w",
                help="Workspace folder: events for the live map, the database and the secret key.",
            ),
        ] = None,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        database_url: Annotated[
            str | None,
            typer.Option(
                "--database-url",
                help="SQLAlchemy URL (default: SQLite in the workspace); "
                "e.g. postgresql://user@localhost/journeylens",
            ),
        ] = None,
        secure_cookies: Annotated[
            bool, typer.Option(help="Mark the session cookie Secure (serve behind HTTPS).")
        ] = False,
        workers: Annotated[
            int,
            typer.Option(
                min=1,
                help="Server processes (each one core at most; see docs/usage/web.md, Speed).",
            ),
        ] = 1,
        threads: Annotated[
            int | None,
            typer.Option(
                min=1,
                help="Threads per worker for request handlers (default: anyio's 40).",
            ),
        ] = None,
        upload_max_bytes: Annotated[
            int | None,
            typer.Option(
                "--upload-max-bytes",
                min=1,
                help="Largest file the data page and the ingest API accept, in bytes "
                "(default 1 GiB = 1073741824); larger uploads get 413.",
            ),
        ] = None,
    ) -> None:
        """Serve the web app: maps, editor, versions, comments and the /api/v1 JSON API.

        Example: journeylens serve --workspace shop --port 8000
        """
        try:
            import uvicorn

            from journeylens.web.app import create_app
            from journeylens.web.settings import make_settings
        except ImportError as exc:
            fail(f"the web app needs the 'web' extra: pip install 'journeylens[web]' ({exc})")
        if workspace is not None and not workspace.is_dir():
            fail(f"--workspace {workspace}: no such folder")
        settings = make_settings(
            workspace.resolve() if workspace else None, database_url, cookie_secure=secure_cookies
        )
        if upload_max_bytes is not None:
            settings = dataclasses.replace(settings, upload_max_bytes=upload_max_bytes)
        typer.echo(
            f"journeylens web app on http://{host}:{port}/  (database: {settings.database_url})"
        )
        if threads is not None:
            from journeylens.web.server import THREADS_ENV

            os.environ[THREADS_ENV] = str(threads)  # read by the app's start-up (every worker)
        if workers == 1:
            uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
            return
        from journeylens.store.db import upgrade

        upgrade(settings.database_url)  # once, before the workers race to do it
        os.environ.update(
            {
                _ENV_DATABASE: settings.database_url,
                _ENV_WORKSPACE: str(settings.workspace or ""),
                _ENV_SECRET: settings.secret_key,
                _ENV_SECURE: "1" if settings.cookie_secure else "0",
                _ENV_UPLOAD_MAX: str(settings.upload_max_bytes),
            }
        )
        uvicorn.run(
            "journeylens.cli.serve:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )
