"""``fedow-node backup``: a copy of a node home to restore on another box, taken while the node runs.

The chain comes from one LevelDB snapshot (asked of the node itself when it runs), so
the copy is consistent at one height. Config, genesis, API token hashes and the
validator's last-sign state go with it. The node and place keys go in only with
``--with-keys``, sealed by a passphrase (argon2id + SecretBox): without it, keep the
keys' own copy somewhere safe. Restore with ``fedow-node restore``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fedow_node.backup import BackupError, make_backup
from fedow_node.commands._passphrase import add_passphrase_argument, read_passphrase


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("backup", help="back up a node home (running or not) into one file",
                                   description=__doc__)
    parser.add_argument("--home", required=True, type=Path, help="the node's folder")
    parser.add_argument("--out", required=True, type=Path, help="the backup file to write (replaced atomically)")
    parser.add_argument("--with-keys", action="store_true",
                        help="include the node and place keys, sealed with a passphrase")
    add_passphrase_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        passphrase = read_passphrase(args.passphrase_file, confirm=True) if args.with_keys else None
        made = make_backup(args.home, args.out, passphrase)
    except BackupError as exc:
        print(f"backup refused ({exc.code}): {exc.detail}", file=sys.stderr)
        return 1
    print(f"backup of {args.home} written to {made.path}: height {made.height}, {made.entries} entries, "
          f"{made.bytes} bytes, keys {'sealed inside' if made.keys else 'NOT included'}"
          f"{' (snapshot taken by the running node)' if made.from_running_node else ''}")
    return 0
