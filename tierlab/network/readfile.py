"""Reading a YAML data file: every way it can fail becomes a ScenarioError naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import ScenarioError

__all__ = ["read_yaml"]


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ScenarioError("file not found", "check the path", file=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(
            f"is not valid YAML {where}: {getattr(exc, 'problem', exc)}",
            "check indentation and that lists start with '- '",
            file=str(path),
        ) from None
