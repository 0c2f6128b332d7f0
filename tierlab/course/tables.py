"""Short tables for the notebooks: identical rows grouped with a count, a short symptom, long text folded.

tierlab sets no global pandas option (importing it changes nothing); the display settings travel with the
table being shown. A :class:`Table` prints as a plain frame whose long cells are cut (``…``) and displays
in Jupyter as HTML whose long cells are folded in a ``<details>`` (click to read the rest)::

    tl.tables.table(trace.blocks_frame())            # every row, long reasons folded
    tl.tables.pairs(trace)                           # pairs with the same answer grouped: count, symptom, reason
    tl.tables.grouped(frame, by=["status", "reason"])  # any frame, grouped by the columns that repeat
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import ParameterError
from ..network.limits import printable

if TYPE_CHECKING:  # pandas is imported where a table is built
    import pandas as pd

    from ..request.journey import Trace

__all__ = ["Table", "table", "grouped", "pairs", "symptom", "FOLD"]

#: Text longer than this many characters is folded (HTML) or cut (plain text).
FOLD = 90


def symptom(reason: str) -> str:
    """The short form of a journey's reason: who answers the browser and how ("ALB: 504 Gateway Timeout")."""
    head = str(reason).split(" — ")[0]
    if head.startswith("browser: 200"):
        return "browser: 200 OK"
    return head if len(head) <= 60 else head[:59] + "…"


def _cut(value: Any, width: int) -> Any:
    if isinstance(value, str) and len(value) > width:
        return value[: width - 1] + "…"
    return value


def _missing(value: Any) -> bool:
    """None, NaN, pandas' NA and NaT: no value, shown as an empty cell (never the words None, nan or <NA>)."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    import pandas as pd

    return value is pd.NA or value is pd.NaT


def _fold(value: Any, width: int) -> str:
    if _missing(value):
        return ""
    text = str(value) if not isinstance(value, str) else value
    if len(text) <= width:
        return html.escape(text)
    cut = text.rfind(" ", 0, width)
    cut = cut if cut > width // 2 else width
    return (f"<details><summary>{html.escape(text[:cut])} …</summary>{html.escape(text[cut:].lstrip())}"
            "</details>")


@dataclass(frozen=True)
class Table:
    """A frame with display settings of its own: long text folded in HTML, cut in plain text."""

    frame: "pd.DataFrame"
    fold: int = FOLD

    def _repr_html_(self) -> str:
        import pandas as pd

        shown = self.frame.copy()
        index = not isinstance(shown.index, pd.RangeIndex)
        for col in shown.columns:
            shown[col] = [_fold(v, self.fold) for v in shown[col]]
        with pd.option_context("display.max_colwidth", None):
            body = shown.to_html(escape=False, index=index, border=0, classes="tl-table")
        return f'<div class="tl-table-wrap" style="text-align:left">{body}</div>'

    def __repr__(self) -> str:
        import pandas as pd

        shown = self.frame.copy()
        for col in shown.columns:
            if any(isinstance(v, str) for v in shown[col]):
                shown[col] = [_cut(v, self.fold) for v in shown[col]]
        with pd.option_context("display.max_colwidth", None):
            return shown.to_string(index=not isinstance(shown.index, pd.RangeIndex))

    def __len__(self) -> int:
        return len(self.frame)


def table(frame: Any, *, columns: Sequence[str] | None = None, fold: int = FOLD) -> Table:
    """``frame`` (or its ``columns``) for display, long text folded (``tl.show``). An answer object with a
    ``.frame()`` method (a trace, a reach answer ...) is shown through its frame."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        if isinstance(frame, pd.Series):
            frame = frame.to_frame()
        elif callable(getattr(frame, "frame", None)):
            frame = frame.frame()
        else:
            raise ParameterError(f"tl.show takes a table, got {type(frame).__name__} {printable(repr(frame))[:60]}",
                                 "pass a DataFrame or an answer with .frame() (tl.journey(topo), tl.can_reach(...)); "
                                 "None means the expression in the brackets returned nothing")
    return Table(frame[list(columns)] if columns else frame, fold)


def grouped(frame: "pd.DataFrame", by: Sequence[str] | str, *, list_column: str | None = None,
            fold: int = FOLD) -> Table:
    """One row per distinct value of ``by`` with a ``count`` first; ``list_column``'s values are joined."""
    by = [by] if isinstance(by, str) else list(by)
    keys = frame[by].astype(str).apply(tuple, axis=1)
    rows = []
    for key in dict.fromkeys(keys):
        part = frame[keys == key]
        row: dict[str, Any] = {"count": len(part)}
        if list_column:
            row[list_column] = ", ".join(str(v) for v in part[list_column])
        row.update({c: part[c].iloc[0] for c in by})
        rows.append(row)
    import pandas as pd

    return Table(pd.DataFrame(rows), fold)


def pairs(trace: "Trace", *, fold: int = FOLD) -> Table:
    """The (ALB node, server) pairs with the same answer grouped: how many, which, the short symptom, the reason."""
    import pandas as pd

    frame = trace.pairs_frame()
    frame = frame.assign(pair=frame["node"] + "->" + frame["target"],
                         status=["timeout" if s is None or s != s else str(int(s)) for s in frame["status"]],
                         symptom=[symptom(r) for r in frame["reason"]])
    keys = ["ok", "status"] + (["wait_s"] if "wait_s" in frame else []) + ["symptom", "reason"]
    out = grouped(frame, keys, list_column="pair", fold=fold).frame
    out.loc[out["count"] == len(frame), "pair"] = f"all {len(frame)}"
    return Table(pd.DataFrame(out[["count"] + keys[:-2] + ["symptom", "pair", "reason"]]), fold)
