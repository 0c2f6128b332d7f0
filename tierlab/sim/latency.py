"""How long the Create Account request takes, step by step, and why.

The one entry point (the latency widget is built on it)::

    latency_model(topo: Topology | None = None, preset: str = "physics", *,
                  db_timings_ms: Mapping[str, float] | None = None, **params) -> LatencyModel

    m = tl.latency_model(tl.load("seed"), "physics", rtt_ms=80, tls_version="1.2",
                         dns_cache="miss", keep_alive=False, pool=True)
    m.waterfall()                  # DataFrame: step, seed_step, component, start_ms, duration_ms, end_ms, reason
    m.total_ms                     # the mean total of one request
    r = m.simulate(100_000, seed=1)
    r.percentiles()                # DataFrame: percentile, total_ms, reason  (p50, p95, p99)
    r.frame()                      # per step: mean/p50/p95/p99, reason
    m.with_params(tls_version="1.3")   # a new model (models are frozen)
    seed_vs_physics(topo)          # where the seed's budget and the physics disagree, and why
    m.failed, m.outcome            # blocked journey: no total; what the browser gets (status) and
    m.outcome.wait_ms, m.headline()  # how long the user waits until it fails (``sim/outcome.py``)

Presets
  ``seed``      the seed's Section 3 budget: DNS 50-100, TLS 100-150, ALB 10-20, Node 50-100,
                DB 30-100, return 50-100 ms, each value in a range equally likely. The seed
                claims 300-500 ms in total; its own ranges add up to 290-570 ms.
  ``physics``   every step derived from named parameters (``PhysicsParams``): the client's
                round-trip time, TLS version and resumption, DNS cache state and the record's
                TTL (from the topology), keep-alive, ALB work, the app's work, pool acquire vs a
                new PostgreSQL connection (TCP + TLS + SCRAM auth), the INSERT (WAL flush, index,
                synchronous Multi-AZ = one cross-AZ round trip), the response.
  ``measured``  physics, with the database phases replaced by timings from a real PostgreSQL
                (``db_timings_ms`` with keys ``tcp_connect_ms, tls_handshake_ms, auth_ms,
                first_query_ms, pool_acquire_ms, insert_ms``; tierlab's database layer measures
                them).

Step times are keyed by the journey's step ids (``tierlab.request.journey.STEPS``). Every step is a
sum of parts; each part is scaled per simulated request by a random factor of its kind
(internet round trips, VPC round trips, server work: log-normal with mean 1) or drawn from a
range (the seed). ``waterfall()`` shows the means, so the waterfall's total is the mean total.
The simulation draws the same random numbers whatever the parameters (common random numbers),
so two models compared with the same seed differ only by what was changed.

The parts: ``params`` (PhysicsParams, CONTROLS), ``facts`` (what a topology tells the model),
``presets`` (per-step builders for the physics, the seed's split), ``simulation`` (Monte Carlo),
``outcome`` (a blocked request's wait). This module joins them and keeps every name importable.

Pure model: numpy and pandas only.
"""

from __future__ import annotations

import html
import math
import numbers
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import ParameterError
from ..network import limits
from ..network.topology import Topology
from ..phases import PHASE_KEYS
from ..request.journey import STEPS, Trace, journey
from ..request.outcomes import RequestOutcome
from .facts import TopologyFacts
from .outcome import LatencyOutcome
from .params import CONTROLS, FIBRE_KM_PER_MS, PhysicsParams, implied_rtt_ms, tls_round_trips
from .presets import (SEED_BUDGET_MS, SEED_CLAIM_MS, SEED_SUM_MS, Branch, Part, StepTime, fmt, page_load_frame,
                      physics_steps, seed_steps)
from .simulation import Comparison, Simulation, compare, draw_samples

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PhysicsParams",
    "TopologyFacts",
    "Part",
    "Branch",
    "StepTime",
    "LatencyModel",
    "Simulation",
    "Comparison",
    "latency_model",
    "seed_vs_physics",
    "implied_rtt_ms",
    "tls_round_trips",
    "PRESETS",
    "SEED_BUDGET_MS",
    "SEED_CLAIM_MS",
    "DB_TIMING_KEYS",
    "CONTROLS",
    "compare",
]

PRESETS = ("seed", "physics", "measured")

#: The database phases the measured preset reads: the one tuple in ``tierlab.phases`` (``tierlab.db`` measures them).
DB_TIMING_KEYS = PHASE_KEYS


