"""End to end: a node process with ``[reader] enabled``, the machine's real pcscd, vpcd and emulated cards.

A 1-validator devnet node runs with ``FEDOW_READER_ENABLED=true``; the tests
start and stop pcscd (tests/hardware/pcscd_process.py), put emulated cards on
the virtual readers (tests/hardware/card_emulator.py) and read the node's
``/v1/reader/events`` stream and ``/v1/reader/status`` over HTTP on 127.0.0.1.
Every wait is bounded; only the node and the pcscd started here are stopped.
Needs root (pcscd's socket folder), like tests/hardware.
"""

from __future__ import annotations

import http.client
import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from card_emulator import READER_0_PORT, VirtualCard
from fedow_node.client import SyncFedowClient
from fedow_node.devnet import Devnet, NodeHome, free_ports, prepare_devnet
from node_harness import http_json
from pcscd_process import READER_0, READER_1, Pcscd, fail_if_foreign_pcscd, pcscd_slot

pytestmark = pytest.mark.slow

READER_ENV = {"FEDOW_READER_ENABLED": "true", "FEDOW_READER_POLL_INTERVAL_MS": "100",
              "FEDOW_READER_MAX_BACKOFF_MS": "400", "FEDOW_LOG_LEVEL": "info"}
WITHIN_S = 20.0
"""Bound of every wait: a tap reaches the stream in about 0.6 s here (pcscd polls vpcd slowly)."""
KNOWN_UID = bytes.fromhex("04A1B2C3D4E5F6")
UNKNOWN_UID = bytes.fromhex("DEADBEEF")

Event = tuple[str, dict[str, Any]]


def wait_for(what: str, predicate: Callable[[], Any], timeout: float = WITHIN_S) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class EventStream:
    """The node's reader event stream, read by a thread into a queue of (event name, data)."""

    def __init__(self, api_url: str, token: str) -> None:
        address = urlsplit(api_url)
        self._connection = http.client.HTTPConnection(address.hostname, address.port, timeout=WITHIN_S * 3)
        self._connection.request("GET", "/v1/reader/events", headers={"Authorization": f"Bearer {token}"})
        response = self._connection.getresponse()
        assert response.status == 200, response.read()
        self._events: queue.Queue[Event] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(response,), daemon=True)
        self._thread.start()

    def _read(self, response: http.client.HTTPResponse) -> None:
        name, data = "message", None
        try:
            for raw in response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: "):
                    data = json.loads(line[len("data: "):])
                elif line == "" and data is not None:
                    self._events.put((name, data))
                    name, data = "message", None
        except (OSError, ValueError):
            pass  # closed by close()

    def next(self) -> Event:
        try:
            return self._events.get(timeout=WITHIN_S)
        except queue.Empty:
            raise AssertionError(f"no reader event within {WITHIN_S} s") from None

    def close(self) -> None:
        assert self._connection.sock is not None
        self._connection.sock.shutdown(socket.SHUT_RDWR)  # wakes the reading thread
        self._thread.join(WITHIN_S)
        self._connection.close()


@dataclass
class ReaderNode:
    home: NodeHome
    pcscd: Pcscd

    def reader_status(self) -> dict[str, Any]:
        return http_json(f"{self.home.api_url}/v1/reader/status", token=self.home.pos_token)

    def height(self) -> int:
        return http_json(f"{self.home.api_url}/v1/status")["height"]

    def wait_state(self, state: str, readers: list[str]) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            status = self.reader_status()
            names = [reader["name"] for reader in status["readers"]]
            return status if status["state"] == state and names == readers else None
        return wait_for(f"reader state {state} with readers {readers}", reached)

    def wait_commits(self, blocks: int) -> None:
        start = self.height()
        wait_for(f"{blocks} more blocks after height {start}", lambda: self.height() >= start + blocks)

    def ensure_pcscd(self) -> None:
        if self.reader_status()["state"] != "ok":
            self.pcscd.start()
        self.wait_state("ok", [READER_0, READER_1])

    def stream(self) -> EventStream:
        stream = EventStream(self.home.api_url, self.home.pos_token)
        assert stream.next()[0] == "status"
        return stream


