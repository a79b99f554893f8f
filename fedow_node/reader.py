"""The node side of the card reader: runs :class:`hardware.ReaderService`, maps taps to cards, fans them out.

:class:`CardReaderHub` owns the service's event channel in the node's trio
nursery (started only when ``[reader] enabled``). Each event updates what the
hub knows (link to pcscd, readers present, the card on each) and becomes a
:class:`ReaderNotice`; a tap carries the card registered with that UID, read
from committed state at the moment of the tap (None: no such card). Listeners
(the API's event streams) are plain callables, called on the node's thread:
in trio guest mode the asyncio side runs on that same thread, so they may
enqueue into asyncio queues directly. The node keeps running whatever happens
to pcscd or pyscard; the status says what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, TypeAlias

import structlog
import trio

from config import ReaderSection
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
from wallet import queries
from wallet.records import Card
from wallet.state import StateReader

__all__ = ["CardReaderHub", "HubState", "ReaderListener", "ReaderNotice", "ReaderSlot", "ReaderStatus",
           "reader_config"]

log = structlog.get_logger(__name__)

HubState: TypeAlias = Literal["starting", "ok", "pcscd_unavailable", "pcsc_error", "pyscard_missing"]
"""``starting`` until the service first reaches pcscd or fails to; then the service's state, or
``pyscard_missing`` (the ``reader`` extra is not installed: the hub gives up, the node runs on)."""

EVENT_BUFFER = 64
"""Reader events waiting for the hub; the service blocks (and pcscd queues) beyond that."""


@dataclass(frozen=True)
class ReaderSlot:
    """One reader passing the filter, and the UID of the card on it (None: no card, or unreadable)."""

    name: str
    card_uid: bytes | None = None


@dataclass(frozen=True)
class ReaderStatus:
    """The service's link to pcscd and the readers present, sorted by name."""

    state: HubState
    detail: str
    readers: tuple[ReaderSlot, ...] = ()


@dataclass(frozen=True)
class ReaderNotice:
    """One reader event for POS software, numbered in arrival order, with the status right after it.

    ``card`` is set for a :class:`hardware.CardTapped` whose UID is registered.
    """

    seq: int
    event: ReaderEvent
    status: ReaderStatus
    card: Card | None = None


ReaderListener: TypeAlias = Callable[[ReaderNotice], None]


def reader_config(section: ReaderSection) -> ReaderConfig:
    """The service configuration for the node's ``[reader]`` section."""
    return ReaderConfig(enabled=section.enabled, reader_filter=section.name_filter,
                        poll_interval_ms=section.poll_interval_ms, max_backoff_ms=section.max_backoff_ms)


class CardReaderHub:
    """Runs the reader service for one node and tells its listeners about every event."""

    def __init__(self, config: ReaderConfig, state: StateReader) -> None:
        self._config = config
        self._state = state
        self._status = ReaderStatus("starting", "waiting for the reader service to reach pcscd")
        self._listeners: list[ReaderListener] = []
        self._seq = 0

    @property
    def status(self) -> ReaderStatus:
        return self._status

    @property
    def subscribers(self) -> int:
        """Listeners currently subscribed (open event streams)."""
        return len(self._listeners)

    def subscribe(self, listener: ReaderListener) -> Callable[[], None]:
        """Call ``listener`` with every later notice; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def run(self) -> None:
        """Serve the reader service's events until cancelled; returns early only without pyscard."""
        send, receive = trio.open_memory_channel[ReaderEvent](EVENT_BUFFER)
        async with trio.open_nursery() as nursery:
            try:
                await nursery.start(ReaderService(self._config).run, send)
            except PcscUnavailable as error:
                log.warning("reader.unavailable", code=error.code, detail=error.detail)
                self._status = ReaderStatus("pyscard_missing", error.detail)
                return
            log.info("reader.started", name_filter=self._config.reader_filter)
            async with receive:
                async for event in receive:
                    self.handle(event)

    def handle(self, event: ReaderEvent) -> ReaderNotice:
        """Update the status for ``event``, look up a tapped card, and tell every listener."""
        card = None
        if isinstance(event, CardTapped):
            card = queries.card(self._state, event.uid)
            log.info("reader.tap", reader=event.reader, uid=event.uid.hex(), known=card is not None)
        self._status = _next_status(self._status, event)
        self._seq += 1
        notice = ReaderNotice(self._seq, event, self._status, card)
        for listener in tuple(self._listeners):  # a listener may unsubscribe itself
            listener(notice)
        return notice


def _with_card(readers: tuple[ReaderSlot, ...], name: str, uid: bytes | None) -> tuple[ReaderSlot, ...]:
    return tuple(replace(slot, card_uid=uid) if slot.name == name else slot for slot in readers)


def _next_status(status: ReaderStatus, event: ReaderEvent) -> ReaderStatus:
    """What the hub knows after ``event``."""
    if isinstance(event, ReaderServiceStatus):
        return replace(status, state=event.state, detail=event.detail)
    if isinstance(event, ReaderAttached):
        others = tuple(slot for slot in status.readers if slot.name != event.name)
        return replace(status, readers=tuple(sorted((*others, ReaderSlot(event.name)), key=lambda s: s.name)))
    if isinstance(event, ReaderDetached):
        return replace(status, readers=tuple(slot for slot in status.readers if slot.name != event.name))
    if isinstance(event, CardTapped):
        return replace(status, readers=_with_card(status.readers, event.reader, event.uid))
    if isinstance(event, (CardUnreadable, CardRemoved)):
        return replace(status, readers=_with_card(status.readers, event.reader, None))
    raise TypeError(f"not a reader event: {event!r}")
