"""``fedow-node restore``: bring a backup back as a node home on this box (or ``--check`` it).

The home must be new or empty; its config.toml is rewritten to find its genesis, keys
and data inside it. A restored validator first observes the network and signs again
only once a block made after the restore shows what its former self may have signed
(never two signatures at one height); if another node still signs with its key, it
stops and says so. ``--check`` reads the whole backup and verifies it, writing nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fedow_node.backup import CLOCK_MARGIN_MS, BackupError, check_backup, restore_backup
from fedow_node.commands._passphrase import add_passphrase_argument, read_passphrase


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("restore", help="restore a backup as a new node home, or check it",
                                   description=__doc__)
    parser.add_argument("--from", dest="backup", required=True, type=Path, help="the backup file")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--home", type=Path, help="the node home to create (new or empty folder)")
    target.add_argument("--check", action="store_true", help="verify the backup (and its keys) without writing")
    add_passphrase_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        passphrase = read_passphrase(args.passphrase_file, confirm=False, optional=True)
        result = (check_backup(args.backup, passphrase) if args.check
                  else restore_backup(args.backup, args.home, passphrase))
    except BackupError as exc:
        print(f"restore refused ({exc.code}): {exc.detail}", file=sys.stderr)
        return 1
    made = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(result.created_ms / 1000))
    print(f"backup of chain {result.chain_id} made {made}: height {result.height}, {result.entries} entries, "
          f"{'validator' if result.validator else 'full node'}, keys: {', '.join(result.keys) or 'none'}")
    if result.home is None:
        print("the backup is complete and intact")
        return 0
    print(f"restored into {result.home}")
    if not result.keys:
        print(f"no keys were restored: copy node.key (and place.key) into {result.home} (mode 0600) before "
              "starting the node")
    if result.validator:
        print(f"as a validator it observes first, and signs again once a block made {CLOCK_MARGIN_MS // 1000} s "
              "after this restore is committed; never start the old node again with the same key")
    return 0
