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
from .loader import apply_patch, load, load_dict, read_yaml
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
    if then is not None:
        try:
            patched = apply_patch(patched, [tuple(step) for step in then])
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            return TierlabError(f"the patch does not apply: {exc!r}", "paths look like 'dns.records[0].type'")
    try:
        loaded = load_dict(patched, file=label)
    except TierlabError as exc:
        return exc
    if then is None:
        raise TierlabError(f"the patch of {difference_id!r} loads without error", "the validation no longer catches it")
    return loaded
