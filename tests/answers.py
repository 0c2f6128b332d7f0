"""The answers' text, for the laws that a learners' edition holds none of it (tests/course/test_handout.py for the
handout, tests/course/test_book.py for the static edition).

The search looks for what the answers say, not for the word "solution": every line of every entry in
data/exercises/solutions.yaml and every line of every cell tagged ``solution``, normalised (case, whitespace,
markdown marks). A line that also appears in the course outside the answers (a prompt that quotes a rule) is not
an answer and is not searched for.
"""

from __future__ import annotations

import functools
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import yaml

from tierlab.course.handout import SOLUTION_TAG

ROOT = Path(__file__).resolve().parents[1]
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


@functools.cache
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
    joined = "\n".join(shared)
    course = _norm(joined) + "\n" + _norm(html.unescape(joined))  # as written, and as a page shows an HTML output
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
            elif f.suffix == ".html":
                text = html_text(text)
            out[f.relative_to(folder).as_posix()] = _norm(text)
    return out


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(page: str) -> str:
    """What a reader sees of an HTML page: its text, tags gone (a highlighted code line reads as written)."""
    parser = _Text()
    parser.feed(page)
    return "".join(parser.parts)
