"""The identity ground truth says which identities the data can link to their customer."""

from __future__ import annotations

import csv
from collections import defaultdict

from tests.simulate.readers import Output

from journeylens.simulate.run import SimulationResult


def test_linkable_column_matches_what_the_raw_records_tie_together(
    effects_run: SimulationResult,
) -> None:
    out = Output(effects_run.out)
    with (out.root / "ground_truth" / "identities.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["linkable"] for r in rows} == {"true", "false"}
    flag = {(r["identity_type"], r["identity_value"]): r["linkable"] == "true" for r in rows}
    # Devices (anonymous ids) seen with a user id on some web or app record.
    with_user: dict[str, bool] = defaultdict(bool)
    for r in out.rows("web"):
        with_user[r["anonymousId"]] |= bool(r["userId"])
    for r in out.rows("app"):
        with_user[r["user_pseudo_id"]] |= bool(r["user_id"])
    checked = 0
    for anon, linked in with_user.items():
        assert flag[("anonymous_id", anon)] == linked, anon
        checked += 1
    assert checked > 1000
    assert any(not v for v in with_user.values())  # some devices never log in
    # Every user id, and the email of every CRM customer, is linkable.
    crm = list(out.rows("crm"))
    assert all(flag[("user_id", r["customer_id"])] for r in crm)
    assert all(flag[("email", r["email"])] for r in crm)
    crm_emails = {r["email"] for r in crm}
    guest_emails = [v for (t, v), ok in flag.items() if t == "email" and v not in crm_emails]
    assert guest_emails
    assert not any(flag[("email", e)] for e in guest_emails)
    # A social handle is linkable exactly when some mention names the customer id.
    named = {r["author_handle"] for r in out.rows("social") if r["customer_id"]}
    for (t, v), ok in flag.items():
        if t == "social_handle":
            assert ok == (v in named), v
