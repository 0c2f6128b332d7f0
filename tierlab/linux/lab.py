"""A live namespaced copy of a topology: build it, apply what-ifs to it, send it real packets.

    lab = tl.linux.build(tl.load("seed"))       # about 0.3 s; namespaces named per session
    lab.connect("internet", "alb-node-az1", 443)   # Outcome('connected', ...)
    lab.apply(lab.topo.switch_off("nacl-public-in-100"))   # rewrites one nftables chain
    lab.counters("nacl-public-in-star")        # the rule that dropped the SYN, with its packets
    lab.close()                                # or `with tl.linux.build(...) as lab:`
"""

from __future__ import annotations

import contextlib
import errno
import json
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
from ..network.topology import Topology
from . import compile as C
from .netns import Session, enter, nft, popen_in, run_in, skip_reason

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
            with enter(self.session.ns(k)):
                for key, value in C.host_sysctls(p, k).items():
                    if key.startswith("net/ipv6/") and not os.path.exists("/proc/sys/net/ipv6"):
                        continue  # a kernel without IPv6 has no IPv6 chatter to silence
                    with open(f"/proc/sys/{key}", "w") as f:
                        f.write(value)
        run_in(self.ns("router"), ["ip", "-batch", "-"], C.router_batch(self.topo, p, sid))
        procs = [(self.ns("internet"), popen_in(self.ns("internet"), ["ip", "-batch", "-"], C.internet_batch(p)))]
        procs += [(self.ns(h.key), popen_in(self.ns(h.key), ["ip", "-batch", "-"], C.host_batch(h))) for h in p.hosts]
        _wait_all(procs, "ip")
        for k in p.keys:
            nft(self.ns(k), C.nft_script(self.topo, p, k))
        self._chains = C.mutable_chains(self.topo, p)
        self._routes = C.route_lines(self.topo, p)

    def listen(self, skip: Iterable[tuple[str, int]] = ()) -> None:
        """A plain TCP listener on every port each endpoint listens on (not those in ``skip``)."""
        skipped = set(skip)
        with enter(self.ns("internet")):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", C.INTERNET_ANSWERS))
            s.listen(4096)
            s.setblocking(False)
            self._listeners.append(s)
        for h in self.plan.hosts:
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

    # ------------------------------------------------------------------ what-ifs
    def apply(self, topo: Topology) -> float:
        """Bring the kernel to ``topo`` by rewriting only the chains (and tables) that changed.

        Returns the time it took in ms. A what-if that adds or moves an ENI needs a new lab.
        """
        t0 = time.perf_counter()
        new_plan = C.plan(topo)
        if new_plan != self.plan:
            raise TierlabError("this what-if changes the lab's namespaces (an ENI, subnet or listener moved)",
                               "build a new lab for it: tl.linux.build(topo)")
        chains = C.mutable_chains(topo, new_plan)
        by_ns: dict[str, list[str]] = {}
        for (key, chain), rules in chains.items():
            if self._chains.get((key, chain)) != rules:
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

    # ------------------------------------------------------------------ packets
    def _addr_of(self, src: str, dst: str) -> str:
        if dst == "internet":
            return str(self.plan.client_ip)
        h = self.plan.host(dst)
        if src == "internet" and h.public_ip is not None:
            return str(h.public_ip)
        return str(h.ip)

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
        the SYN and answered, but the answer never came back)."""
        sel = selectors.DefaultSelector()
        socks: dict[int, tuple[socket.socket, Probe, float]] = {}
        results: dict[int, Outcome] = {}
        by_src: dict[str, list[tuple[int, Probe]]] = {}
        for i, pr in enumerate(probes):
            by_src.setdefault(pr.src, []).append((i, pr))
        for src, items in by_src.items():
            with enter(self.ns(src)):
                for i, pr in items:
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
                    rc = s.connect_ex((self._addr_of(src, pr.dst), pr.port))
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
        pending = [i for i in socks if i not in results]
        seen = self._syn_seen({socks[i][1].dst for i in pending}) if pending else {}
        for i in pending:
            s, pr, t = socks[i]
            syn = (self._src_ip(pr.src), pr.src_port, pr.port)
            if pr.dst == "internet":  # seen after the gateway's NAT and the catch-all redirect
                pub = self.plan.host(pr.src).public_ip if pr.src != "internet" else None
                syn = (str(pub or self._src_ip(pr.src)), pr.src_port, C.INTERNET_ANSWERS)
            kind = "reply lost" if syn in seen.get(pr.dst, set()) else "timed out"
            results[i] = Outcome(pr, kind, timeout_s * 1000)
        for s, _, _ in socks.values():
            s.close()
        sel.close()
        self._drain()
        return [results[i] for i in range(len(probes))]

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
        self.session.close()

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<tierlab.linux.Lab {self.id}: {self.topo.name}, {len(self.plan.keys)} namespaces>"


def build(topo: Topology, *, listeners: bool = True, services: bool = False, pooled: bool = True,
          settings: dict[str, float] | None = None) -> Lab:
    """Build ``topo`` in Linux network namespaces (root on Linux only).

    ``services=True`` also starts PostgreSQL, the API servers and the ALB nodes inside them
    (``pooled=False``: the API servers open a new database connection per request; ``settings``
    overrides the ALB's lab timeouts, :data:`tierlab.linux.stack.LAB_SETTINGS`);
    ``listeners`` puts a plain TCP listener on every other port an endpoint listens on.
    """
    return Lab(topo, listeners=listeners, services=services, pooled=pooled, settings=settings)
