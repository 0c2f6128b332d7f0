"""The one exception tree of tierlab.

::

    TierlabError                 every error a learner can meet; has .message and .hint
    ├── TopologyError            a topology that cannot exist (unknown subnet, IP outside it, ...)
    │   └── ValidationError      every problem of a topology file at once (.problems)
    ├── RuleError                a rule that AWS would refuse (bad CIDR, port, rule number, ...)
    ├── ParameterError           a bad parameter to a function or what-if (also a ValueError)
    ├── ScenarioError            a data file (scenario, exercise, question) that cannot be read;
    │                            carries .file and .path (the YAML key path)
    ├── DatabaseError            the database tier: no server, bad URL, a failed statement
    └── CheckFailed              an exercise check that is not yet satisfied

Each message names the object and says what to do about it. In IPython and Jupyter,
``import tierlab`` makes these show as message and hint instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar

_T = TypeVar("_T")

__all__ = [
    "TierlabError",
    "TopologyError",
    "ValidationError",
    "Problem",
    "RuleError",
    "ParameterError",
    "ScenarioError",
    "DatabaseError",
    "CheckFailed",
    "explain",
]


def _printable(text: str) -> str:
    if not isinstance(text, str):
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


class TierlabError(Exception):
    """Base of every tierlab error: a message naming the object, and a hint for the fix."""

    def __init__(self, message: str, hint: str = "") -> None:
        # a path or a name from outside (a file name that is not UTF-8, an environment variable) can carry lone
        # surrogates: escaped here, once, so every message prints anywhere instead of failing as it is shown
        message, hint = _printable(message), _printable(hint)
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # plain-text display in IPython
        p.text(f"{type(self).__name__}: {self}")

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        import html

        hint = f"<br><b>hint:</b> {html.escape(self.hint)}" if self.hint else ""
        return (
            '<div class="tl-error" style="border-left:4px solid #c62828;padding:4px 8px">'
            f"<b>{type(self).__name__}:</b> {html.escape(self.message)}{hint}</div>"
        )


class TopologyError(TierlabError):
    """A topology that cannot exist as described."""


class RuleError(TierlabError):
    """A security-group or network-ACL rule that AWS would refuse."""


class ParameterError(TierlabError, ValueError):
    """A parameter outside what the model allows (a timeout, a count, a share, ...): names it and its range."""


class ScenarioError(TierlabError):
    """A data file that cannot be read; names the file and the YAML key path."""

    def __init__(self, message: str, hint: str = "", *, file: str = "", path: str = "") -> None:
        where = " ".join(p for p in (file, f"at {path}" if path else "") if p)
        super().__init__(f"{where}: {message}" if where else message, hint)
        self.file = file
        self.path = path


@dataclass(frozen=True)
class Problem:
    """One problem found while validating a topology: where, what, and how to fix it."""

    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class ValidationError(TopologyError):
    """Every problem of a topology file, reported together."""

    def __init__(self, problems: list[Problem], file: str = "") -> None:
        self.problems = list(problems)
        self.file = file
        head = f"{file or 'topology'}: {len(self.problems)} problem(s)"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{head}\n{lines}", "fix each line above; every problem is listed at once")


class DatabaseError(TierlabError):
    """The database tier failed: no server, a bad URL, a refused connection, a bad statement."""


class CheckFailed(TierlabError, AssertionError):
    """An exercise check that is not satisfied yet: the message says what is still wrong."""


def explain(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T | TierlabError:
    """Call ``fn``; return its value, or the TierlabError it raised (which displays as message + hint).

    For notebooks that *show* an error without stopping: ``tl.explain(topo.switch_off, "nope")``.
    """
    try:
        return fn(*args, **kwargs)
    except TierlabError as exc:
        return exc


def _ipython_handler(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
                     tb_offset: int | None = None) -> None:  # pragma: no cover - IPython
    """Show a TierlabError as its message and hint, not a traceback."""
    from IPython.display import display

    try:
        display(value)
    except Exception:
        print(f"{etype.__name__}: {value}")
    return None


def install_ipython_handler() -> bool:
    """In IPython/Jupyter, show TierlabError as message + hint. Returns True when installed."""
    import sys

    if "IPython" not in sys.modules:  # no shell is running: importing IPython (0.2-0.4 s) would be wasted
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((TierlabError,), _ipython_handler)
    return True
