"""The image recipe (binder/: repo2docker files) and the Zero to JupyterHub values stay consistent with the project
(issue 14): the same runtime packages and pins as pyproject.toml and environment.yml, tierlab installed from the
repository, the learners' edition built and used, and the resource figures ordered and naming the benchmark that measured them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from test_packaging import CONDA_NAME, CONDA_ONLY, _name

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
#: What the image needs beyond tierlab's own packages: nbgitpuller, for a hub that pulls handouts.
IMAGE_ONLY = {"nbgitpuller"}


def _specs(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(conda specs, pip specs) by package name, each as written without comments."""
    conda, pip = {}, {}
    for d in yaml.safe_load(path.read_text())["dependencies"]:
        if isinstance(d, dict):
            pip |= {_name(p): p.replace(" ", "") for p in d["pip"] if not p.startswith("-")}
        else:
            conda[_name(d)] = d.replace(" ", "")
    return conda, pip


def _runtime() -> set[str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {_name(d) for d in deps}


def test_the_image_has_exactly_the_runtime_packages_no_test_tools():
    conda, pip = _specs(BINDER / "environment.yml")
    named = {n for n in conda if n not in CONDA_ONLY | IMAGE_ONLY} | set(pip)
    want = {CONDA_NAME.get(p, p) for p in _runtime()}
    assert named == want, (sorted(named - want), sorted(want - named))


def test_the_image_pins_what_environment_yml_pins():
    b_conda, b_pip = _specs(BINDER / "environment.yml")
    r_conda, r_pip = _specs(ROOT / "environment.yml")
    for name, spec in {**b_conda, **b_pip}.items():
        if name in IMAGE_ONLY:
            continue
        assert spec == {**r_conda, **r_pip}[name], f"binder/environment.yml {spec} vs environment.yml"


def test_postbuild_installs_the_project_and_the_handout_start_uses():
    post = (BINDER / "postBuild").read_text()
    assert re.search(r"pip install .*-e \.", post)
    handout = re.search(r"tierlab handout (\S+)", post).group(1)
    assert "data/exercises/solutions.yaml" in post and "notebooks/solutions" in post
    start = (BINDER / "start").read_text()
    assert f"$HOME/{handout}/data" in start and start.rstrip().endswith('exec "$@"')
    assert (BINDER / "apt.txt").read_text().split() == ["graphviz"]
    for f in ("postBuild", "start"):
        assert (BINDER / f).stat().st_mode & 0o111, f"binder/{f} must be executable"


def _bytes(v: str) -> float:
    m = re.fullmatch(r"([\d.]+)([KMGT]?)i?", str(v))
    assert m, v
    return float(m.group(1)) * 1024 ** ("KMGT".find(m.group(2)) + 1 if m.group(2) else 0)


def test_the_z2jh_values_agree_with_the_image_and_name_their_benchmark():
    path = ROOT / "docs/teaching/z2jh-values.yaml"
    text, v = path.read_text(), yaml.safe_load(path.read_text())
    user = v["singleuser"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert user["image"]["tag"] == version
    handout = re.search(r"tierlab handout (\S+)", (BINDER / "postBuild").read_text()).group(1)
    assert user["extraEnv"]["TIERLAB_DATA"] == f"/home/jovyan/{handout}/data"
    assert f"/{handout}/notebooks/00-start-here.ipynb" in user["defaultUrl"]
    assert (ROOT / "notebooks/00-start-here.ipynb").exists()
    assert _bytes(user["memory"]["guarantee"]) <= _bytes(user["memory"]["limit"])
    assert _bytes(user["memory"]["guarantee"]) >= 350 * 1024 ** 2  # the target per learner fits the guarantee
    assert float(user["cpu"]["guarantee"]) <= float(user["cpu"]["limit"])
    assert v["cull"]["enabled"] and 0 < v["cull"]["every"] < v["cull"]["timeout"]
    assert "MEASURED HERE by benchmarks/bench_hub.py" in text and (ROOT / "benchmarks/bench_hub.py").exists()
