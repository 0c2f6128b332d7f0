"""Replay one of the seed's slips: the one place that re-applies a difference's ``patch``.

``seed-as-written`` keeps every slip the loader refuses (a CNAME at the apex, Server 3 outside its
subnet, an Elastic IP on an ALB ...) as a *difference* with a ``patch``. Replaying one shows the
error AWS (and tierlab's validation) gives; a further patch (``then``) is a learner's repair, applied
after the slip::

    tl.slips.replay("apex-cname")                              # the ValidationError, shown as message + hint
    tl.slips.replay("apex-cname", then=[["dns.records[0].type", "A"]])   # a Topology when the repair loads

Notebooks 02 and 04 show slips with it, ``tl.dns.slip`` answers with it, and the ``dns-apex-fix``
exercise grades a repair with it.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import TierlabError
from .loader import _split_path, apply_patch, load, load_dict, read_yaml
from .topology import Topology
from ..paths import data_path

__all__ = ["replay", "patch_of"]


def patch_of(difference_id: str, topology: str = "seed-as-written") -> list[Any]:
    """The ``patch`` of one difference of ``topology`` (TierlabError naming the known ids if unknown or empty)."""
    topo = load(topology)
    diff = next((d for d in topo.differences if d.id == difference_id), None)
    if diff is None:
        raise TierlabError(f"{topology!r} has no difference {difference_id!r}",
                           f"known: {', '.join(d.id for d in topo.differences)}")
    if not diff.patch:
        raise TierlabError(f"difference {difference_id!r} has no patch to re-apply", "pick one found_by: validation")
    return list(diff.patch)


def replay(difference_id: str, topology: str = "seed-as-written", *,
           then: Sequence[Sequence[Any]] | None = None) -> TierlabError | Topology:
    """Load ``topology`` with the slip ``difference_id`` re-applied (and ``then``, a further patch, after it).

    Returns the TierlabError the loader raises (or a TierlabError saying ``then`` does not apply), or the
    Topology when the result loads. Without ``then`` a
    slip that loads is itself an error (the validation no longer catches it), raised as TierlabError.
    """
    patch = patch_of(difference_id, topology)
    raw = read_yaml(data_path("topologies", f"{topology}.yaml"))
    label = f"{topology}+{difference_id}" + ("+your patch" if then is not None else "")
    patched = apply_patch(raw, patch)
    for i, step in enumerate(then or ()):
        try:
            patched = apply_patch(patched, [tuple(step)])
        except (TierlabError, KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            path = step[0] if isinstance(step, (list, tuple)) and step else step
            why = _why_not(patched, path) or (exc.message if isinstance(exc, TierlabError) else type(exc).__name__)
            return TierlabError(f"the patch does not apply: step {i + 1} ({_short(path)}): {why}",
                                "paths look like 'dns.records[0].type'; [+] appends to a list")
    try:
        loaded = load_dict(patched, file=label)
    except TierlabError as exc:
        return exc
    if then is None:
        raise TierlabError(f"the patch of {difference_id!r} loads without error", "the validation no longer catches it")
    return loaded


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else f"{type(value).__name__} {value!r}"[:200]
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _why_not(raw: Any, path: Any) -> str:
    """Why ``path`` cannot be set in ``raw``, naming the part that is not there ("" when nothing is wrong)."""
    if not isinstance(path, str) or not _split_path(path):
        return "a path is text such as 'dns.records[0].type'"
    keys = _split_path(path)
    node, where = raw, ""
    for i, k in enumerate(keys):
        last = i == len(keys) - 1
        if k == "+" or isinstance(k, int):
            if not isinstance(node, list):
                return f"{where or 'the file'} is not a list, so it has no item [{k}]"
            if not isinstance(k, int):
                return "" if last else "[+] may only end a path (it appends a new item)"
            if k >= len(node):
                return f"{where} has {len(node)} item(s): [{k}] is past the end ([+] appends one)"
            where = f"{where}[{k}]"
        else:
            if not isinstance(node, dict):
                return f"{where or 'the file'} is not a mapping, so it has no key {k!r}"
            if k not in node and not last:
                return f"{where or 'the file'} has no key {k!r} (keys: {', '.join(map(str, node))})"
            where = f"{where}.{k}" if where else str(k)
        if last:
            return ""
        node = node[k]
    return ""
