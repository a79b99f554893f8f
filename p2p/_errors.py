"""The p2p error tree, so that no libp2p exception crosses the package border.

::

    P2PError                 root; ``code`` is stable, ``detail`` names the field and the reason
    ├── MessageTooLarge      a payload over the configured limit (ours or the peer's)
    ├── PeerUnavailable      no connection could be made or kept to the peer
    ├── RemoteError          the peer answered a request with an error response
    └── ProtocolViolation    the peer broke the framing (bad length, truncated frame)
"""

from __future__ import annotations


class P2PError(Exception):
    """Root of the errors raised by the p2p package."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class MessageTooLarge(P2PError):
    """A message, request or response is larger than the limit that applies to it."""


class PeerUnavailable(P2PError):
    """The peer could not be reached, refused the protocol, or dropped the stream."""


class RemoteError(P2PError):
    """The peer's handler failed or refused the request; ``code``/``detail`` come from it."""


class ProtocolViolation(P2PError):
    """The peer sent bytes that do not follow the framing of the protocol."""
