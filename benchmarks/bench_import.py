"""Import + journey of a 50-resource Terraform project, and its audit: each must take under 1 s.

Measured in-process (the first, cold import builds python-hcl2's parser; the median is warm),
with the CLI's wall time beside them (a new Python process: interpreter, imports and all), and
the first call of a new process twice: with an empty parse cache (python-hcl2 and its parser are
loaded and every file parsed) and with the parses cached on disk by an earlier process.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tierlab as tl
from timing import median_ms

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "data" / "terraform" / "three-tier"
AWS = ROOT / "data" / "aws" / "seed"


def _wall_s(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tierlab.cli", *args], cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - t0


_FIRST_CALL = ("import time; t0 = time.perf_counter(); import tierlab as tl; t1 = time.perf_counter(); "
               "tl.journey(tl.from_terraform({p!r}).topology); t2 = time.perf_counter(); print(t1 - t0, t2 - t1)")


def _new_process(cache: str) -> tuple[float, float]:
    """``import tierlab`` and the first import + journey, timed inside a new Python process (s)."""
    out = subprocess.run([sys.executable, "-c", _FIRST_CALL.format(p=str(PROJECT))], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={**os.environ, "TIERLAB_CACHE_DIR": cache})
    a, b = out.stdout.split()
    return float(a), float(b)


def first_calls(rounds: int = 3) -> dict[str, tuple[float, float]]:
    """Medians of (import tierlab, first import + journey) in new processes, without and with the parse cache."""
    empty, cached = [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as d:
            empty.append(_new_process(d))  # nothing cached: python-hcl2, its parser and every parse
            cached.append(_new_process(d))  # the same project again, in another new process
    med = lambda xs: (statistics.median(x[0] for x in xs), statistics.median(x[1] for x in xs))  # noqa: E731
    return {"empty": med(empty), "cached": med(cached)}


def main() -> None:
    budget_ms = 1000.0
    os.environ["TIERLAB_CACHE_DIR"] = "off"  # in-process figures and CLI wall times: every file parsed
    t0 = time.perf_counter()
    imp = tl.from_terraform(PROJECT)
    tl.journey(imp.topology)
    cold = (time.perf_counter() - t0) * 1000
    n = len(imp.resources)
    from tierlab.network.importers import terraform as tfmod

    def fresh():  # parse every file again: the in-process parse cache would hide the real cost
        tfmod._PARSED.clear()
        return tl.journey(tl.from_terraform(PROJECT).topology)

    warm = median_ms(fresh, repeat=5)
    cached = median_ms(lambda: tl.journey(tl.from_terraform(PROJECT).topology), repeat=5)
    aud = median_ms(lambda: tl.audit(imp), repeat=5)
    aws = median_ms(lambda: tl.journey(tl.from_aws(AWS).topology), repeat=5)
    cli_j = _wall_s("journey", "-t", str(PROJECT))
    cli_a = _wall_s("audit", str(PROJECT))
    cli_seed = _wall_s("journey")
    print(f"import + journey, {n}-resource Terraform project: {warm:.0f} ms median (cold, first parse: {cold:.0f} ms); "
          f"budget {budget_ms:.0f} ms; {cached:.0f} ms when the files were parsed before in the process — "
          f"CLI `tierlab journey -t` wall time {cli_j * 1000:.0f} ms")
    print(f"audit of it: {aud:.0f} ms median ({len(tl.audit(imp).findings)} findings); budget {budget_ms:.0f} ms — "
          f"CLI `tierlab audit` wall time {cli_a * 1000:.0f} ms")
    print(f"(for scale: CLI `tierlab journey` on the built-in seed, no import: {cli_seed * 1000:.0f} ms wall time — "
          "most of a CLI run is starting Python and importing tierlab)")
    fc = first_calls()
    print(f"new process, first import + journey: {fc['empty'][1] * 1000:.0f} ms with nothing cached, "
          f"{fc['cached'][1] * 1000:.0f} ms with the .tf parses cached on disk by an earlier process "
          f"(`import tierlab` before it: {fc['empty'][0] * 1000:.0f} / {fc['cached'][0] * 1000:.0f} ms; medians of 3)")
    print(f"import + journey of the seed's AWS describe outputs ({len(tl.from_aws(AWS).resources)} resources): {aws:.0f} ms median")
    if warm > budget_ms or aud > budget_ms or cold > 2 * budget_ms:
        sys.exit(f"over budget: import + journey {warm:.0f} ms, audit {aud:.0f} ms")


if __name__ == "__main__":
    main()
