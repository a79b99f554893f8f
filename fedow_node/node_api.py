"""The running node as the HTTP API sees it: :class:`fedow_node.api.facade.NodeFacade` over :class:`FedowNode`.

asyncio (the API) and trio (the node, as a guest) share the main thread, so
submission (a synchronous mempool check) needs no bridging; blocks are executed and
committed in the node's execution worker thread meanwhile, so reads of several state
keys go through :attr:`NodeApi.reader` (one snapshot per commit) and the mempool is
asked before the store (a commit is stored before the mempool lets go of it). The
daemon's reader of the node's channel of commits (fedow_node/engine/commits.py)
hands each block, with the transactions the mempool dropped after it, to
:meth:`NodeApi.committed`, on the main thread.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator, Mapping, Sequence

from consensus.errors import TxRejected
from fedow_node.api.facade import CommittedTx, SubmitRefused
from fedow_node.api.feed import CommitFeed
from fedow_node.api.tokens import tokens_path
from fedow_node.engine.commits import CommittedBlock
from fedow_node.node import FedowNode
from fedow_node.offline import OfflineService
from fedow_node.reader import CardReaderHub
from storage import CommittedState, Store, TxLocation
from wallet.keys import SigningKey


class NodeApi:
    """NodeFacade implementation; build it after :meth:`FedowNode.open`, inside the asyncio loop."""

    def __init__(self, node: FedowNode) -> None:
        assert node.store is not None and node.app is not None and node.mempool is not None
        self.node = node
        self.chain_id = node.chain_id
        self.store: Store = node.store
        self.place_key: SigningKey | None = node.place_key
        self.api_tokens_path: Path = tokens_path(node.home)
        self.card_reader: CardReaderHub | None = node.card_reader
        self.offline: OfflineService | None = node.offline
        self.feed = CommitFeed(node.store.tx_location)
        self._loop = asyncio.get_running_loop()
        self._submitted_at: dict[bytes, float] = {}

    @property
    def reader(self) -> CommittedState:
        """The state as the last commit left it (the execution worker swaps in a new snapshot at each commit)."""
        return self.store.committed

    def status(self) -> Mapping[str, Any]:
        return self.node.status()

    async def submit(self, tx: bytes) -> bytes:
        return self._admit(tx, signature_verified=False)

    async def submit_batch(self, txs: Sequence[bytes]) -> list[bytes | SubmitRefused]:
        """The batch's signatures checked together on every core, then each admitted with that answer
        (one that failed is checked again on its own and refused with the usual reason)."""
        assert self.node.app is not None
        results: list[bytes | SubmitRefused] = []
        for tx, verified in zip(txs, self.node.app.signatures_verify(txs)):
            try:
                results.append(self._admit(tx, signature_verified=verified))
            except SubmitRefused as refusal:
                results.append(refusal)
        return results

    def _admit(self, tx: bytes, signature_verified: bool) -> bytes:
        assert self.node.txs is not None
        try:
            txid = self.node.txs.submit(tx, signature_verified)
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

    def committed(self, block: CommittedBlock) -> None:
        """A block from the channel of commits: answer the tills waiting for its transactions, feed the event
        streams, then fail the waiters of the transactions the mempool dropped after it."""
        now = self._loop.time()
        for tx in block.txs:
            submitted = self._submitted_at.pop(tx.txid, None)
            if submitted is not None:
                self.node.metrics.finality.observe(now - submitted)
        if block.results is None:  # re-read from the store: the touched wallets the streams filter on are gone
            self.feed.lost_track([(tx.txid, TxLocation(block.height, position)) for position, tx in enumerate(block.txs)])
        elif block.results:
            self.feed.publish([
                CommittedTx(result.txid, block.height, position, result.kind, tx.signer, result.touched, raw,
                            block.time_ms)
                for position, (result, tx, raw) in enumerate(zip(block.results, block.txs, block.raw_txs))])
        for eviction in block.evicted:
            self._submitted_at.pop(eviction.txid, None)
            self.feed.drop(eviction.txid, eviction.why.code, eviction.why.detail)

