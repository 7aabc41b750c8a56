"""Each named format ingests its hand-written fixture into exactly the expected rows."""

from __future__ import annotations

import datetime as dt

import duckdb
from tests.events.conftest import FIXTURES, events, quarantined, run

from journeylens.events.runner import SourceSpec

T = dt.datetime


def spec(name: str, fmt: str) -> SourceSpec:
    return SourceSpec((str(FIXTURES / name),), fmt)


def counts(result) -> tuple[int, int, int, int, int]:  # type: ignore[no-untyped-def]
    (s,) = result.sources
    return (s.rows_read, s.rows_stored, s.rows_quarantined, s.rows_duplicate, s.events_stored)


def test_orders(con: duckdb.DuckDBPyConnection) -> None:
    res = run(con, spec("orders.csv", "orders"))
    assert counts(res) == (9, 2, 6, 1, 4)
    rows = events(con)
    assert [
        (e["event_id"], e["occurred_at"], e["event_name"], e["user_id"], e["value"]) for e in rows
    ] == [
        ("sales:O1:placed", T(2024, 3, 1, 10, 0), "order_placed", "C0000001", 25.5),
        ("sales:O1:paid", T(2024, 3, 1, 10, 5), "purchase", "C0000001", 25.5),
        ("sales:O2:placed", T(2024, 3, 2, 9, 0), "order_placed", None, 10.0),
        # +02:00 offset normalised to UTC
        ("sales:O2:cancelled", T(2024, 3, 2, 9, 0), "order_cancelled", None, 10.0),
    ]
    assert rows[0]["properties"] == {
        "order_id": "O1",
        "currency": "EUR",
        "items": "SKU1;SKU2",
        "status": "paid",
        "email": "ann@example.com",
    }
    assert {e["source"] for e in rows} == {"sales"}
    assert {e["channel"] for e in rows} == {"web"}
    # seq follows file order, ties in occurred_at keep it
    assert [e["seq"] for e in rows] == sorted(e["seq"] for e in rows)
    assert quarantined(con) == [
        ("orders.csv", 4, "currency", "XXX", "unknown_currency"),
        ("orders.csv", 5, "customer_id|email", None, "missing_identity"),
        ("orders.csv", 6, "created_at", "not a date", "bad_timestamp"),
        ("orders.csv", 8, "order_id", None, "missing_field"),
        ("orders.csv", 9, "amount", "abc", "bad_value"),
        ("orders.csv", 10, "paid_at", "1985-01-01T00:00:00Z", "bad_timestamp"),
    ]


def test_segment(con: duckdb.DuckDBPyConnection) -> None:
    res = run(con, spec("segment.jsonl", "segment"))
    assert counts(res) == (10, 5, 4, 1, 5)
    rows = events(con)
    assert [
        (
            e["event_id"],
            e["occurred_at"],
            e["event_name"],
            e["anonymous_id"],
            e["user_id"],
            e["device_id"],
        )
        for e in rows
    ] == [
        ("web:m1", T(2024, 3, 1, 10, 0), "page_view", "a1", None, "d1"),
        ("web:m2", T(2024, 3, 1, 9, 1, 0, 250000), "add_to_cart", "a1", None, "d1"),
        ("web:m3", T(2024, 3, 1, 10, 2), "identify", "a1", "C0000001", None),
        ("web:m4", T(2024, 3, 1, 10, 3), "alias", None, "C0000001", None),
        ("web:m9", T(2024, 3, 1, 10, 6), "screen_view", None, "C0000001", None),
    ]
    assert rows[0]["properties"] == {
        "title": "Home",
        "page_name": "Home",
        "path": "/",
        "url": "https://shop.example/",
        "referrer": "https://google.com",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring",
        "device_type": "desktop",
    }
    assert rows[1]["properties"] == {"sku": "SKU1", "price": 9.5, "device_type": "desktop"}
    assert rows[2]["properties"] == {"plan": "gold"}
    assert rows[3]["properties"] == {"previous_id": "a0"}
    assert {e["channel"] for e in rows} == {"web"}
    assert quarantined(con) == [
        ("segment.jsonl", 5, "event", None, "missing_field"),
        ("segment.jsonl", 6, "timestamp", "yesterday", "bad_timestamp"),
        ("segment.jsonl", 7, "anonymousId|userId|context.device.id", None, "missing_identity"),
        ("segment.jsonl", 8, None, '{"type":"track","messageId":"m8", "timestamp":', "broken_json"),
    ]


