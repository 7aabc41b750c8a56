"""Data pages of a workspace: the ingestion log, the quarantine, identity stats, and
uploading a file to ingest with a progress display (HTML pages and ``/api/v1`` calls).

The numbers come from the library, as in the CLI: :mod:`journeylens.events.reports`
(pages of the log and the quarantine, read with ``LIMIT`` / ``OFFSET``),
:func:`journeylens.events.stitch.identity_stats` (``journeylens identities stats``) and
:func:`journeylens.events.runner.ingest` run by :mod:`journeylens.web.ingest_jobs`.

Each web workspace has its own event store (:func:`journeylens.web.workspace_store.events_root`):
``default`` reads the server's folder ``W`` (``serve --workspace W``), workspace ``N``
reads ``W/workspaces/N`` (made on its first upload); the live map reads the same store.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from journeylens.web.app import error_body, status_of
from journeylens.web.backend import (
    BackendError,
    Conflict,
    InvalidInput,
    PayloadTooLarge,
    Role,
    User,
)
from journeylens.web.deps import CurrentUser, backend_of, csrf_protect, settings_of
from journeylens.web.ingest_jobs import IngestJob, IngestJobs
from journeylens.web.pages import redirect, render
from journeylens.web.workspace_store import events_root, jobs_for
from journeylens.web.workspace_store import exists as store_exists

if TYPE_CHECKING:
    import duckdb

#: Rows per page of the ingestion log and the quarantine.
PAGE_SIZE = 50
#: Slack over ``upload_max_bytes`` for the multipart envelope (boundaries, other fields).
ENVELOPE = 1 << 16
SOURCE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,49}")
NO_WORKSPACE = (
    "This server has no workspace folder, so there is no event store: start it with "
    "`journeylens serve --workspace W` to ingest data and see it here."
)


def refuse_large_body(request: Request) -> None:
    """413 before the body is read when ``Content-Length`` already says it is too big."""
    limit = settings_of(request).upload_max_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + ENVELOPE:
        raise PayloadTooLarge(
            f"the file is larger than this server accepts ({limit:,} bytes)", field="file"
        )


# The size check runs before csrf_protect, which reads (and spools) the whole form.
guards = [Depends(refuse_large_body), Depends(csrf_protect)]
router = APIRouter()
pages = APIRouter(dependencies=guards, include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], dependencies=guards)


def jobs_of(request: Request, ws: int, *, create: bool = False) -> IngestJobs | None:
    """The ingest jobs of web workspace ``ws``'s event store (``None`` without a server
    workspace folder); ``create`` makes the store on first need (an upload)."""
    root = events_root(request, ws, create=create)
    if root is None:
        return None
    return jobs_for(request, root)


def _jobs(request: Request, ws: int, *, create: bool = False) -> IngestJobs:
    """The ingest jobs, or 409 when the server has no workspace folder."""
    jobs = jobs_of(request, ws, create=create)
    if jobs is None:
        raise Conflict(NO_WORKSPACE, field="workspace")
    return jobs


@contextmanager
def event_store(
    request: Request, ws: int
) -> Iterator[tuple[duckdb.DuckDBPyConnection | None, str | None]]:
    """A read-only connection to web workspace ``ws``'s event store, or ``None`` and why
    not (no workspace folder; the store busy with an ingest); ``None, None`` while the
    workspace has no store yet (no upload so far: an empty page, like an empty store)."""
    root = events_root(request, ws)
    if root is None:
        yield None, NO_WORKSPACE
        return
    if not store_exists(root):
        yield None, None
        return
    from journeylens.engine.store import StoreError
    from journeylens.engine.workspace import Workspace, WorkspaceError

    jobs = jobs_of(request, ws)
    if jobs is not None and jobs.running() is not None:
        # DuckDB refuses a read-only connection while this process writes the file.
        yield None, "An ingest is running: the figures below appear once it has finished."
        return
    try:
        con = Workspace.open(root).store.connect(read_only=True)
    except (WorkspaceError, StoreError):
        # The reason names server paths; a page says only what to do.
        yield (
            None,
            (
                "The event store cannot be read right now (another program may be writing "
                "it, e.g. `journeylens ingest`): try again in a moment."
            ),
        )
        return
    try:
        yield con, None
    finally:
        con.close()


def _pages(total: int, page: int) -> dict[str, Any]:
    last = max(1, -(-total // PAGE_SIZE))
    return {"page": page, "last_page": last, "total": total, "page_size": PAGE_SIZE}


def _blank(value: str | None) -> str | None:
    """``None`` for a missing or empty filter (the form sends "" for "every …")."""
    if value is None:
        return None
    return value.strip() or None


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


# -- pages --------------------------------------------------------------------------------


@pages.get("/w/{ws}/data")
def data_log(
    request: Request,
    user: CurrentUser,
    ws: int,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """The ingestion log (newest first, paginated), the running ingest and the upload form."""
    from journeylens.events.formats import NAMED_FORMATS
    from journeylens.events.reports import ingest_log_count, ingest_log_page

    role = backend_of(request).role(user, ws)
    jobs = jobs_of(request, ws)
    running = jobs.running() if jobs is not None else None
    entries: list[Any] = []
    total = 0
    with event_store(request, ws) as (con, notice):
        if con is not None:
            total = ingest_log_count(con)
            entries = ingest_log_page(con, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(
        request,
        "data_log.html",
        {
            "user": user,
            "ws": ws,
            "tab": "log",
            "notice": notice,
            "entries": entries,
            "running": running if running is not None and running.workspace_id == ws else None,
            "recent": jobs.recent(ws) if jobs is not None and role >= Role.EDITOR else [],
            "can_ingest": role >= Role.EDITOR and jobs is not None,
            "formats": sorted(NAMED_FORMATS),
            "max_bytes": settings_of(request).upload_max_bytes,
            **_pages(total, page),
        },
    )


@pages.get("/w/{ws}/data/quarantine")
def quarantine(
    request: Request,
    user: CurrentUser,
    ws: int,
    run: str | None = None,
    reason: str | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """Quarantined records with reason, file, line, field, value and what was expected;
    filtered by run and reason, one page at a time."""
    from journeylens.events.reports import quarantine_choices, quarantine_count, quarantine_page

    backend_of(request).role(user, ws)
    run, reason = _blank(run), _blank(reason)
    records: list[Any] = []
    runs: list[str] = []
    reasons: list[str] = []
    total = 0
    with event_store(request, ws) as (con, notice):
        if con is not None:
            runs, reasons = quarantine_choices(con)
            total = quarantine_count(con, run=run, reason=reason)
            records = quarantine_page(
                con, run=run, reason=reason, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
    return render(
        request,
        "data_quarantine.html",
        {
            "user": user,
            "ws": ws,
            "tab": "quarantine",
            "notice": notice,
            "records": records,
            "runs": runs,
            "reasons": reasons,
            "run": run or "",
            "reason": reason or "",
            **_pages(total, page),
        },
    )


@pages.get("/w/{ws}/data/identities")
def identities(
    request: Request,
    user: CurrentUser,
    ws: int,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Response:
    """The figures of ``journeylens identities stats``: identities per customer, the share
    of anonymous-only customers, the largest clusters and the refused edges."""
    from journeylens.events.stitch import identity_stats

    backend_of(request).role(user, ws)
    stats = None
    with event_store(request, ws) as (con, notice):
        if con is not None:
            stats = identity_stats(con, top=top)
    return render(
        request,
        "data_identities.html",
        {"user": user, "ws": ws, "tab": "identities", "notice": notice, "stats": stats, "top": top},
    )


def start_upload(
    request: Request, user: User, ws: int, file: UploadFile, fmt: str, source: str
) -> IngestJob:
    """Check the caller and the form, save the file to the inbox and start the run."""
    from journeylens.events.formats import NAMED_FORMATS

    backend_of(request).check_ingest(user, ws)
    if fmt not in NAMED_FORMATS:
        raise InvalidInput(
            f"expected one of {', '.join(sorted(NAMED_FORMATS))}, got {fmt!r}", field="format"
        )
    source_name = source.strip() or None
    if source_name is not None and not SOURCE_RE.fullmatch(source_name):
        raise InvalidInput(
            "expected letters, digits, '_', '-' or '.' (at most 50, starting with a letter or "
            f"digit), got {source_name!r}",
            field="source",
        )
    jobs = _jobs(request, ws, create=True)
    # Only the last part of the name is kept, for display: the saved file gets a new name.
    name = PurePosixPath((file.filename or "").replace("\\", "/")).name[:200]
    return jobs.start(
        ws, file.file, name, fmt, source_name, user.name, settings_of(request).upload_max_bytes
    )


@pages.post("/w/{ws}/data/upload")
def upload(
    request: Request,
    user: CurrentUser,
    ws: int,
    file: UploadFile,
    format: Annotated[str, Form()],
    source: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Save the file and ingest it in the background (editor or above). HTMX gets the
    progress fragment (or the error in place), a plain form the job's page."""
    try:
        job = start_upload(request, user, ws, file, format, source)
    except BackendError as exc:
        if not _is_htmx(request):
            raise
        return render(request, "data_upload_error.html", {"error": error_body(exc)}, status_of(exc))
    if _is_htmx(request):
        return _progress(request, ws, job, 202)
    return redirect(f"/w/{ws}/data/jobs/{job.id}")