@dataclass(frozen=True)
class LatencyModel:
    """A preset (and its parameters) applied to a topology: per-step times with reasons."""

    preset: str
    facts: TopologyFacts
    params: PhysicsParams | None
    db_timings_ms: tuple[tuple[str, float], ...] | None = None
    #: the journey's outcomes on the topology (``Trace.outcomes``); empty: not evaluated, taken as getting through
    journey_outcomes: tuple[RequestOutcome, ...] = ()

    @cached_property
    def outcome(self) -> LatencyOutcome:
        """Whether the request gets through; when it fails, what the browser gets and how long the
        user waits (``outcome.failed``, ``outcome.status``, ``outcome.wait_ms``, ``outcome.failures``)."""
        return LatencyOutcome.of(self.journey_outcomes, {st.step.id: st.mean_ms for st in self.steps})

    @property
    def failed(self) -> bool:
        """No Create Account request succeeds: there is no total, only a wait (``outcome.wait_ms``)."""
        return self.outcome.failed

    def headline(self) -> str:
        """The latency panel's one line: the mean total, or that the request fails and how long the user waits."""
        return self.outcome.headline(self.total_ms)

    @cached_property
    def steps(self) -> tuple[StepTime, ...]:
        if self.preset == "seed":
            return seed_steps()
        db = dict(self.db_timings_ms) if self.db_timings_ms else None
        return physics_steps(self.params or PhysicsParams(), self.facts, db)

    def step(self, step_id: str) -> StepTime:
        for st in self.steps:
            if st.step.id == step_id:
                return st
        raise ParameterError(f"no journey step {step_id!r}", "step ids: " + ", ".join(s.id for s in STEPS))

    @property
    def total_ms(self) -> float:
        """The mean total of one request (the waterfall's end)."""
        return float(sum(st.mean_ms for st in self.steps))

    def component_ms(self) -> dict[str, float]:
        """Mean time per latency component (client, dns, tls, firewall, alb, node, db, return)."""
        out: dict[str, float] = {}
        for st in self.steps:
            out[st.step.latency] = out.get(st.step.latency, 0.0) + st.mean_ms
        return out

    @property
    def notes(self) -> tuple[str, ...]:
        if self.preset == "seed":
            return (
                f"The seed claims {fmt(SEED_CLAIM_MS[0])}-{fmt(SEED_CLAIM_MS[1])} ms from click to confirmation, "
                f"but its own Section 3 ranges add up to {fmt(SEED_SUM_MS[0])}-{fmt(SEED_SUM_MS[1])} ms "
                "(DNS 50-100 + TLS 100-150 + ALB 10-20 + Node 50-100 + DB 30-100 + return 50-100).",
                "The seed's per-step numbers disagree with its own total in places (Step 19 says 100-150 ms, the "
                "total's return trip 50-100); this preset keeps the total's ranges.",
            )
        p = self.params or PhysicsParams()
        ttl = self.facts.api_ttl_s if p.dns_ttl_s is None else p.dns_ttl_s
        article = "an" if self.facts.api_record[:1] in "aeiou" else "a"
        notes = [f"{self.facts.api_host} is {article} {self.facts.api_record} record with TTL {ttl} s "
                 "(the seed says browsers cache for 300 s; an alias to an ELB takes the ELB's 60 s)."]
        if self.preset == "measured":
            notes.append("Database phases come from the learner's real PostgreSQL (loopback); the VPC round trips "
                         "and the Multi-AZ sync are added by the model.")
        return tuple(notes)

    # ------------------------------------------------------------------ answers
    def waterfall(self) -> pd.DataFrame:
        """One request step by step: each step's mean time, where it starts, and why."""
        import pandas as pd

        rows, t = [], 0.0
        for st in self.steps:
            d = st.mean_ms
            rows.append({"step": st.step.id, "seed_step": st.step.seed_step, "component": st.step.latency,
                         "title": st.step.title, "start_ms": t, "duration_ms": d, "end_ms": t + d,
                         "reason": st.reason})
            t += d
        df = pd.DataFrame(rows)
        df["seed_step"] = df["seed_step"].astype("Int64")
        return df

    frame = waterfall

    def simulate(self, n: int = 10_000, seed: int = 0) -> "Simulation":
        """``n`` requests, each step drawn from its distribution; seeded and repeatable."""
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ParameterError(f"simulate(n={n!r}): n must be a whole number >= 1", "e.g. simulate(10_000, seed=0)")
        if n > 5_000_000:
            raise ParameterError(f"simulate(n={n}): more than 5,000,000 requests would need gigabytes",
                       "100,000 requests give stable p99s")
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= seed < 2**63:
            raise ParameterError(f"simulate(seed={limits._show(seed)}): the seed is a whole number 0 to 2**63 - 1",
                                 "e.g. simulate(10_000, seed=0); the same seed repeats the same draws")
        return Simulation(self, int(n), int(seed), draw_samples(self.steps, self.params, int(n), int(seed)))

    def with_params(self, **changes: Any) -> "LatencyModel":
        """A new model with some parameters changed (``seed`` has none)."""
        if self.preset == "seed":
            if changes:
                raise ParameterError("the seed preset takes no parameters: it reproduces the seed's own ranges",
                           "use preset='physics' to move RTT, TLS, DNS cache, keep-alive or the pool")
            return self
        unknown = [k for k in changes if k not in PhysicsParams.names()]
        if unknown:
            PhysicsParams.make(**changes)  # raises with the hint
        return replace(self, params=replace(self.params or PhysicsParams(), **changes))

    def page_load(self) -> pd.DataFrame:
        """Loading the app from CloudFront before the click (layer 0): hit vs miss to S3."""
        return page_load_frame(self.params or PhysicsParams(), self.facts)

    def label(self) -> str:
        if self.preset == "seed":
            return "seed budget"
        p = self.params or PhysicsParams()
        bits = [f"RTT {fmt(p.rtt_ms)} ms", f"TLS {p.tls_version}", f"DNS {p.dns_cache}"]
        if p.keep_alive:
            bits.append("keep-alive")
        bits.append("pool" if p.pool else "no pool")
        return f"{self.preset}: " + ", ".join(bits)

    def _repr_html_(self) -> str:
        """Compact: the label, the mean total and the notes. The step-by-step table is ``.waterfall()``."""
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<div class='tl-latency'><p><b>{html.escape(self.label())}</b> — {html.escape(self.headline())}"
                f" for one request.</p>{f'<ul>{notes}</ul>' if notes else ''}"
                f"<p>Step by step: <code>.waterfall()</code>.</p></div>")

    def __repr__(self) -> str:
        if self.outcome.failures:
            return f"<LatencyModel {self.label()} on {self.facts.name}: {self.headline()}>"
        return f"<LatencyModel {self.label()} on {self.facts.name}: {self.total_ms:.1f} ms>"




