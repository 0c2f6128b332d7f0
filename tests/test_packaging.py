"""pyproject.toml and environment.yml name the same packages."""

import re
import tomllib
from pathlib import Path

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
