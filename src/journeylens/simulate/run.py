"""Run a simulation: chunks of customers → source files, manifest and ground truth.

Memory is bounded by the chunk size (customers are generated, walked and written one
chunk at a time); only counters and file handles live across chunks. Output is
byte-identical for the same map, personas, scenario, parameters and seed, whether the
chunks run in one process or in several (``workers``).
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeylens.model import JourneyMap, Persona
from journeylens.simulate.plan import SOURCES, SUPPORT_CHANNELS, Plan, build_plan
from journeylens.simulate.scenario import (
    CampaignSpike,
    ChannelLift,
    ChannelPreference,
    Friction,
    Incident,
    MomentOfTruth,
    Pain,
    Scenario,
    Seasonality,
)
from journeylens.simulate.walk import (
    D_APP,
    D_DESKTOP,
    D_MOBILE,
    DAY,
    K_ERROR,
    K_IDENTIFY,
    K_TICKET,
    K_TOUCH,
    Counters,
    Walker,
)
from journeylens.simulate.write import CSV_HEADERS, ChunkWriter, write_lines

SIMULATION_SCHEMA = "journeylens/simulation/v1"
GROUND_TRUTH_SCHEMA = "journeylens/ground-truth/v1"
#: (source, folder, format, file extension) in manifest order.
OUTPUTS: tuple[tuple[str, str, str, str], ...] = (
    *(
        (s, folder, fmt, "jsonl" if fmt in ("segment", "ga4", "social") else "csv")
        for s, (folder, fmt) in SOURCES.items()
    ),
    ("crm", "crm", "crm", "csv"),
)
DEFAULT_CHUNK = 50_000


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation wrote: rows per source folder, dirty records, the output folder."""

    out: Path
    customers: int
    rows: dict[str, int]
    dirty: dict[str, int]
    ground_truth: dict[str, Any] = field(repr=False)

    @property
    def events(self) -> int:
        """Rows written to event sources (everything but the CRM export)."""
        return sum(v for k, v in self.rows.items() if k != "crm")

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data (the ground truth stays in its file)."""
        return {
            "out": str(self.out),
            "customers": self.customers,
            "events": self.events,
            "rows": dict(self.rows),
            "dirty": dict(self.dirty),
        }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 6) if b else None


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def _realised(
    effect: Any, c: dict[str, int], arrivals: dict[str, int], prefs: dict[str, int]
) -> dict[str, Any]:
    """The size of an effect as realised by construction (from the walk's counters)."""
    if isinstance(effect, Friction):
        a, b = (
            _rate(c.get("drops_in", 0), c.get("visits_in", 0)),
            _rate(c.get("drops_out", 0), c.get("visits_out", 0)),
        )
        return {"visits_affected": c.get("visits_in", 0), "drop_rate_affected": a,
                "visits_other": c.get("visits_out", 0), "drop_rate_other": b,
                "drop_ratio": _ratio(a or 0, b or 0)}  # fmt: skip
    if isinstance(effect, Incident):
        a = _rate(c.get("errors_in", 0), c.get("visits_in", 0))
        b = _rate(c.get("errors_out", 0), c.get("visits_out", 0))
        return {"visits_in_window": c.get("visits_in", 0), "error_rate_in_window": a,
                "visits_outside": c.get("visits_out", 0), "error_rate_outside": b}  # fmt: skip
    if isinstance(effect, Pain | MomentOfTruth):
        out: dict[str, Any] = {}
        for g in ("exposed", "other"):
            out[f"completed_{g}"] = c.get(f"completed_{g}", 0)
            out[f"churn_rate_{g}"] = _rate(c.get(f"churned_{g}", 0), c.get(f"completed_{g}", 0))
            out[f"inactive_60d_rate_{g}"] = _rate(
                c.get(f"inactive60_{g}", 0), c.get(f"early_{g}", 0)
            )
        out["churn_ratio"] = _ratio(out["churn_rate_exposed"] or 0, out["churn_rate_other"] or 0)
        # What an outcome comparison on "inactive for 60 days at the end of the window"
        # measures over every customer with a record (late arrivals cannot churn yet).
        for g in ("exposed", "other"):
            out[f"customers_{g}"] = c.get(f"units_{g}", 0)
            out[f"measured_churn_rate_{g}"] = _rate(
                c.get(f"quiet60_{g}", 0), c.get(f"units_{g}", 0)
            )
        out["measured_churn_ratio"] = _ratio(
            out["measured_churn_rate_exposed"] or 0, out["measured_churn_rate_other"] or 0
        )
        return out
    if isinstance(effect, ChannelLift):
        a = _rate(c.get("passed_exposed", 0), c.get("visits_exposed", 0))
        b = _rate(c.get("passed_unexposed", 0), c.get("visits_unexposed", 0))
        return {"visits_exposed": c.get("visits_exposed", 0), "pass_rate_exposed": a,
                "visits_unexposed": c.get("visits_unexposed", 0), "pass_rate_unexposed": b,
                "pass_ratio": _ratio(a or 0, b or 0)}  # fmt: skip
    if isinstance(effect, CampaignSpike):
        per_in = _ratio(c.get("arrivals_in", 0), c.get("days_in", 0))
        per_out = _ratio(c.get("arrivals_out", 0), c.get("days_out", 0))
        return {"arrivals_per_day_in": per_in, "arrivals_per_day_outside": per_out,
                "arrival_ratio": _ratio(per_in or 0, per_out or 0)}  # fmt: skip
    if isinstance(effect, Seasonality):
        total = arrivals.get("n", 0)
        return {
            "arrival_share_by_weekday": [_rate(arrivals.get(f"dow{d}", 0), total) for d in range(7)]
        }
    if isinstance(effect, ChannelPreference):
        return {
            "touch_share_on_channels_who": _rate(prefs.get("pref_who", 0), prefs.get("all_who", 0)),
            "touch_share_on_channels_others": _rate(
                prefs.get("pref_other", 0), prefs.get("all_other", 0)
            ),
        }
    return {}


def _clear(out: Path) -> None:
    """Remove files a previous simulation left in our own folders (nothing else)."""
    for _, folder, _, ext in OUTPUTS:
        for p in sorted((out / folder).glob(f"part-*.{ext}")):
            p.unlink()


def simulate(
    journey: JourneyMap,
    personas: list[Persona],
    scenario: Scenario,
    out: str | Path,
    customers: int,
    start: date = date(2026, 1, 5),
    days: int = 180,
    seed: int = 42,
    dirty: float = 0.0,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> SimulationResult:
    """Simulate ``customers`` customers walking ``journey`` and write every source file.

    ``progress`` is called with the number of customers done after each chunk.
    ``workers`` > 1 simulates chunks in that many processes (same output bytes).
    Raises :class:`~journeylens.simulate.plan.PlanError` when the map cannot be simulated.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if days < 1:
        raise ValueError("days must be at least 1")
    if not 0 <= dirty < 1:
        raise ValueError(f"dirty rate must be in [0, 1), got {dirty}")
    plan = build_plan(journey, personas, scenario, start, days)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    _clear(root)
    gt_dir = root / "ground_truth"
    gt_dir.mkdir(exist_ok=True)
    rows = {folder: 0 for _, folder, _, _ in OUTPUTS}
    dirty_counts: dict[str, int] = {}
    dirty_by_file: dict[str, int] = {}
    totals: dict[str, Counters] = {}
    prefs: dict[str, dict[str, int]] = {}
    outcome = {
        "customers": 0,
        "identified": 0,
        "converted": 0,
        "completed": 0,
        "churned_after_journey": 0,
        "customers_with_records": 0,
        "inactive_60d_at_end": 0,
    }
    specs: list[tuple[int, int, int]] = []
    offset = 0
    while offset < customers:
        n = min(chunk_size, customers - offset)
        specs.append((len(specs), offset, n))
        offset += n
    results: Iterable[_ChunkOutcome]
    pool: ProcessPoolExecutor | None = None
    if workers <= 1 or len(specs) == 1:
        walker = Walker(plan, seed)
        results = (_do_chunk(walker, root, seed, dirty, *spec) for spec in specs)
    else:
        # Chunks are independent (each seeded by its own index), so worker processes give
        # the same bytes as one process; results are merged in chunk order.
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(plan, seed),
        )
        results = pool.map(_worker_chunk, [(root, seed, dirty, *spec) for spec in specs])
    try:
        with (
            (gt_dir / "identities.csv").open("w", encoding="utf-8", newline="") as ids_fh,
            (gt_dir / "dirty.csv").open("w", encoding="utf-8", newline="") as dirty_fh,
        ):
            ids_fh.write("identity_type,identity_value,true_customer,linkable\n")
            dirty_fh.write("file,line,kind,detail\n")
            done = 0
            for res in results:
                for folder, count in res.rows.items():
                    rows[folder] += count
                for rel, line, kind, detail in res.dirty:
                    dirty_fh.write(f"{rel},{line},{kind},{_csv(detail)}\n")
                    dirty_counts[kind] = dirty_counts.get(kind, 0) + 1
                    dirty_by_file[rel] = dirty_by_file.get(rel, 0) + 1
                ids_fh.write(res.identities)
                for key, values in res.counters.items():
                    total = totals.setdefault(key, Counters())
                    for k, v in values.items():
                        total.add(k, v)
                for key, values in res.prefs.items():
                    merged = prefs.setdefault(key, {})
                    for k, v in values.items():
                        merged[k] = merged.get(k, 0) + v
                for k, v in res.outcome.items():
                    outcome[k] += v
                done += res.n
                if progress is not None:
                    progress(done)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    manifest = {
        "schema": SIMULATION_SCHEMA,
        "sources": [
            {"path": folder, "source": source, "format": fmt} for source, folder, fmt, _ in OUTPUTS
        ],
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    arrivals = totals.get("_arrivals", Counters()).values
    effects = []
    for eff in scenario.effects:
        effects.append(
            {
                "id": eff.id,
                "kind": eff.kind,
                "declared": eff.model_dump(mode="json", exclude={"id", "kind"}),
                "realised": _realised(
                    eff, totals.get(eff.id, Counters()).values, arrivals, prefs.get(eff.id, {})
                ),
            }
        )
    truth: dict[str, Any] = {
        "schema": GROUND_TRUTH_SCHEMA,
        "parameters": {
            "map": journey.id,
            "personas": [p.id for p in plan.personas],
            "seed": seed,
            "customers": customers,
            "start": start.isoformat(),
            "days": days,
            "dirty_rate": dirty,
            "chunk_size": chunk_size,
            "scenario": scenario.description,
            "behaviour": scenario.behaviour.model_dump(mode="json"),
        },
        "outcomes": outcome,
        "rows": rows,
        "effects": effects,
        "dirty": {
            "total": sum(dirty_counts.values()),
            "by_kind": dict(sorted(dirty_counts.items())),
            "by_file": dict(sorted(dirty_by_file.items())),
        },
        "identities": {
            "file": "ground_truth/identities.csv",
            "note": "true_customer is the simulator's person id; identified people also have a CRM customer_id (user_id)",
        },
    }
    (root / "ground_truth.json").write_text(
        json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return SimulationResult(root, customers, rows, dict(sorted(dirty_counts.items())), truth)


@dataclass(frozen=True)
class _ChunkOutcome:
    """What one chunk wrote and measured (small: merged by the main process in order)."""

    index: int
    n: int
    rows: dict[str, int]
    dirty: list[tuple[str, int, str, str]]
    identities: str
    counters: dict[str, dict[str, int]]
    prefs: dict[str, dict[str, int]]
    outcome: dict[str, int]


def _do_chunk(
    walker: Walker, root: Path, seed: int, dirty: float, index: int, offset: int, n: int
) -> _ChunkOutcome:
    """Simulate one chunk of customers and write its part file of every source."""
    chunk = walker.run(index, offset, n)
    writer = ChunkWriter(walker, chunk, seed)
    drng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, index, 99])))
    has_rows = np.zeros(n, dtype=bool)
    has_social = np.zeros(n, dtype=bool)
    rows: dict[str, int] = {}
    bad: list[tuple[str, int, str, str]] = []
    for source, folder, fmt, ext in OUTPUTS:
        rel = f"{folder}/part-{index:05d}.{ext}"
        if source == "crm":
            written = write_lines(root / rel, writer.crm(), "crm", CSV_HEADERS["crm"], 0.0, drng)
        else:
            idx = writer.rows_for(source)
            has_rows[chunk.records["person"][idx]] = True
            if source == "social":
                has_social[chunk.records["person"][idx]] = True
            lines = getattr(writer, fmt)(idx)
            written = write_lines(root / rel, lines, fmt, CSV_HEADERS.get(fmt), dirty, drng)
        rows[folder] = written.rows
        bad += [(rel, line, kind, detail) for line, kind, detail in written.dirty]
    prefs: dict[str, dict[str, int]] = {}
    _count_preferences(walker, chunk, prefs)
    outcome = {
        "customers": n,
        "identified": int(writer.p.identified.sum()),
        "converted": int(chunk.persons["converted"].sum()),
        "completed": int(chunk.persons["completed"].sum()),
        "churned_after_journey": int(chunk.persons["churned"].sum()),
        "customers_with_records": int((chunk.persons["last_seen"] >= 0).sum()),
        # Churned as the analytics' inactive_days: 60 outcome counts it.
        "inactive_60d_at_end": int(
            (
                (chunk.persons["last_seen"] >= 0)
                & (chunk.persons["last_seen"] < walker.t_end - 60 * DAY)
            ).sum()
        ),
    }
    result = _ChunkOutcome(
        index,
        n,
        rows,
        bad,
        _identities(writer, chunk.records, has_rows, has_social),
        {k: dict(c.values) for k, c in chunk.counters.items()},
        prefs,
        outcome,
    )
    # Arrow keeps freed buffers in its pool; hand them back so memory stays flat.
    del chunk, writer
    pa.default_memory_pool().release_unused()
    return result


_WORKER: Walker | None = None


def _init_worker(plan: Plan, seed: int) -> None:
    """Build the walker once per worker process."""
    global _WORKER
    _WORKER = Walker(plan, seed)


def _worker_chunk(args: tuple[Path, int, float, int, int, int]) -> _ChunkOutcome:
    assert _WORKER is not None
    return _do_chunk(_WORKER, *args)


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def _identities(
    writer: ChunkWriter,
    records: dict[str, np.ndarray],
    has_rows: np.ndarray,
    has_social: np.ndarray,
) -> str:
    """Every identity of every customer who left a record, with its true customer and
    whether the data can link it to that customer at all.

    ``linkable`` is true when some record ties the identity to the customer's user id,
    directly or through its device: the user id itself and the email of an identified
    customer (the CRM export lists both); a device (its anonymous and device id) on which
    a record carries the user id (a login, a Segment ``identify`` / ``alias``, a GA4 row
    with ``user_id``); a social handle named by a mention that carries the customer id.
    A device never used logged in, a guest's email and an unlinked handle are not.
    Rows are grouped by identity type within a chunk (vectorised), customers in order.
    """
    p = writer.p
    used = writer.used
    # Devices seen with the user id on one of their records (dirty copies aside).
    on_dev = (records["dev"] >= 0) & records["ident"].astype(bool)
    on_dev &= np.isin(records["kind"], (K_TOUCH, K_IDENTIFY, K_ERROR))
    logged = np.zeros(used.shape, dtype=bool)
    logged[records["person"][on_dev], records["dev"][on_dev]] = True
    logged &= p.identified[:, None]
    ident = p.identified
    groups: list[tuple[str, pa.Array, np.ndarray, np.ndarray]] = [
        ("user_id", p.customer_id, has_rows & ident, ident),
        ("email", p.email, has_rows, ident),
        ("anonymous_id", p.anon[D_APP], has_rows & used[:, D_APP], logged[:, D_APP]),
        ("device_id", p.device[D_APP], has_rows & used[:, D_APP], logged[:, D_APP]),
        ("anonymous_id", p.anon[D_DESKTOP], has_rows & used[:, D_DESKTOP], logged[:, D_DESKTOP]),
        ("device_id", p.device[D_DESKTOP], has_rows & used[:, D_DESKTOP], logged[:, D_DESKTOP]),
        ("anonymous_id", p.anon[D_MOBILE], has_rows & used[:, D_MOBILE], logged[:, D_MOBILE]),
        ("device_id", p.device[D_MOBILE], has_rows & used[:, D_MOBILE], logged[:, D_MOBILE]),
        ("social_handle", p.handle, has_rows & has_social, writer.social_linked & ident),
    ]
    out = []
    for name, values, mask, linkable in groups:
        sel = pa.array(np.flatnonzero(mask))
        if len(sel) == 0:
            continue
        flag = pa.array(np.where(linkable[np.flatnonzero(mask)], "true", "false"))
        lines = pc.binary_join_element_wise(
            pa.scalar(name), values.take(sel), p.true_id.take(sel), flag, ","
        )
        out.append("\n".join(lines.to_pylist()) + "\n")
    return "".join(out)


def _count_preferences(walker: Walker, chunk: Any, prefs: dict[str, dict[str, int]]) -> None:
    """Share of touches (and tickets) on the preferred channels: the effect's who vs others."""
    plan = walker.plan
    r = chunk.records
    tp_channel = np.array(
        [
            next(
                t.channel.value
                for t in plan.journey.step(plan.step_ids[e.step]).touchpoints
                if t.id == e.touchpoint
            )
            for e in plan.emitters
        ]
        or ["web"]
    )
    for eff in plan.scenario.effects:
        if not isinstance(eff, ChannelPreference):
            continue
        pmask, gmask = walker._who_static(eff.who)
        person = r["person"]
        who = pmask[chunk.persons["persona"][person]] & gmask[chunk.persons["gen"][person]]
        wanted = {c.value for c in eff.channels}
        # Integer tests per record (string arrays over millions of rows are slow).
        tp_on = np.array([c in wanted for c in tp_channel])
        ticket_on = np.array([c in wanted for c in SUPPORT_CHANNELS])
        touch = r["kind"] == K_TOUCH
        ticket = r["kind"] == K_TICKET
        scope = touch | ticket
        on = (touch & tp_on[np.maximum(r["tp"], 0)]) | (
            ticket & ticket_on[np.clip(r["ai"], 0, len(SUPPORT_CHANNELS) - 1)]
        )
        d = prefs.setdefault(eff.id, {})
        for key, val in (
            ("pref_who", on & who),
            ("all_who", scope & who),
            ("pref_other", on & ~who),
            ("all_other", scope & ~who),
        ):
            d[key] = d.get(key, 0) + int(val.sum())
