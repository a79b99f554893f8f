"""The repository's docker-compose.yml run as a project of its own: free ports, bounded waits, always torn down.

Every container uses the host's network and binds 127.0.0.1 only, on ports chosen at
run time (DEVNET_*_PORT). The project name is unique to the test run, so ``down -v``
removes only its own containers and volume.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from fedow_node.devnet import Ports

ROOT = Path(__file__).resolve().parents[2]
SERVICES = [f"node{i}" for i in range(4)]


@dataclass
class ComposeStack:
    root: Path
    image: str
    ports: Ports
    project: str

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DEVNET_IMAGE": self.image, "DEVNET_P2P_PORT": str(self.ports.p2p),
                "DEVNET_API_PORT": str(self.ports.api), "DEVNET_METRICS_PORT": str(self.ports.metrics),
                "FEDOW_READER_ENABLED": "false"}

    def api_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports.api + index}"

    def compose(self, *args: str, timeout: float = 180) -> str:
        result = subprocess.run(["docker-compose", "-p", self.project, "-f", str(self.root / "docker-compose.yml"),
                                 *args], cwd=self.root, env=self.env, capture_output=True, text=True,
                                timeout=timeout)
        assert result.returncode == 0, f"docker-compose {' '.join(args)}: {result.stdout}\n{result.stderr}"
        return result.stdout

    def container(self, service: str) -> str:
        return self.compose("ps", "-q", service).strip()

    def inspect(self, service: str, template: str) -> str:
        result = subprocess.run(["docker", "inspect", "-f", template, self.container(service)], capture_output=True,
                                text=True, timeout=60)
        return result.stdout.strip() if result.returncode == 0 else f"<{result.stderr.strip()}>"

    def health(self) -> dict[str, str]:
        return {service: self.inspect(service, "{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}"
                                               "{{else}}none{{end}}") for service in SERVICES}

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        health = self.health()
        while time.monotonic() < deadline:
            if all(state == "running/healthy" for state in health.values()):
                return
            time.sleep(2.0)
            health = self.health()
        raise AssertionError(f"not all healthy after {timeout:.0f} s: {health}\n{self.logs()}")

    def exit_codes(self) -> dict[str, str]:
        return {service: self.inspect(service, "{{.State.Status}} {{.State.ExitCode}}") for service in SERVICES}

    def logs(self, tail: int = 30) -> str:
        try:
            return self.compose("logs", "--no-color", "--tail", str(tail), timeout=60)
        except (AssertionError, subprocess.TimeoutExpired) as exc:
            return f"(no logs: {exc})"

    def down(self) -> None:
        """Remove the project's containers and volume (its chain and keys); never fails the test by itself."""
        subprocess.run(["docker-compose", "-p", self.project, "-f", str(self.root / "docker-compose.yml"), "down",
                        "-v", "--remove-orphans", "--timeout", "30"], cwd=self.root, env=self.env,
                       capture_output=True, timeout=180)
