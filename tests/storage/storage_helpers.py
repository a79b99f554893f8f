"""Builders shared by the storage unit tests: a valid next batch from a few fields."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from storage import CommitBatch, Store, genesis_state_hash, next_state_hash

GENESIS_DOC = b'{"chain_id": "unit-test"}'
GENESIS_STATE = {b"acct/a": b"10", b"acct/b": b"20", b"asset/FED": b"euro"}


def txid(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def init(store: Store) -> None:
    store.init_genesis(GENESIS_DOC, GENESIS_STATE, genesis_state_hash(GENESIS_STATE))


def next_batch(
    store: Store,
    changes: Mapping[bytes, bytes | None] | None = None,
    txids: Sequence[bytes] = (),
    touches: Sequence[tuple[bytes, bytes]] = (),
) -> CommitBatch:
    """The valid batch for ``store.height + 1`` with these changes and index entries."""
    height = store.height + 1
    changes = {} if changes is None else changes
    block = b"block %d" % height
    return CommitBatch(
        height=height,
        block_hash=hashlib.sha256(block).digest(),
        block=block,
        certificate=b"certificate %d" % height,
        changes=changes,
        state_hash=next_state_hash(store.state_hash, height, changes),
        txids=list(txids),
        wallet_touches=list(touches),
    )
