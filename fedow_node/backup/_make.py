"""Making a backup of a node home, stopped or running.

The chain comes from one LevelDB snapshot. A stopped node's store is opened here; a
running node holds its store's lock, so the snapshot is asked of the node itself over
its local API (an operator route), with a token minted for the occasion in the home's
token file and revoked right after: whoever may read the home's keys may back it up,
and no standing token is needed. The last-sign state and the SQLite files beside the chain
(idempotency keys, offline journal) are read after the snapshot, so they are never older
than the chain they travel with. Keys are included only when a passphrase
seals them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import msgpack

from config import NodeConfig, load_genesis, load_node_config
from fedow_node.api.backup_routes import SNAPSHOT_PATH
from fedow_node.api.tokens import TokenFileError, create_token, revoke_token, tokens_path
from fedow_node.backup._errors import BackupError
from fedow_node.backup._format import Trailer, write_backup
from fedow_node.backup._seal import seal
from fedow_node.node import NodeFiles
from storage import StorageError, Store, StoreLocked
from wallet.keys import read_key_file

CONFIG_FILE = "config.toml"
GENESIS_FILE = "genesis.json"
TOKENS_FILE = "api-tokens.json"
LAST_SIGN_FILE = "last_sign_state"


def sqlite_files(data: NodeFiles) -> dict[str, Path]:
    """The SQLite databases beside the chain, by the name they travel under: the POS API's idempotency keys
    (a till retrying a sale after the restore gets the same answer) and the offline journal (sales made
    while cut off, not yet on chain)."""
    return {"idempotency.sqlite": data.idempotency, "offline.sqlite": data.offline_journal}
NODE_KEY_FILE = "node.key"
PLACE_KEY_FILE = "place.key"
_READ_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class BackupMade:
    path: Path
    height: int
    entries: int
    bytes: int
    keys: bool
    from_running_node: bool


def make_backup(home: Path, out: Path, passphrase: str | None) -> BackupMade:
    """Write the backup of ``home`` to ``out``; with a passphrase, the node's keys go in, sealed."""
    config_path = home / CONFIG_FILE
    try:
        config = load_node_config(config_path)
        genesis = load_genesis(config.node.genesis)
        genesis_bytes = config.node.genesis.read_bytes()
    except (OSError, ValueError) as exc:  # ConfigError is a ValueError
        raise BackupError("bad_home", f"{home} is not a node home that can be backed up: {exc}") from None
    files = {CONFIG_FILE: config_path.read_bytes(), GENESIS_FILE: genesis_bytes}
    if tokens_path(home).exists():
        files[TOKENS_FILE] = tokens_path(home).read_bytes()
    manifest = {
        "created_ms": time.time_ns() // 1_000_000,
        "chain_id": genesis.chain_id,
        "genesis_sha256": hashlib.sha256(genesis_bytes).digest(),
        "node_public_key": read_key_file(config.keys.node_key).public_key,
        "validator": config.keys.validator,
        "moniker": config.node.moniker,
        "files": files,
        "keys": None if passphrase is None else seal(_key_files(config), passphrase).to_wire(),
    }
    data = NodeFiles(config.node.data_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        store = Store.open(data.store)
    except StoreLocked:
        trailer = write_backup(out, manifest, _from_running_node(home, config), lambda: _after_snapshot(data))
        running = True
    except StorageError as exc:
        raise BackupError("bad_home", f"the chain of {home} cannot be read: {exc}") from None
    else:
        with store:
            trailer = write_backup(out, manifest, store.export_entries(), lambda: _after_snapshot(data))
        running = False
    return _made(out, trailer, passphrase is not None, running)


def _made(out: Path, trailer: Trailer, keys: bool, running: bool) -> BackupMade:
    return BackupMade(out, trailer.height, trailer.entries, out.stat().st_size, keys, running)


def _key_files(config: NodeConfig) -> bytes:
    keys = {NODE_KEY_FILE: config.keys.node_key.read_bytes()}
    if config.keys.place_key is not None:
        keys[PLACE_KEY_FILE] = config.keys.place_key.read_bytes()
    return msgpack.packb(keys, use_bin_type=True)


def _after_snapshot(data: NodeFiles) -> dict[str, bytes]:
    """Read once the chain is copied, so never older than it: the last-sign state and the SQLite files."""
    files = {name: _sqlite_copy(path) for name, path in sqlite_files(data).items() if path.exists()}
    if data.last_sign.exists():
        files[LAST_SIGN_FILE] = data.last_sign.read_bytes()
    return files


def _sqlite_copy(path: Path) -> bytes:
    """A consistent copy of an SQLite database in use (SQLite's online backup), as bytes."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source, \
                closing(sqlite3.connect(":memory:")) as copy:
            source.backup(copy)
            return copy.serialize()
    except sqlite3.Error as exc:
        raise BackupError("bad_home", f"{path} cannot be copied: {exc}") from None


def _api_base(config: NodeConfig) -> tuple[str, ssl.SSLContext | None]:
    """The node's own API as seen from this box (a wildcard bind is reached on the loopback)."""
    host, port = config.api.bind.rsplit(":", 1)
    host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}.get(host, host)
    if config.api.tls_cert is None:
        return f"http://{host}:{port}", None
    tls = ssl.create_default_context(cafile=str(config.api.tls_cert))  # the node's own certificate
    tls.check_hostname = False
    return f"https://{host}:{port}", tls


def _from_running_node(home: Path, config: NodeConfig) -> Iterator[tuple[bytes, bytes]]:
    base, tls = _api_base(config)
    try:
        entry, token = create_token(tokens_path(home), "", time.time_ns() // 1_000_000, "operator",
                                    "backup (temporary)")
    except TokenFileError as exc:
        raise BackupError("bad_home", f"the node runs, and its API cannot be asked for the chain: {exc.detail}") from None
    try:
        request = urllib.request.Request(base + SNAPSHOT_PATH, headers={"Authorization": f"Bearer {token}"})
        try:
            response = urllib.request.urlopen(request, timeout=_READ_TIMEOUT_S, context=tls)
        except (urllib.error.URLError, OSError) as exc:
            raise BackupError("node_unreachable", f"the node of {home} holds its store (it runs) but its API at "
                                                  f"{base} does not answer the backup: {exc}") from None
        with response:
            yield from _snapshot_stream(response, base)
    finally:
        revoke_token(tokens_path(home), entry.id)


def _snapshot_stream(response: object, base: str) -> Iterator[tuple[bytes, bytes]]:
    unpacker = msgpack.Unpacker(response, raw=False, max_buffer_size=64 * 1024 * 1024)
    count = 0
    try:
        for item in unpacker:
            if isinstance(item, list) and len(item) == 2 and item[0] == "end":
                if item[1] != count:
                    break
                return
            key, value = item
            count += 1
            yield key, value
    except (ValueError, TypeError, OSError, msgpack.UnpackException) as exc:
        raise BackupError("node_unreachable", f"the chain snapshot from {base} was cut: {exc}") from None
    raise BackupError("node_unreachable", f"the chain snapshot from {base} ended after {count} entries without "
                                          "its end mark: the node stopped or the connection was cut; nothing written")