def test_ga4(con: duckdb.DuckDBPyConnection) -> None:
    res = run(con, spec("ga4.jsonl", "ga4"))
    assert counts(res) == (6, 2, 3, 1, 2)
    rows = events(con)
    assert [
        (
            e["occurred_at"],
            e["event_name"],
            e["channel"],
            e["anonymous_id"],
            e["user_id"],
            e["device_id"],
            e["session_id"],
        )
        for e in rows
    ] == [
        (T(2024, 3, 1, 10, 0), "screen_view", "app", "p1", None, "p1", "42"),
        (T(2024, 3, 1, 10, 1), "login", "app", "p1", "C0000002", "p1", None),
    ]
    assert all(e["event_id"].startswith("app:h:") and len(e["event_id"]) == 6 + 32 for e in rows)
    assert rows[0]["properties"] == {
        "ga_session_id": 42,
        "firebase_screen": "home",
        "engagement": 1.5,
        "event_date": "20240301",
        "device_category": "mobile",
        "operating_system": "iOS",
        "country": "FR",
        "platform": "IOS",
    }
    assert quarantined(con) == [
        ("ga4.jsonl", 3, "event_timestamp", "soon", "bad_timestamp"),
        ("ga4.jsonl", 5, "event_name", None, "missing_field"),
        ("ga4.jsonl", 6, None, "not json at all", "broken_json"),
    ]


def test_campaigns(con: duckdb.DuckDBPyConnection) -> None:
    res = run(con, spec("campaigns.csv", "campaigns"))
    assert counts(res) == (4, 2, 2, 0, 2)
    rows = events(con)
    assert [
        (e["event_id"], e["event_name"], e["channel"], e["user_id"], e["anonymous_id"], e["value"], e["properties"])
        for e in rows
    ] == [
        ("ads:I1", "campaign_send", "email", "C0000001", None, 0.01,
         {"campaign_id": "K1", "campaign_name": "Spring sale", "email": "ann@example.com"}),
        ("ads:I2", "campaign_click", "ads", None, "a1", 0.8,
         {"campaign_id": "K2", "campaign_name": "Search brand"}),
    ]  # fmt: skip
    assert quarantined(con) == [
        ("campaigns.csv", 4, "customer_id|email|anonymous_id", None, "missing_identity"),
        ("campaigns.csv", 5, "channel", "billboard", "bad_value"),
    ]


def test_loyalty(con: duckdb.DuckDBPyConnection) -> None:
    res = run(con, spec("loyalty.csv", "loyalty"))
    assert counts(res) == (4, 2, 2, 0, 2)
    assert [
        (e["event_id"], e["occurred_at"], e["event_name"], e["channel"], e["user_id"], e["value"], e["properties"])
        for e in events(con)
    ] == [
        ("loyalty:L1", T(2024, 3, 1, 10, 10), "loyalty_earn", "app", "C0000001", 25.0,
         {"tier": "silver", "reason": "purchase O1"}),
        ("loyalty:L2", T(2024, 3, 5, 10, 10), "loyalty_redeem", "app", "C0000001", -10.0,
         {"tier": "silver", "reason": "voucher"}),
    ]  # fmt: skip
    assert quarantined(con) == [
        ("loyalty.csv", 4, "member_id", None, "missing_identity"),
        ("loyalty.csv", 5, "points", "five", "bad_value"),
    ]


