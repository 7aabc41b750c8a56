"""Settings of the web app: where the workspace and the database are, and the secret key.

The secret key signs the session cookie. When none is given it is generated once and kept
in the workspace (``.journeylens/web-secret``, readable by the owner only) so sessions
survive a restart; without a workspace a fresh key is used per process.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

SECRET_FILE = Path(".journeylens") / "web-secret"


@dataclass(frozen=True)
class WebSettings:
    """Everything :func:`journeylens.web.app.create_app` needs.

    ``database_url`` is an SQLAlchemy URL (``sqlite:///…`` by default, or
    ``postgresql+psycopg://…``); ``cookie_secure`` marks the session cookie ``Secure``
    (turn it on behind HTTPS); ``session_max_age_s`` bounds how long a sign-in lasts.
    """

    database_url: str
    secret_key: str
    workspace: Path | None = None
    cookie_secure: bool = False
    session_max_age_s: int = 14 * 24 * 3600
    upload_max_bytes: int = 1 << 30  # largest file the data page / ingest API accepts


def default_database_url(workspace: Path | None) -> str:
    """The store's default SQLite database in the workspace (else in the current folder)."""
    from journeylens.store.db import default_url

    return default_url(workspace or Path.cwd())


def secret_key_for(workspace: Path | None) -> str:
    """The workspace's stored secret key, created (0600) on first use.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     first = secret_key_for(Path(d))
    ...     first == secret_key_for(Path(d)) and len(first) >= 43
    True
    """
    if workspace is None:
        return secrets.token_urlsafe(32)
    path = workspace / SECRET_FILE
    if path.is_file():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    # Create with owner-only permissions from the start (no window where others can read it).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key


def make_settings(
    workspace: Path | None = None,
    database_url: str | None = None,
    *,
    cookie_secure: bool = False,
    secret_key: str | None = None,
) -> WebSettings:
    """Settings with defaults filled in (database URL and secret key from the workspace)."""
    return WebSettings(
        database_url=database_url or default_database_url(workspace),
        secret_key=secret_key or secret_key_for(workspace),
        workspace=workspace,
        cookie_secure=cookie_secure,
    )
