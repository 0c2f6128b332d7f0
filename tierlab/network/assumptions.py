"""What an importer had to assume, carried by the topology it built.

An import (``tl.from_terraform``, ``tl.from_aws``) that meets a value it cannot know offline (a data
source, a value known only after apply, a rule whose peer is another project's group) makes an
assumption and notes it (:class:`tierlab.network.importers.ImportNote`). Those that can change a verdict
travel with the topology as :class:`Assumption` values, so that every journey on it (and on every
what-if of it) can say which of its verdicts depend on one: ``Trace.depends`` in
:mod:`tierlab.request.depends` decides that.

Two shapes:

- ``rule``: a security-group rule left out because its peer (or its ports) is unknown. SGs only
  allow, so it can change a verdict only where that group denies a packet on those ports in that
  direction; the journey decides it by running again with the rule open to any peer.
- ``objects``: the model's components the assumption touches (a NACL, a route table, a server,
  the load balancer...); a verdict on a packet that meets none of them cannot change. ``("*",)``
  when the import could not tell which objects (a variable without a value used somewhere).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Assumption", "LeftOutRule", "EVERYTHING"]

#: ``objects`` of an assumption the import could not place: any verdict may depend on it.
EVERYTHING = "*"


@dataclass(frozen=True, kw_only=True)
class LeftOutRule:
    """A security-group rule the import left out: its group, direction, protocol and ports
    (``all`` where not known), its peer unknown."""

    group: str
    direction: str
    protocol: str
    ports: str


@dataclass(frozen=True, kw_only=True)
class Assumption:
    """One assumption of an import that can change a verdict."""

    where: str  # "main.tf: aws_vpc_security_group_ingress_rule.db_from_reporting (cidr_ipv4)"
    message: str
    assumed: str
    objects: tuple[str, ...] = ()
    rule: LeftOutRule | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" + (f" — assumed: {self.assumed}" if self.assumed else "")
