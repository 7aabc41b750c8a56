"""Built-in plans for the named source formats of docs/sources.md.

Each ``plan_<format>(columns)`` returns the :class:`~journeylens.events.plans.Plan` for a
file whose header holds ``columns`` (CSV) — optional columns that are absent read as NULL.
JSON-lines formats read each line as text (``_raw``) and parse it in SQL, so a broken line
is quarantined with its line number instead of failing the file.

>>> sorted(NAMED_FORMATS)
['campaigns', 'crm', 'ga4', 'loyalty', 'orders', 'segment', 'social', 'support', 'surveys']
>>> plan_orders(frozenset(ORDERS_COLUMNS)).required_columns[:2]
('order_id', 'customer_id')
"""

from __future__ import annotations

import json
from collections.abc import Callable

from journeylens.events.plans import Check, Emit, Plan
from journeylens.events.schema import CHANNELS, ISO_4217, SCORE_RANGES, Reason
from journeylens.events.sql import clean, ident, in_list, iso_ts, json_present, lit, ts_is_bad

_TS_EXPECTED = "an ISO 8601 time between 1990-01-01 and one day after the run"


def _csv(columns: frozenset[str]) -> Callable[[str], str]:
    """A getter for cleaned CSV column text (NULL when the column is absent)."""

    def get(name: str) -> str:
        return clean(ident(name)) if name in columns else "NULL"

    return get


def _json(path: str) -> str:
    """Cleaned text at a JSON path (written in this module) of the raw line."""
    return clean(f"json_extract_string(_j, {lit(path)})")


def csv_raw(columns: frozenset[str]) -> str:
    """SQL for the raw record of a CSV row, as a JSON object of its columns (header order
    is lost; keys are sorted)."""
    parts = ", ".join(f"{lit(c)}, {ident(c)}" for c in sorted(columns))
    return f"json_object({parts})" if parts else "'{}'"


def _event(**overrides: str) -> dict[str, str]:
    """Canonical event columns, NULL unless given."""
    from journeylens.events.schema import ADAPTER_COLUMNS

    cols = dict.fromkeys(ADAPTER_COLUMNS, "NULL")
    unknown = overrides.keys() - cols.keys()
    if unknown:
        raise ValueError(f"not canonical columns: {sorted(unknown)}")
    cols.update(overrides)
    return cols


def _props(**pairs: str) -> str:
    """A JSON object of the non-NULL ``pairs`` (keys are literals, values SQL)."""
    return json_present((lit(json.dumps(k)), v) for k, v in pairs.items())


def _missing(field: str, expr: str, what: str) -> Check:
    return Check(f"{expr} IS NULL", Reason.MISSING_FIELD, field, "NULL", what)


def _bad_ts(field: str, raw: str, parsed: str) -> Check:
    return Check(ts_is_bad(raw, parsed), Reason.BAD_TIMESTAMP, field, raw, _TS_EXPECTED)


def _no_identity(fields: list[str], exprs: list[str]) -> Check:
    cond = " AND ".join(f"{e} IS NULL" for e in exprs)
    return Check(
        cond, Reason.MISSING_IDENTITY, "|".join(fields), "NULL", f"one of {', '.join(fields)}"
    )


def _channel_check(field: str, expr: str) -> Check:
    return Check(
        f"{expr} IS NOT NULL AND {expr} NOT IN {in_list(CHANNELS)}",
        Reason.BAD_VALUE,
        field,
        expr,
        "one of " + ", ".join(sorted(CHANNELS)),
    )


def _number_check(field: str, raw: str) -> Check:
    return Check(
        f"{raw} IS NOT NULL AND TRY_CAST({raw} AS DOUBLE) IS NULL",
        Reason.BAD_VALUE,
        field,
        raw,
        "a number",
    )


def _choice_check(field: str, expr: str, choices: list[str]) -> Check:
    return Check(
        f"{expr} IS NOT NULL AND {expr} NOT IN {in_list(choices)}",
        Reason.BAD_VALUE,
        field,
        expr,
        "one of " + ", ".join(choices),
    )


# --------------------------------------------------------------------------- segment
SEGMENT_TYPES = ["alias", "group", "identify", "page", "screen", "track"]


