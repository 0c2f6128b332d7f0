"""The course as a whole: its notebooks, their exercises, and honest time estimates.

**How a notebook's time is estimated.** A self-paced learner reads the prose, runs and reads each code cell,
and does the exercises. So::

    minutes = markdown words / 120          (careful technical reading, not skimming: about half of prose speed)
            + 0.5 x code cells              (run it, read the output or the picture; a grading cell counts
                                             with its exercise)
            + 5 x exercises                 (try, check, read the feedback or the folded answer)
            + 1.5 x quick checks            (the primer's two-line checks: one number or word)

rounded to the nearest 5 minutes. Each notebook states the figure in its first cell (``**Time:** about N
minutes``), the course map in 00 and the README's course table list them, and a test keeps all three equal to
:func:`estimate`. A reviewer who took the course from the learner's seat measured 30-40 min for 00, 50-60 for
04, 60-75 for 07 and 08: the formula gives 30, 60, 55 and 75 (07 a little under).

**How an exercise is marked.** A markdown line ``**Exercise `an-id`**`` (or ``**Check `an-id`**`` for a quick
two-line check) opens it. Before the next exercise or
``##`` heading it must have feedback: a code cell that grades an answer with the exercise system
(``tl.exercises.load_exercise("<id>").grade(answer)``), or a markdown cell tagged ``solution`` whose answer is
folded in a ``<details>`` block (a learners' edition can strip those cells).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import TierlabError
from ..paths import data_dir

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["WORDS_PER_MIN", "CODE_CELL_MIN", "EXERCISE_MIN", "CHECK_MIN", "NotebookExercise", "Estimate", "notebooks_dir",
           "notebook_paths", "exercises_in", "estimate", "stated_minutes", "course_map"]

WORDS_PER_MIN = 120
CODE_CELL_MIN = 0.5
EXERCISE_MIN = 5.0
CHECK_MIN = 1.5

EXERCISE_RE = re.compile(r"\*\*(?P<kind>Exercise|Check) `(?P<id>[a-z0-9][a-z0-9-]*)`\*\*")
GRADED_RE = re.compile(r"""load_exercise\(\s*["'](?P<id>[a-z0-9-]+)["']\s*\)""")
TIME_RE = re.compile(r"\*\*Time:\*\* about (?P<minutes>\d+) minutes")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’_-]*")


#: The checkout's ``notebooks/`` beside the package (a wheel has none: it ships the library only).
_CHECKOUT_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def notebooks_dir() -> Path:
    """The course's ``notebooks/`` folder: the checkout's; else, for tierlab installed from a wheel, the one beside
    the data folder (a learners' edition opened as its README says: ``TIERLAB_DATA=$PWD/data``)."""
    if _CHECKOUT_NOTEBOOKS.is_dir():
        return _CHECKOUT_NOTEBOOKS
    beside = data_dir().parent / "notebooks"
    if beside.is_dir():
        return beside
    raise TierlabError(f"no course notebooks: none beside tierlab ({_CHECKOUT_NOTEBOOKS.parent}, an install) and "
                       f"none beside its data folder ({beside})",
                       "open the course from its folder as its README says (TIERLAB_DATA=$PWD/data), or run from a "
                       "checkout of the tierlab repository")


def notebook_paths(folder: Path | None = None) -> list[Path]:
    """``NN-topic.ipynb`` in course order (the primer, 00-primer, comes before 00-start-here)."""
    paths = sorted((folder or notebooks_dir()).glob("[0-9][0-9]-*.ipynb"))
    return sorted(paths, key=lambda p: (p.name[:2], p.stem != "00-primer", p.name))


def _cells(path: Path) -> list[dict]:
    try:
        return json.loads(Path(path).read_text())["cells"]
    except (OSError, ValueError, KeyError) as exc:
        raise TierlabError(f"cannot read notebook {path}: {exc}", "is it a saved .ipynb file?") from None


def _src(cell: dict) -> str:
    return "".join(cell.get("source", ""))


@dataclass(frozen=True)
class NotebookExercise:
    notebook: str
    id: str
    cell: int                 # index of the cell that opens it
    graded_by: str | None     # the exercise-system id that grades it, if any
    folded: bool              # an answer folded in a cell tagged `solution`
    quick: bool = False       # a quick check (``**Check `id`**``) rather than a full exercise

    @property
    def has_feedback(self) -> bool:
        return self.graded_by is not None or self.folded


def exercises_in(path: Path) -> list[NotebookExercise]:
    """Every exercise of a notebook, in order, with how it gives feedback."""
    cells = _cells(path)
    found = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for m in EXERCISE_RE.finditer(_src(cell)):
            found.append((i, m.group("id"), m.group("kind")))
    out = []
    for n, (i, eid, kind) in enumerate(found):
        end = next((j for j, _, _ in found[n + 1:] if j > i), len(cells))
        graded, folded = None, False
        for cell in cells[i + 1:end]:
            src = _src(cell)
            if cell["cell_type"] == "markdown" and re.match(r"\s*##? ", src) and "solution" not in cell.get(
                    "metadata", {}).get("tags", []):
                break
            if cell["cell_type"] == "code":
                g = GRADED_RE.search(src)
                if g and ".grade(" in src:
                    graded = g.group("id")
                elif g:
                    later = [c for c in cells[i + 1:end] if c["cell_type"] == "code" and ".grade(" in _src(c)]
                    graded = g.group("id") if later else graded
            if cell["cell_type"] == "markdown" and "solution" in cell.get("metadata", {}).get("tags", []) \
                    and "<details" in src:
                folded = True
        out.append(NotebookExercise(Path(path).stem, eid, i, graded, folded, kind == "Check"))
    return out


@dataclass(frozen=True)
class Estimate:
    notebook: str
    words: int
    code_cells: int
    exercises: int
    checks: int = 0

    @property
    def minutes(self) -> int:
        raw = (self.words / WORDS_PER_MIN + CODE_CELL_MIN * self.code_cells + EXERCISE_MIN * self.exercises
               + CHECK_MIN * self.checks)
        return max(5, int(5 * round(raw / 5)))


def estimate(path: Path) -> Estimate:
    """The time a self-paced learner needs for one notebook (see the module docstring for the formula)."""
    cells = _cells(path)
    words = sum(len(_WORD.findall(_src(c))) for c in cells
                if c["cell_type"] == "markdown" and "solution" not in c.get("metadata", {}).get("tags", []))
    code = sum(1 for c in cells if c["cell_type"] == "code" and _src(c).strip() and ".grade(" not in _src(c))
    found = exercises_in(path)
    quick = sum(e.quick for e in found)
    return Estimate(Path(path).stem, words, code, len(found) - quick, quick)


def stated_minutes(path: Path) -> int | None:
    """The minutes a notebook's first cell states (``**Time:** about N minutes``), or None."""
    cells = _cells(path)
    m = TIME_RE.search(_src(cells[0])) if cells else None
    return int(m.group("minutes")) if m else None


def course_map(folder: Path | None = None) -> "pd.DataFrame":
    """One row per notebook: its title, exercises and estimated minutes, with the total at the end."""
    import pandas as pd

    rows = []
    for p in notebook_paths(folder):
        first = _src(_cells(p)[0]).splitlines()[0] if _cells(p) else ""
        est = estimate(p)
        rows.append({"notebook": p.stem, "what": first.split(" · ", 1)[-1].strip(),
                     "exercises": est.exercises + est.checks, "minutes": est.minutes})
    frame = pd.DataFrame(rows)
    total = pd.DataFrame([{"notebook": "total", "what": f"{frame['minutes'].sum() / 60:.1f} hours",
                           "exercises": int(frame["exercises"].sum()), "minutes": int(frame["minutes"].sum())}])
    return pd.concat([frame, total], ignore_index=True)
