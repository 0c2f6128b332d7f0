"""The learners' edition (issue 14): no solution's TEXT anywhere in it, no note for the instructor, it still works,
and its README's install lines really install it (tierlab is not on PyPI: the edition carries its wheel).

The search (tests/answers.py) looks for what the answers say, not for the word "solution".
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from answers import NOTEBOOKS, ROOT, _answers, _haystack, _is_solution

import tierlab as tl
from tierlab.cli import main
from tierlab.course import exercises as E
from tierlab.course import syllabus
from tierlab.course.handout import INSTRUCTOR_MARK, INSTRUCTOR_TAG, handout, instructor_notes, nbgitpuller_link
from tierlab.errors import TierlabError


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("handout") / "class"
    h = handout(dest)
    print(h.summary())
    assert h.removed_cells == sum(_is_solution(c) for p in NOTEBOOKS.glob("*.ipynb")
                                  for c in json.loads(p.read_text())["cells"]) > 0
    assert h.removed_notes == len(_course_notes()) and h.wheel is not None and h.wheel.parent == dest
    return dest


def _course_notes() -> list[tuple[str, str]]:
    """(notebook, note) for every note for the instructor in the course's learner notebooks."""
    return [(p.name, n) for p in sorted(NOTEBOOKS.glob("*.ipynb")) for c in json.loads(p.read_text())["cells"]
            if not _is_solution(c) for n in instructor_notes(c)]


def _words(text: str) -> str:
    return " ".join(re.sub(r"[*`_]", " ", text).split()).lower()


def test_no_cell_of_the_edition_carries_a_note_for_the_instructor(built):
    notes = _course_notes()
    assert {name for name, _ in notes} >= {"10-workshop.ipynb"}, "notebook 10 opens with a note for the room"
    tagged = [name for name, n in notes if name == "10-workshop.ipynb" and not n.startswith(INSTRUCTOR_MARK)]
    assert not tagged or all(t == "10-workshop.ipynb" for t in tagged)
    for p in sorted((built / "notebooks").rglob("*.ipynb")):
        for c in json.loads(p.read_text())["cells"]:
            text = "".join(c["source"])
            assert INSTRUCTOR_TAG not in c.get("metadata", {}).get("tags", []), p.name
            assert INSTRUCTOR_MARK not in text and not instructor_notes(c), f"{p.name}: {text[:120]!r}"
            for _, note in notes:  # the note's text, under any marker or none
                assert _words(note) not in _words(text), f"{p.name} still says {note[:80]!r}"


def test_a_note_inside_a_learners_cell_goes_and_the_rest_of_the_cell_stays(tmp_path):
    nb = json.loads((NOTEBOOKS / "01-edge.ipynb").read_text())
    cell = next(c for c in nb["cells"] if INSTRUCTOR_MARK in "".join(c["source"]))
    before = "".join(cell["source"])
    nb["cells"] = [cell, {"cell_type": "markdown", "id": "only-a-note", "metadata": {},
                          "source": [INSTRUCTOR_MARK + " run this one in pairs."]}]
    src = tmp_path / "nb"
    src.mkdir()
    (src / "01-edge.ipynb").write_text(json.dumps({**json.loads((NOTEBOOKS / "01-edge.ipynb").read_text()),
                                                   "cells": nb["cells"]}))
    h = handout(tmp_path / "out", notebooks=src, wheel=False)
    assert h.removed_notes == 2
    cells = json.loads((tmp_path / "out/notebooks/01-edge.ipynb").read_text())["cells"]
    assert len(cells) == 1, "a cell that held only a note goes"
    after = "".join(cells[0]["source"])
    assert INSTRUCTOR_MARK not in after and "## Exercises" in before and "## Exercises" in after
    assert after == before[:before.index(INSTRUCTOR_MARK)].rstrip("\n")


