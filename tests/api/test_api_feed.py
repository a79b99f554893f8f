"""CommitFeed: waiters resolved by publish or failed by drop, timeouts cleaned up, slow subscribers dropped,
blocks re-read from the store.

Plain synchronous tests running asyncio scenarios with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio

import pytest

from fedow_node.api import CommitFeed, CommittedTx, SubmitRefused
from storage import TxLocation


def committed(n: int, height: int = 1) -> CommittedTx:
    return CommittedTx(n.to_bytes(32, "big"), height, n, "sale", b"\1" * 32, (b"\2" * 32,), b"tx", 1000 * height)


def test_waiters_get_the_location_when_published_and_nothing_leaks_on_timeout():
    async def scenario() -> None:
        known = {committed(9).txid: TxLocation(1, 9)}
        feed = CommitFeed(known.get)
        assert await feed.wait_committed(committed(9).txid, 0.01) == TxLocation(1, 9)  # already committed
        waiting = [asyncio.create_task(feed.wait_committed(committed(1).txid, 5)) for _ in range(2)]
        await asyncio.sleep(0)
        feed.publish([committed(0, height=4), committed(1, height=4)])
        assert await asyncio.gather(*waiting) == [TxLocation(4, 1), TxLocation(4, 1)]
        assert await feed.wait_committed(committed(2).txid, 0.01) is None
        assert feed._waiters == {}
    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_subscribers_get_every_item_in_order_and_a_slow_one_is_dropped():
    async def scenario() -> None:
        feed = CommitFeed(lambda txid: None, max_backlog=3)
        fast, slow = feed.subscribe(), feed.subscribe()
        first_fast, first_slow = asyncio.ensure_future(anext(fast)), asyncio.ensure_future(anext(slow))
        await asyncio.sleep(0)
        assert feed.subscribers == 2
        feed.publish([committed(0)])
        assert (await first_fast).position == (await first_slow).position == 0
        for n in range(1, 6):
            feed.publish([committed(n)])
            assert (await anext(fast)).position == n
        assert [item.position async for item in slow] == [1, 2, 3]  # then dropped: the stream ends
        assert feed.subscribers == 1
        await fast.aclose()
        assert feed.subscribers == 0
    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_a_dropped_transaction_fails_its_waiters_and_is_remembered():
    async def scenario() -> None:
        feed = CommitFeed(lambda txid: None)
        txid = committed(3).txid
        waiter = asyncio.create_task(feed.wait_committed(txid, 5))
        await asyncio.sleep(0)
        feed.drop(txid, "overdraft", "wallet holds 20 FED, 80 needed")
        with pytest.raises(SubmitRefused) as caught:
            await waiter
        assert caught.value.code == "overdraft" and txid.hex() in caught.value.detail
        assert feed.dropped(txid) is caught.value and feed.dropped(committed(4).txid) is None
        with pytest.raises(SubmitRefused):
            await feed.wait_committed(txid, 5)  # answers at once
        assert feed._waiters == {}
    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_a_block_reread_from_the_store_answers_its_waiters_and_ends_every_stream():
    async def scenario() -> None:
        feed = CommitFeed(lambda txid: None)
        stream = feed.subscribe()
        first = asyncio.ensure_future(anext(stream))
        waiter = asyncio.create_task(feed.wait_committed(committed(2).txid, 5))
        await asyncio.sleep(0)
        feed.publish([committed(0, height=3)])
        assert (await first).height == 3
        feed.lost_track([(committed(1).txid, TxLocation(4, 0)), (committed(2).txid, TxLocation(4, 1))])
        assert await waiter == TxLocation(4, 1)
        assert [item async for item in stream] == []  # what block 4 touched is unknown: the stream ends
        assert feed.subscribers == 0 and feed._waiters == {}
    asyncio.run(asyncio.wait_for(scenario(), 10))
