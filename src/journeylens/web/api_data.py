"""JSON API of a workspace's data pages: the ingestion log, the quarantine, identity stats,
and the uploads (ingest jobs) with the files failed runs left in the inbox.

The numbers come from the library, as on the pages and in the CLI:
:mod:`journeylens.events.reports` (one ``LIMIT`` / ``OFFSET`` page at a time) and
:func:`journeylens.events.stitch.identity_stats`. File names are given without their
folder: a server path is never shown. Uploading stays ``POST /api/v1/workspaces/{ws}/ingest``
(:mod:`journeylens.web.pages_data`).

Errors: 409 with ``field: "workspace"`` when the server has no workspace folder, and with
``field: "events"`` while an ingest is writing the store (try again when it has ended);
a workspace with no upload yet answers empty pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from journeylens.events.stitch import IdentityStats
from journeylens.web.api_models import ERRORS, ApiModel
from journeylens.web.backend import Conflict
from journeylens.web.deps import CurrentUser, backend_of, csrf_protect
from journeylens.web.ingest_jobs import IngestJob
from journeylens.web.pages_data import NO_WORKSPACE, IngestJobOut, _jobs, event_store, jobs_of

router = APIRouter(
    prefix="/api/v1", tags=["data"], dependencies=[Depends(csrf_protect)], responses=ERRORS
)

#: Largest page of the log, the quarantine and the job list.
MAX_LIMIT = 1000
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page (1–1000).")]
Offset = Annotated[int, Query(ge=0, le=10**12, description="Rows to skip.")]


def file_name(path: str) -> str:
    """The last part of a path, whichever the separator: a server path is never shown.

    >>> file_name("/srv/shop/inbox/0123456789ab.csv"), file_name(r"C:\\data\\o.csv")
    ('0123456789ab.csv', 'o.csv')
    """
    return PurePosixPath(path.replace("\\", "/")).name


class IngestRunOut(ApiModel):
    """One source of one ingest run (read = stored + quarantined + duplicate); ``status``
    is ``ok`` or ``failed`` (then ``message`` says why and nothing was stored)."""

    run_id: str
    source: str
    format: str
    files: list[str]
    rows_read: int
    rows_stored: int
    rows_quarantined: int
    rows_duplicate: int
    events_stored: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    message: str | None


class IngestLogOut(ApiModel):
    """A page of the ingestion log, newest run first; ``total`` entries in all."""

    total: int
    limit: int
    offset: int
    entries: list[IngestRunOut]


class QuarantinedOut(ApiModel):
    """A quarantined record: where it was (file, line), the offending field and value,
    the reason, what was expected, and the raw record."""

    run_id: str
    source: str
    file: str
    line: int | None
    field: str | None
    value: str | None
    reason: str
    expected: str | None
    raw: str | None


class QuarantineOut(ApiModel):
    """A page of the quarantine (run, file and line order) for the filters; ``total``
    records match them; ``runs`` (newest first) and ``reasons`` are what can be chosen."""

    total: int
    limit: int
    offset: int
    run: str | None
    source: str | None
    reason: str | None
    runs: list[str]
    reasons: list[str]
    records: list[QuarantinedOut]


class UploadOut(IngestJobOut):
    """An upload and its run; ``file_kept``: the uploaded file is still in the inbox (a
    run that failed, kept for inspection until discarded, or one still running)."""

    file_kept: bool


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _store_busy(notice: str | None) -> None:
    """409 when the store cannot be read (no workspace folder, an ingest writing it)."""
    if notice == NO_WORKSPACE:
        raise Conflict(NO_WORKSPACE, field="workspace")
    if notice is not None:
        raise Conflict(notice, field="events")


@router.get("/workspaces/{ws}/data/log")
def ingest_log(
    request: Request, user: CurrentUser, ws: int, limit: Limit = 50, offset: Offset = 0
) -> IngestLogOut:
    """The ingestion log, newest run first, one page (viewer or above)."""
    from journeylens.events.reports import ingest_log_count, ingest_log_page

    backend_of(request).role(user, ws)
    total, entries = 0, []
    with event_store(request, ws) as (con, notice):
        _store_busy(notice)
        if con is not None:
            total = ingest_log_count(con)
            entries = ingest_log_page(con, limit=limit, offset=offset)
    return IngestLogOut(
        total=total,
        limit=limit,
        offset=offset,
        entries=[
            IngestRunOut.model_validate(
                replace(e, files=tuple(file_name(f) for f in e.files)), from_attributes=True
            )
            for e in entries
        ],
    )


@router.get("/workspaces/{ws}/data/quarantine")
def quarantine(
    request: Request,
    user: CurrentUser,
    ws: int,
    run: Annotated[str | None, Query(max_length=200, description="A run id, or `latest`.")] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    reason: Annotated[str | None, Query(max_length=200, description="e.g. bad_timestamp")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> QuarantineOut:
    """Quarantined records with their reasons, filtered by run / source / reason, one page
    (viewer or above)."""
    from journeylens.events.reports import quarantine_choices, quarantine_count, quarantine_page

    backend_of(request).role(user, ws)
    run, source, reason = _blank(run), _blank(source), _blank(reason)
    total, records = 0, []
    runs: list[str] = []
    reasons: list[str] = []
    with event_store(request, ws) as (con, notice):
        _store_busy(notice)
        if con is not None:
            runs, reasons = quarantine_choices(con)
            total = quarantine_count(con, run=run, source=source, reason=reason)
            records = quarantine_page(
                con, run=run, source=source, reason=reason, limit=limit, offset=offset
            )
    return QuarantineOut(
        total=total,
        limit=limit,
        offset=offset,
        run=run,
        source=source,
        reason=reason,
        runs=runs,
        reasons=reasons,
        records=[
            QuarantinedOut.model_validate(replace(r, file=file_name(r.file)), from_attributes=True)
            for r in records
        ],
    )


@router.get("/workspaces/{ws}/data/identities")
def identities(
    request: Request,
    user: CurrentUser,
    ws: int,
    top: Annotated[int, Query(ge=1, le=100, description="Largest clusters / refused shown.")] = 10,
) -> IdentityStats:
    """The figures of ``journeylens identities stats``: identities per customer, the share
    of anonymous-only customers, the largest clusters and the refused edges (viewer or
    above; all zero before the first upload)."""
    from journeylens.events.stitch import identity_stats

    backend_of(request).role(user, ws)
    with event_store(request, ws) as (con, notice):
        _store_busy(notice)
        if con is not None:
            return identity_stats(con, top=top)
    return IdentityStats(0, 0, 0.0, 0.0, 0.0, 0, (), (), 0)


def upload_out(ws: int, job: IngestJob) -> UploadOut:
    """The API form of an upload."""
    fields = {name: getattr(job, name) for name in IngestJobOut.model_fields if name != "url"}
    return UploadOut(
        **fields,
        url=f"/api/v1/workspaces/{ws}/ingest/{job.id}",
        file_kept=job.inbox_file is not None,
    )


@router.get("/workspaces/{ws}/ingest")
def uploads(
    request: Request,
    user: CurrentUser,
    ws: int,
    limit: Annotated[int, Query(ge=1, le=100, description="How many, newest first.")] = 20,
) -> list[UploadOut]:
    """The workspace's last uploads, newest first, failed ones with their error and
    ``file_kept`` (editor or above; a token needs the ``ingest`` scope)."""
    backend_of(request).check_ingest(user, ws)
    jobs = jobs_of(request, ws)
    if jobs is None:
        return []
    return [upload_out(ws, j) for j in jobs.recent(ws, limit)]


@router.delete("/workspaces/{ws}/ingest/{job_id}", status_code=204, response_class=Response)
def discard_upload(request: Request, user: CurrentUser, ws: int, job_id: str) -> Response:
    """Delete the file a failed run left in the inbox (editor or above); the job stays
    listed with ``file_kept: false``. 409 while the run is going."""
    backend_of(request).check_ingest(user, ws)
    _jobs(request, ws).discard(ws, job_id)
    return Response(status_code=204)
