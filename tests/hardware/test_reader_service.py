"""The reader service against a real pcscd, the vpcd virtual readers and emulated cards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
import trio
from card_emulator import ACR122U_CARD_ATR, READER_0_PORT, READER_1_PORT, VirtualCard
from pcscd_process import READER_0, READER_1, Pcscd

from hardware import (
    CardRemoved,
    CardTapped,
    CardUnreadable,
    PcscUnavailable,
    ReaderAttached,
    ReaderConfig,
    ReaderDetached,
    ReaderEvent,
    ReaderService,
    ReaderServiceStatus,
)

FAST = ReaderConfig(enabled=True, poll_interval_ms=50, max_backoff_ms=400)
EVENT_WITHIN_S = 3
UID_4 = bytes.fromhex("DEADBEEF")
UID_7 = bytes.fromhex("04A1B2C3D4E5F6")
UNKNOWN_CARD_ATR = bytes.fromhex("3B8180018080")  # an ISO 14443-4 card, not a MIFARE Classic
OK = ReaderServiceStatus("ok", "connected to pcscd")

Events = trio.MemoryReceiveChannel[ReaderEvent]


@asynccontextmanager
async def running_service(config: ReaderConfig = FAST) -> AsyncIterator[Events]:
    send, receive = trio.open_memory_channel[ReaderEvent](100)
    async with trio.open_nursery() as nursery:
        await nursery.start(ReaderService(config).run, send)
        yield receive
        nursery.cancel_scope.cancel()


async def next_event(events: Events) -> ReaderEvent:
    with trio.fail_after(EVENT_WITHIN_S):
        return await events.receive()


async def events_until(events: Events, last: Callable[[ReaderEvent], bool]) -> list[ReaderEvent]:
    """Every event up to and including the first one for which ``last`` holds."""
    received = [await next_event(events)]
    while not last(received[-1]):
        received.append(await next_event(events))
    return received


async def expect_both_readers(events: Events) -> None:
    assert [await next_event(events) for _ in range(3)] == [
        OK, ReaderAttached(READER_0), ReaderAttached(READER_1)]


@pytest.mark.parametrize("uid", [UID_4, UID_7], ids=["4-byte", "7-byte"])
async def test_tap_reports_uid_and_atr_then_removal(pcscd: Pcscd, uid: bytes) -> None:
    async with running_service() as events:
        await expect_both_readers(events)
        with VirtualCard(uid, port=READER_0_PORT) as card:
            assert await next_event(events) == CardTapped(READER_0, uid, ACR122U_CARD_ATR)
        assert await next_event(events) == CardRemoved(READER_0)
        assert card.received == [bytes.fromhex("FFCA000000")]


async def test_two_readers_one_card_each(pcscd: Pcscd) -> None:
    async with running_service() as events:
        await expect_both_readers(events)
        with VirtualCard(UID_4, port=READER_0_PORT), VirtualCard(UID_7, port=READER_1_PORT):
            taps = {await next_event(events), await next_event(events)}
            assert taps == {CardTapped(READER_0, UID_4, ACR122U_CARD_ATR),
                            CardTapped(READER_1, UID_7, ACR122U_CARD_ATR)}
        removals = {await next_event(events), await next_event(events)}
        assert removals == {CardRemoved(READER_0), CardRemoved(READER_1)}


@pytest.mark.parametrize(("card", "code", "named"), [
    (VirtualCard(None, atr=UNKNOWN_CARD_ATR), "status_word", "6A81"),
    (VirtualCard(bytes.fromhex("0102030405")), "bad_uid", "5 bytes"),
], ids=["6A81", "5-byte-uid"])
async def test_unreadable_card_is_reported_and_the_service_goes_on(
        pcscd: Pcscd, card: VirtualCard, code: str, named: str) -> None:
    async with running_service() as events:
        await expect_both_readers(events)
        with card:
            unreadable = await next_event(events)
            assert isinstance(unreadable, CardUnreadable)
            assert (unreadable.reader, unreadable.atr, unreadable.code) == (READER_0, card.atr, code)
            assert named in unreadable.detail
        assert await next_event(events) == CardRemoved(READER_0)
        with VirtualCard(UID_4, port=READER_0_PORT):
            assert await next_event(events) == CardTapped(READER_0, UID_4, ACR122U_CARD_ATR)


async def test_reader_filter_keeps_matching_readers_only(pcscd: Pcscd) -> None:
    config = ReaderConfig(enabled=True, reader_filter="pcd 00 01", poll_interval_ms=50,
                          max_backoff_ms=400)
    async with running_service(config) as events:
        assert [await next_event(events) for _ in range(2)] == [OK, ReaderAttached(READER_1)]
        with VirtualCard(UID_4, port=READER_0_PORT), VirtualCard(UID_7, port=READER_1_PORT):
            assert await next_event(events) == CardTapped(READER_1, UID_7, ACR122U_CARD_ATR)


async def test_pcscd_absent_is_reported_then_its_start_is_noticed(
        no_pcscd: None, pcscd_process: Pcscd) -> None:
    async with running_service() as events:
        status = await next_event(events)
        assert isinstance(status, ReaderServiceStatus)
        assert status.state == "pcscd_unavailable"
        assert "SCardEstablishContext" in status.detail
        await trio.to_thread.run_sync(pcscd_process.start)
        await expect_both_readers(events)
        with VirtualCard(UID_7, port=READER_1_PORT):
            assert await next_event(events) == CardTapped(READER_1, UID_7, ACR122U_CARD_ATR)


async def test_pcscd_restart_is_survived(pcscd: Pcscd) -> None:
    async with running_service() as events:
        await expect_both_readers(events)
        with VirtualCard(UID_4, port=READER_0_PORT):
            assert await next_event(events) == CardTapped(READER_0, UID_4, ACR122U_CARD_ATR)
            await trio.to_thread.run_sync(pcscd.stop)
            lost = await events_until(
                events, lambda e: isinstance(e, ReaderServiceStatus) and e.state == "pcscd_unavailable")
        assert lost[:3] == [CardRemoved(READER_0), ReaderDetached(READER_0), ReaderDetached(READER_1)]
        assert all(isinstance(event, ReaderServiceStatus) for event in lost[3:])
        await trio.to_thread.run_sync(pcscd.start)
        await expect_both_readers(events)
        with VirtualCard(UID_7, port=READER_0_PORT):
            assert await next_event(events) == CardTapped(READER_0, UID_7, ACR122U_CARD_ATR)
        assert await next_event(events) == CardRemoved(READER_0)


async def test_cancel_during_a_long_wait_returns_promptly_and_closes_the_channel(
        pcscd: Pcscd) -> None:
    slow = ReaderConfig(enabled=True, poll_interval_ms=60_000, max_backoff_ms=60_000)
    send, receive = trio.open_memory_channel[ReaderEvent](100)
    with trio.fail_after(EVENT_WITHIN_S):
        async with trio.open_nursery() as nursery:
            await nursery.start(ReaderService(slow).run, send)
            await expect_both_readers(receive)
            await trio.sleep(0.2)  # let the service block in its 60 s wait on pcscd
            nursery.cancel_scope.cancel()
        assert [event async for event in receive] == []


async def test_missing_pyscard_is_reported_before_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hardware._pcsc.scard", None)
    send, _receive = trio.open_memory_channel[ReaderEvent](1)
    with pytest.raises(PcscUnavailable) as caught:
        await ReaderService(FAST).run(send)
    assert caught.value.code == "pyscard_missing"
