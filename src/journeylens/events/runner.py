"""Run an ingestion: read source files with DuckDB, validate, quarantine, dedupe, store.

Everything happens in SQL inside one transaction per run, so a crash or Ctrl-C leaves the
store exactly as it was. Each file is parsed once: one ``INSERT INTO events … SELECT``
per file parses the fields, evaluates the quarantine checks (first failing check wins) and
writes the canonical rows of the good records, leaving out event ids already stored (an
anti-join, when the store holds events); then only the records none of whose events was
written are read again and checked, and the bad ones (check result, raw record) go to a
small temporary table. CSV and JSON lines are first copied as text into a temporary
table (in parallel, file order kept) whose row number is the record index; Parquet is read
directly. At the end of the run the bad records move to ``quarantine`` with file, line,
field, value and expected value (as do rows the CSV reader rejected), repeats of an id
inside a file are dropped (first occurrence wins), and the log row of each source
satisfies ``rows_read = rows_stored + rows_quarantined + rows_duplicate`` (counted in
source records: an order row that yields three events is one record). CRM files go to a
small staging table and are upserted into ``crm_records``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import glob
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from journeylens.events.formats import DEFAULT_SOURCES, NAMED_FORMATS, csv_raw
from journeylens.events.mapping import Mapping, MappingError, plan_mapping
from journeylens.events.plans import Plan, ReaderKind
from journeylens.events.schema import (
    CRM_COLUMNS,
    EVENT_COLUMNS,
    FUTURE_TOLERANCE_HOURS,
    Reason,
)
from journeylens.events.sql import ident, lit

_TYPES = {c.name: c.sql_type for c in EVENT_COLUMNS} | {c.name: c.sql_type for c in CRM_COLUMNS}
_TYPES |= {"attributes": "VARCHAR", "customer_id": "VARCHAR"}
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_COMPRESSION = (".gz", ".zst")
_BAD = "STRUCT(reason VARCHAR, field VARCHAR, value VARCHAR, expected VARCHAR)"
#: Stage ordinal stride per source record: room for up to 8 events per record.
_STRIDE = 8


class IngestError(Exception):
    """A file cannot be ingested at all (missing, unreadable, not the declared format)."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What to ingest: paths (files, folders, globs) of one source in one format."""

    paths: tuple[str, ...]
    format: str
    source: str | None = None
    mapping: Mapping | None = None

    @property
    def source_name(self) -> str:
        """The ``source`` column value (default from the named format)."""
        return self.source or DEFAULT_SOURCES.get(self.format, self.format)