def _progress(request: Request, ws: int, job: IngestJob, status: int = 200) -> Response:
    """The progress fragment; once the run has ended it also fires ``ingest-finished`` so
    the data page reloads its tables (HTMX ``HX-Trigger``)."""
    answer = render(request, "data_progress.html", {"ws": ws, "job": job}, status)
    if not job.running:
        answer.headers["HX-Trigger"] = "ingest-finished"
    return answer


@pages.get("/w/{ws}/data/jobs/{job_id}")
def job_page(request: Request, user: CurrentUser, ws: int, job_id: str) -> Response:
    """One upload's progress, then its counts or its error (editor or above)."""
    backend_of(request).check_ingest(user, ws)
    job = _jobs(request, ws).get(ws, job_id)
    return render(request, "data_job.html", {"user": user, "ws": ws, "tab": "log", "job": job})


@pages.get("/w/{ws}/data/jobs/{job_id}/progress")
def job_progress(request: Request, user: CurrentUser, ws: int, job_id: str) -> Response:
    """The progress fragment HTMX polls every second until the run has ended."""
    backend_of(request).check_ingest(user, ws)
    return _progress(request, ws, _jobs(request, ws).get(ws, job_id))


# -- API ----------------------------------------------------------------------------------


class IngestJobOut(BaseModel):
    """An ingest job: ``status`` is running, done or failed; the counts are set when done
    (read = stored + quarantined + duplicate), ``error`` when failed."""

    id: str
    status: str
    file_name: str
    format: str
    source: str | None
    size: int
    bytes_done: int
    bytes_total: int
    run_id: str | None
    rows_read: int
    rows_stored: int
    rows_quarantined: int
    rows_duplicate: int
    events_stored: int
    error: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    url: str