def test_surveys_with_reader_rejects(con: duckdb.DuckDBPyConnection) -> None:
    res = run(con, spec("surveys.csv", "surveys"))
    assert counts(res) == (8, 4, 4, 0, 4)
    assert [
        (
            e["event_id"],
            e["event_name"],
            e["channel"],
            e["user_id"],
            e["score"],
            e["score_type"],
            e["text"],
        )
        for e in events(con)
    ] == [
        ("survey:S1", "nps_response", "email", "C0000001", 9.0, "nps", "Great, fast delivery"),
        ("survey:S2", "csat_response", "email", None, 2.0, "csat", "Slow"),
        ("survey:S6", "ces_response", "web", "C0000003", 5.0, "ces", "Easy"),
        ("survey:S8", "csat_response", "email", "C0000004", 5.0, "csat", None),
    ]
    # lines after the reader's rejects (6: extra column, 8: Latin-1 byte) keep their numbers
    assert quarantined(con) == [
        ("surveys.csv", 4, "score", "8", "out_of_range_score"),
        ("surveys.csv", 5, "score", "11", "out_of_range_score"),
        ("surveys.csv", 6, None, None, "malformed_row"),
        ("surveys.csv", 8, "comment", None, "bad_encoding"),
    ]


def test_social(con: duckdb.DuckDBPyConnection) -> None:
    res = run(con, spec("social.jsonl", "social"))
    assert counts(res) == (3, 2, 1, 0, 2)
    assert [
        (e["event_id"], e["event_name"], e["channel"], e["anonymous_id"], e["user_id"], e["text"], e["properties"])
        for e in events(con)
    ] == [
        ("social:T1", "social_mention", "social", "social:@ann", "C0000001", "Love my order!",
         {"platform": "twitter", "url": "https://x.com/ann/1", "likes": 3, "author_handle": "@ann"}),
        ("social:T2", "social_mention", "social", "social:@zed", None, "meh",
         {"platform": "instagram", "url": "https://instagram.com/p/2", "likes": 0, "author_handle": "@zed"}),
    ]  # fmt: skip
    assert quarantined(con) == [
        ("social.jsonl", 3, "author_handle|customer_id", None, "missing_identity")
    ]


def test_support(con: duckdb.DuckDBPyConnection) -> None:
    res = run(con, spec("support.csv", "support"))
    assert counts(res) == (4, 2, 2, 0, 3)
    assert [
        (e["event_id"], e["occurred_at"], e["event_name"], e["channel"], e["user_id"], e["text"])
        for e in events(con)
    ] == [
        ("support:K1:opened", T(2024, 3, 4, 9, 0), "ticket_opened", "phone", "C0000001",
         "Late parcel\nWhere is my parcel?"),
        ("support:K1:resolved", T(2024, 3, 4, 10, 30), "ticket_resolved", "phone", "C0000001", None),
        ("support:K2:opened", T(2024, 3, 4, 11, 0), "ticket_opened", "live_chat", None, "Double charge"),
    ]  # fmt: skip
    assert quarantined(con) == [
        ("support.csv", 4, "channel", "fax", "bad_value"),
        ("support.csv", 5, "resolved_at", "2099-01-01T00:00:00Z", "bad_timestamp"),
    ]


def test_crm(con: duckdb.DuckDBPyConnection) -> None:
    res = run(con, spec("crm.csv", "crm"))
    assert counts(res) == (4, 2, 2, 0, 0)
    rows = con.execute(
        "SELECT customer_id, email, first_name, birth_year, generation, country, signup_date, "
        "plan, attributes FROM crm_records ORDER BY customer_id"
    ).fetchall()
    assert rows == [
        ("C0000001", "ann@example.com", "Ann", 1990, "millennial", "FR", dt.date(2023, 1, 15), "gold", '{"vip":"yes"}'),
        ("C0000002", "bob@example.com", "Bob", 1965, "gen_x", "DE", dt.date(2023, 2, 1), "basic", "{}"),
    ]  # fmt: skip
    assert quarantined(con) == [
        ("crm.csv", 4, "birth_year", "19x0", "bad_value"),
        ("crm.csv", 5, "customer_id", None, "missing_field"),
    ]
    # an unchanged CRM export is all duplicates; a changed row is stored again
    again = run(con, spec("crm.csv", "crm"))
    assert counts(again) == (4, 0, 2, 2, 0)
