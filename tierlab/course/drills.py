"""Interview drills (notebook 09): questions as data, answers hidden until revealed, and
"what breaks if…" puzzles answered by the evaluator.

    deck = load_questions()                  # data/interview/questions.yaml, validated
    deck.only("nacl")                        # shows the questions; each answer behind <details>
    p = deck["db-reply-rule"].puzzle         # a what-if: topology + changes + the question to ask
    p.evaluate()                             # the evaluator's answer (ok, component, status, ...)
    p.evaluate().compare({"ok": False, "component": "nacl-private-db"})   # your prediction, marked

A bad entry in the file is a ``ScenarioError`` naming the file and the key path.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Literal, Mapping

from ..errors import ScenarioError
from ..request.journey import journey
from ..network.loader import read_yaml
from ..paths import data_path
from ..network.reachability import can_reach
from .scenarios import WHATIF_KEYS, apply_whatif, check_keys, need, short_file, topology_for


if TYPE_CHECKING:  # pandas is imported lazily where a table is built
    import pandas as pd

__all__ = ["Puzzle", "PuzzleAnswer", "Question", "Deck", "load_questions", "EXPECT_KEYS"]

_QUESTION_KEYS = ("id", "question", "answer", "tags", "puzzle")
_PUZZLE_KEYS = ("topology", "ask", "os", "database", "src", "dst", "port", "expect") + WHATIF_KEYS
#: What a puzzle may state as its expected answer, by question kind.
EXPECT_KEYS = {
    "journey": ("ok", "component", "direction", "code", "codes", "step", "status", "pairs_broken", "success_share"),
    "reach": ("ok", "component", "direction", "code", "codes", "share"),
}


def _inline(text: str) -> str:
    """Escape, then `code` -> <code>, **bold** -> <b>, blank line -> paragraph, newline -> space."""
    t = html.escape(text.strip())
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
    t = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", t)
    return "<p>" + t.replace("\n\n", "</p><p>").replace("\n", " ") + "</p>"


@dataclass(frozen=True)
class PuzzleAnswer:
    """The evaluator's answer to a puzzle: a few facts, a reason, and the table behind them."""

    ask: str
    facts: Mapping[str, Any]
    reason: str
    detail: Any  # a Trace or a Reach

    def mismatches(self, expect: Mapping[str, Any]) -> list[str]:
        """Every stated fact the evaluator disagrees with (empty list: all agree)."""
        out = []
        for key, want in expect.items():
            got = self.facts.get(key)
            if isinstance(want, float) and isinstance(got, float):
                same = abs(want - got) < 0.005
            else:
                same = got == want
            if not same:
                out.append(f"{key}: expected {want!r}, the evaluator says {got!r}")
        return out

    def compare(self, guess: Mapping[str, Any]) -> "pd.DataFrame":
        """Your prediction next to the evaluator's answer, one row per fact you guessed."""
        import pandas as pd

        rows = []
        for key, want in guess.items():
            got = self.facts.get(key, "(not a fact of this puzzle)")
            rows.append({"fact": key, "your_guess": want, "evaluator": got, "right": not self.mismatches({key: want}),
                         "reason": self.reason})
        return pd.DataFrame(rows, columns=["fact", "your_guess", "evaluator", "right", "reason"])

    def frame(self) -> "pd.DataFrame":
        return self.detail.blocks_frame() if self.ask == "journey" else self.detail.frame()

    def _repr_html_(self) -> str:
        color = "#2e7d32" if self.facts.get("ok") else "#c62828"
        facts = ", ".join(f"<b>{html.escape(k)}</b>={html.escape(repr(v))}" for k, v in self.facts.items())
        return f'<div class="tl-puzzle-answer"><p style="color:{color}">{facts}</p><p>{html.escape(self.reason)}</p></div>'

    def __repr__(self) -> str:
        facts = ", ".join(f"{k}={v!r}" for k, v in self.facts.items())
        return f"<PuzzleAnswer {facts}>\n{self.reason}"


