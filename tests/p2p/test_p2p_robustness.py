"""Hostile input never crashes a node: garbage bytes, oversize messages, plaintext peers."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import multiaddr
import pytest
import trio
from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.exceptions import SwarmException
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.insecure.transport import PLAINTEXT_PROTOCOL_ID, InsecureTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux
from p2p_cluster import ChildNode, full_mesh_specs, running, wait_connected, warm_up

from p2p._host import build_host

pytestmark = pytest.mark.slow

MIB = 1024 * 1024


def send_tcp_garbage(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(os.urandom(64 * 1024))


async def assert_alive(node: ChildNode) -> None:
    assert (await node.command("ping"))["ok"]


async def test_garbage_and_oversize_messages_never_crash_a_node(tmp_path: Path) -> None:
    specs = full_mesh_specs(3, options={"max_message_bytes": 1 * MIB})
    specs[1].options = {"max_message_bytes": 3 * MIB}  # a peer that ignores the network's limit
    async with running(specs, tmp_path) as (small, big, other):
        with trio.fail_after(40):
            await wait_connected(small, [big.peer_id, other.peer_id])
            await warm_up(other, [small, big])

            refused = await small.command("publish", text="too-big", pad=1 * MIB)
            assert (refused["error"], refused["code"]) == ("MessageTooLarge", "message_too_large")

            sent = await big.command("publish", text="oversize", pad=2 * MIB)
            assert sent["ok"]
            await trio.to_thread.run_sync(send_tcp_garbage, specs[0].port)
            await assert_alive(small)

            await other.command("publish", text="after-garbage")
            await small.wait_until(lambda: bool(small.received("after-garbage")))
            reply = await small.command("request", peer=other.peer_id, data="blob:10",
                                        max_response_bytes=10)
            assert reply["ok"] and reply["size"] == 10
    assert small.received("oversize") == [] and other.received("oversize") == []


async def test_garbage_on_request_and_pubsub_streams_is_refused_without_crash(tmp_path: Path) -> None:
    async with running(full_mesh_specs(1), tmp_path) as (node,):
        target = info_from_p2p_addr(multiaddr.Multiaddr(node.spec.address))
        host, listen = build_host(os.urandom(32), "127.0.0.1", 0)
        with trio.fail_after(20):
            async with host.run([listen]):
                await host.connect(target)
                request = await host.new_stream(target.peer_id, [TProtocol("/test/blob/1")])
                await request.write(b"\xff\xff\xff\xff" + os.urandom(1000))
                answer = await request.read(4096)
                # the node answers "frame too large" (status 1) or simply resets the stream
                assert answer == b"" or answer[4] == 1 and b"frame_too_large" in answer

                pubsub = await host.new_stream(target.peer_id, [TProtocol("/meshsub/1.1.0")])
                await pubsub.write(bytes([100]) + b"\xff" * 100)  # a length prefix, then no protobuf
                while (await node.command("metrics"))["metrics"]["penalties"] == 0:
                    await trio.sleep(0.05)
            await assert_alive(node)
            metrics = (await node.command("metrics"))["metrics"]
            assert metrics["requests_in"] == 1 and metrics["penalties"] == 1


async def test_plaintext_peer_cannot_connect_but_noise_peer_can(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with running(full_mesh_specs(1), tmp_path) as (node,):
        target = info_from_p2p_addr(multiaddr.Multiaddr(node.spec.address))
        key_pair = create_new_key_pair()
        plaintext = new_host(key_pair=key_pair, sec_opt={PLAINTEXT_PROTOCOL_ID: InsecureTransport(key_pair)},
                             muxer_opt={YAMUX_PROTOCOL_ID: Yamux})
        with trio.fail_after(30):
            async with plaintext.run([multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
                with pytest.raises(SwarmException):
                    await plaintext.connect(target)
                assert target.peer_id not in plaintext.get_connected_peers()
            noise, listen = build_host(os.urandom(32), "127.0.0.1", 0)
            async with noise.run([listen]):
                await noise.connect(target)
                assert target.peer_id in noise.get_connected_peers()
            await assert_alive(node)
        assert "failed to negotiate the secure protocol" in caplog.text
