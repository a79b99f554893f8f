"""Request/response between two real node processes: big responses, limits, translated errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import trio
from p2p_child import blob
from p2p_cluster import full_mesh_specs, running, wait_connected

pytestmark = pytest.mark.slow

MB = 1_000_000


async def test_request_response_limits_and_errors(tmp_path: Path) -> None:
    async with running(full_mesh_specs(2), tmp_path) as (client, server):
        with trio.fail_after(30):
            await wait_connected(client, [server.peer_id])

            async def ask(data: str, max_response_bytes: int, **extra: str) -> dict:
                return await client.command("request", peer=server.peer_id, data=data,
                                            max_response_bytes=max_response_bytes, **extra)

            big = await ask("blob:2500000", 3 * MB)
            assert big["ok"] and big["size"] == 2_500_000
            assert big["sha256"] == hashlib.sha256(blob(2_500_000)).hexdigest()

            empty = await ask("blob:0", 10)
            assert empty["ok"] and empty["size"] == 0

            too_big = await ask("blob:2500000", 1 * MB)
            assert (too_big["error"], too_big["code"]) == ("MessageTooLarge", "response_too_large")

            crashed = await ask("boom", 100)
            assert (crashed["error"], crashed["code"]) == ("RemoteError", "handler_failed")
            assert "boom requested" in crashed["detail"]

            garbage = await ask("blob:not-a-number", 100)
            assert (garbage["error"], garbage["code"]) == ("RemoteError", "handler_failed")

            oversize = await ask("x" * (1024 * 1024 + 1), 100)
            assert (oversize["error"], oversize["code"]) == ("MessageTooLarge", "request_too_large")

            unknown = await ask("blob:1", 100, protocol="/test/unknown/1")
            assert (unknown["error"], unknown["code"]) == ("PeerUnavailable", "stream_failed")

            stranger = await client.command("request", peer=client.peer_id[:-4] + "abcd",
                                            data="blob:1", max_response_bytes=100)
            assert stranger["error"] == "PeerUnavailable"

            again = await ask("blob:1000", 1000)
            assert again["ok"] and again["size"] == 1000
            metrics = (await server.command("metrics"))["metrics"]
            assert metrics["requests_in"] == 6 and metrics["request_errors"] == 2
