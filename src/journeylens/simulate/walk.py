"""The walk: a chunk of synthetic customers moving through the map, vectorised with numpy.

Every customer of a chunk advances one visit per loop iteration (array operations over
all active customers at once), so a chunk of 50k customers costs a few dozen array
passes, not a Python loop per event. At each visit a customer drops, loops, backtracks,
skips or continues (per step and persona, changed by the planted effects); visits of one
session are seconds to minutes apart, new visits days apart. Customers who finish the
journey churn (base rate × planted factors) or keep coming back until the window ends.

The result is plain arrays (:class:`Chunk`): one row per record a source will write, plus
per-customer attributes and counters that measure each planted effect by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from journeylens.simulate.plan import (
    CAMPAIGN_CHANNELS,
    GENERATION_YEARS,
    GENERATIONS,
    SUPPORT_CHANNELS,
    Emitter,
    Plan,
    where_step,
)
from journeylens.simulate.scenario import (
    CampaignSpike,
    ChannelLift,
    ChannelPreference,
    Friction,
    Incident,
    MomentOfTruth,
    Pain,
    Seasonality,
    When,
    Who,
)

US = 1_000_000
DAY = 86_400 * US

# Record kinds (the ``kind`` column of a chunk).
K_TOUCH, K_IDENTIFY, K_SURVEY, K_TICKET, K_SOCIAL, K_ERROR, K_CAMPAIGN, K_LOYALTY = range(8)
# Devices: the app install, a laptop browser, a phone browser.
D_APP, D_DESKTOP, D_MOBILE = 0, 1, 2
# Experience of a visit.
GOOD, NEUTRAL, PAINFUL = 0, 1, 2
#: Arrivals by hour of day (UTC), a day-time curve.
HOURS = np.array(
    [
        1,
        0.6,
        0.4,
        0.3,
        0.3,
        0.5,
        1,
        2,
        3,
        3.5,
        3.5,
        3.5,
        4,
        3.5,
        3.5,
        3.5,
        3.5,
        4,
        4.5,
        5,
        5,
        4,
        3,
        2,
    ]
)
HOURS = HOURS / HOURS.sum()
SURVEY_CSAT, SURVEY_CES, SURVEY_NPS = 0, 1, 2
#: Share of browser identifications written as a Segment ``alias`` rather than ``identify``.
ALIAS_SHARE = 0.2
LOYALTY_EARN, LOYALTY_ENROLL, LOYALTY_REDEEM, LOYALTY_TIER = 0, 1, 2, 3
INTERACTIONS = ("click", "impression", "send", "open", "unsubscribe")


def epoch_us(d: object) -> int:
    """Microseconds since the epoch of a date at midnight UTC."""
    dt = datetime(d.year, d.month, d.day, tzinfo=UTC)  # type: ignore[attr-defined]
    return int(dt.timestamp()) * US


@dataclass
class Counters:
    """Numerators and denominators that measure one planted effect by construction."""

    values: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, amount: int | np.integer) -> None:
        """Add ``amount`` to counter ``key``."""
        self.values[key] = self.values.get(key, 0) + int(amount)


@dataclass
class Chunk:
    """One chunk's customers and records (records sorted by customer, then time)."""

    index: int
    offset: int
    n: int
    persons: dict[str, np.ndarray]
    records: dict[str, np.ndarray]
    counters: dict[str, Counters]


class _Records:
    """Collects record columns batch by batch."""

    COLS = ("person", "t", "kind", "tp", "dev", "exp", "ident", "ai", "af", "tag")

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {c: [] for c in self.COLS}

    def add(
        self, kind: int, person: np.ndarray, t: np.ndarray, **cols: np.ndarray | int | float
    ) -> None:
        n = len(person)
        if n == 0:
            return
        defaults: dict[str, int | float] = {
            "tp": -1,
            "dev": -1,
            "exp": GOOD,
            "ident": 0,
            "ai": 0,
            "af": np.nan,
            "tag": -1,
        }
        dtypes = {
            "tp": np.int32,
            "dev": np.int8,
            "exp": np.int8,
            "ident": np.bool_,
            "ai": np.int32,
            "af": np.float64,
            "tag": np.int32,
        }
        self.parts["person"].append(person.astype(np.int64))
        self.parts["t"].append(t.astype(np.int64))
        self.parts["kind"].append(np.full(n, kind, dtype=np.int8))
        for c, dt in dtypes.items():
            v = cols.get(c, defaults[c])
            arr: np.ndarray = np.broadcast_to(np.asarray(v), (n,)).astype(dt)
            self.parts[c].append(arr)

    def done(self) -> dict[str, np.ndarray]:
        out = {c: np.concatenate(v) if v else np.zeros(0) for c, v in self.parts.items()}
        if not self.parts["person"]:
            out = {c: np.zeros(0, dtype=np.int64) for c in self.COLS}
        return out


@dataclass(frozen=True)
class _Target:
    """An effect resolved to step / touchpoint indexes and a time range."""

    step: int
    tp: int
    lo: int
    hi: int


def _names_campaign(e: Emitter, channel: str, campaign: str) -> bool:
    """Whether the emitter writes campaign rows of ``campaign`` on ``channel`` (its rule
    names the campaign by id or name)."""
    if e.source != "ads" or e.channel != channel:
        return False
    values = dict(e.props)
    return any(
        campaign in [str(c) for c in values[k].candidates]
        for k in ("campaign_id", "campaign_name")
        if k in values
    )


