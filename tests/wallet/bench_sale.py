"""Throughput of the hot path (card sale), one core: python tests/wallet/bench_sale.py [blocks] [txs].

Prints sale applies per second (decoded txs, signatures not checked) and the
full path per second (decode + verify + apply + encoded changes), block by block.
Not a test: timings on a shared machine are reported, never asserted.
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
    apply_seconds = full_seconds = 0.0
    for block in raw:
        ctx = BlockContext(CHAIN, chain.height + 1, chain.time_ms + 1000, BAR.public_key)
        txs = [decode_tx(data, MAX_TX) for data in block]
        overlay = Overlay(chain.state)
        begin_block(overlay, ctx)
        started = time.perf_counter()
        for tx in txs:
            apply_tx(overlay, ctx, tx)
        apply_seconds += time.perf_counter() - started

        started = time.perf_counter()
        overlay = Overlay(chain.state)
        begin_block(overlay, ctx)
        for data in block:
            tx = decode_tx(data, MAX_TX)
            assert tx.verify_signature(CHAIN)
            apply_tx(overlay, ctx, tx)
        end_block(overlay, ctx)
        changes = overlay.changes()
        full_seconds += time.perf_counter() - started
        chain.state.apply(changes)
        chain.height, chain.time_ms = ctx.height, ctx.time_ms
    total = blocks * per_block
    sample = [decode_tx(data, MAX_TX) for data in raw[0][:1000]]
    started = time.perf_counter()
    for tx in sample:
        tx.verify_signature(CHAIN)
    verify_rate = len(sample) / (time.perf_counter() - started)
    print(f"{total} sales in {blocks} blocks of {per_block}")
    print(f"calibration: Ed25519 verify on this machine now: {verify_rate:,.0f}/s")
    print(f"apply only (no signature): {total / apply_seconds:,.0f} sales/s")
    print(f"decode + verify + apply + encode changes: {total / full_seconds:,.0f} sales/s")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 10, int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
