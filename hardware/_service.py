"""The reader service: watches pcscd's readers and turns card taps into events.

One trio task owns all the state. Each turn it lists the readers (reporting
those that appeared or went away), then waits in a worker thread, at most
``poll_interval_ms``, for pcscd to report a change of a reader's state or of
the reader list; a new card is connected to and asked for its UID. When pcscd
is unreachable the service reports it, forgets its readers and retries with a
doubling delay capped at ``max_backoff_ms``: it never crashes and never spins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
import trio

from hardware._config import ReaderConfig
from hardware._errors import CardReadError, HardwareError, PcscError, PcscUnavailable
from hardware._events import (
    CardRemoved,
    CardTapped,
    CardUnreadable,
    ReaderAttached,
    ReaderDetached,
    ReaderEvent,
    ReaderServiceStatus,
    ServiceState,
)
from hardware._pcsc import (
    PNP_NOTIFICATION,
    STATE_CHANGED,
    STATE_PRESENT,
    PcscContext,
    ReaderStatus,
    require_pyscard,
)
from hardware._uid import GET_DATA_UID, parse_uid_response

log = structlog.get_logger(__name__)
T = TypeVar("T")

_EVENT_COUNTER_SHIFT = 16
_CLOSE_WITHIN_S = 2


@dataclass
class _Backoff:
    """Delay before the next reconnection attempt: doubles from the poll interval up to the cap."""

    floor_ms: int
    cap_ms: int
    next_ms: int = 0

    def take_ms(self) -> int:
        delay = max(self.next_ms, self.floor_ms)
        self.next_ms = min(delay * 2, self.cap_ms)
        return delay

    def reset(self) -> None:
        self.next_ms = self.floor_ms


@dataclass
class _WatchedReader:
    """What the service knows of one reader: pcscd's last state, and whether we reported a card."""

    event_state: int = 0
    card_reported: bool = False


class ReaderService:
    """Emits :data:`ReaderEvent` s for the readers that pass ``config``'s filter."""

    def __init__(self, config: ReaderConfig) -> None:
        self._config = config
        self._readers: dict[str, _WatchedReader] = {}
        self._pnp_state = 0
        self._status: ReaderServiceStatus | None = None

    async def run(self, send_channel: trio.MemorySendChannel[ReaderEvent], *,
                  task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Watch the readers until cancelled; closes ``send_channel`` on exit.

        Raises :class:`PcscUnavailable` (code ``pyscard_missing``) before
        starting if pyscard is not installed; after that it never raises.
        """
        require_pyscard()
        async with send_channel:
            task_status.started()
            backoff = _Backoff(self._config.poll_interval_ms, self._config.max_backoff_ms)
            while True:
                await self._run_session(send_channel, backoff)
                await trio.sleep(backoff.take_ms() / 1000)

    async def _run_session(self, send: trio.MemorySendChannel[ReaderEvent], backoff: _Backoff) -> None:
        try:
            context = await _blocking(PcscContext.establish)
        except HardwareError as error:
            await self._report(send, _state_of(error), error.detail)
            return
        try:
            await self._report(send, "ok", "connected to pcscd")
            await self._watch(context, send, backoff)
        except HardwareError as error:
            log.warning("pcsc_session_lost", code=error.code, detail=error.detail)
            await self._forget_readers(send)
            await self._report(send, _state_of(error), error.detail)
        finally:
            # Runs even when cancelled, but a frozen pcscd must not hold the node's shutdown.
            with trio.CancelScope(shield=True, deadline=trio.current_time() + _CLOSE_WITHIN_S):
                await _blocking(context.close)

    async def _watch(self, context: PcscContext, send: trio.MemorySendChannel[ReaderEvent],
                     backoff: _Backoff) -> None:
        while True:
            names = await _blocking(context.list_readers)
            await self._sync_reader_list(sorted(n for n in names if self._config.accepts(n)), send)
            known = [(name, watched.event_state) for name, watched in self._readers.items()]
            statuses = await _blocking(context.wait_for_change,
                                       [*known, (PNP_NOTIFICATION, self._pnp_state)],
                                       self._config.poll_interval_ms)
            backoff.reset()
            for status in statuses:
                if status.name == PNP_NOTIFICATION:
                    self._pnp_state = status.event_state & ~STATE_CHANGED
                elif status.name in self._readers:
                    await self._on_reader_status(context, status, send)

    async def _sync_reader_list(self, names: list[str], send: trio.MemorySendChannel[ReaderEvent]) -> None:
        for name in sorted(set(self._readers) - set(names)):
            await self._detach(name, send)
        for name in names:
            if name not in self._readers:
                self._readers[name] = _WatchedReader()
                log.info("reader_attached", reader=name)
                await send.send(ReaderAttached(name))

    async def _forget_readers(self, send: trio.MemorySendChannel[ReaderEvent]) -> None:
        for name in sorted(self._readers):
            await self._detach(name, send)
        self._pnp_state = 0

    async def _detach(self, name: str, send: trio.MemorySendChannel[ReaderEvent]) -> None:
        watched = self._readers.pop(name)
        if watched.card_reported:
            await send.send(CardRemoved(name))
        log.info("reader_detached", reader=name)
        await send.send(ReaderDetached(name))

    async def _on_reader_status(self, context: PcscContext, status: ReaderStatus,
                                send: trio.MemorySendChannel[ReaderEvent]) -> None:
        watched = self._readers[status.name]
        previous = watched.event_state
        watched.event_state = status.event_state & ~STATE_CHANGED
        present = bool(status.event_state & STATE_PRESENT)
        # pcscd counts card insertions and removals in the upper 16 bits: a changed
        # count with a card present means it was swapped between two waits.
        swapped = (status.event_state >> _EVENT_COUNTER_SHIFT) != (previous >> _EVENT_COUNTER_SHIFT)
        if watched.card_reported and (not present or swapped):
            watched.card_reported = False
            log.info("card_removed", reader=status.name)
            await send.send(CardRemoved(status.name))
        if present and not watched.card_reported:
            await send.send(await self._read_card(context, status))
            watched.card_reported = True  # only now: losing pcscd mid-read reports no removal

    async def _read_card(self, context: PcscContext, status: ReaderStatus) -> CardTapped | CardUnreadable:
        try:
            response = await _blocking(context.transmit, status.name, GET_DATA_UID)
            uid = parse_uid_response(response)
        except (CardReadError, PcscError) as error:
            return _unreadable(status, error.code, error.detail)
        log.info("card_tapped", reader=status.name, uid=uid.hex(), atr=status.atr.hex())
        return CardTapped(status.name, uid, status.atr)

    async def _report(self, send: trio.MemorySendChannel[ReaderEvent], state: ServiceState,
                      detail: str) -> None:
        status = ReaderServiceStatus(state, detail)
        if status == self._status:
            return
        self._status = status
        (log.info if state == "ok" else log.warning)("reader_service_status", state=state, detail=detail)
        await send.send(status)


async def _blocking(function: Callable[..., T], *args: object) -> T:
    """Run a pyscard call in a worker thread; on cancellation the thread is left to finish alone."""
    return await trio.to_thread.run_sync(function, *args, abandon_on_cancel=True)


def _state_of(error: HardwareError) -> ServiceState:
    return "pcscd_unavailable" if isinstance(error, PcscUnavailable) else "pcsc_error"


def _unreadable(status: ReaderStatus, code: str, detail: str) -> CardUnreadable:
    log.warning("card_unreadable", reader=status.name, atr=status.atr.hex(), code=code, detail=detail)
    return CardUnreadable(status.name, status.atr, code, detail)
