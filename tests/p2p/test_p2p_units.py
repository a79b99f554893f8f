"""In-process tests of the p2p building blocks: identity, config, scores, dedup, framing, node API."""

from __future__ import annotations

import os
import socket

import multiaddr
import nacl.signing
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from libp2p.pubsub.pb import rpc_pb2

from p2p import (
    ACCEPT,
    IGNORE,
    REJECT,
    MessageTooLarge,
    Outcome,
    P2PConfig,
    P2PError,
    P2PNode,
    ProtocolViolation,
    peer_id_from_public_key,
    peer_multiaddr,
)
from p2p._framing import read_frame, write_frame
from p2p._gossip import _ReadAhead, _without_sender_record, most_queues_long
from p2p._host import build_host, reuse_advertised_addrs
from p2p._scoring import PeerScores, ScoringPolicy
from p2p._seen import SeenIds


def public_key(seed: bytes) -> bytes:
    return bytes(nacl.signing.SigningKey(seed).verify_key)


def test_peer_id_from_the_validator_key_is_the_nodes_peer_id() -> None:
    seed = os.urandom(32)
    node = P2PNode(P2PConfig(seed=seed))
    assert peer_id_from_public_key(public_key(seed)) == node.peer_id
    assert peer_multiaddr("10.0.0.7", 4001, public_key(seed)) == f"/ip4/10.0.0.7/tcp/4001/p2p/{node.peer_id}"


@pytest.mark.parametrize(("call", "message"), [
    (lambda: peer_id_from_public_key(b"\x01" * 31), "public key must be 32 bytes"),
    (lambda: peer_multiaddr("127.0.0.1", 0, b"\x01" * 32), "port must be in 1..65535"),
    (lambda: P2PConfig(seed=b"short"), "seed: must be 32 bytes"),
    (lambda: P2PConfig(seed=bytes(32), max_message_bytes=0), "max_message_bytes: must be > 0"),
    (lambda: P2PConfig(seed=bytes(32), ban_threshold=5), "ban_threshold: must be < 0"),
    (lambda: P2PNode(P2PConfig(seed=bytes(32), static_peers=("/ip4/1.2.3.4/tcp/1",))), "static_peers"),
])
def test_bad_identity_and_config_values_are_refused_with_the_field_named(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


POLICY = ScoringPolicy(ban_threshold=-25, ban_seconds=60.0, recovery_per_second=1)


def test_a_ban_starts_when_the_score_crosses_the_threshold_and_ends_after_its_time() -> None:
    scores = PeerScores(POLICY)
    assert [scores.penalize("p", 10, now=0.0) for _ in range(3)] == [False, False, True]
    assert scores.score("p", 0.0) == -30 and scores.is_banned("p", 59.9)
    assert scores.penalize("p", 10, now=1.0) is False  # already banned: no second ban
    assert scores.banned(30.0) == ["p"] and scores.lift_expired(30.0) == []
    assert scores.lift_expired(60.0) == ["p"]
    assert not scores.is_banned("p", 60.0) and scores.score("p", 60.0) == 0


def test_scores_heal_with_time_but_never_rise_above_zero() -> None:
    scores = PeerScores(POLICY)
    scores.penalize("p", 20, now=0.0)
    assert scores.score("p", 5.0) == -15
    assert scores.score("p", 500.0) == 0
    assert scores.score("never-seen", 1.0) == 0
    assert len(scores) == 1 and scores.lift_expired(10.0) == [] and len(scores) == 1
    scores.lift_expired(20.0)
    assert len(scores) == 0 and scores.score("p", 20.0) == 0


@settings(deadline=None)  # a shared, loaded machine: no per-example time limit
@given(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 30)), max_size=30))
def test_score_is_never_positive_and_bans_only_below_threshold(penalties) -> None:
    scores = PeerScores(POLICY)
    now = 0.0
    for points, wait in penalties:
        now += wait
        before = scores.score("p", now)
        started = scores.penalize("p", points, now)
        after = scores.score("p", now)
        assert after == min(0, before - points) <= 0
        assert not started or after < POLICY.ban_threshold
        scores.lift_expired(now)


def test_penalty_points_must_be_positive() -> None:
    with pytest.raises(ValueError, match="points"):
        PeerScores(POLICY).penalize("p", 0, now=0.0)


