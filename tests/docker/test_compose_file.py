"""docker-compose.yml stays consistent with the code it runs (quick checks; test_docker_devnet.py runs it).

The init service's command is run through the real CLI against a temporary folder in
place of the volume, with the port variables set as a test would set them; each
validator's command, health check and configuration are checked against the homes it
prepared: host network, everything bound on 127.0.0.1, the chosen ports.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import ChainParams, load_genesis, load_node_config
from fedow_node.cli import main
from fedow_node.devnet import Ports

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
VALIDATORS = [f"node{i}" for i in range(4)]
PORTS = Ports(p2p=41000, api=41010, metrics=41020)
VARIABLES = {"DEVNET_P2P_PORT": str(PORTS.p2p), "DEVNET_API_PORT": str(PORTS.api),
             "DEVNET_METRICS_PORT": str(PORTS.metrics), "DEVNET_IMAGE": "fedow-node:latest"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """``${VAR:-default}`` as docker-compose expands it."""
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: variables.get(m.group(1), m.group(2)), value)


def test_every_service_runs_the_one_image_on_the_host_network(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert sorted(services) == ["init", *VALIDATORS]
    for name, service in services.items():
        assert service["network_mode"] == "host" and "ports" not in service, name
        assert service["build"] == "." and service["image"] == "${DEVNET_IMAGE:-fedow-node:latest}", name
    for name in VALIDATORS:
        assert services[name]["depends_on"]["init"]["condition"] == "service_completed_successfully"
        assert services[name]["command"] == ["run", "--home", f"/data/{name}"]
        assert services[name]["healthcheck"]["test"] == ["CMD", "fedow-node", "status", "--home", f"/data/{name}"]


def test_the_init_service_prepares_homes_on_the_chosen_loopback_ports(compose: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    command = substitute(compose["services"]["init"]["command"], VARIABLES)
    assert command[command.index("--data") + 1] == "/data"
    command[command.index("--data") + 1] = str(tmp_path)
    assert main(command) == 0
    assert main(command) == 0  # a restart of the stack runs it again: keys and genesis are kept
    genesis = load_genesis(tmp_path / "genesis.json")
    assert len(genesis.validators) == len(VALIDATORS) and genesis.params == ChainParams()  # production pace
    for index, name in enumerate(VALIDATORS):
        config = load_node_config(tmp_path / name / "config.toml", env={})
        assert config.keys.validator and config.node.genesis.resolve() == (tmp_path / "genesis.json").resolve()
        assert config.p2p.listen == f"/ip4/127.0.0.1/tcp/{PORTS.p2p + index}"
        assert config.api.bind == f"127.0.0.1:{PORTS.api + index}"
        assert config.metrics.bind == f"127.0.0.1:{PORTS.metrics + index}"
