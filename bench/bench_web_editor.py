"""Timings of the editor's additions, in-process: the editor page, the live rule count, the
PNG / PDF exports and the HTML report, over a workspace with N generated events.

    .venv/bin/python bench/bench_web_editor.py                 # 200,000 events
    .venv/bin/python bench/bench_web_editor.py --events 1000000 --repeat 5

The events are synthetic (customers c0…, event names cycling through the online-course
map's page, order and course events) inserted straight into the workspace's DuckDB store;
the map is the online-course template. Prints p50 and max of ``--repeat`` calls per
request (the first call, cold, separately) and the load average: on a shared machine the
wall-clock figures say as much about the other jobs as about the app.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from journeylens.engine.workspace import Workspace  # noqa: E402
from journeylens.web.app import create_app  # noqa: E402
from journeylens.web.settings import make_settings  # noqa: E402
from journeylens.web.store_backend import StoreBackend  # noqa: E402

NAMES = [
    "page_view",
    "course_viewed",
    "signup_completed",
    "purchase",
    "lesson_started",
    "course_completed",
    "campaign_click",
    "support_ticket_opened",
]


def _events(root: Path, n: int) -> None:
    ws = Workspace.init(root)
    con = ws.store.connect()
    names = "[" + ", ".join(f"'{x}'" for x in NAMES) + "]"
    con.execute(
        "INSERT INTO events (event_id, occurred_at, seq, source, event_name, customer_id,"
        " ingest_run) SELECT 'e' || i, TIMESTAMP '2026-01-01' + to_seconds(i * 7), i, 'web',"
        f" list_extract({names}, (i % {len(NAMES)}) + 1), 'c' || (i % ({n} // 12 + 1)), 'bench'"
        f" FROM range({n}) t(i)"
    )
    con.close()


def _time(label: str, call: Callable[[], object], repeat: int) -> None:
    start = time.perf_counter()
    call()
    cold = time.perf_counter() - start
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        runs.append(time.perf_counter() - start)
    print(
        f"  {label:<28} cold {cold * 1000:8.1f} ms   warm p50 {statistics.median(runs) * 1000:8.1f}"
        f" ms  max {max(runs) * 1000:8.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        start = time.perf_counter()
        _events(root, args.events)
        print(f"{args.events:,} events generated in {time.perf_counter() - start:.1f} s")
        url = f"sqlite:///{Path(tmp) / 'web.db'}"
        backend = StoreBackend.connect(url)
        app = create_app(make_settings(root, url, secret_key="bench"), backend)
        client = TestClient(app, follow_redirects=False)
        token = client.get("/signin").text.split('name="csrf_token" value="', 1)[1].split('"')[0]
        client.post(
            "/signup",
            data={"csrf_token": token, "email": "b@x.test", "password": "correct-horse-1",
                  "name": "B"},
        )  # fmt: skip
        token = client.get("/workspaces").text.split('name="csrf_token" value="', 1)[1]
        token = token.split('"')[0]
        made = client.post(
            "/w/1/maps",
            data={"csrf_token": token, "template": "online-course", "map_id": "oc", "title": "OC"},
        )
        assert made.status_code == 303, made.text
        base = "/w/1/m/oc"

        def get(path: str, **params: str) -> Callable[[], object]:
            def call() -> object:
                answer = client.get(base + path, params=params)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])
                return answer

            return call

        load = os.getloadavg()
        print(
            f"load average before: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} cores)"
        )
        _time("editor page", get("/edit"), args.repeat)
        _time(
            "rule count: 1 rule",
            get("/edit/touchpoint/count", match="- event: purchase"),
            args.repeat,
        )
        _time(
            "rule count: glob + where",
            get("/edit/touchpoint/count",
                match="- event: 'course_*'\n  where:\n    - {field: properties.path, op: glob, value: '/c/*'}\n"),
            args.repeat,
        )  # fmt: skip
        _time("export.png", get("/export.png"), args.repeat)
        _time("export.pdf", get("/export.pdf"), args.repeat)
        _time("report.html", get("/report.html"), args.repeat)
        load = os.getloadavg()
        print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
        backend.engine.dispose()


if __name__ == "__main__":
    main()
