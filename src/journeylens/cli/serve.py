"""``journeylens serve``: run the web app (FastAPI under uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from journeylens.cli._output import fail


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
        typer.echo(
            f"journeylens web app on http://{host}:{port}/  (database: {settings.database_url})"
        )
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
