"""The canonical event schema: the one definition every adapter, the store and analytics share.

Column names, DuckDB types, controlled vocabularies, score ranges and quarantine reasons
live here and nowhere else (docs/sources.md and ARCHITECTURE.md describe the same contract
in prose).

>>> [c.name for c in EVENT_COLUMNS][:3]
['event_id', 'occurred_at', 'seq']
>>> SCORE_RANGES["nps"]
(0.0, 10.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a store table: its name, DuckDB type and meaning."""

    name: str
    sql_type: str
    meaning: str


#: The canonical ``events`` table, in column order.
EVENT_COLUMNS: Final[tuple[Column, ...]] = (
    Column(
        "event_id",
        "VARCHAR",
        "unique per event: '<source>:<source id>' or '<source>:h:<md5 of the raw record>'",
    ),
    Column("occurred_at", "TIMESTAMP", "when it happened, naive UTC, microseconds"),
    Column(
        "seq", "BIGINT", "ingestion sequence, increasing across runs; breaks ties in occurred_at"
    ),
    Column("source", "VARCHAR", "the system the event came from (web, app, sales, …)"),
    Column("event_name", "VARCHAR", "e.g. page_view, purchase, nps_response"),
    Column("channel", "VARCHAR", "controlled vocabulary CHANNELS"),
    Column("anonymous_id", "VARCHAR", "anonymous id (browser cookie, app install, social handle)"),
    Column("user_id", "VARCHAR", "the company's own customer id (CRM id space)"),
    Column("device_id", "VARCHAR", "device id"),
    Column("customer_id", "VARCHAR", "stitched identity (set by stitching)"),
    Column("session_id", "VARCHAR", "session id supplied by the source"),
    Column("value", "DOUBLE", "revenue, amount, cost or points"),
    Column("score", "DOUBLE", "survey answer, see SCORE_RANGES"),
    Column("score_type", "VARCHAR", "nps, csat or ces"),
    Column("text", "VARCHAR", "verbatim text: survey comment, ticket, social post"),
    Column("properties", "VARCHAR", "JSON object text with everything else"),
    Column("ingest_run", "VARCHAR", "the ingestion run that stored the event"),
)

EVENT_COLUMN_NAMES: Final[tuple[str, ...]] = tuple(c.name for c in EVENT_COLUMNS)

#: Columns an adapter produces (the store adds seq, customer_id and ingest_run).
ADAPTER_COLUMNS: Final[tuple[str, ...]] = tuple(
    n for n in EVENT_COLUMN_NAMES if n not in {"seq", "customer_id", "ingest_run"}
)

#: Controlled vocabulary of ``channel`` (ARCHITECTURE.md, Touchpoint).
CHANNELS: Final[frozenset[str]] = frozenset(
    {
        "web", "app", "email", "social", "ads", "search", "store", "phone", "live_chat",
        "chatbot", "sms", "print", "partner", "other",
    }
)  # fmt: skip

#: Inclusive ranges of survey scores per ``score_type`` (METRICS.md, Survey metrics).
SCORE_RANGES: Final[dict[str, tuple[float, float]]] = {
    "nps": (0.0, 10.0),
    "csat": (1.0, 5.0),
    "ces": (1.0, 7.0),
}

#: Earliest plausible event time; later than ``run start + FUTURE_TOLERANCE`` is impossible too.
EARLIEST_EVENT: Final[str] = "1990-01-01 00:00:00"
FUTURE_TOLERANCE_HOURS: Final[int] = 24


class Reason(StrEnum):
    """Why a record was quarantined (docs/sources.md, Bad records)."""

    BAD_TIMESTAMP = "bad_timestamp"
    MISSING_IDENTITY = "missing_identity"
    OUT_OF_RANGE_SCORE = "out_of_range_score"
    BROKEN_JSON = "broken_json"
    BAD_ENCODING = "bad_encoding"
    UNKNOWN_CURRENCY = "unknown_currency"
    MISSING_FIELD = "missing_field"
    BAD_VALUE = "bad_value"
    MALFORMED_ROW = "malformed_row"


#: Identity types of the identity graph, in the order that picks an event's anchor identity.
IDENTITY_TYPES: Final[tuple[str, ...]] = ("user", "anonymous", "device", "email")

#: CRM attributes stored as typed columns of ``customers`` (extras go to ``attributes`` JSON).
CRM_COLUMNS: Final[tuple[Column, ...]] = (
    Column("email", "VARCHAR", "e-mail address, lower-cased"),
    Column("first_name", "VARCHAR", "first name"),
    Column("birth_year", "INTEGER", "year of birth"),
    Column("generation", "VARCHAR", "e.g. gen_z, millennial, gen_x, boomer"),
    Column("country", "VARCHAR", "ISO 3166 country code"),
    Column("signup_date", "DATE", "date the customer signed up"),
    Column("plan", "VARCHAR", "subscription plan"),
)

#: Active ISO 4217 currency codes (order currencies outside this set are quarantined).
ISO_4217: Final[frozenset[str]] = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWL",
    ]
)
