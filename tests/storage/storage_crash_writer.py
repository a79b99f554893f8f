"""Child process of the crash test: commits a deterministic chain until it is killed.

Everything block ``h`` holds is a pure function of ``h`` (see :func:`batch_at`),
so the parent can recompute the expected state, state hash and indexes at
whatever height the child reached. Run: ``python -m storage_crash_writer <folder>``
from this directory; it prints ``open <height>`` once the store is open.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from pathlib import Path

import structlog

from storage import CommitBatch, Store, genesis_state_hash, next_state_hash

GENESIS_DOC = b'{"chain_id": "crash-test"}'
KEY_SPACE = 300
WALLETS = [bytes([index]) * 32 for index in range(12)]
COMPACT_EVERY = 700


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(b"crash/" + "/".join(map(str, parts)).encode()).digest()


def _state_key(number: int) -> bytes:
    return b"acct/%04d" % number


GENESIS_STATE = {_state_key(number): _digest("genesis", number) for number in range(0, KEY_SPACE, 3)}


def changes_at(height: int) -> dict[bytes, bytes | None]:
    """1 to 60 changes (400 every 17th height), about a quarter of them deletes."""
    seed = _digest(height, "count")
    count = 400 if height % 17 == 0 else 1 + seed[0] % 60
    changes: dict[bytes, bytes | None] = {}
    for index in range(count):
        digest = _digest(height, index)
        key = _state_key(int.from_bytes(digest[:2], "big") % KEY_SPACE)
        changes[key] = None if digest[2] < 64 else digest * (1 + digest[3] % 8)
    return changes


def txids_at(height: int) -> list[bytes]:
    return [_digest(height, "tx", index) for index in range(_digest(height, "count")[1] % 25)]


def touches_at(height: int) -> list[tuple[bytes, bytes]]:
    """Two wallets per transaction (sometimes the same one twice), in block order."""
    touches = []
    for txid in txids_at(height):
        touches.append((WALLETS[txid[0] % len(WALLETS)], txid))
        touches.append((WALLETS[txid[1] % len(WALLETS)], txid))
    return touches


def block_at(height: int) -> bytes:
    """Up to ~10 kB, so that some commits are large writes."""
    return b"block %d " % height + _digest(height, "block") * (1 + _digest(height, "size")[0])


def certificate_at(height: int) -> bytes:
    return b"certificate %d" % height


def batch_at(height: int, prev_state_hash: bytes) -> CommitBatch:
    changes = changes_at(height)
    block = block_at(height)
    return CommitBatch(
        height=height,
        block_hash=hashlib.sha256(block).digest(),
        block=block,
        certificate=certificate_at(height),
        changes=changes,
        state_hash=next_state_hash(prev_state_hash, height, changes),
        txids=txids_at(height),
        wallet_touches=touches_at(height),
    )


def run(path: Path) -> None:
    """Open, initialise if needed, then commit the next height forever."""
    with Store.open(path) as store:
        if not store.initialised:
            store.init_genesis(GENESIS_DOC, GENESIS_STATE, genesis_state_hash(GENESIS_STATE))
        sys.stdout.write(f"open {store.height}\n")
        sys.stdout.flush()
        while True:
            store.commit(batch_at(store.height + 1, store.state_hash))
            if store.height % COMPACT_EVERY == 0:
                store.compact()


if __name__ == "__main__":
    # stdout carries only the "open" line; per-block debug events would flood the pipe.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    run(Path(sys.argv[1]))
