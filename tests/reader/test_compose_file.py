"""docker-compose.yml stays consistent with the code it runs (no Docker engine here: we check, not run, it).

The init service's Python is run against a temporary folder in place of the
volume, and each validator's command and environment are checked against the
homes it prepared: valid configuration, distinct ports, host ports on 127.0.0.1.
Needs PyYAML; without it the module is reported as skipped (``-ra``), never silently.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from config import load_genesis, load_node_config

yaml = pytest.importorskip("yaml", reason="PyYAML (not yet in the test extra) parses docker-compose.yml")

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
VALIDATORS = [f"node{i}" for i in range(4)]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def env_of(service: dict[str, Any]) -> dict[str, str]:
    # ${VAR:-default} as docker compose expands it when VAR is unset
    return {key: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value) for key, value in service["environment"].items()}


def test_one_service_per_validator_built_from_the_dockerfile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert sorted(services) == ["init", *VALIDATORS]
    for name in VALIDATORS:
        assert services[name]["build"] == "." and services[name]["image"] == services["init"]["image"]
        assert services[name]["depends_on"]["init"]["condition"] == "service_completed_successfully"
        assert services[name]["command"] == ["run", "--home", f"/data/{name}"]


def test_published_ports_are_on_the_host_loopback_only(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        for mapping in service.get("ports", []):
            assert mapping.startswith("127.0.0.1:"), mapping


def test_the_init_service_prepares_homes_the_validators_can_run(compose: dict[str, Any], tmp_path: Path) -> None:
    entrypoint = compose["services"]["init"]["entrypoint"]
    assert entrypoint[:2] == ["python", "-c"]
    exec(entrypoint[2].replace("'/data'", repr(str(tmp_path))), {})  # noqa: S102 - our own compose file
    genesis = load_genesis(tmp_path / "genesis.json")
    assert len(genesis.validators) == len(VALIDATORS)
    published = {port for mapping in compose["services"]["node0"]["ports"]
                 for port in _port_range(mapping.split(":")[1])}
    binds = set()
    for name in VALIDATORS:
        service = compose["services"][name]
        assert service.get("network_mode", "service:node0") == "service:node0" or name == "node0"
        config = load_node_config(tmp_path / name / "config.toml", env=env_of(service))
        assert config.keys.validator and config.node.genesis.resolve() == (tmp_path / "genesis.json").resolve()
        assert config.p2p.listen.startswith("/ip4/127.0.0.1/")  # p2p stays inside the shared namespace
        for bind in (config.api.bind, config.metrics.bind):
            host, port = bind.rsplit(":", 1)
            assert host == "0.0.0.0" and int(port) in published, bind
            binds.add(int(port))
        healthcheck = service["healthcheck"]["test"]
        assert healthcheck[-1] == f"http://127.0.0.1:{config.api.bind.rsplit(':', 1)[1]}"
    assert len(binds) == 2 * len(VALIDATORS)


def _port_range(text: str) -> range:
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)
