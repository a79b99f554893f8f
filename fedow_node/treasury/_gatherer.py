"""Gathering the treasury's signatures: any node can ask, only treasury nodes sign.

:meth:`TreasuryGatherer.attest` takes the unsigned part of a treasury transaction, signs it
itself first when this node holds a treasury key (after its own checks: a refusal here ends
the attempt, so other nodes are never asked to sign what this one found wrong), then asks the
connected peers one at a time until the threshold of distinct treasury keys is reached, and
returns the co-signed transaction, ready to submit. Every answer is checked: a valid
signature, by a treasury key in the committed state; a peer that answers something else is
penalised. Fewer signatures than the threshold is :class:`NotAttested`, naming each refusal.

It awaits nothing of its own loop: the node runs it on trio (its network is p2p), the tests
of the payments on asyncio with in-process treasury nodes.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

import structlog

from fedow_node.treasury._cosigner import MALFORMED_BLAME, TreasuryCosigner
from fedow_node.payments import NotAttested
from fedow_node.treasury._errors import CosignRefused
from fedow_node.treasury._protocol import decode_response
from p2p import P2PError, RemoteError
from storage import Store
from wallet import layout
from wallet.bodies import TREASURY
from wallet.errors import Rejected
from wallet.keys import verify
from wallet.records import KeySet
from wallet.state import read_one
from wallet.tx import TX_DOMAIN, Signature, combine

log = structlog.get_logger(__name__)


class TreasuryNetwork(Protocol):
    """Peers to ask and how (``P2PTreasuryNetwork`` in a node)."""

    def peers(self) -> list[str]: ...

    async def ask(self, peer_id: str, unsigned: bytes) -> bytes: ...

    def penalize(self, peer_id: str, points: int, reason: str) -> None: ...


class TreasuryGatherer:
    """Collects the treasury threshold of signatures for one transaction at a time."""

    def __init__(self, chain_id: str, store: Store, network: TreasuryNetwork | None,
                 local: TreasuryCosigner | None = None) -> None:
        self.chain_id = chain_id
        self._store = store
        self._network = network
        self.local = local

    async def attest(self, unsigned: bytes) -> bytes:
        """The co-signed transaction (``combine``d), or :class:`NotAttested`."""
        treasury = read_one(self._store, layout.key_set(TREASURY), KeySet)
        if treasury is None:
            raise NotAttested("no_treasury", "the chain has no treasury key set")
        signatures: dict[bytes, bytes] = {}
        refusals: list[tuple[str, str, str]] = []
        if self.local is not None:
            try:
                key, signature = await self.local.cosign(unsigned)
            except CosignRefused as refusal:
                if refusal.code != "not_treasury_node":
                    raise NotAttested(refusal.code, f"this node's treasury key refuses: {refusal.detail}",
                                      (("local", refusal.code, refusal.detail),)) from None
            else:
                signatures[key] = signature
        for peer in self._network.peers() if self._network is not None else ():
            if len(signatures) >= treasury.threshold:
                break
            answer = await self._ask(peer, unsigned, treasury, refusals)
            if answer is not None:
                signatures[answer[0]] = answer[1]
        if len(signatures) < treasury.threshold:
            raise _not_attested(len(signatures), treasury, refusals)
        log.info("treasury_attested", signatures=len(signatures), threshold=treasury.threshold)
        return combine(unsigned, signatures.items())

    async def _ask(self, peer: str, unsigned: bytes, treasury: KeySet,
                   refusals: list[tuple[str, str, str]]) -> Signature | None:
        assert self._network is not None
        try:
            raw = await self._network.ask(peer, unsigned)
        except RemoteError as refusal:
            if refusal.code != "not_treasury_node":
                refusals.append((peer, refusal.code, refusal.detail))
            return None
        except P2PError as failure:
            log.info("treasury_peer_unavailable", peer=peer, code=failure.code, detail=failure.detail)
            return None
        try:
            key, signature = decode_response(raw)
            if key not in treasury.keys:
                raise Rejected("not_treasury", f"key {key.hex()} is not a treasury key")
            if not verify(key, TX_DOMAIN, self.chain_id, unsigned, signature):
                raise Rejected("bad_signature", f"signature by {key.hex()} does not verify")
        except Rejected as exc:
            self._network.penalize(peer, MALFORMED_BLAME, f"treasury answer: {exc.code}: {exc.detail}")
            return None
        return key, signature


def _not_attested(signed: int, treasury: KeySet, refusals: list[tuple[str, str, str]]) -> NotAttested:
    """The commonest refusal names the failure; without any, too few treasury nodes answered."""
    codes = Counter(code for _node, code, _detail in refusals)
    code = codes.most_common(1)[0][0] if codes else "treasury_unavailable"
    reasons = "; ".join(f"{node}: {code} ({detail})" for node, code, detail in refusals) or \
        "no other treasury node answered"
    return NotAttested(code, f"{signed} of the {treasury.threshold} treasury signatures needed were given: {reasons}",
                       tuple(refusals))
