"""The instructor's view of a class: who passed which exercise, who is stuck where. It only draws.

    tl.course.progress.class_progress(homes).chart()     # or progress_chart(p.per_exercise())
"""

from __future__ import annotations

from typing import Any

from ..errors import TierlabError
from .charts import _axes

__all__ = ["progress_chart", "PASS_COLOR", "TRYING_COLOR"]

PASS_COLOR = "#2e7d32"  # the grader's PASS green
TRYING_COLOR = "#c62828"  # the grader's NOT YET red


def progress_chart(per_exercise: Any, *, ax: Any = None) -> Any:
    """A grid learner × exercise: a green cell passed, a red cell tried and not passed yet, blank not tried;
    each cell names its attempts. ``per_exercise`` is ``Progress.per_exercise()`` (columns learner, exercise,
    passed, attempts). Returns the axes."""
    df = per_exercise
    if not {"learner", "exercise", "passed", "attempts"} <= set(getattr(df, "columns", ())):
        raise TierlabError("progress_chart() needs a Progress.per_exercise() frame",
                           "pass tl.course.progress.class_progress(homes).per_exercise()")
    learners = sorted(df["learner"].unique())
    exercises = sorted(df["exercise"].unique())
    ax = _axes(ax, (max(6.0, 0.45 * len(exercises) + 2), max(2.5, 0.35 * len(learners) + 1.5)))
    for r in df.itertuples():
        x, y = exercises.index(r.exercise), learners.index(r.learner)
        color = PASS_COLOR if r.passed else TRYING_COLOR
        ax.add_patch(_rect(x, y, color))
        ax.text(x, y, str(r.attempts), ha="center", va="center", fontsize=7, color="white")
    ax.set_xlim(-0.5, max(len(exercises), 1) - 0.5)
    ax.set_ylim(max(len(learners), 1) - 0.5, -0.5)
    ax.set_xticks(range(len(exercises)), exercises, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(learners)), learners, fontsize=8)
    ax.set_title(f"{len(learners)} learners: green passed, red not yet (number: attempts)", fontsize=9)
    ax.set_aspect("auto")
    return ax


def _rect(x: int, y: int, color: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.45, y - 0.45), 0.9, 0.9, color=color)