@dataclass(frozen=True)
class Puzzle:
    """A what-if on a named topology and one question to ask the evaluator about it."""

    topology: str
    whatif: Mapping[str, Any]
    ask: Literal["journey", "reach"]
    expect: Mapping[str, Any]
    os: str = "linux"
    database: str = "primary"
    src: str = ""
    dst: str = ""
    port: int = 0
    where: str = ""  # file and key path, for error messages

    def build(self):
        """The topology the puzzle is about (a new frozen Topology)."""
        file, _, path = self.where.partition("#")
        base = topology_for(self.topology, file=file, path=f"{path}.topology")
        return apply_whatif(base, self.whatif, file=file, path=path)

    def describe(self) -> str:
        parts = [f"on {self.topology}"]
        for key in WHATIF_KEYS:
            if key in self.whatif:
                parts.append(f"{key} {self.whatif[key]}")
        q = (f"ask: the journey ({self.os} client, database {self.database})" if self.ask == "journey"
             else f"ask: can {self.src} reach {self.dst} on {self.port}?")
        return ", ".join(parts) + "; " + q

    def evaluate(self) -> PuzzleAnswer:
        """Ask the evaluator (``tl.journey`` or ``tl.can_reach``) for the truth."""
        topo = self.build()
        if self.ask == "journey":
            tr = journey(topo, os=self.os, database=self.database)  # type: ignore[arg-type]
            b = tr.blocks[0] if tr.blocks else None
            broken = [p for p in tr.pairs if not p.ok]
            statuses = sorted({p.status for p in broken}, key=lambda s: (s is None, s))
            facts = {"ok": tr.ok, "component": b.component if b else None, "direction": b.direction if b else None,
                     "code": b.code if b else None, "codes": sorted({x.code for x in tr.blocks}),
                     "step": b.step if b else None,
                     "status": (statuses[0] if len(statuses) == 1 else statuses) if broken else 200,
                     "pairs_broken": len(broken), "success_share": round(tr.success_share, 4)}
            reason = tr.summary() if tr.ok else (broken[0].symptom + " — " + b.reason if b else tr.summary())
            return PuzzleAnswer("journey", facts, reason, tr)
        r = can_reach(topo, self.src, self.dst, self.port, os=self.os)
        c = r.flow.blocking[0] if r.flow.blocking else None
        facts = {"ok": r.ok, "component": c.component if c else None, "direction": c.direction if c else None,
                 "code": c.code if c else None, "codes": sorted({x.code or "" for x in r.flow.blocking}),
                 "share": round(r.share, 4)}
        return PuzzleAnswer("reach", facts, r.reason, r)

    def check(self) -> list[str]:
        """Mismatches between the stated ``expect`` and the evaluator (empty: the data is right)."""
        return self.evaluate().mismatches(self.expect)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str
    tags: tuple[str, ...] = ()
    puzzle: Puzzle | None = None

    def reveal(self) -> "_Revealed":
        """The question with its answer shown."""
        return _Revealed(self)

    def html(self, open_: bool = False) -> str:
        tags = " ".join(f'<span class="tl-tag">#{html.escape(t)}</span>' for t in self.tags)
        puzzle = (f"<p><i>Puzzle — predict, then ask the evaluator:</i> <code>{html.escape(self.puzzle.describe())}</code></p>"
                  if self.puzzle else "")
        return (f'<div class="tl-question tl-q-{html.escape(self.id)}"><p><b>{html.escape(self.question)}</b> {tags}</p>'
                f"{puzzle}<details{' open' if open_ else ''}><summary>answer</summary>{_inline(self.answer)}</details></div>")

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return f"Q [{self.id}] {self.question}  (answer hidden: .reveal())"


@dataclass(frozen=True)
class _Revealed:
    q: Question

    def _repr_html_(self) -> str:
        return self.q.html(open_=True)

    def __repr__(self) -> str:
        return f"Q [{self.q.id}] {self.q.question}\nA: {self.q.answer.strip()}"


