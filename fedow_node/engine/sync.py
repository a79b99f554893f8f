"""Block sync: a node that is behind fetches decided blocks with their certificates from peers.

Protocol ``/fedow/<chain id>/sync/1`` over p2p request/response, canonical msgpack:

* ``["tip"]`` -> ``[height]``
* ``["blocks", from_height, max_count]`` -> ``[[block, certificate], ...]`` (consecutive
  heights from ``from_height``, at most ``max_count`` and about ``MAX_RESPONSE_BYTES``).

The client trusts nothing it receives: each certificate must carry more than 2/3
of the validator set of its height (known from the state the node has already
verified) and certify exactly the block's id; the block is then executed in full
(every transaction signature, the state hash) before it is committed. A peer that
sends a bad block or certificate is penalised and the next peer is tried.

Blocks are fetched in large batches, the next batch while the current one is
applied: the cost per message, not per byte, is what limits libp2p here. While
blocks wait their turn, their transactions are decoded and their signatures checked
together on every core, ``CHECK_BLOCKS`` at a time (:mod:`wallet.verify_pool`, in a
thread beside the event loop); each block is then executed with its transactions
decoded and their signatures known good. Only the check moves: a block with
a forged signature is still refused, with the same reason, when its turn comes.
Each block is applied, and the mempool's pass made, through ``execute`` (the
daemon's execution worker, the one thread that commits), never beside a commit by
consensus.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
import trio

from consensus import Certificate, block_id_of, decode_certificate, verify_certificate
from consensus.driver import Execute, inline
from consensus.errors import Rejected
from consensus.mempool import Mempool
from fedow_node.engine.application import LedgerApplication
from p2p import P2PError
import wallet
from wallet.block import decode_block
from wallet.codec import pack, unpack
from wallet.errors import Rejected as CodecRejected
from wallet.tx import verified_txids
from wallet.verify_pool import VerifyPool

log = structlog.get_logger(__name__)

MAX_RESPONSE_BYTES = 16 * 1024 * 1024
BATCH_BLOCKS = 64
CHECK_BLOCKS = 8
"""Blocks whose signatures are checked together: the first are applied while the next are checked."""
BAD_SYNC_PENALTY = 50
BAD_REQUEST_PENALTY = 20
"""A sync request or answer that breaks the protocol: only a faulty or hostile peer sends one."""


def protocol_id(chain_id: str) -> str:
    return f"/fedow/{chain_id}/sync/1"


class SyncNetwork(Protocol):
    """The part of :class:`p2p.P2PNode` block sync uses."""

    def connected_peers(self) -> list[str]: ...

    async def request(self, peer_id: str, protocol_id: str, data: bytes, *, max_response_bytes: int) -> bytes: ...

    def penalize(self, peer_id: str, points: int, reason: str) -> None: ...


class SyncServer:
    """Answers sync requests from the local store; a malformed request is refused and costs its peer points."""

    def __init__(self, app: LedgerApplication, network: SyncNetwork) -> None:
        self.app = app
        self.network = network

    async def handle(self, peer_id: str, request: bytes) -> bytes:
        try:
            fields = unpack(request, 1024)
        except CodecRejected as exc:
            raise self._refuse(peer_id, f"sync request: {exc.code}: {exc.detail}") from None
        if fields == ["tip"]:
            return pack([self.app.store.height])
        if (isinstance(fields, list) and len(fields) == 3 and fields[0] == "blocks"
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in fields[1:])):
            return pack(self._blocks(fields[1], min(fields[2], BATCH_BLOCKS)))
        raise self._refuse(peer_id, "sync request must be ['tip'] or ['blocks', from_height, max_count]")

    def _refuse(self, peer_id: str, reason: str) -> P2PError:
        self.network.penalize(peer_id, BAD_REQUEST_PENALTY, reason)
        return P2PError("bad_request", reason)

    def _blocks(self, start: int, count: int) -> list[list[bytes]]:
        out: list[list[bytes]] = []
        size = 0
        last = min(start + count - 1, self.app.store.height)
        if start > last:
            return out
        for stored in self.app.store.blocks(start, last):
            size += len(stored.block) + len(stored.certificate)
            if out and size > MAX_RESPONSE_BYTES - 1024 * 1024:
                break
            out.append([stored.block, stored.certificate])
        return out


CheckedTxs = Mapping[bytes, wallet.Tx]
"""Transactions of a block decoded and with their signatures verified, by their bytes."""


@dataclass(frozen=True)
class _Fetched:
    """A decided block as fetched, with its transactions checked ahead."""

    block: bytes
    certificate: Certificate
    checked: CheckedTxs


def check_signatures_ahead(chain_id: str, blocks: Sequence[bytes], pool: VerifyPool) -> list[CheckedTxs]:
    """For each block, its transactions decoded whose txid has good signatures throughout the batch (one pool call).

    A block or transaction that does not decode contributes nothing: its execution says what is wrong.
    """
    per_block: list[dict[bytes, wallet.Tx]] = []
    for raw in blocks:
        txs: dict[bytes, wallet.Tx] = {}
        try:
            for tx in decode_block(raw, chain_id=chain_id, max_bytes=len(raw)).txs:
                txs[tx] = wallet.decode_tx(tx, len(tx))
        except wallet.Rejected:
            pass
        per_block.append(txs)
    good = verified_txids(chain_id, [tx for txs in per_block for tx in txs.values()], pool)
    return [{raw: tx for raw, tx in txs.items() if tx.txid in good} for txs in per_block]


@dataclass(frozen=True)
class SyncReport:
    blocks: int
    txs: int
    seconds: float


class BlockSyncer:
    """Fetches and applies blocks until no connected peer is ahead of us.

    After each batch the ``mempool`` (if given) lets go of the transactions the batch
    committed and re-checks the rest, as after a commit by consensus.
    """

    def __init__(self, app: LedgerApplication, network: SyncNetwork, mempool: Mempool | None = None,
                 execute: Execute = inline) -> None:
        self.app = app
        self.network = network
        self.mempool = mempool
        self.execute = execute
        self.protocol = protocol_id(app.chain_id)

    async def _ask(self, peer: str, request: list[object]) -> object:
        answer = await self.network.request(peer, self.protocol, pack(request), max_response_bytes=MAX_RESPONSE_BYTES)
        return unpack(answer, MAX_RESPONSE_BYTES)

    async def best_peer(self) -> tuple[str, int] | None:
        """The connected peer with the highest tip above ours, if any."""
        best: tuple[str, int] | None = None
        for peer in self.network.connected_peers():
            try:
                with trio.move_on_after(5):
                    tip = await self._ask(peer, ["tip"])
                    if not (isinstance(tip, list) and len(tip) == 1 and isinstance(tip[0], int)
                            and not isinstance(tip[0], bool)):
                        self.network.penalize(peer, BAD_REQUEST_PENALTY, "sync: the tip answer is not [height]")
                    elif tip[0] > self.app.store.height and (best is None or tip[0] > best[1]):
                        best = (peer, tip[0])
            except CodecRejected as exc:
                self.network.penalize(peer, BAD_REQUEST_PENALTY, f"sync: undecodable tip answer: {exc.detail}")
            except P2PError as exc:
                log.debug("sync.tip_unavailable", peer=peer, error=str(exc))
        return best

    async def run_once(self) -> SyncReport:
        """Sync to the best peer's tip as it was when we asked; returns what was applied."""
        start = trio.current_time()
        blocks = txs = 0
        best = await self.best_peer()
        if best is None:
            return SyncReport(0, 0, 0.0)
        peer, target = best
        log.info("sync.start", peer=peer, from_height=self.app.store.height + 1, target=target)
        send, receive = trio.open_memory_channel[list[_Fetched]](2 * BATCH_BLOCKS // CHECK_BLOCKS)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._fetch, peer, target, send)
            async with receive:
                async for batch in receive:
                    committed: list[bytes] = []
                    for item in batch:
                        try:
                            committed += await self.execute(apply_decided, self.app, item.block,
                                                            item.certificate, item.checked)
                        except Rejected as exc:
                            self.network.penalize(peer, BAD_SYNC_PENALTY, f"sync: {exc.code}: {exc.detail}")
                            log.warning("sync.bad_block", peer=peer, code=exc.code, detail=exc.detail)
                            nursery.cancel_scope.cancel()
                            break
                        blocks += 1
                    txs += len(committed)
                    if self.mempool is not None:
                        await self.execute(self.mempool.update, committed)
                    await trio.lowlevel.checkpoint()
        seconds = trio.current_time() - start
        log.info("sync.done", peer=peer, blocks=blocks, txs=txs, seconds=round(seconds, 3), height=self.app.store.height)
        return SyncReport(blocks, txs, seconds)

    async def _fetch(self, peer: str, target: int, send: trio.MemorySendChannel[list[_Fetched]]) -> None:
        async with send:
            next_height = self.app.store.height + 1
            while next_height <= target:
                try:
                    answer = await self._ask(peer, ["blocks", next_height, BATCH_BLOCKS])
                    batch = self._decode_batch(answer)
                except P2PError as exc:
                    log.warning("sync.fetch_failed", peer=peer, height=next_height, error=str(exc))
                    return
                except (CodecRejected, Rejected) as exc:
                    self.network.penalize(peer, BAD_SYNC_PENALTY, f"sync: malformed blocks answer: {exc.detail}")
                    log.warning("sync.bad_answer", peer=peer, height=next_height, error=str(exc))
                    return
                if not batch:
                    return
                for start in range(0, len(batch), CHECK_BLOCKS):
                    part = batch[start:start + CHECK_BLOCKS]
                    checked = await trio.to_thread.run_sync(check_signatures_ahead, self.app.chain_id,
                                                            [block for block, _ in part], self.app.verify_pool)
                    await send.send([_Fetched(block, certificate, txs)
                                     for (block, certificate), txs in zip(part, checked)])
                next_height += len(batch)

    @staticmethod
    def _decode_batch(answer: object) -> list[tuple[bytes, Certificate]]:
        if not isinstance(answer, list):
            raise Rejected("malformed", "sync answer must be an array of [block, certificate]")
        batch = []
        for item in answer:
            if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, bytes) for x in item)):
                raise Rejected("malformed", "sync answer items must be [block, certificate] byte strings")
            batch.append((item[0], decode_certificate(item[1])))
        return batch



def apply_decided(app: LedgerApplication, block: bytes, certificate: Certificate,
                  checked: CheckedTxs | None = None) -> tuple[bytes, ...]:
    """Verify a decided block's certificate against the set we know, then execute and commit it.

    Returns the txids it committed; raises ``Rejected`` and changes nothing if
    anything is wrong. This is the whole path of block sync and of a replay.
    ``checked``: its transactions decoded and verified ahead (:func:`check_signatures_ahead`).
    """
    height = app.store.height + 1
    verify_certificate(certificate, app.validator_set(height), app.chain_id, height, block_id_of(block))
    return app.commit_block(block, certificate, checked).txids

