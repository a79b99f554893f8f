"""Transaction signatures verified ahead of the replay, on every core.

Ed25519 verification is most of an audit's cost and needs no state, so it runs
in a process pool while the main process applies earlier blocks. Workers get
raw transaction bytes in large chunks (cheap to pickle) and answer with the
txids whose signature verifies; the ledger then skips those and verifies any
other itself, so a bad signature fails the block exactly as without the pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import wallet

CHUNK_TXS = 500
"""Transactions per job: large enough that pickling and scheduling cost little."""
MAX_TX_BYTES = 1024 * 1024
"""Decoding bound in workers only; the replay enforces the chain's max_tx_bytes itself."""


def verified_txids(chain_id: str, raw_txs: Sequence[bytes]) -> list[bytes]:
    """The txids among ``raw_txs`` whose signature verifies for ``chain_id`` (undecodable ones are left out)."""
    good = []
    for raw in raw_txs:
        try:
            tx = wallet.decode_tx(raw, MAX_TX_BYTES)
        except wallet.Rejected:
            continue
        if tx.verify_signature(chain_id):
            good.append(tx.txid)
    return good


class SignaturePool:
    """Verifies the signatures of blocks submitted ahead; ``jobs`` worker processes."""

    def __init__(self, chain_id: str, jobs: int) -> None:
        self.chain_id = chain_id
        self._executor = ProcessPoolExecutor(max_workers=jobs)

    def submit(self, raw_txs: Sequence[bytes]) -> list[Future[list[bytes]]]:
        """Start verifying one block's transactions; the futures answer :func:`verified_txids`."""
        return [self._executor.submit(verified_txids, self.chain_id, list(raw_txs[start:start + CHUNK_TXS]))
                for start in range(0, len(raw_txs), CHUNK_TXS)]

    @staticmethod
    def collect(futures: Sequence[Future[list[bytes]]]) -> frozenset[bytes]:
        """Wait for a block's futures; the union of their verified txids."""
        return frozenset(txid for future in futures for txid in future.result())

    def close(self) -> None:
        """Stop the workers, dropping work not started (an audit that failed early)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
