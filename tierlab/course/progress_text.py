"""Progress as text for a terminal: every line at most ``width`` characters (80 by default), for one learner or
thirty, however many exercises the course has and whatever a progress file holds.

One learner: a line per lesson (notebook) with how many of its exercises are passed and the ones tried and not
passed yet (of exercises the course does not know, every one tried). A class: a line per learner (passed, attempts, what is still being tried), then a line per lesson (how
many learners finished it). What does not fit a line is counted (``+3 more``), never wrapped; every text from a
file (a learner's name, an exercise id) is escaped and cut before it is measured.
"""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ..errors import TierlabError
from ..network.limits import printable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["progress_text", "LEGEND"]

LEGEND = "pass/N: passed at attempt N; fail/N: not yet after N attempts"
#: Control characters, newline and tab included: a cell is one line, and an escape sequence from a file must not
#: reach the terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_OTHER = "(not in this course)"


def _safe(text: object, limit: int, *, middle: bool = False) -> str:
    """``text`` printable, its control characters escaped, cut to ``limit`` characters ("..." where cut: in the
    middle for names, which differ at the end as often as at the start: tierlab-learner-01, -02, ...)."""
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", printable(str(text), 10_000))
    if len(shown) <= limit:
        return shown
    if not middle:
        return shown[: max(limit - 3, 0)] + "..."
    head = max(limit - 3, 0) // 2
    return shown[:head] + "..." + shown[len(shown) - (max(limit - 3, 0) - head):]


def _fit(items: Sequence[str], width: int) -> str:
    """As many of ``items`` as fit ``width``, joined by ", ", then ``+N more`` for the rest; "-" for none."""
    if not items:
        return "-"
    shown: list[str] = []
    for i, item in enumerate(items):
        rest = len(items) - i - 1
        more = f", +{rest} more" if rest else ""
        candidate = ", ".join([*shown, item])
        if len(candidate + more) <= width:
            shown.append(item)
            continue
        left = len(items) - len(shown)
        return (", ".join(shown) + ", " if shown else "") + f"+{left} more"
    return ", ".join(shown)


def _columns(rows: Iterable[Sequence[str]], heads: Sequence[str], width: int) -> list[str]:
    """A table whose last column takes what is left of ``width`` (its cells were fitted to it already)."""
    rows = list(rows)
    w = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(heads[:-1])]
    lines = ["  ".join([*(h.ljust(w[i]) for i, h in enumerate(heads[:-1])), heads[-1]])]
    lines.append("  ".join([*("-" * x for x in w), "-" * min(len(heads[-1]), width - sum(w) - 2 * len(w))]))
    lines += ["  ".join([*(c.ljust(w[i]) for i, c in enumerate(r[:-1])), r[-1]]).rstrip() for r in rows]
    return [line[:width] for line in lines]


def _lessons(tried: Iterable[str]) -> dict[str, list[str]]:
    """The course's lessons in order, each with its exercise ids; ids the course does not know, in a lesson of their
    own at the end."""
    from .exercises import load_exercises

    lessons: dict[str, list[str]] = {}
    try:
        for ex in load_exercises(None):
            lessons.setdefault(ex.notebook, []).append(ex.id)
    except TierlabError:  # a data folder without exercises: one lesson of whatever was tried
        pass
    known = {e for ids in lessons.values() for e in ids}
    other = sorted({e for e in tried if e not in known})
    return {**lessons, _OTHER: other} if other else lessons


def _cells(per: "pd.DataFrame") -> dict[str, tuple[bool, Any, int]]:
    """exercise -> (passed yet, attempts until the first pass, attempts) of one learner's rows of per_exercise."""
    rows: list[dict[Any, Any]] = per.to_dict("records")
    return {str(r["exercise"]): (bool(r["passed"]), r["attempts_to_pass"], int(r["attempts"])) for r in rows}


def _cell(passed: bool, first: Any, attempts: int) -> str:
    return f"pass/{int(first)}" if passed else f"fail/{int(attempts)}"