def test_every_graded_check_of_the_edition_is_still_there_and_fails_unsolved(built, monkeypatch):
    """Stripping the answers and notes loses no check cell; with the edition's data, every check says NOT YET."""
    monkeypatch.setenv("TIERLAB_DATA", str(built / "data"))
    graded = 0
    for p in syllabus.notebook_paths(built / "notebooks"):
        mine = {(e.id, e.graded_by) for e in syllabus.exercises_in(p) if e.graded_by}
        assert mine == {(e.id, e.graded_by) for e in syllabus.exercises_in(NOTEBOOKS / p.name) if e.graded_by}, p.name
        for _, exercise_id in mine:
            ex = E.load_exercise(exercise_id)
            verdict = ex.grade(E.unsolved(ex))
            assert not verdict.passed and verdict.message, f"{p.name} {exercise_id}"
            graded += 1
    assert graded > 40


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
    assert main(["handout", str(tmp_path / "c"), "--no-wheel", "--hub", "https://hub.example.org",
                 "--repo", "https://github.com/acme/tierlab-class"]) == 0
    out = capsys.readouterr().out
    assert "answer cells" in out and "left out" in out and "no wheel" in out and "git-pull?repo=" in out
    assert not list((tmp_path / "c").glob("*.whl"))
    assert main(["handout", str(tmp_path / "c"), "--no-wheel"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["handout", str(tmp_path / "c"), "--force", "--no-wheel"]) == 0


def _readme_commands(folder: Path) -> list[str]:
    """The README's install-and-open lines: its indented code block."""
    text = (folder / "README.md").read_text()
    return [line.strip() for line in text.splitlines() if line.startswith("    ") and line.strip()]


def test_the_readme_installs_what_the_edition_carries_not_a_package_pypi_lacks(built):
    text = (built / "README.md").read_text()
    assert not re.search(r"pip install tierlab\b", text), "tierlab is not on PyPI"
    lines = _readme_commands(built)
    wheel = next(built.glob("tierlab-*-py3-none-any.whl"))
    assert lines[1].endswith(f"pip install ./{wheel.name}") and f"`{wheel.name}`" in text
    assert "notebooks/00-start-here.ipynb" in lines[-1] and (built / "notebooks/00-start-here.ipynb").exists()
    names = zipfile.ZipFile(wheel).namelist()
    assert "tierlab/cli.py" in names and "tierlab/data/topologies/seed.yaml" in names
    assert not [n for n in names if n.endswith("solutions.yaml")], "the learners' wheel carries no answers"


def test_without_the_wheel_the_readme_says_where_tierlab_must_already_be(tmp_path):
    handout(tmp_path / "c", wheel=False)
    text = (tmp_path / "c/README.md").read_text()
    assert "not on PyPI" in text and "pip install" not in text and "JupyterHub" in text


@pytest.mark.wheel
def test_the_readmes_lines_install_the_edition_and_open_its_course(built, tmp_path):
    """Each line of the README runs as written, in the edition, in a shell: a new venv, the wheel into it, JupyterLab
    from it on the first notebook. Offline here: the new venv sees this venv's packages (a .pth line), so pip finds
    every dependency installed and fetches nothing (PIP_NO_INDEX); the last line runs with --version appended."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys._base_executable)  # the README's python3: this Python, 3.11+
    env = {k: v for k, v in os.environ.items() if k not in ("TIERLAB_DATA", "TIERLAB_SOLUTIONS", "PYTHONPATH",
                                                           "VIRTUAL_ENV")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    make_venv, install, open_lab = _readme_commands(built)

    def sh(line: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", line], cwd=built, env=env, capture_output=True, text=True, timeout=300)

    assert sh(make_venv).returncode == 0
    site = next((built / ".venv/lib").glob("python3*/site-packages"))
    (site / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = sh(install)
    assert done.returncode == 0, done.stdout + done.stderr
    lab = sh(open_lab + " --version")
    assert lab.returncode == 0 and re.fullmatch(r"\d+\.\d+\.\d+\S*", lab.stdout.strip()), lab.stdout + lab.stderr
    env_part = open_lab.split(" .venv/")[0]  # the variables the last line sets, then what a notebook's kernel sees
    probe = sh(f"{env_part} .venv/bin/python -c " + shlex.quote(
        "import json, tierlab as tl; ex = tl.exercises.load_exercise('server3-db'); "
        "print(json.dumps([tl.__file__, str(tl.data_dir()), ex.grade(ex.start()).passed, "
        "len(tl.syllabus.course_map())]))"))  # notebook 00's course map: the wheel has no notebooks of its own
    assert probe.returncode == 0, probe.stderr
    where, data, passed, rows = json.loads(probe.stdout.splitlines()[-1])
    assert Path(where).is_relative_to(site) and Path(data) == (built / "data").resolve() and passed is False
    assert rows == len(syllabus.notebook_paths(built / "notebooks")) + 1 > 15  # a row per notebook, and the total


def test_installed_from_the_wheel_the_course_map_reads_the_editions_notebooks(built, monkeypatch, tmp_path):
    """Notebook 00 opens with tl.syllabus.course_map(); a wheel ships no notebooks, so it reads those beside the
    data folder the README names, and without them says how to open the course."""
    monkeypatch.setattr(syllabus, "_CHECKOUT_NOTEBOOKS", tmp_path / "no-checkout" / "notebooks")
    monkeypatch.setenv("TIERLAB_DATA", str(built / "data"))
    assert syllabus.notebooks_dir() == (built / "notebooks").resolve()
    shown = syllabus.course_map()
    assert list(shown["notebook"])[:-1] == [p.stem for p in syllabus.notebook_paths(built / "notebooks")]
    (tmp_path / "elsewhere" / "data").mkdir(parents=True)
    monkeypatch.setenv("TIERLAB_DATA", str(tmp_path / "elsewhere" / "data"))
    with pytest.raises(TierlabError, match="no course notebooks") as info:
        syllabus.course_map()
    assert "TIERLAB_DATA=$PWD/data" in info.value.hint


def test_a_handout_never_writes_into_the_course(tmp_path):
    with pytest.raises(TierlabError, match="overwrite the course"):
        handout(NOTEBOOKS / "x")
    with pytest.raises(TierlabError, match="notebooks folder"):
        handout(tmp_path / "c", notebooks=tmp_path / "nowhere")


def test_a_link_out_of_the_course_is_refused_before_anything_is_written(tmp_path):
    """A symbolic link in notebooks/ or data/ leading out of the course would copy that file (a key, someone's
    notes) into what every learner receives; a link within the course is copied as the file it names."""
    import shutil

    nb, data = tmp_path / "notebooks", tmp_path / "data"
    shutil.copytree(NOTEBOOKS, nb, ignore=shutil.ignore_patterns("solutions", ".ipynb_checkpoints"))
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("__pycache__"))
    secret = tmp_path / "id_ed25519"
    secret.write_text("PRIVATE KEY\n")
    for where in (data / "topologies" / "extra.yaml", nb / "keys"):
        where.symlink_to(secret if where.suffix else tmp_path)
        with pytest.raises(TierlabError, match="outside it") as exc:
            handout(tmp_path / "class", notebooks=nb, data=data, wheel=False)
        assert where.name in exc.value.message and not (tmp_path / "class").exists()
        where.unlink()
    (nb / "again.ipynb").symlink_to(nb / "00-start-here.ipynb")
    h = handout(tmp_path / "class", notebooks=nb, data=data, wheel=False)
    assert "again.ipynb" in h.notebooks and not (tmp_path / "class" / "notebooks" / "again.ipynb").is_symlink()


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
    handout(built, wheel=False)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("x")
    (built / "data").rename(built / "data-old")
    (built / "data").symlink_to(outside)  # a link is removed, never followed
    handout(built, overwrite=True, wheel=False)
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
