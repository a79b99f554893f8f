"""Throughput of the hot path (card sale), one core: python tests/wallet/bench_sale.py [blocks] [txs].

For each block of sales it times, separately and then together: decode, signature
verification, apply (begin-block + apply_tx for each + end-block + encoding the
changes). Prints per-stage microseconds per sale and the rates. Not a test:
timings (CPU time of this process, so other load matters less) are reported,
never asserted; compare the apply
rate with the verify rate measured in the same run.
"""

from __future__ import annotations

import sys
import time

from ledger_world import BAR, CHAIN, MAX_TX, Chain, card_uid, card_wallet

from wallet.bodies import Sale
from wallet.execute import BlockContext, apply_tx, begin_block, end_block
from wallet.state import Overlay
from wallet.tx import decode_tx, sign_tx

CARDS = 2000


def prepared_chain() -> Chain:
    chain = Chain.start()
    for start in range(0, CARDS, 100):
        chain.register(*range(start + 1, start + 101))
    for start in range(0, CARDS, 500):
        chain.block(*[chain.tx(BAR, "cash_refill", card_wallet(n), "FED", 1_000_000)
                      for n in range(start + 1, start + 501)])
    return chain


def run(blocks: int, per_block: int) -> None:
    chain = prepared_chain()
    raw = [[sign_tx(BAR, CHAIN, "sale", Sale(card_uid(i % CARDS + 1), "FED", 1 + i % 7),
                    (b * per_block + i).to_bytes(16, "big"), chain.height + blocks + 5)
            for i in range(per_block)] for b in range(blocks)]
    seconds = {"decode": 0.0, "verify": 0.0, "apply": 0.0, "all together": 0.0}
    for block in raw:
        ctx = BlockContext(CHAIN, chain.height + 1, chain.time_ms + 1000, BAR.public_key)
        started = time.process_time()
        txs = [decode_tx(data, MAX_TX) for data in block]
        seconds["decode"] += time.process_time() - started
        started = time.process_time()
        assert all(tx.verify_signature(CHAIN) for tx in txs)
        seconds["verify"] += time.process_time() - started
        started = time.process_time()
        overlay = Overlay(chain.state)
        begin_block(overlay, ctx)
        for tx in txs:
            apply_tx(overlay, ctx, tx)
        end_block(overlay, ctx)
        overlay.changes()
        seconds["apply"] += time.process_time() - started

        started = time.process_time()
        overlay = Overlay(chain.state)
        begin_block(overlay, ctx)
        for data in block:
            tx = decode_tx(data, MAX_TX)
            assert tx.verify_signature(CHAIN)
            apply_tx(overlay, ctx, tx)
        end_block(overlay, ctx)
        changes = overlay.changes()
        seconds["all together"] += time.process_time() - started
        chain.state.apply(changes)
        chain.height, chain.time_ms = ctx.height, ctx.time_ms
    total = blocks * per_block
    print(f"{total} sales in {blocks} blocks of {per_block}, {CARDS} cards")
    for stage, spent in seconds.items():
        print(f"{stage:>13}: {spent / total * 1e6:6.1f} us/sale  {total / spent:>9,.0f} sales/s")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 10, int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