def plan_segment(columns: frozenset[str]) -> Plan:
    """Segment spec JSON lines: track, page, screen, identify, alias, group."""
    del columns
    parse = [
        ("_p_id", _json("$.messageId")),
        ("_p_type", f"lower({_json('$.type')})"),
        ("_p_ts_raw", _json("$.timestamp")),
        ("_p_anon", _json("$.anonymousId")),
        ("_p_user", _json("$.userId")),
        ("_p_device", _json("$.context.device.id")),
        ("_p_event", _json("$.event")),
    ]
    parse.append(("_p_ts", iso_ts("_p_ts_raw")))
    name = (
        "CASE _p_type WHEN 'track' THEN _p_event WHEN 'page' THEN 'page_view' "
        "WHEN 'screen' THEN 'screen_view' ELSE _p_type END"
    )
    extra = _props(
        page_name=_json("$.name"),
        path=_json("$.context.page.path"),
        url=_json("$.context.page.url"),
        referrer=_json("$.context.page.referrer"),
        utm_source=_json("$.context.campaign.source"),
        utm_medium=_json("$.context.campaign.medium"),
        utm_campaign=_json("$.context.campaign.name"),
        device_type=_json("$.context.device.type"),
        previous_id=_json("$.previousId"),
        group_id=_json("$.groupId"),
    )
    props = (
        "json_merge_patch(coalesce(json_extract(_j, '$.properties'), '{}'), "
        f"coalesce(json_extract(_j, '$.traits'), '{{}}'), {extra})"
    )
    checks = [
        _missing("messageId", "_p_id", "the Segment messageId"),
        _missing("type", "_p_type", "one of " + ", ".join(SEGMENT_TYPES)),
        _choice_check("type", "_p_type", SEGMENT_TYPES),
        Check(
            "_p_type = 'track' AND _p_event IS NULL",
            Reason.MISSING_FIELD,
            "event",
            "NULL",
            "the event name of a track call",
        ),
        _missing("timestamp", "_p_ts_raw", _TS_EXPECTED),
        _bad_ts("timestamp", "_p_ts_raw", "_p_ts"),
        _no_identity(
            ["anonymousId", "userId", "context.device.id"], ["_p_anon", "_p_user", "_p_device"]
        ),
    ]
    emit = Emit(
        _event(
            event_id="$source || ':' || _p_id",
            occurred_at="_p_ts",
            source="$source",
            event_name=name,
            channel="'web'",
            anonymous_id="_p_anon",
            user_id="_p_user",
            device_id="_p_device",
            properties=props,
        )
    )
    return Plan("segment", "jsonl", parse, checks, [emit])


# --------------------------------------------------------------------------- ga4
_GA4_PARAMS = (
    "from_json(json_extract(_j, '$.event_params'), "
    """'[{"key":"VARCHAR","value":{"string_value":"VARCHAR","int_value":"VARCHAR","""
    """"double_value":"VARCHAR","float_value":"VARCHAR"}}]')"""
)


def plan_ga4(columns: frozenset[str]) -> Plan:
    """GA4 BigQuery export JSON lines (nested ``event_params`` flattened into properties)."""
    del columns
    params_map = (
        f"map_from_entries(list_transform(list_filter({_GA4_PARAMS}, lambda x: x.key IS NOT NULL), "
        "lambda x: {'k': x.key, 'v': CASE WHEN x.value.string_value IS NOT NULL "
        "THEN to_json(x.value.string_value) ELSE TRY_CAST(coalesce(x.value.int_value, "
        "x.value.double_value, x.value.float_value) AS JSON) END}))"
    )
    parse = [
        ("_p_ts_raw", _json("$.event_timestamp")),
        ("_p_name", _json("$.event_name")),
        ("_p_anon", _json("$.user_pseudo_id")),
        ("_p_user", _json("$.user_id")),
        ("_p_params", params_map),
    ]
    parse.append(("_p_ts", "make_timestamp(TRY_CAST(_p_ts_raw AS BIGINT))"))
    extra = _props(
        event_date=_json("$.event_date"),
        device_category=_json("$.device.category"),
        operating_system=_json("$.device.operating_system"),
        country=_json("$.geo.country"),
        platform=_json("$.platform"),
    )
    checks = [
        _missing("event_name", "_p_name", "the GA4 event_name"),
        _missing("event_timestamp", "_p_ts_raw", "microseconds since 1970 (integer)"),
        Check(
            ts_is_bad("_p_ts_raw", "_p_ts"),
            Reason.BAD_TIMESTAMP,
            "event_timestamp",
            "_p_ts_raw",
            "microseconds since 1970 (integer) between 1990 and one day after the run",
        ),
        _no_identity(["user_pseudo_id", "user_id"], ["_p_anon", "_p_user"]),
    ]
    emit = Emit(
        _event(
            event_id="$source || ':h:' || md5(_raw)",
            occurred_at="_p_ts",
            source="$source",
            event_name="_p_name",
            channel="'app'",
            anonymous_id="_p_anon",
            user_id="_p_user",
            device_id="_p_anon",
            session_id="json_extract_string(to_json(_p_params), '$.ga_session_id')",
            properties=f"json_merge_patch(coalesce(to_json(_p_params), '{{}}'), {extra})",
        )
    )
    return Plan("ga4", "jsonl", parse, checks, [emit])


