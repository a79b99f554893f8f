"""Connections the node does not let pile up (issue 10, item 4).

Event-stream slots are freed the moment a client hangs up (not at the next
keep-alive), one client holds at most a few streams, idle and slow-header
connections are closed, and shutting the server down ends every stream at
once. The server is the one `fedow-node run` starts; every wait is bounded
generously and none measures speed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Awaitable, Callable

import pytest

from api_solo_node import SoloNode
from config import ApiSection
from fedow_node.api import build_app, create_token, events, start_server, tokens_path
from fedow_node.api.app import MAX_EVENT_STREAMS_PER_CLIENT
from fedow_node.api.context import CONTEXT

BOUND_S = 30.0


async def _until(what: str, predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(BOUND_S):
        while not predicate():
            await asyncio.sleep(0.01)


def _serve(tmp_path: Path, scenario: Callable[..., Awaitable[None]], **server_options: float) -> None:
    async def main() -> None:
        node = SoloNode(tmp_path)
        tokens = [create_token(tokens_path(tmp_path), "bar", 0)[1] for _ in range(2)]
        app = build_app(node, ApiSection())
        runner = await start_server(app, "127.0.0.1:0", **server_options)
        try:
            async with asyncio.timeout(120):
                await scenario(runner, app, runner.addresses[0][1], tokens)
        finally:
            await runner.cleanup()
            node.close()

    asyncio.run(main())


async def _open_stream(port: int, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " in head.split(b"\r\n")[0]:
        await reader.readuntil(b": connected\n\n")
    return reader, writer, head


def test_a_stream_slot_is_freed_the_moment_its_client_leaves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "KEEPALIVE_S", 3600.0)  # so only the hang-up itself can free the slot

    async def scenario(_runner: object, app: object, port: int, tokens: list[str]) -> None:
        slots = app[CONTEXT].event_streams  # type: ignore[index]
        _reader, writer, head = await _open_stream(port, tokens[0])
        assert b" 200 " in head
        await _until("the stream to hold a slot", lambda: slots.open == 1)
        writer.transport.abort()
        await _until("the slot to be freed", lambda: slots.open == 0)

    _serve(tmp_path, scenario)


def test_one_client_cannot_take_every_stream(tmp_path: Path) -> None:
    async def scenario(_runner: object, app: object, port: int, tokens: list[str]) -> None:
        held = [await _open_stream(port, tokens[0]) for _ in range(MAX_EVENT_STREAMS_PER_CLIENT)]
        assert all(b" 200 " in head for _, _, head in held)
        _reader, _writer, refused = await _open_stream(port, tokens[0])
        assert b" 429 " in refused and b"application/json" in refused
        _reader, other, head = await _open_stream(port, tokens[1])  # another till still gets one
        assert b" 200 " in head
        for _, writer, _ in [*held, (None, other, None)]:
            writer.close()

    _serve(tmp_path, scenario)


def test_idle_and_slow_header_connections_are_closed(tmp_path: Path) -> None:
    async def scenario(_runner: object, _app: object, port: int, _tokens: list[str]) -> None:
        idle_reader, _idle = await asyncio.open_connection("127.0.0.1", port)
        slow_reader, slow = await asyncio.open_connection("127.0.0.1", port)
        slow.write(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")  # and the rest never comes
        await slow.drain()
        async with asyncio.timeout(BOUND_S):
            assert await idle_reader.read() == b""  # closed by the server
            assert await slow_reader.read() == b""

    _serve(tmp_path, scenario, idle_timeout_s=0.5)


def test_shutdown_ends_every_stream_at_once(tmp_path: Path) -> None:
    async def scenario(runner: object, app: object, port: int, tokens: list[str]) -> None:
        streams = [await _open_stream(port, token) for token in tokens for _ in range(3)]
        assert app[CONTEXT].event_streams.open == 6  # type: ignore[index]
        loop = asyncio.get_running_loop()
        started = loop.time()
        await runner.cleanup()  # type: ignore[attr-defined]
        elapsed = loop.time() - started
        for reader, _writer, _head in streams:
            async with asyncio.timeout(BOUND_S):
                await reader.read()  # every stream reaches its end
        print(f"server shutdown with 6 open event streams: {elapsed:.2f} s")

    _serve(tmp_path, scenario)
