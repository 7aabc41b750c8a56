"""Plain readers of a simulator output folder, written independently of the simulator.

Tests recover planted effects and check dirty records with these: standard-library CSV and
JSON parsing of the raw files, and the ground-truth identity table to stitch customers.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

#: Exact CSV headers of docs/sources.md.
HEADERS = {
    "orders": "order_id,customer_id,email,status,amount,currency,items,created_at,paid_at,cancelled_at,refunded_at",
    "campaigns": "interaction_id,occurred_at,channel,campaign_id,campaign_name,interaction,customer_id,email,anonymous_id,cost",
    "loyalty": "transaction_id,member_id,occurred_at,type,points,tier,reason",
    "surveys": "response_id,submitted_at,customer_id,email,survey_type,score,comment,touchpoint,stage,channel",
    "support": "ticket_id,customer_id,email,channel,category,status,opened_at,resolved_at,subject,body",
    "crm": "customer_id,email,first_name,birth_year,generation,country,signup_date,plan",
}
JSONL = ("web", "app", "social")
CURRENCIES = {"EUR", "USD", "GBP", "CHF", "JPY"}
SCORE_RANGE = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
NOW = datetime(2100, 1, 1, tzinfo=UTC)  # "the future" for files simulated in 2026


def parse_time(text: str) -> datetime:
    """An ISO 8601 timestamp ending in Z."""
    if not text.endswith("Z"):
        raise ValueError(text)
    return datetime.fromisoformat(text[:-1] + "+00:00")


def time_ok(when: datetime) -> bool:
    """Not impossible: from 1990 on and not in the far future (sources.md)."""
    return datetime(1990, 1, 1, tzinfo=UTC) <= when <= NOW + timedelta(days=1)


def files(out: Path, folder: str) -> list[Path]:
    """The part files of one source folder, in order."""
    return sorted((out / folder).glob("part-*"))


def raw_lines(path: Path) -> list[bytes]:
    """The file's lines as bytes (no line ending)."""
    return path.read_bytes().split(b"\n")[:-1]


def problem(folder: str, line: bytes, previous: bytes | None, header: str | None) -> str | None:
    """What is wrong with one line, as a bad-record kind of sources.md, or None if good."""
    if previous is not None and line == previous:
        return "duplicate"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return "bad_encoding"
    if folder in JSONL:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            return "broken_json"
        return _json_problem(folder, obj)
    assert header is not None
    row = dict(zip(header.split(","), next(csv.reader([text])), strict=True))
    return _csv_problem(folder, row)


def _json_problem(folder: str, obj: dict[str, Any]) -> str | None:
    if folder == "web":
        if not obj.get("type") or not obj.get("messageId"):
            return "missing_field"
        try:
            ok = time_ok(parse_time(obj["timestamp"]))
        except (ValueError, TypeError):
            return "bad_timestamp"
        if not ok:
            return "bad_timestamp"
        device = obj.get("context", {}).get("device", {}).get("id")
        if not (obj.get("anonymousId") or obj.get("userId") or device):
            return "missing_identity"
        return None
    if folder == "app":
        if not obj.get("event_name"):
            return "missing_field"
        ts = obj.get("event_timestamp")
        if not isinstance(ts, int) or not time_ok(datetime.fromtimestamp(ts / 1e6, UTC)):
            return "bad_timestamp"
        if not (obj.get("user_pseudo_id") or obj.get("user_id")):
            return "missing_identity"
        return None
    if not obj.get("id"):
        return "missing_field"
    try:
        if not time_ok(parse_time(obj["created_at"])):
            return "bad_timestamp"
    except ValueError:
        return "bad_timestamp"
    if not (obj.get("author_handle") or obj.get("customer_id")):
        return "missing_identity"
    return None


_TIME_COL = {"orders": "created_at", "campaigns": "occurred_at", "loyalty": "occurred_at",
             "surveys": "submitted_at", "support": "opened_at"}  # fmt: skip