# --------------------------------------------------------------------------- orders
ORDERS_COLUMNS = (
    "order_id", "customer_id", "email", "status", "amount", "currency", "items",
    "created_at", "paid_at", "cancelled_at", "refunded_at",
)  # fmt: skip
_ORDER_KINDS = (
    ("created_at", "order_placed", "placed"),
    ("paid_at", "purchase", "paid"),
    ("cancelled_at", "order_cancelled", "cancelled"),
    ("refunded_at", "order_refunded", "refunded"),
)


def plan_orders(columns: frozenset[str]) -> Plan:
    """Orders CSV: one event per non-empty timestamp column of the order."""
    c = _csv(columns)
    parse = [
        ("_p_id", c("order_id")),
        ("_p_user", c("customer_id")),
        ("_p_email", f"lower({c('email')})"),
        ("_p_amount", c("amount")),
        ("_p_currency", f"upper({c('currency')})"),
        ("_p_channel", f"coalesce(lower({c('channel')}), 'web')"),
    ]
    for col, _, _ in _ORDER_KINDS:
        parse.append((f"_p_{col}_raw", c(col)))
    for col, _, _ in _ORDER_KINDS:
        parse.append((f"_p_{col}", iso_ts(f"_p_{col}_raw")))
    checks = [
        _missing("order_id", "_p_id", "the order id"),
        _missing("created_at", "_p_created_at_raw", _TS_EXPECTED),
        *(_bad_ts(col, f"_p_{col}_raw", f"_p_{col}") for col, _, _ in _ORDER_KINDS),
        _no_identity(["customer_id", "email"], ["_p_user", "_p_email"]),
        _missing("currency", "_p_currency", "an ISO 4217 currency code"),
        Check(
            f"_p_currency NOT IN {in_list(ISO_4217)}",
            Reason.UNKNOWN_CURRENCY,
            "currency",
            "_p_currency",
            "an ISO 4217 currency code",
        ),
        _number_check("amount", "_p_amount"),
        _channel_check("channel", "_p_channel"),
    ]
    props = _props(
        order_id="_p_id",
        currency="_p_currency",
        items=c("items"),
        status=c("status"),
        email="_p_email",
    )
    emits = [
        Emit(
            _event(
                event_id=f"$source || ':' || _p_id || {lit(':' + kind)}",
                occurred_at=f"_p_{col}",
                source="$source",
                event_name=lit(name),
                channel="_p_channel",
                user_id="_p_user",
                value="TRY_CAST(_p_amount AS DOUBLE)",
                properties=props,
            ),
            keep=f"_p_{col} IS NOT NULL",
        )
        for col, name, kind in _ORDER_KINDS
    ]
    return Plan("orders", "csv", parse, checks, emits, required_columns=ORDERS_COLUMNS)


# --------------------------------------------------------------------------- campaigns
CAMPAIGNS_COLUMNS = (
    "interaction_id", "occurred_at", "channel", "campaign_id", "campaign_name",
    "interaction", "customer_id", "email", "anonymous_id", "cost",
)  # fmt: skip
CAMPAIGN_INTERACTIONS = ["click", "impression", "open", "send", "unsubscribe"]


