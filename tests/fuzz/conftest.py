"""Print what the fuzz tests saw, whether or not pytest captures output (-s is not needed)."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    import sys

    module = sys.modules.get("test_fuzz")  # only once the fuzz tests have run
    COUNTS = getattr(module, "COUNTS", None)
    if not COUNTS:
        return
    terminalreporter.section("fuzz counts")
    for part, counts in COUNTS.items():
        terminalreporter.write_line(f"{part:>11}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
