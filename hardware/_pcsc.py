"""The border with pyscard: blocking PC/SC calls, pyscard result codes turned into our errors.

Everything here blocks (each call is a round trip to pcscd over its Unix
socket, :meth:`PcscContext.wait_for_change` waits up to its timeout): the
service runs these calls in worker threads. We use pyscard's thin ``scard``
layer rather than its ``CardMonitor`` singleton, whose thread blocks in 60 s
calls and keeps observers alive.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware._errors import PcscError, PcscUnavailable

try:
    from smartcard import scard
except ImportError:  # pyscard is the optional "reader" extra
    scard = None

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
"""The pseudo reader whose state changes when a reader is plugged in or out."""

STATE_CHANGED = 0x0002
STATE_PRESENT = 0x0020

# SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED, SCARD_F_COMM_ERROR (pcscd vanished mid-call)
_NO_SERVICE_CODES = frozenset({0x8010001D, 0x8010001E, 0x80100013})
_NO_READERS_AVAILABLE = 0x8010002E
_TIMEOUT = 0x8010000A
_UNKNOWN_READER = 0x80100009
_CARD_GONE_CODES = frozenset({0x8010000C, 0x80100069})  # SCARD_E_NO_SMARTCARD, SCARD_W_REMOVED_CARD


@dataclass(frozen=True)
class ReaderStatus:
    """One reader's state as pcscd reports it: ``event_state`` bits (the upper 16 count card events)."""

    name: str
    event_state: int
    atr: bytes


def require_pyscard() -> None:
    """Raise :class:`PcscUnavailable` if pyscard (the ``reader`` extra) is not installed."""
    if scard is None:
        raise PcscUnavailable("pyscard_missing",
                              "pyscard is not installed; install fedow-node[reader]")


def _check(hresult: int, call: str) -> None:
    if hresult == 0:
        return
    message = f"{call} failed: {scard.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})"
    if hresult in _NO_SERVICE_CODES:
        raise PcscUnavailable("pcscd_unavailable", message)
    code = "card_gone" if hresult in _CARD_GONE_CODES else "pcsc_error"
    raise PcscError(code, message, hresult)


class PcscContext:
    """One PC/SC context (a session with pcscd); all methods block."""

    def __init__(self, handle: int) -> None:
        self._handle = handle

    @classmethod
    def establish(cls) -> PcscContext:
        """Open a session with pcscd; :class:`PcscUnavailable` if it is not running."""
        require_pyscard()
        hresult, handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check(hresult, "SCardEstablishContext")
        return cls(handle)

    def list_readers(self) -> list[str]:
        """The names of the readers pcscd knows now (empty when none is plugged in)."""
        hresult, names = scard.SCardListReaders(self._handle, [])
        if hresult == _NO_READERS_AVAILABLE:
            return []
        _check(hresult, "SCardListReaders")
        return list(names)

    def wait_for_change(self, known: list[tuple[str, int]], timeout_ms: int) -> list[ReaderStatus]:
        """Block until one of the ``(name, last event state)`` pairs changes or ``timeout_ms`` passes.

        Returns the new state of every reader passed in (unchanged ones too), or
        an empty list on timeout or when one of the readers is gone.
        """
        hresult, states = scard.SCardGetStatusChange(self._handle, timeout_ms, known)
        if hresult in (_TIMEOUT, _UNKNOWN_READER):  # a reader left since the list: list again
            return []
        _check(hresult, "SCardGetStatusChange")
        return [ReaderStatus(name, event_state, bytes(atr)) for name, event_state, atr in states]

    def transmit(self, reader: str, apdu: bytes) -> bytes:
        """Connect to the card on ``reader`` (shared), send one APDU, disconnect; the raw response."""
        hresult, card, protocol = scard.SCardConnect(
            self._handle, reader, scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        _check(hresult, f"SCardConnect to {reader!r}")
        try:
            hresult, response = scard.SCardTransmit(card, protocol, list(apdu))
            _check(hresult, f"SCardTransmit to {reader!r}")
            return bytes(response)
        finally:
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)

    def close(self) -> None:
        """Wake a :meth:`wait_for_change` still running in an abandoned thread, then end the session.

        Result codes are ignored: pcscd may already be gone.
        """
        scard.SCardCancel(self._handle)
        scard.SCardReleaseContext(self._handle)
