"""The node's two gossip topics over p2p: consensus messages, and batches of transactions.

Every message is decoded and checked in the topic validator, before p2p relays
it (CometBFT's reactors do the same): bad bytes or signatures are REJECTed, which
costs the sending peer score points. The decoded object is kept for the
subscriber, so a signature is never checked twice.

Transactions travel in batches (``[tx, tx, ...]``): libp2p's cost is per message,
not per byte (notes/libp2p.md). A transaction from this node's API leaves at
after ``GATHER_SECONDS`` (5 ms, long enough for a batch submitted over HTTP to
arrive whole) when the topic is idle; while a publish is under way the next ones
gather and leave together in the next message.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import structlog
import trio

from consensus import Message, decode_message, encode_message
from consensus.errors import Rejected, TxRejected
from consensus.mempool import Mempool
from p2p import ACCEPT, IGNORE, REJECT, P2PNode, Verdict
from wallet.codec import pack, unpack
from wallet.errors import Rejected as CodecRejected

log = structlog.get_logger(__name__)

PEER_FAULTS = frozenset({"malformed", "non_canonical", "oversize", "bad_signature", "bad_envelope", "bad_version",
                         "bad_body", "bad_field", "bad_amount", "unknown_kind"})
"""Rejection codes that only a faulty or malicious peer causes (an overdraft can be an honest race)."""


GATHER_SECONDS = 0.005
"""After the first transaction, wait this long for the rest of its batch before publishing."""


def consensus_topic(chain_id: str) -> str:
    return f"/fedow/{chain_id}/consensus/1"


def txs_topic(chain_id: str) -> str:
    return f"/fedow/{chain_id}/txs/1"


class _DecodedCache:
    """Decoded objects handed from a topic validator to the subscriber, by their bytes (bounded)."""

    def __init__(self, capacity: int = 4096) -> None:
        self._items: OrderedDict[bytes, Any] = OrderedDict()
        self._capacity = capacity

    def put(self, data: bytes, value: Any) -> None:
        self._items[data] = value
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def pop(self, data: bytes) -> Any:
        return self._items.pop(data, None)


class ConsensusGossip:
    """consensus.Transport over the consensus topic, subscribed once for the node's lifetime.

    A node leaves consensus to block-sync when it falls behind and comes back, any
    number of times; the topic subscription outlives each spell (and keeps the node
    in the topic's mesh, relaying, while it syncs). :meth:`run` drains the topic for
    the node's lifetime and hands each message to the consensus attached with
    :meth:`attached`; between spells messages are validated and dropped.
    """

    def __init__(self, network: P2PNode, chain_id: str, max_block_bytes: Callable[[], int]) -> None:
        self.network = network
        self.chain_id = chain_id
        self.max_block_bytes = max_block_bytes
        """Read at each message: governance can change the chain parameter."""
        self.topic = consensus_topic(chain_id)
        self._decoded = _DecodedCache()
        self._inbox: trio.MemorySendChannel[Message] | None = None

    def validate(self, data: bytes, peer_id: str) -> Verdict:
        try:
            self._decoded.put(data, decode_message(data, self.chain_id, self.max_block_bytes()))
        except Rejected as exc:
            return REJECT(f"{exc.code}: {exc.detail}")
        return ACCEPT

    async def broadcast(self, message: Message) -> None:
        await self.network.publish(self.topic, encode_message(message))

    @contextmanager
    def attached(self, inbox: trio.MemorySendChannel[Message]) -> Iterator[None]:
        """Deliver the topic's messages into ``inbox`` while the block runs (one consensus at a time).

        On exit a delivery blocked on a full inbox is abandoned at once (its clone of the
        channel is closed), so the next spell of consensus never waits on the last one's inbox.
        """
        if self._inbox is not None:
            raise RuntimeError("a consensus is already attached to the consensus topic")
        self._inbox = inbox.clone()
        try:
            yield
        finally:
            self._inbox.close()
            self._inbox = None

    async def run(self) -> None:
        """Drain the topic for the node's lifetime, forwarding to the attached consensus, if any."""
        async for item in self.network.subscribe(self.topic, self.validate):
            message = self._decoded.pop(item.data)
            inbox = self._inbox
            if inbox is None:
                continue
            if message is None:  # evicted from the cache under load: decode again
                try:
                    message = decode_message(item.data, self.chain_id, self.max_block_bytes())
                except Rejected:
                    continue
            try:
                await inbox.send(message)
            except (trio.ClosedResourceError, trio.BrokenResourceError):
                pass  # that consensus left while we waited; the message belonged to it


SignaturesVerify = Callable[[Sequence[bytes]], Sequence[bool]]
"""For each transaction of a batch, whether its signatures verify (checked together on every core)."""


def _none_verified(txs: Sequence[bytes]) -> list[bool]:
    return [False] * len(txs)


class TxGossip:
    """Admits transactions into the mempool, locally or from peers, and gossips them in batches.

    A peer's batch has its signatures checked together first (``signatures_verify``, on every
    core), then each transaction is admitted with that answer: one whose signature failed is
    checked again on its own by the mempool, which refuses it with the usual reason.
    """

    def __init__(self, network: P2PNode, chain_id: str, mempool: Mempool, *, max_batch: int = 1000,
                 max_tx_bytes: int = 64 * 1024, signatures_verify: SignaturesVerify = _none_verified) -> None:
        self.network = network
        self.mempool = mempool
        self.signatures_verify = signatures_verify
        self.topic = txs_topic(chain_id)
        self.max_batch = max_batch
        self.max_tx_bytes = max_tx_bytes
        self._outbox: list[bytes] = []
        self._token: trio.lowlevel.TrioToken | None = None
        self._outbox_ready = trio.Event()

    def submit(self, tx: bytes, signature_verified: bool = False) -> bytes:
        """Admit a transaction from this node's API; raises TxRejected; returns its txid.

        ``signature_verified``: the API checked its signatures already (a batch, checked together).

        Plain synchronous code, so the asyncio HTTP handlers may call it directly
        (trio guest mode: one thread); the publishing task is woken through the trio
        token, the one way into trio that also wakes it when it waits on I/O.
        """
        info = self.mempool.add(tx, signature_verified=signature_verified)
        self.resend(tx)
        return info.txid

    def resend(self, tx: bytes) -> None:
        """Gossip ``tx`` (again): one published while no peer listened reached nobody (a node that was
        cut off forwards its offline journal this way until the chain has it)."""
        self._outbox.append(tx)
        if len(self._outbox) == 1 and self._token is not None:
            self._token.run_sync_soon(lambda: self._outbox_ready.set())

    def validate(self, data: bytes, peer_id: str) -> Verdict:
        """Admit a peer's batch; REJECT only for faults an honest peer cannot cause.

        Every good transaction of the batch is admitted, even beside a bad one: which ones
        enter does not depend on their order in the batch; the batch is then REJECTed."""
        try:
            batch = unpack(data, self.max_batch * (self.max_tx_bytes + 8) + 64)
        except CodecRejected as exc:
            return REJECT(f"tx batch: {exc.code}: {exc.detail}")
        if not isinstance(batch, list) or not batch or len(batch) > self.max_batch:
            return REJECT(f"tx batch must be an array of 1..{self.max_batch} transactions")
        if not all(isinstance(tx, bytes) for tx in batch):
            return REJECT("tx batch items must be byte strings")
        admitted = 0
        fault: TxRejected | None = None
        for tx, verified in zip(batch, self.signatures_verify(batch)):
            try:
                self.mempool.add(tx, signature_verified=verified)
                admitted += 1
            except TxRejected as exc:
                if exc.code in PEER_FAULTS and fault is None:
                    fault = exc
        if fault is not None:
            return REJECT(f"transaction refused: {fault.code}: {fault.detail}")
        return ACCEPT if admitted else IGNORE

    async def run(self) -> None:
        """Drain the topic (its messages were handled by the validator) and publish our batches."""
        self._token = trio.lowlevel.current_trio_token()
        if self._outbox:  # submitted before the node ran
            self._outbox_ready.set()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._drain)
            while True:
                await self._outbox_ready.wait()
                await trio.sleep(GATHER_SECONDS)  # a batch submitted over HTTP arrives one await at a time
                self._outbox_ready = trio.Event()
                while self._outbox:
                    batch, self._outbox = self._outbox[:self.max_batch], self._outbox[self.max_batch:]
                    await self.network.publish(self.topic, pack(batch))

    async def _drain(self) -> None:
        async for _item in self.network.subscribe(self.topic, self.validate):
            pass
