"""The treasury protocol: one node asks the treasury nodes to co-sign, over p2p request/response.

Protocol ``/fedow/<chain id>/treasury/1``, canonical msgpack, in the style of block sync:

* ``["cosign", unsigned]`` -> ``[public_key, signature]``: the answering node's treasury
  signature of ``unsigned`` (the unsigned part of a ``fed_mint``, ``fed_burn`` or
  ``fed_release``), given only after its own checks (``_cosigner``); otherwise an error
  response whose code says why (``not_treasury_node``, ``not_paid``, ``reference_used``...).

The server decodes and checks before anything else and penalises a peer that sends a
malformed request or asks to sign what Stripe contradicts (it should have checked first);
a race (a reference used one block ago) or Stripe being down costs nothing. The client side
(:class:`P2PTreasuryNetwork`) bounds each request in time and gives the gatherer bytes.
"""

from __future__ import annotations

from typing import Protocol

import structlog
import trio

from fedow_node.treasury._cosigner import MALFORMED_BLAME, TreasuryCosigner
from fedow_node.treasury._errors import CosignRefused
from p2p import P2PError, P2PNode, PeerUnavailable
from wallet.codec import pack, unpack
from wallet.errors import Rejected
from wallet.keys import PUBLIC_KEY_BYTES, SIGNATURE_BYTES
from wallet.tx import Signature

log = structlog.get_logger(__name__)

MAX_REQUEST_BYTES = 8 * 1024
MAX_RESPONSE_BYTES = 256
REQUEST_TIMEOUT_S = 15.0
"""A treasury node reads Stripe before it answers: allow a slow Stripe call, not a hung peer."""


def protocol_id(chain_id: str) -> str:
    return f"/fedow/{chain_id}/treasury/1"


def encode_request(unsigned: bytes) -> bytes:
    return pack(["cosign", unsigned])


def decode_request(data: bytes) -> bytes:
    """The unsigned transaction a request asks to co-sign; :class:`CosignRefused` (blamed) if malformed."""
    try:
        fields = unpack(data, MAX_REQUEST_BYTES)
    except Rejected as exc:
        raise CosignRefused("malformed", f"treasury request: {exc.detail}", blame=MALFORMED_BLAME) from None
    if not (isinstance(fields, list) and len(fields) == 2 and fields[0] == "cosign" and isinstance(fields[1], bytes)):
        raise CosignRefused("malformed", "treasury request must be ['cosign', unsigned transaction bytes]",
                            blame=MALFORMED_BLAME)
    return fields[1]


def encode_response(signature: Signature) -> bytes:
    return pack(list(signature))


def decode_response(data: bytes) -> Signature:
    """(public key, signature) of an answer; :class:`Rejected` (``malformed``) otherwise."""
    fields = unpack(data, MAX_RESPONSE_BYTES)
    if not (isinstance(fields, list) and len(fields) == 2 and isinstance(fields[0], bytes)
            and len(fields[0]) == PUBLIC_KEY_BYTES and isinstance(fields[1], bytes)
            and len(fields[1]) == SIGNATURE_BYTES):
        raise Rejected("malformed", "treasury answer must be [public_key (32 bytes), signature (64 bytes)]")
    return fields[0], fields[1]


class Penalizer(Protocol):
    def penalize(self, peer_id: str, points: int, reason: str) -> None: ...


class TreasuryServer:
    """Answers co-sign requests with this node's treasury signature (a node that holds a treasury key)."""

    def __init__(self, cosigner: TreasuryCosigner, network: Penalizer) -> None:
        self.cosigner = cosigner
        self.network = network

    async def handle(self, peer_id: str, request: bytes) -> bytes:
        try:
            return encode_response(await self.cosigner.cosign(decode_request(request)))
        except CosignRefused as refusal:
            if refusal.blame:
                self.network.penalize(peer_id, refusal.blame, f"treasury: {refusal.code}: {refusal.detail}")
            log.info("treasury_request_refused", peer=peer_id, code=refusal.code, detail=refusal.detail)
            raise P2PError(refusal.code, refusal.detail) from None


class P2PTreasuryNetwork:
    """The gatherer's view of the p2p network (trio): peers to ask, one bounded request each."""

    def __init__(self, network: P2PNode, chain_id: str, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self._network = network
        self._protocol = protocol_id(chain_id)
        self._timeout_s = timeout_s

    def peers(self) -> list[str]:
        return sorted(self._network.connected_peers())

    async def ask(self, peer_id: str, unsigned: bytes) -> bytes:
        """A peer's answer to a co-sign request (raw); :class:`p2p.P2PError` on refusal or failure."""
        with trio.move_on_after(self._timeout_s):
            return await self._network.request(peer_id, self._protocol, encode_request(unsigned),
                                               max_response_bytes=MAX_RESPONSE_BYTES)
        raise PeerUnavailable("timeout", f"peer {peer_id} did not answer a treasury request within "
                              f"{self._timeout_s:g} s")

    def penalize(self, peer_id: str, points: int, reason: str) -> None:
        self._network.penalize(peer_id, points, reason)