_ID_COLS = {"orders": ("customer_id", "email"), "campaigns": ("customer_id", "email", "anonymous_id"),
            "loyalty": ("member_id",), "surveys": ("customer_id", "email"),
            "support": ("customer_id", "email")}  # fmt: skip
_REQUIRED = {"orders": "order_id", "campaigns": "interaction", "loyalty": "type",
             "surveys": "survey_type", "support": "ticket_id"}  # fmt: skip


def _csv_problem(folder: str, row: dict[str, str]) -> str | None:
    if folder == "crm":
        return None if row["customer_id"] and row["email"] else "missing_field"
    if not row[_REQUIRED[folder]]:
        return "missing_field"
    try:
        if not time_ok(parse_time(row[_TIME_COL[folder]])):
            return "bad_timestamp"
    except ValueError:
        return "bad_timestamp"
    if not any(row[c] for c in _ID_COLS[folder]):
        return "missing_identity"
    if folder == "surveys":
        lo, hi = SCORE_RANGE[row["survey_type"]]
        if not lo <= int(row["score"]) <= hi:
            return "out_of_range_score"
    if folder == "orders" and row["currency"] not in CURRENCIES:
        return "unknown_currency"
    return None


@dataclass
class Output:
    """A simulator output folder read into plain Python rows, with identity stitching."""

    root: Path

    def rows(self, folder: str) -> Iterator[dict[str, Any]]:
        """Good rows of a source (CSV dicts or JSON objects); bad lines are skipped."""
        header = HEADERS.get(folder)
        for path in files(self.root, folder):
            previous = None
            for i, line in enumerate(raw_lines(path)):
                if header is not None and i == 0:
                    assert line.decode() == header
                    continue
                if problem(folder, line, previous, header) is None:
                    text = line.decode()
                    if folder in JSONL:
                        yield json.loads(text)
                    else:
                        yield dict(zip(header.split(","), next(csv.reader([text])), strict=True))  # type: ignore[union-attr]
                previous = line

    def identities(self) -> dict[tuple[str, str], str]:
        """(identity_type, value) → true customer, from the ground truth."""
        out: dict[tuple[str, str], str] = {}
        with (self.root / "ground_truth" / "identities.csv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                key = (row["identity_type"], row["identity_value"])
                assert key not in out, f"identity {key} listed twice"
                out[key] = row["true_customer"]
        return out

    def truth(self) -> dict[str, Any]:
        """ground_truth.json."""
        return json.loads((self.root / "ground_truth.json").read_text(encoding="utf-8"))

    def events(self) -> list[tuple[str, datetime, str, dict[str, Any]]]:
        """Every good record as (true customer, time, source folder, row), stitched."""
        ids = self.identities()
        out = []

        def who(*keys: tuple[str, str | None]) -> str:
            for kind, value in keys:
                if value and (kind, value) in ids:
                    return ids[(kind, value)]
            raise AssertionError(f"no known identity among {keys}")

        for r in self.rows("web"):
            t = parse_time(r["timestamp"])
            out.append(
                (who(("user_id", r["userId"]), ("anonymous_id", r["anonymousId"])), t, "web", r)
            )
        for r in self.rows("app"):
            t = datetime.fromtimestamp(r["event_timestamp"] / 1e6, UTC)
            out.append(
                (who(("user_id", r["user_id"]), ("anonymous_id", r["user_pseudo_id"])), t, "app", r)
            )
        for folder, col in _TIME_COL.items():
            for r in self.rows(folder):
                t = parse_time(r[col])
                keys = [("user_id", r.get("customer_id") or r.get("member_id")), ("email", r.get("email")),
                        ("anonymous_id", r.get("anonymous_id"))]  # fmt: skip
                out.append((who(*keys), t, folder, r))
        for r in self.rows("social"):
            out.append((who(("user_id", r["customer_id"]), ("social_handle", r["author_handle"])),
                        parse_time(r["created_at"]), "social", r))  # fmt: skip
        out.sort(key=lambda e: (e[0], e[1]))
        return out