@dataclass(frozen=True, slots=True)
class SourceResult:
    """Counts of one source in one run (``rows_*`` count source records)."""

    source: str
    format: str
    files: tuple[str, ...]
    rows_read: int
    rows_stored: int
    rows_quarantined: int
    rows_duplicate: int
    events_stored: int


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of one ingestion run."""

    run_id: str
    sources: tuple[SourceResult, ...] = field(default_factory=tuple)

    @property
    def rows_read(self) -> int:
        """Records read over all sources."""
        return sum(s.rows_read for s in self.sources)


def _kind_of(path: Path, plan_reader: ReaderKind | None) -> ReaderKind:
    name = path.name.lower()
    for suffix in _COMPRESSION:
        name = name.removesuffix(suffix)
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(_JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    return plan_reader or "csv"


def expand_paths(paths: Sequence[str]) -> list[Path]:
    """Files named by ``paths``: files as given, folders recursively, globs expanded (sorted).

    Hidden files and ``manifest.json`` are skipped inside folders.
    """
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if any(ch in raw for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(raw, recursive=True))
            found = [m for m in matches if m.is_file()]
            if not found:
                raise IngestError(f"{raw}: no file matches this pattern")
            files += found
        elif p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and not f.name.startswith(".") and f.name != "manifest.json"
            )
            if not found:
                raise IngestError(f"{raw}: the folder holds no file")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise IngestError(f"{raw}: no such file or folder")
    return list(dict.fromkeys(files))


def _load_sql(kind: ReaderKind) -> str | None:
    """For CSV and JSON lines: SQL copying ``$file`` as text into the temporary ``_jl_raw``.

    DuckDB reads CSV in parallel and, with insertion order preserved, stores the rows in file
    order, so ``rowid + 1`` of ``_jl_raw`` is the record index (less the first rowid: a table
    created inside a transaction numbers its rows from a large offset). (``row_number() OVER ()``
    straight on the reader would give the same index but runs the whole pipeline — parse,
    checks and the write — on one thread.) Parquet is read directly (``file_row_number``).
    """
    if kind == "csv":
        return (
            "CREATE OR REPLACE TEMP TABLE _jl_raw AS SELECT * FROM read_csv($file, header = true, "
            "auto_detect = false, columns = $cols, delim = $delim, quote = $quote, escape = $quote, "
            "store_rejects = true, rejects_table = '_jl_rejects', rejects_scan = '_jl_scans', "
            "max_line_size = 16777216)"
        )
    if kind == "jsonl":
        # one text column per line: broken JSON is quarantined per line instead of failing
        return (
            "CREATE OR REPLACE TEMP TABLE _jl_raw AS SELECT line AS _raw "
            "FROM read_csv($file, header = false, columns = {'line': 'VARCHAR'}, "
            "delim = chr(1), quote = '', escape = '', auto_detect = false, "
            "store_rejects = true, rejects_table = '_jl_rejects', rejects_scan = '_jl_scans', "
            "max_line_size = 16777216)"
        )
    return None


def _records_sql(kind: ReaderKind) -> str:
    """SQL of a file's rows with a 1-based record index ``_k`` (before rejected rows):
    ``_jl_raw`` for CSV and JSON lines (see :func:`_load_sql`), ``$file`` for Parquet."""
    if kind == "parquet":
        return (
            "SELECT file_row_number + 1 AS _k, * FROM read_parquet($file, file_row_number = true)"
        )
    return "SELECT rowid - $rowid0 + 1 AS _k, * FROM _jl_raw"


def _reader_sql(kind: ReaderKind, unwritten: bool = False) -> str:
    """SQL of a file's records with their index ``_k`` (:func:`_records_sql`; JSON lines
    also parsed as ``_j``); with ``unwritten``, only the records copied to ``_jl_pick`` by
    :func:`_pick_unwritten`."""
    rows = "SELECT * FROM _jl_pick" if unwritten else _records_sql(kind)
    if kind == "jsonl":
        return (
            "SELECT _k, _raw, CASE WHEN json_valid(_raw) AND json_type(_raw) = 'OBJECT' "
            f"THEN _raw::JSON END AS _j FROM ({rows}) WHERE _raw IS NOT NULL"
        )
    return rows


def _file_columns(
    con: duckdb.DuckDBPyConnection, path: Path, kind: ReaderKind, plan_csv: dict[str, str]
) -> dict[str, str]:
    """Column names and types of a CSV header or Parquet schema (empty for JSON lines)."""
    if kind == "jsonl":
        return {}
    if kind == "parquet":
        try:
            rows = con.execute(
                "DESCRIBE SELECT * FROM read_parquet($file)", {"file": str(path)}
            ).fetchall()
        except duckdb.Error as exc:
            raise IngestError(
                f"{path}: cannot read as Parquet: {str(exc).splitlines()[0]}"
            ) from exc
        return {str(r[0]): str(r[1]) for r in rows}
    # CSV: read the header line only (DuckDB handles compression), split it with the csv
    # module; the body is then read with these columns and no sniffing, so bad rows in
    # the first lines cannot make the whole file unreadable.
    try:
        first = con.execute(
            "SELECT line FROM read_csv($file, header = false, columns = {'line': 'VARCHAR'}, "
            "delim = chr(1), quote = '', escape = '', auto_detect = false, "
            "store_rejects = true, rejects_table = '_jl_hdr_rej', rejects_scan = '_jl_hdr_scan') "
            "LIMIT 1",
            {"file": str(path)},
        ).fetchall()
        header_bad = con.execute("SELECT count(*) FROM _jl_hdr_rej WHERE line = 1").fetchall()
        con.execute("DROP TABLE IF EXISTS temp._jl_hdr_rej")
        con.execute("DROP TABLE IF EXISTS temp._jl_hdr_scan")
    except duckdb.Error as exc:
        raise IngestError(f"{path}: cannot read as CSV: {str(exc).splitlines()[0]}") from exc
    if header_bad[0][0]:
        raise IngestError(f"{path}:1: the CSV header is not UTF-8 text")
    if not first or first[0][0] is None:
        raise IngestError(f"{path}: empty file: expected a CSV header line")
    header_line = str(first[0][0]).lstrip("\ufeff").rstrip("\r")
    quote = plan_csv.get("quote", '"')
    reader = (
        csv.reader([header_line], delimiter=plan_csv.get("delim", ","), quotechar=quote)
        if quote
        else csv.reader([header_line], delimiter=plan_csv.get("delim", ","), quoting=csv.QUOTE_NONE)
    )
    names = next(reader)
    names = [n.strip() for n in names]
    dupes = sorted({n for n in names if names.count(n) > 1 or not n})
    if dupes:
        raise IngestError(
            f"{path}:1: CSV header has empty or repeated column names: {', '.join(map(repr, dupes))}"
        )
    return dict.fromkeys(names, "VARCHAR")


def _plan_for(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path
) -> tuple[Plan, ReaderKind, dict[str, str]]:
    """The plan, reader kind and columns for one file of ``spec``."""
    if spec.mapping is not None:
        kind = spec.mapping.format or _kind_of(path, None)
        opts = {"delim": spec.mapping.delimiter, "quote": spec.mapping.quote}
        columns = _file_columns(con, path, kind, opts)
        try:
            plan = plan_mapping(spec.mapping, kind, columns, path)
        except MappingError as exc:
            raise IngestError(str(exc)) from exc
        return plan, kind, columns
    builder = NAMED_FORMATS.get(spec.format)
    if builder is None:
        raise IngestError(
            f"unknown format {spec.format!r}: expected one of {', '.join(sorted(NAMED_FORMATS))} "
            "or a --mapping file"
        )
    natural = builder(frozenset()).reader
    kind = _kind_of(path, natural)
    if natural == "jsonl" and kind != "jsonl":
        kind = "jsonl"  # JSON-lines formats: any extension is read as lines
    if natural == "csv" and kind == "jsonl":
        raise IngestError(f"{path}: format {spec.format} expects CSV or Parquet, not JSON lines")
    columns = _file_columns(con, path, kind, {})
    plan = builder(frozenset(columns))
    missing = [c for c in plan.required_columns if c not in columns]
    if missing:
        found = ", ".join(list(columns)[:20]) or "nothing"
        raise IngestError(
            f"{path}: not a {spec.format} file: missing columns {', '.join(missing)} "
            f"(found: {found})"
        )
    return plan, kind, columns


def file_query(
    plan: Plan, kind: ReaderKind, columns: dict[str, str], unwritten: bool = False
) -> str:
    """The ``SELECT`` producing staging rows of one file (parameters: $file, $source,
    $file_no, $offset, $max_ts, $delim, $quote and the plan's own); with ``unwritten``,
    only of the records :func:`_reader_sql` keeps."""
    raw = "_raw" if kind == "jsonl" else csv_raw(frozenset(columns))
    parse = ", ".join(f"{expr} AS {ident(alias)}" for alias, expr in plan.parse)
    checks = list(plan.checks)
    whens = [c.as_struct() for c in checks]
    conds = [c.condition for c in checks]
    if kind == "jsonl":
        broken = (
            f"{{'reason': {lit(Reason.BROKEN_JSON.value)}, 'field': NULL, "
            "'value': left(_raw, 200), 'expected': 'one JSON object per line'}"
        )
        conds.insert(0, "_j IS NULL")
        whens.insert(0, broken)
    case = " ".join(f"WHEN {c} THEN {w}" for c, w in zip(conds, whens, strict=True))
    bad = f"CASE {case} END" if case else f"CAST(NULL AS {_BAD})"

    def typed(emit_cols: dict[str, str], name: str) -> str:
        return f"CAST({emit_cols[name].replace('_rawtext', raw)} AS {_TYPES[name]})"

    target = plan.target_columns()
    inner = f"SELECT *, {bad} AS _bad FROM (SELECT r.*, {parse} FROM ({_reader_sql(kind, unwritten)}) AS r) AS p"
    if len(plan.emits) == 1:
        cols = ", ".join(f"{typed(plan.emits[0].columns, n)} AS {ident(n)}" for n in target)
        return (
            f"SELECT $file_no AS _file_no, _k, 0 AS _sub, $offset + _k * {_STRIDE} AS _ord, "
            f"_bad, CASE WHEN _bad IS NOT NULL THEN {raw} END AS _raw, {cols} FROM ({inner}) AS v"
        )
    structs = []
    for i, emit in enumerate(plan.emits):
        fields = ", ".join(f"{lit(n)}: {typed(emit.columns, n)}" for n in target)
        structs.append(f"{{'_sub': {i}, '_keep': {emit.keep}, {fields}}}")
    lst = "[" + ", ".join(structs) + "]"
    picked = (
        f"CASE WHEN _bad IS NULL THEN list_filter({lst}, lambda x: x._keep) ELSE [{structs[0]}] END"
    )
    cols = ", ".join(f"_e.{ident(n)} AS {ident(n)}" for n in target)
    return (
        f"SELECT $file_no AS _file_no, _k, _e._sub AS _sub, $offset + _k * {_STRIDE} + _e._sub "
        f"AS _ord, _bad, _raw, {cols} FROM (SELECT _k, _bad, "
        f"CASE WHEN _bad IS NOT NULL THEN {raw} END AS _raw, unnest({picked}) AS _e "
        f"FROM ({inner}) AS v) AS w"
    )


def _stage_ddl(name: str, target_cols: Sequence[str]) -> str:
    cols = ", ".join(f"{ident(n)} {_TYPES[n]}" for n in target_cols)
    return (
        f"CREATE OR REPLACE TEMP TABLE {name} (_file_no INTEGER, _k BIGINT, _sub INTEGER, "
        f"_ord BIGINT, _bad {_BAD}, _raw VARCHAR, {cols})"
    )


@dataclass(frozen=True, slots=True)
class IngestProgress:
    """Where a run is: file ``file_no`` of ``files`` (``path``), and how many bytes of the
    run's files are done (finished files plus DuckDB's estimate for the current one)."""

    path: str
    file_no: int
    files: int
    bytes_done: int
    bytes_total: int


Progress = Callable[[IngestProgress], None]
#: Seconds between two looks at DuckDB's progress of the running statement.
_POLL_SECONDS = 0.25


def _advance(progress: Progress, start: IngestProgress, size: int, fraction: float) -> None:
    """Report ``fraction`` of the current file (of ``size`` bytes) done."""
    progress(dataclasses.replace(start, bytes_done=start.bytes_done + int(fraction * size)))


@contextmanager
def _watch(
    con: duckdb.DuckDBPyConnection, report: Callable[[float], None] | None
) -> Iterator[None]:
    """Call ``report(fraction)`` from a helper thread while the statement run in the block
    advances (DuckDB's ``query_progress``: the share of the input scanned)."""
    if report is None:
        yield
        return
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(_POLL_SECONDS):
            pct = con.query_progress()
            if pct >= 0:  # -1: no statement running (yet)
                report(min(pct, 100.0) / 100.0)

    thread = threading.Thread(target=poll, name="jl-ingest-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def ingest(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[SourceSpec],
    *,
    run_id: str | None = None,
    now: dt.datetime | None = None,
    after: Callable[[duckdb.DuckDBPyConnection], Any] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Ingest ``specs`` into the store behind ``con`` in one atomic run.

    ``now`` (naive UTC, default: the clock) bounds plausible times; ``after`` runs inside
    the transaction once events are stored (identity stitching); ``progress`` receives an
    :class:`IngestProgress` before each file and, while a file is read, a few times a second
    as DuckDB advances through it (by bytes, so large files move the bar). Raises :class:`IngestError` for a file that cannot be read; then
    nothing is stored and a ``failed`` row is logged.
    """
    run_id = (
        run_id or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    )
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    now = now or started
    max_ts = now + dt.timedelta(hours=FUTURE_TOLERANCE_HOURS)
    resolved = [(spec, expand_paths(spec.paths)) for spec in specs]
    # Read headers and build plans before touching the store: a wrong file fails fast.
    planned = [[(path, *_plan_for(con, spec, path)) for path in files] for spec, files in resolved]
    con.execute("BEGIN TRANSACTION")
    try:
        result = _run(con, resolved, planned, run_id, started, max_ts, progress)
        if after is not None:
            after(con)
        con.execute("COMMIT")
    except BaseException as exc:
        con.execute("ROLLBACK")
        _log_failure(con, run_id, specs, started, exc)
        if isinstance(exc, duckdb.Error):
            raise IngestError(f"ingestion failed, nothing was stored: {exc}") from exc
        raise
    finally:
        for table in (
            "_jl_stage_crm",
            "_jl_files",
            "_jl_rej",
            "_jl_good",
            "_jl_bad",
            "_jl_raw",
            "_jl_pick",
            "_jl_nlk",
            "_jl_nl",
        ):
            con.execute(f"DROP TABLE IF EXISTS temp.{table}")
    return result


def _log_failure(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    specs: Sequence[SourceSpec],
    started: dt.datetime,
    exc: BaseException,
) -> None:
    message = str(exc) or type(exc).__name__
    for spec in specs:
        con.execute(
            "INSERT INTO ingest_log VALUES ($run, $source, $format, $files, 0, 0, 0, 0, 0, "
            "$started, now()::TIMESTAMP, 'failed', $message)",
            {
                "run": run_id,
                "source": spec.source_name,
                "format": spec.format,
                "files": ";".join(spec.paths),
                "started": started,
                "message": message[:2000],
            },
        )


def _events_insert(plan: Plan, kind: ReaderKind, columns: dict[str, str], anti: bool) -> str:
    """The statement writing a file's good rows into ``events`` (parameters: those of
    :func:`file_query` plus $base and $run); with ``anti``, events whose ``event_id`` is
    already stored (earlier runs or earlier files of this run) are left out.

    Run it with DuckDB's filter pushdown off (:func:`_no_pushdown`): pushed below the
    projections, ``_bad IS NULL`` would inline the parse expressions into the filter and
    evaluate the time parsing once per check, then again for the stored column.
    """
    exprs = ", ".join(
        "$base + s._ord"  # run base + record ordinal: independent of write order
        if c.name == "seq"
        else "$run"
        if c.name == "ingest_run"
        else "NULL"
        if c.name == "customer_id"
        else f"s.{ident(c.name)}"
        for c in EVENT_COLUMNS
    )
    anti_join = " ANTI JOIN events AS e ON e.event_id = s.event_id" if anti else ""
    return (
        f"INSERT INTO events ({_EVENT_COLS}) SELECT {exprs} "
        f"FROM ({file_query(plan, kind, columns)}) AS s{anti_join} WHERE s._bad IS NULL"
    )


def _bad_insert(plan: Plan, kind: ReaderKind, columns: dict[str, str], unwritten: bool) -> str:
    """The statement copying a file's bad records (index, check result, raw) to ``_jl_bad``.

    A second read of the file, but it computes only what the checks need (DuckDB prunes the
    canonical columns) and writes only the failures; with ``unwritten``, it parses and
    checks only the records none of whose events was written (bad ones, ids already stored
    and multi-event records that emitted nothing), copied to ``_jl_pick`` first.
    """
    return (
        "INSERT INTO _jl_bad SELECT _file_no, _k, _bad, _raw "
        f"FROM ({file_query(plan, kind, columns, unwritten)}) AS s WHERE s._bad IS NOT NULL"
    )


def _pick_unwritten(
    con: duckdb.DuckDBPyConnection,
    kind: ReaderKind,
    params: dict[str, object],
    base: int,
    offset: int,
    records: int,
) -> int:
    """Copy the records of the file just written none of whose events is in ``events``
    (bad ones, ids already stored, multi-event records that emitted nothing) to the
    temporary ``_jl_pick``; returns how many.

    One aggregate over the file's ``seq`` values (the zone maps skip earlier rows) gives a
    bit string of the written record indexes 1..``records``; its zeros (found with NumPy
    on the text of the bits: a byte per record) are joined to the file's rows. The copy
    makes the few picked rows dense again, so the checks run on full vectors instead of on
    thousands of nearly empty ones. (A filter ``get_bit(<the bits>, index)`` on the scan
    costs as much in the end: DuckDB copies the constant bit string into every vector.)
    """
    import numpy as np

    bits = con.execute(
        f"SELECT CAST(bitstring_agg(CAST((seq - $base - $offset) // {_STRIDE} AS BIGINT), "
        "1, $n) AS VARCHAR) FROM events WHERE seq >= $base + $offset",
        {"base": base, "offset": offset, "n": records},
    ).fetchall()[0][0]
    flags = np.frombuffer(str(bits).encode("ascii"), dtype=np.uint8)
    missing = {"k": np.flatnonzero(flags == ord("0")) + 1}
    con.register("_jl_unwritten", missing)
    try:
        rows = _records_sql(kind)
        sql = (
            f"CREATE OR REPLACE TEMP TABLE _jl_pick AS SELECT r.* FROM ({rows}) AS r "
            "SEMI JOIN _jl_unwritten AS u ON r._k = u.k"
        )
        con.execute(sql, _bind(sql, params))
    finally:
        con.unregister("_jl_unwritten")
    return len(missing["k"])


@contextmanager
def _no_pushdown(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block without filter pushdown and without keeping insertion order (seq and
    line come from explicit ordinals, so DuckDB may write in parallel in any order)."""
    con.execute("SET disabled_optimizers = 'filter_pushdown'")
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute("RESET disabled_optimizers")
        con.execute("RESET preserve_insertion_order")


def _bind(sql: str, params: dict[str, object]) -> dict[str, object]:
    """The parameters ``sql`` uses (DuckDB refuses unused named parameters)."""
    return {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}


def _share(
    report: Callable[[float], None] | None, lo: float, hi: float
) -> Callable[[float], None] | None:
    """``report`` for a statement doing the ``lo``..``hi`` share of a file's work."""
    if report is None:
        return None
    return lambda fraction: report(lo + (hi - lo) * fraction)


def _run(
    con: duckdb.DuckDBPyConnection,
    resolved: list[tuple[SourceSpec, list[Path]]],
    planned: list[list[tuple[Path, Plan, ReaderKind, dict[str, str]]]],
    run_id: str,
    started: dt.datetime,
    max_ts: dt.datetime,
    progress: Progress | None,
) -> RunResult:
    con.execute(
        _stage_ddl("_jl_stage_crm", ("customer_id", *(c.name for c in CRM_COLUMNS), "attributes"))
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _jl_files (file_no INTEGER, spec_no INTEGER, path VARCHAR, "
        "source VARCHAR, header INTEGER, target VARCHAR, ord_lo BIGINT, ord_hi BIGINT, "
        "records BIGINT)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _jl_bad (_file_no INTEGER, _k BIGINT, _bad {_BAD}, "
        "_raw VARCHAR)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _jl_nlk (_file_no INTEGER, _k BIGINT, nl BIGINT)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _jl_rej (file_no INTEGER, line BIGINT, field VARCHAR, "
        "reason VARCHAR, raw VARCHAR, message VARCHAR)"
    )
    total = sum(len(files) for _, files in resolved)
    sizes = [f.stat().st_size for _, files in resolved for f in files]
    bytes_total, bytes_before = sum(sizes), 0
    if progress is not None:
        # DuckDB tracks progress only with its bar enabled; printing stays off.
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
        con.execute("SET progress_bar_time = 0")
    file_no = 0
    offset = 0
    # seq of this run's events = base + record ordinal: rows with seq >= base are this run's.
    base = int(con.execute("SELECT coalesce(max(seq), 0) + 1 FROM events").fetchall()[0][0])
    has_events = bool(con.execute("SELECT EXISTS (SELECT 1 FROM events)").fetchall()[0][0])
    for spec_no, ((spec, _), plans) in enumerate(zip(resolved, planned, strict=True)):
        for path, plan, kind, columns in plans:
            file_no += 1
            size = sizes[file_no - 1]
            report: Callable[[float], None] | None = None
            if progress is not None:
                start = IngestProgress(str(path), file_no, total, bytes_before, bytes_total)
                report = functools.partial(_advance, progress, start, size)
                report(0.0)
            params: dict[str, object] = {
                "file": str(path),
                "source": spec.source_name,
                "file_no": file_no,
                "offset": offset,
                "max_ts": max_ts,
                "base": base,
                "run": run_id,
                **plan.params,
            }
            if kind == "csv":
                params["cols"] = dict.fromkeys(columns, "VARCHAR")
                params["delim"] = plan.csv_options.get("delim", ",")
                params["quote"] = plan.csv_options.get("quote", '"')
            load = _load_sql(kind)
            rowid0 = 0
            if plan.target == "crm":
                sql = f"INSERT INTO _jl_stage_crm BY NAME {file_query(plan, kind, columns)}"
            else:
                sql = _events_insert(plan, kind, columns, anti=has_events)
            try:
                if load is not None:
                    # order preserved (the default): rowid is the record index
                    with _watch(con, _share(report, 0.0, 0.5)):
                        con.execute(load, _bind(load, params))
                    _collect_rejects(con, file_no, kind)
                    n = con.execute(
                        "SELECT count(*), count(*) FILTER (WHERE _raw IS NOT NULL), "
                        "coalesce(min(rowid), 0) FROM _jl_raw"
                        if kind == "jsonl"
                        else "SELECT count(*), count(*), coalesce(min(rowid), 0) FROM _jl_raw"
                    ).fetchall()[0]
                    rowid0 = int(n[2])
                    params["rowid0"] = rowid0
                else:
                    n = con.execute(
                        "SELECT count(*), count(*) FROM read_parquet($file)", {"file": str(path)}
                    ).fetchall()[0]
                with (
                    _no_pushdown(con),
                    _watch(con, _share(report, 0.0 if load is None else 0.5, 0.9)),
                ):
                    written = con.execute(sql, _bind(sql, params)).fetchall()[0][0]
                # CRM bad rows are in their stage; when every record of an events file was
                # written, none is bad and the second read is skipped
                if plan.target == "events" and not (
                    len(plan.emits) == 1 and not has_events and written == n[1]
                ):
                    # only records none of whose events was written can be bad
                    unwritten = written > 0 and int(n[0]) > 0
                    picked = (
                        _pick_unwritten(con, kind, params, base, offset, int(n[0]))
                        if unwritten
                        else None
                    )
                    if picked != 0:
                        bad = _bad_insert(plan, kind, columns, unwritten)
                        with _no_pushdown(con), _watch(con, _share(report, 0.9, 1.0)):
                            con.execute(bad, _bind(bad, params))
            except duckdb.Error as exc:
                raise IngestError(f"{path}: cannot be ingested as {plan.format}: {exc}") from exc
            has_events = has_events or plan.target == "events"
            bytes_before += size
            rej = con.execute(
                "SELECT count(*) FROM _jl_rej WHERE file_no = $f", {"f": file_no}
            ).fetchall()
            if kind == "csv":
                _newlines(con, file_no, path, columns, rowid0, int(n[0]), int(rej[0][0]))
            ord_lo = offset
            offset += (int(n[0]) + int(rej[0][0]) + 1) * _STRIDE
            con.execute(
                "INSERT INTO _jl_files VALUES ($f, $s, $p, $src, $h, $t, $lo, $hi, $n)",
                {
                    "f": file_no,
                    "s": spec_no,
                    "p": str(path),
                    "src": spec.source_name,
                    "h": 1 if kind == "csv" else 0,
                    "t": plan.target,
                    "lo": ord_lo,
                    "hi": offset,
                    "n": int(n[1]),
                },
            )
    con.execute("DROP TABLE IF EXISTS temp._jl_raw")
    con.execute("SET preserve_insertion_order = false")
    try:
        _quarantine(con, run_id)
        _dedupe_run(con, base)
        _store_crm(con, run_id)
    finally:
        con.execute("RESET preserve_insertion_order")
    finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    results = []
    for spec_no, (spec, files) in enumerate(resolved):
        multi = any(len(plan.emits) > 1 for _, plan, _, _ in planned[spec_no])
        counts = _counts(con, spec_no, base, multi)
        res = SourceResult(
            source=spec.source_name,
            format=spec.format if spec.mapping is None else "mapping",
            files=tuple(str(f) for f in files),
            **counts,
        )
        results.append(res)
        con.execute(
            "INSERT INTO ingest_log VALUES ($run, $source, $format, $files, $read, $stored, "
            "$quarantined, $duplicate, $events, $started, $finished, 'ok', NULL)",
            {
                "run": run_id,
                "source": res.source,
                "format": res.format,
                "files": ";".join(res.files),
                "read": res.rows_read,
                "stored": res.rows_stored,
                "quarantined": res.rows_quarantined,
                "duplicate": res.rows_duplicate,
                "events": res.events_stored,
                "started": started,
                "finished": finished,
            },
        )
    return RunResult(run_id, tuple(results))


def _collect_rejects(con: duckdb.DuckDBPyConnection, file_no: int, kind: ReaderKind) -> None:
    """Move the rows DuckDB's CSV reader rejected (bad UTF-8, wrong column count) to _jl_rej."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_jl_rejects'"
    ).fetchall()
    if not exists[0][0]:
        return
    malformed = Reason.BROKEN_JSON if kind == "jsonl" else Reason.MALFORMED_ROW
    con.execute(
        "INSERT INTO _jl_rej SELECT $f, line, "
        "CASE WHEN $jsonl THEN NULL ELSE any_value(column_name ORDER BY column_idx) END, "
        "CASE WHEN bool_or(error_type = 'INVALID ENCODING') THEN $enc ELSE $bad END, "
        "any_value(csv_line), string_agg(error_message, '; ') "
        "FROM _jl_rejects GROUP BY line",
        {
            "f": file_no,
            "jsonl": kind == "jsonl",
            "enc": Reason.BAD_ENCODING.value,
            "bad": malformed.value,
        },
    )
    con.execute("DROP TABLE IF EXISTS temp._jl_rejects")
    con.execute("DROP TABLE IF EXISTS temp._jl_scans")


def _physical_lines(path: Path) -> int | None:
    """Lines of an uncompressed text file (a last line without a line feed counts too);
    None for a compressed file. A count of line-feed bytes, not a parse: ~0.03 s of CPU
    per 100 MB once the file is cached."""
    if path.name.lower().endswith(_COMPRESSION):
        return None
    import numpy as np

    buf = bytearray(1 << 24)
    view = np.frombuffer(buf, dtype=np.uint8)
    lines, last = 0, 10
    with path.open("rb", buffering=0) as f:
        while got := f.readinto(buf):
            lines += int(np.count_nonzero(view[:got] == 10))
            last = buf[got - 1]
    return lines + (last != 10)


def _newlines(
    con: duckdb.DuckDBPyConnection,
    file_no: int,
    path: Path,
    columns: dict[str, str],
    rowid0: int,
    records: int,
    rej: int,
) -> None:
    """Note the CSV records of ``file_no`` whose quoted fields hold line breaks (``_jl_nlk``:
    record index, breaks), so that quarantine lines are physical lines. Only for a file with
    quarantined or rejected records, while its text is in ``_jl_raw``, and not when the
    file has exactly one line per record (header, ``records`` read and ``rej`` rejected):
    extra lines (breaks inside quotes, blank lines) only add to that count."""
    bad = con.execute(
        "SELECT (SELECT count(*) FROM _jl_bad WHERE _file_no = $f) + "
        "(SELECT count(*) FROM _jl_stage_crm WHERE _file_no = $f AND _bad IS NOT NULL)",
        {"f": file_no},
    ).fetchall()[0][0]
    if not bad and not rej:
        return
    if _physical_lines(path) == 1 + records + rej:
        return
    cols = [ident(c) for c in columns]
    # contains() first: a cheap scan; breaks are counted only on the few rows that have any
    has = " OR ".join(f"contains({c}, chr(10))" for c in cols)
    count = " + ".join(
        f"coalesce(length({c}) - length(replace({c}, chr(10), '')), 0)" for c in cols
    )
    con.execute(
        f"INSERT INTO _jl_nlk SELECT $f, rowid - $rowid0 + 1, {count} FROM _jl_raw WHERE {has}",
        {"f": file_no, "rowid0": rowid0},
    )


# Line of a record: its index among the rows the reader kept, shifted by the header and by
# the rejected lines before it (rejected rows are absent from the stage). With rejected
# lines r_1 < … < r_m at data positions q_j = r_j − header, the k-th kept row sits at
# position k + #{j : q_j − j < k}; an ASOF join finds that count. (DuckDB's own reject line
# numbers count records the same way.)
_LINES = """
WITH rej AS (
    SELECT r.file_no, r.line - f.header - row_number() OVER (PARTITION BY r.file_no ORDER BY r.line) AS t,
           row_number() OVER (PARTITION BY r.file_no ORDER BY r.line) AS n
    FROM _jl_rej AS r JOIN _jl_files AS f USING (file_no)
),
steps AS (SELECT file_no, t, max(n) AS n FROM rej GROUP BY file_no, t)
SELECT s.*, s._k + f.header + coalesce(st.n, 0) AS line
FROM ({rows}) AS s
JOIN _jl_files AS f ON f.file_no = s._file_no
ASOF LEFT JOIN steps AS st ON st.file_no = s._file_no AND s._k > st.t
"""
# Line breaks inside quoted CSV fields of the records before a record's line: added to it,
# the record line becomes the physical line where the record starts.
_BREAKS = """
CREATE OR REPLACE TEMP TABLE _jl_nl AS
SELECT _file_no AS file_no, line, nl FROM ({lines}) AS k
UNION ALL
SELECT r.file_no, r.line, length(r.raw) - length(replace(r.raw, chr(10), ''))
FROM _jl_rej AS r JOIN _jl_files AS f USING (file_no)
WHERE f.header = 1 AND contains(r.raw, chr(10))
"""
_BEFORE = (
    "(SELECT coalesce(sum(n.nl), 0) FROM _jl_nl AS n WHERE n.file_no = {f} AND n.line < {line})"
)


def _quarantine(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    con.execute(_BREAKS.format(lines=_LINES.format(rows="SELECT * FROM _jl_nlk")))
    for stage in ("_jl_bad", "_jl_stage_crm"):
        rows = f"SELECT _file_no, _k, _bad, _raw FROM {stage} WHERE _bad IS NOT NULL"
        con.execute(
            "INSERT INTO quarantine SELECT $run, f.source, f.path, "
            f"b.line + {_BEFORE.format(f='b._file_no', line='b.line')}, b._bad.field, "
            "b._bad.value, b._bad.reason, b._bad.expected, b._raw "
            f"FROM ({_LINES.format(rows=rows)}) AS b JOIN _jl_files AS f ON f.file_no = b._file_no "
            "ORDER BY b._file_no, b.line",
            {"run": run_id},
        )
    con.execute(
        "INSERT INTO quarantine SELECT $run, f.source, f.path, "
        f"r.line + {_BEFORE.format(f='r.file_no', line='r.line')}, r.field, NULL, r.reason, "
        "CASE r.reason WHEN 'bad_encoding' THEN 'UTF-8 text' "
        "WHEN 'broken_json' THEN 'one JSON object per line' "
        "ELSE 'the same number of columns as the header' END, r.raw "
        "FROM _jl_rej AS r JOIN _jl_files AS f USING (file_no) ORDER BY r.file_no, r.line",
        {"run": run_id},
    )


_EVENT_COLS = ", ".join(ident(c.name) for c in EVENT_COLUMNS)
# seq is the run base plus the record ordinal, so it does not depend on write order.
_EVENT_EXPRS = ", ".join(
    "$base + s._ord"
    if c.name == "seq"
    else "$run"
    if c.name == "ingest_run"
    else "NULL"
    if c.name == "customer_id"
    else f"s.{ident(c.name)}"
    for c in EVENT_COLUMNS
)


def _dedupe_run(con: duckdb.DuckDBPyConnection, base: int) -> None:
    """Keep only the first occurrence (smallest seq) of an event_id repeated inside one file.

    Each file's insert already leaves out ids stored before it (earlier runs, earlier files
    of the run). Repeats inside a file are rare, so rather than a window over every row (a
    sort of the whole run), one aggregate over the 64-bit hashes of the run's ids checks
    whether there can be any, and only then are the later occurrences deleted.
    """
    maybe = con.execute(
        "SELECT count(*) - count(DISTINCT hash(event_id)) FROM events WHERE seq >= $base",
        {"base": base},
    ).fetchall()[0][0]
    if maybe:
        con.execute(
            "DELETE FROM events WHERE seq >= $base AND seq IN (SELECT seq FROM events "
            "WHERE seq >= $base QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY seq) > 1)",
            {"base": base},
        )


def _run_records(
    con: duckdb.DuckDBPyConnection, spec_no: int, base: int, multi: bool
) -> tuple[int, int]:
    """(records, events) of this run's stored events of one source.

    ``(seq - base) // stride`` names an event's record (counted only when a record may yield
    several events), and a source's files occupy one contiguous ordinal range (``ord_lo``..
    ``ord_hi`` of its files).
    """
    records = f"count(DISTINCT (seq - $base) // {_STRIDE})" if multi else "count(*)"
    row = con.execute(
        f"""
        WITH span AS (SELECT min(ord_lo) AS lo, max(ord_hi) AS hi FROM _jl_files
                      WHERE spec_no = $s AND target = 'events')
        SELECT {records}, count(*) FROM events
        WHERE seq >= $base + (SELECT lo FROM span) AND seq < $base + (SELECT hi FROM span)
        """,
        {"s": spec_no, "base": base},
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def _store_crm(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Upsert CRM records: the last row of each customer in the run, unless unchanged."""
    attrs = [c.name for c in CRM_COLUMNS] + ["attributes"]
    same = " AND ".join(f"c.{ident(a)} IS NOT DISTINCT FROM s.{ident(a)}" for a in attrs)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _jl_good AS SELECT s._ord, s._file_no, s._k, "
        f"(s._ord = max(s._ord) OVER (PARTITION BY s.customer_id) AND NOT EXISTS "
        f"(SELECT 1 FROM crm_records AS c WHERE c.customer_id = s.customer_id AND {same})) "
        "AS is_new FROM _jl_stage_crm AS s WHERE s._bad IS NULL"
    )
    cols = ", ".join(ident(a) for a in ["customer_id", *attrs])
    con.execute(
        f"INSERT OR REPLACE INTO crm_records ({cols}, ingest_run) SELECT {cols}, $run "
        "FROM _jl_stage_crm AS s SEMI JOIN (SELECT _ord FROM _jl_good WHERE is_new) AS g "
        "ON g._ord = s._ord",
        {"run": run_id},
    )


