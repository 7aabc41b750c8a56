"""A run killed in the middle (SIGKILL, or Ctrl-C) leaves the store exactly as it was."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tests.events.conftest import FIXTURES, NOW

from journeylens.engine.workspace import Workspace
from journeylens.events.runner import SourceSpec, ingest

# The child ingests a file, and once its events are inserted (inside the transaction, before
# COMMIT) writes a marker and waits to be killed.
CHILD = textwrap.dedent(
    """
    import datetime as dt, pathlib, sys, time
    from journeylens.engine.workspace import Workspace
    from journeylens.events.runner import SourceSpec, ingest
    ws = Workspace.open(pathlib.Path(sys.argv[1]))
    con = ws.store.connect()
    def hang(c):
        assert c.execute("SELECT count(*) FROM events").fetchall()[0][0] > 3
        pathlib.Path(sys.argv[3]).write_text("inserted")
        time.sleep(120)
    ingest(con, [SourceSpec((sys.argv[2],), "segment")], now=dt.datetime(2024, 6, 1), after=hang)
    """
)


def _snapshot(ws: Workspace) -> list[list[tuple[object, ...]]]:
    con = ws.store.connect(read_only=True)
    try:
        return [
            con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("events", "quarantine", "identities", "customers", "crm_records")
        ]
    finally:
        con.close()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_interrupted_run_leaves_store_unchanged(tmp_path: Path, sig: signal.Signals) -> None:
    ws = Workspace.init(tmp_path / "ws")
    con = ws.store.connect()
    ingest(con, [SourceSpec((str(FIXTURES / "orders.csv"),), "orders")], now=NOW)
    con.close()
    before = _snapshot(ws)
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ws.root), str(FIXTURES / "segment.jsonl"), str(marker)],
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
        assert time.monotonic() < deadline, "the child never reached the insert"
        time.sleep(0.05)
    child.send_signal(sig)
    child.wait(timeout=60)
    if child.stderr:
        child.stderr.close()
    assert child.returncode != 0
    assert _snapshot(ws) == before
    con = ws.store.connect(read_only=True)
    statuses = con.execute("SELECT status FROM ingest_log ORDER BY started_at").fetchall()
    con.close()
    # Ctrl-C is caught: rolled back and logged as failed; SIGKILL cannot log anything
    assert statuses == ([("ok",), ("failed",)] if sig == signal.SIGINT else [("ok",)])