def latency_model(topo: Topology | None = None, preset: str = "physics", *,
                  db_timings_ms: Mapping[str, float] | None = None, trace: Trace | None = None,
                  **params: Any) -> LatencyModel:
    """The latency model of the Create Account request on ``topo`` (default: ``load('seed')``).

    ``preset``: ``seed`` | ``physics`` | ``measured``; ``params``: any field of
    :class:`PhysicsParams` (``rtt_ms``, ``tls_version``, ``dns_cache``, ``keep_alive``,
    ``pool``, ``multi_az`` ...); ``db_timings_ms``: the database phases for ``measured``.
    ``trace``: the journey on ``topo`` when already evaluated (default: ``journey(topo)``); when it
    is blocked, ``model.outcome`` says the request fails and how long the user waits.
    """
    if topo is None:
        if trace is not None:
            topo = trace.topology
        else:
            from ..network.loader import load

            topo = load("seed")
    if not isinstance(topo, Topology):
        raise ParameterError(f"latency_model needs a Topology, got {type(topo).__name__}",
                   "pass tl.load('seed') (or leave it out for the seed)")
    if trace is not None and trace.topology is not topo:
        raise ParameterError("latency_model: the trace was evaluated on another topology",
                   "pass trace=tl.journey(topo) for the same topo, or leave trace out")
    if preset not in PRESETS:
        raise ParameterError(f"unknown latency preset {preset!r}", f"use one of {', '.join(PRESETS)}")
    facts = TopologyFacts.of(topo)
    outcomes = (trace if trace is not None else journey(topo)).outcomes
    if preset == "seed":
        if params or db_timings_ms:
            raise ParameterError("the seed preset takes no parameters: it reproduces the seed's own ranges",
                       "use preset='physics' to move RTT, TLS, DNS cache, keep-alive or the pool")
        return LatencyModel("seed", facts, None, journey_outcomes=outcomes)
    p = PhysicsParams.make(**params)
    if preset == "measured":
        return LatencyModel("measured", facts, p, _check_timings(db_timings_ms), journey_outcomes=outcomes)
    if db_timings_ms is not None:
        raise ParameterError("db_timings_ms is only used by the measured preset", "pass preset='measured'")
    return LatencyModel("physics", facts, p, journey_outcomes=outcomes)


