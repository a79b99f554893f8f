"""A stopped validator's home around the audit's sample chain, for the backup and restore tests."""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from config import ApiSection, KeysSection, NodeConfig, NodeSection, P2PSection, dump_node_config, write_atomically
from consensus.signer import FileLastSignStore, LastSign
from fedow_node.api.tokens import create_token, tokens_path
from fedow_node.audit import SampleChain, build_sample_chain
from wallet.keys import SigningKey, write_key_file

PASSPHRASE = "correct horse battery staple"
_NODE_HELPERS = str(Path(__file__).resolve().parents[1] / "node")
if _NODE_HELPERS not in sys.path:
    sys.path.append(_NODE_HELPERS)  # node_harness: the multi-process devnet of the node tests


@dataclass(frozen=True)
class Home:
    path: Path
    sample: SampleChain
    place_key: SigningKey


def build_home(home: Path) -> Home:
    """Height 3 (10 cards registered, two blocks of sales), a place key, a till's token, signer and POS state."""
    sample = build_sample_chain(home / "data", blocks=2, block_txs=10, cards=10)
    write_atomically(home / "genesis.json", sample.genesis.to_json(), mode=0o644)
    write_key_file(home / "node.key", sample.validator)
    place_key = SigningKey.generate()
    write_key_file(home / "place.key", place_key)
    config = NodeConfig(node=NodeSection(data_dir=Path("data"), genesis=Path("genesis.json"), moniker="sample"),
                        keys=KeysSection(node_key=Path("node.key"), place_key=Path("place.key"), validator=True),
                        p2p=P2PSection(listen="/ip4/127.0.0.1/tcp/1"), api=ApiSection(bind="127.0.0.1:1"))
    write_atomically(home / "config.toml", dump_node_config(config), mode=0o644)
    create_token(tokens_path(home), "bar", 1, "pos", "till 1")
    FileLastSignStore(home / "data" / "last_sign_state").save(LastSign(3, 0, 3, b"body", b"signature"))
    for name in ("idempotency.sqlite", "offline.sqlite"):  # what the POS API and the offline journal keep
        with closing(sqlite3.connect(home / "data" / name)) as db:
            db.execute("CREATE TABLE keys (key TEXT PRIMARY KEY, txid BLOB)")
            db.execute("INSERT INTO keys VALUES (?, x'01')", (name,))
            db.commit()
    return Home(home, sample, place_key)
