"""Pure parts of the hardware package: configuration, GET DATA parsing, reconnection backoff."""

from __future__ import annotations

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

import hardware
from hardware import (
    CardReadError,
    CardRemoved,
    CardTapped,
    ReaderAttached,
    ReaderConfig,
    ReaderConfigError,
    ReaderEvent,
    ReaderService,
)
from hardware._pcsc import ReaderStatus
from hardware._service import _Backoff
from hardware._uid import parse_uid_response


def test_public_surface_is_importable() -> None:
    assert all(hasattr(hardware, name) for name in hardware.__all__)


def test_reader_is_disabled_by_default() -> None:
    assert ReaderConfig().enabled is False


@pytest.mark.parametrize(("fields", "code", "named"), [
    ({"enabled": "yes"}, "bad_type", "enabled"),
    ({"reader_filter": 3}, "bad_type", "reader_filter"),
    ({"poll_interval_ms": 2.5}, "bad_type", "poll_interval_ms"),
    ({"poll_interval_ms": True}, "bad_type", "poll_interval_ms"),
    ({"poll_interval_ms": 0}, "out_of_range", "poll_interval_ms"),
    ({"max_backoff_ms": 600_000}, "out_of_range", "max_backoff_ms"),
    ({"poll_interval_ms": 500, "max_backoff_ms": 100}, "out_of_range", "max_backoff_ms"),
])
def test_invalid_config_names_the_field(fields: dict[str, object], code: str, named: str) -> None:
    with pytest.raises(ReaderConfigError) as caught:
        ReaderConfig(**fields)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert named in caught.value.detail


def test_reader_filter_is_a_case_insensitive_substring() -> None:
    config = ReaderConfig(reader_filter="acr122")
    assert config.accepts("ACS ACR122U PICC Interface 00 00")
    assert not config.accepts("Virtual PCD 00 00")
    assert ReaderConfig().accepts("anything")


@given(st.sampled_from([4, 7, 10]).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_uid_of_valid_length_is_returned(uid: bytes) -> None:
    assert parse_uid_response(uid + b"\x90\x00") == uid


@given(st.binary(max_size=12).filter(lambda data: len(data) not in (4, 7, 10)))
def test_uid_of_other_length_is_refused(data: bytes) -> None:
    with pytest.raises(CardReadError) as caught:
        parse_uid_response(data + b"\x90\x00")
    assert caught.value.code == "bad_uid"


@given(st.binary(max_size=10), st.binary(min_size=2, max_size=2).filter(lambda sw: sw != b"\x90\x00"))
def test_error_status_word_is_refused_and_named(data: bytes, status_word: bytes) -> None:
    with pytest.raises(CardReadError) as caught:
        parse_uid_response(data + status_word)
    assert caught.value.code == "status_word"
    assert status_word.hex().upper() in caught.value.detail


@pytest.mark.parametrize("response", [b"", b"\x90"])
def test_response_shorter_than_a_status_word_is_refused(response: bytes) -> None:
    with pytest.raises(CardReadError, match="shorter than a status word"):
        parse_uid_response(response)


def test_backoff_doubles_from_the_poll_interval_up_to_the_cap_and_resets() -> None:
    backoff = _Backoff(floor_ms=50, cap_ms=400)
    assert [backoff.take_ms() for _ in range(6)] == [50, 100, 200, 400, 400, 400]
    backoff.reset()
    assert backoff.take_ms() == 50


class _CardAlwaysAnswering:
    """Stands in for a PC/SC context: every card answers GET DATA with the same UID."""

    def transmit(self, reader: str, apdu: bytes) -> bytes:
        return bytes.fromhex("01020304") + b"\x90\x00"


async def test_card_swapped_between_two_waits_is_removed_then_tapped_again() -> None:
    reader, atr, present = "R", bytes.fromhex("3B00"), 0x0020 | 0x0002
    service = ReaderService(ReaderConfig(enabled=True))
    send, receive = trio.open_memory_channel[ReaderEvent](10)
    await service._sync_reader_list([reader], send)
    # pcscd's upper 16 bits count card arrivals and departures: 1 = first card, 3 = another one.
    for event_counter, card_state in [(1, present), (1, present), (3, present), (4, 0x0010 | 0x0002)]:
        status = ReaderStatus(reader, (event_counter << 16) | card_state, atr)
        await service._on_reader_status(_CardAlwaysAnswering(), status, send)  # type: ignore[arg-type]
    tap = CardTapped(reader, bytes.fromhex("01020304"), atr)
    assert [receive.receive_nowait() for _ in range(5)] == [
        ReaderAttached(reader), tap, CardRemoved(reader), tap, CardRemoved(reader)]
    with pytest.raises(trio.WouldBlock):
        receive.receive_nowait()
