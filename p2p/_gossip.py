"""Gossip topics over py-libp2p's gossipsub v1.1, with the fixes its defaults need.

What this adds to the library (numbers refer to the pitfalls in notes/libp2p.md):
- v1.1 only, 1 s heartbeat, the library's spam/adaptive/eclipse features off (3):
  validation and peer scoring are ours;
- publish waits while most peers' outbound queues are long instead of dropping (4);
- the seqno counter starts at ``time_ns`` so a quick restart is not "already seen" (5);
- every subscription is drained at once into a bounded channel of our size (6);
- each message is delivered at most once per process, our own never (7);
- per-RPC size limits raised from the library's 1 MiB to ``max_message_bytes``;
- writes to one pubsub stream are serialised: the library writes a stream from
  several tasks and yamux interleaves concurrent writes frame by frame, which
  corrupts any RPC larger than the yamux window (256 KiB) and used to crash the
  receiving node;
- an undecodable RPC from a peer resets that stream and costs the peer points,
  instead of propagating out of the library and stopping the node;
- an inbound pubsub stream is read in chunks (:class:`_ReadAhead`): the library
  reads each RPC's length prefix byte by byte, and every read of a yamux stream
  takes three locks and may send a window update;
- the sender's signed peer record goes in the first RPC of a stream (the hello)
  only: the library attaches it to every RPC and the receiver verifies it each
  time, an Ed25519 verify per message per hop (9 % of a validator's time with a
  lone till, docs/performance.md) for a record that does not change.
"""

from __future__ import annotations

import contextlib

import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
import trio
from google.protobuf.message import DecodeError
from libp2p.abc import IHost, INetStream
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.tools.anyio_service import background_trio_service

from p2p._config import P2PConfig
from p2p._errors import MessageTooLarge, P2PError
from p2p._metrics import Counters
from p2p._seen import SeenIds
from p2p._topics import IGNORE, Message, Outcome, Validator, Verdict

log = structlog.get_logger(__name__)

RPC_OVERHEAD_BYTES = 64 * 1024
"""Room for the signature, key, seqno and topic around the largest payload in one RPC."""
BACKPRESSURE_POLL_SECONDS = 0.002

OnBadGossip = Callable[[str, str], None]
"""``on_bad_gossip(forwarder_peer_id, reason)``: the peer sent us something it should not have."""


class _SizedQueues(dict[ID, Any]):
    """The pubsub per-peer queue map, giving every new queue our RPC size limit.

    py-libp2p creates each peer's queue with a hard-coded 1 MiB limit and
    silently drops larger RPCs; this is the one place where it can be raised.
    """

    def __init__(self, max_rpc_bytes: int) -> None:
        super().__init__()
        self._max_rpc_bytes = max_rpc_bytes

    def __setitem__(self, peer_id: ID, queue: Any) -> None:
        queue.max_message_size = self._max_rpc_bytes
        super().__setitem__(peer_id, queue)


def most_queues_long(lengths: list[int], high_water: int) -> bool:
    """True while more than half of the peers' outbound queues hold ``high_water`` RPCs or more.

    A majority, not any: one stuck or slow peer must not throttle every publish
    (its own queue then drops, as the library does); a node whose links are
    mostly congested waits, which is the back-pressure that matters.
    """
    return 2 * sum(1 for length in lengths if length >= high_water) > len(lengths)


WriteMsg = Callable[[INetStream, rpc_pb2.RPC], Awaitable[bool]]


def _one_writer_per_stream(write_msg: WriteMsg) -> WriteMsg:
    """Wrap ``Pubsub.write_msg`` so that whole RPCs, not yamux frames, are the unit of writing."""
    locks: weakref.WeakKeyDictionary[INetStream, trio.Lock] = weakref.WeakKeyDictionary()

    async def locked_write_msg(stream: INetStream, rpc: rpc_pb2.RPC) -> bool:
        lock = locks.setdefault(stream, trio.Lock())
        async with lock:
            return await write_msg(stream, rpc)

    return locked_write_msg


def _without_sender_record(write_msg: WriteMsg) -> WriteMsg:
    """Wrap ``Pubsub.write_msg`` to drop the signed peer record the library adds to every RPC.

    The hello RPC that opens each stream is written by another path and keeps it, so peers
    still learn our certified addresses once per stream.
    """
    async def write_msg_without_record(stream: INetStream, rpc: rpc_pb2.RPC) -> bool:
        if rpc.HasField("senderRecord"):
            rpc.ClearField("senderRecord")
        return await write_msg(stream, rpc)

    return write_msg_without_record


