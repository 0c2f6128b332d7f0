"""The learners' edition (issue 14): no solution's TEXT anywhere in it, and it still works.

The search (tests/answers.py) looks for what the answers say, not for the word "solution".
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from answers import NOTEBOOKS, ROOT, _answers, _haystack, _is_solution

import tierlab as tl
from tierlab.cli import main
from tierlab.course import exercises as E
from tierlab.course.handout import handout, nbgitpuller_link
from tierlab.errors import TierlabError


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


def _nbformat_schema(minor: int):
    """nbformat's own v4.N schema, compiled by fastjsonschema: what ``nbformat.validate`` runs by default, without
    ``import nbformat``, whose jsonschema stack builds an IRI grammar at import (2-3 s of CPU per test worker)."""
    import importlib.util

    import fastjsonschema

    spec = importlib.util.find_spec("nbformat")
    assert spec is not None and spec.submodule_search_locations, "nbformat is a test dependency"
    schema = Path(spec.submodule_search_locations[0]) / "v4" / f"nbformat.v4.{minor}.schema.json"
    return fastjsonschema.compile(json.loads(schema.read_text()))


def test_the_learners_notebooks_still_open(built):
    names = sorted(p.name for p in (built / "notebooks").glob("*.ipynb"))
    assert names == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    validators: dict[int, object] = {}
    for p in (built / "notebooks").rglob("*.ipynb"):
        nb = json.loads(p.read_text(encoding="utf-8"))
        assert nb["nbformat"] == 4, p.name
        minor = nb["nbformat_minor"]
        validate = validators.setdefault(minor, _nbformat_schema(minor))
        validate(nb)  # raises JsonSchemaValueException naming the bad field
        ids = [c["id"] for c in nb["cells"] if "id" in c]
        assert len(ids) == len(set(ids)), f"{p.name}: duplicate cell ids"


def test_the_schema_check_refuses_a_broken_notebook(built):
    import fastjsonschema

    nb = json.loads((built / "notebooks" / "00-start-here.ipynb").read_text())
    nb["cells"][0]["cell_type"] = "prose"
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        _nbformat_schema(nb["nbformat_minor"])(nb)


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


def test_force_replaces_an_earlier_handout_and_never_empties_another_folder(tmp_path):
    """``tierlab handout ~ --force`` must not delete the home's own notebooks/ and data/."""
    home = tmp_path / "home"
    (home / "notebooks").mkdir(parents=True)
    (home / "notebooks" / "mine.ipynb").write_text("{}")
    (home / "README.md").write_text("# my notes\n")
    with pytest.raises(TierlabError, match="not an earlier handout"):
        handout(home, overwrite=True)
    assert (home / "notebooks" / "mine.ipynb").exists() and (home / "README.md").read_text() == "# my notes\n"
    built = tmp_path / "class"
    handout(built)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("x")
    (built / "data").rename(built / "data-old")
    (built / "data").symlink_to(outside)  # a link is removed, never followed
    handout(built, overwrite=True)
    assert (outside / "keep.txt").exists() and (built / "data").is_dir() and not (built / "data").is_symlink()


@pytest.mark.parametrize("flags, says", [
    (["--hub", "notaurl", "--repo", "x"], "--hub and --repo take full URLs"),
    (["--hub", "https://hub.example.org"], "needs both --hub and --repo"),
    (["--repo", "https://github.com/acme/tierlab-class"], "needs both --hub and --repo"),
])
def test_a_bad_link_request_is_refused_before_the_handout_is_written(tmp_path, capsys, flags, says):
    """Otherwise the folder is written, the command fails, and the next try needs --force; or, with --hub alone,
    no link is printed and nothing says why."""
    out = tmp_path / "class"
    assert main(["handout", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and "nbgitpuller_link(" not in err
    assert not out.exists()
