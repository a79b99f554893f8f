"""CardReaderHub: what it knows after each reader event, card look-up on tap, listeners, no pyscard."""

from __future__ import annotations

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

import fedow_node.reader
from config import ReaderSection, load_node_config
from fedow_node.reader import CardReaderHub, ReaderNotice, ReaderSlot, ReaderStatus, reader_config
from hardware import (CardRemoved, CardTapped, CardUnreadable, ReaderAttached, ReaderConfig, ReaderDetached,
                      ReaderEvent, ReaderServiceStatus)
from wallet.state import DictReader

ATR = bytes.fromhex("3B8F8001804F0CA0000003060300030000000068")
UID = bytes.fromhex("04A1B2C3")


def test_public_surface_is_importable() -> None:
    assert all(hasattr(fedow_node.reader, name) for name in fedow_node.reader.__all__)


def hub() -> CardReaderHub:
    return CardReaderHub(ReaderConfig(enabled=True), DictReader())


def test_status_follows_the_events_and_readers_stay_sorted() -> None:
    reader_hub = hub()
    assert reader_hub.status.state == "starting" and reader_hub.status.readers == ()
    events: list[ReaderEvent] = [
        ReaderServiceStatus("ok", "connected to pcscd"), ReaderAttached("B reader"), ReaderAttached("A reader"),
        CardTapped("B reader", UID, ATR)]
    for event in events:
        reader_hub.handle(event)
    assert reader_hub.status == ReaderStatus("ok", "connected to pcscd",
                                             (ReaderSlot("A reader"), ReaderSlot("B reader", UID)))
    reader_hub.handle(CardRemoved("B reader"))
    reader_hub.handle(CardUnreadable("A reader", ATR, "status_word", "6A81"))
    assert reader_hub.status.readers == (ReaderSlot("A reader"), ReaderSlot("B reader"))
    reader_hub.handle(ReaderDetached("A reader"))
    reader_hub.handle(ReaderServiceStatus("pcscd_unavailable", "SCardEstablishContext failed"))
    assert reader_hub.status == ReaderStatus("pcscd_unavailable", "SCardEstablishContext failed",
                                             (ReaderSlot("B reader"),))


def test_an_unknown_uid_is_a_tap_without_card() -> None:
    notice = hub().handle(CardTapped("R", UID, ATR))
    assert notice.card is None and notice.event == CardTapped("R", UID, ATR)


@given(st.lists(st.sampled_from([ReaderAttached("R"), ReaderDetached("R"), CardTapped("R", UID, ATR),
                                 CardRemoved("R"), ReaderServiceStatus("ok", "up")]), max_size=20))
def test_notices_are_numbered_in_order_and_carry_the_status_after_them(events: list[ReaderEvent]) -> None:
    reader_hub, seen = hub(), []
    reader_hub.subscribe(seen.append)
    returned = [reader_hub.handle(event) for event in events]
    assert seen == returned
    assert [notice.seq for notice in seen] == list(range(1, len(events) + 1))
    assert all(notice.status.readers == tuple(sorted(notice.status.readers, key=lambda s: s.name))
               for notice in seen)
    if seen:
        assert seen[-1].status == reader_hub.status


def test_a_listener_stops_when_unsubscribed_even_from_inside_a_notice() -> None:
    reader_hub, seen = hub(), []

    def once(notice: ReaderNotice) -> None:
        seen.append(notice.seq)
        stop()

    stop = reader_hub.subscribe(once)
    reader_hub.handle(ReaderAttached("R"))
    reader_hub.handle(ReaderDetached("R"))
    assert seen == [1]


async def test_without_pyscard_the_hub_says_so_and_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hardware._pcsc.scard", None)
    reader_hub = hub()
    with trio.fail_after(5):
        await reader_hub.run()
    assert reader_hub.status.state == "pyscard_missing"
    assert "pyscard" in reader_hub.status.detail


def test_reader_config_follows_the_node_section() -> None:
    section = load_node_config(None, env={"FEDOW_READER_ENABLED": "true", "FEDOW_READER_NAME_FILTER": "ACR122",
                                          "FEDOW_READER_POLL_INTERVAL_MS": "100",
                                          "FEDOW_READER_MAX_BACKOFF_MS": "800"}).reader
    assert reader_config(section) == ReaderConfig(enabled=True, reader_filter="ACR122", poll_interval_ms=100,
                                                  max_backoff_ms=800)
    assert reader_config(ReaderSection()) == ReaderConfig()