def _counts(con: duckdb.DuckDBPyConnection, spec_no: int, base: int, multi: bool) -> dict[str, int]:
    """Record counts of one source: read = stored + quarantined + duplicate.

    A record is good when it passed the checks (the records the reader gave, less the bad
    ones), and stored when at least one of its events (or its CRM row) was new.
    """
    stored_events, events = _run_records(con, spec_no, base, multi)
    row = con.execute(
        """
        WITH files AS (SELECT file_no, target, records FROM _jl_files WHERE spec_no = $s),
        crm AS (
            SELECT count(*) AS good, count(*) FILTER (WHERE is_new) AS stored
            FROM (SELECT _file_no, _k, bool_or(is_new) AS is_new FROM _jl_good
                  WHERE _file_no IN (SELECT file_no FROM files) GROUP BY _file_no, _k)
        ),
        bad AS (
            SELECT count(*) AS n FROM (
                SELECT _file_no, _k FROM _jl_bad WHERE _file_no IN (SELECT file_no FROM files)
                UNION ALL
                SELECT _file_no, _k FROM _jl_stage_crm WHERE _bad IS NOT NULL
                    AND _file_no IN (SELECT file_no FROM files)
            )
        ),
        bad_events AS (
            SELECT count(*) AS n FROM _jl_bad WHERE _file_no IN (SELECT file_no FROM files)
        ),
        rej AS (SELECT count(*) AS n FROM _jl_rej WHERE file_no IN (SELECT file_no FROM files))
        SELECT (SELECT good FROM crm), (SELECT stored FROM crm),
               (SELECT n FROM bad) + (SELECT n FROM rej),
               (SELECT coalesce(sum(records), 0) FROM files WHERE target = 'events')
                   - (SELECT n FROM bad_events)
        """,
        {"s": spec_no},
    ).fetchall()[0]
    crm_good, crm_stored, quarantined, good_events = (int(x) for x in row)
    good = good_events + crm_good
    stored = stored_events + crm_stored
    return {
        "rows_read": good + quarantined,
        "rows_stored": stored,
        "rows_quarantined": quarantined,
        "rows_duplicate": good - stored,
        "events_stored": events,
    }
