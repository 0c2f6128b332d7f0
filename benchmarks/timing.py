"""The one timing helper the benchmark scripts share."""

from __future__ import annotations

import statistics
import time
from typing import Callable


def median_ms(fn: Callable[[], object], repeat: int = 30) -> float:
    """Median wall time of ``fn()`` in milliseconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def count(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number ``lo..hi``; anything else is a usage error (exit 2) naming the range."""
    import argparse
    import re

    def parse(text: str) -> int:
        if not re.fullmatch(r"\s*[0-9]{1,9}\s*", text) or not lo <= int(text) <= hi:
            raise argparse.ArgumentTypeError(f"a whole number {lo}-{hi}, got {text[:40]!r}")
        return int(text)
    return parse


def counts(lo: int, hi: int) -> Callable[[str], list[int]]:
    """An argparse type: comma-separated whole numbers, each ``lo..hi`` (at least one)."""
    import argparse

    one = count(lo, hi)

    def parse(text: str) -> list[int]:
        try:
            return [one(x) for x in text.split(",")]
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"comma-separated whole numbers {lo}-{hi}, got {text[:40]!r}") from None
    return parse