def _learner_lines(per: "pd.DataFrame", width: int) -> list[str]:
    cells = _cells(per)
    lessons = _lessons(cells)
    name_w = min(24, max(len(_safe(n, 999)) for n in ["lesson", *lessons]))
    counts = [(sum(1 for e in ids if cells.get(e, (False,))[0]), len(ids)) for ids in lessons.values()]
    done = [f"{p} of {n}" for p, n in counts]
    rest = width - name_w - 2 - max(len("passed"), *map(len, done)) - 2
    rows = []
    for (lesson, ids), shown in zip(lessons.items(), done):
        trying = [f"{_safe(e, 28)} {_cell(*cells[e])}" for e in ids  # ids the course does not know: every one
                  if e in cells and (lesson == _OTHER or not cells[e][0])]
        rows.append((_safe(lesson, name_w), shown, _fit(trying, rest)))
    return _columns(rows, ["lesson", "passed", "tried, not passed yet"], width)


def _class_lines(per: "pd.DataFrame", learners: Sequence[str], width: int) -> list[str]:
    lessons = _lessons(per["exercise"].astype(str))
    course = [e for ids in lessons.values() for e in ids]
    name_w = min(20, max(len(_safe(w, 999)) for w in ["learner", *learners]))
    by_learner = {w: g for w, g in per.groupby("learner", sort=False)}
    table = []
    for who in learners:
        g = by_learner.get(who)
        cells = {} if g is None else _cells(g)
        trying = [f"{_safe(e, 28)} {_cell(*c)}" for e in course for c in [cells.get(e)] if c and not c[0]]
        table.append((_safe(who, name_w, middle=True), f"{sum(c[0] for c in cells.values())} of {len(course)}",
                      str(sum(c[2] for c in cells.values())), trying))
    rest = width - name_w - 2 - max(len("passed"), *(len(r[1]) for r in table)) - 2 \
        - max(len("tries"), *(len(r[2]) for r in table)) - 2
    rows = [(*r[:3], _fit(r[3], rest)) for r in table]
    lines = _columns(rows, ["learner", "passed", "tries", "tried, not passed yet"], width)
    passed = {(str(r.learner), str(r.exercise)) for r in per.itertuples() if r.passed}
    lesson_w = min(24, max(len(_safe(n, 999)) for n in ["lesson", *lessons]))
    rows = []
    for lesson, ids in lessons.items():
        finished = sum(1 for w in learners if all((w, e) in passed for e in ids))
        n = sum((w, e) in passed for w in learners for e in ids)
        rows.append((_safe(lesson, lesson_w), str(len(ids)), f"{finished} of {len(learners)}",
                     f"{n} of {len(ids) * len(learners)}"))
    return [*lines, "", *_columns(rows, ["lesson", "exercises", "finished by", "passes"], width)]


def progress_text(per: "pd.DataFrame", learners: Sequence[str], summary: str, unreadable: Sequence[Any],
                  width: int = 80) -> str:
    """The text ``tierlab progress`` prints (see the module's docstring); ``per`` is
    :meth:`Progress.per_exercise`, ``unreadable`` the files with lines that are not records."""
    width = max(int(width), 60)
    wrap = dict(width=width, break_on_hyphens=False, subsequent_indent="  ")
    if len(learners) <= 1 and per.empty:
        summary = f"{learners[0]}: nothing graded yet" if learners else "nothing graded yet"
    elif len(learners) == 1:
        course = [e for ids in _lessons(per["exercise"].astype(str)).values() for e in ids]
        summary = (f"{learners[0]}: {int(per['passed'].sum())} of {len(course)} exercises passed, "
                   f"{int(per['attempts'].sum())} graded attempts")
    lines = textwrap.wrap(_safe(summary, 100_000), **wrap)  # type: ignore[arg-type]
    for u in unreadable:
        lines += textwrap.wrap("warning: " + _safe(u.message, 2000), **wrap)  # type: ignore[arg-type]
        lines += textwrap.wrap("hint: " + _safe(u.hint, 2000), initial_indent="  ", **wrap)  # type: ignore[arg-type]
    if len(learners) > 1:
        lines += ["", *_class_lines(per, learners, width)]
    elif not per.empty:
        lines += ["", *_learner_lines(per, width)]
    if not per.empty:
        lines += ["", LEGEND]
    return "\n".join(lines)
