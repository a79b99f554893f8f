"""SIGTERM stops a node by itself, quickly, whatever is connected (issue 10, item 4).

One real node with three event streams, an idle connection and a half-sent
request open: it must exit with code 0 on its own (the launcher would SIGKILL it
after a generous grace period, and the exit code would say so). The time it took
is printed, not asserted: the design bound is a few seconds (api/server.py).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from node_harness import start_net

pytestmark = pytest.mark.slow


def _connect(port: int, request: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(request)
    return sock


def test_sigterm_stops_a_node_with_streams_and_idle_connections_open(tmp_path: Path) -> None:
    net = start_net(tmp_path / "devnet", 1)
    home = net.homes[0]
    port = int(home.api_url.rsplit(":", 1)[1])
    with net.devnet:
        net.wait_height([0], 2, 120.0)
        stream = f"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {home.pos_token}\r\n\r\n".encode()
        streams = [_connect(port, stream) for _ in range(3)]
        for sock in streams:
            received = b""
            while b": connected" not in received:
                chunk = sock.recv(4096)
                assert chunk, "the stream closed before it started"
                received += chunk
        others = [_connect(port, b""), _connect(port, b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")]
        started = time.monotonic()
        code = net.devnet.stop(0, grace_seconds=30.0)
        elapsed = time.monotonic() - started
        for sock in streams + others:
            sock.close()
        print(f"SIGTERM to exit with 3 event streams and 2 idle connections open: {elapsed:.2f} s")
        assert code == 0, f"the node did not exit by itself (exit code {code})"
        assert '"event": "node.stopped"' in home.home.joinpath("node.log").read_text()
