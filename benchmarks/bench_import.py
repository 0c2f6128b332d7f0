"""Import + journey of a 50-resource Terraform project, and its audit: each must take under 1 s.

Measured in-process (the first, cold import builds python-hcl2's parser; the median is warm),
with the CLI's wall time beside them (a new Python process: interpreter, imports and all).
"""

from __future__ import annotations

import subprocess
import sys
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


def main() -> None:
    budget_ms = 1000.0
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
    print(f"import + journey of the seed's AWS describe outputs ({len(tl.from_aws(AWS).resources)} resources): {aws:.0f} ms median")
    if warm > budget_ms or aud > budget_ms or cold > 2 * budget_ms:
        sys.exit(f"over budget: import + journey {warm:.0f} ms, audit {aud:.0f} ms")


if __name__ == "__main__":
    main()
