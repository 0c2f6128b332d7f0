"""A live namespaced copy of a topology: build it, apply what-ifs to it, send it real packets.

    lab = tl.linux.build(tl.load("seed"))       # about 0.3 s; namespaces named per session
    lab.connect("internet", "alb-node-az1", 443)   # Outcome('connected', ...)
    lab.apply(lab.topo.switch_off("nacl-public-in-100"))   # rewrites one nftables chain
    lab.counters("nacl-public-in-star")        # the rule that dropped the SYN, with its packets
    lab.close()                                # or `with tl.linux.build(...) as lab:`

An Auto Scaling group's members are instances of the topology: each is built like a fixed server (a
namespace in its subnet, its security groups, a target of the ALB). What the group does over time is not
in the kernel; :meth:`Lab.unmirrored` (and the lab's repr) says so. A time of its timeline can be applied
(``lab.apply(timeline.topology_at(t))``): launched members get namespaces, terminated ones lose theirs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import ipaddress
import json
import re
import os
import random
import selectors
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from typing import Iterable, Literal, Sequence

from ..errors import TierlabError
from ..network.gateways import SERVICE_ADDRESSES
from ..network.topology import Topology
from . import compile as C
from .netns import Session, enter, nft, popen_in, remove_namespaces, run_in, skip_reason

__all__ = ["Lab", "build", "Probe", "Outcome", "OUTCOMES"]

OutcomeKind = Literal["connected", "timed out", "refused", "reply lost", "error"]
OUTCOMES: tuple[str, ...] = ("connected", "timed out", "refused", "reply lost")


@dataclass(frozen=True)
class Probe:
    """One TCP connection attempt: from ``src`` (an endpoint name) on ``src_port`` to ``dst:port``."""

    src: str
    dst: str
    port: int
    src_port: int


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    kind: str
    elapsed_ms: float
    detail: str = ""
    #: the source port a NAT gateway on the way gave the connection (read from its conntrack table)
    nat_port: int | None = None

    def __str__(self) -> str:
        p = self.probe
        return f"{p.src}:{p.src_port} -> {p.dst}:{p.port}: {self.kind} ({self.elapsed_ms:.1f} ms)"


def _wait_all(procs: Sequence[tuple[str, subprocess.Popen]], what: str) -> None:
    for ns, p in procs:
        _, err = p.communicate(getattr(p, "tl_input", None), timeout=30)
        if p.returncode != 0:
            raise TierlabError(f"{what} failed in namespace {ns}: {err.strip()[:400]}",
                               "this is a bug in tierlab.linux; please report it with the topology")


class Lab:
    """The topology in Linux namespaces. Build with :func:`build`; close when done."""

    def __init__(self, topo: Topology, *, listeners: bool = True, services: bool = False, pooled: bool = True,
                 settings: dict[str, float] | None = None) -> None:
        reason = skip_reason()
        if reason:
            raise TierlabError(f"cannot build the lab here: {reason}", "run on Linux as root, or skip the real packets")
        self.topo = topo
        self.plan = C.plan(topo)
        self.session = Session()
        self._chains: dict[tuple[str, str], list[str]] = {}
        self._routes: list[str] = []
        self._listeners: list[socket.socket] = []
        self._of_host: dict[str, list[socket.socket]] = {}  # each ENI's listeners (closed when it goes)
        self._listening = listeners
        self._next_iface = len(self.plan.hosts)  # router-side interfaces e0.. are taken; launches get the next
        self._used: set[tuple[str, str, int, int]] = set()
        self.build_ms = 0.0
        self.stack = None
        try:
            t0 = time.perf_counter()
            self._build()
            self.build_ms = (time.perf_counter() - t0) * 1000
            skip: list[tuple[str, int]] = []
            if services:
                from .stack import LAB_SETTINGS, Stack

                self.stack = Stack(self, pooled=pooled, settings={**LAB_SETTINGS, **(settings or {})}).start()
                skip = self.stack.ports()
            if listeners:
                self.listen(skip)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ names
    @property
    def id(self) -> str:
        return self.session.id

    def ns(self, key: str) -> str:
        """The namespace name of ``router``, ``internet`` or an endpoint."""
        if key not in self.plan.keys:
            raise TierlabError(f"no namespace for {key!r} in this lab",
                               f"namespaces: {', '.join(self.plan.keys)}")
        return self.session.ns(key)

    def namespaces(self) -> list[str]:
        return [self.session.ns(k) for k in self.plan.keys]

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        p, sid = self.plan, self.session.id
        run_in(None, ["ip", "-batch", "-"], "".join(f"netns add {self.session.ns(k)}\n" for k in p.keys))
        for k in p.keys:
            self._sysctls(k)
        run_in(self.ns("router"), ["ip", "-batch", "-"], C.router_batch(self.topo, p, sid))
        procs = [(self.ns("internet"), popen_in(self.ns("internet"), ["ip", "-batch", "-"], C.internet_batch(p)))]
        procs += [(self.ns(h.key), popen_in(self.ns(h.key), ["ip", "-batch", "-"], C.host_batch(h))) for h in p.hosts]
        procs += [(self.ns(g.key), popen_in(self.ns(g.key), ["ip", "-batch", "-"], C.gateway_batch(g, p)))
                  for g in p.gateways]
        _wait_all(procs, "ip")
        for k in p.keys:
            nft(self.ns(k), C.nft_script(self.topo, p, k))
        self._chains = C.mutable_chains(self.topo, p)
        self._routes = C.route_lines(self.topo, p)

    def _sysctls(self, k: str) -> None:
        with enter(self.session.ns(k)):
            for key, value in C.host_sysctls(self.plan, k).items():
                if key.startswith("net/ipv6/") and not os.path.exists("/proc/sys/net/ipv6"):
                    continue  # a kernel without IPv6 has no IPv6 chatter to silence
                with open(f"/proc/sys/{key}", "w") as f:
                    f.write(value)

    def listen(self, skip: Iterable[tuple[str, int]] = ()) -> None:
        """A plain TCP listener on every port each endpoint listens on (not those in ``skip``)."""
        skipped = set(skip)
        for key in self.plan.outside:  # the internet and each gateway endpoint's service answer every port
            with enter(self.ns(key)):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("0.0.0.0", C.INTERNET_ANSWERS))
                s.listen(4096)
                s.setblocking(False)
                self._listeners.append(s)
        for h in self.plan.hosts:
            self._listen_on(h, skipped)

    def _listen_on(self, h: C.Host, skipped: set[tuple[str, int]]) -> None:
        with enter(self.ns(h.key)):
            for port in h.listens:
                if (h.key, port) in skipped:
                    continue
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("0.0.0.0", port))
                s.listen(4096)
                s.setblocking(False)
                self._listeners.append(s)
                self._of_host.setdefault(h.key, []).append(s)

    # ------------------------------------------------------------------ what-ifs
    def apply(self, topo: Topology) -> float:
        """Bring the kernel to ``topo`` by rewriting only the chains (and tables) that changed.

        Instances may come and go (an Auto Scaling group's members at another time of its timeline,
        ``timeline.topology_at(t)``): one that goes loses its namespace, one that comes gets a new one, built
        as at the start. Returns the time it took in ms. A what-if that moves anything else (an ALB node,
        a NAT gateway, a subnet) needs a new lab, and so does a lab that runs services (its ALB nodes keep
        the targets they started with).
        """
        t0 = time.perf_counter()
        new_plan, gone, born = C.replan(self.plan, C.plan(topo), self._next_iface)
        if self.stack is not None and ((gone or born) or topo.alb.targets != self.topo.alb.targets):
            names = ", ".join(dict.fromkeys([h.key for h in (*gone, *born)] + sorted(
                set(topo.alb.targets) ^ set(self.topo.alb.targets))))
            raise TierlabError(f"this what-if launches, terminates, registers or deregisters instances ({names}) "
                               "in a lab that runs services: its ALB nodes keep the targets they started with",
                               "build a new lab for it: tl.linux.build(topo, services=True)")
        self._terminate(gone)
        self.plan = new_plan
        self._next_iface += len(born)
        self._launch(topo, born)
        fresh = {h.key for h in born}
        chains = C.mutable_chains(topo, new_plan)
        by_ns: dict[str, list[str]] = {}
        for (key, chain), rules in chains.items():
            if key not in fresh and self._chains.get((key, chain)) != rules:
                lines = by_ns.setdefault(key, [])
                lines.append(f"flush chain inet {C.TABLE} {chain}")
                lines += [f"add rule inet {C.TABLE} {chain} {r}" for r in rules]
        for k, v in by_ns.items():
            nft(self.ns(k), "\n".join(v) + "\n")
        routes = C.route_lines(topo, new_plan)
        if routes != self._routes:
            flush = [f"route flush table {t}" for _, t in new_plan.tables]
            run_in(self.ns("router"), ["ip", "-batch", "-"], "\n".join(flush + routes) + "\n")
        self._chains, self._routes, self.topo = chains, routes, topo
        return (time.perf_counter() - t0) * 1000

    def _launch(self, topo: Topology, born: Sequence[C.Host]) -> None:
        """Instances that come: their namespaces, links, addresses, security groups and listeners."""
        if not born:
            return
        run_in(None, ["ip", "-batch", "-"], "".join(f"netns add {self.session.ns(h.key)}\n" for h in born))
        for h in born:
            self._sysctls(h.key)
        run_in(self.ns("router"), ["ip", "-batch", "-"],
               "".join(f"{line}\n" for h in born for line in C.host_link_lines(h, self.plan, self.id)))
        _wait_all([(self.ns(h.key), popen_in(self.ns(h.key), ["ip", "-batch", "-"], C.host_batch(h))) for h in born], "ip")
        for h in born:
            nft(self.ns(h.key), C.nft_script(topo, self.plan, h.key))
            if self._listening:
                self._listen_on(h, set())

    def _terminate(self, gone: Sequence[C.Host]) -> None:
        """Instances that go: their listeners closed, their links and namespaces removed (as on AWS, their
        addresses then answer nothing)."""
        if not gone:
            return
        for h in gone:
            for s in self._of_host.pop(h.key, []):
                self._listeners.remove(s)
                s.close()
        run_in(self.ns("router"), ["ip", "-batch", "-"],
               "".join(f"{line}\n" for h in gone for line in C.host_unlink_lines(h, self.plan)))
        remove_namespaces([self.session.ns(h.key) for h in gone])

    # ------------------------------------------------------------------ packets
    def _addr_of(self, src: str, dst: str) -> str:
        addr, _ = self.destination(src, dst)
        if addr is None:
            raise TierlabError(f"{dst!r} does not resolve from {src}", "the VPC's DNS support is off: turn it on")
        return addr

    def destination(self, src: str, dst: str) -> tuple[str | None, str | None]:
        """Where a connection from ``src`` to ``dst`` goes: the address, and the namespace of the ENI
        that owns it (None: outside the VPC, where the route decides: the internet or a gateway
        endpoint's service). ``dst``: ``internet`` (the user's address), an ENI's name, an AWS service
        (``ssm``: resolved as the VPC's DNS would, private DNS of interface endpoints included; the
        address is None when nothing answers the name), or an IPv4 address."""
        if dst == "internet":
            return str(self.plan.client_ip), None
        keys = {h.key: h for h in self.plan.hosts}
        if dst in keys:
            h = keys[dst]
            return (str(h.public_ip) if src == "internet" and h.public_ip is not None else str(h.ip)), dst
        if dst in SERVICE_ADDRESSES:
            sub = None if src == "internet" else self.plan.host(src).subnet
            ep, _ = self.topo.resolve_service(dst, sub)
            if ep is None:
                return None, None
            return str(ep.ip), (ep.name if ep.name in keys else None)
        try:
            ip = ipaddress.IPv4Address(dst)
        except ValueError:
            raise TierlabError(f"no namespace or service {dst!r} in this lab",
                               f"an ENI ({', '.join(keys)}), internet, a service ({', '.join(SERVICE_ADDRESSES)}) "
                               "or an IPv4 address") from None
        owner = next((h.key for h in self.plan.hosts if h.ip == ip), None)
        return str(ip), owner

    def _src_ip(self, src: str) -> str:
        return str(self.plan.client_ip) if src == "internet" else str(self.plan.host(src).ip)

    def free_port(self, src: str, dst: str, port: int, lo: int, hi: int, rng: random.Random | None = None) -> int:
        """A client port in lo..hi not used before towards dst:port (so no old state interferes)."""
        r = rng or random
        for _ in range(min(200, 4 * (hi - lo + 1))):
            p = r.randint(lo, hi)
            if (src, dst, port, p) not in self._used:
                self._used.add((src, dst, port, p))
                return p
        raise TierlabError(f"no unused client port left in {lo}-{hi} from {src} to {dst}:{port}",
                           "build a fresh lab for more probes")

    def connect(self, src: str, dst: str, port: int, *, src_port: int | None = None,
                timeout_s: float = 0.1) -> Outcome:
        """One real TCP connection attempt (see :meth:`probe`)."""
        if src_port is None:
            eph = C.EPHEMERAL["linux"] if src == "internet" else self.plan.host(src).ephemeral
            src_port = self.free_port(src, dst, port, eph.lo, eph.hi)
        return self.probe([Probe(src, dst, port, src_port)], timeout_s=timeout_s)[0]

    def probe(self, probes: Sequence[Probe], *, timeout_s: float = 0.08) -> list[Outcome]:
        """Send every probe's SYN at once; classify each: connected, refused, timed out (the SYN
        was dropped before the destination's stack saw it) or reply lost (the destination saw
        the SYN and answered, but the answer never came back). A connection through a NAT gateway
        carries the source port the NAT gave it (``Outcome.nat_port``)."""
        sel = selectors.DefaultSelector()
        socks: dict[int, tuple[socket.socket, Probe, float]] = {}
        results: dict[int, Outcome] = {}
        by_src: dict[str, list[tuple[int, Probe]]] = {}
        where: dict[int, tuple[str, str | None]] = {}
        for i, pr in enumerate(probes):
            by_src.setdefault(pr.src, []).append((i, pr))
        for src, items in by_src.items():
            with enter(self.ns(src)):
                for i, pr in items:
                    addr, owner = self.destination(src, pr.dst)
                    if addr is None:
                        results[i] = Outcome(pr, "error", 0.0, f"{pr.dst} does not resolve (the VPC's DNS support is off)")
                        continue
                    where[i] = (addr, owner)
                    s = socket.socket()
                    s.setblocking(False)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    try:
                        s.bind((self._src_ip(src), pr.src_port))
                    except OSError as exc:
                        s.close()
                        results[i] = Outcome(pr, "error", 0.0, f"bind: {exc}")
                        continue
                    t = time.perf_counter()
                    rc = s.connect_ex((addr, pr.port))
                    if rc not in (0, errno.EINPROGRESS):
                        results[i] = Outcome(pr, "error", 0.0, errno.errorcode.get(rc, str(rc)))
                        s.close()
                        continue
                    socks[i] = (s, pr, t)
                    sel.register(s, selectors.EVENT_WRITE, i)
        deadline = time.perf_counter() + timeout_s
        # Until the deadline, then one last look (select(0)): what the kernel finished while this process
        # was not running (a busy machine) counts; only the kernel's own progress decides an outcome.
        last = False
        while len(results) < len(probes) and not last:
            left = deadline - time.perf_counter()
            last = left <= 0
            for key, _ in sel.select(max(left, 0)):
                i = key.data
                s, pr, t = socks[i]
                sel.unregister(s)
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                ms = (time.perf_counter() - t) * 1000
                kind = "connected" if err == 0 else "refused" if err == errno.ECONNREFUSED else "error"
                results[i] = Outcome(pr, kind, ms, "" if kind != "error" else errno.errorcode.get(err, str(err)))
        out_of_vpc = [i for i in socks if where[i][1] is None and socks[i][1].src != "internet"]
        nat_ports = self._nat_ports() if out_of_vpc and any(h.kind == "nat" for h in self.plan.hosts) else {}
        for i in out_of_vpc:
            pr = socks[i][1]
            port = nat_ports.get((self._src_ip(pr.src), pr.src_port, where[i][0], pr.port))
            if port is not None and i in results:
                results[i] = dataclasses.replace(results[i], nat_port=port)
            where[i] = (where[i][0], None) if port is None else (where[i][0], f"nat:{port}")
        pending = [i for i in socks if i not in results]
        dsts = {where[i][1] or "outside" for i in pending}
        seen = self._syn_seen({d for d in dsts if not d.startswith(("outside", "nat:"))}
                              | (set(self.plan.outside) if any(d.startswith(("outside", "nat:")) for d in dsts) else set()))
        outside = set().union(*(seen.get(k, set()) for k in self.plan.outside)) if pending else set()
        for i in pending:
            s, pr, t = socks[i]
            owner = where[i][1]
            if owner is not None and not owner.startswith("nat:"):  # an ENI: its own stack saw the SYN or not
                src_ip = str(self.plan.client_ip) if pr.src == "internet" else self._src_ip(pr.src)
                got = (src_ip, pr.src_port, pr.port) in seen.get(owner, set())
            else:  # outside the VPC: seen after the gateway's NAT (and a NAT gateway's) and the catch-all redirect
                h = self.plan.host(pr.src)
                keys = {(str(h.public_ip or h.ip), pr.src_port, C.INTERNET_ANSWERS), (str(h.ip), pr.src_port, C.INTERNET_ANSWERS)}
                if owner is not None:
                    nat_port = int(owner.split(":")[1])
                    keys |= {(str(n.public_ip), nat_port, C.INTERNET_ANSWERS) for n in self.plan.hosts if n.kind == "nat"}
                got = bool(keys & outside)
            results[i] = Outcome(pr, "reply lost" if got else "timed out", timeout_s * 1000,
                                 nat_port=int(owner.split(":")[1]) if owner and owner.startswith("nat:") else None)
        for s, _, _ in socks.values():
            s.close()
        sel.close()
        self._drain()
        return [results[i] for i in range(len(probes))]

    def _nat_ports(self) -> dict[tuple[str, int, str, int], int]:
        """(source, source port, destination, port) -> the source port each NAT gateway gave the
        connection, from the NAT namespaces' connection-tracking tables."""
        out: dict[tuple[str, int, str, int], int] = {}
        pat = re.compile(r"src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)")
        for h in self.plan.hosts:
            if h.kind != "nat":
                continue
            with enter(self.ns(h.key)):  # the namespace's own table (no conntrack process: ~100 ms saved per read)
                with open("/proc/thread-self/net/nf_conntrack") as f:
                    text = f.read()
            for line in text.splitlines():
                tuples = pat.findall(line)
                if " tcp " not in line or len(tuples) != 2:
                    continue
                (a, b, sp, dp), (_, _, _, nat) = tuples
                key = (a, int(sp), b, int(dp))
                # an earlier attempt with the same ports ended with a reset (CLOSE); the live one wins
                if key not in out or " CLOSE " not in line:
                    out[key] = int(nat)
        return out

    def _syn_seen(self, dsts: set[str]) -> dict[str, set[tuple[str, int, int]]]:
        out: dict[str, set[tuple[str, int, int]]] = {}
        for d in dsts:
            text = nft(self.ns(d), "list set inet tierlab_probe syn", json_out=True)
            nft(self.ns(d), "flush set inet tierlab_probe syn")  # read once: the next batch starts empty
            found = set()
            for item in json.loads(text or "{}").get("nftables", []):
                for e in item.get("set", {}).get("elem", []):
                    val = e.get("elem", {}).get("val", e) if isinstance(e, dict) else e
                    parts = val.get("concat") if isinstance(val, dict) else None
                    if parts and len(parts) == 3:
                        found.add((str(parts[0]), int(parts[1]), int(parts[2])))
            out[d] = found
        return out

    def _drain(self) -> None:
        for ls in self._listeners:
            while True:
                try:
                    conn, _ = ls.accept()
                except (BlockingIOError, OSError):
                    break
                conn.close()

    # ------------------------------------------------------------------ looking inside
    def ruleset(self, key: str) -> str:
        """The live nftables ruleset of one namespace, as ``nft list ruleset`` prints it."""
        return nft(self.ns(key), "list ruleset")

    def chain(self, key: str, chain: str) -> list[str]:
        """The rules tierlab wrote into one chain (``sg_in``/``sg_out`` of an ENI, a router NACL chain)."""
        try:
            return list(self._chains[(key, chain)])
        except KeyError:
            names = sorted({c for k, c in self._chains if k == key})
            raise TierlabError(f"no chain {chain!r} in namespace {key!r}", f"chains there: {', '.join(names)}") from None

    def counters(self, rule_id: str | None = None):
        """Every counted nftables rule (namespace, chain, rule id, packets, bytes); or one rule's."""
        import pandas as pd

        rows = []
        for k in self.plan.keys:
            data = json.loads(nft(self.ns(k), "list ruleset", json_out=True) or "{}")
            for item in data.get("nftables", []):
                rule = item.get("rule")
                if not rule or "comment" not in rule:
                    continue
                ctr = next((e["counter"] for e in rule.get("expr", []) if isinstance(e, dict) and "counter" in e), None)
                if ctr is None:
                    continue
                rows.append({"namespace": k, "chain": rule["chain"], "rule": rule["comment"],
                             "packets": ctr["packets"], "bytes": ctr["bytes"]})
        df = pd.DataFrame(rows, columns=["namespace", "chain", "rule", "packets", "bytes"])
        return df[df["rule"] == rule_id].reset_index(drop=True) if rule_id else df

    def conntrack(self, key: str) -> list[str]:
        """The connection-tracking table of one namespace (what lets replies back through an SG)."""
        return [l for l in run_in(self.ns(key), ["conntrack", "-L"], check=False).splitlines() if l.strip()]

    @contextlib.contextmanager
    def capture(self, key: str, expr: str = "tcp", iface: str = "eth0"):
        """Capture packets in one namespace while the block runs; the list fills on exit."""
        lines: list[str] = []
        p = popen_in(self.ns(key), ["tcpdump", "-i", iface, "-n", "-l", "-tt", "-S", expr])
        time.sleep(0.3)  # tcpdump needs a moment to attach
        try:
            yield lines
        finally:
            time.sleep(0.1)
            p.terminate()
            out, _ = p.communicate(timeout=10)
            lines += [l for l in out.splitlines() if l.strip()]

    # ------------------------------------------------------------------ life
    def create_account(self, name: str, email: str, **kw):
        """A real Create Account from the internet namespace (needs ``services=True``)."""
        return self._need_stack().create_account(name, email, **kw)

    def request(self, method: str, path: str, body=None, **kw):
        return self._need_stack().request(method, path, body, **kw)

    def _need_stack(self):
        if self.stack is None:
            raise TierlabError("this lab runs no services", "build it with tl.linux.build(topo, services=True)")
        return self.stack

    def close(self) -> None:
        if self.stack is not None:
            self.stack.stop()
        for s in self._listeners:
            s.close()
        self._listeners = []
        self._of_host = {}
        self.session.close()

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def unmirrored(self) -> tuple[tuple[str, str], ...]:
        """What of the lab's topology the kernel leaves out, (what, reason) each: an Auto Scaling group's
        own behaviour (its members are here, as fixed servers). Also in the repr and in
        ``tl.linux.limits_frame(lab.topo)``."""
        return C.unmirrored(self.topo)

    def __repr__(self) -> str:
        left_out = "".join(f"; not mirrored: {what}'s scaling (lab.unmirrored())" for what, _ in self.unmirrored())
        return f"<tierlab.linux.Lab {self.id}: {self.topo.name}, {len(self.plan.keys)} namespaces{left_out}>"


def build(topo: Topology, *, listeners: bool = True, services: bool = False, pooled: bool = True,
          settings: dict[str, float] | None = None) -> Lab:
    """Build ``topo`` in Linux network namespaces (root on Linux only).

    ``services=True`` also starts PostgreSQL, the API servers and the ALB nodes inside them
    (``pooled=False``: the API servers open a new database connection per request; ``settings``
    overrides the ALB's lab timeouts, :data:`tierlab.linux.stack.LAB_SETTINGS`);
    ``listeners`` puts a plain TCP listener on every other port an endpoint listens on.
    """
    return Lab(topo, listeners=listeners, services=services, pooled=pooled, settings=settings)
