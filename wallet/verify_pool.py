"""Many Ed25519 signatures checked at once on every core: a bounded pool of threads.

Verifying is most of a transaction's CPU (docs/performance.md) and reads no
state. PyNaCl calls libsodium through cffi, which releases the GIL for the C
call, so threads of one process verify side by side without pickling anything
(measured against processes: bench/verify_bench.py, docs/performance.md
"Parallel signature checks"). The calling thread takes a share itself. The answer
(which items fail) depends only on the items, never on the scheduling.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from wallet.keys import verify_signed

SignedItem = tuple[bytes, bytes, bytes]
"""(public key, the signed message, signature)."""

MIN_PARALLEL = 16
"""Fewer items than this are checked on the calling thread: a hand-off costs about one verify."""


def _failures(items: Sequence[SignedItem], start: int) -> list[int]:
    return [start + index for index, (key, message, signature) in enumerate(items)
            if not verify_signed(key, message, signature)]


class VerifyPool:
    """Checks batches of signatures with the calling thread and ``threads - 1`` workers.

    ``processes=True`` makes the workers processes instead (spawned: the caller may run
    threads of its own), for measuring one against the other (bench/verify_bench.py).
    """

    def __init__(self, threads: int | None = None, *, processes: bool = False) -> None:
        self.threads = max(1, threads or os.cpu_count() or 1)
        self._executor: Executor | None = None
        if self.threads > 1:
            self._executor = (ProcessPoolExecutor(self.threads - 1, mp_context=multiprocessing.get_context("spawn"))
                              if processes else ThreadPoolExecutor(self.threads - 1, thread_name_prefix="verify"))

    def failed(self, items: Sequence[SignedItem]) -> frozenset[int]:
        """The indices of the items whose signature does not verify."""
        if self._executor is None or len(items) < MIN_PARALLEL:
            return frozenset(_failures(items, 0))
        size = -(-len(items) // self.threads)
        futures = [self._executor.submit(_failures, items[start:start + size], start)
                   for start in range(size, len(items), size)]
        failed = _failures(items[:size], 0)
        for future in futures:
            failed += future.result()
        return frozenset(failed)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def __enter__(self) -> VerifyPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


_shared: VerifyPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> VerifyPool:
    """The process's pool, one thread per core (created at first use; its idle workers cost nothing)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = VerifyPool()
        return _shared
