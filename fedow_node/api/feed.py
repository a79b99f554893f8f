"""CommitFeed: hands committed transactions to ``?wait=commit`` waiters and event-stream subscribers.

A ready-made part of :class:`~fedow_node.api.facade.NodeFacade`: the node calls
:meth:`CommitFeed.publish` after each block commit and :meth:`CommitFeed.drop`
for each accepted transaction it later evicts, on the asyncio loop's thread (in
trio guest mode the trio side runs on that same thread), and forwards
``wait_committed``, ``dropped`` and ``subscribe_commits`` to the feed. Each
subscriber has a bounded queue; one that falls ``max_backlog`` transactions
behind is dropped (its stream ends and the client reconnects) rather than
letting memory grow. Blocks the node had to re-read from its store
(:meth:`CommitFeed.lost_track`) answer their waiters and end every stream alike.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import AsyncIterator, Callable, Sequence

import structlog

from fedow_node.api.facade import CommittedTx, SubmitRefused
from storage import TxLocation

__all__ = ["CommitFeed"]

log = structlog.get_logger(__name__)

DEFAULT_BACKLOG = 10_000
REMEMBERED_DROPS = 10_000


class _Subscriber:
    def __init__(self, max_backlog: int) -> None:
        self.queue: asyncio.Queue[CommittedTx | None] = asyncio.Queue(max_backlog + 1)
        self.max_backlog = max_backlog
        self.dropped = False

    def offer(self, item: CommittedTx) -> None:
        if self.dropped:
            return
        if self.queue.qsize() >= self.max_backlog:
            self.end()
            log.warning("commit_subscriber_dropped", backlog=self.max_backlog)
            return
        self.queue.put_nowait(item)

    def end(self) -> None:
        if not self.dropped:
            self.dropped = True
            self.queue.put_nowait(None)  # the one slot kept free: ends the stream


class CommitFeed:
    """Fan-out of committed transactions on the asyncio side; ``lookup`` is ``store.tx_location``."""

    def __init__(self, lookup: Callable[[bytes], TxLocation | None], max_backlog: int = DEFAULT_BACKLOG) -> None:
        self._lookup = lookup
        self._max_backlog = max_backlog
        self._waiters: dict[bytes, list[asyncio.Future[TxLocation]]] = {}
        self._subscribers: list[_Subscriber] = []
        self._drops: OrderedDict[bytes, SubmitRefused] = OrderedDict()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, committed: Sequence[CommittedTx]) -> None:
        """Announce one block's transactions (in block order), once they are durably committed."""
        for item in committed:
            self._answer(item.txid, TxLocation(item.height, item.position))
            for subscriber in self._subscribers:
                subscriber.offer(item)

    def lost_track(self, located: Sequence[tuple[bytes, TxLocation]]) -> None:
        """A block the node re-read from its store (it fell behind its commits): answer its waiters, and end
        every stream, which cannot be told what the block touched (its client reconnects and reads the history)."""
        for txid, location in located:
            self._answer(txid, location)
        for subscriber in self._subscribers:
            subscriber.end()
        if self._subscribers:
            log.warning("commit_streams_ended", subscribers=len(self._subscribers))

    def _answer(self, txid: bytes, location: TxLocation) -> None:
        for future in self._waiters.pop(txid, ()):
            if not future.done():
                future.set_result(location)

    def drop(self, txid: bytes, code: str, detail: str) -> None:
        """An accepted transaction will never be committed: tell its waiters and remember why."""
        refusal = SubmitRefused(code, f"transaction {txid.hex()} was dropped before commit: {detail}")
        self._drops[txid] = refusal
        while len(self._drops) > REMEMBERED_DROPS:
            self._drops.popitem(last=False)
        for future in self._waiters.pop(txid, ()):
            if not future.done():
                future.set_exception(refusal)

    def dropped(self, txid: bytes) -> SubmitRefused | None:
        return self._drops.get(txid)

    async def wait_committed(self, txid: bytes, timeout_s: float) -> TxLocation | None:
        """Where ``txid`` is committed, as soon as it is; None after ``timeout_s``; SubmitRefused if dropped."""
        location = self._lookup(txid)
        if location is not None:
            return location
        if txid in self._drops:
            raise self._drops[txid]
        future: asyncio.Future[TxLocation] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(txid, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            return None
        finally:
            waiting = self._waiters.get(txid)
            if waiting is not None and future in waiting:
                waiting.remove(future)
                if not waiting:
                    del self._waiters[txid]

    async def subscribe(self) -> AsyncIterator[CommittedTx]:
        """Every transaction published from now on, until closed or dropped for falling behind."""
        subscriber = _Subscriber(self._max_backlog)
        self._subscribers.append(subscriber)
        try:
            while (item := await subscriber.queue.get()) is not None:
                yield item
        finally:
            self._subscribers.remove(subscriber)
