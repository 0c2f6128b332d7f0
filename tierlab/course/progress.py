"""Progress through the course: every graded check, recorded for the learner who ran it.

``Exercise.grade`` appends one JSON line per verdict to the learner's progress file
(``~/.tierlab/progress.jsonl``, or ``$TIERLAB_PROGRESS``; ``TIERLAB_PROGRESS=off`` records nothing)::

    {"learner": "ada", "exercise": "linux-ephemeral", "passed": false, "attempt": 1, "time": "2026-12-01T21:50:02Z"}

Recording never stops a grade: a file that cannot be written costs a warning, not the verdict.
The file is the learner's alone (0600 in a 0700 folder); a record is one ``write`` on an append-only
descriptor, so a line is whole or absent, and a line torn by a crash never swallows the next record.

Reading trusts nothing in the files (the instructor may read thirty homes as root): a home speaks only for
its owner (the folder's name, whatever its lines claim), a link or FIFO inside a home is refused instead of
followed, a file over 16 MB is refused, and a hand-edited line whose fields have the wrong types is skipped.

    tl.progress()                                    # a learner: my exercises, notebook by notebook
    tl.course.progress.class_progress(["/home/ada", "/home/bob", "carol.jsonl"]).table()   # the instructor
    tierlab progress .tierlab-hub/homes/*            # the same on the command line (make hub's homes)
"""

from __future__ import annotations

import getpass
import html
import json
import os
import stat
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Protocol, TypeVar

from ..errors import TierlabError
from ..paths import env_path, user_path
from ..network.limits import printable
from ..network.readfile import read_bounded

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ENV", "progress_path", "record", "recorded", "read", "learner_of", "Progress", "Unreadable",
           "progress", "class_progress"]

ENV = "TIERLAB_PROGRESS"
FILE = Path(".tierlab") / "progress.jsonl"
_FIELDS = ("learner", "exercise", "passed", "attempt", "time")
#: A progress file larger than this is not a learner's record (a few hundred bytes per graded attempt).
MAX_BYTES = 16 * 2**20


class _Verdict(Protocol):
    @property
    def exercise(self) -> str: ...
    @property
    def passed(self) -> bool: ...


_V = TypeVar("_V", bound=_Verdict)


def progress_path() -> Path | None:
    """The current learner's progress file (``None``: recording is switched off)."""
    env = os.environ.get(ENV, "")
    if env.strip().lower() in ("off", "0", "none"):
        return None
    p = env_path(ENV)
    return p if p is not None else Path.home() / FILE


def _learner() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (e.g. a container without one)
        return Path.home().name or "learner"


def record(exercise: str, passed: bool, *, path: Path | None = None) -> dict[str, Any] | None:
    """Append one verdict to the progress file; the attempt is the exercise's count so far plus one.
    Returns the record, or ``None`` (switched off, or not writable: a warning says why)."""
    try:
        target = path if path is not None else progress_path()
    except TierlabError as exc:  # $TIERLAB_PROGRESS names ~someone with no home
        warnings.warn(f"tierlab could not record progress: {exc.message}", RuntimeWarning, stacklevel=3)
        return None
    if target is None:
        return None
    try:
        text = _read_text(target) if os.path.lexists(target) else ""
        before = [r for r in _parse(text)[0] if r["exercise"] == exercise]
        rec = {"learner": _learner(), "exercise": str(exercise), "passed": bool(passed), "attempt": len(before) + 1,
               "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        line = ("\n" if text and not text.endswith("\n") else "") + json.dumps(rec) + "\n"
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o600)
        try:  # one write on an O_APPEND descriptor: appends from two kernels interleave whole lines
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(f"{target} is not a regular file")
            os.write(fd, line.encode("utf-8", "backslashreplace"))
        finally:
            os.close(fd)
        return rec
    except Exception as exc:  # never let bookkeeping cost the learner the verdict
        warnings.warn(f"tierlab could not record progress in {target}: {exc} (set {ENV} to a writable file, "
                      f"or {ENV}=off)", RuntimeWarning, stacklevel=3)
        return None