def test_seen_ids_forget_the_oldest_beyond_capacity() -> None:
    seen = SeenIds(capacity=2)
    assert seen.add(b"a") and seen.add(b"b") and not seen.add(b"a")
    assert seen.add(b"c")  # evicts b (a was refreshed)
    assert seen.add(b"b") and not seen.add(b"c")


class ChunkedStream:
    """An in-memory stream whose reads return at most ``chunk`` bytes, like a socket."""

    def __init__(self, chunk: int) -> None:
        self.buffer = bytearray()
        self.chunk = chunk
        self.reads = 0

    async def write(self, data: bytes) -> None:
        self.buffer += data

    async def read(self, n: int) -> bytes:
        await trio.lowlevel.checkpoint()
        self.reads += 1
        taken = bytes(self.buffer[:min(n, self.chunk)])
        del self.buffer[:len(taken)]
        return taken


@settings(deadline=None)
@given(st.lists(st.binary(max_size=3000), max_size=5), st.integers(1, 700))
async def test_frames_round_trip_whatever_the_read_sizes(bodies, chunk) -> None:
    stream = ChunkedStream(chunk)
    for body in bodies:
        await write_frame(stream, body)
    assert [await read_frame(stream, 3000) for _ in bodies] == bodies
    assert stream.buffer == bytearray()


@settings(deadline=None)
@given(st.binary(max_size=5000), st.integers(1, 9000), st.lists(st.integers(1, 700), min_size=1))
async def test_read_ahead_gives_the_same_bytes_whatever_the_read_sizes(data, chunk, sizes) -> None:
    stream = ChunkedStream(chunk)
    await stream.write(data)
    ahead = _ReadAhead(stream)  # type: ignore[arg-type]
    got = bytearray()
    for size in (sizes * (len(data) + 1))[:len(data) + 1]:
        part = await ahead.read(size)
        assert len(part) <= size
        got += part
        if len(got) == len(data):
            break
    assert bytes(got) == data
    assert ahead.chunk == chunk  # other attributes are the stream's


async def test_read_ahead_reads_an_rpcs_prefix_and_body_in_one_read_of_the_stream() -> None:
    stream = ChunkedStream(64 * 1024)
    await stream.write(bytes([0xAC, 0x02]) + b"x" * 300)  # pubsub's framing: varint length 300, then the RPC
    ahead = _ReadAhead(stream)  # type: ignore[arg-type]
    assert [await ahead.read(1), await ahead.read(1), await ahead.read(300)] == \
        [bytes([0xAC]), bytes([0x02]), b"x" * 300]
    assert stream.reads == 1


async def test_frame_over_the_limit_is_refused_before_its_body_is_read() -> None:
    stream = ChunkedStream(100)
    await write_frame(stream, b"x" * 101)
    with pytest.raises(MessageTooLarge, match="announces 101 bytes, the limit is 100"):
        await read_frame(stream, 100)
    assert len(stream.buffer) == 101


async def test_truncated_frame_is_a_protocol_violation() -> None:
    stream = ChunkedStream(100)
    await write_frame(stream, b"abcdef")
    del stream.buffer[-2:]
    with pytest.raises(ProtocolViolation, match="2 of 6 bytes missing"):
        await read_frame(stream, 100)


def test_verdicts() -> None:
    assert ACCEPT.outcome is Outcome.ACCEPT and IGNORE.outcome is Outcome.IGNORE
    assert REJECT("bad signature").outcome is Outcome.REJECT
    assert REJECT("bad signature").reason == "bad signature"


async def test_node_api_refusals_before_start() -> None:
    node = P2PNode(P2PConfig(seed=os.urandom(32), max_message_bytes=1000))
    node.subscribe("votes", lambda data, peer: ACCEPT)
    with pytest.raises(P2PError, match="already subscribed"):
        node.subscribe("votes", lambda data, peer: ACCEPT)
    with pytest.raises(MessageTooLarge, match="1001 bytes exceeds max_message_bytes=1000"):
        await node.publish("votes", b"x" * 1001)
    with pytest.raises(P2PError, match="not_running"):
        await node.publish("votes", b"x")
    assert node.connected_peers() == []


