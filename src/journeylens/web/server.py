"""Server tuning of the web app: how many threads run the (synchronous) request handlers.

FastAPI runs each ``def`` handler in a thread of anyio's pool (40 threads by default).
The map pages are CPU-bound Python (the database is local and quick), so many threads only
take turns on the GIL: fewer threads serve as many requests per second with a shorter
tail. But a handler that waits — a cold analytics page computing over the events, a
writer waiting for SQLite's write lock — holds its thread, and with too few threads every
other page queues behind it. The default stays anyio's; ``journeylens serve --threads N``
(or ``JOURNEYLENS_WEB_THREADS``) changes it — measure with ``bench/bench_web.py
--threads N`` (docs/usage/web.md, Speed).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

#: The environment variable that sets the number of handler threads.
THREADS_ENV = "JOURNEYLENS_WEB_THREADS"


def handler_threads() -> int | None:
    """The number of handler threads asked for in ``JOURNEYLENS_WEB_THREADS`` (a positive
    integer), or ``None`` to keep anyio's default.

    >>> os.environ[THREADS_ENV] = "8"; handler_threads()
    8
    >>> os.environ[THREADS_ENV] = "lots"; handler_threads() is None
    True
    >>> del os.environ[THREADS_ENV]
    """
    raw = os.environ.get(THREADS_ENV, "").strip()
    return max(1, int(raw)) if raw.isdigit() else None


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Size anyio's default thread pool (it only exists inside the running event loop)."""
    threads = handler_threads()
    if threads is not None:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    yield
