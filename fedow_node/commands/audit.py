"""``fedow-node audit``: replay a whole chain from genesis and check everything (docs/audit.md).

Exit status: 0 when the chain checks out, 1 at the first discrepancy (named with
its height), 2 when the chain cannot be read (no folder, locked store, bad config).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import trio

from config import ConfigError, GenesisDoc, load_genesis, load_node_config
from fedow_node.audit import AuditFailed, AuditReport, StoreSource, audit_chain, fetch_from_peer
from fedow_node.node import NodeFiles
from storage import StorageError, Store


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help="replay the whole chain and check every block", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data", type=Path, help="a node's data folder (the one holding chain/); a stopped node "
                                                 "or a copy: a running node keeps its store locked")
    where.add_argument("--home", type=Path, help="a node's home folder (its config.toml names data and genesis)")
    where.add_argument("--peer", help="multiaddr of a running peer (…/p2p/<peer id>): audit the blocks it serves")
    parser.add_argument("--genesis", type=Path, help="the expected genesis file (required with --peer)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes verifying signatures ahead of the replay (default: all cores; 1 = inline)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def _locate(args: argparse.Namespace) -> tuple[Path | None, GenesisDoc | None]:
    """The data folder to audit (None for --peer) and the expected genesis, if any."""
    if args.home is not None:
        config = load_node_config(args.home / "config.toml")
        return config.node.data_dir, load_genesis(args.genesis or config.node.genesis)
    genesis = load_genesis(args.genesis) if args.genesis is not None else None
    return args.data, genesis


def _audit(args: argparse.Namespace) -> AuditReport:
    data_dir, genesis = _locate(args)
    expected = genesis.canonical_bytes() if genesis is not None else None
    if data_dir is None:
        assert genesis is not None
        fetched = trio.run(fetch_from_peer, args.peer, genesis.chain_id, expected)
        return audit_chain(fetched, jobs=args.jobs, expected_genesis=expected)
    store_path = NodeFiles(data_dir).store
    if not store_path.is_dir():
        raise FileNotFoundError(f"{store_path} does not exist: --data must name a node's data folder")
    with Store.open(store_path) as store:
        return audit_chain(StoreSource(store), jobs=args.jobs, expected_genesis=expected)


def _print_report(report: AuditReport) -> None:
    digest = {True: "equal", None: "not available from a peer"}[report.state_digest_match]
    print(f"audit OK: chain {report.chain_id}, genesis {report.genesis_hash}")
    print(f"  {report.blocks} blocks, {report.txs} transactions replayed in {report.seconds} s "
          f"({report.tx_per_s:,.0f} tx/s, {report.jobs} signature job(s))")
    print("  every certificate, last commit, header hash, signature and state hash checks out")
    print(f"  state hash at height {report.height}: {report.state_hash} (matches the head)")
    print(f"  whole-state digest vs the audited store: {digest}; money invariants: hold")


def run(args: argparse.Namespace) -> int:
    if args.peer is not None and args.genesis is None:
        print("--peer needs --genesis FILE (the chain's genesis, to check the peer's chain against)", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"--jobs must be at least 1, not {args.jobs}", file=sys.stderr)
        return 2
    try:
        report = _audit(args)
    except AuditFailed as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": exc.describe(), "code": exc.code, "height": exc.height}))
        else:
            print(exc.describe(), file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(exc.describe(), file=sys.stderr)
        return 2
    except (StorageError, OSError) as exc:
        print(f"cannot read the chain: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"ok": True, "error": None, **asdict(report)}))
    else:
        _print_report(report)
    return 0
