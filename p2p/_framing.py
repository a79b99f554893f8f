"""Length-prefixed frames over a libp2p stream.

A frame is a 4-byte big-endian length then that many bytes. The length is
checked against the reader's limit before any byte of the body is read, and
an empty frame is an ordinary value, never a terminator (notes pitfall 8).
Bodies are written in 1 MiB slices so one frame can carry several MB.
"""

from __future__ import annotations

from libp2p.abc import INetStream
from libp2p.network.stream.exceptions import StreamEOF

from p2p._errors import MessageTooLarge, ProtocolViolation

HEADER_BYTES = 4
MAX_FRAME_BYTES = 2**32 - 1
WRITE_SLICE_BYTES = 1024 * 1024


async def write_frame(stream: INetStream, body: bytes) -> None:
    """Write one frame; the caller translates stream errors."""
    if len(body) > MAX_FRAME_BYTES:
        raise MessageTooLarge("frame_too_large", f"frame body of {len(body)} bytes exceeds 4 GiB")
    await stream.write(len(body).to_bytes(HEADER_BYTES, "big") + body[:WRITE_SLICE_BYTES])
    for start in range(WRITE_SLICE_BYTES, len(body), WRITE_SLICE_BYTES):
        await stream.write(body[start:start + WRITE_SLICE_BYTES])


async def read_frame(stream: INetStream, max_bytes: int) -> bytes:
    """Read one frame whose body is at most ``max_bytes`` long."""
    length = int.from_bytes(await _read_exactly(stream, HEADER_BYTES), "big")
    if length > max_bytes:
        raise MessageTooLarge("frame_too_large",
                              f"frame announces {length} bytes, the limit is {max_bytes}")
    return await _read_exactly(stream, length)


async def _read_exactly(stream: INetStream, count: int) -> bytes:
    parts: list[bytes] = []
    missing = count
    while missing > 0:
        try:
            chunk = await stream.read(missing)
        except StreamEOF:
            chunk = b""
        if not chunk:
            raise ProtocolViolation("truncated_frame",
                                    f"stream ended with {missing} of {count} bytes missing")
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)
