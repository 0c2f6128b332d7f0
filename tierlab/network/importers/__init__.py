"""Importers: a Terraform project or AWS describe-* output -> the same plain dict as
``data/topologies/*.yaml`` -> :func:`tierlab.load_dict` (one validation, one set of messages).

    imp = tl.from_terraform("data/terraform/broken-nacl")   # .tf folder, or `terraform show -json` output
    imp.frame()                                              # parse status per resource
    tl.journey(imp.topology).summary()
    imp = tl.from_aws("data/aws/seed")                       # a folder of describe-*.json
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ...errors import Problem, TierlabError, TopologyError, ValidationError
from ...paths import user_path
from ..limits import printable
from ..loader import load_dict
from ..readfile import read_import_text
from ..topology import Topology
from .assume import assumptions
from .build import Builder
from .report import ImportNote, Imported, Notes
from .terraform import is_project, read_hcl, read_show_json

__all__ = ["from_terraform", "from_aws", "load_any", "Imported", "ImportNote", "finish"]


def finish(raw: dict[str, Any], notes: Notes, origin: dict[str, tuple[str, str]], tiers: dict[str, Any],
           resources: list[tuple[str, str, str]], source: str, api_host: str = "",
           builder: Builder | None = None) -> Imported:
    """Validate the dict with the loader; a problem names the file and resource it came from. With the
    ``builder``, the topology carries the notes that can change a verdict (``Topology.assumptions``)."""
    try:
        topo = load_dict(raw, file=source)
    except ValidationError as exc:
        problems = []
        for p in exc.problems:
            key = next((k for k in sorted(origin, key=len, reverse=True) if p.path == k or p.path.startswith(k + ".")
                        or p.path.startswith(k + "[")), None)
            where = f"{origin[key][0]}: {origin[key][1]} ({p.path})" if key else p.path
            problems.append(Problem(where, p.message, p.hint))
        missing = [n for n in ("load_balancer", "database") if n not in raw]
        for n in missing:
            problems.append(Problem(n, f"no {n.replace('_', ' ')} was found for the journey",
                                    "tierlab's journey needs an internet-facing load balancer and a database: see "
                                    "the import notes (`tl.import_notes(path)`)"))
        raise ValidationError(problems, source) from None
    if api_host:
        topo = replace(topo, api_host=api_host)
    if builder is not None:
        topo = replace(topo, assumptions=assumptions(topo, notes, builder))
    return Imported(topo, raw, tuple(notes.items), tiers, tuple(resources), source)


def from_terraform(path: str | Path, *, var_files: list[str | Path] | None = None,
                   variables: dict[str, Any] | None = None, lb: str | None = None, database: str | None = None,
                   name: str | None = None) -> Imported:
    """Import a Terraform project (a folder of ``.tf`` files, one ``.tf`` file, or the JSON of
    ``terraform show -json``). ``var_files``/``variables`` play ``-var-file``/``-var``; ``lb`` and
    ``database`` pick the journey's tiers where there is more than one."""
    p = _import_path(path, "from_terraform", "a folder of .tf files, a .tf file or a terraform show -json file")
    try:
        return _from_terraform(p, var_files=var_files, variables=variables, lb=lb, database=database, name=name)
    except TierlabError:
        raise
    except OSError as exc:  # a name too long, a loop of links, a folder that cannot be listed
        raise TopologyError(f"{printable(str(p), 160)}: cannot be read ({printable(exc.strerror or str(exc))})",
                            "give a folder of .tf files or a terraform show -json file you can read") from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        # a shape no reader foresaw: still a message naming the project, never a traceback
        raise TopologyError(f"{printable(str(p), 160)}: cannot import this project ({type(exc).__name__}: "
                            f"{printable(str(exc), 200)})",
                            "see the import notes of a smaller part of it, or report this file to tierlab") from None


def _import_path(path: object, fn: str, what: str) -> Path:
    """``path`` as a Path (``~`` expanded), or a TopologyError naming ``fn`` and what it takes."""
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise TopologyError(f"{fn} takes a path, got {type(path).__name__} {printable(repr(path), 60)}",
                            f"pass {what}, e.g. {fn}('data/terraform/broken-nacl')" if fn == "from_terraform"
                            else f"pass {what}, e.g. {fn}('data/aws/seed')")
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise TopologyError(f"{fn} got {printable(repr(text), 60)}, which is not a path", f"pass {what}")
    return user_path(text)


def _from_terraform(p: Path, *, var_files: list[str | Path] | None, variables: dict[str, Any] | None,
                    lb: str | None, database: str | None, name: str | None) -> Imported:
    notes = Notes()
    if not p.exists():
        raise TopologyError(f"{p}: no such file or folder", "give a folder of .tf files or a terraform show -json file")
    if p.is_file() and p.suffix == ".json":
        try:
            doc = json.loads(read_import_text(p, p.name))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TopologyError(f"{p}: not valid JSON ({exc})", "save the output of `terraform show -json`") from None
        resources = read_show_json(doc, p.name, notes)
    else:
        if p.is_dir() and not is_project(p):
            raise TopologyError(f"{p}: no .tf files in this folder", "point at the folder with your main.tf")
        resources = read_hcl(p, notes, var_files=[Path(v) for v in var_files or []], variables=variables)
    b = Builder(resources, notes, name or (p.resolve().parent.name if p.is_file() else p.resolve().name))
    raw, tiers, host = b.build(lb=lb, database=database)
    seen = [(r.file, r.address, b.understood.get(r.address, "parsed")) for r in resources]
    imp = finish(raw, notes, b.origin, tiers, seen, str(p), host, b)
    return replace(imp, tiers={**imp.tiers, "extras": b.extras})


def from_aws(folder: str | Path, **kw: Any) -> Imported:
    """Import the JSON outputs of ``aws ec2 describe-*`` (and elbv2, autoscaling, rds) in ``folder``."""
    from .aws_json import from_aws as _from_aws

    p = _import_path(folder, "from_aws", "a folder of aws ... describe-* JSON outputs")
    try:
        return _from_aws(p, **kw)
    except TierlabError:
        raise
    except OSError as exc:
        raise TopologyError(f"{printable(str(p), 160)}: cannot be read ({printable(exc.strerror or str(exc))})",
                            "give a folder of describe-*.json files you can read") from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        raise TopologyError(f"{printable(str(p), 160)}: cannot import these AWS outputs ({type(exc).__name__}: "
                            f"{printable(str(exc), 200)})",
                            "check that each file is the unchanged JSON of its describe call") from None


def load_any(name_or_path: str | Path) -> Topology:
    """A Topology from a name, a YAML file, a Terraform folder/JSON, or a folder of AWS JSON."""
    from ..loader import load

    p = Path(name_or_path)
    if p.is_dir() and is_project(p):
        return from_terraform(p).topology
    if p.is_file() and p.suffix == ".tf":
        return from_terraform(p).topology
    if p.is_file() and p.suffix == ".json":
        return from_terraform(p).topology
    if p.is_dir() and any(p.glob("describe-*.json")):
        return from_aws(p).topology
    return load(name_or_path)


def import_any(path: str | Path) -> Imported | None:
    """An Imported when ``path`` is a Terraform or AWS JSON source, else None (a YAML topology)."""
    p = Path(path)
    if (p.is_dir() and is_project(p)) or (p.is_file() and p.suffix in (".tf", ".json")):
        return from_terraform(p)
    if p.is_dir() and any(p.glob("describe-*.json")):
        return from_aws(p)
    return None
