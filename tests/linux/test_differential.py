"""The evaluator against the kernel: every scenario file, the egress mistakes and 1,000 what-ifs of the
seed plus some of seed-vpc (NAT gateways, endpoints), 0 unexplained."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import tierlab as tl
from tierlab.course.scenarios import WHATIF_KEYS, apply_whatif
from tierlab.linux import differential as D
from tierlab.paths import data_dir

pytestmark = [pytest.mark.netns, pytest.mark.slow]

WHATIFS = 1000
#: What-ifs of seed-vpc besides its egress mistakes: each also probes every server's way out (36 more
#: connections, through the NATs, the S3 gateway endpoint and the interface endpoints)
VPC_WHATIFS = 60


def egress_cases() -> list[D.Case]:
    """seed-vpc as shipped, each egress mistake (tl.course.egress), and generated what-ifs of it."""
    from tierlab.course.egress import load_mistakes

    base = tl.load("seed-vpc")
    return ([D.Case("seed-vpc", base)] + [D.Case(f"egress-mistakes[{m.id}]", m.topology) for m in load_mistakes()]
            + D.whatifs(base, VPC_WHATIFS))


def scenario_cases() -> dict[str, list[D.Case]]:
    """Every entry of every scenario file, as a what-if of its topology (by topology name)."""
    out: dict[str, list[D.Case]] = {}
    for path in sorted(Path(data_dir()).joinpath("scenarios").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text()) or {}
        name = doc.get("topology", "seed")
        base = tl.load(name)
        for i, entry in enumerate(doc.get("scenarios", []) or []):
            topo = base
            if isinstance(entry, dict):
                if entry.get("rule"):
                    topo = topo.switch_off(entry["rule"])
                spec = {k: v for k, v in entry.items() if k in WHATIF_KEYS}
                spec.update(entry.get("whatif") or {})
                topo = apply_whatif(topo, spec, file=path.name, path=f"scenarios[{i}]")
            out.setdefault(name, []).append(D.Case(f"{path.stem}[{i}]", topo))
    return out


def test_the_kernel_agrees_with_the_evaluator(seed_lab, capsys):
    by_topology = scenario_cases()
    assert by_topology, "no scenario file found"
    cases = by_topology.pop("seed", []) + D.whatifs(tl.load("seed"), WHATIFS)
    from tierlab import linux

    with linux.build(tl.load("seed")) as second:  # two copies: one's timeouts overlap the other's
        report = D.run([seed_lab, second], cases, timeout_s=0.05)
    by_topology.setdefault("seed-vpc", []).extend(egress_cases())
    for name, more in by_topology.items():  # scenario files on other topologies get their own lab
        with linux.build(tl.load(name)) as lab:
            other = D.run(lab, more, timeout_s=0.05)
        report.cases += other.cases
        report.probes += other.probes
        report.agreements += other.agreements
        report.documented += other.documented
        report.unexplained += other.unexplained
        for k, v in other.outcomes.items():
            report.outcomes[k] = report.outcomes.get(k, 0) + v
    with capsys.disabled():
        print("\n" + report.summary())
        for d in report.documented[:10] + report.unexplained[:30]:
            print("  ", d)
    assert report.cases >= WHATIFS + VPC_WHATIFS + 10
    assert {"connected", "timed out", "refused", "reply lost"} <= set(report.outcomes), report.outcomes
    assert all(d.kind in D.DOCUMENTED for d in report.documented)
    assert report.unexplained == [], f"{len(report.unexplained)} unexplained disagreements; first: {report.unexplained[0]}"
