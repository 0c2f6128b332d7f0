"""pyproject.toml and environment.yml name the same packages; the wheel installs and works anywhere."""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
#: PyPI name -> conda-forge name, where they differ.
CONDA_NAME = {"graphviz": "python-graphviz"}
#: Packages conda must supply that are not Python packages of pyproject.
CONDA_ONLY = {"python", "pip", "graphviz", "postgresql"}


def _name(spec: str) -> str:
    return re.split(r"[\[<>=!~ ]", spec.strip(), maxsplit=1)[0].lower()


def _pyproject() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = data["project"]["dependencies"] + sum(data["project"]["optional-dependencies"].values(), [])
    return {_name(d) for d in deps}


def _environment() -> tuple[set[str], set[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for d in env["dependencies"]:
        if isinstance(d, dict):
            pip |= {_name(p) for p in d["pip"] if not p.startswith("-e")}
        else:
            conda.add(_name(d))
    return conda, pip


def test_every_pyproject_package_is_in_environment_yml():
    conda, pip = _environment()
    missing = [p for p in _pyproject() if CONDA_NAME.get(p, p) not in conda and p not in pip]
    assert not missing, f"add to environment.yml: {missing}"


def test_environment_yml_names_nothing_pyproject_lacks():
    conda, pip = _environment()
    known = {CONDA_NAME.get(p, p) for p in _pyproject()} | _pyproject()
    extra = [p for p in (conda - CONDA_ONLY) | pip if p not in known]
    assert not extra, f"add to pyproject.toml or remove from environment.yml: {extra}"


def test_environment_yml_installs_tierlab_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_testcontainers_is_pinned_in_both():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(re.fullmatch(r"testcontainers==[\d.]+", d) for d in data["project"]["dependencies"])
    assert re.search(r"testcontainers=[\d.]+\s", (ROOT / "environment.yml").read_text())


# ---------------------------------------------------------------------------- the lab and its tests

#: What only the test suite needs: `make lab` must not install any of these.
TEST_TOOLS = {"pytest", "nbval", "hypothesis", "playwright", "mypy", "import-linter", "pytest-xdist"}


def _requirement_closure(name: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """Every distribution `pip install name[extras]` brings, read from the installed metadata."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    todo = [(name, extras)]
    while todo:
        dist_name, wanted = todo.pop()
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:  # an optional dependency of a dependency, not installed
            continue
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in (wanted or {""})):
                continue
            key = canonicalize_name(req.name)
            if key not in seen:
                seen.add(key)
                todo.append((key, frozenset(req.extras)))
    return seen


def test_the_lab_installs_no_test_tools():
    lab = _requirement_closure("tierlab")
    assert not lab & TEST_TOOLS, f"make lab would install {sorted(lab & TEST_TOOLS)}: move them to [test]"
    assert {"pytest", "nbval", "hypothesis"} <= _requirement_closure("tierlab", frozenset({"test"}))


def test_every_heavy_tier_has_a_registered_marker_that_make_test_fast_leaves_out():
    registered = {m.split(":")[0] for m in tomllib.loads((ROOT / "pyproject.toml").read_text())
                  ["tool"]["pytest"]["ini_options"]["markers"]}
    heavy = {"browser", "database", "notebook", "wheel", "fuzz", "hub", "netns", "book", "slow"}
    assert heavy <= registered
    make = (ROOT / "Makefile").read_text()
    left_out = set(re.search(r"^HEAVY := (.*)$", make, re.M).group(1).split(" or "))
    assert left_out == heavy


# ---------------------------------------------------------------------------- the wheel


def test_every_package_folder_is_listed_in_pyproject():
    """setuptools gets an explicit package list (data/ is mapped onto tierlab.data): a new
    subpackage missing from it would be missing from the wheel."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "tierlab").rglob("__init__.py")}
    assert folders - listed == set(), "add to [tool.setuptools] packages in pyproject.toml"
    assert listed - folders == {"tierlab.data"}


def _copy_source(dest: Path) -> Path:
    """The files a build reads, copied: the build leaves nothing in the checkout."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("tierlab", "data"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


def _site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    """A new venv that finds the project venv's dependencies (a .pth line) but not tierlab:
    an editable install's finder lives in a .pth file, which a path added this way never runs."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    deps = Path(sysconfig.get_paths()["purelib"])
    (_site_packages(venv) / "project-deps.pth").write_text(f"{deps}\n")
    out = subprocess.run([venv / "bin" / "python", "-c", "import tierlab"], cwd=venv, capture_output=True, text=True)
    assert out.returncode != 0 and "No module named 'tierlab'" in out.stderr, "the fresh venv must not see tierlab yet"
    return venv


#: Run inside the fresh venv: record every file opened, then use tierlab as a notebook would.
PROBE = """
import json, sys
opened = []
sys.addaudithook(lambda event, args: event == "open" and isinstance(args[0], str) and opened.append(args[0]))
import tierlab as tl
from tierlab.cli import main
trace = tl.journey(tl.load("seed"))
status = main(["check", "seed", "seed-as-written"])
# a learner's exercises grade without any answer file: every one gives feedback on the unsolved state
graded = {}
for ex in tl.exercises.load_exercises(None):
    g = ex.grade(tl.exercises.unsolved(ex))
    graded[ex.id] = [g.passed, g.message]
try:
    tl.exercises.load_solutions()
    no_answers = ""
except tl.TierlabError as exc:
    no_answers = str(exc)
print(json.dumps({"file": tl.__file__, "data_dir": str(tl.data_dir()), "ok": trace.ok, "check": status,
                  "graded": graded, "no_answers": no_answers,
                  "data_read": sorted({p for p in opened if p.endswith((".yaml", ".sql"))})}))
"""


def _solution_lines() -> list[str]:
    """Every line of the instructors' answers and notes long enough to be theirs alone (not a shared phrase)."""
    doc = yaml.safe_load((ROOT / "data/exercises/solutions.yaml").read_text())
    text = "\n".join(f"{s.get('code', '')}\n{s.get('value', '')}\n{s['notes']}" for s in doc["solutions"].values())
    lines = {" ".join(line.split()) for line in text.splitlines()}
    return sorted(line for line in lines if len(line) >= 32)


@pytest.mark.wheel
@pytest.mark.parametrize("how", ["wheel", "pip install ."])
def test_a_non_editable_install_works_from_any_directory(fresh_venv, how, tmp_path):
    src = _copy_source(tmp_path / "src")
    pip = [fresh_venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check", "-q"]
    if how == "wheel":
        subprocess.run(pip + ["wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", src], check=True)
        target = next((tmp_path / "dist").glob("tierlab-*.whl"))
    else:
        target = src
    subprocess.run(pip + ["install", "--no-deps", "--no-build-isolation", "--force-reinstall", target], check=True)
    site = _site_packages(fresh_venv)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("TIERLAB_DATA", "TIERLAB_SOLUTIONS", "PYTHONPATH")}

    def run(*cmd: str | Path) -> subprocess.CompletedProcess:
        return subprocess.run(list(cmd), cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)

    journey = run(fresh_venv / "bin" / "tierlab", "journey", "--json")
    assert journey.returncode == 0, journey.stderr
    assert json.loads(journey.stdout)["topology"] == "seed"
    check = run(fresh_venv / "bin" / "tierlab", "check", "seed", site / "tierlab" / "data" / "topologies" / "seed.yaml")
    assert check.returncode == 0 and check.stdout.count(": OK") == 2, check.stdout + check.stderr
    probe = run(fresh_venv / "bin" / "python", "-c", PROBE)
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout.splitlines()[-1])
    assert Path(seen["file"]).is_relative_to(site), seen["file"]
    assert Path(seen["data_dir"]) == site / "tierlab" / "data"
    assert seen["ok"] and seen["check"] == 0
    assert {Path(p).name for p in seen["data_read"]} >= {"seed.yaml", "seed-as-written.yaml"}
    outside = [p for p in seen["data_read"] if not Path(p).resolve().is_relative_to(site.resolve())]
    assert not outside, f"read from outside the fresh venv: {outside}"
    shipped = {p.relative_to(site / "tierlab" / "data") for p in (site / "tierlab" / "data").rglob("*.*")
               if "__pycache__" not in p.parts}
    in_checkout = {p.relative_to(ROOT / "data") for p in (ROOT / "data").rglob("*.*") if "__pycache__" not in p.parts}
    answers = Path("exercises/solutions.yaml")
    assert shipped == in_checkout - {answers}, "every data file but the instructors' answers ships in the wheel"
    # a learner's install: no solutions file, no answer text in any installed file, and every exercise still grades
    assert not (site / "tierlab" / "data" / answers).exists()
    installed = "\n".join(" ".join(p.read_text(errors="ignore").split()) for p in (site / "tierlab").rglob("*")
                          if p.is_file() and p.suffix in (".py", ".yaml", ".sql", ".json", ".md", ".tf", ".typed"))
    needles = _solution_lines()
    assert len(needles) > 50
    leaks = [n for n in needles if n in installed]
    assert not leaks, f"answer text in the installed package: {leaks[:3]}"
    assert len(seen["graded"]) > 20
    assert all(not passed and message for passed, message in seen["graded"].values()), seen["graded"]
    assert "no solutions file" in seen["no_answers"] and "TIERLAB_SOLUTIONS" in seen["no_answers"]
