"""Restoring a backup into a new node home, or checking one without writing anything.

Everything is written into ``<home>/.restoring`` and moved into the home at the end
(``config.toml`` last), so a failed restore leaves an empty home behind, and the home
may be an empty folder the node's user owns in a directory it cannot write (/var/lib). The restored home is self-contained: its
config.toml is rewritten to find the genesis, the keys and the data inside the home.
A validator's restored data folder carries the marker of :mod:`fedow_node.restore_guard`:
the node observes until it is safe to sign again.
"""

from __future__ import annotations

import shutil
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import tomli_w

from config import ConfigError, load_genesis, parse_node_config, write_atomically
from fedow_node.backup._errors import BackupError
from fedow_node.backup._format import BackupReader, Trailer
from fedow_node.restore_guard import RestoreGuard
from fedow_node.backup._make import (CONFIG_FILE, GENESIS_FILE, LAST_SIGN_FILE, NODE_KEY_FILE, PLACE_KEY_FILE,
                                     TOKENS_FILE, sqlite_files)
from fedow_node.backup._seal import Sealed, unseal
from fedow_node.node import NodeFiles
from storage import StorageError, Store

DATA_DIR = "data"
STAGING = ".restoring"


@dataclass(frozen=True)
class Restored:
    home: Path | None
    """None for a check."""
    chain_id: str
    height: int
    entries: int
    validator: bool
    keys: tuple[str, ...]
    """Key files restored (or, for a check, opened with the passphrase)."""
    created_ms: int


def check_backup(backup: Path, passphrase: str | None) -> Restored:
    """Read the whole backup, check its digest, open its keys when a passphrase is given; write nothing."""
    with BackupReader(backup) as reader:
        keys = _unsealed_keys(reader.manifest, passphrase, required=False)
        for _entry in reader.entries():
            pass
        return _summary(reader, None, keys)


def restore_backup(backup: Path, home: Path, passphrase: str | None) -> Restored:
    """Restore ``backup`` as the node home ``home`` (a new or empty folder)."""
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise BackupError("home_not_empty", f"{home} already exists and is not empty: restore into a new folder "
                                            "(a restore never overwrites a node's keys or chain)")
    created = not home.exists()
    staging = home / STAGING
    try:
        staging.mkdir(parents=True)
        with BackupReader(backup) as reader:
            keys = _unsealed_keys(reader.manifest, passphrase, required=True)
            _write_home(staging, reader.manifest, keys)
            trailer = _write_chain(staging, reader)
            data = NodeFiles(staging / DATA_DIR)
            if LAST_SIGN_FILE in trailer.files:
                write_atomically(data.last_sign, trailer.files[LAST_SIGN_FILE], mode=0o600)
            for name, path in sqlite_files(data).items():
                if name in trailer.files:
                    write_atomically(path, trailer.files[name], mode=0o600)
            if reader.manifest["validator"]:
                RestoreGuard.place(data.data_dir, time.time_ns() // 1_000_000)
            summary = _summary(reader, home, keys)
        # config.toml last: a home without it is visibly unfinished and no node starts from it
        for entry in sorted(staging.iterdir(), key=lambda path: path.name == CONFIG_FILE):
            entry.rename(home / entry.name)
        staging.rmdir()
    except BaseException:
        _empty(home, remove_folder=created)
        raise
    return summary


def _empty(home: Path, remove_folder: bool) -> None:
    """Undo a failed restore: the home as it was before (absent, or empty)."""
    if remove_folder:
        shutil.rmtree(home, ignore_errors=True)
        return
    for entry in home.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _summary(reader: BackupReader, home: Path | None, keys: dict[str, bytes]) -> Restored:
    trailer: Trailer | None = reader.trailer
    assert trailer is not None  # set once the entries were read through
    manifest = reader.manifest
    return Restored(home, str(manifest["chain_id"]), trailer.height, trailer.entries, bool(manifest["validator"]),
                    tuple(sorted(keys)), int(manifest["created_ms"]))


def _unsealed_keys(manifest: dict[str, Any], passphrase: str | None, required: bool) -> dict[str, bytes]:
    if manifest.get("keys") is None:
        return {}
    if passphrase is None:
        if required:
            raise BackupError("passphrase_needed", "this backup holds the node's keys, sealed: give its passphrase "
                                                   "(--passphrase-file, or type it when asked)")
        return {}
    keys = msgpack.unpackb(unseal(Sealed.from_wire(manifest["keys"]), passphrase), raw=False)
    if not isinstance(keys, dict) or NODE_KEY_FILE not in keys:
        raise BackupError("bad_backup", "the sealed keys of the backup hold no node key")
    return {str(name): bytes(data) for name, data in keys.items() if name in (NODE_KEY_FILE, PLACE_KEY_FILE)}


def _write_home(home: Path, manifest: dict[str, Any], keys: dict[str, bytes]) -> None:
    files = manifest["files"]
    write_atomically(home / CONFIG_FILE, _self_contained_config(files[CONFIG_FILE], home, keys), mode=0o644)
    write_atomically(home / GENESIS_FILE, files[GENESIS_FILE], mode=0o644)
    if TOKENS_FILE in files:
        write_atomically(home / TOKENS_FILE, files[TOKENS_FILE], mode=0o600)
    for name, seed in keys.items():
        write_atomically(home / name, seed, mode=0o600)


def _self_contained_config(text: bytes, home: Path, keys: dict[str, bytes]) -> str:
    """The backed-up config.toml with its genesis, keys and data found inside the restored home."""
    try:
        document = tomllib.loads(text.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BackupError("bad_backup", f"the backed-up config.toml is not valid TOML: {exc}") from None
    node = document.setdefault("node", {})
    node["data_dir"], node["genesis"] = DATA_DIR, GENESIS_FILE
    section = document.setdefault("keys", {})
    section["node_key"] = NODE_KEY_FILE
    if PLACE_KEY_FILE in keys or "place_key" in section:
        section["place_key"] = PLACE_KEY_FILE
    rewritten = tomli_w.dumps(document)
    try:
        parse_node_config(rewritten, base=home, env={}, source=f"{home / CONFIG_FILE} (restored)")
    except ConfigError as exc:
        raise BackupError("bad_backup", f"the restored configuration is not valid: {exc.describe()}") from None
    return rewritten


def _write_chain(home: Path, reader: BackupReader) -> Trailer:
    data = NodeFiles(home / DATA_DIR)
    try:
        with Store.create_from_entries(data.store, reader.entries()) as store:
            genesis = load_genesis(home / GENESIS_FILE)
            if store.genesis_doc() != genesis.canonical_bytes():
                raise BackupError("bad_backup", "the backed-up chain does not start from the backed-up genesis")
    except StorageError as exc:
        raise BackupError("bad_backup", f"the backed-up chain cannot be restored: {exc}") from None
    assert reader.trailer is not None
    return reader.trailer
