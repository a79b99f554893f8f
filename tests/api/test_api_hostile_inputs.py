"""Hostile and clumsy requests all get a JSON 4xx; the node's own faults a JSON 500 (issue 10, item 2).

The server here is the one `fedow-node run` starts (:func:`start_server`), so the
HTTP parser's own refusals are seen as a client sees them, over a raw socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Awaitable, Callable

import aiohttp
import pytest
from structlog.testing import capture_logs

from api_solo_node import SoloNode
from api_world import World, run_world
from config import ApiSection
from fedow_node.api import build_app, create_token, start_server, tokens_path
from fedow_node.api import answers
from fedow_node.api.answers import ClientMistakeLog
from fedow_node.api.facade import SubmitRefused, refusal_of
from fedow_node.api.numbers import parse_int
from fedow_node.api.errors import ApiError
from fedow_node.logs import configure_logging
from storage import StoreCorrupted
from wallet.errors import Rejected

HOSTILE_INTEGERS = ["²", "٣", "1²", "-1", "+1", " 1", "1 ", "0x10", "1e3", "1_000", "", "9" * 5000, "9" * 20]


@pytest.mark.parametrize("text", HOSTILE_INTEGERS)
def test_parse_int_refuses_all_but_ascii_digits_in_range(text: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_int(text, "limit", 1, 100)
    assert refused.value.status == 400 and "limit" in refused.value.detail


def test_parse_int_reads_ascii_digits() -> None:
    assert parse_int("42", "limit", 1, 100) == 42
    assert parse_int(str(2**63 - 1), "height", 1, 2**63 - 1) == 2**63 - 1


def test_hostile_numbers_in_paths_and_queries_are_400(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        for text in ("²", "٣", "9" * 5000):
            for path in (f"/v1/blocks/{text}", f"/v1/txs?wait=commit&timeout_ms={text}",
                         f"/v1/demurrage/due?limit={text}"):
                status, body = await world.raw("GET" if "blocks" in path or "demurrage" in path else "POST", path,
                                               json={"tx": "00"} if "txs" in path else None)
                assert status == 400, (path, status, body)
                assert set(body) == {"error", "detail"}, body

    run_world(tmp_path, scenario)


def test_deep_json_and_bad_authorization_are_4xx(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        status, body = await world.raw("POST", "/v1/txs", body=b"[" * 100_000 + b"]" * 100_000,
                                       headers={"Content-Type": "application/json"})
        assert (status, body["error"]) in {(400, "bad_json"), (413, "body_too_large")}, (status, body)
        status, body = await world.raw("POST", "/v1/txs", body=b"[" * 5_000 + b"]" * 5_000)
        assert (status, body["error"]) == (400, "bad_json"), body
        status, body = await world.raw("GET", "/v1/wallets/" + "00" * 32 + "/history", token="fdw_\u00e9t\u00e9")
        assert status in {401, 200}, body  # public reads may ignore it; a token route refuses it:
        status, body = await world.raw("POST", "/v1/pos/sales", json={}, token="fdw_\u00e9t\u00e9")
        assert (status, body["error"]) == (401, "bad_token"), body

    run_world(tmp_path, scenario)


def _serve(tmp_path: Path, scenario: Callable[[int], Awaitable[None]], node: SoloNode | None = None) -> None:
    """Run ``scenario(port)`` against the API served exactly as `fedow-node run` serves it."""
    async def main() -> None:
        solo = node or SoloNode(tmp_path)
        create_token(tokens_path(tmp_path), "bar", 0)
        runner = await start_server(build_app(solo, ApiSection(max_body_bytes=16 * 1024)), "127.0.0.1:0")
        try:
            async with asyncio.timeout(30):
                await scenario(runner.addresses[0][1])
        finally:
            await runner.cleanup()
            solo.close()

    asyncio.run(main())


async def _raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


PARSER_REFUSALS = [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20_000 + b"\r\n\r\n", 431),
    (b"GET /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", 400),
    (b"POST /v1/txs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", 400),
    (b"GET /v1/status HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n", 400),
]


def test_the_http_parsers_refusals_are_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers, "MISTAKES", ClientMistakeLog())  # a budget of its own, whatever ran before

    async def scenario(port: int) -> None:
        for request, expected in PARSER_REFUSALS:
            status, headers, body = await _raw_exchange(port, request)
            assert status == expected, (request[:60], status, body)
            assert headers["content-type"].startswith("application/json"), headers
            answer = json.loads(body)
            assert answer["error"] == "bad_http" and answer["detail"], answer

    with capture_logs() as logs:
        _serve(tmp_path, scenario)
    assert not [entry for entry in logs if entry["log_level"] in {"error", "critical"}], logs
    assert [entry["code"] for entry in logs if entry["event"] == "api_refused"] == ["bad_http"] * len(PARSER_REFUSALS)


def test_non_utf8_authorization_bytes_are_401(tmp_path: Path) -> None:
    async def scenario(port: int) -> None:
        request = (b"POST /v1/pos/sales HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer \xff\xfe\x80\r\n"
                   b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        status, _headers, body = await _raw_exchange(port, request)
        assert status in {400, 401}, body
        assert json.loads(body)["error"] in {"bad_token", "bad_http"}

    _serve(tmp_path, scenario)


class FaultyStoreNode(SoloNode):
    """A node whose storage fails while checking a transaction: a fault of the node, not a refusal."""

    async def submit(self, tx: bytes) -> bytes:
        raise StoreCorrupted("LevelDB reported corruption while reading a balance")


def test_a_storage_fault_while_checking_a_sale_is_500_not_422(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        status, body = await world.raw("POST", "/v1/txs", json={"tx": "00" * 200})
        assert (status, body["error"]) == (500, "internal"), body
        assert "corruption" not in body["detail"]  # internals stay in the log

    with capture_logs() as logs:
        run_world(tmp_path, scenario, node_class=FaultyStoreNode)
    faults = [entry for entry in logs if entry["event"] == "api_internal_error"]
    assert len(faults) == 1 and faults[0]["log_level"] == "error" and faults[0]["exc_info"], logs


def test_only_the_nodes_refusals_count_as_refusals() -> None:
    assert refusal_of(Rejected("overdraft", "balance too low")).code == "overdraft"  # type: ignore[union-attr]
    assert refusal_of(SubmitRefused("mempool_full", "full")).code == "mempool_full"  # type: ignore[union-attr]
    assert refusal_of(StoreCorrupted("bad block")) is None  # has code and detail, yet is a fault


def test_client_mistakes_are_logged_a_few_per_window() -> None:
    now = [0.0]
    mistakes = ClientMistakeLog(limit=3, window_s=10.0, clock=lambda: now[0])
    with capture_logs() as logs:
        logged = [mistakes.refused(code="bad_request") for _ in range(100)]
        now[0] = 10.0
        logged.append(mistakes.refused(code="bad_request"))
    assert logged == [True] * 3 + [False] * 97 + [True]
    assert [entry["event"] for entry in logs] == ["api_refused"] * 3 + ["api_refusals_suppressed", "api_refused"]
    assert logs[3]["count"] == 97 and all(entry["log_level"] == "info" for entry in logs)


def test_json_logs_carry_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    import structlog

    configure_logging("json", "info")
    try:
        try:
            raise ValueError("the bug")
        except ValueError:
            structlog.get_logger("t").exception("api_internal_error")
        try:
            raise KeyError("foreign")
        except KeyError:
            logging.getLogger("aiohttp.server").exception("Error handling request")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()
    by_event = {line["event"]: line for line in lines}
    assert "Traceback" in by_event["api_internal_error"]["exception"]
    assert "ValueError: the bug" in by_event["api_internal_error"]["exception"]
    assert "KeyError: 'foreign'" in by_event["Error handling request"]["exception"]


def test_a_client_that_hangs_up_mid_body_is_logged_at_debug(tmp_path: Path) -> None:
    async def scenario(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"tx\": \"00")
        await writer.drain()
        await asyncio.sleep(0.2)  # the handler is reading the body
        writer.transport.abort()
        for _ in range(100):  # the server notices; give it turns until it logged
            await asyncio.sleep(0.02)
            if any(entry["event"] == "api_client_disconnected" for entry in logs):
                break

    with capture_logs() as logs:
        _serve(tmp_path, scenario)
    assert [entry["log_level"] for entry in logs if entry["event"] == "api_client_disconnected"] == ["debug"], logs
    assert not [entry for entry in logs if entry["log_level"] in {"error", "critical"}], logs


def test_logging_follows_stderr_and_never_writes_to_a_closed_stream(capsys: pytest.CaptureFixture[str]) -> None:
    """A stream bound at configuration and closed later printed 'Logging error ... I/O operation on closed file'."""
    import io
    import sys

    import structlog

    configured_on = io.StringIO()
    real = sys.stderr
    sys.stderr = configured_on
    try:
        configure_logging("json", "info")
    finally:
        sys.stderr = real
    configured_on.close()
    try:
        logging.getLogger("aiohttp.server").warning("after stderr changed")
        err = capsys.readouterr().err
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()
    assert "Logging error" not in err and "closed file" not in err
    assert json.loads(err.strip().splitlines()[-1])["event"] == "after stderr changed"


def test_a_corrupt_store_met_by_a_request_stops_the_node_a_bug_does_not(tmp_path: Path) -> None:
    """Fatal faults (corrupt store, broken invariant) call the app's on_fatal hook: `fedow-node run` halts."""
    from aiohttp.test_utils import TestServer

    from fedow_node.api.answers import ON_FATAL, fatal_fault
    from wallet.errors import InvariantBroken

    class BuggyNode(SoloNode):
        async def submit(self, tx: bytes) -> bytes:
            raise RuntimeError("a bug, not a fault of the data")

    halts: list[str] = []

    async def main() -> None:
        for node_class, expected in ((FaultyStoreNode, 1), (BuggyNode, 1)):
            node = node_class(tmp_path / node_class.__name__)
            app = build_app(node, ApiSection())
            app[ON_FATAL] = halts.append
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            try:
                async with aiohttp.ClientSession() as session:
                    async with session.post(str(server.make_url("/v1/txs")), json={"tx": "00" * 200}) as response:
                        assert response.status == 500 and (await response.json())["error"] == "internal"
            finally:
                await server.close()
                node.close()
            assert len(halts) == expected, halts

    asyncio.run(main())
    assert halts == ["StoreCorrupted: store_corrupted: LevelDB reported corruption while reading a balance"]
    group = BaseExceptionGroup("tasks", [ValueError("x"), InvariantBroken("FED held != refilled - refunded")])
    assert isinstance(fatal_fault(group), InvariantBroken) and fatal_fault(ValueError("x")) is None
