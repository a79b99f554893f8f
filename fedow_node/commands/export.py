"""``fedow-node export``: write the ledger of a node's data folder as CSV files (columns in docs/audit.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fedow_node.audit import export_ledger
from fedow_node.node import NodeFiles
from storage import StorageError, Store


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="export blocks, transactions and balances as CSV",
                                   description=__doc__)
    parser.add_argument("--data", type=Path, required=True,
                        help="a node's data folder (the one holding chain/), of a stopped node or a copy")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the CSV files into")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store_path = NodeFiles(args.data).store
    if not store_path.is_dir():
        print(f"{store_path} does not exist: --data must name a node's data folder", file=sys.stderr)
        return 2
    try:
        with Store.open(store_path) as store:
            summary = export_ledger(store, args.out)
    except (StorageError, OSError, ValueError) as exc:
        print(f"cannot export the chain: {exc}", file=sys.stderr)
        return 2
    print(f"exported the ledger at height {summary.height} into {args.out}:")
    for name, rows in summary.rows:
        print(f"  {name}: {rows} rows")
    return 0
