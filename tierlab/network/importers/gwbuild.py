"""NAT gateways, Elastic IPs and VPC endpoints (Terraform resources or AWS describe outputs) ->
the ``nat_gateways:`` / ``vpc_endpoints:`` / ``prefix_lists:`` sections of the topology dict.

What AWS assigns and a plan cannot know (the NAT's Elastic IP and private address, an interface
endpoint's ENI addresses) is given an address and a note, as for servers; what only the account
knows (the CIDRs of AWS's prefix list for S3 or DynamoDB) is an assumption stated in a note that
may change a verdict, unless the AWS outputs (``get-managed-prefix-list-entries``) or a
``aws_ec2_managed_prefix_list`` give them.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import Builder
    from .terraform import Resource

__all__ = ["nat_gateways", "vpc_endpoints", "SERVICE_EXAMPLE_CIDRS"]

#: Ranges AWS publishes for the service in us-east-1 (ip-ranges.json), used when the prefix list's own
#: entries are not in the files; the seed-vpc topology uses the same S3 examples.
SERVICE_EXAMPLE_CIDRS = {"s3": ["52.216.0.0/15", "54.231.0.0/17"], "dynamodb": ["52.94.0.0/22"]}


def _ip(v: Any) -> str | None:
    try:
        return str(ipaddress.IPv4Address(v)) if isinstance(v, str) and v else None
    except ValueError:
        return None


def nat_gateways(b: "Builder", subnets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Public NAT gateways: subnet, Elastic IP (from its aws_eip / the describe output) and private address."""
    out: dict[str, dict[str, Any]] = {}
    b.nat_names = {}
    for k, n in enumerate(b.of("aws_nat_gateway")):
        name = b.name_of(n)
        sub = b.subnet_name(n.attrs.get("subnet_id"))
        public = n.attrs.get("connectivity_type", "public") != "private"
        b.extras["nat_gateways"].append({"name": name, "subnet": sub, "public": public})
        if not public:
            b.note(n, "connectivity_type", "partly", "a private NAT gateway is not in tierlab's model",
                   "left out: routes to it are dropped (flows that need it show NO_ROUTE_TO_DESTINATION)", True)
            b.mark(n, "partly")
            continue
        if sub is None:
            b.note(n, "subnet_id", "not understood", "its subnet is not in this VPC", "left out", True)
            b.mark(n, "not understood")
            continue
        eip_res = b.ref(n.attrs.get("allocation_id"), "aws_eip")
        eip = _ip(n.attrs.get("public_ip")) or (_ip(eip_res.attrs.get("public_ip")) if eip_res is not None else None)
        if eip_res is not None:
            b.mark(eip_res)
        if eip is None:
            eip = f"192.0.2.{100 + k}"
            b.note(n, "allocation_id", "parsed", "AWS allocates the Elastic IP",
                   f"{eip} (a documentation address: any public address gives the same verdicts)")
        priv = _ip(n.attrs.get("private_ip"))
        if priv is not None:
            b.used_ips.add(ipaddress.IPv4Address(priv))
        else:
            priv = str(b.next_ip(ipaddress.IPv4Network(subnets[sub]["cidr"]), 20))
            b.note(n, "private_ip", "parsed", "AWS assigns the NAT gateway's private address", priv)
        out[name] = {"subnet": sub, "elastic_ip": eip, "private_ip": priv}
        b.nat_names[n.address] = name
        b.origin[f"nat_gateways.{name}"] = (n.file, n.address)
        b.mark(n)
    return out


def _service(e: "Resource") -> str:
    svc = e.attrs.get("service_name")
    return svc.rsplit(".", 1)[-1] if isinstance(svc, str) and svc else ""