READ_AHEAD_BYTES = 64 * 1024


class _ReadAhead:
    """An inbound stream as pubsub reads it, fetched in chunks of up to ``READ_AHEAD_BYTES``.

    ``read(n)`` answers from what is already fetched, so the one to three reads of an RPC's
    length prefix and body (and every RPC of a burst) cost one read of the stream. Any other
    attribute is the stream's own.
    """

    def __init__(self, stream: INetStream) -> None:
        self._stream = stream
        self._buffer = bytearray()

    async def read(self, n: int | None = None) -> bytes:
        if not self._buffer:
            if n is None or n < 0:
                return await self._stream.read(n)
            self._buffer += await self._stream.read(max(n, READ_AHEAD_BYTES))
        if n is None or n < 0 or n >= len(self._buffer):
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(self._buffer[:n])
            del self._buffer[:n]
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _tolerant_teardown(pubsub: Pubsub) -> Callable[[ID], Awaitable[None]]:
    """``Pubsub._teardown_if_connected`` without its race.

    py-libp2p 0.8.1 deletes the peer after awaiting its stream reset; when the
    connection closes meanwhile, the peer is already gone, ``del`` raises
    KeyError and the whole host stops (seen when a banned peer was blacklisted).
    """
    async def teardown(peer_id: ID) -> None:
        stream = pubsub.peers.get(peer_id)
        if stream is not None:
            with contextlib.suppress(Exception):
                await stream.reset()
            pubsub.peers.pop(peer_id, None)
        pubsub._forget_all_subscriptions(peer_id)

    return teardown


