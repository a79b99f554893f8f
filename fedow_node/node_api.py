"""The running node as the HTTP API sees it: :class:`fedow_node.api.facade.NodeFacade` over :class:`FedowNode`.

Everything here runs on the one thread shared by asyncio and the trio guest, so
submission (a synchronous mempool check) and reads need no bridging; commits
reach the API through the application's commit listeners, which resolve asyncio
futures and feed the event streams.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator, Mapping

import structlog

from consensus.errors import TxRejected
from fedow_node.api.facade import CommittedTx, SubmitRefused
from fedow_node.api.tokens import tokens_path
from fedow_node.application import Committed
from fedow_node.node import FedowNode
from storage import Store, TxLocation
from wallet.keys import SigningKey
from wallet.state import StateReader

log = structlog.get_logger(__name__)

STREAM_QUEUE = 10_000
"""Committed transactions buffered per event-stream client before it is dropped as too slow."""


class NodeApi:
    """NodeFacade implementation; build it after :meth:`FedowNode.open`, inside the asyncio loop."""

    def __init__(self, node: FedowNode) -> None:
        assert node.store is not None and node.app is not None and node.txs is not None and node.mempool is not None
        self.node = node
        self.chain_id = node.chain_id
        self.store: Store = node.store
        self.reader: StateReader = node.store
        self.place_key: SigningKey | None = node.place_key
        self.api_tokens_path: Path = tokens_path(node.home)
        self._loop = asyncio.get_running_loop()
        self._waiters: dict[bytes, list[asyncio.Future[TxLocation]]] = {}
        self._streams: set[asyncio.Queue[CommittedTx | None]] = set()
        self._submitted_at: dict[bytes, float] = {}
        node.app.commit_listeners.append(self._on_commit)

    def status(self) -> Mapping[str, Any]:
        return self.node.status()

    async def submit(self, tx: bytes) -> bytes:
        assert self.node.txs is not None
        try:
            txid = self.node.txs.submit(tx)
        except TxRejected as exc:
            raise SubmitRefused(exc.code, exc.detail) from None
        self._submitted_at[txid] = self._loop.time()
        return txid

    def is_pending(self, txid: bytes) -> bool:
        assert self.node.mempool is not None
        return self.node.mempool.contains_txid(txid)

    async def wait_committed(self, txid: bytes, timeout_s: float) -> TxLocation | None:
        found = self.store.tx_location(txid)
        if found is not None:
            return found
        future: asyncio.Future[TxLocation] = self._loop.create_future()
        self._waiters.setdefault(txid, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout_s)
        except asyncio.TimeoutError:
            return None
        finally:
            waiting = self._waiters.get(txid)
            if waiting is not None:
                if future in waiting:
                    waiting.remove(future)
                if not waiting:
                    del self._waiters[txid]

    def next_expiry(self) -> int:
        assert self.node.app is not None
        return self.store.height + self.node.app.params.tx_ttl_blocks

    async def subscribe_commits(self) -> AsyncIterator[CommittedTx]:
        queue: asyncio.Queue[CommittedTx | None] = asyncio.Queue(STREAM_QUEUE)
        self._streams.add(queue)
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            self._streams.discard(queue)

    def _on_commit(self, committed: Committed) -> None:
        """Commit listener (runs in a trio task on the shared thread): wake waiters, feed streams."""
        now = self._loop.time()
        block = self.store.block(committed.height) if self._streams else None
        txs = self._block_txs(block) if block is not None else ()
        for position, result in enumerate(committed.results):
            location = TxLocation(committed.height, position)
            submitted = self._submitted_at.pop(result.txid, None)
            if submitted is not None:
                self.node.metrics.finality.observe(now - submitted)
            for future in self._waiters.pop(result.txid, []):
                if not future.done():
                    future.set_result(location)
            if self._streams:
                event = CommittedTx(result.txid, committed.height, position, result.kind, b"", result.touched,
                                    txs[position] if position < len(txs) else b"")
                self._publish(event)

    def _block_txs(self, block: bytes) -> tuple[bytes, ...]:
        from wallet.block import decode_block

        return decode_block(block, chain_id=self.chain_id, max_bytes=len(block)).txs

    def _publish(self, event: CommittedTx) -> None:
        for queue in list(self._streams):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("api.stream_dropped", reason="client too slow")
                self._streams.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)
