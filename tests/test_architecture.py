"""The architecture holds: the layers import one way (import-linter), the types check (mypy),
no function is longer than a reader can hold in their head, importing tierlab changes nothing else.

The contracts and the mypy settings live in pyproject.toml; these tests only run the tools, so
a broken contract or a type error fails the suite with the tool's own explanation.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*cmd: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(list(cmd), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_the_layers_import_one_way():
    """cli > course > views > sim|linux > request > network > paths > errors, db apart (pyproject)."""
    out = _run(str(BIN / "lint-imports"), "--no-cache", "--no-logo")
    broken = out.stdout.partition("Broken contracts")[2] or out.stdout
    assert out.returncode == 0, broken[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_mypy_reports_no_errors_over_tierlab():
    """Strict on network, request and the top-level modules; see [tool.mypy] in pyproject.toml."""
    out = _run(sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(ROOT / ".mypy_cache"))
    errors = [line for line in out.stdout.splitlines() if ": error:" in line]
    assert out.returncode == 0 and not errors, "\n".join(errors[:60]) + out.stderr[-2000:]


#: A function (or method) longer than this is split (issue 9: "none over about 150 lines").
MAX_FUNCTION_LINES = 150
#: Functions still being split by their owners (infra removes an entry once main has it split).
STILL_LONG: set[str] = set()  # empty: loader._load_dict became one parser per YAML section


def _long_functions() -> dict[str, int]:
    found = {}
    for path in sorted((ROOT / "tierlab").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        stack: list[tuple[ast.AST, str]] = [(tree, "")]
        while stack:
            node, prefix = stack.pop()
            for child in ast.iter_child_nodes(node):
                name = f"{prefix}{getattr(child, 'name', '')}"
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    lines = child.end_lineno - child.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        found[f"{path.relative_to(ROOT)}::{name}"] = lines
                    stack.append((child, name + "."))
                elif isinstance(child, ast.ClassDef):
                    stack.append((child, name + "."))
    return found


def test_no_function_is_longer_than_150_lines():
    long = _long_functions()
    new = {name: n for name, n in long.items() if name not in STILL_LONG}
    assert not new, f"split these into functions of at most {MAX_FUNCTION_LINES} lines: {new}"


def test_the_readme_names_every_subpackage_where_it_says_what_is_where():
    readme = (ROOT / "README.md").read_text()
    table = readme.partition("## What is where")[2].partition("\n## ")[0]
    packages = sorted(p.parent.name for p in (ROOT / "tierlab").glob("*/__init__.py"))
    missing = [p for p in packages if f"`tierlab/{p}/`" not in table]
    assert not missing, f"add a row to README.md's 'What is where' for {missing}"


#: Run in a fresh interpreter, inside an IPython shell as in a notebook (where tierlab installs
#: its error display): every pandas option and matplotlib rcParam before and after `import tierlab`.
SNAPSHOT = """
import json
import matplotlib
import pandas as pd
from IPython.testing.globalipapp import start_ipython

def snapshot():
    keys = sorted(pd._config.config._registered_options)
    return {"pandas": {k: repr(pd.get_option(k)) for k in keys},
            "matplotlib": {k: repr(v) for k, v in matplotlib.rcParams.items()}}

shell = start_ipython()
before = snapshot()
shell.run_cell("import tierlab as tl; tl.journey(tl.load('seed')).frame()", store_history=False)
after = snapshot()
changed = {lib: sorted(k for k in before[lib] if before[lib][k] != after[lib].get(k)) for lib in before}
print(json.dumps({"changed": changed, "n": len(before["pandas"]), "handler": shell.custom_exceptions}, default=str))
"""


def test_importing_tierlab_changes_no_pandas_or_matplotlib_option():
    """Display settings travel with the table shown (tl.show), never as a global option."""
    out = subprocess.run([sys.executable, "-c", SNAPSHOT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["n"] > 50  # the snapshot really read pandas' options
    assert seen["changed"] == {"pandas": [], "matplotlib": []}
    assert seen["handler"] == ["<class 'tierlab.errors.TierlabError'>"]  # the friendly display of errors stays


def test_no_two_test_modules_share_a_name():
    """tests/ has no __init__.py files, so pytest imports each test module by its bare name: two files with the
    same name in different folders stop the whole suite at collection ("import file mismatch")."""
    from collections import Counter
    from pathlib import Path

    names = Counter(p.name for p in Path(__file__).parent.rglob("test_*.py"))
    assert [n for n, k in names.items() if k > 1] == []
