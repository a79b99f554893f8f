"""A contactless card on a virtual reader, for tests (standard library only).

vpcd (the ``vsmartcard-vpcd`` driver inside pcscd) listens on TCP 35963 for
reader 0 and 35964 for reader 1. Connecting a socket inserts a card, closing it
removes the card. Frames are a 2-byte big-endian length followed by the payload:
a 1-byte payload is a control code (power off / on / reset, send ATR), anything
longer is an APDU that we answer with data + status word.

The card behaves like a MIFARE card on an ACR122U reader: the PC/SC pseudo-APDU
GET DATA UID (``FF CA 00 00 00``) answers the UID + ``90 00``; every other APDU
(and GET DATA too when ``uid`` is None) answers ``6A 81`` (function not supported).
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

READER_0_PORT = 35963
READER_1_PORT = 35964

ACR122U_CARD_ATR = bytes.fromhex("3B8F8001804F0CA0000003060300030000000068")
GET_DATA_UID = bytes.fromhex("FFCA000000")
SW_OK = bytes.fromhex("9000")
SW_FUNCTION_NOT_SUPPORTED = bytes.fromhex("6A81")

_CONTROL_POWER_OFF = 0x00
_CONTROL_POWER_ON = 0x01
_CONTROL_RESET = 0x02
_CONTROL_GET_ATR = 0x04


class VirtualCard:
    """One card placed on a vpcd reader while ``inserted`` (use as a context manager).

    ``received`` lists every APDU the reader sent, in order, so tests can check
    what the service asked.
    """

    def __init__(self, uid: bytes | None, *, port: int = READER_0_PORT,
                 atr: bytes = ACR122U_CARD_ATR) -> None:
        self.uid = uid
        self.port = port
        self.atr = atr
        self.received: list[bytes] = []
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def insert(self) -> None:
        """Connect to vpcd (the reader now sees a card) and serve its requests in a thread."""
        self._socket = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self._socket.settimeout(None)
        self._thread = threading.Thread(target=self._serve, args=(self._socket,), daemon=True,
                                        name=f"virtual-card-{self.port}")
        self._thread.start()

    def remove(self) -> None:
        """Close the connection: vpcd reports the card as gone."""
        if self._socket is None:
            return
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # vpcd already closed its side (pcscd stopped)
        self._socket.close()
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._socket = None
        self._thread = None

    def __enter__(self) -> VirtualCard:
        self.insert()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove()

    def answer(self, apdu: bytes) -> bytes:
        """The card's response to one APDU."""
        if apdu == GET_DATA_UID and self.uid is not None:
            return self.uid + SW_OK
        return SW_FUNCTION_NOT_SUPPORTED

    def _serve(self, sock: socket.socket) -> None:
        try:
            while (payload := _read_frame(sock)) is not None:
                reply = self._handle(payload)
                if reply is not None:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)
        except OSError:
            pass  # the socket was closed by remove() or by pcscd stopping

    def _handle(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            if payload[0] == _CONTROL_GET_ATR:
                return self.atr
            if payload[0] in (_CONTROL_POWER_OFF, _CONTROL_POWER_ON, _CONTROL_RESET):
                return None
            raise ValueError(f"unknown vpcd control code {payload[0]:#04x}")
        self.received.append(payload)
        return self.answer(payload)


def _read_frame(sock: socket.socket) -> bytes | None:
    header = _read_exactly(sock, 2)
    if header is None:
        return None
    (length,) = struct.unpack(">H", header)
    return _read_exactly(sock, length)


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)
