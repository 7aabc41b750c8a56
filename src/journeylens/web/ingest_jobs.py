"""Background ingestion of uploaded files, one run at a time per event store.

An upload is saved to the workspace's ``inbox/`` folder under a generated name, then a
thread runs :func:`journeylens.events.runner.ingest` (with identity stitching, as
``journeylens ingest`` does) and copies each :class:`IngestProgress` into the job, which
the progress fragment and the API read. DuckDB allows one writer per file, so a second
upload while a run is going answers 409 instead of queueing behind a lock.

Jobs live in memory (the last :data:`KEEP` of them): the ingestion log in the store is the
durable record; a job only carries a run's progress to the browser.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from journeylens.web.backend import Conflict, InvalidInput, NotFound, PayloadTooLarge

if TYPE_CHECKING:  # duckdb loads lazily: importing the web app stays quick
    import duckdb

    from journeylens.engine.workspace import Workspace

#: How many finished jobs are remembered.
KEEP: Final[int] = 100
#: How long a run waits for short read-only connections (page views) to close.
CONNECT_WAIT_S: Final[float] = 15.0
#: File names the runner reads: data suffix, then an optional compression suffix.
UPLOAD_SUFFIX = re.compile(
    r"\.(csv|tsv|txt|jsonl|ndjson|json|parquet)(\.(gz|zst))?$", flags=re.IGNORECASE
)
CHUNK: Final[int] = 1 << 20


@dataclass
class IngestJob:
    """One upload being ingested: what was sent, how far the run is, and how it ended.

    ``status`` is ``running``, ``done`` or ``failed``; ``bytes_done`` / ``bytes_total`` come
    from the runner's progress; the ``rows_*`` counts and ``run_id`` are set when done,
    ``error`` when failed.
    """

    id: str
    workspace_id: int
    file_name: str
    format: str
    source: str | None
    user: str
    size: int
    started_at: dt.datetime
    status: str = "running"
    bytes_done: int = 0
    bytes_total: int = 0
    run_id: str | None = None
    rows_read: int = 0
    rows_stored: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    events_stored: int = 0
    error: str | None = None
    finished_at: dt.datetime | None = None

    @property
    def running(self) -> bool:
        """Whether the run has not ended yet."""
        return self.status == "running"

    @property
    def percent(self) -> int:
        """How much of the input is read, 0–100 (100 once done)."""
        if self.status == "done":
            return 100
        if self.bytes_total <= 0:
            return 0
        return min(100, int(100 * self.bytes_done / self.bytes_total))


def check_upload_name(name: str) -> str:
    """The upload's suffix (``.csv``, ``.jsonl.gz`` …), or :class:`InvalidInput` naming what
    is accepted.

    >>> check_upload_name("Orders 2024.CSV.gz")
    '.csv.gz'
    >>> check_upload_name("report.xlsx")
    Traceback (most recent call last):
    ...
    journeylens.web.backend.InvalidInput: expected a .csv, .tsv, .jsonl, .json or .parquet file, optionally .gz or .zst, got 'report.xlsx'
    """
    match = UPLOAD_SUFFIX.search(name)
    if match is None:
        raise InvalidInput(
            "expected a .csv, .tsv, .jsonl, .json or .parquet file, optionally .gz or .zst, "
            f"got {name!r}",
            field="file",
        )
    return match.group(0).lower()


def save_upload(src: BinaryIO, dest: Path, limit: int) -> int:
    """Copy ``src`` to ``dest`` in chunks; :class:`PayloadTooLarge` (and no file left
    behind) past ``limit`` bytes. Returns the size."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with dest.open("wb") as out:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(
                        f"the file is larger than this server accepts ({limit:,} bytes)",
                        field="file",
                    )
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return size


