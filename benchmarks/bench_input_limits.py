"""Bad input is refused fast: the subnet-overlap check in n log n, and hostile files in milliseconds.

Before issue 10 the overlap check compared every pair (4,000 subnets: 4.8 s) and an 11 KB alias
bomb ran for 21 s to a MemoryError at 6 GB; a FIFO blocked forever. Each line prints the figure.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from pathlib import Path

import tierlab as tl
from tierlab.network.loader import _overlaps
from tierlab.network.topology import Subnet
from timing import median_ms


def _subnets(n: int) -> list[tuple[str, Subnet]]:
    out = [(f"subnets.s{i}", Subnet(name=f"s{i}", cidr=ipaddress.IPv4Network(f"10.{i // 256}.{i % 256}.0/24"),
                                    az="us-east-1a", tier="app", route_table="rt", nacl="n")) for i in range(n)]
    out.append(("subnets.wide", Subnet(name="wide", cidr=ipaddress.IPv4Network("10.0.0.0/8"), az="us-east-1a",
                                       tier="app", route_table="rt", nacl="n")))
    return out


def _refused_ms(path: Path) -> float:
    def once() -> None:
        try:
            tl.load(path)
        except tl.TierlabError:
            return
        raise AssertionError(f"{path} loaded")

    return median_ms(once, repeat=5)


def main() -> None:
    many = _subnets(4000)
    ms = median_ms(lambda: _overlaps(many), repeat=5)
    print(f"overlap check, 4,000 subnets (all inside one /8): {ms:.1f} ms (was 4,800 ms, pair by pair)")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        text, prev = "a: &a [x, x, x, x, x, x, x, x, x]\n", "a"
        for i in range(1, 10):
            name = chr(97 + i)
            text += f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n"
            prev = name
        (d / "bomb.yaml").write_text(text)
        (d / "deep.yaml").write_text("[" * 1000 + "]" * 1000)
        (d / "big.yaml").write_bytes(b"#" * (6 * 1024 * 1024))
        (d / "list.yaml").write_text("azs:\n" + "- us-east-1a\n" * 150_000)
        os.mkfifo(d / "fifo.yaml")
        for name, was in (("bomb", "21 s to a MemoryError at 6 GB"), ("deep", "RecursionError"),
                          ("big", "read whole"), ("list", "150,000 items built"), ("fifo", "blocked forever")):
            print(f"{name + '.yaml refused:':>20} {_refused_ms(d / f'{name}.yaml'):8.1f} ms (before: {was})")


if __name__ == "__main__":
    main()
