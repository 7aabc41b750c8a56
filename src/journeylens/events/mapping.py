"""Mapping files: how a generic CSV, JSON-lines or Parquet export maps to canonical events.

A mapping is a YAML file validated by :class:`Mapping`, for example::

    format: csv            # csv | jsonl | parquet (default: from the file extension)
    time: {column: ts, format: "%d/%m/%Y %H:%M", timezone: Europe/Paris}
    event_id: id           # optional: else a hash of source + raw record
    event_name: {column: action}          # or {constant: page_view}
    channel: {constant: web}
    identities: {user_id: uid, anonymous_id: cookie, device_id: device, email: mail}
    session_id: sid
    value: amount
    properties: [page, referrer]
    constants: {country: FR}             # added to properties

Column names of JSON-lines files may be dotted paths (``context.page.url``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from journeylens.events.plans import Check, Emit, Plan, ReaderKind
from journeylens.events.schema import ADAPTER_COLUMNS, CHANNELS, SCORE_RANGES, Reason
from journeylens.events.sql import clean, ident, in_list, json_present, ts_is_bad


class MappingError(Exception):
    """A mapping file is unreadable or invalid (the message names the file and field)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnOrConstant(_Strict):
    """A value read from ``column`` or fixed to ``constant`` (exactly one of them)."""

    column: str | None = None
    constant: str | None = None

    @model_validator(mode="after")
    def _one(self) -> ColumnOrConstant:
        if (self.column is None) == (self.constant is None):
            raise ValueError("give exactly one of `column` or `constant`")
        return self


class TimeSpec(_Strict):
    """The event time: its column, text format and time zone (normalised to UTC)."""

    column: str
    #: ``iso8601`` (default), ``epoch_s`` / ``epoch_ms`` / ``epoch_us``, or a strftime format.
    format: str = "iso8601"
    #: IANA zone of times written without an offset.
    timezone: str = "UTC"


class Identities(_Strict):
    """Columns holding identities (at least one must be filled on each row)."""

    user_id: str | None = None
    anonymous_id: str | None = None
    device_id: str | None = None
    email: str | None = None


class Mapping(_Strict):
    """A generic source mapping (see module docstring)."""

    format: Literal["csv", "jsonl", "parquet"] | None = None
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quote: str = Field(default='"', max_length=1)
    time: TimeSpec
    event_id: str | None = None
    event_name: ColumnOrConstant
    channel: ColumnOrConstant | None = None
    identities: Identities
    session_id: str | None = None
    value: str | None = None
    score: str | None = None
    score_type: ColumnOrConstant | None = None
    text: str | None = None
    properties: list[str] = Field(default_factory=list)
    constants: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_identity(self) -> Mapping:
        ids = self.identities
        if not any((ids.user_id, ids.anonymous_id, ids.device_id, ids.email)):
            raise ValueError("identities: name at least one identity column")
        if self.channel and self.channel.constant and self.channel.constant not in CHANNELS:
            raise ValueError(f"channel.constant must be one of {', '.join(sorted(CHANNELS))}")
        return self

    def columns_used(self) -> list[str]:
        """Every source column the mapping reads (each must exist in the file)."""
        cols = [self.time.column]
        for opt in (self.event_name, self.channel, self.score_type):
            if opt is not None and opt.column:
                cols.append(opt.column)
        ids = self.identities
        for c in (ids.user_id, ids.anonymous_id, ids.device_id, ids.email, self.event_id):
            if c:
                cols.append(c)
        for c in (self.session_id, self.value, self.score, self.text):
            if c:
                cols.append(c)
        return [*dict.fromkeys([*cols, *self.properties])]


def _load_yaml(path: Path) -> object:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping file: {exc.strerror}") from exc
    try:
        return YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise MappingError(f"{path}: invalid YAML: {exc}") from exc


def read_mapping(path: Path) -> Mapping:
    """Read and validate a YAML mapping file; errors name the file and the field."""
    data = _load_yaml(path)
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise MappingError(f"{path}: invalid mapping: {problems}") from exc


_NUMBER_TYPES = frozenset(
    [
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
        "FLOAT",
        "REAL",
        "DOUBLE",
        "DECIMAL",
    ]
)


