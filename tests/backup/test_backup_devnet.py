"""A validator backed up while it runs, killed, and restored on another folder, rejoins without signing twice.

Four validator processes on 127.0.0.1 (production round timeouts, a block at least every 2 s).
node3 is backed up while running (the snapshot is taken by the node itself), keeps
voting for several more blocks (so the backup's last-sign state is stale), and is
killed. Its backup is restored into a new folder and started: it first observes, is
fenced through the first block made well after the restore, then signs again: its
precommits appear in later certificates, every node agrees on every block, and no
block carries evidence of a double signature.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from backup_world import PASSPHRASE
from node_harness import Net, start_net

from config import ChainParams, write_atomically
from consensus.certificate import decode_certificate
from consensus.signer import FileLastSignStore
from fedow_node.backup import check_backup
from fedow_node.cli import main
from fedow_node.restore_guard import MARKER_FILE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def block(net: Net, index: int, height: int) -> dict[str, object]:
    with urllib.request.urlopen(f"{net.homes[index].api_url}/v1/blocks/{height}", timeout=10) as response:
        return json.loads(response.read())


def signers(net: Net, index: int, height: int) -> set[bytes]:
    return {sig.validator for sig in decode_certificate(bytes.fromhex(str(block(net, index, height)["certificate"]))).signatures}


def log_events(home: Path) -> list[dict[str, object]]:
    events = []
    for line in (home / "node.log").read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def test_a_restored_validator_rejoins_without_signing_twice(tmp_path: Path) -> None:
    net = start_net(tmp_path / "devnet", 4, params=replace(ChainParams(), heartbeat_ms=2_000))
    passphrase = tmp_path / "passphrase"
    write_atomically(passphrase, PASSPHRASE + "\n")
    backup = tmp_path / "node3.fdwbak"
    node3 = net.homes[3]
    with net.devnet:
        net.wait_height(range(4), 3, timeout=240)
        assert main(["backup", "--home", str(node3.home), "--out", str(backup), "--with-keys",
                     "--passphrase-file", str(passphrase)]) == 0
        backup_height = check_backup(backup, PASSPHRASE).height
        net.wait_height(range(4), backup_height + 4, timeout=240)  # node3 keeps voting after its backup
        last_before_death = FileLastSignStore(node3.home / "data" / "last_sign_state").load()
        net.devnet.kill(3)
        assert last_before_death is not None and last_before_death.height > backup_height

        restored = tmp_path / "new-box" / "node3"
        assert main(["restore", "--from", str(backup), "--home", str(restored),
                     "--passphrase-file", str(passphrase)]) == 0
        assert (restored / "data" / MARKER_FILE).exists()
        net.homes[3] = replace(node3, home=restored)
        net.devnet.homes[3] = net.homes[3]
        net.devnet.start(3)

        net.wait("the restored node3 to sign again", lambda: not (restored / "data" / MARKER_FILE).exists(), 300)
        fenced = next(e for e in log_events(restored) if e.get("event") == "restore.signing_again")["fenced_through"]
        assert isinstance(fenced, int) and fenced >= last_before_death.height
        net.wait("a block certified with node3's precommit after its fence",
                 lambda: any(node3.public_key in signers(net, 0, h) for h in range(fenced + 1, net.height(0) + 1)), 300)
        top = net.height(0)
        net.wait_height(range(4), top, timeout=120)
        net.assert_same_chain(range(4), top)
        assert all(block(net, 0, h)["evidence"] == 0 for h in range(1, top + 1))
        observed = [h for h in range(backup_height + 1, fenced + 1) if node3.public_key in signers(net, 0, h)]
        assert max(observed, default=0) <= last_before_death.height  # only the former node3 signed up to its death
        assert net.devnet.exited() == {}