async def test_penalties_accumulate_into_a_ban_counted_in_metrics() -> None:
    node = P2PNode(P2PConfig(seed=os.urandom(32), ban_threshold=-15))
    offender = peer_id_from_public_key(public_key(os.urandom(32)))
    node.penalize(offender, 10, "invalid vote signature")
    assert node.score(offender) == -10 and node.metrics().bans == 0
    node.penalize(offender, 10, "invalid vote signature")
    metrics = node.metrics()
    assert (metrics.penalties, metrics.bans) == (2, 1)


async def test_a_port_in_use_is_a_clear_listen_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        node = P2PNode(P2PConfig(seed=os.urandom(32), listen_host="127.0.0.1",
                                 listen_port=taken.getsockname()[1]))
        with trio.fail_after(10), pytest.raises(P2PError, match="listen_failed: .* could not bind"):
            await node.run()


async def test_a_subscriber_that_does_not_keep_up_loses_the_overflow_and_it_is_counted() -> None:
    seeds = [os.urandom(32) for _ in range(2)]
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        second.bind(("127.0.0.1", 0))
        ports = [first.getsockname()[1], second.getsockname()[1]]
    addresses = tuple(peer_multiaddr("127.0.0.1", port, public_key(seed)) for seed, port in zip(seeds, ports))
    sender, receiver = (P2PNode(P2PConfig(seed=seed, listen_host="127.0.0.1", listen_port=port,
                                          static_peers=addresses, subscription_buffer=2))
                        for seed, port in zip(seeds, ports))
    sender.subscribe("t", lambda data, peer: ACCEPT)
    inbox = receiver.subscribe("t", lambda data, peer: IGNORE if data == b"warm" else ACCEPT)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            await nursery.start(sender.run)
            await nursery.start(receiver.run)
            while receiver.metrics().messages_ignored == 0:  # until the mesh carries traffic
                await sender.publish("t", b"warm")
                await trio.sleep(0.1)
            for index in range(10):
                await sender.publish("t", f"m{index}".encode())
            while receiver.metrics().messages_dropped_full < 8:
                await trio.sleep(0.05)
            assert [(await inbox.receive()).data for _ in range(2)] == [b"m0", b"m1"]
            assert (receiver.metrics().messages_in, receiver.metrics().messages_dropped_full) == (2, 8)
            nursery.cancel_scope.cancel()


def test_the_public_surface_exports_no_libp2p_type() -> None:
    import p2p

    exported = [getattr(p2p, name) for name in p2p.__all__]
    modules = {getattr(item, "__module__", "p2p") for item in exported if not isinstance(item, str)}
    assert "p2p._node" in modules and not any(module.startswith("libp2p") for module in modules)


@pytest.mark.parametrize(("lengths", "waits"), [
    ([], False), ([3], False), ([16], True), ([16, 0, 0], False), ([16, 20, 0], True),
    ([16, 16, 0, 0], False), ([31, 31, 31, 2], True),
])
def test_publish_waits_only_while_most_peer_queues_are_long(lengths, waits) -> None:
    assert most_queues_long(lengths, high_water=16) is waits


async def test_rpcs_are_written_without_the_signed_peer_record_and_otherwise_unchanged() -> None:
    written: list[bytes] = []

    async def write_msg(stream: object, rpc: rpc_pb2.RPC) -> bool:
        written.append(rpc.SerializeToString())
        return True

    publish = rpc_pb2.Message(data=b"vote", topicIDs=["consensus"], seqno=b"\x01")
    with_record = rpc_pb2.RPC(publish=[publish], senderRecord=b"signed record")
    assert await _without_sender_record(write_msg)(object(), with_record)  # type: ignore[arg-type]
    sent = rpc_pb2.RPC.FromString(written[0])
    assert not sent.HasField("senderRecord") and list(sent.publish) == [publish]


def test_the_advertised_addresses_are_computed_at_most_once_a_second() -> None:
    seed = os.urandom(32)
    host, listen = build_host(seed, "127.0.0.1", 4001)
    computed: list[float] = []
    now = [100.0]
    compute = host.get_addrs

    def counting() -> list[multiaddr.Multiaddr]:
        computed.append(now[0])
        return compute()

    host.get_addrs = counting  # type: ignore[method-assign]
    reuse_advertised_addrs(host, clock=lambda: now[0])
    first = host.get_addrs()
    now[0] += 0.5
    assert host.get_addrs() == first and computed == [100.0]
    now[0] += 0.5
    assert host.get_addrs() == first and computed == [100.0, 101.0]
