"""The real AWS CLI (awscli's own driver, the code behind the ``aws`` command) for a bash script,
without starting a hundred interpreters on a busy machine: this process loads the CLI, its plugins
and the service models once, then forks one child per command, so that each command starts from
the same clean state a new ``aws`` process has (the CLI keeps per-command state in its session:
one command's handlers must not see the next command's arguments).

Started by tests/network/test_export_awscli_moto.py; prints its loopback port, then serves one
command per connection: the bash function ``aws`` (see ``SHIM``) sends ``argc\\0arg\\0...`` and
reads back ``exit status\\n`` and the command's stdout. stderr goes to this process's stderr.
Requests go to ``--endpoint-url $AWS_ENDPOINT_URL`` (moto's server on 127.0.0.1), added to each
command as a user pointing the CLI at a test endpoint does: the environment variable alone is
not enough for ``aws rds``, whose customization picks its own endpoint.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import sys

#: Sourced by bash (BASH_ENV) before the exported script runs: ``aws`` is this function.
SHIM = r"""
aws() {
  local fd rc
  exec {fd}<>"/dev/tcp/127.0.0.1/${TL_AWS_RUNNER_PORT:?}"
  printf '%s\0' "$#" "$@" >&"$fd"
  { IFS= read -r rc; cat; } <&"$fd"
  exec {fd}>&-
  return "$rc"
}
"""


def _read_argv(conn: socket.socket) -> list[str]:
    buf = b""
    while True:
        parts = buf.split(b"\0")
        if len(parts) > 1 and parts[0].isdigit() and len(parts) - 1 >= int(parts[0]) + 1:
            return [p.decode() for p in parts[1: int(parts[0]) + 1]]
        chunk = conn.recv(65536)
        if not chunk:
            return []
        buf += chunk


def _cache_client_classes() -> None:
    """Each command builds its client's Python class from the service model again (a tenth of a
    second per command here); the class for a service never changes within this process, so it is
    built once. What is sent, and how the answer is printed, is untouched."""
    try:
        from awscli.botocore.client import ClientCreator  # awscli >= 1.44 carries its own botocore
    except ImportError:  # pragma: no cover - older awscli uses the installed botocore
        from botocore.client import ClientCreator
    build = ClientCreator._create_client_class
    cache: dict[str, type] = {}

    def cached(self: ClientCreator, service_name: str, service_model: object) -> type:
        if service_name not in cache:
            cache[service_name] = build(self, service_name, service_model)
        return cache[service_name]

    ClientCreator._create_client_class = cached  # type: ignore[method-assign]


def main() -> None:
    from awscli.clidriver import create_clidriver

    _cache_client_classes()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    driver = create_clidriver()  # the plugins, the service models and the command tables, loaded once
    for service in ("ec2", "elbv2", "rds", "autoscaling"):  # warm what every child needs, before forking
        driver.session.create_client(service, region_name="us-east-1")
        driver._get_command_table()[service]._get_command_table()
    print(srv.getsockname()[1], flush=True)
    while True:
        conn, _ = srv.accept()
        with conn:
            argv = _read_argv(conn)
            if argv == ["__quit__"]:
                break
            if not argv:
                continue
            if os.environ.get("AWS_ENDPOINT_URL") and "--endpoint-url" not in argv:
                argv = [*argv, "--endpoint-url", os.environ["AWS_ENDPOINT_URL"]]
            pid = os.fork()
            if pid == 0:  # the command, in a child that starts from the warm, untouched parent
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    try:
                        rc = driver.main(argv)  # the parent's driver, untouched: each child gets its copy
                    except SystemExit as exc:  # argparse errors exit like the real command
                        rc = exc.code if isinstance(exc.code, int) else 1
                sys.stderr.write(f"$ aws {' '.join(argv)}\n  -> {rc}\n{err.getvalue()}")
                sys.stderr.flush()
                conn.sendall(f"{rc}\n".encode() + out.getvalue().encode())
                conn.close()
                os._exit(0)
            os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
