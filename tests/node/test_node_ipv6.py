"""`fedow-node run` serves its API and metrics on an IPv6 address, ``[::1]:port`` (issue 10, item 6).

One real node process; its config binds the API and the metrics to the IPv6
loopback; the test reads both over IPv6 and stops the node by SIGTERM.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from config import dump_node_config, load_node_config, write_atomically
from node_harness import start_net

pytestmark = pytest.mark.slow


def _free_ipv6_port() -> int:
    with socket.socket(socket.AF_INET6) as sock:
        sock.bind(("::1", 0))
        return sock.getsockname()[1]


def test_run_binds_the_api_and_metrics_on_ipv6_loopback(tmp_path: Path) -> None:
    net = start_net(tmp_path / "devnet", 1, start=False)
    home = net.homes[0]
    api_port, metrics_port = _free_ipv6_port(), _free_ipv6_port()
    config = load_node_config(home.config_file)
    config = replace(config, api=replace(config.api, bind=f"[::1]:{api_port}"),
                     metrics=replace(config.metrics, bind=f"[::1]:{metrics_port}"))
    write_atomically(home.config_file, dump_node_config(config), mode=0o644)
    with net.devnet:
        net.devnet.start(0)

        def api_status() -> dict[str, object] | None:
            try:
                with urllib.request.urlopen(f"http://[::1]:{api_port}/v1/status", timeout=2) as response:
                    return json.loads(response.read())
            except OSError:
                return None

        net.wait("the API to answer on [::1]", lambda: (api_status() or {}).get("height", 0) >= 1, 120.0)
        with urllib.request.urlopen(f"http://[::1]:{metrics_port}/metrics", timeout=5) as response:
            assert b"fedow_" in response.read()
        assert net.devnet.stop(0) == 0
