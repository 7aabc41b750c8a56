"""journeylens.engine layer (see ARCHITECTURE.md): the frame layer over DuckDB, Polars, Spark."""

from journeylens.engine.frames import (
    CUSTOMER,
    ENGINES,
    EVENT,
    PROP_NUM_PREFIX,
    PROP_PREFIX,
    SEQ,
    SESSION,
    TIME,
    ColumnRoles,
    Engine,
    FrameError,
    cache,
    engine_of,
    extract_properties,
    prop_column,
    to_lazy,
)

__all__ = [
    "CUSTOMER",
    "ENGINES",
    "EVENT",
    "PROP_NUM_PREFIX",
    "PROP_PREFIX",
    "SEQ",
    "SESSION",
    "TIME",
    "ColumnRoles",
    "Engine",
    "FrameError",
    "cache",
    "engine_of",
    "extract_properties",
    "prop_column",
    "to_lazy",
]
