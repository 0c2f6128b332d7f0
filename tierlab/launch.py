"""``make lab``: start JupyterLab on the first notebook, with the project's tools on PATH.

Its token stays private: JupyterLab makes a random one (never on the command line, where any account reads it
with ``ps``), and runs with umask 077, so the files it writes are its owner's alone. Without that, the
``jpserver-*-open.html`` pages it leaves in its runtime folder, which carry the token, were readable by
every account (JupyterLab writes them with the default umask; only its ``.json`` is written privately), as
are the notebooks it creates. A notebook that already exists keeps its mode when saved.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Replace this process with JupyterLab, run from the checkout's root."""
    if not (ROOT / "notebooks").is_dir():
        sys.exit(f"tierlab: no notebooks/ beside {ROOT / 'tierlab'}; `make lab` runs from a checkout of the "
                 "repository (a wheel carries the library and its data, not the course)")
    bindir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    args = [sys.executable, "-m", "jupyter", "lab", "--notebook-dir", str(ROOT),
            str(Path("notebooks") / "00-start-here.ipynb")]
    if os.geteuid() == 0:
        args.append("--allow-root")
    args += sys.argv[1:]
    print("tierlab: starting JupyterLab on notebooks/00-start-here.ipynb (Ctrl-C to stop)", flush=True)
    os.chdir(ROOT)
    os.umask(0o077)  # what the server writes (the token's open.html pages, new notebooks) is ours alone
    os.execv(sys.executable, args)


if __name__ == "__main__":
    main()