def _prefix_list(b: "Builder", e: "Resource", service: str, prefix_lists: dict[str, Any]) -> str | None:
    """The service's prefix list: from the files when they hold its entries, else AWS's published examples."""
    pl_res = b.ref(e.attrs.get("prefix_list_id"), "aws_ec2_managed_prefix_list")
    if pl_res is not None:
        cidrs = [x.get("cidr") for x in b.listify(pl_res.attrs.get("entry")) if isinstance(x, dict)]
        if cidrs:
            name = b.name_of(pl_res)
            prefix_lists[name] = {"service": service, "cidrs": cidrs}
            b.mark(pl_res)
            return name
    if service not in SERVICE_EXAMPLE_CIDRS:
        b.note(e, "service_name", "partly", f"the prefix list of {service!r} is read from the AWS account",
               "the endpoint is left out: flows to the service take the other routes", True)
        b.mark(e, "partly")
        return None
    name = f"pl-{service}"
    prefix_lists[name] = {"service": service, "cidrs": list(SERVICE_EXAMPLE_CIDRS[service])}
    b.note(e, "service_name", "partly", f"the CIDRs of AWS's {service} prefix list are read from the account "
           "(aws ec2 get-managed-prefix-list-entries), not known offline",
           f"{', '.join(SERVICE_EXAMPLE_CIDRS[service])} (AWS's published us-east-1 ranges, as examples)", True)
    return name


def vpc_endpoints(b: "Builder", subnets: dict[str, dict[str, Any]],
                  prefix_lists: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Gateway endpoints (route tables + the service's prefix list) and interface endpoints (ENIs + SGs)."""
    out: dict[str, dict[str, Any]] = {}
    for e in b.of("aws_vpc_endpoint"):
        name, service = b.name_of(e), _service(e)
        kind = str(e.attrs.get("vpc_endpoint_type") or "Gateway").lower()
        b.extras["endpoints"].append({"name": name, "type": kind, "service": service or "?"})
        b.origin[f"vpc_endpoints.{name}"] = (e.file, e.address)
        if kind == "gateway":
            rts = [b.ref(x, "aws_route_table", "aws_default_route_table") for x in b.listify(e.attrs.get("route_table_ids"))]
            for a in b.of("aws_vpc_endpoint_route_table_association"):
                if b.ref(a.attrs.get("vpc_endpoint_id"), "aws_vpc_endpoint") is e:
                    rts.append(b.ref(a.attrs.get("route_table_id"), "aws_route_table", "aws_default_route_table"))
                    b.mark(a)
            names = [b.names[r.address] for r in rts if r is not None and r.address in b.names]
            pl = _prefix_list(b, e, service, prefix_lists)
            if pl is None:
                continue
            out[name] = {"service": service, "type": "gateway", "prefix_list": pl, "route_tables": list(dict.fromkeys(names))}
        elif kind == "interface":
            subs = [b.subnet_name(x) for x in b.listify(e.attrs.get("subnet_ids"))]
            for a in b.of("aws_vpc_endpoint_subnet_association"):
                if b.ref(a.attrs.get("vpc_endpoint_id"), "aws_vpc_endpoint") is e:
                    subs.append(b.subnet_name(a.attrs.get("subnet_id")))
                    b.mark(a)
            raw_enis = e.attrs.get("_enis")
            seen: dict[str, Any] = raw_enis if isinstance(raw_enis, dict) else {}  # AWS: subnet id -> ENI ip
            sub_ids = {b.names.get(r.address): r.id for r in b.subnet_res.values()}
            pinned = {b.subnet_name(c.get("subnet_id")): c.get("ipv4")  # Terraform: subnet_configuration blocks
                      for c in b.listify(e.attrs.get("subnet_configuration")) if isinstance(c, dict)}
            enis = []
            for sn in dict.fromkeys(s for s in subs if s):
                ip = _ip(pinned.get(sn)) or _ip(seen.get(sub_ids.get(sn, "")))
                if ip is None:
                    ip = str(b.next_ip(ipaddress.IPv4Network(subnets[sn]["cidr"]), 100))
                    b.note(e, "subnet_ids", "parsed", "AWS assigns the endpoint's network interface addresses",
                           f"{ip} in {sn}")
                else:
                    b.used_ips.add(ipaddress.IPv4Address(ip))
                enis.append({"subnet": sn, "ip": ip})
            sgs = b.eni_sgs(e, e.attrs.get("security_group_ids", []), "security_group_ids")
            out[name] = {"service": service, "type": "interface", "subnets": enis, "sgs": sgs,
                         "private_dns": e.attrs.get("private_dns_enabled") is True}
        else:
            b.note(e, "vpc_endpoint_type", "partly", f"a {kind} endpoint is not in tierlab's model", "left out", True)
            b.mark(e, "partly")
            continue
        b.mark(e, b.understood.get(e.address, "parsed"))
    return out
