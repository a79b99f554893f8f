"""The running node as the HTTP API sees it: :class:`fedow_node.api.facade.NodeFacade` over :class:`FedowNode`.

asyncio (the API) and trio (the node, as a guest) share one thread, so
submission (a synchronous mempool check) and reads need no bridging. Commits
and mempool evictions reach the API's :class:`CommitFeed` through listeners of
the application and the mempool, which are called on that same thread.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator, Mapping

from consensus.errors import TxRejected
from fedow_node.api.facade import CommittedTx, SubmitRefused
from fedow_node.api.feed import CommitFeed
from fedow_node.api.tokens import tokens_path
from fedow_node.engine.application import Committed
from fedow_node.node import FedowNode
from fedow_node.offline import OfflineService
from fedow_node.reader import CardReaderHub
from storage import Store, TxLocation
from wallet.keys import SigningKey
from wallet.state import StateReader


class NodeApi:
    """NodeFacade implementation; build it after :meth:`FedowNode.open`, inside the asyncio loop."""

    def __init__(self, node: FedowNode) -> None:
        assert node.store is not None and node.app is not None and node.mempool is not None
        self.node = node
        self.chain_id = node.chain_id
        self.store: Store = node.store
        self.reader: StateReader = node.store
        self.place_key: SigningKey | None = node.place_key
        self.api_tokens_path: Path = tokens_path(node.home)
        self.card_reader: CardReaderHub | None = node.card_reader
        self.offline: OfflineService | None = node.offline
        self.feed = CommitFeed(node.store.tx_location)
        self._loop = asyncio.get_running_loop()
        self._submitted_at: dict[bytes, float] = {}
        node.app.commit_listeners.append(self._on_commit)
        node.mempool.evict_listeners.append(self._on_evict)

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
        return await self.feed.wait_committed(txid, timeout_s)

    def dropped(self, txid: bytes) -> SubmitRefused | None:
        return self.feed.dropped(txid)

    def next_expiry(self) -> int:
        assert self.node.app is not None
        return self.store.height + self.node.app.params.tx_ttl_blocks

    def subscribe_commits(self) -> AsyncIterator[CommittedTx]:
        return self.feed.subscribe()

    def note_signed(self, txid: bytes, till: str) -> None:
        assert self.node.app is not None
        self.node.app.tills.note(txid, till)

    def _on_commit(self, committed: Committed) -> None:
        now = self._loop.time()
        for txid in (result.txid for result in committed.results):
            submitted = self._submitted_at.pop(txid, None)
            if submitted is not None:
                self.node.metrics.finality.observe(now - submitted)
        if committed.results:
            self.feed.publish([
                CommittedTx(result.txid, committed.height, position, result.kind, tx.signer, result.touched, raw,
                            committed.time_ms)
                for position, (result, tx, raw) in enumerate(zip(committed.results, committed.txs, committed.raw_txs))])

    def _on_evict(self, txid: bytes, why: TxRejected) -> None:
        self._submitted_at.pop(txid, None)
        self.feed.drop(txid, why.code, why.detail)

