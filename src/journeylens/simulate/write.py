"""Write a simulated chunk in each source's native shape (docs/sources.md), fast.

Lines are built column-wise with Arrow compute (string joins over whole arrays), per
group of records that share a shape (one touchpoint, one record kind), then put back in
record order. Only the few records chosen to be dirty go through Python, where they are
broken in the way their kind says and listed for ``ground_truth/dirty.csv``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeylens.simulate.plan import (
    CAMPAIGN_CHANNELS,
    GENERATIONS,
    SUPPORT_CHANNELS,
    Emitter,
)
from journeylens.simulate.satisfy import FieldValues
from journeylens.simulate.scenario import Incident
from journeylens.simulate.text import (
    COMMENTS,
    FIRST_NAMES,
    SOCIAL,
    TICKET_BODIES,
    TICKET_SUBJECTS,
)
from journeylens.simulate.walk import (
    D_APP,
    D_DESKTOP,
    D_MOBILE,
    DAY,
    INTERACTIONS,
    K_CAMPAIGN,
    K_ERROR,
    K_IDENTIFY,
    K_LOYALTY,
    K_SOCIAL,
    K_SURVEY,
    K_TICKET,
    K_TOUCH,
    PAINFUL,
    US,
    Chunk,
    Walker,
)

Piece: TypeAlias = Any  # a str (repeated on every row) or an Arrow string array

CSV_HEADERS = {
    "orders": "order_id,customer_id,email,status,amount,currency,items,created_at,paid_at,cancelled_at,refunded_at",
    "campaigns": "interaction_id,occurred_at,channel,campaign_id,campaign_name,interaction,customer_id,email,anonymous_id,cost",
    "loyalty": "transaction_id,member_id,occurred_at,type,points,tier,reason",
    "surveys": "response_id,submitted_at,customer_id,email,survey_type,score,comment,touchpoint,stage,channel",
    "support": "ticket_id,customer_id,email,channel,category,status,opened_at,resolved_at,subject,body",
    "crm": "customer_id,email,first_name,birth_year,generation,country,signup_date,plan",
}
#: Bad-record kinds each format can carry (docs/sources.md, "Bad records").
DIRTY_KINDS = {
    "segment": ("bad_timestamp", "missing_identity", "duplicate", "broken_json", "bad_encoding", "missing_field"),
    "ga4": ("bad_timestamp", "missing_identity", "duplicate", "broken_json", "bad_encoding", "missing_field"),
    "orders": ("bad_timestamp", "missing_identity", "duplicate", "bad_encoding", "unknown_currency", "missing_field"),
    "campaigns": ("bad_timestamp", "missing_identity", "duplicate", "bad_encoding", "missing_field"),
    "loyalty": ("bad_timestamp", "missing_identity", "duplicate", "bad_encoding", "missing_field"),
    "surveys": ("bad_timestamp", "missing_identity", "duplicate", "out_of_range_score", "bad_encoding", "missing_field"),
    "social": ("bad_timestamp", "missing_identity", "duplicate", "broken_json", "bad_encoding", "missing_field"),
    "support": ("bad_timestamp", "missing_identity", "duplicate", "bad_encoding", "missing_field"),
}  # fmt: skip
#: UTM source and medium of a campaign's channel (Segment ``context.campaign``).
UTM = {
    "ads": ("google", "cpc"),
    "search": ("google", "cpc"),
    "social": ("instagram", "paid_social"),
    "email": ("newsletter", "email"),
    "sms": ("sms", "sms"),
    "print": ("print", "offline"),
}
_ENC = "@@ENC@@"
_BAD_BYTES = "café".encode("latin-1")  # a lone 0xE9 byte: not UTF-8


def jq(value: object) -> str:
    """JSON text of a scalar (strings quoted and escaped)."""
    return json.dumps(value, ensure_ascii=False)


def cq(value: object) -> str:
    """A CSV field: quoted when it holds a comma, quote or line break."""
    text = "" if value is None else str(value)
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def join(*pieces: Piece) -> pa.Array:
    """Concatenate string pieces row-wise (plain ``str`` pieces are repeated on each row)."""
    args: list[Any] = [pa.scalar(p) if isinstance(p, str) else p for p in pieces]
    return pc.binary_join_element_wise(*args, "")


def iso(t_us: np.ndarray, unit: str = "ms") -> pa.Array:
    """ISO 8601 UTC text (``2026-01-05T10:00:00.123Z`` for ms, no fraction for s).

    Arrow's cast of a timestamp to text is ~15x faster than ``strftime``; it writes a space
    between date and time, which is replaced by ``T``.
    """
    div = {"ms": 1000, "s": US}[unit]
    arr = pa.array(np.asarray(t_us) // div, type=pa.timestamp(unit))
    text = pc.utf8_replace_slice(pc.cast(arr, pa.string()), start=10, stop=11, replacement="T")
    return join(text, "Z")


def yyyymmdd(t_us: np.ndarray) -> pa.Array:
    """The UTC date as ``YYYYMMDD`` text (GA4 ``event_date``)."""
    days = (np.asarray(t_us) // DAY).astype("datetime64[D]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    return num(year * 10000 + month * 100 + day)


def _sessions(person: np.ndarray, t: np.ndarray) -> np.ndarray:
    """GA4 ``ga_session_id``: the session's start in epoch seconds; a device's session ends
    after 30 minutes without events. Rows are in (person, time) order.

    >>> _sessions(np.array([0, 0, 0, 1]), np.array([0, 600, 3000, 60]) * 1_000_000).tolist()
    [0, 0, 3000, 60]
    """
    if t.size == 0:
        return t.copy()
    start = np.ones(t.size, dtype=bool)
    start[1:] = (person[1:] != person[:-1]) | (np.diff(t) > 1800 * US)
    first = np.maximum.accumulate(np.where(start, np.arange(t.size), 0))
    return np.asarray(t[first] // US)


def num(values: np.ndarray) -> pa.Array:
    """Integers as text."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def money(values: np.ndarray) -> pa.Array:
    """Amounts with two decimals (``49.00``), formatted exactly from integer cents."""
    cents = np.round(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)
    whole = num(cents // 100)
    frac = pc.utf8_lpad(num(cents % 100), width=2, padding="0")
    return join(whole, ".", frac)


def take(strings: Sequence[str] | pa.Array, idx: np.ndarray) -> pa.Array:
    """``strings[idx]`` as an Arrow string array."""
    arr = strings if isinstance(strings, pa.Array) else pa.array(list(strings), pa.string())
    return arr.take(pa.array(np.asarray(idx, dtype=np.int64)))


def nullable(
    arr: pa.Array, present: np.ndarray, quote: Callable[[str], str] | None = None
) -> pa.Array:
    """JSON value text: the string quoted where ``present``, ``null`` elsewhere."""
    quoted = join('"', arr, '"') if quote is None else arr
    return pc.if_else(pa.array(present), quoted, pa.scalar("null"))


@dataclass
class People:
    """Per-customer identity strings of one chunk (built once, taken per record)."""

    true_id: pa.Array
    customer_id: pa.Array  # "" when never identified
    email: pa.Array
    first: pa.Array
    anon: list[pa.Array]  # per device slot: app pseudo id, desktop anonymousId, mobile anonymousId
    device: list[pa.Array]
    handle: pa.Array
    identified: np.ndarray


def people(chunk: Chunk) -> People:
    """Identity strings for every customer of a chunk (unique by construction: each embeds
    the customer's global number, behind random digits so ids do not sort by customer)."""
    n, off = chunk.n, chunk.offset
    key = chunk.persons["key"]
    u = chunk.persons["attr_u"]
    ident = chunk.persons["ident_at"] >= 0
    gid = np.arange(off, off + n, dtype=np.int64)
    first = take(FIRST_NAMES, (u[:, 2] * len(FIRST_NAMES)).astype(np.int64))
    g = num(gid)
    g7 = pc.utf8_lpad(g, width=8, padding="0")

    def rand(col: int, digits: int, shift: int = 0) -> pa.Array:
        return pc.utf8_lpad(num((key[:, col] >> shift) % 10**digits), width=digits, padding="0")

    pseudo = join(rand(2, 9), g7, ".", num(1_600_000_000 + key[:, 2] % 10**8))
    return People(
        true_id=join("P", g7),
        customer_id=pc.if_else(pa.array(ident), join("C", g7), pa.scalar("")),
        email=join(first, ".", g, "@example.com"),
        first=first,
        anon=[pseudo, join(rand(0, 10), "-", g7, "-d"), join(rand(1, 10), "-", g7, "-m")],
        device=[
            pseudo,
            join("dev-", rand(3, 8, 20), g7, "d"),
            join("dev-", rand(3, 8, 20), g7, "m"),
        ],
        handle=join(first, "_", g),
        identified=ident,
    )


@dataclass
class Written:
    """What writing one source file of one chunk produced."""

    rows: int
    dirty: list[tuple[int, str, str]]  # (line, kind, detail)


class ChunkWriter:
    """Formats one chunk's records into every source file."""

    def __init__(self, walker: Walker, chunk: Chunk, seed: int) -> None:
        self.w = walker
        self.plan = walker.plan
        self.c = chunk
        self.r = chunk.records
        self.p = people(chunk)
        self.rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence([seed, chunk.index, 7]))
        )
        self.tp_names = [
            self.plan.journey.step(self.plan.step_ids[e.step])
            .touchpoints[
                [
                    t.id for t in self.plan.journey.step(self.plan.step_ids[e.step]).touchpoints
                ].index(e.touchpoint)
            ]
            .name
            for e in self.plan.emitters
        ]
        self.src = np.array(["", *[e.source for e in self.plan.emitters]])[self.r["tp"] + 1]
        # Each step's own ticket topic: the categories the first support touchpoint of the
        # step names in its match rule (``properties.category``), if any.
        self._step_ticket_category: dict[int, FieldValues] = {}
        for e in self.plan.emitters:
            cats = dict(e.props).get("category") if e.source == "support" else None
            if cats is not None and cats.candidates:
                self._step_ticket_category.setdefault(e.step, cats)
        # Devices a record implies for campaign rows of anonymous visitors.
        self.used = chunk.persons["dev_used"].copy()
        # Customers whose social handle some mention ties to their customer id.
        self.social_linked = np.zeros(chunk.n, dtype=bool)

    # -- record selection --------------------------------------------------------------

    def rows_for(self, source: str) -> np.ndarray:
        """Indexes of the chunk's records that ``source`` writes, in record order."""
        k, src = self.r["kind"], self.src
        if source == "web":
            m = (
                ((k == K_TOUCH) & (src == "web"))
                | (k == K_IDENTIFY)
                | ((k == K_ERROR) & (self.r["dev"] >= D_DESKTOP))
            )
        elif source == "app":
            m = ((k == K_TOUCH) & (src == "app")) | ((k == K_ERROR) & (self.r["dev"] == D_APP))
        elif source == "sales":
            m = (k == K_TOUCH) & (src == "sales")
        elif source == "ads":
            m = ((k == K_TOUCH) & (src == "ads")) | (k == K_CAMPAIGN)
        elif source == "loyalty":
            # Only members (identified customers) have a ledger.
            m = (((k == K_TOUCH) & (src == "loyalty")) | (k == K_LOYALTY)) & self.r["ident"]
        elif source == "survey":
            m = ((k == K_TOUCH) & (src == "survey")) | (k == K_SURVEY)
        elif source == "social":
            m = ((k == K_TOUCH) & (src == "social")) | (k == K_SOCIAL)
        else:
            m = ((k == K_TOUCH) & (src == "support")) | (k == K_TICKET)
        return np.flatnonzero(m)

    def _props(self, e: Emitter, n: int, json_text: bool) -> dict[str, pa.Array]:
        """Per-row values of the emitter's rule-satisfying properties (JSON or plain text)."""
        out: dict[str, pa.Array] = {}
        for key, values in e.props:
            u = self.rng.random(n)
            if values.absent:
                continue
            if values.candidates:
                vocab = [jq(c) if json_text else str(c) for c in values.candidates]
                out[key] = take(vocab, (u * len(vocab)).astype(np.int64))
            else:
                lo = values.low if values.low is not None else 0.0
                hi = values.high if values.high is not None else lo + 100
                if values.integer:
                    out[key] = num(lo + np.floor(u * (hi - lo + 1)))
                else:
                    out[key] = money(lo + u * (hi - lo))
        return out

    def _value(self, e: Emitter | None, n: int, default: tuple[float, float]) -> np.ndarray:
        """Per-row amounts: from the rule's constraint on ``value`` if any, else ``default``."""
        u = self.rng.random(n)
        if e is not None and e.value is not None:
            return _interval(e.value.low, e.value.high, e.value.candidates, u)
        return default[0] + u * (default[1] - default[0])

    # -- formats -----------------------------------------------------------------------

    def segment(self, idx: np.ndarray) -> pa.Array:
        """Segment JSON lines (track / page / identify) for records ``idx``.

        A line is: a per-group opening (type, name), the common head (ids, time), a
        per-group middle (event, properties or traits), the device context, a per-group
        page block and the common tail. Only the short per-group parts are built per group.
        """
        r, p = self.r, self.p
        person = r["person"][idx]
        mob = pa.array(r["dev"][idx] == D_MOBILE)
        anon = pc.if_else(mob, take(p.anon[2], person), take(p.anon[1], person))
        devid = pc.if_else(mob, take(p.device[2], person), take(p.device[1], person))
        user = nullable(take(p.customer_id, person), r["ident"][idx])
        dtype = pc.if_else(mob, pa.scalar("mobile"), pa.scalar("desktop"))
        agent = pc.if_else(
            mob,
            pa.scalar("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148"),
            pa.scalar("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0"),
        )
        campaigns = [
            f',"campaign":{{"source":"{UTM[chan][0]}","medium":"{UTM[chan][1]}","name":{jq(name)}}}'
            for name, chan in zip(self.w.campaigns, self.w.campaign_channel, strict=True)
        ]
        camp = take(["", *campaigns], np.maximum(r["tag"][idx] + 1, 0))
        opens: list[str] = []
        code = np.zeros(len(idx), dtype=np.int64)
        mids: list[tuple[np.ndarray, pa.Array]] = []
        pages: list[tuple[np.ndarray, pa.Array]] = []
        tp_json = [jq(e.touchpoint) for e in self.plan.emitters]
        for (k, t), sel in self._groups(r["kind"][idx], r["tp"][idx]):
            n = len(sel)
            code[sel] = len(opens)
            page: pa.Array = pa.array([""] * n)
            if k == K_IDENTIFY:
                # identify (traits) or alias (previousId = the browser's anonymousId).
                opens.append('{"type":"identify"')
                opens.append('{"type":"alias"')
                alias = r["ai"][idx][sel] == 1
                code[sel[alias]] = len(opens) - 1
                mid = pc.if_else(
                    pa.array(alias),
                    join(',"previousId":"', anon.take(pa.array(sel)), '"'),
                    join(',"traits":{"email":"', take(p.email, person[sel]), '"}'),
                )
            elif k == K_ERROR:
                opens.append('{"type":"track"')
                mid = join(
                    ',"event":', self._incident_event(r["tag"][idx][sel]),
                    ',"properties":{"touchpoint":', tp_json[t], ',"message":"Something went wrong"}',
                )  # fmt: skip
            else:
                e = self.plan.emitters[t]
                props = self._props(e, n, True)
                if e.event == "page_view":
                    opens.append('{"type":"page","name":' + jq(self.tp_names[t]))
                    path = props.pop("path", None)
                    if path is None:
                        path = pa.array([jq("/" + e.touchpoint)] * n)
                    url = join('"https://example.com', pc.utf8_slice_codeunits(path, 1))
                    flat: list[Piece] = [x for k2, v in props.items() for x in (f',"{k2}":', v)]
                    mid = join(',"properties":{"path":', path, ',"url":', url, *flat, "}")
                    page = join(',"page":{"path":', path, ',"url":', url, ',"referrer":""}')
                else:
                    opens.append('{"type":"track"')
                    flat = [
                        x
                        for i, (k2, v) in enumerate(props.items())
                        for x in (("" if i == 0 else ",") + f'"{k2}":', v)
                    ]
                    mid = join(',"event":', jq(e.event), ',"properties":{', *flat, "}")
            mids.append((sel, mid))
            pages.append((sel, page))
        return join(
            take(opens, code), ',"messageId":"', self._ids("m", idx), '","timestamp":"',
            iso(r["t"][idx]), '","anonymousId":"', anon, '","userId":', user,
            _assemble(mids, len(idx)), ',"context":{"device":{"id":"', devid, '","type":"', dtype,
            '"}', _assemble(pages, len(idx)), camp, ',"userAgent":"', agent, '"}}',
        )  # fmt: skip

    def ga4(self, idx: np.ndarray) -> pa.Array:
        """GA4 BigQuery-export JSON lines for records ``idx``."""
        r, p = self.r, self.p
        person = r["person"][idx]
        t = r["t"][idx]
        user = nullable(take(p.customer_id, person), r["ident"][idx])
        country = take(
            [jq(c) for c in ("DE", "AT", "FR", "US", "GB")],
            (self.c.persons["attr_u"][person, 0] * 5).astype(np.int64),
        )
        ios = pa.array((self.c.persons["key"][person, 2] & 1) == 1)
        os_ = pc.if_else(ios, pa.scalar('"iOS"'), pa.scalar('"Android"'))
        platform = pc.if_else(ios, pa.scalar('"IOS"'), pa.scalar('"ANDROID"'))
        names: list[str] = []
        code = np.zeros(len(idx), dtype=np.int64)
        params_parts: list[tuple[np.ndarray, pa.Array]] = []
        for (k, tpi), sel in self._groups(r["kind"][idx], r["tp"][idx]):
            n = len(sel)
            e = self.plan.emitters[tpi]
            code[sel] = len(names)
            if k == K_ERROR:
                names.append("@@ERROR@@")
                params: pa.Array = pa.array(
                    [',{"key":"touchpoint","value":{"string_value":' + jq(e.touchpoint) + "}}"] * n
                )
                # The error's event name varies by incident: carried in its own group column.
                params_parts.append((sel, params))
                continue
            names.append(jq(e.event))
            pieces: list[Piece] = []
            for key, values in e.props:
                if values.absent:
                    continue
                one = Emitter(e.touchpoint, 0, 0, "", "", "", ((key, values),), None, None, ())
                vals = self._props(one, n, True)[key]
                ints = (
                    values.integer
                    if not values.candidates
                    else all(
                        isinstance(c, int) and not isinstance(c, bool) for c in values.candidates
                    )
                )
                floats = not values.candidates and not values.integer
                vkey = "int_value" if ints else ("double_value" if floats else "string_value")
                pieces += [',{"key":', jq(key), ',"value":{"' + vkey + '":', vals, "}}"]
            params = join(*pieces) if pieces else pa.array([""] * n)
            params_parts.append((sel, params))
        name = take(names, code)
        err = np.flatnonzero(r["kind"][idx] == K_ERROR)
        if err.size:
            mask = np.zeros(len(idx), dtype=bool)
            mask[err] = True
            name = pc.replace_with_mask(
                name, pa.array(mask), self._incident_event(r["tag"][idx][err])
            )
        return join(
            '{"event_date":"', yyyymmdd(t), '","event_timestamp":', num(t), ',"event_name":', name,
            ',"event_params":[{"key":"ga_session_id","value":{"int_value":', num(_sessions(person, t)),
            "}}", _assemble(params_parts, len(idx)), '],"user_pseudo_id":"', take(p.anon[0], person),
            '","user_id":', user, ',"device":{"category":"mobile","operating_system":', os_,
            '},"geo":{"country":', country, '},"platform":', platform, "}",
        )  # fmt: skip

    def orders(self, idx: np.ndarray) -> pa.Array:
        """Orders CSV rows (one row per order; its timestamps carry the event kinds).

        A refund is written on the order it refunds (the customer's latest earlier
        purchase): same ``order_id``, status ``refunded`` and ``refunded_at`` filled. Only
        a refund with no purchase of its own in the data gets a row of its own.
        """
        r, p = self.r, self.p
        event = np.array([e.event for e in self.plan.emitters] or [""])[np.maximum(r["tp"][idx], 0)]
        refund_at = np.full(len(idx), -1, dtype=np.int64)
        refunds = np.flatnonzero(event == "order_refunded")
        buys = np.flatnonzero(event == "purchase")
        if refunds.size and buys.size:
            k = np.searchsorted(buys, refunds) - 1
            order = buys[np.maximum(k, 0)]
            ok = (k >= 0) & (r["person"][idx][order] == r["person"][idx][refunds])
            # One refund per order: the first one after it.
            _, first = np.unique(order[ok], return_index=True)
            refund_at[order[ok][first]] = r["t"][idx][refunds[ok][first]]
            keep = np.ones(len(idx), dtype=bool)
            keep[refunds[ok][first]] = False
            idx, refund_at = idx[keep], refund_at[keep]
        person = r["person"][idx]
        t = r["t"][idx]
        parts = []
        for (_, tpi), sel in self._groups(r["kind"][idx], r["tp"][idx]):
            e = self.plan.emitters[tpi]
            n = len(sel)
            props = self._props(e, n, False)
            amount = self._value(e, n, (19.0, 199.0))
            ts = t[sel]
            created = iso(ts - (60 + (self.rng.random(n) * 600)).astype(np.int64) * US, "s")
            now = iso(ts, "s")
            empty = pa.array([""] * n)
            status, paid, cancelled, refunded = "paid", now, empty, empty
            if e.event == "order_placed":
                created, status, paid = now, "placed", empty
            elif e.event == "order_cancelled":
                status, paid, cancelled = "cancelled", empty, now
            elif e.event == "order_refunded":
                # A refund of an order paid the day before (created a few minutes earlier).
                status = "refunded"
                created = iso(ts - DAY - 600 * US, "s")
                paid = iso(ts - DAY, "s")
                refunded = now
            elif e.event == "purchase" and (refund_at[sel] >= 0).any():
                back = refund_at[sel] >= 0
                refunded = pc.if_else(pa.array(back), iso(refund_at[sel], "s"), empty)
                status = pc.if_else(pa.array(back), pa.scalar("refunded"), pa.scalar("paid"))
            cur = props.get("currency", pa.array(["EUR"] * n))
            items = props.get(
                "items",
                take(
                    [f"SKU-{e.touchpoint.upper()}-{i}" for i in range(1, 4)],
                    (self.rng.random(n) * 3).astype(np.int64),
                ),
            )
            st = props.get(
                "status", status if isinstance(status, pa.Array) else pa.array([status] * n)
            )
            body = join(
                self._ids("O", idx[sel]), ",", take(p.customer_id, person[sel]), ",",
                take(p.email, person[sel]), ",", st, ",", money(amount), ",", cur, ",", items, ",",
                created, ",", paid, ",", cancelled, ",", refunded,
            )  # fmt: skip
            parts.append((sel, body))
        return _assemble(parts, len(idx))

    def campaigns(self, idx: np.ndarray) -> pa.Array:
        """Campaign interaction CSV rows (ads, search, social, email, sms, print)."""
        r, p = self.r, self.p
        person = r["person"][idx]
        n = len(idx)
        ident = self.p.identified[person] & (r["ident"][idx] | (r["kind"][idx] == K_CAMPAIGN))
        ident &= self.c.persons["ident_at"][person] <= r["t"][idx]
        chan = np.zeros(n, dtype=np.int64)
        inter = np.zeros(n, dtype=np.int64)
        camp = np.maximum(r["tag"][idx], 0)
        camp_ids = [f"CMP-{i:03d}" for i in range(len(self.w.campaigns))]
        cid = np.array(camp_ids, dtype=object)[camp]
        cname = np.array(self.w.campaigns, dtype=object)[camp]
        cost = np.nan_to_num(r["af"][idx], nan=0.0)
        for (k, tpi), sel in self._groups(r["kind"][idx], r["tp"][idx]):
            if k == K_TOUCH:
                e = self.plan.emitters[tpi]
                chan[sel] = CAMPAIGN_CHANNELS.index(e.channel)
                inter[sel] = INTERACTIONS.index(e.event.removeprefix("campaign_"))
                cost[sel] = self._value(e, len(sel), (0.05, 0.9))
                # The touchpoint's rule names its campaign (``campaign_id eq next_course``):
                # the row is about that campaign, so the map binds it to the touchpoint.
                named = self._props(e, len(sel), False)
                ids, names = named.get("campaign_id"), named.get("campaign_name")
                if ids is not None:
                    cid[sel] = np.array(ids.to_pylist(), dtype=object)
                    cname[sel] = cid[sel]
                if names is not None:
                    cname[sel] = np.array(names.to_pylist(), dtype=object)
                    if ids is None:
                        known = dict(zip(self.w.campaigns, camp_ids, strict=True))
                        cid[sel] = [known.get(v, v) for v in cname[sel]]
            else:
                chan[sel] = r["ai"][idx][sel] // 10
                inter[sel] = r["ai"][idx][sel] % 10
        # Mail-type channels reach known people; anonymous visitors are reached by ads cookies.
        # Mail-type channels reach a known address; ads reach a browser cookie until the
        # customer is known, then the CRM id.
        mail_like = np.isin(chan, [CAMPAIGN_CHANNELS.index(c) for c in ("email", "sms", "print")])
        mobile_used = self.used[person, D_MOBILE] & ~self.used[person, D_DESKTOP]
        slot = np.where(mobile_used, D_MOBILE, D_DESKTOP)
        anon_present = ~ident & ~mail_like
        self.used[person[anon_present], slot[anon_present]] = True
        anon = pc.if_else(
            pa.array(slot == D_MOBILE), take(p.anon[2], person), take(p.anon[1], person)
        )
        anon = pc.if_else(pa.array(anon_present), anon, pa.scalar(""))
        cust = pc.if_else(pa.array(ident), take(p.customer_id, person), pa.scalar(""))
        mail = pc.if_else(pa.array(ident | mail_like), take(p.email, person), pa.scalar(""))
        return join(
            self._ids("I", idx), ",", iso(r["t"][idx], "s"), ",", take(CAMPAIGN_CHANNELS, chan), ",",
            _quoted(cid), ",", _quoted(cname), ",", take(INTERACTIONS, inter), ",", cust, ",",
            mail, ",", anon, ",", money(cost),
        )  # fmt: skip

    def loyalty(self, idx: np.ndarray) -> pa.Array:
        """Loyalty ledger CSV rows."""
        r, p = self.r, self.p
        person = r["person"][idx]
        n = len(idx)
        types = ("earn", "enroll", "redeem", "tier_change")
        typ = np.where(r["kind"][idx] == K_LOYALTY, r["ai"][idx], 0)
        pts = np.nan_to_num(r["af"][idx], nan=10.0)
        for (k, tpi), sel in self._groups(r["kind"][idx], r["tp"][idx]):
            if k == K_TOUCH:
                e = self.plan.emitters[tpi]
                typ[sel] = types.index(e.event.removeprefix("loyalty_"))
                pts[sel] = np.round(self._value(e, len(sel), (5, 50)))
        # Of the background earnings, some are redemptions and a few are tier changes.
        u = self.rng.random(n)
        redeem = (typ == 0) & (u < 0.1)
        tier_up = (typ == 0) & (u >= 0.1) & (u < 0.13)
        typ = np.where(redeem, 2, np.where(tier_up, 3, typ))
        pts = np.where(redeem, -pts * 5, np.where(tier_up, 0, pts))
        tier = take(("bronze", "silver", "gold"), (self.rng.random(n) ** 2 * 3).astype(np.int64))
        reasons = take(("lesson completed", "signup bonus", "reward redeemed", "tier review"), typ)
        return join(
            self._ids("L", idx), ",", take(p.customer_id, person), ",", iso(r["t"][idx], "s"), ",",
            take(types, typ), ",", num(pts), ",", tier, ",", reasons,
        )  # fmt: skip

    def surveys(self, idx: np.ndarray) -> pa.Array:
        """Survey answer CSV rows (NPS 0–10, CSAT 1–5, CES 1–7) with comments."""
        r, p = self.r, self.p
        person = r["person"][idx]
        n = len(idx)
        exp = r["exp"][idx].astype(np.int64)
        typ = r["ai"][idx].astype(np.int64)
        about = r["tp"][idx].astype(np.int64)
        chan = np.array(["email"] * n, dtype=object)
        for (k, tpi), sel in self._groups(r["kind"][idx], r["tp"][idx]):
            if k == K_TOUCH:
                e = self.plan.emitters[tpi]
                typ[sel] = ("csat", "ces", "nps").index(e.event.removesuffix("_response"))
                chan[sel] = e.channel
        u = self.rng.random(n)
        lo = np.array([[4, 3, 1], [5, 4, 1], [9, 7, 0]])[typ, exp]
        hi = np.array([[5, 4, 2], [7, 5, 3], [10, 8, 6]])[typ, exp]
        score = lo + np.floor(u * (hi - lo + 1)).astype(np.int64)
        for (k, tpi), sel in self._groups(r["kind"][idx], r["tp"][idx]):
            em = self.plan.emitters[tpi] if tpi >= 0 else None
            if k == K_TOUCH and em is not None and em.score is not None:
                score[sel] = _interval(
                    em.score.low, em.score.high, em.score.candidates, self.rng.random(len(sel))
                ).astype(np.int64)
        names = ["service", *self.tp_names]
        nb = 6
        vocab = [
            cq(COMMENTS[x][j].format(tp=name))
            for name in names
            for x in (0, 1, 2)
            for j in range(nb)
        ]
        # What the answer is about: the visited touchpoint for follow-up surveys (``tag``),
        # unless the survey touchpoint's rule fixes ``touchpoint`` / ``stage`` values.
        tp_ids = ["", *[e.touchpoint for e in self.plan.emitters]]
        # Relationship surveys (NPS at the end of the journey) are about the last stage.
        stage_ids = [
            self.plan.stage_ids[-1],
            *[self.plan.stage_ids[e.stage] for e in self.plan.emitters],
        ]
        tp_text = np.array(tp_ids, dtype=object)[about + 1]
        st_text = np.array(stage_ids, dtype=object)[about + 1]
        for (k, tpi), sel in self._groups(r["kind"][idx], r["tp"][idx]):
            if k != K_TOUCH:
                continue
            visited = r["tag"][idx][sel]
            about[sel] = np.where(visited >= 0, visited, about[sel])
            tp_text[sel] = np.array(tp_ids, dtype=object)[about[sel] + 1]
            st_text[sel] = np.array(stage_ids, dtype=object)[about[sel] + 1]
            fixed = dict(self.plan.emitters[tpi].props)
            u2 = self.rng.random(len(sel))
            for col, arr in (("touchpoint", tp_text), ("stage", st_text)):
                vals = fixed.get(col)
                if vals is None or not vals.candidates:
                    continue
                cands = [str(c) for c in vals.candidates]
                pick = np.array(cands, dtype=object)[(u2 * len(cands)).astype(np.int64)]
                arr[sel] = np.where(np.isin(arr[sel], cands), arr[sel], pick)
        has_comment = self.rng.random(n) < 0.6
        cidx = (about + 1) * 3 * nb + exp * nb + (self.rng.random(n) * nb).astype(np.int64)
        comment = pc.if_else(pa.array(has_comment), take(vocab, cidx), pa.scalar(""))
        tp_col = _quoted(tp_text)
        st_col = _quoted(st_text)
        ident = r["ident"][idx]
        cust = pc.if_else(pa.array(ident), take(p.customer_id, person), pa.scalar(""))
        return join(
            self._ids("R", idx), ",", iso(r["t"][idx], "s"), ",", cust, ",", take(p.email, person), ",",
            take(("csat", "ces", "nps"), typ), ",", num(score), ",", comment, ",", tp_col, ",", st_col,
            ",", pa.array(chan.tolist(), pa.string()),
        )  # fmt: skip

    def social(self, idx: np.ndarray) -> pa.Array:
        """Social-listening JSON lines: mentions with text, handle and (sometimes) customer id."""
        r, p = self.r, self.p
        person = r["person"][idx]
        n = len(idx)
        exp = r["exp"][idx].astype(np.int64)
        tp = r["tp"][idx].astype(np.int64)
        names = self.tp_names
        vocab = [
            jq(SOCIAL[x][j % len(SOCIAL[x])].format(tp=name))
            for name in names
            for x in (0, 1, 2)
            for j in range(3)
        ]
        text = take(vocab, tp * 9 + exp * 3 + (self.rng.random(n) * 3).astype(np.int64))
        # Whether the listening tool knows an author's account is the author's property (40%
        # of identified authors, e.g. linked in their profile), not each post's: drawn per
        # post, a customer who posts more (one who stays) would be stitched more often.
        known_author = (self.c.persons["key"][person, 3] & 0xFFFFF) < 0.4 * 0x100000
        linked = r["ident"][idx] & known_author
        self.social_linked[person[linked]] = True
        cust = nullable(take(p.customer_id, person), linked)
        platform = take(
            ('"x"', '"instagram"', '"reddit"'), (self.rng.random(n) * 3).astype(np.int64)
        )
        likes = num(np.floor(self.rng.exponential(5, n)))
        ids = self._ids("S", idx)
        return join(
            '{"id":"', ids, '","created_at":"', iso(r["t"][idx], "s"), '","platform":', platform,
            ',"author_handle":"', take(p.handle, person), '","text":', text, ',"url":"https://social.example.com/p/',
            ids, '","likes":', likes, ',"customer_id":', cust, "}",
        )  # fmt: skip

    def support(self, idx: np.ndarray) -> pa.Array:
        """Support ticket CSV rows (opened / resolved) with subject and body text."""
        r, p = self.r, self.p
        person = r["person"][idx]
        n = len(idx)
        exp = r["exp"][idx].astype(np.int64)
        tp = r["tp"][idx].astype(np.int64)
        chan = r["ai"][idx].astype(np.int64)
        hours = r["af"][idx]
        for (k, tpi), sel in self._groups(r["kind"][idx], r["tp"][idx]):
            if k == K_TOUCH:
                e = self.plan.emitters[tpi]
                chan[sel] = SUPPORT_CHANNELS.index(e.channel)
                hours[sel] = 1 + self.rng.lognormal(1.5, 1.0, len(sel))
                exp[sel] = np.where(self.rng.random(len(sel)) < 0.5, 1, exp[sel])
        t = r["t"][idx]
        resolved = ~np.isnan(hours) & (t + np.nan_to_num(hours) * 3600 * US < self.w.t_end)
        res_t = iso(t + (np.nan_to_num(hours) * 3600 * US).astype(np.int64), "s")
        res = pc.if_else(pa.array(resolved), res_t, pa.scalar(""))
        status = pc.if_else(pa.array(resolved), pa.scalar("resolved"), pa.scalar("open"))
        src = np.array([e.source for e in self.plan.emitters])[tp]
        category = np.where(
            exp == PAINFUL,
            "complaint",
            np.where(src == "sales", "billing", np.where(src == "app", "technical", "question")),
        ).astype(object)
        # A touchpoint whose rule names the category (``properties.category eq pre_sales``)
        # gets it: else its tickets would be bound to another touchpoint of the same channel.
        # A ticket written *about* a visit elsewhere (K_TICKET) is filed under the topic of
        # that visit's step when the step has a support touchpoint naming one (a ticket about
        # the help centre is a course-help ticket), else under its generic topic above.
        for (k, tpi), sel in self._groups(r["kind"][idx], r["tp"][idx]):
            if k == K_TOUCH:
                cats = dict(self.plan.emitters[tpi].props).get("category")
            else:
                cats = self._step_ticket_category.get(self.plan.emitters[tpi].step)
            if cats is not None and cats.candidates:
                allowed = [str(c) for c in cats.candidates]
                category[sel] = np.where(np.isin(category[sel], allowed), category[sel], allowed[0])
        subj = [
            cq(TICKET_SUBJECTS[x][j % len(TICKET_SUBJECTS[x])].format(tp=name))
            for name in self.tp_names
            for x in (0, 1, 2)
            for j in range(3)
        ]
        body = [
            cq(TICKET_BODIES[x][j % len(TICKET_BODIES[x])].format(tp=name))
            for name in self.tp_names
            for x in (0, 1, 2)
            for j in range(2)
        ]
        j = self.rng.random(n)
        ident = r["ident"][idx]
        cust = pc.if_else(pa.array(ident), take(p.customer_id, person), pa.scalar(""))
        return join(
            self._ids("T", idx), ",", cust, ",", take(p.email, person), ",", take(SUPPORT_CHANNELS, chan), ",",
            pa.array(category.tolist(), pa.string()), ",", status, ",", iso(t, "s"), ",", res, ",",
            take(subj, tp * 9 + exp * 3 + (j * 3).astype(np.int64)), ",",
            take(body, tp * 6 + exp * 2 + (j * 2).astype(np.int64)),
        )  # fmt: skip

    def crm(self) -> pa.Array:
        """CRM export rows: identified customers with attributes fitting their persona."""
        c, p = self.c, self.p
        who = np.flatnonzero(p.identified)
        persona = c.persons["persona"][who]
        u = c.persons["attr_u"][who]
        countries = _persona_pick(persona, u[:, 0], [pp.countries for pp in self.plan.personas])
        plans = _persona_pick(persona, u[:, 1], [pp.plans for pp in self.plan.personas])
        gens = take(GENERATIONS, c.persons["gen"][who])
        signup = pc.cast(
            pa.array(c.persons["ident_at"][who] // DAY, pa.int32()).cast(pa.date32()), pa.string()
        )
        return join(
            take(p.customer_id, who), ",", take(p.email, who), ",", take(p.first, who), ",",
            num(c.persons["birth"][who]), ",", gens, ",", countries, ",", signup, ",", plans,
        )  # fmt: skip

    # -- helpers -----------------------------------------------------------------------

    def _ids(self, prefix: str, idx: np.ndarray) -> pa.Array:
        """Record ids unique across chunks: prefix, chunk number, row within the chunk."""
        return join(f"{prefix}{self.c.index:04d}-", num(idx))

    def _groups(self, kind: np.ndarray, tp: np.ndarray) -> list[tuple[tuple[int, int], np.ndarray]]:
        """Record positions grouped by (kind, touchpoint), in a fixed order."""
        key = kind.astype(np.int64) * 100_000 + tp.astype(np.int64) + 1
        order = np.argsort(key, kind="stable")
        uniq, start = np.unique(key[order], return_index=True)
        bounds = [*start.tolist(), len(order)]
        return [
            ((int(k // 100_000), int(k % 100_000) - 1), order[bounds[i] : bounds[i + 1]])
            for i, k in enumerate(uniq)
        ]

    def _incident_event(self, tags: np.ndarray) -> pa.Array:
        names = [
            jq(e.event) if isinstance(e, Incident) else jq("error")
            for e in self.plan.scenario.effects
        ]
        return take(names or [jq("error")], np.maximum(tags, 0))


def _quoted(values: np.ndarray) -> pa.Array:
    """CSV fields of a text array, quoting each distinct value once."""
    uniq, inverse = np.unique(values.astype(str), return_inverse=True)
    return take([cq(v) for v in uniq.tolist()], inverse)


def _persona_pick(persona: np.ndarray, u: np.ndarray, options: list[tuple[str, ...]]) -> pa.Array:
    """Per row, option ``u`` of its persona's candidate values (CSV-quoted)."""
    vocab: list[str] = []
    start = []
    for opts in options:
        start.append(len(vocab))
        vocab += [cq(o) for o in opts]
    sizes = np.array([len(o) for o in options])
    idx = np.array(start)[persona] + (u * sizes[persona]).astype(np.int64)
    return take(vocab, idx)


def _interval(
    low: float | None, high: float | None, cands: tuple[Any, ...], u: np.ndarray
) -> np.ndarray:
    if cands:
        arr = np.array([float(c) for c in cands])
        return arr[(u * len(arr)).astype(np.int64)]
    lo = low if low is not None else 0.0
    hi = high if high is not None else lo + 100
    return lo + u * (hi - lo)


def _assemble(parts: list[tuple[np.ndarray, pa.Array]], n: int) -> pa.Array:
    """Put per-group lines back into record order."""
    if not parts:
        return pa.array([], pa.string())
    positions = np.concatenate([sel for sel, _ in parts])
    arrays = [
        (pa.array([arr.as_py()] * len(sel)) if isinstance(arr, pa.Scalar) else arr)
        for sel, arr in parts
    ]
    lines = pa.concat_arrays([arr.cast(pa.string()) for arr in arrays])
    inverse = np.empty(n, dtype=np.int64)
    inverse[positions] = np.arange(n)
    return lines.take(pa.array(inverse))


# -- dirty records ---------------------------------------------------------------------

_BAD_TIMES = ("2026-02-30T25:61:00Z", "yesterday", "1985-06-01T00:00:00Z", "2199-01-01T00:00:00Z")
_JSON_TS = {"segment": "timestamp", "social": "created_at"}
_CSV_TS = {"orders": 7, "campaigns": 1, "loyalty": 2, "surveys": 1, "support": 6}
_CSV_IDS = {
    "orders": (1, 2),
    "campaigns": (6, 7, 8),
    "loyalty": (1,),
    "surveys": (2, 3),
    "support": (1, 2),
}
_CSV_REQUIRED = {"orders": 0, "campaigns": 5, "loyalty": 3, "surveys": 4, "support": 0}
_CSV_TEXT = {"orders": 6, "campaigns": 4, "loyalty": 6, "surveys": 6, "support": 8}
_REQUIRED_JSON = {"segment": "type", "ga4": "event_name", "social": "id"}


def corrupt(fmt: str, line: str, kind: str, u: float) -> tuple[bytes, str]:
    """Break one good line in the way ``kind`` says; return the bytes and a detail text."""
    if kind == "broken_json":
        cut = max(1, len(line) // 2)
        return line[:cut].encode(), f"line cut after {cut} characters"
    if fmt in ("segment", "ga4", "social"):
        obj = json.loads(line)
        if kind == "bad_timestamp":
            bad = _BAD_TIMES[int(u * len(_BAD_TIMES))]
            if fmt == "ga4":
                value: object = "not-a-number" if u < 0.5 else 473_385_600_000_000  # 1985
                obj["event_timestamp"] = value
                detail = f"event_timestamp {value!r}"
            else:
                obj[_JSON_TS[fmt]] = bad
                detail = f"{_JSON_TS[fmt]} {bad!r}"
        elif kind == "missing_identity":
            if fmt == "segment":
                obj["anonymousId"] = None
                obj["userId"] = None
                obj.get("context", {}).get("device", {}).pop("id", None)
                obj.pop("traits", None)
            elif fmt == "ga4":
                obj["user_pseudo_id"] = None
                obj["user_id"] = None
            else:
                obj["author_handle"] = ""
                obj["customer_id"] = None
            detail = "no identity field filled"
        elif kind == "missing_field":
            name = _REQUIRED_JSON[fmt]
            obj[name] = ""
            detail = f"{name} empty"
        else:  # bad_encoding
            if fmt == "segment":
                obj["context"]["userAgent"] = _ENC + obj["context"]["userAgent"]
                where = "context.userAgent"
            elif fmt == "ga4":
                obj["geo"]["country"] = _ENC
                where = "geo.country"
            else:
                obj["text"] = _ENC + obj["text"]
                where = "text"
            text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            return text.encode().replace(
                _ENC.encode(), _BAD_BYTES
            ), f"non-UTF-8 byte 0xE9 in {where}"
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode(), detail
    row = next(csv.reader([line]))
    if kind == "bad_timestamp":
        col = _CSV_TS[fmt]
        row[col] = _BAD_TIMES[int(u * len(_BAD_TIMES))]
        detail = f"{CSV_HEADERS[fmt].split(',')[col]} {row[col]!r}"
    elif kind == "missing_identity":
        for col in _CSV_IDS[fmt]:
            row[col] = ""
        detail = "no identity column filled"
    elif kind == "missing_field":
        col = _CSV_REQUIRED[fmt]
        row[col] = ""
        detail = f"{CSV_HEADERS[fmt].split(',')[col]} empty"
    elif kind == "out_of_range_score":
        top = {"nps": 10, "csat": 5, "ces": 7}[row[4]]
        row[5] = str(top + 1 + int(u * 5)) if u < 0.7 else "-1"
        detail = f"{row[4]} score {row[5]}"
    elif kind == "unknown_currency":
        row[5] = "ZZZ"
        detail = "currency 'ZZZ'"
    else:  # bad_encoding
        col = _CSV_TEXT[fmt]
        row[col] = _ENC + row[col]
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(row)
        name = CSV_HEADERS[fmt].split(",")[col]
        return buf.getvalue().encode().replace(
            _ENC.encode(), _BAD_BYTES
        ), f"non-UTF-8 byte 0xE9 in {name}"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(row)
    return buf.getvalue().encode(), detail


def write_lines(
    path: Path,
    lines: pa.Array,
    fmt: str,
    header: str | None,
    dirty_rate: float,
    rng: np.random.Generator,
) -> Written:
    """Write ``lines`` (plus header), breaking a ``dirty_rate`` share of them; list each."""
    n = len(lines)
    dirty: list[tuple[int, str, str]] = []
    base = 2 if header is not None else 1
    data = lines.cast(pa.large_binary())
    dup = np.zeros(n, dtype=bool)
    if dirty_rate > 0 and n:
        pick = rng.random(n) < dirty_rate
        kinds = DIRTY_KINDS[fmt]
        which = (rng.random(n) * len(kinds)).astype(np.int64)
        us = rng.random(n)
        chosen = np.flatnonzero(pick)
        dup = pick & (np.array(kinds)[which] == "duplicate")
        replace = chosen[np.array(kinds)[which[chosen]] != "duplicate"]
        if replace.size:
            texts = lines.take(pa.array(replace)).to_pylist()
            new: list[bytes] = []
            details = []
            for i, text in zip(replace, texts, strict=True):
                b, d = corrupt(fmt, text, kinds[which[i]], float(us[i]))
                new.append(b)
                details.append(d)
            mask = np.zeros(n, dtype=bool)
            mask[replace] = True
            data = pc.replace_with_mask(data, pa.array(mask), pa.array(new, pa.large_binary()))
            kinds_of = {int(i): (kinds[which[i]], d) for i, d in zip(replace, details, strict=True)}
        else:
            kinds_of = {}
        # Line numbers after duplicates are inserted right after their originals.
        shift = np.cumsum(dup) - dup
        for i in np.flatnonzero(pick):
            line_no = int(i + shift[i]) + base
            if dup[i]:
                dirty.append((line_no + 1, "duplicate", f"same record as line {line_no}"))
            else:
                k, d = kinds_of[int(i)]
                dirty.append((line_no, k, d))
    order = np.repeat(np.arange(n), 1 + dup.astype(np.int64))
    if dup.any():
        data = data.take(pa.array(order))
    data = pc.binary_join_element_wise(
        data, pa.scalar(b"\n", pa.large_binary()), pa.scalar(b"", pa.large_binary())
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        if header is not None:
            fh.write((header + "\n").encode())
        if len(data):
            offsets = np.frombuffer(data.buffers()[1], dtype=np.int64)[
                data.offset : data.offset + len(data) + 1
            ]
            fh.write(memoryview(data.buffers()[2])[offsets[0] : offsets[-1]])
    return Written(len(order), dirty)
