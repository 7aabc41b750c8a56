"""Background ingestion of uploaded files, one run at a time per workspace folder.

An upload is saved to the workspace's ``inbox/`` folder under a generated name, then a
thread runs :func:`journeylens.events.runner.ingest` (with identity stitching, as
``journeylens ingest`` does) and copies each :class:`IngestProgress` into the job.

Jobs are small JSON files in ``inbox/.jobs/`` and the one-writer rule is an exclusive
``flock`` on ``inbox/.ingest.lock`` held for the whole run, so every server process
(``journeylens serve --workers N``) sees the same jobs and refuses a second run with 409:
DuckDB allows one writer per file. A run whose process died (lock free, job still
"running") is reported as failed; nothing of it was stored, runs being atomic.

The ingestion log in the event store is the durable record; a job only carries a run's
progress to the browser (the last :data:`KEEP` are kept).

Uploaded files do not pile up in the inbox: a file whose run has stored its events is
deleted as soon as the run ends (its events and its quarantined records, raw record
included, are in the store; the user has the original). A file whose run failed stays
in the inbox for inspection, listed with its job (``IngestJob.inbox_file``), until it is
discarded (:meth:`IngestJobs.discard`, ``DELETE /api/v1/workspaces/{ws}/ingest/{job}``)
or its job is forgotten (older than the last :data:`KEEP` jobs). Leftovers of older
versions, which kept every upload, are swept at the next upload.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Final

from journeylens.web.backend import Conflict, InvalidInput, NotFound, PayloadTooLarge

if TYPE_CHECKING:  # duckdb loads lazily: importing the web app stays quick
    import duckdb

    from journeylens.engine.workspace import Workspace

#: How many jobs are remembered.
KEEP: Final[int] = 100
#: How long a run waits for short read-only connections (page views) to close.
CONNECT_WAIT_S: Final[float] = 15.0
#: Seconds between two writes of a running job's progress.
WRITE_EVERY_S: Final[float] = 0.25
#: File names the runner reads: data suffix, then an optional compression suffix.
UPLOAD_SUFFIX = re.compile(
    r"\.(csv|tsv|txt|jsonl|ndjson|json|parquet)(\.(gz|zst))?$", flags=re.IGNORECASE
)
JOB_ID = re.compile(r"[0-9a-f]{12}")
#: A file the inbox holds: the job id and the upload's suffix.
UPLOAD_NAME = re.compile(r"[0-9a-f]{12}" + UPLOAD_SUFFIX.pattern, flags=re.IGNORECASE)
CHUNK: Final[int] = 1 << 20
DIED = "the server stopped during the run; nothing of it was stored"


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
    #: The uploaded file's name in the inbox while it is there (a running or failed run's),
    #: ``None`` once deleted.
    inbox_file: str | None = None

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

    def to_json(self) -> str:
        """The job as JSON (times in ISO 8601)."""
        data = dataclasses.asdict(self)
        for key in ("started_at", "finished_at"):
            data[key] = data[key].isoformat() if data[key] is not None else None
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> IngestJob:
        """The job written by :meth:`to_json`."""
        data: dict[str, Any] = json.loads(text)
        for key in ("started_at", "finished_at"):
            if data.get(key) is not None:
                data[key] = dt.datetime.fromisoformat(data[key])
        return cls(**data)


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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class IngestJobs:
    """The ingest jobs of the workspace folder ``root`` (shared by every server process)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inbox = root / "inbox"
        self.jobs_dir = self.inbox / ".jobs"
        self._lock_path = self.inbox / ".ingest.lock"
        self._marker = self.jobs_dir / "running"
        self._threads: set[threading.Thread] = set()
        self._mutex = threading.Lock()

    # -- the one-writer lock ---------------------------------------------------------------

    def _try_lock(self) -> IO[bytes] | None:
        """The exclusive lock file, open and locked, or ``None`` when a run holds it."""
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        handle = self._lock_path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    def _write(self, job: IngestJob) -> None:
        path = self.jobs_dir / f"{job.id}.json"
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        tmp.write_text(job.to_json(), encoding="utf-8")
        os.replace(tmp, path)  # readers never see half a file

    def _read(self, job_id: str) -> IngestJob | None:
        if not JOB_ID.fullmatch(job_id):
            return None
        try:
            return IngestJob.from_json((self.jobs_dir / f"{job_id}.json").read_text("utf-8"))
        except FileNotFoundError:
            return None

    # -- reading ---------------------------------------------------------------------------

    def running(self) -> IngestJob | None:
        """The run going on in this folder (any process), if any."""
        try:
            job_id = self._marker.read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        job = self._read(job_id)
        if job is None or not job.running:
            return None
        handle = self._try_lock()
        if handle is None:
            return job  # its process holds the lock: really running
        try:  # the lock is free, so the process that ran it is gone
            job.status, job.error, job.finished_at = "failed", DIED, _now()
            self._write(job)
            self._marker.unlink(missing_ok=True)
        finally:
            handle.close()
        return None

    def get(self, workspace_id: int, job_id: str) -> IngestJob:
        """The job (:class:`NotFound` for an unknown one or another workspace's)."""
        self.running()  # marks a run whose process died as failed
        job = self._read(job_id)
        if job is None or job.workspace_id != workspace_id:
            raise NotFound(f"no ingest job {job_id!r} in this workspace", field="job")
        return job

    def recent(self, workspace_id: int, n: int = 10) -> list[IngestJob]:
        """The workspace's last ``n`` jobs, newest first (failed uploads too: a file that
        cannot be read never reaches the ingestion log)."""
        self.running()
        if not self.jobs_dir.is_dir():
            return []
        jobs = [self._read(p.stem) for p in self.jobs_dir.glob("*.json")]
        mine = [j for j in jobs if j is not None and j.workspace_id == workspace_id]
        return sorted(mine, key=lambda j: (j.started_at, j.id), reverse=True)[:n]

    def discard(self, workspace_id: int, job_id: str) -> IngestJob:
        """Delete the file a failed run left in the inbox (:class:`NotFound` for an unknown
        job or another workspace's, :class:`Conflict` while the run is going). Returns the
        job, ``inbox_file`` cleared; nothing to delete is not an error."""
        job = self.get(workspace_id, job_id)
        if job.running:
            raise Conflict("the run is still going: its file is in use", field="job")
        if job.inbox_file is not None:
            self._remove_file(job)
            self._write(job)
        return job

    def _remove_file(self, job: IngestJob) -> None:
        """Delete the job's inbox file (a generated name: never a path a user typed)."""
        if job.inbox_file is not None and UPLOAD_NAME.fullmatch(job.inbox_file):
            (self.inbox / job.inbox_file).unlink(missing_ok=True)
        job.inbox_file = None

    def any_running(self) -> bool:
        """Whether a run started by this process has not ended yet."""
        with self._mutex:
            return any(t.is_alive() for t in self._threads)

    # -- starting a run --------------------------------------------------------------------

    def start(
        self,
        workspace_id: int,
        upload: BinaryIO,
        file_name: str,
        fmt: str,
        source: str | None,
        user: str,
        limit: int,
    ) -> IngestJob:
        """Save ``upload`` to the inbox and ingest it in a background thread.

        :class:`Conflict` while another run on this folder is going (in any process).
        """
        from journeylens.engine.workspace import Workspace, WorkspaceError

        suffix = check_upload_name(file_name)
        try:
            ws = Workspace.open(self.root)
        except WorkspaceError as exc:
            raise Conflict(str(exc), field="workspace") from None
        handle = self._try_lock()
        if handle is None:
            busy = self.running()
            what = f" ({busy.file_name}, started by {busy.user})" if busy is not None else ""
            raise Conflict(
                f"an ingest is already running in this workspace{what}: DuckDB allows one "
                "writer at a time, wait until it has finished and upload again",
                field="file",
            )
        try:
            job_id = uuid.uuid4().hex[:12]
            path = self.inbox / f"{job_id}{suffix}"
            size = save_upload(upload, path, limit)
            job = IngestJob(
                id=job_id,
                workspace_id=workspace_id,
                file_name=file_name,
                format=fmt,
                source=source,
                user=user,
                size=size,
                started_at=_now(),
                bytes_total=size,
                inbox_file=path.name,
            )
            self._write(job)
            self._marker.write_text(job_id, encoding="utf-8")
            self._prune()
            thread = threading.Thread(
                target=self._run, args=(job, ws, path, handle), name=f"jl-ingest-{job_id}"
            )
            thread.daemon = True  # a stopped server leaves the store as it was (atomic runs)
            with self._mutex:
                self._threads = {t for t in self._threads if t.is_alive()} | {thread}
            thread.start()
        except BaseException:
            handle.close()
            raise
        return dataclasses.replace(job)

    def _prune(self) -> None:
        """Forget the oldest finished jobs beyond :data:`KEEP` (with a failed run's kept
        file), and delete inbox files no running or failed job claims (the uploads older
        versions kept after their runs). Called holding the run lock: no run is saving."""
        files = sorted(self.jobs_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for path in files[: max(0, len(files) - KEEP)]:
            job = self._read(path.stem)
            if job is not None and not job.running:
                self._remove_file(job)
                path.unlink(missing_ok=True)
        claimed = set()
        for path in self.jobs_dir.glob("*.json"):
            job = self._read(path.stem)
            if job is not None and job.inbox_file is not None:
                claimed.add(job.inbox_file)
        for path in self.inbox.iterdir():
            if path.is_file() and UPLOAD_NAME.fullmatch(path.name) and path.name not in claimed:
                path.unlink(missing_ok=True)

    def _run(self, job: IngestJob, ws: Workspace, path: Path, handle: IO[bytes]) -> None:
        from journeylens.engine.store import StoreError
        from journeylens.engine.workspace import WorkspaceError
        from journeylens.events.runner import IngestError, IngestProgress, SourceSpec, ingest
        from journeylens.events.stitch import stitch

        last = 0.0

        def progress(p: IngestProgress) -> None:
            nonlocal last
            job.bytes_done, job.bytes_total = p.bytes_done, p.bytes_total
            if time.monotonic() - last >= WRITE_EVERY_S:
                last = time.monotonic()
                self._write(job)

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
            job.status, job.run_id, job.bytes_done = "done", result.run_id, job.bytes_total
            job.rows_read = sum(s.rows_read for s in result.sources)
            job.rows_stored = sum(s.rows_stored for s in result.sources)
            job.rows_quarantined = sum(s.rows_quarantined for s in result.sources)
            job.rows_duplicate = sum(s.rows_duplicate for s in result.sources)
            job.events_stored = sum(s.events_stored for s in result.sources)
        except (IngestError, StoreError, WorkspaceError, OSError) as exc:
            # The runner names the saved file; show the name the user uploaded instead.
            job.status, job.error = "failed", str(exc).replace(str(path), job.file_name)
        except Exception as exc:  # a job must end, whatever went wrong
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            job.finished_at = _now()
            if job.status == "done":
                # Stored (and quarantined rows keep their raw record): the copy is not needed.
                # A failed run's file stays for inspection (see the module docstring).
                self._remove_file(job)
            try:
                self._write(job)
                self._marker.unlink(missing_ok=True)
            finally:
                handle.close()  # releases the lock: the next upload may start


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
