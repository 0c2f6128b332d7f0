"""Many simulated requests: each step drawn from its distribution, with common random numbers, so
two models compared with the same seed differ only by what was changed."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Sequence

from .params import PhysicsParams
from .presets import StepTime

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from .latency import LatencyModel

__all__ = ["Simulation", "Comparison", "compare", "draw_samples"]


def _one_decimal(x: float) -> str:
    return f"{x:.1f}"


def draw_samples(steps: Sequence[StepTime], params: PhysicsParams | None, n: int, seed: int) -> np.ndarray:
    """``samples[i, j]``: request i's time in step j. Each part is scaled by a log-normal factor of
    its kind (mean 1) or drawn from its range; a step with branches takes one per request."""
    import numpy as np
    p = params or PhysicsParams()
    sig = {"net": p.rtt_jitter_frac, "vpc": p.vpc_jitter_frac, "work": p.work_jitter_frac}
    stream_id = {"net": 0, "vpc": 1, "work": 2, "range": 3, "branch": 4}
    cache: dict[tuple[str, int], np.ndarray] = {}

    def draw(kind: str, j: int) -> np.ndarray:
        # one random stream per (kind, step), the same whatever the parameters: common random
        # numbers, and only the streams a model uses are drawn
        key = (kind, j)
        if key not in cache:
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_id[kind], j)))
            if kind in ("range", "branch"):
                cache[key] = rng.random(n)
            else:
                s = sig[kind]
                z = rng.standard_normal(n)
                cache[key] = np.exp(s * z - s * s / 2) if s > 0 else np.ones(n)
        return cache[key]

    out = np.zeros((n, len(steps)))
    for j, st in enumerate(steps):
        amounts = []
        for b in st.branches:
            amount = np.zeros(n)
            for part in b.parts:
                if part.ms == 0 and not part.hi_ms:
                    continue
                if part.kind == "fixed":
                    amount += part.ms
                elif part.kind == "range":
                    amount += part.ms + ((part.hi_ms or part.ms) - part.ms) * draw("range", j)
                else:
                    amount += part.ms * draw(part.kind, j)
            amounts.append(amount)
        if len(amounts) == 1:
            out[:, j] = amounts[0]
            continue
        u = draw("branch", j)
        edges = np.cumsum([b.share for b in st.branches])
        idx = np.minimum(np.searchsorted(edges, u, side="right"), len(amounts) - 1)
        out[:, j] = np.choose(idx, amounts)
    return out


@dataclass(frozen=True, eq=False)
class Simulation:
    """``n`` simulated requests: samples_ms[i, j] is request i's time in step j."""

    model: LatencyModel
    n: int
    seed: int
    samples_ms: np.ndarray = field(repr=False)

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(st.step.id for st in self.model.steps)

    @cached_property
    def totals_ms(self) -> np.ndarray:
        return self.samples_ms.sum(axis=1)

    def step_ms(self, step_id: str) -> np.ndarray:
        return self.samples_ms[:, self.step_ids.index(self.model.step(step_id).step.id)]

    def percentile(self, q: float) -> float:
        import numpy as np
        return float(np.percentile(self.totals_ms, q))

    def percentiles(self, qs: tuple[float, ...] = (50, 95, 99)) -> pd.DataFrame:
        """The total's percentiles (p50, p95, p99 by default), with what each means."""
        import numpy as np
        import pandas as pd

        vals = np.percentile(self.totals_ms, qs)
        rows = [{"percentile": f"p{q:g}", "total_ms": float(v),
                 "reason": f"{q:g}% of {self.n:,} simulated requests finish within {v:.0f} ms"}
                for q, v in zip(qs, vals)]
        return pd.DataFrame(rows)

    def spread(self) -> dict[str, float]:
        """Mean, percentiles and the spread (p95 - p5, max - min) of the total."""
        import numpy as np
        t = self.totals_ms
        p5, p50, p95, p99 = np.percentile(t, (5, 50, 95, 99))
        return {"mean_ms": float(t.mean()), "min_ms": float(t.min()), "p5_ms": float(p5), "p50_ms": float(p50),
                "p95_ms": float(p95), "p99_ms": float(p99), "max_ms": float(t.max()),
                "p5_p95_ms": float(p95 - p5), "std_ms": float(t.std())}

    def frame(self) -> pd.DataFrame:
        """Per step: mean, p50, p95, p99 and share of the mean total, with the step's reason."""
        import numpy as np
        import pandas as pd

        s = self.samples_ms
        qs = np.percentile(s, (50, 95, 99), axis=0)
        mean = s.mean(axis=0)
        total = mean.sum() or 1.0
        rows = []
        for j, st in enumerate(self.model.steps):
            rows.append({"step": st.step.id, "seed_step": st.step.seed_step, "component": st.step.latency,
                         "mean_ms": mean[j], "p50_ms": qs[0, j], "p95_ms": qs[1, j], "p99_ms": qs[2, j],
                         "share": mean[j] / total, "reason": st.reason})
        df = pd.DataFrame(rows)
        df["seed_step"] = df["seed_step"].astype("Int64")
        return df

    def histogram(self, bins: int = 60) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np
        return np.histogram(self.totals_ms, bins=bins)

    def _repr_html_(self) -> str:
        return (f"<div class='tl-simulation'><b>{html.escape(self.model.label())}</b>, {self.n:,} requests "
                f"(seed {self.seed}){self.percentiles().to_html(index=False, float_format=_one_decimal)}</div>")

    def __repr__(self) -> str:
        s = self.spread()
        return (f"<Simulation {self.model.label()}: n={self.n} p50={s['p50_ms']:.1f} p95={s['p95_ms']:.1f} "
                f"p99={s['p99_ms']:.1f} ms>")


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two scenarios simulated with the same random numbers, step by step."""

    a: Simulation
    b: Simulation
    labels: tuple[str, str]

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        ma, mb = self.a.samples_ms.mean(axis=0), self.b.samples_ms.mean(axis=0)
        rows = []
        for j, (sa, sb) in enumerate(zip(self.a.model.steps, self.b.model.steps)):
            d = mb[j] - ma[j]
            if abs(d) < 1e-9:
                reason = "the same in both"
            else:
                reason = f"{self.labels[1]}: {sb.reason} | {self.labels[0]}: {sa.reason}"
            rows.append({"step": sa.step.id, f"{self.labels[0]}_ms": ma[j], f"{self.labels[1]}_ms": mb[j],
                         "difference_ms": d, "reason": reason})
        rows.append({"step": "total", f"{self.labels[0]}_ms": ma.sum(), f"{self.labels[1]}_ms": mb.sum(),
                     "difference_ms": mb.sum() - ma.sum(),
                     "reason": f"p95 {self.a.percentile(95):.0f} ms vs {self.b.percentile(95):.0f} ms"})
        return pd.DataFrame(rows)

    def percentiles(self) -> pd.DataFrame:
        pa, pb = self.a.percentiles(), self.b.percentiles()
        out = pa[["percentile"]].copy()
        out[f"{self.labels[0]}_ms"] = pa["total_ms"]
        out[f"{self.labels[1]}_ms"] = pb["total_ms"]
        out["difference_ms"] = pb["total_ms"] - pa["total_ms"]
        out["reason"] = [f"{self.labels[1]} minus {self.labels[0]} at {p}" for p in out["percentile"]]
        return out


def compare(a: LatencyModel, b: LatencyModel, *, n: int = 20_000, seed: int = 0,
            labels: tuple[str, str] | None = None) -> Comparison:
    """Simulate two models with the same random numbers and compare them step by step."""
    return Comparison(a.simulate(n, seed), b.simulate(n, seed), labels or ("a", "b"))