def _check_timings(t: Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    how = ("measure them on your PostgreSQL with tierlab's database layer (tierlab.db) and pass the dict: "
           "latency_model(topo, 'measured', db_timings_ms=timings); keys: " + ", ".join(DB_TIMING_KEYS))
    if t is None:
        raise ParameterError("the measured preset needs database timings (db_timings_ms) from a real PostgreSQL", how)
    if not isinstance(t, Mapping):
        raise ParameterError(f"db_timings_ms must be a dict of ms values, got {type(t).__name__}", how)
    missing = [k for k in DB_TIMING_KEYS if k not in t]
    extra = [k for k in t if k not in DB_TIMING_KEYS]
    bad = [f"{k}={t[k]!r}" for k in DB_TIMING_KEYS if k in t and (
        isinstance(t[k], bool) or not isinstance(t[k], (int, float)) or not math.isfinite(t[k]) or t[k] < 0)]
    if missing or extra or bad:
        what = "; ".join(x for x in (
            f"missing {', '.join(missing)}" if missing else "", f"unknown {', '.join(extra)}" if extra else "",
            f"not a time in ms >= 0: {', '.join(bad)}" if bad else "") if x)
        raise ParameterError(f"db_timings_ms: {what}", how)
    return tuple((k, float(t[k])) for k in DB_TIMING_KEYS)


def seed_vs_physics(topo: Topology | None = None, **params: Any) -> pd.DataFrame:
    """The seed's budget beside the physics, component by component, with why they differ."""
    import pandas as pd

    phys = latency_model(topo, "physics", **params)
    p = phys.params or PhysicsParams()
    comp = phys.component_ms()
    lo_t, hi_t = SEED_BUDGET_MS["tls"]
    r_lo, r_hi = implied_rtt_ms(lo_t, "1.3"), implied_rtt_ms(hi_t, "1.3")
    r12_lo, r12_hi = implied_rtt_ms(lo_t, "1.2"), implied_rtt_ms(hi_t, "1.2")
    km_lo, km_hi = r_lo / 2 * FIBRE_KM_PER_MS, r_hi / 2 * FIBRE_KM_PER_MS
    ttl = phys.facts.api_ttl_s if p.dns_ttl_s is None else p.dns_ttl_s
    why = {
        "dns": (f"50-100 ms is a full lookup; the physics uses DNS state '{p.dns_cache}'. A repeat within the TTL "
                f"is a browser-cache hit (~{fmt(p.dns_browser_ms)} ms; the seed itself says ~5 ms), and the TTL "
                f"is {ttl} s here (an alias takes the ELB's 60 s), not the seed's 300 s"),
        "tls": (f"TCP + TLS 1.3 is 2 RTT, so 100-150 ms implies an RTT of {r_lo:.0f}-{r_hi:.0f} ms "
                f"({r12_lo:.0f}-{r12_hi:.0f} ms with TLS 1.2): {km_lo:,.0f}-{km_hi:,.0f} km of fibre each way, "
                f"a far-away client (e.g. Europe to us-east-1). At RTT {fmt(p.rtt_ms)} ms it is "
                f"{comp.get('tls', 0):.0f} ms; with keep-alive it is 0"),
        "alb": ("an ALB adds a few ms of its own; the physics also counts the request's ½ RTT across the internet "
                "here, which the seed's budget leaves out"),
        "node": ("JWT checks and validation take a few ms; 50-100 ms fits only heavy work such as hashing a "
                 "password with bcrypt (cost 10 is ~50-100 ms), which the seed's handler does not do"),
        "db": ("a single-row INSERT with an index, a WAL flush and one cross-AZ round trip for Multi-AZ takes a "
               "few ms on a pooled connection; the seed's own Step 15 items add to 24-34 ms (2+5+10-20+5+2), "
               "below its 30-100 ms. A new connection (no pool) costs more: TCP + TLS + SCRAM auth + a backend fork"),
        "return": ("the response's ½ RTT plus a re-render; 50-100 ms would need a slow network or a heavy "
                   "re-render"),
    }
    rows = []
    for c, (lo, hi) in SEED_BUDGET_MS.items():
        v = comp.get(c, 0.0)
        verdict = "inside" if lo <= v <= hi else ("physics faster" if v < lo else "physics slower")
        rows.append({"component": c, "seed_low_ms": lo, "seed_high_ms": hi, "physics_ms": v,
                     "verdict": verdict, "reason": why[c]})
    total = phys.total_ms
    rows.append({"component": "total", "seed_low_ms": SEED_SUM_MS[0], "seed_high_ms": SEED_SUM_MS[1],
                 "physics_ms": total,
                 "verdict": "inside" if SEED_SUM_MS[0] <= total <= SEED_SUM_MS[1] else
                 ("physics faster" if total < SEED_SUM_MS[0] else "physics slower"),
                 "reason": (f"the seed claims {fmt(SEED_CLAIM_MS[0])}-{fmt(SEED_CLAIM_MS[1])} ms, its ranges add up "
                            f"to {fmt(SEED_SUM_MS[0])}-{fmt(SEED_SUM_MS[1])} ms; the physics ({phys.label()}) "
                            f"gives {total:.0f} ms, firewall checks and the click included")})
    return pd.DataFrame(rows)

