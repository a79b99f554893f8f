"""Backup and restore of a stopped node home: what goes in, what comes back, and every refusal.

(A running node's backup, and a restored validator rejoining, are in test_backup_devnet.py.)
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import msgpack
import pytest
from backup_world import PASSPHRASE, Home

from config import load_genesis, load_node_config
from fedow_node.backup import BackupError, check_backup, make_backup, restore_backup
from fedow_node.cli import main
from fedow_node.node import NodeFiles
from fedow_node.restore_guard import MARKER_FILE, RestoreGuard
from storage import Store
from wallet.keys import read_key_file


def entries_of(data_dir: Path) -> list[tuple[bytes, bytes]]:
    with Store.open(NodeFiles(data_dir).store) as store:
        return list(store.export_entries())


def test_a_restored_home_holds_the_same_chain_keys_and_settings(home: Home, tmp_path: Path) -> None:
    backup = tmp_path / "node.fdwbak"
    made = make_backup(home.path, backup, PASSPHRASE)
    assert (made.height, made.keys, made.from_running_node) == (home.sample.height, True, False)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600

    restored_home = tmp_path / "elsewhere" / "node"
    restored = restore_backup(backup, restored_home, PASSPHRASE)
    assert (restored.height, restored.validator, restored.keys) == (home.sample.height, True, ("node.key", "place.key"))
    assert entries_of(restored_home / "data") == entries_of(home.path / "data")
    assert read_key_file(restored_home / "node.key") == home.sample.validator
    assert read_key_file(restored_home / "place.key") == home.place_key
    config = load_node_config(restored_home / "config.toml", env={})
    assert config.node.data_dir == restored_home / "data" and config.node.genesis == restored_home / "genesis.json"
    assert config.node.moniker == "sample" and config.keys.validator
    assert load_genesis(config.node.genesis) == home.sample.genesis
    for name in ("api-tokens.json", "data/last_sign_state"):
        assert (restored_home / name).read_bytes() == (home.path / name).read_bytes(), name
    for name in ("idempotency.sqlite", "offline.sqlite"):
        with closing(sqlite3.connect(restored_home / "data" / name)) as db:
            assert db.execute("SELECT key, txid FROM keys").fetchall() == [(name, b"\x01")]
    guard = RestoreGuard.load(restored_home / "data")
    assert guard is not None and guard.restored_ms > restored.created_ms
    assert sorted(p.name for p in restored_home.iterdir()) == ["api-tokens.json", "config.toml", "data",
                                                                 "genesis.json", "node.key", "place.key"]


def test_without_a_passphrase_no_key_goes_in(home: Home, tmp_path: Path) -> None:
    backup = tmp_path / "node.fdwbak"
    assert not make_backup(home.path, backup, None).keys
    raw = gzip.decompress(backup.read_bytes())
    for key in (home.sample.validator, home.place_key):
        assert key.seed.hex().encode() not in raw and key.seed not in raw
    restored = restore_backup(backup, tmp_path / "restored", None)
    assert restored.keys == () and not (tmp_path / "restored" / "node.key").exists()


def test_sealed_keys_do_not_show_in_the_file(home: Home, tmp_path: Path) -> None:
    backup = tmp_path / "node.fdwbak"
    make_backup(home.path, backup, PASSPHRASE)
    raw = gzip.decompress(backup.read_bytes())
    assert home.sample.validator.seed.hex().encode() not in raw and home.sample.validator.seed not in raw


def test_a_wrong_or_missing_passphrase_restores_nothing(home: Home, tmp_path: Path) -> None:
    backup = tmp_path / "node.fdwbak"
    make_backup(home.path, backup, PASSPHRASE)
    target = tmp_path / "restored"
    with pytest.raises(BackupError) as wrong:
        restore_backup(backup, target, "not the passphrase at all")
    assert wrong.value.code == "wrong_passphrase"
    with pytest.raises(BackupError) as missing:
        restore_backup(backup, target, None)
    assert missing.value.code == "passphrase_needed"
    assert not target.exists()
    target.mkdir()  # an empty home made beforehand (by root, for the node's user) stays, empty
    with pytest.raises(BackupError):
        restore_backup(backup, target, "not the passphrase at all")
    assert target.is_dir() and not any(target.iterdir())


def test_a_short_passphrase_is_refused(home: Home, tmp_path: Path) -> None:
    with pytest.raises(BackupError) as refused:
        make_backup(home.path, tmp_path / "node.fdwbak", "short")
    assert refused.value.code == "weak_passphrase" and not (tmp_path / "node.fdwbak").exists()


def test_a_restore_never_writes_into_a_used_folder(home: Home, tmp_path: Path) -> None:
    backup = tmp_path / "node.fdwbak"
    make_backup(home.path, backup, None)
    with pytest.raises(BackupError) as refused:
        restore_backup(backup, home.path, None)
    assert refused.value.code == "home_not_empty"
    assert entries_of(home.path / "data")  # untouched


def _rewrite(backup: Path, change: object) -> None:
    """Re-pack the backup's objects through ``change(objects)``."""
    objects = list(msgpack.Unpacker(gzip.open(backup), raw=False))
    change(objects)  # type: ignore[operator]
    backup.write_bytes(gzip.compress(b"".join(msgpack.packb(o, use_bin_type=True) for o in objects)))


@pytest.mark.parametrize("damage, message", [
    (lambda objects: objects.pop(), "ends before the end of the chain"),
    (lambda objects: objects[5].__setitem__(1, objects[5][1] + b"x"), "does not match the digest"),
    (lambda objects: objects.pop(5), "does not match the digest"),
    (lambda objects: objects[0].__setitem__("version", 99), "format version 99"),
])
def test_a_damaged_backup_is_refused_and_leaves_nothing(home: Home, tmp_path: Path, damage: object,
                                                        message: str) -> None:
    backup = tmp_path / "node.fdwbak"
    make_backup(home.path, backup, None)
    _rewrite(backup, damage)
    with pytest.raises(BackupError) as refused:
        check_backup(backup, None)
    assert message in refused.value.detail
    with pytest.raises(BackupError):
        restore_backup(backup, tmp_path / "restored", None)
    assert not (tmp_path / "restored").exists()


def test_a_cut_file_is_refused(home: Home, tmp_path: Path) -> None:
    backup = tmp_path / "node.fdwbak"
    make_backup(home.path, backup, None)
    backup.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    with pytest.raises(BackupError) as refused:
        check_backup(backup, None)
    assert refused.value.code == "bad_backup"


def test_the_commands_back_up_check_and_restore(home: Home, tmp_path: Path, passphrase_file: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    backup = tmp_path / "node.fdwbak"
    assert main(["backup", "--home", str(home.path), "--out", str(backup), "--with-keys",
                 "--passphrase-file", str(passphrase_file)]) == 0
    assert f"height {home.sample.height}" in capsys.readouterr().out
    assert main(["restore", "--from", str(backup), "--check", "--passphrase-file", str(passphrase_file)]) == 0
    assert "keys: node.key, place.key" in capsys.readouterr().out
    assert main(["restore", "--from", str(backup), "--home", str(tmp_path / "new")]) == 1  # no terminal, no file
    assert "passphrase_needed" in capsys.readouterr().err
    assert main(["restore", "--from", str(backup), "--home", str(tmp_path / "new"),
                 "--passphrase-file", str(passphrase_file)]) == 0
    out = capsys.readouterr().out
    assert "observes first" in out and json.loads((tmp_path / "new" / "data" / MARKER_FILE).read_text())
