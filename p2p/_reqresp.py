"""Request/response over one libp2p stream per request.

Wire format, both ways one frame (see ``_framing``): the request is the
payload; the response is one status byte (0 = ok, 1 = error) then either the
payload or ``code NUL detail`` in UTF-8. A handler that raises becomes an error
response, never a crash. Each side enforces its own size limit. A stream per
request costs ~5 ms (notes/libp2p.md); persistent streams are left out until a
caller needs more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
import trio
from libp2p.abc import IHost, INetStream
from libp2p.custom_types import TProtocol
from libp2p.exceptions import BaseLibp2pError
from libp2p.peer.id import ID

from p2p._errors import MessageTooLarge, P2PError, PeerUnavailable, ProtocolViolation, RemoteError
from p2p._framing import read_frame, write_frame

log = structlog.get_logger(__name__)

Handler = Callable[[str, bytes], Awaitable[bytes]]
"""``async handler(peer_id, request) -> response``; raise :class:`P2PError` to refuse with a code."""

STATUS_OK = 0
STATUS_ERROR = 1
ERROR_DETAIL_MAX_CHARS = 500
ERROR_REPLY_MAX_BYTES = 8 * 1024
"""An error reply is read whole even when the caller expects a tiny response."""


async def serve(stream: INetStream, handler: Handler, *, max_request_bytes: int,
                read_seconds: float, refuse: Callable[[str], P2PError | None]) -> bool:
    """Answer one request on ``stream``; True when the handler produced the response."""
    peer_id = stream.muxed_conn.peer_id.to_base58()
    try:
        refusal = refuse(peer_id)
        if refusal is not None:
            raise refusal
        with trio.fail_after(read_seconds):
            request = await read_frame(stream, max_request_bytes)
        response = _ok(await handler(peer_id, request))
        answered = True
    except trio.TooSlowError:
        log.info("request_read_timeout", peer_id=peer_id, seconds=read_seconds)
        await _reset(stream)
        return False
    except (BaseLibp2pError, OSError) as error:
        log.info("request_stream_failed", peer_id=peer_id, error=repr(error))
        await _reset(stream)
        return False
    except P2PError as error:
        response, answered = _error(error.code, error.detail), False
    except Exception as error:
        log.exception("request_handler_failed", peer_id=peer_id)
        response, answered = _error("handler_failed", repr(error)), False
    try:
        await write_frame(stream, response)
        await stream.close()
    except (BaseLibp2pError, OSError) as error:
        log.info("response_write_failed", peer_id=peer_id, error=repr(error))
        await _reset(stream)
    return answered


async def request(host: IHost, peer_id: str, protocol_id: str, data: bytes, *,
                  max_request_bytes: int, max_response_bytes: int) -> bytes:
    """Send ``data`` to ``peer_id`` on ``protocol_id`` and return the response payload."""
    if len(data) > max_request_bytes:
        raise MessageTooLarge("request_too_large", f"data: {len(data)} bytes exceeds "
                              f"max_request_bytes={max_request_bytes}")
    try:
        peer = ID.from_base58(peer_id)
    except Exception as error:
        raise PeerUnavailable("bad_peer_id", f"peer_id {peer_id!r}: {error}") from error
    try:
        stream = await host.new_stream(peer, [TProtocol(protocol_id)])
    except (BaseLibp2pError, OSError) as error:
        raise PeerUnavailable("stream_failed", f"peer {peer_id}, protocol {protocol_id}: "
                              f"{error!r}") from error
    try:
        await write_frame(stream, data)
        reply = await read_frame(stream, 1 + max(max_response_bytes, ERROR_REPLY_MAX_BYTES))
    except MessageTooLarge as error:
        await _reset(stream)
        raise MessageTooLarge("response_too_large", f"peer {peer_id}, protocol {protocol_id}: "
                              f"{error.detail}") from None
    except P2PError:
        await _reset(stream)
        raise
    except (BaseLibp2pError, OSError) as error:
        await _reset(stream)
        raise PeerUnavailable("stream_failed", f"peer {peer_id}, protocol {protocol_id}: "
                              f"{error!r}") from error
    await _close(stream)
    return _parse_reply(reply, peer_id, max_response_bytes)


def _parse_reply(reply: bytes, peer_id: str, max_response_bytes: int) -> bytes:
    if not reply:
        raise ProtocolViolation("empty_response", f"peer {peer_id} sent a response without status")
    status, body = reply[0], reply[1:]
    if status == STATUS_OK and len(body) > max_response_bytes:
        raise MessageTooLarge("response_too_large", f"peer {peer_id} answered {len(body)} bytes, "
                              f"max_response_bytes={max_response_bytes}")
    if status == STATUS_OK:
        return body
    if status == STATUS_ERROR:
        code, _, detail = body.decode("utf-8", "replace").partition("\0")
        raise RemoteError(code or "remote_error", detail[:ERROR_DETAIL_MAX_CHARS])
    raise ProtocolViolation("bad_status", f"peer {peer_id} sent response status {status}")


def _ok(payload: bytes) -> bytes:
    return bytes([STATUS_OK]) + payload


def _error(code: str, detail: str) -> bytes:
    text = f"{code[:ERROR_DETAIL_MAX_CHARS]}\0{detail[:ERROR_DETAIL_MAX_CHARS]}"
    return bytes([STATUS_ERROR]) + text.encode("utf-8")


async def _close(stream: INetStream) -> None:
    try:
        await stream.close()
    except (BaseLibp2pError, OSError):
        await _reset(stream)


async def _reset(stream: INetStream) -> None:
    try:
        await stream.reset()
    except (BaseLibp2pError, OSError):
        log.debug("stream_reset_failed")
