"""The mempool's admission races the commit pass (blocks commit in the execution worker, admissions on the loop).

A real ledger application and mempool (the ``Chain`` of the channel tests). A rival
sale spends what a committed sale already spent: whatever the interleaving of its
admission with that commit and the pass after it, it never stays in the mempool, and a
block built from what the mempool offers never holds it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from test_engine_commits import CARDS, Chain

from consensus.errors import TxRejected
from consensus.mempool import Mempool
from fedow_node.audit._sample import CARD_BALANCE
from wallet.tx import decode_tx

BOUND_S = 120.0


def txid(tx: bytes) -> bytes:
    return decode_tx(tx, len(tx)).txid


def test_a_check_overtaken_by_a_commit_and_its_pass_is_made_again_before_the_insert(tmp_path: Path) -> None:
    chain = Chain(tmp_path, capacity=16)
    first, rival = chain.sale(0, CARD_BALANCE), chain.sale(0, CARD_BALANCE)  # the card's whole balance, twice
    overtaken: list[bytes] = []

    def check_overtaken_by_the_commit(tx: bytes, verified: bool):  # type: ignore[no-untyped-def]
        info = chain.app.check_tx(tx, verified)  # passes: the state before the commit
        if tx == rival and not overtaken:
            overtaken.append(tx)
            chain.solo.produce([first])  # meanwhile (in the worker): the commit, then the pass
            mempool.update([txid(first)])
        return info

    mempool = Mempool(check_overtaken_by_the_commit, 1000, 10**7, chain.app.params.max_tx_bytes)
    with pytest.raises(TxRejected) as refused:
        mempool.add(rival)
    assert overtaken and refused.value.code == "overdraft"
    assert len(mempool) == 0 and not mempool.contains_txid(txid(rival))
    chain.app.store.close()


def test_a_proposer_drops_what_no_longer_applies(tmp_path: Path) -> None:
    chain = Chain(tmp_path, capacity=16)
    first, rival = chain.sale(0, CARD_BALANCE), chain.sale(0, CARD_BALANCE)
    chain.solo.produce([first])
    block, _certificate = chain.solo.produce([rival, chain.sale(1, 5)])  # offered the double spend anyway
    committed = [location for location in (chain.app.store.tx_location(txid(tx)) for tx in (first, rival))]
    assert committed[0] is not None and committed[1] is None  # the rival was left out of the block
    assert chain.app.store.block(chain.app.store.height) == block
    chain.app.store.close()


def test_admissions_racing_commits_in_another_thread_never_keep_a_double_spend(tmp_path: Path) -> None:
    """Each round, one thread commits a sale of a card's balance (and makes the pass) while this one admits a
    rival sale of the same money; both start together. Whichever runs first, the rival ends up refused or
    evicted, and the next block built from the mempool does not hold it."""
    chain = Chain(tmp_path, capacity=64)
    chain.app.commits = None  # no trio run here to hand commits to
    mempool = Mempool(chain.app.check_tx, 1000, 10**7, chain.app.params.max_tx_bytes)
    for card in range(CARDS):
        first, rival = chain.sale(card, CARD_BALANCE), chain.sale(card, CARD_BALANCE)
        start = threading.Barrier(2, timeout=BOUND_S)
        errors: list[BaseException] = []

        def commit_first() -> None:
            try:
                start.wait()
                chain.solo.produce([first])
                mempool.update([txid(first)])
            except BaseException as error:  # reported below
                errors.append(error)

        worker = threading.Thread(target=commit_first, name="worker")
        worker.start()
        start.wait()
        try:
            mempool.add(rival)
        except TxRejected as exc:
            assert exc.code == "overdraft"
        worker.join(BOUND_S)
        assert not worker.is_alive() and not errors
        assert not mempool.contains_txid(txid(rival)), f"card {card}: a double spend stayed in the mempool"
        block, _certificate = chain.solo.produce(mempool.select(1000, 10**7))
        assert chain.app.store.tx_location(txid(rival)) is None
    assert len(mempool) == 0
    chain.app.store.close()