class Walker:
    """Simulates chunks of customers for one plan and seed."""

    def __init__(self, plan: Plan, seed: int) -> None:
        self.plan = plan
        self.seed = seed
        self.b = plan.scenario.behaviour
        self.t0 = epoch_us(plan.start)
        self.t_end = self.t0 + plan.days * DAY
        self.S = len(plan.step_ids)
        self.T = len(plan.emitters)
        self.src = np.array(
            [
                ("web", "app").index(e.source) if e.source in ("web", "app") else 2
                for e in plan.emitters
            ]
            or [2],
            dtype=np.int8,
        )  # 0 web, 1 app, 2 other
        self.tp_support = np.array([e.source == "support" for e in plan.emitters] or [False])
        self.tp_survey = np.array([e.source == "survey" for e in plan.emitters] or [False])
        self.tp_purchase = np.array([e.event == "purchase" for e in plan.emitters] or [False])
        # Where retained customers come back to: steps after the purchase with a web / app
        # touchpoint (using the product), else the last stage.
        usage = [
            i
            for i in range(self.S)
            if i > plan.conversion_step and any(self.src[t] < 2 for t in plan.tp_table[i] if t >= 0)
        ]
        self.last_stage_steps = (
            np.array(usage) if usage else np.flatnonzero(plan.step_stage == plan.step_stage[-1])
        )
        # Survey touchpoints asked after a visit of their step (see plan._roles).
        self.followup_rate = 0.3
        self.has_followup = np.array([bool(f) for f in plan.followups])
        self.followup_by_tp: dict[int, np.ndarray] = {}
        for i, fs in enumerate(plan.followups):
            for f in fs:
                mask = self.followup_by_tp.setdefault(f, np.zeros(self.S, dtype=bool))
                mask[i] = True
        # Side records (surveys, tickets, posts) follow experiences on these sources only.
        self.tp_side = np.array(
            [e.source in ("web", "app", "sales", "support") for e in plan.emitters] or [False]
        )
        effects = plan.scenario.effects
        self.campaigns: list[str] = ["always-on"]
        self.campaign_channel: list[str] = ["ads"]
        self.targets: dict[str, _Target] = {}
        for eff in effects:
            lo, hi = self._range(eff.when)
            where = getattr(eff, "where", None)
            step, tp = where_step(plan, where) if where is not None else (-1, -1)
            self.targets[eff.id] = _Target(step, tp, lo, hi)
            if isinstance(eff, CampaignSpike | ChannelLift) and eff.campaign not in self.campaigns:
                self.campaigns.append(eff.campaign)
                self.campaign_channel.append(eff.channel)
        self.effects = effects
        # Per channel-lift effect, the touchpoints that are a touch of its campaign (a rule
        # naming it, ``campaign_id eq newsletter``): visiting one exposes the customer too.
        self.tp_campaign = {
            eff.id: np.array(
                [_names_campaign(e, eff.channel, eff.campaign) for e in plan.emitters] or [False]
            )
            for eff in self.effects
            if isinstance(eff, ChannelLift)
        }
        # Background campaigns (after the effects' campaigns, so their indexes stay put).
        self.c_digest = len(self.campaigns)
        self.campaigns += ["weekly-digest", "brand-display"]
        self.campaign_channel += ["email", "ads"]
        # Weekly cycle: probability of accepting a later visit on each weekday (UTC day
        # number + 3 ≡ weekday, Monday = 0); None when the scenario has no seasonality.
        weekly = np.ones(7)
        for eff in effects:
            if isinstance(eff, Seasonality):
                weekly = weekly * np.array(eff.weekly)
        self.dow_accept: np.ndarray | None = None
        if weekly.max() > 0 and not np.allclose(weekly, weekly[0]):
            self.dow_accept = weekly / weekly.max()
        # Touchpoint choice weights per (persona, generation, touchpoint).
        n_p, n_g = len(plan.personas), len(GENERATIONS)
        w = np.ones((n_p, n_g, max(self.T, 1)))
        for i, e in enumerate(plan.emitters):
            step_tps = plan.journey.step(plan.step_ids[e.step]).touchpoints
            tp_channel = next(t.channel.value for t in step_tps if t.id == e.touchpoint)
            for p, persona in enumerate(plan.personas):
                if tp_channel in persona.preferred:
                    w[p, :, i] *= 3.0
        # Support-ticket channel weights per (persona, generation).
        self.ticket_w = np.ones((n_p, n_g, len(SUPPORT_CHANNELS)))
        for eff in effects:
            if not isinstance(eff, ChannelPreference):
                continue
            pmask, gmask = self._who_static(eff.who)
            sel = pmask[:, None] & gmask[None, :]
            for chan, factor in eff.channels.items():
                for i, e in enumerate(plan.emitters):
                    tps = plan.journey.step(plan.step_ids[e.step]).touchpoints
                    if next(t.channel for t in tps if t.id == e.touchpoint) == chan:
                        w[:, :, i] = np.where(sel, w[:, :, i] * factor, w[:, :, i])
                if chan.value in SUPPORT_CHANNELS:
                    k = SUPPORT_CHANNELS.index(chan.value)
                    self.ticket_w[:, :, k] = np.where(
                        sel, self.ticket_w[:, :, k] * factor, self.ticket_w[:, :, k]
                    )
        self.tp_w = w

    # -- helpers ---------------------------------------------------------------------

    def _range(self, when: When) -> tuple[int, int]:
        lo = epoch_us(when.start) if when.start else -(2**62)
        hi = epoch_us(when.end) + DAY if when.end else 2**62
        return lo, hi

    def _who_static(self, who: Who) -> tuple[np.ndarray, np.ndarray]:
        pids = [p.id for p in self.plan.personas]
        pmask = np.array([not who.personas or pid in who.personas for pid in pids])
        gens = [g.value for g in who.generations]
        gmask = np.array([not gens or g in gens for g in GENERATIONS])
        return pmask, gmask

    def _who(
        self, who: Who, persona: np.ndarray, gen: np.ndarray, mobile: np.ndarray
    ) -> np.ndarray:
        pmask, gmask = self._who_static(who)
        ok = pmask[persona] & gmask[gen]
        if who.device_type:
            want_mobile = "mobile" in who.device_type
            want_desktop = "desktop" in who.device_type
            ok &= (mobile & want_mobile) | (~mobile & want_desktop)
        return np.asarray(ok)

    @staticmethod
    def _choose(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
        """Row-wise weighted choice: the column index picked in each row."""
        cum = np.cumsum(weights, axis=1)
        total = cum[:, -1:]
        u = rng.random((len(weights), 1)) * total
        return np.asarray(np.minimum((u >= cum).sum(axis=1), weights.shape[1] - 1))

    # -- the chunk -------------------------------------------------------------------

    def run(self, index: int, offset: int, n: int) -> Chunk:
        """Simulate customers ``offset … offset+n-1`` (chunk ``index``)."""
        sim = _ChunkSim(self, index, offset, n)
        sim.walk()
        return sim.finish()

    def _count_drops(
        self,
        counters: dict[str, Counters],
        act: np.ndarray,
        s: np.ndarray,
        tp: np.ndarray,
        ta: np.ndarray,
        mobile: np.ndarray,
        dropped: np.ndarray,
        persona: np.ndarray,
        gen: np.ndarray,
        exposed: dict[str, np.ndarray],
    ) -> None:
        """Per-visit drop-off at the effect's step, affected visits vs the others."""
        for eff in self.effects:
            if not isinstance(eff, Friction | ChannelLift):
                continue
            tg = self.targets[eff.id]
            at = (s == tg.step) & ((tp == tg.tp) if tg.tp >= 0 else True)
            if not at.any():
                continue
            c = counters[eff.id]
            who = self._who(eff.who, persona[act], gen[act], mobile)
            inwin = (ta >= tg.lo) & (ta < tg.hi)
            if isinstance(eff, ChannelLift):
                ex = at & exposed[eff.id][act] & inwin & who
                un = at & ~exposed[eff.id][act]
                c.add("visits_exposed", int(ex.sum()))
                c.add("passed_exposed", int((ex & ~dropped).sum()))
                c.add("visits_unexposed", int(un.sum()))
                c.add("passed_unexposed", int((un & ~dropped).sum()))
            else:
                hitm = at & who & inwin
                c.add("visits_in", int(hitm.sum()))
                c.add("drops_in", int((hitm & dropped).sum()))
                c.add("visits_out", int((at & ~hitm).sum()))
                c.add("drops_out", int((at & ~hitm & dropped).sum()))

    def _count_outcomes(
        self,
        counters: dict[str, Counters],
        completed: np.ndarray,
        churned: np.ndarray,
        done_t: np.ndarray,
        last_t: np.ndarray,
        hit: dict[str, np.ndarray],
        mot: dict[str, np.ndarray],
    ) -> None:
        """Churn among customers who hit a pain point / had a bad moment of truth, vs not."""
        early = completed & (done_t < self.t_end - 60 * DAY)
        inactive = last_t < self.t_end - 60 * DAY
        for eff in self.effects:
            if isinstance(eff, Pain):
                exposed = hit[eff.id]
                other = ~exposed
            elif isinstance(eff, MomentOfTruth):
                exposed = mot[eff.id] == 1
                other = mot[eff.id] == 0
            else:
                continue
            c = counters[eff.id]
            for name, grp in (("exposed", exposed), ("other", other)):
                c.add(f"completed_{name}", int((completed & grp).sum()))
                c.add(f"churned_{name}", int((churned & grp).sum()))
                c.add(f"early_{name}", int((early & grp).sum()))
                c.add(f"inactive60_{name}", int((early & grp & inactive).sum()))

    def _count_measured(
        self,
        counters: dict[str, Counters],
        last_seen: np.ndarray,
        hit: dict[str, np.ndarray],
        mot: dict[str, np.ndarray],
    ) -> None:
        """Churn as the analytics' ``inactive_days: 60`` rule will see it: among every
        customer with a record, exposed or not, the share quiet in the last 60 days."""
        seen = last_seen >= 0
        quiet = seen & (last_seen < self.t_end - 60 * DAY)
        for eff in self.effects:
            if isinstance(eff, Pain):
                groups = (("exposed", hit[eff.id]), ("other", ~hit[eff.id]))
            elif isinstance(eff, MomentOfTruth):
                groups = (("exposed", mot[eff.id] == 1), ("other", mot[eff.id] == 0))
            else:
                continue
            c = counters[eff.id]
            for name, grp in groups:
                c.add(f"units_{name}", int((seen & grp).sum()))
                c.add(f"quiet60_{name}", int((quiet & grp).sum()))


class _ChunkSim:
    """One chunk being simulated: the customers, their state arrays and the records.

    Built in this order (the random draws happen in this order, so a chunk's output
    depends only on the seed and the chunk index): who the customers are, arrivals,
    campaign exposures; then :meth:`walk` (the journey) and :meth:`finish` (churn or
    retention, outcome counters, sorted records).
    """

    def __init__(self, walker: Walker, index: int, offset: int, n: int) -> None:
        self.wk = walker
        self.index, self.offset, self.n = index, offset, n
        self.plan, self.b = walker.plan, walker.b
        self.rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence([walker.seed, index]))
        )
        self.rec = _Records()
        self.counters: dict[str, Counters] = {eff.id: Counters() for eff in self.wk.effects}
        self.counters["_arrivals"] = Counters()

        # Who the customers are.
        self.persona = self.rng.choice(
            len(self.plan.personas), size=self.n, p=self.plan.persona_p
        ).astype(np.int16)
        self.gen = np.zeros(self.n, dtype=np.int16)
        u = self.rng.random(self.n)
        for p, pp in enumerate(self.plan.personas):
            m = self.persona == p
            choice = (u[m] * len(pp.generations)).astype(int)
            self.gen[m] = np.array([GENERATIONS.index(g) for g in pp.generations])[choice]
        lo_y = np.array([GENERATION_YEARS[g][0] for g in GENERATIONS])
        hi_y = np.array([GENERATION_YEARS[g][1] for g in GENERATIONS])
        self.birth = lo_y[self.gen] + (
            self.rng.random(self.n) * (hi_y[self.gen] - lo_y[self.gen] + 1)
        ).astype(int)
        self.mobile_share = np.array([pp.mobile_share for pp in self.plan.personas])[self.persona]
        self.guest = self.rng.random(self.n) < self.b.guest_share
        self.attr_u = self.rng.random((self.n, 3))  # country, self.plan, first-name picks

        # Arrivals: weekly cycle × campaign spikes over the window.
        days = np.arange(self.plan.days)
        dow = (np.array(self.wk.t0 // DAY + days) + 3) % 7  # 1970-01-01 was a Thursday
        weight = np.ones(self.plan.days)
        spike_day = np.full(self.plan.days, -1)
        for eff in self.wk.effects:
            if isinstance(eff, Seasonality):
                weight *= np.array(eff.weekly)[dow]
        day_t = self.wk.t0 + days * DAY
        for eff in self.wk.effects:
            if isinstance(eff, CampaignSpike):
                tg = self.wk.targets[eff.id]
                inside = (day_t >= tg.lo) & (day_t < tg.hi)
                weight = np.where(inside, weight * eff.factor, weight)
                spike_day = np.where(inside, self.wk.campaigns.index(eff.campaign), spike_day)
        if weight.sum() <= 0:
            weight = np.ones(self.plan.days)
        day = self.rng.choice(self.plan.days, size=self.n, p=weight / weight.sum())
        hour = self.rng.choice(24, size=self.n, p=HOURS)
        t = (
            self.wk.t0
            + day * DAY
            + hour * 3600 * US
            + (self.rng.random(self.n) * 3600 * US).astype(np.int64)
        )
        self.counters["_arrivals"].add("n", self.n)
        for d in range(7):
            self.counters["_arrivals"].add(f"dow{d}", int((dow[day] == d).sum()))
        utm = np.full(self.n, -1, dtype=np.int32)
        for eff in self.wk.effects:
            if isinstance(eff, CampaignSpike):
                tg = self.wk.targets[eff.id]
                inside = (t >= tg.lo) & (t < tg.hi)
                self.counters[eff.id].add("arrivals_in", int(inside.sum()))
                self.counters[eff.id].add("arrivals_out", int((~inside).sum()))
                self.counters[eff.id].add(
                    "days_in", int(((day_t >= tg.lo) & (day_t < tg.hi)).sum())
                )
                self.counters[eff.id].add(
                    "days_out", int(((day_t < tg.lo) | (day_t >= tg.hi)).sum())
                )
                via = inside & (self.rng.random(self.n) < 1 - 1 / eff.factor)
                idx = np.flatnonzero(via)
                utm[idx] = self.wk.campaigns.index(eff.campaign)
                chan = CAMPAIGN_CHANNELS.index(eff.channel)
                self.rec.add(
                    K_CAMPAIGN,
                    idx,
                    t[idx] - (5 + self.rng.random(idx.size) * 115) * US,
                    ai=chan * 10 + 0,
                    af=0.45,
                    tag=utm[idx],
                )
                self.rec.add(
                    K_CAMPAIGN,
                    idx,
                    t[idx] - (3600 + self.rng.random(idx.size) * 7200) * US,
                    ai=chan * 10 + 1,
                    af=0.004,
                    tag=utm[idx],
                )

        # Channel-lift exposure: a campaign touch before arrival.
        self.exposed: dict[str, np.ndarray] = {}
        mobile0 = self.rng.random(self.n) < self.mobile_share
        for eff in self.wk.effects:
            if isinstance(eff, ChannelLift):
                ok = self.wk._who(eff.who, self.persona, self.gen, mobile0)
                ex = ok & (self.rng.random(self.n) < eff.exposure)
                self.exposed[eff.id] = ex
                idx = np.flatnonzero(ex)
                chan = CAMPAIGN_CHANNELS.index(eff.channel)
                inter = (
                    3 if eff.channel in ("email", "sms") else (2 if eff.channel == "print" else 0)
                )
                when = np.maximum(
                    t[idx] - (600 + self.rng.random(idx.size) * 86400) * US, self.wk.t0
                )
                self.rec.add(
                    K_CAMPAIGN,
                    idx,
                    when,
                    ai=chan * 10 + inter,
                    af=0.05,
                    tag=self.wk.campaigns.index(eff.campaign),
                )

        # Per-customer state.
        self.pos = np.zeros(self.n, dtype=np.int32)
        self.tcur = t.copy()
        self.arrival = t.copy()
        self.alive = np.ones(self.n, dtype=bool)
        self.ident_at = np.full(self.n, -1, dtype=np.int64)
        self.dev_ident = np.zeros((self.n, 3), dtype=bool)
        self.dev_used = np.zeros((self.n, 3), dtype=bool)
        self.utm_pending = utm.copy()
        self.had_pain = np.zeros(self.n, dtype=bool)
        self.churn_factor = np.ones(self.n)
        self.hit: dict[str, np.ndarray] = {
            e.id: np.zeros(self.n, dtype=bool) for e in self.wk.effects if isinstance(e, Pain)
        }
        self.mot: dict[str, np.ndarray] = {
            e.id: np.full(self.n, -1, dtype=np.int8)
            for e in self.wk.effects
            if isinstance(e, MomentOfTruth)
        }
        self.converted = np.zeros(self.n, dtype=bool)
        self.completed = np.zeros(self.n, dtype=bool)
        self.done_t = np.zeros(self.n, dtype=np.int64)
        self.last_t = t.copy()

    def later(
        self,
        base: np.ndarray,
        t: np.ndarray,
        draw: Callable[[int], np.ndarray],
        limit: int = 2**62,
    ) -> np.ndarray:
        """Times of later visits (``t`` = ``base`` + a gap) shaped by the weekly cycle.

        Thinning of a point process: a visit falling on a weekday of weight w is kept
        with probability w / max(w); otherwise the customer waits another gap from
        ``draw`` counted from that moment (up to six times). With exponential gaps this
        gives returning visits the same weekly rhythm as first visits; the mean gap then
        describes the busiest days. No total gap exceeds ``limit`` microseconds (a
        retained customer must never look 60 days quiet).
        """
        acc = self.wk.dow_accept
        if acc is None or t.size == 0:
            return t
        t = t.copy()
        todo = np.arange(t.size)
        for _ in range(6):
            dow = (t[todo] // DAY + 3) % 7
            todo = todo[self.rng.random(todo.size) >= acc[dow]]
            if todo.size == 0:
                break
            t[todo] = np.minimum(t[todo] + draw(todo.size), base[todo] + limit)
        return t

    def visit(
        self, act: np.ndarray, s: np.ndarray, ta: np.ndarray, walking: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Emit the records of one visit per customer in ``act``.

        Returns the drop-off factor of each visit, whether it was on a mobile device,
        and the touchpoint chosen (-1 for a step without touchpoints).
        """
        m = len(act)
        pa, ga = self.persona[act], self.gen[act]
        slots = self.plan.tp_table[s]  # (m, K)
        w = self.wk.tp_w[pa[:, None], ga[:, None], np.maximum(slots, 0)]  # (m, K)
        w = np.where(slots >= 0, w, 0.0)
        has_tp = slots[:, 0] >= 0
        w[~has_tp, 0] = 1.0
        k = self.wk._choose(self.rng, w)
        tp = np.where(has_tp, slots[np.arange(m), k], -1)
        src = np.where(tp >= 0, self.wk.src[np.maximum(tp, 0)], 2)
        mobile = self.rng.random(m) < self.mobile_share[act]
        dev = np.where(
            src == 0, np.where(mobile, D_MOBILE, D_DESKTOP), np.where(src == 1, D_APP, -1)
        )
        mobile = mobile | (src == 1)
        # Identification at sign-up / login.
        newly = self.plan.identify_step[s] & ~self.guest[act] & (self.ident_at[act] < 0)
        self.ident_at[act[newly]] = ta[newly]
        ident = self.ident_at[act] >= 0
        webdev = dev >= D_DESKTOP
        need = ident & webdev & ~self.dev_ident[act, np.maximum(dev, 0)]
        ni = np.flatnonzero(need)
        # Some front ends link the browser with an ``alias`` call instead (ai = 1).
        alias = (self.rng.random(ni.size) < ALIAS_SHARE).astype(np.int32)
        self.rec.add(K_IDENTIFY, act[ni], ta[ni] - US, dev=dev[ni], ident=1, ai=alias)
        self.dev_ident[act[ni], dev[ni]] = True
        used = np.flatnonzero(dev >= 0)
        self.dev_used[act[used], dev[used]] = True
        # Experience and effects.
        exp = np.where(self.rng.random(m) < self.b.good_share, GOOD, NEUTRAL).astype(np.int8)
        drop_mult = np.ones(m)
        ticket_mult = np.ones(m)
        survey_p = np.full(m, self.b.survey_rate)
        force_ticket = np.zeros(m, dtype=bool)
        for eff in self.wk.effects:
            tg = self.wk.targets.get(eff.id)
            if tg is None or tg.step < 0:
                continue
            at = (s == tg.step) & ((tp == tg.tp) if tg.tp >= 0 else True)
            if not at.any():
                continue
            who = self.wk._who(eff.who, pa, ga, mobile)
            inwin = (ta >= tg.lo) & (ta < tg.hi)
            c = self.counters[eff.id]
            if isinstance(eff, Friction):
                hitm = at & who & inwin
                drop_mult = np.where(hitm, drop_mult * eff.drop_factor, drop_mult)
                ticket_mult = np.where(hitm, ticket_mult * eff.ticket_factor, ticket_mult)
                painful = hitm & (self.rng.random(m) < eff.painful_share)
                exp = np.where(painful, PAINFUL, exp).astype(np.int8)
                self.had_pain[act[painful]] = True
            elif isinstance(eff, Incident):
                inside = at & who & inwin
                err = np.where(
                    inside, self.rng.random(m) < eff.rate, at & (self.rng.random(m) < eff.base_rate)
                )
                c.add("visits_in", int(inside.sum()))
                c.add("errors_in", int((err & inside).sum()))
                c.add("visits_out", int((at & ~inside).sum()))
                c.add("errors_out", int((err & at & ~inside).sum()))
                ei = np.flatnonzero(err)
                # Errors of touchpoints without a device (orders, tickets…) are logged
                # by the web front end, on the laptop browser.
                edev = np.where(dev[ei] < 0, D_DESKTOP, dev[ei])
                self.dev_used[act[ei], edev] = True
                self.rec.add(
                    K_ERROR,
                    act[ei],
                    ta[ei] + 2 * US,
                    tp=tp[ei],
                    dev=edev,
                    ident=ident[ei],
                    tag=self.wk.effects.index(eff),
                )
                drop_mult = np.where(err, drop_mult * eff.drop_factor, drop_mult)
                exp = np.where(err, PAINFUL, exp).astype(np.int8)
                self.had_pain[act[err]] = True
            elif isinstance(eff, Pain) and walking:
                # Only the journey walk plants pain: churn is decided when it ends.
                hm = at & who & inwin & (self.rng.random(m) < eff.hit_rate)
                self.hit[eff.id][act[hm]] = True
                force_ticket |= hm & ~self.wk.tp_support[np.maximum(tp, 0)]
                exp = np.where(hm, PAINFUL, exp).astype(np.int8)
                self.had_pain[act[hm]] = True
            elif isinstance(eff, MomentOfTruth) and walking:
                state = self.mot[eff.id]
                first = at & who & inwin & (state[act] < 0)
                bad = first & (self.rng.random(m) < eff.bad_share)
                state[act[first]] = bad[first].astype(np.int8)
                seen = at & who & inwin
                exp = np.where(seen, np.where(state[act] == 1, PAINFUL, GOOD), exp).astype(np.int8)
                survey_p = np.where(first, eff.survey_rate, survey_p)
            elif isinstance(eff, ChannelLift):
                ex = self.exposed[eff.id][act] & at & who & inwin
                base_pass = 1 - self.plan.drop[pa, tg.step]
                lifted = np.minimum(0.98, base_pass * eff.lift)
                drop_mult = np.where(ex, (1 - lifted) / np.maximum(1 - base_pass, 1e-9), drop_mult)
        for eff in self.wk.effects:
            if isinstance(eff, ChannelLift):
                named = (tp >= 0) & self.wk.tp_campaign[eff.id][np.maximum(tp, 0)]
                self.exposed[eff.id][act[named]] = True
        # Survey-touchpoint answers reflect the whole journey so far.
        on_survey = (tp >= 0) & self.wk.tp_survey[np.maximum(tp, 0)]
        exp = np.where(on_survey & self.had_pain[act], PAINFUL, exp).astype(np.int8)
        conv = (tp >= 0) & self.wk.tp_purchase[np.maximum(tp, 0)]
        newconv = conv & ~self.converted[act]
        self.converted[act[conv]] = True
        ci = np.flatnonzero(newconv & ident)
        self.rec.add(K_LOYALTY, act[ci], ta[ci] + 60 * US, ai=LOYALTY_ENROLL, af=100.0, ident=1)
        if not walking:
            li = np.flatnonzero(ident & self.converted[act] & (self.rng.random(m) < 0.3))
            self.rec.add(K_LOYALTY, act[li], ta[li] + 30 * US, ai=LOYALTY_EARN, af=10.0, ident=1)
        # The visit's own record.
        vi = np.flatnonzero(tp >= 0)
        tag = self.utm_pending[act[vi]]
        self.rec.add(
            K_TOUCH,
            act[vi],
            ta[vi],
            tp=tp[vi],
            dev=dev[vi],
            exp=exp[vi],
            ident=ident[vi],
            tag=np.where(src[vi] == 0, tag, -1),
        )
        self.utm_pending[act[vi[src[vi] == 0]]] = -1
        self.last_t[act[vi]] = np.maximum(self.last_t[act[vi]], ta[vi])
        # Surveys the map asks after this step (follow-ups), answered by some.
        has_follow = self.wk.has_followup[s]
        for f, steps_with in self.wk.followup_by_tp.items():
            fi = np.flatnonzero(
                steps_with[s] & (tp >= 0) & (self.rng.random(m) < self.wk.followup_rate)
            )
            self.rec.add(
                K_TOUCH,
                act[fi],
                ta[fi] + ((1 + self.rng.random(fi.size) * 47) * 3600 * US).astype(np.int64),
                tp=f,
                exp=exp[fi],
                ident=ident[fi],
                tag=tp[fi],
            )
        # Side records: surveys, tickets, social mentions.
        side = (tp >= 0) & self.wk.tp_side[np.maximum(tp, 0)]
        sv = np.flatnonzero(ident & side & ~has_follow & (self.rng.random(m) < survey_p))
        stype = np.where(self.rng.random(sv.size) < 0.7, SURVEY_CSAT, SURVEY_CES)
        self.rec.add(
            K_SURVEY,
            act[sv],
            ta[sv] + ((2 + self.rng.random(sv.size) * 46) * 3600 * US).astype(np.int64),
            tp=tp[sv],
            exp=exp[sv],
            ident=1,
            ai=stype,
        )
        tk_p = self.b.ticket_rate * ticket_mult * np.where(exp == PAINFUL, 5.0, 1.0)
        tk = np.flatnonzero(
            ((self.rng.random(m) < tk_p) | force_ticket)
            & side
            & ~self.wk.tp_support[np.maximum(tp, 0)]
        )
        tch = self.wk._choose(self.rng, self.wk.ticket_w[pa[tk], ga[tk]])
        resolve = np.where(
            self.rng.random(tk.size) < 0.9, 1 + self.rng.lognormal(2.0, 1.0, tk.size), np.nan
        )
        self.rec.add(
            K_TICKET,
            act[tk],
            ta[tk] + ((60 + self.rng.random(tk.size) * 3600) * US).astype(np.int64),
            tp=tp[tk],
            exp=exp[tk],
            ident=ident[tk],
            ai=tch,
            af=resolve,
        )
        so_p = self.b.social_rate * np.where(exp == PAINFUL, 5.0, np.where(exp == GOOD, 1.0, 0.0))
        so = np.flatnonzero((self.rng.random(m) < so_p) & side)
        self.rec.add(
            K_SOCIAL,
            act[so],
            ta[so] + ((600 + self.rng.random(so.size) * 86400) * US).astype(np.int64),
            tp=tp[so],
            exp=exp[so],
            ident=ident[so],
        )
        return drop_mult, mobile, tp

    def walk(self) -> None:
        """The journey: one visit per active customer per iteration until all stop."""
        max_iter = 6 * self.wk.S + 20
        for _ in range(max_iter):
            act = np.flatnonzero(self.alive)
            if act.size == 0:
                break
            late = self.tcur[act] >= self.wk.t_end
            self.alive[act[late]] = False
            act = act[~late]
            if act.size == 0:
                break
            s = self.pos[act]
            ta = self.tcur[act]
            drop_mult, mobile, tp = self.visit(act, s, ta, True)
            pa = self.persona[act]
            p_drop = np.clip(self.plan.drop[pa, s] * drop_mult, 0.0, 0.97)
            # Whoever reaches the last step has done the whole journey: leaving after it is
            # the churn decided in finish() (planted factors), not a drop-off. Else the
            # data's finishers (a record at the last step) would hold customers the ground
            # truth calls unfinished, all of them "churned".
            p_drop = np.where(s == self.wk.S - 1, 0.0, p_drop)
            loop, back, skip = self.plan.loop[pa, s], self.plan.back[pa, s], self.plan.skip[pa, s]
            scale = np.minimum(1.0, (1 - p_drop) / np.maximum(loop + back + skip, 1e-9))
            c1 = p_drop
            c2 = c1 + loop * scale
            c3 = c2 + back * scale
            c4 = c3 + skip * scale
            u = self.rng.random(act.size)
            dropped = u < c1
            self.wk._count_drops(
                self.counters, act, s, tp, ta, mobile, dropped, self.persona, self.gen, self.exposed
            )
            nxt = np.where(u < c2, s, np.where(u < c3, s - 1, np.where(u < c4, s + 2, s + 1)))
            nxt = np.where(dropped, s, np.minimum(nxt, self.wk.S))
            self.alive[act[dropped]] = False
            fin = ~dropped & (nxt >= self.wk.S)
            self.completed[act[fin]] = True
            self.done_t[act[fin]] = ta[fin]
            self.alive[act[fin]] = False
            self.pos[act] = np.minimum(nxt, self.wk.S - 1)
            same = self.rng.random(act.size) < self.b.same_session
            gap = np.where(
                same,
                self.rng.lognormal(np.log(self.b.session_gap_seconds), 0.8, act.size) * US,
                self.rng.exponential(self.b.revisit_days, act.size) * DAY + 600 * US,
            ).astype(np.int64)
            tnext = ta + gap
            # A new session days later follows the weekly cycle like a first visit.
            new = np.flatnonzero(~same)
            tnext[new] = self.later(ta[new], tnext[new], self._revisit_gap)
            self.tcur[act] = tnext

    def _revisit_gap(self, k: int) -> np.ndarray:
        return (self.rng.exponential(self.b.revisit_days, k) * DAY + 600 * US).astype(np.int64)

    def _retention_gap(self, k: int) -> np.ndarray:
        days = np.minimum(self.rng.exponential(self.wk.b.retention_days, k), 30.0)
        return (days * DAY).astype(np.int64) + 60 * US

    def background(self) -> None:
        """Campaign traffic that is not part of anyone's journey: a weekly newsletter to
        identified customers from identification to their last visit (lists drop people
        who go quiet, so sends never hide churn), a share of them opened; and display-ad
        impressions to visitors between their first and last visit (reaching a browser
        cookie until the customer is known). Neither comes before a customer's first
        visit, so a customer's first record stays their arrival."""
        b = self.b
        email = CAMPAIGN_CHANNELS.index("email") * 10
        ads = CAMPAIGN_CHANNELS.index("ads") * 10
        if b.newsletter_every_days > 0:
            every = int(b.newsletter_every_days * DAY)
            who = np.flatnonzero((self.ident_at >= 0) & (self.ident_at < self.wk.t_end))
            first = self.ident_at[who] + (self.rng.random(who.size) * every).astype(np.int64)
            count = np.maximum((self.last_t[who] - first) // every + 1, 0)
            person = np.repeat(who, count)
            start = np.repeat(first, count)
            k = np.arange(person.size) - np.repeat(np.cumsum(count) - count, count)
            sent = start + k * every
            self.rec.add(K_CAMPAIGN, person, sent, ai=email + 2, af=0.001, tag=self.wk.c_digest)
            opened = self.rng.random(person.size) < b.newsletter_open_rate
            delay = (self.rng.exponential(4.0, int(opened.sum())) * 3600 * US).astype(np.int64)
            self.rec.add(
                K_CAMPAIGN,
                person[opened],
                sent[opened] + 60 * US + delay,
                ai=email + 3,
                af=0.0,
                tag=self.wk.c_digest,
            )
        if b.ad_impressions > 0:
            count = self.rng.poisson(b.ad_impressions, self.n)
            person = np.repeat(np.arange(self.n), count)
            lo = self.arrival[person] + US
            span = np.maximum(self.last_t[person] - lo, 0)
            shown = lo + (self.rng.random(person.size) * span).astype(np.int64)
            self.rec.add(K_CAMPAIGN, person, shown, ai=ads + 1, af=0.004, tag=self.wk.c_digest + 1)

    def finish(self) -> Chunk:
        """After the journey: churn (planted factors) or keep coming back; the chunk."""
        for eff in self.wk.effects:
            if isinstance(eff, Pain):
                self.churn_factor = np.where(
                    self.hit[eff.id], self.churn_factor * eff.churn_factor, self.churn_factor
                )
            elif isinstance(eff, MomentOfTruth):
                self.churn_factor = np.where(
                    self.mot[eff.id] == 1, self.churn_factor * eff.churn_factor, self.churn_factor
                )
        p_churn = np.minimum(0.97, self.b.churn * self.churn_factor)
        churned = self.completed & (self.rng.random(self.n) < p_churn)
        nps = np.flatnonzero(
            self.completed & (self.ident_at >= 0) & (self.rng.random(self.n) < 0.3)
        )
        nexp = np.where(
            self.had_pain[nps],
            PAINFUL,
            np.where(self.rng.random(nps.size) < self.b.good_share, GOOD, NEUTRAL),
        )
        self.rec.add(
            K_SURVEY,
            nps,
            self.done_t[nps] + 3 * DAY,
            exp=nexp,
            ident=1,
            ai=SURVEY_NPS,
            tp=np.full(nps.size, -1),
        )
        # Retained customers keep coming back (every ≤ 30 days, so never 60 days quiet);
        # churning ones stop: right after the journey, or after ``churn_after_days`` (mean)
        # of further use. Either way they leave no activity afterwards, which is what the
        # analytics' ``inactive_days`` outcome sees.
        stop = np.full(self.n, self.wk.t_end, dtype=np.int64)
        if self.b.churn_after_days > 0:
            use = self.rng.exponential(self.b.churn_after_days, self.n) * DAY
            stop = np.where(churned, self.done_t + use.astype(np.int64), stop)
            self.alive = self.completed.copy()
        else:
            self.alive = self.completed & ~churned
        self.tcur = self.done_t.copy()
        while self.alive.any():
            act = np.flatnonzero(self.alive)
            base = self.tcur[act]
            ta = self.later(
                base, base + self._retention_gap(act.size), self._retention_gap, 30 * DAY
            )
            ok = ta < stop[act]
            self.alive[act[~ok]] = False
            act, ta = act[ok], ta[ok]
            if act.size == 0:
                break
            s = self.wk.last_stage_steps[
                (self.rng.random(act.size) * self.wk.last_stage_steps.size).astype(int)
            ]
            self.visit(act, s, ta, False)
            self.tcur[act] = ta

        self.background()
        self.wk._count_outcomes(
            self.counters, self.completed, churned, self.done_t, self.last_t, self.hit, self.mot
        )
        records = self.rec.done()
        keep = (records["t"] < self.wk.t_end) & (records["t"] >= self.wk.t0 - 7 * DAY)
        records = {c: v[keep] for c, v in records.items()}
        order = np.lexsort((records["kind"], records["t"], records["person"]))
        records = {c: v[order] for c, v in records.items()}
        # Last activity of each customer in the window (records are sorted by customer,
        # then time), -1 for customers without records: churn as the analytics measure it.
        last_seen = np.full(self.n, -1, dtype=np.int64)
        person = records["person"]
        ends = np.flatnonzero(np.diff(person, append=-1) != 0)
        last_seen[person[ends]] = records["t"][ends]
        self.wk._count_measured(self.counters, last_seen, self.hit, self.mot)
        persons = {
            "persona": self.persona,
            "gen": self.gen,
            "birth": self.birth,
            "guest": self.guest,
            "attr_u": self.attr_u,
            "ident_at": np.where(self.ident_at < self.wk.t_end, self.ident_at, -1),
            "dev_used": self.dev_used,
            "converted": self.converted,
            "completed": self.completed,
            "churned": churned,
            "last_seen": last_seen,
            "key": self.rng.integers(0, 2**62, size=(self.n, 4), dtype=np.int64),
        }
        return Chunk(self.index, self.offset, self.n, persons, records, self.counters)