def plan_campaigns(columns: frozenset[str]) -> Plan:
    """Ads and e-mail campaign interactions CSV."""
    c = _csv(columns)
    parse = [
        ("_p_id", c("interaction_id")),
        ("_p_ts_raw", c("occurred_at")),
        ("_p_channel", f"lower({c('channel')})"),
        ("_p_interaction", f"lower({c('interaction')})"),
        ("_p_user", c("customer_id")),
        ("_p_email", f"lower({c('email')})"),
        ("_p_anon", c("anonymous_id")),
        ("_p_cost", c("cost")),
    ]
    parse.append(("_p_ts", iso_ts("_p_ts_raw")))
    checks = [
        _missing("interaction_id", "_p_id", "the interaction id"),
        _missing("interaction", "_p_interaction", "one of " + ", ".join(CAMPAIGN_INTERACTIONS)),
        _missing("occurred_at", "_p_ts_raw", _TS_EXPECTED),
        _bad_ts("occurred_at", "_p_ts_raw", "_p_ts"),
        _no_identity(["customer_id", "email", "anonymous_id"], ["_p_user", "_p_email", "_p_anon"]),
        _choice_check("interaction", "_p_interaction", CAMPAIGN_INTERACTIONS),
        _channel_check("channel", "_p_channel"),
        _number_check("cost", "_p_cost"),
    ]
    emit = Emit(
        _event(
            event_id="$source || ':' || _p_id",
            occurred_at="_p_ts",
            source="$source",
            event_name="'campaign_' || _p_interaction",
            channel="coalesce(_p_channel, 'ads')",
            anonymous_id="_p_anon",
            user_id="_p_user",
            value="TRY_CAST(_p_cost AS DOUBLE)",
            properties=_props(
                campaign_id=c("campaign_id"), campaign_name=c("campaign_name"), email="_p_email"
            ),
        )
    )
    return Plan("campaigns", "csv", parse, checks, [emit], required_columns=CAMPAIGNS_COLUMNS)


# --------------------------------------------------------------------------- loyalty
LOYALTY_COLUMNS = ("transaction_id", "member_id", "occurred_at", "type", "points", "tier", "reason")
LOYALTY_TYPES = ["earn", "enroll", "redeem", "tier_change"]


def plan_loyalty(columns: frozenset[str]) -> Plan:
    """Loyalty ledger CSV."""
    c = _csv(columns)
    parse = [
        ("_p_id", c("transaction_id")),
        ("_p_user", c("member_id")),
        ("_p_ts_raw", c("occurred_at")),
        ("_p_type", f"lower({c('type')})"),
        ("_p_points", c("points")),
    ]
    parse.append(("_p_ts", iso_ts("_p_ts_raw")))
    checks = [
        _missing("transaction_id", "_p_id", "the transaction id"),
        _missing("type", "_p_type", "one of " + ", ".join(LOYALTY_TYPES)),
        _missing("occurred_at", "_p_ts_raw", _TS_EXPECTED),
        _bad_ts("occurred_at", "_p_ts_raw", "_p_ts"),
        _no_identity(["member_id"], ["_p_user"]),
        _choice_check("type", "_p_type", LOYALTY_TYPES),
        _number_check("points", "_p_points"),
    ]
    emit = Emit(
        _event(
            event_id="$source || ':' || _p_id",
            occurred_at="_p_ts",
            source="$source",
            event_name="'loyalty_' || _p_type",
            channel="'app'",
            user_id="_p_user",
            value="TRY_CAST(_p_points AS DOUBLE)",
            properties=_props(tier=c("tier"), reason=c("reason")),
        )
    )
    return Plan("loyalty", "csv", parse, checks, [emit], required_columns=LOYALTY_COLUMNS)


# --------------------------------------------------------------------------- surveys
SURVEYS_COLUMNS = (
    "response_id", "submitted_at", "customer_id", "email", "survey_type", "score", "comment",
    "touchpoint", "stage", "channel",
)  # fmt: skip


def _score_out_of_range(score_type: str, raw: str) -> str:
    ranges = " ".join(
        f"WHEN {lit(t)} THEN TRY_CAST({raw} AS DOUBLE) BETWEEN {lo} AND {hi}"
        for t, (lo, hi) in SCORE_RANGES.items()
    )
    return f"NOT coalesce(CASE {score_type} {ranges} END, FALSE)"


