"""Transaction signatures verified ahead of the replay, on every core.

Ed25519 verification is most of an audit's cost and needs no state, so it runs
in a pool of workers while the main thread applies earlier blocks: processes (the
default: faster on a quiet box) or threads (PyNaCl releases the GIL while libsodium
verifies, but each check takes the GIL back from a main thread busy in Python, which
costs more than pickling unless the box is oversubscribed), ``WORKERS``. The main
process decodes each transaction once (it needs the decoded transaction to
apply it anyway); workers get only what a signature check reads (txid, signed
bytes, (key, signature) pairs) in large chunks, cheap to pickle, and answer
with the txids whose signatures verify. The ledger skips those and verifies any
other itself, so a bad signature fails the block exactly as without the pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

import wallet
from wallet.tx import Signature, signatures_verify

CHUNK_TXS = 500
"""Transactions per job: large enough that pickling and scheduling cost little."""

WORKERS = ("processes", "threads")
"""Where the signature jobs run, the default first (docs/performance.md: which is faster, measured)."""

SignedTx = tuple[bytes, bytes, tuple[Signature, ...]]
"""(txid, the unsigned bytes every signature covers, (public key, signature) pairs)."""


def verified_txids(chain_id: str, txs: Sequence[SignedTx]) -> list[bytes]:
    """The txids among ``txs`` whose every signature verifies for ``chain_id``."""
    return [txid for txid, unsigned, signatures in txs if signatures_verify(chain_id, unsigned, signatures)]


class SignaturePool:
    """Verifies the signatures of blocks submitted ahead; ``jobs`` worker threads or processes."""

    def __init__(self, chain_id: str, jobs: int, workers: str = WORKERS[0]) -> None:
        if workers not in WORKERS:
            raise ValueError(f"signature workers are one of {WORKERS}, not {workers!r}")
        self.chain_id = chain_id
        self._executor: Executor = (ThreadPoolExecutor(jobs, thread_name_prefix="audit-verify")
                                    if workers == "threads" else ProcessPoolExecutor(jobs))

    def submit(self, txs: Sequence[wallet.Tx]) -> list[Future[list[bytes]]]:
        """Start verifying one block's decoded transactions; the futures answer :func:`verified_txids`."""
        signed = [(tx.txid, tx.unsigned, tx.signatures) for tx in txs]
        return [self._executor.submit(verified_txids, self.chain_id, signed[start:start + CHUNK_TXS])
                for start in range(0, len(signed), CHUNK_TXS)]

    @staticmethod
    def collect(futures: Sequence[Future[list[bytes]]]) -> frozenset[bytes]:
        """Wait for a block's futures; the union of their verified txids."""
        return frozenset(txid for future in futures for txid in future.result())

    def close(self) -> None:
        """Stop the workers, dropping work not started (an audit that failed early)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
