"""Fixtures of the Docker tests: this machine provisioned, the image built, all under one machine-wide lock.

dockerd is one per machine and the image's tag is shared, so every checkout's Docker
tests take ``/tmp/fedow-tests-docker.lock`` while they provision, build and run compose
(another checkout's run waits a few minutes instead of colliding). The machine is
provisioned by the project's own scripts, as on a fresh CI machine: scripts/docker-host.sh
(packages, dockerd, the debootstrapped base image) and scripts/docker-image.sh (wheels on
the host, then the Dockerfile). What they leave behind (the daemon, the base image, the
wheels, Docker's layer cache) is what makes a second run quick.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

LOCK = Path("/tmp/fedow-tests-docker.lock")
IMAGE = "fedow-node:test"
sys.path.append(str(Path(__file__).resolve().parent))
from compose_stack import ROOT  # noqa: E402


def run_script(name: str, *args: str, timeout: float) -> float:
    """Run scripts/<name>; fail with its output if it fails. Returns its duration in seconds."""
    started = time.monotonic()
    result = subprocess.run(["bash", str(ROOT / "scripts" / name), *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=timeout, env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 0, f"scripts/{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return time.monotonic() - started


@pytest.fixture(scope="session")
def docker_lock() -> Iterator[None]:
    """The machine's Docker slot, held for the whole session of Docker tests."""
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def docker_image(docker_lock: None) -> Iterator[str]:
    """The image of this checkout, built by the project's scripts on a provisioned machine; its tag."""
    provision = run_script("docker-host.sh", timeout=900)
    build = run_script("docker-image.sh", IMAGE, timeout=1200)
    print(f"\ndocker: machine provisioned in {provision:.0f} s, image built in {build:.0f} s")
    yield IMAGE