def plan_surveys(columns: frozenset[str]) -> Plan:
    """NPS / CSAT / CES survey responses CSV (with comments)."""
    c = _csv(columns)
    parse = [
        ("_p_id", c("response_id")),
        ("_p_ts_raw", c("submitted_at")),
        ("_p_user", c("customer_id")),
        ("_p_email", f"lower({c('email')})"),
        ("_p_type", f"lower({c('survey_type')})"),
        ("_p_score", c("score")),
        ("_p_channel", f"coalesce(lower({c('channel')}), 'email')"),
    ]
    parse.append(("_p_ts", iso_ts("_p_ts_raw")))
    ranges = ", ".join(f"{t} {lo:g}–{hi:g}" for t, (lo, hi) in SCORE_RANGES.items())
    checks = [
        _missing("response_id", "_p_id", "the response id"),
        _missing("survey_type", "_p_type", "one of " + ", ".join(SCORE_RANGES)),
        _choice_check("survey_type", "_p_type", list(SCORE_RANGES)),
        _missing("submitted_at", "_p_ts_raw", _TS_EXPECTED),
        _bad_ts("submitted_at", "_p_ts_raw", "_p_ts"),
        _no_identity(["customer_id", "email"], ["_p_user", "_p_email"]),
        _missing("score", "_p_score", f"a score: {ranges}"),
        Check(
            _score_out_of_range("_p_type", "_p_score"),
            Reason.OUT_OF_RANGE_SCORE,
            "score",
            "_p_score",
            f"a score: {ranges}",
        ),
        _channel_check("channel", "_p_channel"),
    ]
    emit = Emit(
        _event(
            event_id="$source || ':' || _p_id",
            occurred_at="_p_ts",
            source="$source",
            event_name="_p_type || '_response'",
            channel="_p_channel",
            user_id="_p_user",
            score="TRY_CAST(_p_score AS DOUBLE)",
            score_type="_p_type",
            text=c("comment"),
            properties=_props(touchpoint=c("touchpoint"), stage=c("stage"), email="_p_email"),
        )
    )
    return Plan("surveys", "csv", parse, checks, [emit], required_columns=SURVEYS_COLUMNS)


# --------------------------------------------------------------------------- social
def plan_social(columns: frozenset[str]) -> Plan:
    """Social-listening mentions JSON lines."""
    del columns
    parse = [
        ("_p_id", _json("$.id")),
        ("_p_ts_raw", _json("$.created_at")),
        ("_p_handle", _json("$.author_handle")),
        ("_p_user", _json("$.customer_id")),
    ]
    parse.append(("_p_ts", iso_ts("_p_ts_raw")))
    checks = [
        _missing("id", "_p_id", "the mention id"),
        _missing("created_at", "_p_ts_raw", _TS_EXPECTED),
        _bad_ts("created_at", "_p_ts_raw", "_p_ts"),
        _no_identity(["author_handle", "customer_id"], ["_p_handle", "_p_user"]),
    ]
    emit = Emit(
        _event(
            event_id="$source || ':' || _p_id",
            occurred_at="_p_ts",
            source="$source",
            event_name="'social_mention'",
            channel="'social'",
            anonymous_id="'social:' || _p_handle",
            user_id="_p_user",
            text=_json("$.text"),
            properties=_props(
                platform=_json("$.platform"),
                url=_json("$.url"),
                likes="TRY_CAST(json_extract(_j, '$.likes') AS BIGINT)",
                author_handle="_p_handle",
            ),
        )
    )
    return Plan("social", "jsonl", parse, checks, [emit])


# --------------------------------------------------------------------------- support
SUPPORT_COLUMNS = (
    "ticket_id", "customer_id", "email", "channel", "category", "status", "opened_at",
    "resolved_at", "subject", "body",
)  # fmt: skip


