"""What tierlab asks Docker for, checked without an engine: the loopback only, never all interfaces.

(On a real engine, tests/db/test_db_docker.py reads the same back from the container's configuration.)
"""

import re
from pathlib import Path

import tierlab
from tierlab.db import DockerOptions
from tierlab.db.containers import LOOPBACK_BINDING, network_args


def test_the_bridge_mode_publishes_5432_on_127_0_0_1_only():
    from docker.utils import convert_port_bindings

    args = network_args(DockerOptions())
    assert args["ports"] == {"5432": LOOPBACK_BINDING} and args["network_mode"] is None
    # what the Docker SDK sends to the engine: HostIp 127.0.0.1 and a port Docker picks; never 0.0.0.0 or ''
    assert convert_port_bindings(args["ports"]) == {"5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}


def test_host_networking_publishes_nothing_and_listens_on_the_loopback():
    args = network_args(DockerOptions(host_network=True), 54321)
    assert args["ports"] == {} and args["network_mode"] == "host"
    assert args["command"] == ["postgres", "-c", "listen_addresses=127.0.0.1", "-c", "port=54321"]


def test_no_other_place_in_tierlab_publishes_a_port():
    """Code that talks to Docker publishes ports only through network_args (no stray ports= or -p)."""
    root = Path(tierlab.__file__).parent
    hits = []
    for f in root.rglob("*.py"):
        text = f.read_text()
        if not re.search(r"^\s*(import|from) (docker|testcontainers)", text, re.M):
            continue
        for line in text.splitlines():
            if re.search(r"with_bind_ports|with_exposed_ports|[\"']-p[\"']|\bports\s*=(?!=)", line) and not re.search(
                    r"network_args\(|args\[\"ports\"\]", line):
                hits.append(f"{f.relative_to(root)}: {line.strip()}")
    assert hits == [], hits