@dataclass(frozen=True)
class Deck:
    """A set of questions; displays each with its answer folded away."""

    questions: tuple[Question, ...]
    file: str = ""

    def __iter__(self) -> Iterator[Question]:
        return iter(self.questions)

    def __len__(self) -> int:
        return len(self.questions)

    def __getitem__(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise ScenarioError(f"no question {qid!r}", "ids: " + ", ".join(q.id for q in self.questions), file=self.file)

    def only(self, *tags: str) -> "Deck":
        """The questions with any of ``tags``."""
        return Deck(tuple(q for q in self.questions if set(tags) & set(q.tags)), self.file)

    def puzzles(self) -> "Deck":
        return Deck(tuple(q for q in self.questions if q.puzzle), self.file)

    def tags(self) -> list[str]:
        return sorted({t for q in self.questions for t in q.tags})

    def frame(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame([{"id": q.id, "question": q.question, "tags": ", ".join(q.tags),
                              "puzzle": q.puzzle.ask if q.puzzle else "",
                              "reason": "answer hidden until revealed"} for q in self.questions])

    def _repr_html_(self) -> str:
        return "".join(q.html() for q in self.questions)

    def __repr__(self) -> str:
        return "\n".join(repr(q) for q in self.questions)


def _puzzle(raw: Any, file: str, path: str) -> Puzzle:
    p = check_keys(raw, _PUZZLE_KEYS, ("topology", "ask", "expect"), file=file, path=path)
    ask = p["ask"]
    if ask not in EXPECT_KEYS:
        raise ScenarioError(f"ask must be journey or reach, got {ask!r}", "journey: tl.journey; reach: tl.can_reach",
                            file=file, path=f"{path}.ask")
    expect = check_keys(p["expect"], EXPECT_KEYS[ask], (), file=file, path=f"{path}.expect")
    if not expect:
        raise ScenarioError("expect is empty", "state at least ok: true/false", file=file, path=f"{path}.expect")
    if ask == "reach":
        for key in ("src", "dst"):
            need(p, key, str, file=file, path=path)
        need(p, "port", int, file=file, path=path)
    whatif = {k: p[k] for k in WHATIF_KEYS if k in p}
    puzzle = Puzzle(str(p["topology"]), whatif, ask, expect, os=str(p.get("os", "linux")),
                    database=str(p.get("database", "primary")), src=str(p.get("src", "")), dst=str(p.get("dst", "")),
                    port=int(p.get("port", 0)), where=f"{file}#{path}")
    puzzle.build()  # a bad topology name or rule id is a ScenarioError at load time, not in class
    return puzzle


def load_questions(path: str | Path | None = None) -> Deck:
    """The interview questions (default ``data/interview/questions.yaml``), validated entry by entry."""
    p = Path(path) if path is not None else data_path("interview", "questions.yaml")
    file = short_file(p)
    doc = check_keys(read_yaml(p), ("questions",), ("questions",), file=file, path="")
    items = doc["questions"]
    if not isinstance(items, list) or not items:
        raise ScenarioError("questions must be a non-empty list", "add '- id: ...' entries", file=file, path="questions")
    out: list[Question] = []
    seen: set[str] = set()
    for i, raw in enumerate(items):
        at = f"questions[{i}]"
        q = check_keys(raw, _QUESTION_KEYS, ("id", "question", "answer", "tags"), file=file, path=at)
        for key in ("id", "question", "answer"):
            if not isinstance(q[key], str) or not q[key].strip():
                raise ScenarioError(f"{key} must be non-empty text", f"write the {key} as a string",
                                    file=file, path=f"{at}.{key}")
        if q["id"] in seen:
            raise ScenarioError(f"duplicate id {q['id']!r}", "ids must be unique", file=file, path=f"{at}.id")
        seen.add(q["id"])
        tags = q["tags"]
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
            raise ScenarioError("tags must be a non-empty list of words", "e.g. tags: [nacl, ephemeral]",
                                file=file, path=f"{at}.tags")
        puzzle = _puzzle(q["puzzle"], file, f"{at}.puzzle") if "puzzle" in q else None
        out.append(Question(q["id"], q["question"], q["answer"], tuple(tags), puzzle))
    return Deck(tuple(out), file)