def recorded(grade: _V) -> _V:
    """The grader's hook: record ``grade`` and hand it back unchanged."""
    record(grade.exercise, grade.passed)
    return grade


def _read_text(path: Path, *, follow: bool = True) -> str:
    """A progress file's text: a regular file of at most MAX_BYTES (never blocks on a FIFO; with
    ``follow=False`` a symbolic link is refused, not followed)."""
    shown = printable(str(path), 160)

    def fail(message: str, hint: str) -> TierlabError:
        return TierlabError(f"progress file {shown} {message}", hint)

    data = read_bounded(path, fail, max_bytes=MAX_BYTES, follow=follow, noun="a progress .jsonl file",
                        size_hint="a progress file holds one short line per graded attempt: one larger "
                        f"than {MAX_BYTES // 2**20} MB is not a learner's record (is this the right file?)",
                        link_hint="tierlab reads only the learner's own file: ask the learner to replace the link "
                        "with the file itself")
    return data.decode("utf-8", errors="replace")


@dataclass(frozen=True, kw_only=True)
class Unreadable:
    """The lines of one progress file that are not records (torn by a crash, hand-edited, not text at all): they do
    not count, and the file is left exactly as it is (grading goes on appending after them)."""

    file: str
    #: how many lines could not be read, of how many lines that are not blank
    bad: int
    lines: int
    #: the first of them (1 is the file's first line)
    first_line: int

    @property
    def message(self) -> str:
        what = (f"none of its {self.lines} lines could be read" if self.bad == self.lines else
                f"{self.bad} of its {self.lines} lines could not be read")
        return (f"progress file {self.file}: {what} (the first is line {self.first_line}); "
                + ("nothing in it counts" if self.bad == self.lines else "they do not count")
                + ", and the file is left as it is")

    @property
    def hint(self) -> str:
        return ("open it in a text editor and fix or delete those lines: each line is one record such as "
                '{"exercise": "close-5432", "passed": true, "attempt": 1}')

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}"


def _parse(text: str, learner: str = "") -> tuple[list[dict[str, Any]], list[int]]:
    """The well-formed records of a progress file, and the numbers of the lines that are not one (a torn or
    hand-edited line is skipped, the others count); blank lines are neither."""
    out, bad = [], []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except (ValueError, RecursionError):
            bad.append(number)
            continue
        if not isinstance(r, dict) or not isinstance(r.get("exercise"), str) or not r["exercise"] \
                or not isinstance(r.get("passed"), bool):  # "passed": "false" is not a pass
            bad.append(number)
            continue
        attempt = r.get("attempt")
        out.append({"learner": str(r.get("learner") or learner), "exercise": r["exercise"], "passed": r["passed"],
                    "attempt": attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 0,
                    "time": str(r.get("time", ""))})
    return out, bad


def _read_file(path: Path, learner: str = "", *,
               follow: bool = True) -> tuple[list[dict[str, Any]], Unreadable | None]:
    text = _read_text(path, follow=follow)
    recs, bad = _parse(text, learner)
    if not bad:
        return recs, None
    lines = sum(1 for line in text.split("\n") if line.strip())
    return recs, Unreadable(file=printable(str(path), 300), bad=len(bad), lines=lines, first_line=bad[0])


def read(source: str | Path) -> list[dict[str, Any]]:
    """The records of one learner: a home folder (its ``.tierlab/progress.jsonl``), a folder holding a
    ``progress.jsonl``, or an export file a learner handed in.

    A folder speaks for its owner only: every record found in it is that folder's learner (its name), whatever
    the lines claim, and a link inside it is refused rather than followed (it could point at a FIFO, at
    /dev/zero or at another learner's file). A file speaks for one learner too: the one its name says
    (``carol.jsonl``, or ``tierlab-01.jsonl`` as the hub saves them), or for a file still called
    ``progress.jsonl``, the learner its first record names. Lines that are not records are skipped
    (:func:`class_progress` and :func:`progress` say how many, and where)."""
    return _read_source(source)[0]


