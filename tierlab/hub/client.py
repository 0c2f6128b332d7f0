"""Run code in a learner's kernel through the hub: the Jupyter Server REST API and the kernel's websocket.

What a browser tab does when a learner runs a cell, with a token instead of a cookie: start a kernel
(``POST /user/NAME/api/kernels``), send one ``execute_request`` on its channels websocket, collect the
output until the kernel is idle again, then shut the kernel down.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from ..errors import TierlabError

__all__ = ["run_code"]


def run_code(hub_url: str, learner: str, token: str, code: str | list[str], *, timeout_s: float = 120.0,
             shutdown: bool = True, kernel: str | None = None) -> str:
    """The printed output of ``code`` run in a new kernel of ``learner``'s server; TierlabError if it raised.

    ``code`` may be a list: cells run one after the other in the same kernel, as a notebook's do.
    ``shutdown=False`` leaves the kernel running (the benchmark measures its memory); ``kernel``: the id of a running
    kernel to run the code in instead (it is left running)."""
    return asyncio.run(asyncio.wait_for(_run(hub_url, learner, token, code, shutdown, kernel), timeout_s))


def _message(code: str, session: str) -> dict[str, Any]:
    return {
        "header": {"msg_id": uuid.uuid4().hex, "username": "tierlab", "session": session,
                   "msg_type": "execute_request", "version": "5.3",
                   "date": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }


async def _run(hub_url: str, learner: str, token: str, code: str | list[str], shutdown: bool,
               kernel: str | None = None) -> str:
    from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    base = f"{hub_url}/user/{learner}/api/kernels"
    headers = {"Authorization": f"token {token}"}
    http = AsyncHTTPClient()
    if kernel is not None:
        shutdown = False  # someone else's kernel: it stays
    else:
        try:
            resp = await http.fetch(base, method="POST", body="{}", headers=headers, request_timeout=120)
        except HTTPClientError as exc:
            raise TierlabError(f"{learner}'s server refused to start a kernel ({exc.code})",
                               "is the server running, and does the token have access to it?") from None
        kernel = str(json.loads(resp.body)["id"])
    try:
        ws = await websocket_connect(HTTPRequest(f"{base.replace('http', 'ws', 1)}/{kernel}/channels", headers=headers,
                                                 connect_timeout=120, request_timeout=120))  # twenty at once, 2 cores
        try:
            cells = [code] if isinstance(code, str) else code
            outs = []
            for i, cell in enumerate(cells):  # a failure names its cell: "cell 18 of 32"
                where = f" (cell {i} of {len(cells)})" if len(cells) > 1 else ""
                outs.append(await _execute(ws, cell, learner, where))
            return "".join(outs)
        finally:
            ws.close()
    finally:
        if shutdown:
            await http.fetch(f"{base}/{kernel}", method="DELETE", headers=headers, raise_error=False)


async def _execute(ws: Any, code: str, learner: str, where: str = "") -> str:
    msg = _message(code, uuid.uuid4().hex)
    await ws.write_message(json.dumps(msg))
    out: list[str] = []
    error: dict[str, Any] | None = None
    replied = idle = False
    while not (replied and idle):
        raw = await ws.read_message()
        if raw is None:
            raise TierlabError(f"{learner}'s kernel closed its connection while running code{where}", "see the hub's log")
        reply = json.loads(raw)
        if reply.get("parent_header", {}).get("msg_id") != msg["header"]["msg_id"]:
            continue
        kind, content = reply["msg_type"], reply["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            out.append(content["data"].get("text/plain", "") + "\n")
        elif kind == "error":
            error = content
        elif kind == "execute_reply":
            replied = True
            if content.get("status") == "error" and error is None:  # shown by a custom handler (tierlab's own)
                error = content
        elif kind == "status" and content.get("execution_state") == "idle":
            idle = True
    if error is not None:
        raise TierlabError(f"code in {learner}'s kernel{where} raised {error.get('ename', '?')}: {error.get('evalue', '')}",
                           "".join(out)[-500:] or "see the kernel's traceback")
    return "".join(out)
