"""``fedow-node init``: create a node's home folder (keys and config.toml).

The node key is the validator key and the libp2p identity; losing it loses
the node's identity and overwriting it silently would be worse, so existing
keys are kept unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from config import (
    ApiSection,
    ConfigError,
    KeysSection,
    NodeConfig,
    NodeSection,
    P2PSection,
    dump_node_config,
    parse_node_config,
    write_atomically,
)
from wallet.keys import SigningKey, write_key_file

CONFIG_FILE = "config.toml"
NODE_KEY_FILE = "node.key"
PLACE_KEY_FILE = "place.key"
TREASURY_KEY_FILE = "treasury.key"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("init", help="create a node home: keys and config.toml",
                                   description=__doc__)
    parser.add_argument("--home", required=True, type=Path, help="the node's folder (created if needed)")
    parser.add_argument("--validator", action="store_true", help="this node takes part in consensus")
    parser.add_argument("--place-key", action="store_true",
                        help="also generate the venue key the node signs POS requests with")
    parser.add_argument("--treasury-key", action="store_true",
                        help="also generate a treasury key: once the genesis (or set_keys) names it, the node "
                             "co-signs FED mints and burns after checking them at Stripe ([stripe] secret_key "
                             "needed)")
    parser.add_argument("--listen", default=P2PSection.listen, help="p2p multiaddr to listen on")
    parser.add_argument("--api", default=ApiSection.bind, help="host:port of the POS HTTP API")
    parser.add_argument("--moniker", default=NodeSection.moniker, help="a human name for this node")
    parser.add_argument("--force", action="store_true", help="replace existing keys and config.toml")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    home: Path = args.home
    config = NodeConfig(
        node=NodeSection(data_dir=Path("data"), moniker=args.moniker),
        keys=KeysSection(node_key=Path(NODE_KEY_FILE),
                         place_key=Path(PLACE_KEY_FILE) if args.place_key else None,
                         treasury_key=Path(TREASURY_KEY_FILE) if args.treasury_key else None,
                         validator=args.validator),
        p2p=P2PSection(listen=args.listen),
        api=ApiSection(bind=args.api),
    )
    text = dump_node_config(config)
    try:  # validate before anything is written
        parse_node_config(text, base=home.absolute(), env={}, source="command line")
    except ConfigError as exc:
        print(exc.describe(), file=sys.stderr)
        return 2
    key_files = [home / NODE_KEY_FILE] + ([home / PLACE_KEY_FILE] if args.place_key else []) + \
        ([home / TREASURY_KEY_FILE] if args.treasury_key else [])
    existing = [path for path in [*key_files, home / CONFIG_FILE] if path.exists()]
    if existing and not args.force:
        print(f"refusing to overwrite {', '.join(map(str, existing))}: a key file is a node's or a "
              "venue's identity and cannot be recovered once replaced; move it away or pass --force",
              file=sys.stderr)
        return 1
    keys = [SigningKey.generate() for _ in key_files]
    for path, key in zip(key_files, keys):
        path.unlink(missing_ok=True)
        write_key_file(path, key)
    write_atomically(home / CONFIG_FILE, text)
    print(f"wrote {home / CONFIG_FILE}")
    for path, key in zip(key_files, keys):
        print(f"{path.stem} key {path}\n  public key {key.public_key.hex()}\n  address    {key.address}")
    return 0
