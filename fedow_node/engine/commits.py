"""The node's channel of committed blocks: one bounded trio memory channel, one reader, a commit path that never waits.

Writers (in the node's execution worker, or on the trio thread in tools and tests):
the Application announces each block it commits (:meth:`CommitChannel.block_committed`),
and the mempool, at the end of the pass it makes after that commit, says which
transactions the block made invalid (:meth:`CommitChannel.mempool_updated`, wired to
``Mempool.on_update``). The block goes into the channel then, with those evictions, so
a till waiting for a transaction learns in one item whether it was committed or
dropped. Block sync commits many blocks before the mempool's pass: each next commit
sends the one before. A trio memory channel is not thread-safe: a writer on another
thread than the channel's owner hands the item to trio with ``run_sync_soon`` (never
waits, keeps the order), and everything the reader also reads (the carried evictions,
the left-out heights) is touched on the trio thread only.

Reader: the daemon's one task (``async for block in channel.blocks()``) that hands
each block to the HTTP API (``?wait=commit`` waiters, the event stream, the Stripe
bridge, which waits for its credits through the API) and to the node's metrics and
restore guard. Every height comes out once, in order.

A slow reader never slows a commit. The channel holds ``capacity`` blocks; when it is
full the block is left out (``commit_channel_full`` warning), its evictions are
carried into the next item, and the reader, on finding the gap, re-reads the
missing blocks from the store before going on. A re-read block has ``results=None``:
the store keeps the transactions, not what their execution touched.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import AsyncIterator, Callable

import structlog
import trio

import wallet
from consensus.mempool import Eviction
from storage import Store
from wallet.block import decode_block

__all__ = ["CAPACITY", "CommitChannel", "CommittedBlock"]

log = structlog.get_logger(__name__)

CAPACITY = 256
"""Blocks the channel holds: the reader drains it whenever the committing task yields, and block sync
yields after each batch of at most 64 blocks, so it fills only if the reader is starved."""
MAX_CARRIED_EVICTIONS = 10_000
"""Evictions kept for the next item while the channel is full (the mempool's default size); older ones are
forgotten and their waiters time out as if the news never came."""


@dataclass(frozen=True)
class CommittedBlock:
    """A durably committed block as the rest of the node sees it."""

    height: int
    block_hash: bytes
    time_ms: int
    txs: tuple[wallet.Tx, ...]
    """The block's transactions, decoded, in block order."""
    raw_txs: tuple[bytes, ...]
    results: tuple[wallet.TxResult, ...] | None
    """What executing each transaction told (kind, touched wallets, moves), in block order; None for a
    block the reader re-read from the store, which keeps no execution results."""
    evicted: tuple[Eviction, ...] = ()
    """Transactions the mempool dropped after this commit because they no longer apply."""


class CommitChannel:
    """The writers' side (:meth:`block_committed`, :meth:`mempool_updated`) and the one reader's (:meth:`blocks`).

    ``store`` is where the reader re-reads what the channel had no room for; build the
    channel before the first commit it must carry (its reader starts after the store's tip),
    on the thread trio runs on, and :meth:`bind` it to that trio run before a writer on
    another thread uses it.
    """

    def __init__(self, store: Store, chain_id: str, capacity: int = CAPACITY) -> None:
        self._store = store
        self._chain_id = chain_id
        self._send, self._receive = trio.open_memory_channel[CommittedBlock](capacity)
        self._open: CommittedBlock | None = None
        """Committed, waiting for the mempool's pass to add its evictions."""
        self._carried: list[Eviction] = []
        """Evictions of blocks the channel had no room for."""
        self._left_out_through = 0
        """The highest height left out of the channel: the reader re-reads up to it from the store."""
        self._read_through = store.height
        self.left_out = 0
        """Blocks left out because the channel was full (the reader re-read them)."""
        self._owner = threading.get_ident()
        self._token: trio.lowlevel.TrioToken | None = None

    def bind(self, token: trio.lowlevel.TrioToken) -> None:
        """The trio run (on the owner's thread) that items from other threads are handed to."""
        self._token = token

    # --- writers: the commit path; plain functions that never wait --------------------

    def block_committed(self, block: CommittedBlock) -> None:
        """A block is durably committed; it goes out after the mempool's pass (or with the next commit)."""
        self._seal()
        self._open = block

    def mempool_updated(self, evicted: tuple[Eviction, ...]) -> None:
        """The mempool's pass after the last commit is over: send that block with what the pass evicted."""
        if self._open is None:
            self._on_owner(self._carry, evicted)
            return
        self._open = replace(self._open, evicted=self._open.evicted + evicted)
        self._seal()

    def _seal(self) -> None:
        if self._open is None:
            return
        block, self._open = self._open, None
        self._on_owner(self._send_item, block)

    def _on_owner(self, action: Callable[..., None], *args: object) -> None:
        """Run ``action`` on the channel's thread: now if this is it, else soon through trio (never waiting)."""
        if threading.get_ident() == self._owner:
            action(*args)
        else:
            assert self._token is not None, "bind the channel to its trio run before committing on another thread"
            self._token.run_sync_soon(action, *args)

    def _send_item(self, block: CommittedBlock) -> None:
        item = replace(block, evicted=tuple(self._carried) + block.evicted)
        try:
            self._send.send_nowait(item)
        except trio.WouldBlock:
            self.left_out += 1
            self._left_out_through = block.height
            self._carried = []
            self._carry(item.evicted)
            log.warning("commit_channel_full", height=block.height, capacity=self._send.statistics().max_buffer_size)
        else:
            self._carried = []

    def _carry(self, evicted: tuple[Eviction, ...]) -> None:
        self._carried.extend(evicted)
        del self._carried[:-MAX_CARRIED_EVICTIONS]

    # --- the reader -------------------------------------------------------------------

    async def blocks(self) -> AsyncIterator[CommittedBlock]:
        """Every committed block after the store's tip at construction, once each, in height order."""
        while True:
            try:
                item = self._receive.receive_nowait()
            except trio.WouldBlock:
                for block in self._reread(self._left_out_through, with_carried=True):
                    yield block
                item = await self._receive.receive()
            for block in self._reread(item.height - 1, with_carried=False):
                yield block
            if item.height > self._read_through:
                self._read_through = item.height
                yield item

    def _reread(self, through: int, *, with_carried: bool) -> list[CommittedBlock]:
        """Blocks after the last one read up to ``through``, from the store; the last takes the carried
        evictions when nothing else will bring them (the channel is empty)."""
        if through <= self._read_through:
            return []
        blocks = [self._from_store(stored.height, stored.block_hash, stored.block)
                  for stored in self._store.blocks(self._read_through + 1, through)]
        self._read_through = through
        if with_carried and self._carried:
            blocks[-1] = replace(blocks[-1], evicted=tuple(self._carried))
            self._carried = []
        return blocks

    def _from_store(self, height: int, block_hash: bytes, raw: bytes) -> CommittedBlock:
        block = decode_block(raw, chain_id=self._chain_id, max_bytes=len(raw))
        txs = tuple(wallet.decode_tx(tx, len(tx)) for tx in block.txs)
        return CommittedBlock(height, block_hash, block.header.time_ms, txs, block.txs, None)