class Gossip:
    """Topics of one node: subscribe with a validator, publish with back-pressure."""

    def __init__(self, host: IHost, config: P2PConfig, counters: Counters,
                 on_bad_gossip: OnBadGossip) -> None:
        self._config = config
        self._counters = counters
        self._on_bad_gossip = on_bad_gossip
        self._self_id = host.get_id()
        max_rpc_bytes = config.max_message_bytes + RPC_OVERHEAD_BYTES
        self._router = GossipSub(
            protocols=[PROTOCOL_ID_V11], degree=6, degree_low=4, degree_high=12,
            heartbeat_interval=1, heartbeat_initial_delay=0.1,
            spam_protection_enabled=False, adaptive_gossip_enabled=False,
            eclipse_protection_enabled=False,
        )
        self._pubsub = Pubsub(host, self._router, max_inbound_rpc_size=max_rpc_bytes)
        self._pubsub.peer_queues = _SizedQueues(max_rpc_bytes)
        self._pubsub.write_msg = _one_writer_per_stream(  # type: ignore[method-assign]
            _without_sender_record(self._pubsub.write_msg))
        self._pubsub._teardown_if_connected = _tolerant_teardown(self._pubsub)  # type: ignore[method-assign]
        host.set_stream_handler(PROTOCOL_ID_V11, self._guarded_stream_handler)
        self._seen = SeenIds(config.dedup_capacity)
        self._pending: dict[str, trio.MemorySendChannel[Message]] = {}
        self._overflowing: set[str] = set()
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run pubsub and the router; subscriptions made before or after start are served."""
        async with background_trio_service(self._pubsub), background_trio_service(self._router):
            await self._pubsub.wait_until_ready()
            self._pubsub.counter = time.time_ns()
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                for topic, channel in sorted(self._pending.items()):
                    nursery.start_soon(self._pump, topic, channel)
                self._pending.clear()
                task_status.started()
                await trio.sleep_forever()

    def subscribe(self, topic: str, validate: Validator) -> trio.MemoryReceiveChannel[Message]:
        """Receive the messages of ``topic`` that ``validate`` accepts (our own excluded)."""
        if topic in self._pubsub.topic_validators or topic in self._pending:
            raise P2PError("already_subscribed", f"topic {topic!r}: already subscribed")
        self._pubsub.set_topic_validator(topic, self._checker(topic, validate),
                                         is_async_validator=False)
        send, receive = trio.open_memory_channel[Message](self._config.subscription_buffer)
        if self._nursery is None:
            self._pending[topic] = send
        else:
            self._nursery.start_soon(self._pump, topic, send)
        return receive

    async def publish(self, topic: str, data: bytes) -> None:
        """Send ``data`` to the topic's mesh, waiting first while outbound queues are long."""
        if len(data) > self._config.max_message_bytes:
            raise MessageTooLarge("message_too_large", f"data: {len(data)} bytes exceeds "
                                  f"max_message_bytes={self._config.max_message_bytes}")
        if self._nursery is None:
            raise P2PError("not_running", "publish: the node is not running")
        with trio.move_on_after(self._config.publish_wait_cap_seconds) as wait:
            while most_queues_long(self._queue_lengths(), self._config.publish_queue_high_water):
                await trio.sleep(BACKPRESSURE_POLL_SECONDS)
        if wait.cancelled_caught:
            log.warning("publish_queue_still_full", topic=topic,
                        waited_seconds=self._config.publish_wait_cap_seconds)
        try:
            await self._pubsub.publish(topic, data)
        except Exception as error:  # libp2p raises bare exceptions here; none may cross
            raise P2PError("publish_failed", f"topic {topic!r}: {error!r}") from error
        self._counters.messages_out += 1

    def set_blacklist(self, banned: list[str]) -> None:
        """Drop everything these peers send or relay, and nothing from the others (once running)."""
        if self._nursery is None:
            return
        wanted = {ID.from_base58(peer_id) for peer_id in banned}
        for peer in sorted(self._pubsub.get_blacklisted_peers() - wanted, key=str):
            self._pubsub.remove_from_blacklist(peer)
        for peer in sorted(wanted - self._pubsub.get_blacklisted_peers(), key=str):
            self._pubsub.add_to_blacklist(peer)

    async def _guarded_stream_handler(self, stream: INetStream) -> None:
        peer_id = stream.muxed_conn.peer_id.to_base58()
        try:
            await self._pubsub.stream_handler(_ReadAhead(stream))  # type: ignore[arg-type]
        except DecodeError as error:  # the library lets it escape and stop the node
            log.warning("pubsub_stream_undecodable", peer_id=peer_id, error=repr(error))
            self._on_bad_gossip(peer_id, f"undecodable pubsub RPC: {error!r}")
        except Exception:  # anything else the library lets escape must not stop the node either
            log.exception("pubsub_stream_failed", peer_id=peer_id)
        else:
            return
        try:
            await stream.reset()
        except Exception:  # the stream is already gone; nothing left to release
            log.debug("pubsub_stream_reset_failed", peer_id=peer_id)

    def _queue_lengths(self) -> list[int]:
        return [len(queue) for queue in self._pubsub.peer_queues.values()]

    def _checker(self, topic: str, validate: Validator) -> Callable[[ID, rpc_pb2.Message], bool]:
        def check(forwarder: ID, message: rpc_pb2.Message) -> bool:
            if forwarder == self._self_id:
                return True
            verdict = self._verdict(topic, validate, message)
            if verdict.outcome is Outcome.ACCEPT:
                return True
            if verdict.outcome is Outcome.REJECT:
                self._counters.messages_rejected += 1
                self._on_bad_gossip(forwarder.to_base58(), f"topic {topic}: {verdict.reason}")
            else:
                self._counters.messages_ignored += 1
            return False

        return check

    def _verdict(self, topic: str, validate: Validator, message: rpc_pb2.Message) -> Verdict:
        try:
            return validate(message.data, ID(message.from_id).to_base58())
        except Exception:
            log.exception("validator_failed", topic=topic)
            return IGNORE

    async def _pump(self, topic: str, channel: trio.MemorySendChannel[Message]) -> None:
        subscription = await self._pubsub.subscribe(topic)
        async with channel:
            async for message in subscription:
                self._deliver(topic, message, channel)

    def _deliver(self, topic: str, message: rpc_pb2.Message,
                 channel: trio.MemorySendChannel[Message]) -> None:
        if ID(message.from_id) == self._self_id:
            return
        if not self._seen.add(message.from_id + message.seqno):
            self._counters.messages_duplicate += 1
            return
        try:
            channel.send_nowait(Message(ID(message.from_id).to_base58(), message.data))
        except trio.WouldBlock:
            self._counters.messages_dropped_full += 1
            if topic not in self._overflowing:  # once per overflow, not once per message
                self._overflowing.add(topic)
                log.warning("subscriber_too_slow", topic=topic,
                            buffer=self._config.subscription_buffer)
            return
        except trio.BrokenResourceError:
            return
        self._overflowing.discard(topic)
        self._counters.messages_in += 1
