"""ConsensusGossip: one subscription for the node's lifetime, attached to each spell of consensus in turn.

A node that falls behind leaves consensus, syncs, and comes back (issue 10, item 1);
before the fix each return built a new subscription and p2p refused it. These run
in-process on a fake network that stands for p2p: it runs the topic validator
first and delivers only what it accepted, as p2p does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio
import trio.testing

from consensus import encode_message
from consensus.messages import VoteType, sign_vote
from fedow_node.engine.gossip import ConsensusGossip
from p2p import Message, Outcome, Verdict
from wallet.keys import SigningKey

CHAIN = "fedow-test"


class FakeNetwork:
    """One subscription per topic, as p2p enforces; ``inject`` delivers like a peer would."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, tuple[object, trio.MemorySendChannel[Message]]] = {}
        self.verdicts: list[Verdict] = []

    def subscribe(self, topic: str, validate) -> trio.MemoryReceiveChannel[Message]:  # type: ignore[no-untyped-def]
        assert topic not in self.subscriptions, "already_subscribed"
        send, receive = trio.open_memory_channel[Message](64)
        self.subscriptions[topic] = (validate, send)
        return receive

    async def inject(self, topic: str, data: bytes) -> None:
        validate, send = self.subscriptions[topic]
        verdict = validate(data, "peer")  # type: ignore[operator]
        self.verdicts.append(verdict)
        if verdict.outcome is Outcome.ACCEPT:
            await send.send(Message("peer", data))

    async def publish(self, topic: str, data: bytes) -> None:
        raise AssertionError("not used")


@asynccontextmanager
async def _running_gossip() -> AsyncIterator[tuple[FakeNetwork, ConsensusGossip]]:
    """A ConsensusGossip whose lifetime task runs (and is subscribed) for the block."""
    network = FakeNetwork()
    gossip = ConsensusGossip(network, CHAIN, lambda: 1_000_000)  # type: ignore[arg-type]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(gossip.run)
        await trio.testing.wait_all_tasks_blocked()
        yield network, gossip
        nursery.cancel_scope.cancel()


def _vote(height: int) -> bytes:
    key = SigningKey(bytes(32))
    return encode_message(sign_vote(key, CHAIN, VoteType.PREVOTE, height, 0, None, 1_000))


async def test_leaving_and_reentering_consensus_many_times_keeps_one_subscription() -> None:
    async with _running_gossip() as (network, gossip):
        for spell in range(1, 6):
            send, receive = trio.open_memory_channel[object](8)
            with gossip.attached(send):
                await network.inject(gossip.topic, _vote(spell))
                with trio.fail_after(5):
                    received = await receive.receive()
                assert received.height == spell  # type: ignore[attr-defined]
            # Between spells (syncing): messages are still validated, then dropped.
            await network.inject(gossip.topic, _vote(100 + spell))
            await trio.testing.wait_all_tasks_blocked()
            assert receive.statistics().current_buffer_used == 0
        assert list(network.subscriptions) == [gossip.topic]


async def test_a_spell_that_left_with_a_full_inbox_does_not_block_the_next() -> None:
    async with _running_gossip() as (network, gossip):
        stuck, _never_read = trio.open_memory_channel[object](0)
        with gossip.attached(stuck):
            await network.inject(gossip.topic, _vote(1))
            await trio.testing.wait_all_tasks_blocked()  # run() now waits on the stuck inbox
        send, receive = trio.open_memory_channel[object](8)
        with gossip.attached(send):
            await network.inject(gossip.topic, _vote(2))
            with trio.fail_after(5):
                assert (await receive.receive()).height == 2  # type: ignore[attr-defined]


async def test_two_consensus_at_once_is_a_programming_error() -> None:
    gossip = ConsensusGossip(FakeNetwork(), CHAIN, lambda: 1_000_000)  # type: ignore[arg-type]
    send, _receive = trio.open_memory_channel[object](1)
    with gossip.attached(send):
        try:
            with gossip.attached(send):
                raise AssertionError("a second attach must be refused")
        except RuntimeError:
            pass


def test_bad_bytes_on_the_topic_are_rejected_not_raised() -> None:
    gossip = ConsensusGossip(FakeNetwork(), CHAIN, lambda: 1_000_000)  # type: ignore[arg-type]
    verdict = gossip.validate(b"\xc1 not msgpack", "peer")
    assert verdict.outcome is Outcome.REJECT and verdict.reason