def _read_source(source: str | Path) -> tuple[list[dict[str, Any]], Unreadable | None]:
    p = user_path(source)
    if p.is_dir():
        for candidate in (p / FILE, p / "progress.jsonl"):
            if candidate.parent != p and os.path.islink(candidate.parent):
                raise TierlabError(f"{printable(str(candidate.parent), 160)} is a symbolic link; tierlab reads only "
                                   "the learner's own folder", "ask the learner to replace the link with the folder")
            if os.path.lexists(candidate):
                recs, bad = _read_file(candidate, follow=False)
                return [{**r, "learner": p.name} for r in recs], bad
        return [], None  # a home where nothing was graded yet
    if os.path.lexists(p):
        recs, bad = _read_file(p, learner=p.stem)
        who = recs[0]["learner"] if recs and p.name == FILE.name else p.stem
        return [{**r, "learner": who} for r in recs], bad
    raise TierlabError(f"no progress at {printable(str(p), 160)}",
                       "give a learner's home folder or a progress .jsonl file they sent")


def learner_of(source: str | Path) -> str:
    """Who a source belongs to, as the instructor named it: the home folder (``/home/ada`` and
    ``/home/ada/.tierlab/progress.jsonl`` are both ada), a folder holding ``progress.jsonl``, or the file an
    export was handed in as (``bob.jsonl``)."""
    p = user_path(source)
    if p.is_dir():
        return p.resolve().name or str(p)
    if p.name == FILE.name:
        parent = p.resolve().parent
        return (parent.parent if parent.name == FILE.parent.name else parent).name or p.stem
    return p.stem


@dataclass(frozen=True)
class Progress:
    """Every recorded verdict of one learner or a class, as tables."""

    records: tuple[Mapping[str, Any], ...]
    #: every learner of the class, in the instructor's order, including those who have graded nothing yet
    learners: tuple[str, ...] = ()
    #: the progress files that held lines which are not records: how many, and where the first one is
    unreadable: tuple[Unreadable, ...] = ()

    def _learners(self) -> list[str]:
        return list(dict.fromkeys([*self.learners, *(str(r["learner"]) for r in self.records)]))

    def frame(self) -> "pd.DataFrame":
        """One row per graded attempt, in time order."""
        import pandas as pd

        df = pd.DataFrame(list(self.records), columns=list(_FIELDS))
        return df.sort_values(["time", "learner"], kind="stable").reset_index(drop=True)

    def per_exercise(self) -> "pd.DataFrame":
        """One row per (learner, exercise): passed yet, attempts, attempts until the first pass, last time."""
        import pandas as pd

        rows = []
        for (who, ex), g in self.frame().groupby(["learner", "exercise"], sort=True):
            flags = [bool(x) for x in g["passed"]]
            first = flags.index(True) + 1 if any(flags) else None
            rows.append({"learner": who, "exercise": ex, "passed": any(flags), "attempts": len(g),
                         "attempts_to_pass": first, "last": g["time"].iloc[-1]})
        return pd.DataFrame(rows, columns=["learner", "exercise", "passed", "attempts", "attempts_to_pass", "last"])

    def table(self) -> "pd.DataFrame":
        """The class table: a row per learner, a column per exercise tried; ``pass/2`` passed at the second
        attempt, ``fail/3`` not yet after three; and how many each learner passed."""
        import pandas as pd

        per = self.per_exercise()
        who = self._learners()
        if per.empty:
            return pd.DataFrame({"passed": [0] * len(who)}, index=pd.Index(who, name="learner"))
        per["cell"] = [f"pass/{int(first)}" if ok else f"fail/{n}"
                       for ok, first, n in zip(per["passed"], per["attempts_to_pass"], per["attempts"])]
        t = per.pivot(index="learner", columns="exercise", values="cell")
        t = t.reindex(index=sorted(who), columns=_course_order(list(t.columns))).fillna("")
        t.insert(0, "passed", per.groupby("learner")["passed"].sum().reindex(t.index, fill_value=0).astype(int))
        t.columns.name = None
        return t

    def course(self) -> "pd.DataFrame":
        """For one learner: every graded exercise of the course in order, with its status."""
        from .exercises import load_exercises

        per = {r.exercise: r for r in self.per_exercise().itertuples()}
        rows = []
        for ex in load_exercises(None):
            r = per.get(ex.id)
            status = "not started" if r is None else ("passed" if r.passed else "not yet")
            rows.append({"notebook": ex.notebook, "exercise": ex.id, "title": ex.title, "status": status,
                         "attempts": 0 if r is None else r.attempts})
        import pandas as pd

        return pd.DataFrame(rows)

    def _summary(self) -> str:
        per = self.per_exercise()
        learners = self._learners()
        idle = [w for w in learners if w not in set(per["learner"])]
        return (f"{len(learners)} learner(s), {len(self.records)} graded attempts, "
                f"{int(per['passed'].sum())} of {len(per)} (learner, exercise) pairs passed"
                + (f"; nothing graded yet: {', '.join(idle)}" if idle else ""))

    def summary(self) -> str:
        bad = sum(u.bad for u in self.unreadable)
        return self._summary() + (f"; {bad} line(s) in {len(self.unreadable)} file(s) could not be read "
                                  "(see .unreadable)" if bad else "")

    def report(self, width: int = 80) -> str:
        """What ``tierlab progress`` prints: no line wider than ``width``; for one learner a line per lesson, for
        a class a line per learner and a line per lesson; files with lines that are not records are named."""
        from .progress_text import progress_text

        return progress_text(self.per_exercise(), self._learners(), self._summary(), self.unreadable, width)

    def chart(self, ax: Any = None) -> Any:
        """The instructor's chart: learner × exercise, green passed, red tried and not yet (views layer)."""
        from ..views.progress_chart import progress_chart

        return progress_chart(self.per_exercise(), ax=ax)

    def _repr_html_(self) -> str:
        warn = "".join(f'<p class="tl-warning"><b>{html.escape(u.message)}</b><br>hint: {html.escape(u.hint)}</p>'
                       for u in self.unreadable)
        if len(self._learners()) > 1:
            return f"<p>{html.escape(self.summary())}</p>" + warn + self.table().to_html()
        c = self.course()
        done = c.groupby("notebook", sort=False)["status"].agg(lambda s: f"{(s == 'passed').sum()} of {len(s)}")
        head = "".join(f"<li>{html.escape(str(nb))}: {html.escape(str(v))} passed</li>" for nb, v in done.items())
        return f"<p>{html.escape(self.summary())}</p>{warn}<ul>{head}</ul>" + c.to_html(index=False)

    def __repr__(self) -> str:
        return self.summary()


