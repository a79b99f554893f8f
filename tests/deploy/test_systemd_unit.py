"""deploy/fedow-node.service passes systemd's own checks and keeps the promises docs/install.md makes.

There is no running systemd on the test machines: ``systemd-analyze verify`` loads the
unit (ExecStart pointed at this checkout's fedow-node, since /opt/fedow-node is not
installed here) and ``systemd-analyze security --offline`` scores its sandbox. Running
the service itself is checked by hand on a Debian box (docs/install.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fedow_node.commands.run import HALTED_EXIT_CODE
from fedow_node.protocol import UPGRADE_EXIT_CODE

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "fedow-node.service"
INSTALLED_NODE = "/opt/fedow-node/bin/fedow-node"
MAX_EXPOSURE = 20
"""``systemd-analyze security`` scale (0-100): 20 is 2.0, "OK"; the unit scores 1.4."""


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    checked = tmp_path / UNIT.name
    checked.write_text(UNIT.read_text().replace(INSTALLED_NODE, str(Path(sys.executable).parent / "fedow-node")))
    return checked


def settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=120)


def test_systemd_verifies_the_unit(unit: Path) -> None:
    result = analyze("verify", str(unit))
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_sandbox_scores_ok(unit: Path) -> None:
    result = analyze("security", "--offline=true", f"--threshold={MAX_EXPOSURE}", str(unit))
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Overall exposure level for fedow-node.service" in result.stdout


def test_own_user_read_only_system_data_under_var_lib() -> None:
    unit = settings()
    assert unit["User"] == ["fedow"] and unit["Group"] == ["fedow"]
    assert unit["ExecStart"] == [f"{INSTALLED_NODE} --log-format json run --home /var/lib/fedow-node"]
    assert unit["StateDirectory"] == ["fedow-node"] and unit["StateDirectoryMode"] == ["0700"]
    for key, value in (("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("NoNewPrivileges", "yes"),
                       ("PrivateDevices", "yes"), ("CapabilityBoundingSet", "")):
        assert unit[key] == [value], key
    assert "ReadWritePaths" not in unit  # nothing writable but the state directory


def test_no_restart_after_a_halt_or_an_upgrade_this_release_cannot_follow() -> None:
    assert settings()["RestartPreventExitStatus"] == [f"{HALTED_EXIT_CODE} {UPGRADE_EXIT_CODE}"]
