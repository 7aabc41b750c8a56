"""journeylens.analytics layer (see ARCHITECTURE.md): the map bound to the data, measured.

Every analytic is written once against narwhals lazy frames and runs on DuckDB (default),
Polars and PySpark. Results are frozen dataclasses with ``.to_frame()`` (a pyarrow table)
and ``.to_dict()`` (plain data for JSON). METRICS.md defines every number.
"""

from journeylens.analytics._common import (
    PATH_END,
    PATH_START,
    AnalyticsError,
    Paths,
    Unit,
    sort_paths,
)
from journeylens.analytics.binding import (
    BindingError,
    Population,
    UnboundSummary,
    bind,
    evaluate_outcomes,
    unbound_summary,
)
from journeylens.analytics.flows import FlowsResult, flows
from journeylens.analytics.funnel import FunnelResult, funnel
from journeylens.analytics.paths import PathsResult, top_paths
from journeylens.analytics.sessions import SessionsResult, sessionize, sessions
from journeylens.analytics.step_matrix import StepMatrixResult, step_matrix
from journeylens.analytics.transitions import TransitionsResult, transitions

__all__ = [
    "PATH_END",
    "PATH_START",
    "AnalyticsError",
    "BindingError",
    "FlowsResult",
    "FunnelResult",
    "Paths",
    "PathsResult",
    "Population",
    "SessionsResult",
    "StepMatrixResult",
    "TransitionsResult",
    "UnboundSummary",
    "Unit",
    "bind",
    "evaluate_outcomes",
    "flows",
    "funnel",
    "sessionize",
    "sessions",
    "sort_paths",
    "step_matrix",
    "top_paths",
    "transitions",
    "unbound_summary",
]
