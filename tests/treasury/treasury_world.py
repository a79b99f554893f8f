"""Treasury nodes in one process: each a real co-signer (its own Stripe client) behind a real server.

The network between them is the protocol's own encoding and server handler, called directly
(no libp2p): a request goes through ``encode_request``, ``TreasuryServer.handle`` and back,
and a refusal becomes the :class:`p2p.RemoteError` a peer's error response would. The
multi-process devnet test and the demo run the same code over real libp2p streams.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fedow_node.payments import StripeVerifier
from fedow_node.treasury import TreasuryCosigner, TreasuryGatherer, TreasuryServer
from fedow_node.treasury._protocol import encode_request
from p2p import P2PError, RemoteError
from storage import Store
from wallet.keys import SigningKey

from api_solo_node import TREASURY

ASKER = "12D3KooWAsker"
"""The peer id the other treasury nodes see the gatherer as."""


@dataclass
class Penalties:
    """What a server or the gatherer took off a peer's score, in order."""

    given: list[tuple[str, int, str]] = field(default_factory=list)

    def penalize(self, peer_id: str, points: int, reason: str) -> None:
        self.given.append((peer_id, points, reason))


class InProcessTreasury:
    """The gatherer's network: the other treasury nodes of this process, asked through their server."""

    def __init__(self, servers: dict[str, TreasuryServer]) -> None:
        self.servers = servers
        self.penalties = Penalties()
        self.asked: list[str] = []

    def peers(self) -> list[str]:
        return sorted(self.servers)

    async def ask(self, peer_id: str, unsigned: bytes) -> bytes:
        self.asked.append(peer_id)
        try:
            return await self.servers[peer_id].handle(ASKER, encode_request(unsigned))
        except P2PError as refusal:
            raise RemoteError(refusal.code, refusal.detail) from None

    def penalize(self, peer_id: str, points: int, reason: str) -> None:
        self.penalties.penalize(peer_id, points, reason)


@dataclass
class TreasuryNodes:
    """The local treasury node's gatherer, the other nodes, and what their servers penalised."""

    gatherer: TreasuryGatherer
    network: InProcessTreasury
    server_penalties: Penalties
    cosigners: list[TreasuryCosigner]

    async def aclose(self) -> None:
        for cosigner in self.cosigners:
            await cosigner.aclose()


def treasury_nodes(store: Store, chain_id: str, stripe_url: str, secret_key: str,
                   keys: tuple[SigningKey, ...] = TREASURY, *, local: int | None = 0) -> TreasuryNodes:
    """One co-signer per key, all reading ``store``; ``local`` (an index, or None) is the gatherer's own."""
    cosigners = [TreasuryCosigner(k, chain_id, store, StripeVerifier(secret_key, stripe_url)) for k in keys]
    penalties = Penalties()
    servers = {f"peer-{index}": TreasuryServer(cosigner, penalties) for index, cosigner in enumerate(cosigners)
               if index != local}
    network = InProcessTreasury(servers)
    gatherer = TreasuryGatherer(chain_id, store, network, None if local is None else cosigners[local])
    return TreasuryNodes(gatherer, network, penalties, cosigners)