def _numeric(sql_type: str | None) -> bool:
    """Whether a Parquet column of ``sql_type`` holds plain numbers (not INTERVAL, lists…).

    >>> [_numeric(t) for t in ("BIGINT", "DECIMAL(18,3)", "INTERVAL", "INTEGER[]", None)]
    [True, True, False, False, False]
    """
    return (sql_type or "").upper().split("(")[0].strip() in _NUMBER_TYPES


def plan_mapping(
    mapping: Mapping, kind: ReaderKind, column_types: dict[str, str], path: Path
) -> Plan:
    """The plan for one file read with ``mapping``; ``column_types`` are the file's columns
    (for JSON lines: empty, columns are paths into each object)."""
    params: dict[str, object] = {}

    def param(value: object) -> str:
        name = f"m{len(params)}"
        params[name] = value
        return f"${name}"

    if kind != "jsonl":
        missing = [c for c in mapping.columns_used() if c not in column_types]
        if missing:
            raise MappingError(
                f"{path}: columns {', '.join(missing)} named by the mapping are not in the file "
                f"(found: {', '.join(list(column_types)[:30])})"
            )

    def raw(col: str) -> str:
        """The column as it is in the file (typed for Parquet)."""
        if kind == "jsonl":
            return f"json_extract_string(_j, {param('$.' + col)})"
        return ident(col)

    def text(col: str | None) -> str:
        if col and _numeric(column_types.get(col)):
            return f"CAST({ident(col)} AS VARCHAR)"  # a number's text: never blank or padded
        return clean(raw(col)) if col else "NULL"

    def col_or_const(spec: ColumnOrConstant | None, default: str = "NULL") -> str:
        if spec is None:
            return default
        return text(spec.column) if spec.column else param(spec.constant)

    tcol = mapping.time.column
    ttype = column_types.get(tcol, "VARCHAR").upper()
    fmt = mapping.time.format
    tz = param(mapping.time.timezone)
    parse: list[tuple[str, str]] = [("_p_ts_raw", text(tcol))]
    if ttype.startswith("TIMESTAMP WITH TIME ZONE"):
        ts = f"timezone('UTC', {ident(tcol)})"
    elif ttype.startswith("TIMESTAMP"):
        ts = f"timezone('UTC', timezone({tz}, CAST({ident(tcol)} AS TIMESTAMP)))"
    elif fmt in ("epoch_s", "epoch_ms", "epoch_us"):
        scale = {"epoch_s": "1000000", "epoch_ms": "1000", "epoch_us": "1"}[fmt]
        ts = f"make_timestamp(TRY_CAST(TRY_CAST(_p_ts_raw AS DOUBLE) * {scale} AS BIGINT))"
    elif fmt == "iso8601":
        # an explicit offset wins; otherwise the time is local to the declared zone
        # (a `Z` suffix first: a plain TIMESTAMP cast reads it ~3x faster, same instant)
        ts = (
            "CASE WHEN suffix(_p_ts_raw, 'Z') THEN TRY_CAST(_p_ts_raw AS TIMESTAMP) "
            "WHEN regexp_matches(_p_ts_raw, '([+-]\\d\\d:?\\d\\d|Z)$') "
            "THEN timezone('UTC', TRY_CAST(_p_ts_raw AS TIMESTAMPTZ)) "
            f"ELSE timezone('UTC', timezone({tz}, TRY_CAST(_p_ts_raw AS TIMESTAMP))) END"
        )
    elif "%z" in fmt or "%Z" in fmt:
        ts = f"timezone('UTC', TRY_STRPTIME(_p_ts_raw, {param(fmt)}))"
    else:
        ts = f"timezone('UTC', timezone({tz}, TRY_STRPTIME(_p_ts_raw, {param(fmt)})))"
    parse.append(("_p_ts", ts))
    ids = mapping.identities
    id_exprs = {
        "user_id": text(ids.user_id),
        "anonymous_id": text(ids.anonymous_id),
        "device_id": text(ids.device_id),
        "email": f"lower({text(ids.email)})",
    }
    for name, expr in id_exprs.items():
        parse.append((f"_p_{name}", expr))
    parse.append(("_p_name", col_or_const(mapping.event_name)))
    parse.append(("_p_channel", f"lower({col_or_const(mapping.channel, param('other'))})"))
    if mapping.event_id:
        parse.append(("_p_id", text(mapping.event_id)))

    def number(col: str | None) -> str:
        if not col:
            return "NULL"
        if _numeric(column_types.get(col)):
            return f"CAST({ident(col)} AS DOUBLE)"
        return f"TRY_CAST({text(col)} AS DOUBLE)"

    parse.append(("_p_value", number(mapping.value)))
    parse.append(("_p_score", number(mapping.score)))
    parse.append(("_p_score_type", f"lower({col_or_const(mapping.score_type)})"))
    used_ids = [k for k, v in ids.model_dump().items() if v]
    checks: list[Check] = []
    if mapping.event_id:
        checks.append(
            Check("_p_id IS NULL", Reason.MISSING_FIELD, mapping.event_id, "NULL", "an event id")
        )
    if mapping.event_name.column:
        checks.append(
            Check(
                "_p_name IS NULL",
                Reason.MISSING_FIELD,
                mapping.event_name.column,
                "NULL",
                "an event name",
            )
        )
    checks += [
        Check(
            "_p_ts_raw IS NULL",
            Reason.MISSING_FIELD,
            tcol,
            "NULL",
            f"a time ({fmt}, zone {mapping.time.timezone})",
        ),
        Check(
            ts_is_bad("_p_ts_raw", "_p_ts"),
            Reason.BAD_TIMESTAMP,
            tcol,
            "_p_ts_raw",
            f"a time ({fmt}, zone {mapping.time.timezone}) between 1990 and one day after the run",
        ),
        Check(
            " AND ".join(f"_p_{k} IS NULL" for k in used_ids),
            Reason.MISSING_IDENTITY,
            "|".join(str(getattr(ids, k)) for k in used_ids),
            "NULL",
            "one of the identity columns " + ", ".join(str(getattr(ids, k)) for k in used_ids),
        ),
    ]
    if mapping.channel is not None and mapping.channel.column:
        # a constant channel is checked once, by the mapping's validation
        checks.append(
            Check(
                f"_p_channel NOT IN {in_list(CHANNELS)}",
                Reason.BAD_VALUE,
                mapping.channel.column,
                "_p_channel",
                "one of " + ", ".join(sorted(CHANNELS)),
            )
        )
    for col, alias in ((mapping.value, "_p_value"), (mapping.score, "_p_score")):
        # a numeric column always casts to a number: nothing to check
        if col and not _numeric(column_types.get(col)):
            checks.append(
                Check(
                    f"{text(col)} IS NOT NULL AND {alias} IS NULL",
                    Reason.BAD_VALUE,
                    col,
                    text(col),
                    "a number",
                )
            )
    if mapping.score:
        ranges = " ".join(
            f"WHEN '{t}' THEN _p_score BETWEEN {lo} AND {hi}"
            for t, (lo, hi) in SCORE_RANGES.items()
        )
        checks.append(
            Check(
                f"_p_score IS NOT NULL AND NOT coalesce(CASE _p_score_type {ranges} END, FALSE)",
                Reason.OUT_OF_RANGE_SCORE,
                mapping.score,
                "_p_score",
                "nps 0–10, csat 1–5 or ces 1–7 (score_type)",
            )
        )
    # key -> value SQL; a later key replaces an earlier one (constants over columns)
    prop_values = {p: text(p) for p in mapping.properties}
    prop_values |= {k: param(v) for k, v in mapping.constants.items()}
    if mapping.identities.email:
        prop_values["email"] = "_p_email"
    props = json_present((param(json.dumps(k)), v) for k, v in prop_values.items())
    cols = dict.fromkeys(ADAPTER_COLUMNS, "NULL")
    cols.update(
        event_id=(
            "$source || ':' || _p_id" if mapping.event_id else "$source || ':h:' || md5(_rawtext)"
        ),
        occurred_at="_p_ts",
        source="$source",
        event_name="_p_name",
        channel="_p_channel",
        anonymous_id="_p_anonymous_id",
        user_id="_p_user_id",
        device_id="_p_device_id",
        session_id=text(mapping.session_id),
        value="_p_value",
        score="_p_score",
        score_type="_p_score_type",
        text=text(mapping.text),
        properties=props,
    )
    kind_name = f"mapping:{kind}"
    return Plan(
        kind_name,
        kind,
        parse,
        checks,
        [Emit(cols)],
        csv_options={"delim": mapping.delimiter, "quote": mapping.quote},
        params=params,
        required_columns=tuple(mapping.columns_used()) if kind == "csv" else (),
    )
