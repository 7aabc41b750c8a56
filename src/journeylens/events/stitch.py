"""Identity stitching: connect raw identities into customers, in DuckDB.

Identities are typed nodes — ``user`` (the CRM id space), ``anonymous``, ``device`` and
``email``. Edges come from events that carry several identities at once (an identify or a
login joins the anonymous id and the device to the user; an order joins its e-mail to its
customer), from Segment ``alias`` (``previous_id`` → user) and from the CRM export
(customer_id ↔ email). Connected components are computed by label propagation in SQL: every
node starts with its own label and repeatedly takes the smallest label among itself and its
neighbours until nothing changes (one SQL statement per round, never a loop over rows).

Labels sort user nodes first, so a component's ``customer_id`` is its smallest user id, or
``anon-<hash of its smallest identity>`` when nobody in it ever identified: deterministic
across runs and independent of ingestion order.

Over-merge guard: a non-user identity linked directly to more than ``max_users_per_identity``
distinct user ids (a shared device, a shop-floor tablet, a shared mailbox) and a user id
linked to more than ``max_identities_per_user`` anonymous ids or devices (a test account)
keep their own node, but their edges are refused and listed in ``identity_edges_refused``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

#: Sort prefix of each identity type: user ids win the minimum label of a component.
_PRIORITY = {"user": 0, "anonymous": 1, "device": 2, "email": 3}

_EDGES = """
WITH ev AS (
    SELECT user_id, anonymous_id, device_id,
           lower(NULLIF(trim(json_extract_string(properties, '$.email')), '')) AS email,
           NULLIF(trim(json_extract_string(properties, '$.previous_id')), '') AS previous_id,
           event_name
    FROM events
),
pairs AS (
    SELECT 'user' AS a_type, user_id AS a_value, 'anonymous' AS b_type, anonymous_id AS b_value,
           'event' AS origin FROM ev WHERE user_id IS NOT NULL AND anonymous_id IS NOT NULL
    UNION ALL
    SELECT 'user', user_id, 'device', device_id, 'event'
    FROM ev WHERE user_id IS NOT NULL AND device_id IS NOT NULL
    UNION ALL
    SELECT 'user', user_id, 'email', email, 'event'
    FROM ev WHERE user_id IS NOT NULL AND email IS NOT NULL
    UNION ALL
    SELECT 'user', user_id, 'anonymous', previous_id, 'alias'
    FROM ev WHERE user_id IS NOT NULL AND previous_id IS NOT NULL AND previous_id <> user_id
    UNION ALL
    SELECT 'anonymous', anonymous_id, 'device', device_id, 'event'
    FROM ev WHERE user_id IS NULL AND anonymous_id IS NOT NULL AND device_id IS NOT NULL
    UNION ALL
    SELECT 'anonymous', anonymous_id, 'email', email, 'event'
    FROM ev WHERE user_id IS NULL AND anonymous_id IS NOT NULL AND email IS NOT NULL
    UNION ALL
    SELECT 'user', customer_id, 'email', email, 'crm'
    FROM crm_records WHERE email IS NOT NULL
)
SELECT a_type, a_value, b_type, b_value, min(origin) AS origin, count(*) AS n_events
FROM pairs
WHERE NOT (a_type = b_type AND a_value = b_value)
GROUP BY ALL
"""

_NODES = """
SELECT DISTINCT identity_type, identity_value FROM (
    SELECT 'user' AS identity_type, user_id AS identity_value FROM events WHERE user_id IS NOT NULL
    UNION ALL SELECT 'anonymous', anonymous_id FROM events WHERE anonymous_id IS NOT NULL
    UNION ALL SELECT 'device', device_id FROM events WHERE device_id IS NOT NULL
    UNION ALL SELECT a_type, a_value FROM _jl_edges_all
    UNION ALL SELECT b_type, b_value FROM _jl_edges_all
    UNION ALL SELECT 'user', customer_id FROM crm_records
    UNION ALL SELECT 'email', lower(json_extract_string(properties, '$.email')) FROM events
        WHERE user_id IS NULL AND anonymous_id IS NULL AND device_id IS NULL
          AND json_extract_string(properties, '$.email') IS NOT NULL
)
"""

# An event's anchor: the identity that decides its customer (user > anonymous > device > email).
_ANCHOR = """
CASE WHEN e.user_id IS NOT NULL THEN '0|' || e.user_id
     WHEN e.anonymous_id IS NOT NULL THEN '1|' || e.anonymous_id
     WHEN e.device_id IS NOT NULL THEN '2|' || e.device_id
     ELSE '3|' || lower(json_extract_string(e.properties, '$.email')) END