def plan_support(columns: frozenset[str]) -> Plan:
    """Support tickets CSV: ``ticket_opened`` and, once resolved, ``ticket_resolved``."""
    c = _csv(columns)
    parse = [
        ("_p_id", c("ticket_id")),
        ("_p_user", c("customer_id")),
        ("_p_email", f"lower({c('email')})"),
        ("_p_channel", f"lower({c('channel')})"),
        ("_p_opened_raw", c("opened_at")),
        ("_p_resolved_raw", c("resolved_at")),
    ]
    parse += [("_p_opened", iso_ts("_p_opened_raw")), ("_p_resolved", iso_ts("_p_resolved_raw"))]
    checks = [
        _missing("ticket_id", "_p_id", "the ticket id"),
        _missing("opened_at", "_p_opened_raw", _TS_EXPECTED),
        _bad_ts("opened_at", "_p_opened_raw", "_p_opened"),
        _bad_ts("resolved_at", "_p_resolved_raw", "_p_resolved"),
        _no_identity(["customer_id", "email"], ["_p_user", "_p_email"]),
        _channel_check("channel", "_p_channel"),
    ]
    props = _props(ticket_id="_p_id", category=c("category"), status=c("status"), email="_p_email")
    common = {
        "source": "$source",
        "channel": "coalesce(_p_channel, 'phone')",
        "user_id": "_p_user",
        "properties": props,
    }
    emits = [
        Emit(
            _event(
                event_id="$source || ':' || _p_id || ':opened'",
                occurred_at="_p_opened",
                event_name="'ticket_opened'",
                text=f"NULLIF(concat_ws(chr(10), {c('subject')}, {c('body')}), '')",
                **common,
            )
        ),
        Emit(
            _event(
                event_id="$source || ':' || _p_id || ':resolved'",
                occurred_at="_p_resolved",
                event_name="'ticket_resolved'",
                **common,
            ),
            keep="_p_resolved IS NOT NULL",
        ),
    ]
    return Plan("support", "csv", parse, checks, emits, required_columns=SUPPORT_COLUMNS)


# --------------------------------------------------------------------------- crm
CRM_FILE_COLUMNS = (
    "customer_id", "email", "first_name", "birth_year", "generation", "country",
    "signup_date", "plan",
)  # fmt: skip


def plan_crm(columns: frozenset[str]) -> Plan:
    """CRM customer export CSV: customer attributes (not events); extra columns → attributes."""
    c = _csv(columns)
    parse = [
        ("_p_id", c("customer_id")),
        ("_p_birth_raw", c("birth_year")),
        ("_p_signup_raw", c("signup_date")),
    ]
    parse.append(("_p_signup", "CAST(TRY_CAST(_p_signup_raw AS TIMESTAMP) AS DATE)"))
    extras = sorted(columns - set(CRM_FILE_COLUMNS))
    attributes = _props(**{e: c(e) for e in extras}) if extras else "'{}'"
    checks = [
        _missing("customer_id", "_p_id", "the CRM customer id"),
        Check(
            "_p_birth_raw IS NOT NULL AND (TRY_CAST(_p_birth_raw AS INTEGER) IS NULL "
            "OR TRY_CAST(_p_birth_raw AS INTEGER) NOT BETWEEN 1900 AND 2030)",
            Reason.BAD_VALUE,
            "birth_year",
            "_p_birth_raw",
            "a year between 1900 and 2030",
        ),
        Check(
            "_p_signup_raw IS NOT NULL AND (_p_signup IS NULL "
            "OR _p_signup < DATE '1990-01-01' OR _p_signup > CAST($max_ts AS DATE))",
            Reason.BAD_TIMESTAMP,
            "signup_date",
            "_p_signup_raw",
            "an ISO 8601 date between 1990-01-01 and the run",
        ),
    ]
    emit = Emit(
        {
            "customer_id": "_p_id",
            "email": f"lower({c('email')})",
            "first_name": c("first_name"),
            "birth_year": "TRY_CAST(_p_birth_raw AS INTEGER)",
            "generation": c("generation"),
            "country": c("country"),
            "signup_date": "_p_signup",
            "plan": c("plan"),
            "attributes": attributes,
        }
    )
    return Plan(
        "crm", "csv", parse, checks, [emit], target="crm", required_columns=("customer_id",)
    )


NAMED_FORMATS: dict[str, Callable[[frozenset[str]], Plan]] = {
    "segment": plan_segment,
    "ga4": plan_ga4,
    "orders": plan_orders,
    "campaigns": plan_campaigns,
    "loyalty": plan_loyalty,
    "surveys": plan_surveys,
    "social": plan_social,
    "support": plan_support,
    "crm": plan_crm,
}

#: The ``source`` a named format gets when none is given (docs/sources.md).
DEFAULT_SOURCES: dict[str, str] = {
    "segment": "web",
    "ga4": "app",
    "orders": "sales",
    "campaigns": "ads",
    "loyalty": "loyalty",
    "surveys": "survey",
    "social": "social",
    "support": "support",
    "crm": "crm",
}
