"""What an importer understood, per file, resource and attribute (Batfish's parse status).

Every importer returns an :class:`Imported`: the topology, the plain dict it was built from
(the same shape as ``data/topologies/*.yaml``, validated by the same loader), the tiers it
chose for the journey, and one :class:`ImportNote` per thing it could not take as written:
its status (``parsed``, ``partly``, ``not understood``), what it did instead, and whether
that assumption can change a verdict.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

from ..assumptions import LeftOutRule
from ..topology import Topology

__all__ = ["ImportNote", "Imported", "Notes", "Status"]

Status = Literal["parsed", "partly", "not understood"]


@dataclass(frozen=True, kw_only=True)
class ImportNote:
    """One thing the importer could not take exactly as written."""

    file: str
    resource: str
    attribute: str = ""
    status: Status
    message: str
    assumption: str = ""
    affects_verdicts: bool = False

    def __str__(self) -> str:
        where = ":".join(p for p in (self.file, self.resource, self.attribute) if p)
        extra = f" — assumed: {self.assumption}" if self.assumption else ""
        flag = " [may change a verdict]" if self.affects_verdicts else ""
        return f"{where}: {self.status}: {self.message}{extra}{flag}"


class Notes:
    """A collector the readers share; each note is kept once."""

    def __init__(self) -> None:
        self.items: list[ImportNote] = []
        self._seen: set[tuple[str, str, str, str]] = set()
        #: what a note's assumption touches, where the reader knows it better than the resource does
        #: (a rule left out of a security group: :class:`~tierlab.network.assumptions.LeftOutRule`)
        self.rules: dict[int, LeftOutRule] = {}

    def add(self, file: str, resource: str, attribute: str, status: Status, message: str,
            assumption: str = "", affects_verdicts: bool = False, rule: LeftOutRule | None = None) -> None:
        key = (file, resource, attribute, message)
        if key in self._seen:
            return
        self._seen.add(key)
        if rule is not None:
            self.rules[len(self.items)] = rule
        self.items.append(ImportNote(file=file, resource=resource, attribute=attribute, status=status,
                                     message=message, assumption=assumption, affects_verdicts=affects_verdicts))


@dataclass(frozen=True)
class Imported:
    """An imported architecture: ``.topology`` for the journey and every question, ``.notes``
    for what was not taken as written, ``.tiers`` for how the journey was found."""

    topology: Topology
    raw: dict[str, Any]
    notes: tuple[ImportNote, ...]
    tiers: dict[str, Any] = field(default_factory=dict)
    resources: tuple[tuple[str, str, str], ...] = ()  # (file, address, status) of every resource seen
    source: str = ""

    def frame(self) -> "pd.DataFrame":
        """Parse status per resource (parsed / partly / not understood), with the reason."""
        import pandas as pd

        worst: dict[tuple[str, str], list[ImportNote]] = {}
        for n in self.notes:
            worst.setdefault((n.file, n.resource), []).append(n)
        rows = []
        seen = set()
        for file, addr, status in self.resources:
            notes = worst.get((file, addr), [])
            seen.add((file, addr))
            st = _worst([status] + [n.status for n in notes])
            rows.append({"file": file, "resource": addr, "status": st,
                         "reason": "; ".join(_short(n) for n in notes) or "taken as written"})
        for (file, addr), notes in worst.items():
            if (file, addr) not in seen:
                rows.append({"file": file, "resource": addr, "status": _worst([n.status for n in notes]),
                             "reason": "; ".join(_short(n) for n in notes)})
        return pd.DataFrame(rows, columns=["file", "resource", "status", "reason"])

    def notes_frame(self) -> "pd.DataFrame":
        """Every note: file, resource, attribute, status, message, the assumption, whether it can change a verdict."""
        import pandas as pd

        return pd.DataFrame([{"file": n.file, "resource": n.resource, "attribute": n.attribute, "status": n.status,
                              "affects_verdicts": n.affects_verdicts, "assumption": n.assumption,
                              "reason": n.message} for n in self.notes],
                            columns=["file", "resource", "attribute", "status", "affects_verdicts", "assumption",
                                     "reason"])

    def counts(self) -> dict[str, int]:
        df = self.frame()
        return {s: int((df["status"] == s).sum()) for s in ("parsed", "partly", "not understood")}

    def summary(self) -> str:
        c = self.counts()
        risky = sum(n.affects_verdicts for n in self.notes)
        t = self.topology
        return (f"{t.name}: {c['parsed']} resources parsed, {c['partly']} partly, {c['not understood']} not understood; "
                f"{len(self.notes)} notes ({risky} may change a verdict); journey: {self.tiers.get('summary', '')}")

    def _repr_html_(self) -> str:
        table: str = self.frame().to_html(index=False)
        return f"<p><b>{html.escape(self.summary())}</b></p>" + table

    def __repr__(self) -> str:
        return f"<Imported {self.summary()}>"


_ORDER = {"parsed": 0, "partly": 1, "not understood": 2}


def _worst(statuses: list[str]) -> str:
    return max(statuses, key=lambda s: _ORDER.get(s, 0)) if statuses else "parsed"


def _short(n: ImportNote) -> str:
    a = f"{n.attribute}: " if n.attribute else ""
    return a + n.message + (f" (assumed {n.assumption})" if n.assumption else "")
