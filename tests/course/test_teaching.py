"""The run-sheets (issue 14) name only notebooks and exercises that exist, each exercise in the notebook it is
taught from, and their minutes add up: 120 and 180 for the workshops, the course map's estimate per notebook for
the weekend."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tierlab.course import syllabus

ROOT = Path(__file__).resolve().parents[2]
TEACHING = ROOT / "docs" / "teaching"
PLANS = {"workshop-2h.md": 120, "workshop-3h.md": 180, "self-paced-weekend.md": None}
NOTEBOOKS = {p.stem: p for p in syllabus.notebook_paths()}


def _rows(name: str) -> list[dict[str, str]]:
    lines = [ln for ln in (TEACHING / name).read_text().splitlines() if ln.startswith("|")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(head, (c.strip() for c in ln.strip("|").split("|")))) for ln in lines[2:]]


def _ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


@pytest.mark.parametrize("name", PLANS)
def test_every_notebook_and_exercise_named_exists_where_it_is_taught(name):
    rows = _rows(name)
    assert rows
    for r in rows:
        nbs = _ticked(r["notebook"])
        assert all(nb in NOTEBOOKS for nb in nbs), (name, nbs)
        ids = _ticked(r[next(k for k in r if k.startswith("exercises"))])
        if ids:
            assert len(nbs) == 1, (name, r)
            taught = {x for e in syllabus.exercises_in(NOTEBOOKS[nbs[0]]) for x in (e.id, e.graded_by) if x}
            assert set(ids) <= taught, (name, nbs[0], sorted(set(ids) - taught))


@pytest.mark.parametrize("name", [n for n, total in PLANS.items() if total])
def test_a_workshop_fills_its_time_exactly(name):
    assert sum(int(r["minutes"]) for r in _rows(name)) == PLANS[name]


def test_the_weekend_covers_the_course_at_the_course_maps_pace():
    rows = _rows("self-paced-weekend.md")
    named = [_ticked(r["notebook"])[0] for r in rows]
    assert named == [p for p in NOTEBOOKS if p[:2] <= "10"]
    for nb, r in zip(named, rows):
        assert int(r["minutes"]) == syllabus.estimate(NOTEBOOKS[nb]).minutes, nb


def test_the_readme_links_every_run_sheet():
    readme = (ROOT / "README.md").read_text()
    assert "## Teaching a class" in readme
    for name in PLANS:
        assert f"docs/teaching/{name}" in readme