def progress(path: str | Path | None = None) -> Progress:
    """The learner's own progress (their progress file, or ``path``)."""
    p = Path(path) if path is not None else progress_path()
    if p is None:
        raise TierlabError(f"progress recording is off ({ENV}=off)", f"unset {ENV} to record and see progress")
    if not os.path.lexists(p):
        return Progress(())
    recs, bad = _read_file(p)
    return Progress(tuple(recs), unreadable=(bad,) if bad else ())


def _course_order(exercise_ids: list[str]) -> list[str]:
    """``exercise_ids`` in the order the course meets them (notebook by notebook); ids it does not know last."""
    from .exercises import load_exercises

    try:
        order = {ex.id: i for i, ex in enumerate(load_exercises(None))}
    except TierlabError:  # a data folder without exercises: keep the ids as they are
        order = {}
    return sorted(exercise_ids, key=lambda e: (order.get(e, len(order)), e))


def class_progress(sources: Iterable[str | Path]) -> Progress:
    """A class's progress from the learners' homes or the files they handed in: each learner is named by the
    source the instructor gave (the home folder, or the file's name), whatever account wrote the records (on a
    hub where every learner runs as one account, the records all carry that one name), and a home where nothing
    was graded yet is a row of its own."""
    records: list[dict[str, Any]] = []
    learners: list[str] = []
    unreadable: list[Unreadable] = []
    for s in sources:
        who = learner_of(s)
        recs, bad = _read_source(s)
        records += [{**r, "learner": who} for r in recs]
        learners.append(who)
        unreadable += [bad] if bad else []
    return Progress(tuple(records), tuple(dict.fromkeys(learners)), tuple(unreadable))
