"""Which event store a web workspace reads and writes: the one rule of issue 7.

The server is started on a folder ``W`` (``journeylens serve --workspace W``), a
journeylens workspace. Its web workspaces do not share that folder's events:

- the web workspace ``default`` (made for the first account) owns ``W`` itself, so a
  folder filled with ``journeylens ingest`` shows its events in "Default workspace";
- every other web workspace (integer id ``N``) owns ``W/workspaces/N/``, a journeylens
  workspace created on its first upload or folder sync. Until then it has no events.

The id, never the slug or a name, makes the path: nothing a user types reaches it.
Every page that reads events, the ingest jobs, the render / analytics caches' events
stamp, rule counts, exports and folder sync ask :func:`events_root`, after their own
access check (the slug lookup does not check access).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import cast

from fastapi import Request

from journeylens.web.deps import backend_of, settings_of
from journeylens.web.ingest_jobs import IngestJobs

#: The slug of the web workspace that owns the server's folder itself.
DEFAULT_SLUG = "default"
#: The folder of ``W`` that holds the other web workspaces' stores, one per id.
WORKSPACES_DIR = "workspaces"

_lock = threading.Lock()


def _slug(request: Request, ws: int) -> str:
    """The slug of ``ws``, remembered per app (a slug never changes once created)."""
    state = request.app.state
    with _lock:
        slugs = getattr(state, "workspace_slugs", None)
        if slugs is None:
            slugs = state.workspace_slugs = {}
        slug = cast(dict[int, str], slugs).get(ws)
    if slug is None:
        slug = backend_of(request).workspace_slug(ws)
        with _lock:
            state.workspace_slugs[ws] = slug
    return slug


def store_root(folder: Path, ws: int, slug: str) -> Path:
    """Where the events of web workspace ``ws`` (slug ``slug``) live under ``folder``.

    >>> store_root(Path("/srv/shop"), 1, "default")
    PosixPath('/srv/shop')
    >>> store_root(Path("/srv/shop"), 7, "other")
    PosixPath('/srv/shop/workspaces/7')
    """
    if slug == DEFAULT_SLUG:
        return folder
    return folder / WORKSPACES_DIR / str(int(ws))


def events_root(request: Request, ws: int, *, create: bool = False) -> Path | None:
    """The journeylens workspace holding ``ws``'s events, or ``None`` when the server has
    no workspace folder. With ``create`` a missing store is made
    (:meth:`~journeylens.engine.workspace.Workspace.init`, idempotent); without it the
    path may not exist yet and readers then find no events."""
    folder = settings_of(request).workspace
    if folder is None:
        return None
    root = store_root(folder, ws, _slug(request, ws))
    if create and root != folder:
        from journeylens.engine.workspace import Workspace

        with _lock:  # two first uploads at once: one init
            Workspace.init(root)
    return root


def exists(root: Path) -> bool:
    """Whether ``root`` is a journeylens workspace yet (a web workspace's store is made on
    its first upload or sync; before that its pages show no events, not an error)."""
    from journeylens.engine.workspace import CONFIG_NAME

    return (root / CONFIG_NAME).is_file()


def jobs_for(request: Request, root: Path) -> IngestJobs:
    """The ingest jobs of the store at ``root`` (one registry entry per store, so a run in
    one web workspace never blocks or shows in another)."""
    state = request.app.state
    with _lock:
        registry = getattr(state, "ingest_jobs", None)
        if registry is None:
            registry = state.ingest_jobs = {}
        jobs = cast(dict[Path, IngestJobs], registry).get(root)
        if jobs is None:
            jobs = registry[root] = IngestJobs(root)
    return jobs
