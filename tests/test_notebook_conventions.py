"""Every course notebook follows the conventions of issue 6 (notebooks/NN-topic.ipynb).

The outputs themselves are checked by nbval; these are the laws about shape that nbval cannot see.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def _cells(path):
    nb = json.loads(path.read_text())
    return [(c["cell_type"], "".join(c["source"]), c) for c in nb["cells"]]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_opens_with_title_learn_and_time_and_closes_with_summary_and_exercises(path):
    cells = _cells(path)
    kind, first, _ = cells[0]
    assert kind == "markdown" and first.startswith(f"# {path.name[:2]} · "), first[:80]
    assert "What you will learn" in first and "**Time:**" in first
    headings = [line for k, s, _ in cells if k == "markdown" for line in s.splitlines() if line.startswith("## ")]
    assert "## Summary" in headings and "## Exercises" in headings
    assert headings.index("## Summary") < headings.index("## Exercises")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_thin_first_cell_imports_tierlab_and_nothing_is_star_imported_or_run(path):
    code = [s for k, s, _ in _cells(path) if k == "code"]
    assert code and code[0].startswith("import tierlab as tl")
    for src in code:
        assert not re.search(r"^\s*from\s+\S+\s+import\s+\*", src, re.M), src
        assert "%run" not in src, src


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_executed_without_timestamps(path):
    for kind, src, cell in _cells(path):
        if kind != "code" or not src.strip():
            continue
        assert cell.get("execution_count") is not None, f"not executed: {src[:60]!r}"
        assert "execution" not in cell.get("metadata", {}), "run scripts/nbexec.py to strip timestamps"


STARTS_DB = re.compile(r"\btl\.(database|db\.connect)\(")
DB_NOTEBOOKS = [p for p in NOTEBOOKS if STARTS_DB.search(p.read_text())]


def test_the_database_notebooks_are_found():
    assert {"04-api-servers", "05-database"} <= {p.stem for p in DB_NOTEBOOKS}


@pytest.mark.parametrize("path", DB_NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_that_starts_a_database_stops_it(path):
    code = [s for k, s, _ in _cells(path) if k == "code"]
    starts = [i for i, s in enumerate(code) if STARTS_DB.search(s)]
    stops = [i for i, s in enumerate(code) if re.search(r"^\s*db\.stop\(\)", s, re.M)]
    assert stops and max(stops) > max(starts), "end with a cell that calls db.stop()"


ROOT = Path(__file__).resolve().parents[1]
_REPO_PATH = re.compile(r"`((?:tierlab|data|docs|notebooks|benchmarks|scripts|book)/[\w./-]+)`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_repository_file_a_notebook_points_to_exists(path):
    """A learner told to read `tierlab/course/exercises.py` finds it there (a file moved when the package was laid
    out in layers, and notebook 10 still sent learners to the old path)."""
    named = {m.rstrip(".") for k, s, _ in _cells(path) if k == "markdown" for m in _REPO_PATH.findall(s)}
    missing = sorted(p for p in named if "NN" not in p and not (ROOT / p).exists())
    assert not missing, f"{path.name} points to files that do not exist: {missing}"