"""


def _key(type_col: str, value_col: str) -> str:
    """SQL for the sortable node key ``<priority>|<value>`` of an identity."""
    return (
        f"(CASE {type_col} WHEN 'user' THEN '0' WHEN 'anonymous' THEN '1' "
        f"WHEN 'device' THEN '2' ELSE '3' END) || '|' || {value_col}"
    )


@dataclass(frozen=True, slots=True)
class StitchResult:
    """What a stitching pass produced."""

    customers: int
    identified_customers: int
    identities: int
    edges: int
    refused_edges: int
    iterations: int


def stitch(
    con: duckdb.DuckDBPyConnection,
    *,
    max_users_per_identity: int = 5,
    max_identities_per_user: int = 100,
) -> StitchResult:
    """Recompute the identity graph, customers and ``events.customer_id`` from scratch.

    Runs inside the caller's transaction when there is one (ingestion stitches before it
    commits), so customers never disagree with events.
    """
    if max_users_per_identity < 1 or max_identities_per_user < 1:
        raise ValueError("over-merge limits must be ≥ 1")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _jl_edges_all AS {_EDGES}")
    # Guard: identities touching too many users, and users touching too many identities.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _jl_refused AS
        WITH shared AS (
            SELECT b_type AS t, b_value AS v, count(DISTINCT a_value) AS n, 'shared_identity' AS why
            FROM _jl_edges_all WHERE a_type = 'user' GROUP BY ALL HAVING count(DISTINCT a_value) > $k
        ),
        busy AS (
            SELECT a_type AS t, a_value AS v, count(DISTINCT b_value) AS n, 'busy_user' AS why
            FROM _jl_edges_all WHERE a_type = 'user' AND b_type IN ('anonymous', 'device')
            GROUP BY ALL HAVING count(DISTINCT b_value) > $m
        )
        SELECT e.*, coalesce(s.why, s2.why, u.why) AS reason,
               coalesce(s.n, s2.n, u.n) AS linked
        FROM _jl_edges_all AS e
        LEFT JOIN shared AS s ON s.t = e.b_type AND s.v = e.b_value
        LEFT JOIN shared AS s2 ON s2.t = e.a_type AND s2.v = e.a_value
        LEFT JOIN busy AS u ON u.t = e.a_type AND u.v = e.a_value AND e.b_type IN ('anonymous', 'device')
        WHERE coalesce(s.why, s2.why, u.why) IS NOT NULL
        """,
        {"k": max_users_per_identity, "m": max_identities_per_user},
    )
    con.execute("DELETE FROM identity_edges")
    con.execute("DELETE FROM identity_edges_refused")
    con.execute(
        "INSERT INTO identity_edges SELECT a_type, a_value, b_type, b_value, origin, n_events "
        "FROM _jl_edges_all AS e ANTI JOIN _jl_refused AS r "
        "USING (a_type, a_value, b_type, b_value)"
    )
    con.execute(
        "INSERT INTO identity_edges_refused SELECT a_type, a_value, b_type, b_value, origin, "
        "reason, linked FROM _jl_refused"
    )
    # Nodes get integer ids in key order, so the smallest id of a component is its smallest
    # key (a user id when there is one) and every round joins integers, not strings.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _jl_nodes AS SELECT identity_type, identity_value, node, "
        f"row_number() OVER (ORDER BY node) AS id FROM (SELECT identity_type, identity_value, "
        f"{_key('identity_type', 'identity_value')} AS node FROM ({_NODES}) "
        "WHERE identity_value IS NOT NULL)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _jl_adj AS "
        "WITH e AS (SELECT a.id AS src, b.id AS dst FROM identity_edges AS g "
        "JOIN _jl_nodes AS a ON a.identity_type = g.a_type AND a.identity_value = g.a_value "
        "JOIN _jl_nodes AS b ON b.identity_type = g.b_type AND b.identity_value = g.b_value) "
        "SELECT src, dst FROM e UNION SELECT dst, src FROM e"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _jl_label AS SELECT id AS node, id AS label FROM _jl_nodes"
    )
    iterations = 0
    while True:
        iterations += 1
        # One round: each node takes the smallest label among itself and its neighbours;
        # nodes that shared a label then all take the smallest label their group reached
        # (hooking), and each node jumps to its label's label. Groups merge like union-find,
        # so long chains converge in a number of rounds that grows with their log-length.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _jl_label2 AS
            WITH step AS (
                SELECT l.node, l.label AS old,
                       least(l.label, coalesce(min(n.label), l.label)) AS new
                FROM _jl_label AS l
                LEFT JOIN _jl_adj AS a ON a.src = l.node
                LEFT JOIN _jl_label AS n ON n.node = a.dst
                GROUP BY l.node, l.label
            ),
            grp AS (SELECT old, min(new) AS low FROM step GROUP BY old),
            hooked AS (
                SELECT s.node, least(s.new, g.low, coalesce(r.low, g.low)) AS label
                FROM step AS s JOIN grp AS g USING (old)
                LEFT JOIN grp AS r ON r.old = s.node
            )
            SELECT h.node, least(h.label, coalesce(j.label, h.label)) AS label
            FROM hooked AS h LEFT JOIN hooked AS j ON j.node = h.label
            """
        )
        changed = con.execute(
            "SELECT count(*) FROM _jl_label2 AS b JOIN _jl_label AS a USING (node) "
            "WHERE a.label <> b.label"
        ).fetchall()[0][0]
        con.execute("DROP TABLE _jl_label")
        con.execute("ALTER TABLE _jl_label2 RENAME TO _jl_label")
        if changed == 0:
            break
    con.execute("DELETE FROM identities")
    con.execute(
        """
        INSERT INTO identities
        SELECT n.identity_type, n.identity_value,
               CASE WHEN starts_with(r.node, '0|') THEN substr(r.node, 3)
                    ELSE 'anon-' || left(md5(r.node), 16) END
        FROM _jl_nodes AS n JOIN _jl_label AS l ON l.node = n.id
        JOIN _jl_nodes AS r ON r.id = l.label
        """
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _jl_idmap AS SELECT "
        f"{_key('identity_type', 'identity_value')} AS node, customer_id FROM identities"
    )
    con.execute(
        f"UPDATE events AS e SET customer_id = m.customer_id FROM _jl_idmap AS m "
        f"WHERE m.node = {_ANCHOR} AND e.customer_id IS DISTINCT FROM m.customer_id"
    )
    con.execute("DELETE FROM customers")
    con.execute(
        """
        INSERT INTO customers
        SELECT i.customer_id, bool_or(i.identity_type = 'user'), count(*),
               any_value(c.email), any_value(c.first_name), any_value(c.birth_year),
               any_value(c.generation), any_value(c.country), any_value(c.signup_date),
               any_value(c.plan), any_value(c.attributes)
        FROM identities AS i LEFT JOIN crm_records AS c ON c.customer_id = i.customer_id
        GROUP BY i.customer_id
        """
    )
    for table in ("_jl_edges_all", "_jl_refused", "_jl_nodes", "_jl_adj", "_jl_label", "_jl_idmap"):
        con.execute(f"DROP TABLE IF EXISTS temp.{table}")
    counts = con.execute(
        "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FILTER (WHERE identified) "
        "FROM customers), (SELECT count(*) FROM identities), (SELECT count(*) FROM identity_edges), "
        "(SELECT count(*) FROM identity_edges_refused)"
    ).fetchall()[0]
    customers, identified, identities, edges, refused = (int(x) for x in counts)
    return StitchResult(customers, identified, identities, edges, refused, iterations)


@dataclass(frozen=True, slots=True)
class Cluster:
    """One customer and how many identities it holds."""

    customer_id: str
    identities: int


@dataclass(frozen=True, slots=True)
class RefusedIdentity:
    """An identity whose edges the over-merge guard refused."""

    identity_type: str
    identity_value: str
    reason: str
    linked: int


@dataclass(frozen=True, slots=True)
class IdentityStats:
    """Summary of the identity graph (``journeylens identities stats``)."""

    customers: int
    identified: int
    anonymous_only_share: float
    identities_per_customer_mean: float
    identities_per_customer_median: float
    identities_per_customer_max: int
    largest: tuple[Cluster, ...]
    refused: tuple[RefusedIdentity, ...]
    refused_edges: int


def identity_stats(con: duckdb.DuckDBPyConnection, *, top: int = 10) -> IdentityStats:
    """Identities per customer, share of anonymous-only customers, largest clusters and the
    identities whose edges were refused (largest link counts first)."""
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE identified), coalesce(avg(n_identities), 0), "
        "coalesce(median(n_identities), 0), coalesce(max(n_identities), 0) FROM customers"
    ).fetchall()[0]
    n, identified, mean, median, largest_n = row
    largest = con.execute(
        "SELECT customer_id, n_identities FROM customers "
        "ORDER BY n_identities DESC, customer_id LIMIT $top",
        {"top": top},
    ).fetchall()
    refused = con.execute(
        """
        SELECT t, v, any_value(reason), max(linked) FROM (
            SELECT CASE WHEN reason = 'busy_user' THEN a_type ELSE
                   CASE WHEN a_type = 'user' THEN b_type ELSE a_type END END AS t,
                   CASE WHEN reason = 'busy_user' THEN a_value ELSE
                   CASE WHEN a_type = 'user' THEN b_value ELSE a_value END END AS v,
                   reason, linked_users AS linked
            FROM identity_edges_refused)
        GROUP BY t, v ORDER BY max(linked) DESC, t, v LIMIT $top
        """,
        {"top": top},
    ).fetchall()
    n_refused = con.execute("SELECT count(*) FROM identity_edges_refused").fetchall()[0][0]
    return IdentityStats(
        customers=int(n),
        identified=int(identified),
        anonymous_only_share=(n - identified) / n if n else 0.0,
        identities_per_customer_mean=float(mean),
        identities_per_customer_median=float(median),
        identities_per_customer_max=int(largest_n),
        largest=tuple(Cluster(str(c), int(k)) for c, k in largest),
        refused=tuple(RefusedIdentity(str(t), str(v), str(r), int(k)) for t, v, r, k in refused),
        refused_edges=int(n_refused),
    )