@pytest.fixture(scope="module")
def reader_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReaderNode]:
    """A 1-validator devnet node watching the card readers; pcscd not started yet."""
    root = tmp_path_factory.mktemp("reader-node")
    homes = prepare_devnet(root / "devnet", 1, free_ports(1), fed_melts=False)  # exact balances
    pcscd = Pcscd(root / "pcscd")
    with pcscd_slot(), Devnet(homes, extra_env=READER_ENV) as devnet:
        fail_if_foreign_pcscd()
        devnet.start(0)
        try:
            wait_for("the node's API", lambda: _answers(homes[0]))
            yield ReaderNode(homes[0], pcscd)
        finally:
            pcscd.stop()
        assert devnet.exited() == {}, (homes[0].home / "node.log").read_text()[-3000:]


def _answers(home: NodeHome) -> bool:
    try:
        http_json(f"{home.api_url}/v1/status")
        return True
    except OSError:
        return False


def test_without_pcscd_the_node_commits_and_its_reader_status_says_so(reader_node: ReaderNode) -> None:
    status = reader_node.wait_state("pcscd_unavailable", [])
    assert status["enabled"] is True and "0x8010001D" in status["detail"]
    reader_node.wait_commits(2)
    assert reader_node.reader_status()["state"] == "pcscd_unavailable"


def test_taps_of_a_registered_and_an_unknown_card_reach_the_stream(reader_node: ReaderNode) -> None:
    reader_node.ensure_pcscd()
    client = SyncFedowClient(reader_node.home.api_url, reader_node.home.pos_token)
    try:
        client.register_cards([(KNOWN_UID, "00000042", bytes(range(16)))])
        client.refill("FED", 1500, uid=KNOWN_UID)
        client.grant_membership("MEMBER", "month", 1, uid=KNOWN_UID)
    finally:
        client.close()
    stream = reader_node.stream()
    try:
        with VirtualCard(KNOWN_UID, port=READER_0_PORT):
            name, tap = stream.next()
            on_reader = reader_node.reader_status()["readers"]
        assert stream.next() == ("removed", {"reader": READER_0})
        with VirtualCard(UNKNOWN_UID, port=READER_0_PORT):
            unknown = stream.next()
        assert stream.next() == ("removed", {"reader": READER_0})
    finally:
        stream.close()
    assert name == "tap" and tap["known"] is True and tap["uid"] == KNOWN_UID.hex() and tap["reader"] == READER_0
    assert on_reader == [{"name": READER_0, "card": KNOWN_UID.hex()}, {"name": READER_1, "card": None}]
    card = tap["card"]
    assert card["uid"] == KNOWN_UID.hex() and card["number"] == "00000042" and card["origin_place"] == "venue-0"
    assert [(b["asset"], b["amount"]) for b in card["paying_wallet"]["balances"]] == [("FED", 1500)]
    assert [(m["asset"], m["active"]) for m in card["paying_wallet"]["memberships"]] == [("MEMBER", True)]
    assert unknown[0] == "tap" and unknown[1]["known"] is False and unknown[1]["card"] is None
    assert unknown[1]["uid"] == UNKNOWN_UID.hex() and unknown[1]["error"] == "unknown_card"


def test_pcscd_stopping_is_streamed_and_the_node_keeps_committing(reader_node: ReaderNode) -> None:
    reader_node.ensure_pcscd()
    stream = reader_node.stream()
    try:
        reader_node.pcscd.stop()
        events = [stream.next() for _ in range(3)]
    finally:
        stream.close()
    assert events[:2] == [("detached", {"reader": READER_0}), ("detached", {"reader": READER_1})]
    assert events[2][0] == "status" and events[2][1]["state"] == "pcscd_unavailable"
    assert events[2][1]["readers"] == []
    reader_node.wait_commits(2)
    assert reader_node.reader_status()["state"] == "pcscd_unavailable"