def job_out(ws: int, job: IngestJob) -> IngestJobOut:
    """The API form of a job, with the URL to poll."""
    fields = {name: getattr(job, name) for name in IngestJobOut.model_fields if name != "url"}
    return IngestJobOut(**fields, url=f"/api/v1/workspaces/{ws}/ingest/{job.id}")


@api.post("/workspaces/{ws}/ingest", status_code=202)
def api_ingest(
    request: Request,
    user: CurrentUser,
    ws: int,
    file: UploadFile,
    format: Annotated[str, Form()],
    source: Annotated[str, Form(max_length=200)] = "",
) -> IngestJobOut:
    """Upload a file to ingest (multipart: ``file``, ``format``, optional ``source``);
    editor or above, a token needs the ``ingest`` scope. 202 with the job to poll; 409
    while another ingest runs."""
    return job_out(ws, start_upload(request, user, ws, file, format, source))


@api.get("/workspaces/{ws}/ingest/{job_id}")
def api_job(request: Request, user: CurrentUser, ws: int, job_id: str) -> IngestJobOut:
    """Where an ingest job is: progress while running, then the counts or the error."""
    backend_of(request).check_ingest(user, ws)
    return job_out(ws, _jobs(request, ws).get(ws, job_id))


router.include_router(pages)
router.include_router(api)
