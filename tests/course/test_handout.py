"""The learners' edition (issue 14): no solution's TEXT anywhere in it, and it still works.

The search looks for what the answers say, not for the word "solution": every line of every entry in
data/exercises/solutions.yaml and every line of every cell tagged ``solution``, normalised (case, whitespace,
markdown marks). A line that also appears in the course outside the answers (a prompt that quotes a rule) is not
an answer and is not searched for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

import tierlab as tl
from tierlab.cli import main
from tierlab.course import exercises as E
from tierlab.course.handout import SOLUTION_TAG, handout, nbgitpuller_link
from tierlab.errors import TierlabError

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
MIN_CHARS = 24  # shorter lines ("topo = ex.start()") are phrases any notebook may share


def _norm(text: str) -> str:
    text = re.sub(r"</?(details|summary)>|[*`_]", " ", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def _is_solution(cell: dict) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def _notebook_text(nb: dict, *, solutions: bool) -> str:
    """The readable text of a notebook: the sources (and outputs) of its solution cells, or of the others."""
    out = []
    for c in nb["cells"]:
        if _is_solution(c) != solutions:
            continue
        out.append("".join(c["source"]))
        for o in c.get("outputs", []):
            out.append("".join(o.get("text", "")))
            for v in o.get("data", {}).values():
                out.append("".join(v) if isinstance(v, list) else str(v))
    return "\n".join(out)


def _lines(text: str) -> list[str]:
    return [n for n in (_norm(line.lstrip("- ")) for line in text.splitlines()) if len(n) >= MIN_CHARS]


def _answers() -> tuple[list[str], int]:
    """(every solution line to search for, how many were dropped as shared with the course's other text)."""
    doc = yaml.safe_load((ROOT / "data/exercises/solutions.yaml").read_text())
    needles = []
    for eid, sol in doc["solutions"].items():
        needles += _lines(yaml.safe_dump(sol.get("apply"), default_flow_style=True, width=10_000) if sol.get("apply")
                          else "")
        needles += _lines(str(sol.get("code", "")) + "\n" + str(sol.get("value", "")) + "\n" + str(sol["notes"]))
    needles += _lines((ROOT / "data/exercises/solutions.yaml").read_text())  # as written, flow maps and all
    shared = []
    for p in sorted(NOTEBOOKS.rglob("*.ipynb")):
        nb = json.loads(p.read_text())
        if "solutions" in p.parts:
            needles += _lines(_notebook_text(nb, solutions=False))  # the instructors' notebook is all answers
            continue
        needles += _lines(_notebook_text(nb, solutions=True))
        needles += [_norm("".join(c["source"])) for c in nb["cells"] if _is_solution(c)]  # each whole answer
        shared.append(_notebook_text(nb, solutions=False))
    shared += [f.read_text() for f in (ROOT / "data").rglob("*.yaml") if f.name != "solutions.yaml"]
    course = _norm("\n".join(shared))
    kept = sorted({n for n in needles if n not in course})
    return kept, len(set(needles)) - len(kept)


def _haystack(folder: Path) -> dict[str, str]:
    out = {}
    for f in folder.rglob("*"):
        if f.is_file():
            text = f.read_text(encoding="utf-8", errors="ignore")
            if f.suffix == ".ipynb":
                nb = json.loads(text)
                text = _notebook_text(nb, solutions=False) + _notebook_text(nb, solutions=True)
            out[f.relative_to(folder).as_posix()] = _norm(text)
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("handout") / "class"
    h = handout(dest)
    print(h.summary())
    assert h.removed_cells == sum(_is_solution(c) for p in NOTEBOOKS.glob("*.ipynb")
                                  for c in json.loads(p.read_text())["cells"]) > 0
    return dest


def test_the_handout_holds_no_solution_text(built):
    needles, shared = _answers()
    print(f"{len(needles)} answer lines searched for ({shared} shared with the prompts left out)")
    assert len(needles) > 200  # the search is about the answers' text, so there must be plenty of it
    hay = _haystack(built)
    leaks = [(name, n) for name, text in hay.items() for n in needles if n in text]
    assert not leaks, f"{len(leaks)} answer lines in the handout, e.g. {leaks[:3]}"


def test_the_search_would_find_a_leaked_answer(built, tmp_path):
    """The law above is only worth something if a real answer, pasted in, is found."""
    needles, _ = _answers()
    src = json.loads((NOTEBOOKS / "04-api-servers.ipynb").read_text())
    answer = next(c for c in src["cells"] if _is_solution(c))
    leaked = json.loads((built / "notebooks/04-api-servers.ipynb").read_text())
    leaked["cells"].append({**answer, "metadata": {}})  # untagged: a copy of the answer under another name
    (tmp_path / "x.ipynb").write_text(json.dumps(leaked))
    hay = _haystack(tmp_path)
    assert any(n in hay["x.ipynb"] for n in needles)


def test_no_solutions_file_folder_or_tagged_cell(built):
    assert not (built / "data/exercises/solutions.yaml").exists()
    assert not (built / "notebooks/solutions").exists()
    assert (built / "data/exercises/10-web-sg-egress-5432.yaml").exists()
    for p in (built / "notebooks").rglob("*.ipynb"):
        assert not any(_is_solution(c) for c in json.loads(p.read_text())["cells"]), p.name


def test_the_learners_notebooks_still_open(built):
    import nbformat  # here, not at the top: its JSON-schema stack costs seconds of collection for every run

    names = sorted(p.name for p in (built / "notebooks").glob("*.ipynb"))
    assert names == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    for p in (built / "notebooks").rglob("*.ipynb"):
        nbformat.validate(nbformat.read(p, as_version=nbformat.NO_CONVERT))


def test_with_the_handouts_data_every_exercise_grades_and_no_answer_loads(built, monkeypatch):
    monkeypatch.setenv("TIERLAB_DATA", str(built / "data"))
    assert tl.data_dir() == (built / "data").resolve()
    every = E.load_exercises(None)
    assert len(every) == len(E.exercise_files(None)) > 20
    ex = E.load_exercise("linux-ephemeral")
    assert not ex.grade(ex.start()).passed
    with pytest.raises(TierlabError, match="TIERLAB_SOLUTIONS"):
        E.load_solutions()
    with pytest.raises(TierlabError, match="instructors"):
        E.solved(ex)


def test_an_instructor_points_at_the_answers_with_an_environment_variable(built, monkeypatch):
    """A learner's install (here the handout's data) has no answers; $TIERLAB_SOLUTIONS brings the checkout's."""
    monkeypatch.setenv("TIERLAB_DATA", str(built / "data"))
    monkeypatch.setenv(E.SOLUTIONS_ENV, str(ROOT / "data/exercises/solutions.yaml"))
    ex = E.load_exercise("linux-ephemeral")
    assert ex.grade(E.solved(ex)).passed
    monkeypatch.setenv(E.SOLUTIONS_ENV, str(built / "nowhere.yaml"))
    with pytest.raises(TierlabError, match="nowhere.yaml"):
        E.load_solutions()


def test_the_command_line_builds_it_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["handout", str(tmp_path / "c"), "--hub", "https://hub.example.org",
                 "--repo", "https://github.com/acme/tierlab-class"]) == 0
    out = capsys.readouterr().out
    assert "answer cells left out" in out and "git-pull?repo=" in out
    assert main(["handout", str(tmp_path / "c")]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["handout", str(tmp_path / "c"), "--force"]) == 0


def test_a_handout_never_writes_into_the_course(tmp_path):
    with pytest.raises(TierlabError, match="overwrite the course"):
        handout(NOTEBOOKS / "x")
    with pytest.raises(TierlabError, match="notebooks folder"):
        handout(tmp_path / "c", notebooks=tmp_path / "nowhere")


def test_the_nbgitpuller_link_round_trips():
    link = nbgitpuller_link("https://hub.example.org/", "https://github.com/acme/tierlab-class.git", branch="week-1")
    u = urlparse(link)
    assert (u.netloc, u.path) == ("hub.example.org", "/hub/user-redirect/git-pull")
    q = {k: v[0] for k, v in parse_qs(u.query).items()}
    assert q == {"repo": "https://github.com/acme/tierlab-class.git", "branch": "week-1",
                 "urlpath": "lab/tree/tierlab-class/notebooks/00-start-here.ipynb"}
    with pytest.raises(TierlabError, match="full URLs"):
        nbgitpuller_link("hub.example.org", "acme/tierlab-class")
