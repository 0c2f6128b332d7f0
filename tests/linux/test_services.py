"""The ALB node's rules on loopback (no namespaces needed): fail-open, 502, 503, 504."""

from __future__ import annotations

import asyncio
import socket

from tierlab.linux.services import AlbNode


def _cfg(targets, **kw):
    cfg = {"name": "alb-node-test", "targets": targets, "health_path": "/health", "health_port": 0,
           "health_interval_s": 1.0, "health_timeout_s": 0.2, "healthy_threshold": 2, "unhealthy_threshold": 2,
           "connect_timeout_s": 0.5, "idle_timeout_s": 0.3, "client": "203.0.113.10"}
    cfg.update(kw)
    return cfg


def _status(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_registered_target_is_a_503():
    node = AlbNode(_cfg([]))
    raw = asyncio.run(node.forward("POST", "/api/users", {}, b"{}", 0.0))
    assert _status(raw) == 503 and b"no registered targets" in raw


def test_round_robin_over_healthy_targets_and_fail_open_when_none_is():
    node = AlbNode(_cfg(["10.0.2.45:3000", "10.0.3.67:3000", "10.0.3.89:3000"]))
    node.healthy["10.0.3.67:3000"] = False
    assert {node.choose() for _ in range(6)} == {"10.0.2.45:3000", "10.0.3.89:3000"}
    node.healthy = {t: False for t in node.targets}
    assert {node.choose() for _ in range(6)} == set(node.targets)  # all unhealthy: fail open


def test_a_refused_connection_is_a_502():
    node = AlbNode(_cfg([f"127.0.0.1:{_free_port()}"]))
    raw = asyncio.run(node.forward("POST", "/api/users", {}, b"{}", 0.0))
    assert _status(raw) == 502 and b"refused" in raw


def test_a_target_that_says_nothing_is_a_504_at_the_idle_timeout():
    async def go() -> bytes:
        async def silent(reader, writer):
            await asyncio.sleep(5)

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        node = AlbNode(_cfg([f"127.0.0.1:{port}"]))
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        raw = await node.forward("POST", "/api/users", {}, b"{}", 0.0)
        assert 0.25 <= loop.time() - t0 < 2
        server.close()
        return raw

    raw = asyncio.run(go())
    assert _status(raw) == 504 and b"idle timeout" in raw


def test_health_checks_mark_a_target_down_after_the_unhealthy_threshold():
    async def go() -> AlbNode:
        node = AlbNode(_cfg([f"127.0.0.1:{_free_port()}"], health_interval_s=0.01))
        task = asyncio.ensure_future(node.health_loop())
        for _ in range(200):
            await asyncio.sleep(0.01)
            if not node.healthy[node.targets[0]]:
                break
        task.cancel()
        return node

    node = asyncio.run(go())
    assert node.healthy[node.targets[0]] is False and node.bad_streak[node.targets[0]] >= 2