class IngestJobs:
    """The jobs of one app; at most one running per event store."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, IngestJob] = OrderedDict()
        self._running: dict[Path, str] = {}
        self._lock = threading.Lock()

    def start(
        self,
        root: Path,
        workspace_id: int,
        upload: BinaryIO,
        file_name: str,
        fmt: str,
        source: str | None,
        user: str,
        limit: int,
    ) -> IngestJob:
        """Save ``upload`` to ``root/inbox`` and ingest it in a background thread.

        :class:`Conflict` while another run on the same store is going; the file is
        checked (name, size) before anything is saved.
        """
        from journeylens.engine.workspace import Workspace, WorkspaceError

        suffix = check_upload_name(file_name)
        try:
            ws = Workspace.open(root)
            store_path = ws.store.path
        except WorkspaceError as exc:
            raise Conflict(str(exc), field="workspace") from None
        job_id = uuid.uuid4().hex[:12]
        with self._lock:
            self._refuse_if_running(store_path)
            self._running[store_path] = job_id  # reserve before the (slow) copy
        try:
            path = ws.root / "inbox" / f"{job_id}{suffix}"
            size = save_upload(upload, path, limit)
        except BaseException:
            with self._lock:
                self._running.pop(store_path, None)
            raise
        job = IngestJob(
            id=job_id,
            workspace_id=workspace_id,
            file_name=file_name,
            format=fmt,
            source=source,
            user=user,
            size=size,
            started_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            bytes_total=size,
        )
        with self._lock:
            self._jobs[job_id] = job
            while len(self._jobs) > KEEP:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].running:
                    break
                self._jobs.pop(oldest)
        thread = threading.Thread(
            target=self._run, args=(job, ws, path, store_path), name=f"jl-ingest-{job_id}"
        )
        thread.daemon = True  # a stopped server leaves the store as it was (atomic runs)
        thread.start()
        return job

    def _refuse_if_running(self, store_path: Path) -> None:
        busy = self._running.get(store_path)
        if busy is not None:
            job = self._jobs.get(busy)
            what = f" ({job.file_name}, started by {job.user})" if job is not None else ""
            raise Conflict(
                f"an ingest is already running in this workspace{what}: DuckDB allows one "
                "writer at a time, wait until it has finished and upload again",
                field="file",
            )

    def get(self, workspace_id: int, job_id: str) -> IngestJob:
        """A copy of the job (:class:`NotFound` for an unknown one or another workspace's)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.workspace_id != workspace_id:
                raise NotFound(f"no ingest job {job_id!r} in this workspace", field="job")
            return dataclasses.replace(job)

    def running(self, root: Path) -> IngestJob | None:
        """A copy of the run going on the store of workspace folder ``root``, if any."""
        from journeylens.engine.workspace import Workspace, WorkspaceError

        try:
            store_path = Workspace.open(root).store.path
        except WorkspaceError:
            return None
        with self._lock:
            job_id = self._running.get(store_path)
            job = self._jobs.get(job_id) if job_id is not None else None
            return dataclasses.replace(job) if job is not None else None

    def recent(self, workspace_id: int, n: int = 10) -> list[IngestJob]:
        """Copies of the workspace's last ``n`` jobs, newest first (failed uploads too:
        a file that cannot be read never reaches the ingestion log)."""
        with self._lock:
            mine = [j for j in self._jobs.values() if j.workspace_id == workspace_id]
            return [dataclasses.replace(j) for j in reversed(mine[-n:])]

    def any_running(self) -> bool:
        """Whether some run of this app has not ended yet."""
        with self._lock:
            return bool(self._running)

    def _update(self, job: IngestJob, **changes: object) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(job, key, value)

    def _run(self, job: IngestJob, ws: Workspace, path: Path, store_path: Path) -> None:
        from journeylens.engine.store import StoreError
        from journeylens.engine.workspace import WorkspaceError
        from journeylens.events.runner import IngestError, IngestProgress, SourceSpec, ingest
        from journeylens.events.stitch import stitch

        def progress(p: IngestProgress) -> None:
            self._update(job, bytes_done=p.bytes_done, bytes_total=p.bytes_total)

        try:
            con = _connect_waiting(ws)
            try:
                k, m = ws.max_users_per_identity, ws.max_identities_per_user
                result = ingest(
                    con,
                    [SourceSpec((str(path),), job.format, job.source)],
                    progress=progress,
                    after=lambda c: stitch(c, max_users_per_identity=k, max_identities_per_user=m),
                )
            finally:
                con.close()
            self._update(
                job,
                status="done",
                run_id=result.run_id,
                rows_read=sum(s.rows_read for s in result.sources),
                rows_stored=sum(s.rows_stored for s in result.sources),
                rows_quarantined=sum(s.rows_quarantined for s in result.sources),
                rows_duplicate=sum(s.rows_duplicate for s in result.sources),
                events_stored=sum(s.events_stored for s in result.sources),
                bytes_done=job.bytes_total,
            )
        except (IngestError, StoreError, WorkspaceError, OSError) as exc:
            # The runner names the saved file; show the name the user uploaded instead.
            message = str(exc).replace(str(path), job.file_name)
            self._update(job, status="failed", error=message)
        except Exception as exc:  # a job must end, whatever went wrong
            self._update(job, status="failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            self._update(job, finished_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
            with self._lock:
                if self._running.get(store_path) == job.id:
                    self._running.pop(store_path)


def _connect_waiting(ws: Workspace) -> duckdb.DuckDBPyConnection:
    """A writable connection to the store, waiting up to :data:`CONNECT_WAIT_S` for the
    read-only connections of page views (DuckDB refuses mixed modes in one process)."""
    from journeylens.engine.store import StoreError

    deadline = time.monotonic() + CONNECT_WAIT_S
    while True:
        try:
            return ws.store.connect()
        except StoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
