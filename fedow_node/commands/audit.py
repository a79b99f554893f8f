"""``fedow-node audit``: replay a whole chain from genesis and check everything (docs/audit.md).

With ``--stripe``, the FED trail (every attested mint and burn) is then reconciled with the
Stripe account through the SDK: the secret key comes from ``FEDOW_STRIPE_SECRET_KEY`` or the
``[stripe]`` section of ``--home``'s config, the API address from ``--stripe-api-base``, the
same section, or Stripe's own.

Exit status: 0 when the chain checks out (and, with --stripe, reconciles), 1 at the first
discrepancy (named with its height, or by reference for Stripe), 2 when the chain or Stripe
cannot be read (no folder, locked store, bad config, no key, Stripe unreachable).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import trio

from config import ConfigError, GenesisDoc, Problem, load_genesis, load_node_config
from fedow_node.audit import (WORKERS, AuditFailed, AuditReport, MoneyTrail, StoreSource, StripeReconciliation,
                              audit_chain, fetch_from_peer, reconcile_stripe)
from fedow_node.node import NodeFiles
from fedow_node.payments import PaymentError, StripeApi
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
                        help="workers verifying signatures ahead of the replay (default: all cores; 1 = inline)")
    parser.add_argument("--workers", choices=WORKERS, default=WORKERS[0],
                        help="the signature workers are processes (default: faster on a quiet box) or threads of "
                             "the audit's process (faster on an oversubscribed one), docs/performance.md")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--stripe", action="store_true", help="then reconcile every FED mint and burn with the "
                                                              "Stripe account (FEDOW_STRIPE_SECRET_KEY or [stripe])")
    parser.add_argument("--stripe-api-base", help="the Stripe API address (default: [stripe] api_base, else Stripe)")
    parser.set_defaults(func=run)


def _locate(args: argparse.Namespace) -> tuple[Path | None, GenesisDoc | None]:
    """The data folder to audit (None for --peer) and the expected genesis, if any."""
    if args.home is not None:
        config = load_node_config(args.home / "config.toml")
        return config.node.data_dir, load_genesis(args.genesis or config.node.genesis)
    genesis = load_genesis(args.genesis) if args.genesis is not None else None
    return args.data, genesis


def _stripe_api(args: argparse.Namespace) -> StripeApi:
    """The Stripe account to reconcile with; ConfigError when no secret key is given."""
    section = load_node_config(args.home / "config.toml").stripe if args.home is not None else None
    secret = os.environ.get("FEDOW_STRIPE_SECRET_KEY") or (section.secret_key.reveal() if section else "")
    if not secret:
        raise ConfigError("bad_config", [Problem("stripe.secret_key", "--stripe needs Stripe's secret key: "
                                                 "FEDOW_STRIPE_SECRET_KEY, or [stripe] secret_key in --home's config")])
    api_base = args.stripe_api_base or (section.api_base if section else "") or None
    return StripeApi(secret, api_base)


async def _reconcile(trail: MoneyTrail, stripe: StripeApi) -> StripeReconciliation:
    try:
        return await reconcile_stripe(trail, stripe)
    finally:
        await stripe.aclose()


def _audit(args: argparse.Namespace, trail: MoneyTrail | None) -> AuditReport:
    data_dir, genesis = _locate(args)
    expected = genesis.canonical_bytes() if genesis is not None else None
    if data_dir is None:
        assert genesis is not None
        fetched = trio.run(fetch_from_peer, args.peer, genesis.chain_id, expected)
        return audit_chain(fetched, jobs=args.jobs, workers=args.workers, expected_genesis=expected, trail=trail)
    store_path = NodeFiles(data_dir).store
    if not store_path.is_dir():
        raise FileNotFoundError(f"{store_path} does not exist: --data must name a node's data folder")
    with Store.open(store_path) as store:
        return audit_chain(StoreSource(store), jobs=args.jobs, workers=args.workers, expected_genesis=expected, trail=trail)


def _print_report(report: AuditReport) -> None:
    digest = {True: "equal", None: "not available from a peer"}[report.state_digest_match]
    print(f"audit OK: chain {report.chain_id}, genesis {report.genesis_hash}")
    print(f"  {report.blocks} blocks, {report.txs} transactions replayed in {report.seconds} s "
          f"({report.tx_per_s:,.0f} tx/s, {report.jobs} signature job(s))")
    print("  every certificate, last commit, header hash, signature and state hash checks out")
    print(f"  state hash at height {report.height}: {report.state_hash} (matches the head)")
    print(f"  whole-state digest vs the audited store: {digest}; money invariants: hold")
    print(f"  FED backing: {report.fed_circulation} cents in circulation ({report.fed_on_hold} on hold) = "
          f"{report.fed_attested_minted} attested minted - {report.fed_attested_burnt} attested burnt")


def _print_reconciliation(result: StripeReconciliation) -> None:
    state = "reconciled" if result.reconciled else f"{len(result.discrepancies)} discrepancies"
    print(f"stripe {state}: {result.payments_minted} payments minted once, {result.payouts_burnt} payouts and "
          f"refunds burnt once, {len(result.pending)} holds pending, {result.ignored} other objects ignored")
    for item in result.discrepancies:
        print(f"  {item.reference}: {item.code}: {item.detail}")
    for reference in result.pending:
        print(f"  pending: hold {reference} waits for the treasury")


def run(args: argparse.Namespace) -> int:
    if args.peer is not None and args.genesis is None:
        print("--peer needs --genesis FILE (the chain's genesis, to check the peer's chain against)", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"--jobs must be at least 1, not {args.jobs}", file=sys.stderr)
        return 2
    trail = MoneyTrail() if args.stripe else None
    try:
        stripe = _stripe_api(args) if args.stripe else None
        report = _audit(args, trail)
        reconciliation = None if stripe is None or trail is None else asyncio.run(_reconcile(trail, stripe))
    except AuditFailed as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": exc.describe(), "code": exc.code, "height": exc.height}))
        else:
            print(exc.describe(), file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(exc.describe(), file=sys.stderr)
        return 2
    except PaymentError as exc:
        print(f"cannot read the Stripe account: {exc.code}: {exc.detail}", file=sys.stderr)
        return 2
    except (StorageError, OSError) as exc:
        print(f"cannot read the chain: {exc}", file=sys.stderr)
        return 2
    reconciled = reconciliation is None or reconciliation.reconciled
    if args.json:
        stripe_part = {} if reconciliation is None else {
            "stripe": {**asdict(reconciliation), "reconciled": reconciliation.reconciled}}
        print(json.dumps({"ok": reconciled, "error": None if reconciled else "stripe_discrepancies", **asdict(report),
                          **stripe_part}))
    else:
        _print_report(report)
        if reconciliation is not None:
            _print_reconciliation(reconciliation)
    return 0 if reconciled else 1
