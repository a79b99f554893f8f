"""The node's offline mode as one service: watch the network, serve the tills while cut off, forward when back.

Every ``TICK_S`` it looks at what the node sees (height, the voting power of the validators it is
connected to, and, while offline, whether its peers are ahead), lets :class:`Connectivity` decide,
logs and announces a change (``node_offline`` / ``node_online``, and to :attr:`listeners`: the
event stream), and while online forwards the journal's pending entries. Every node watches (status,
events and metrics say whether it is cut off); only a node with a place key and ``[offline]
enabled`` has a journal and a till.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Protocol

import structlog
import trio

import wallet
from config import OfflineSection
from fedow_node.engine.application import LedgerApplication
from fedow_node.engine.gossip import TxGossip
from fedow_node.engine.sync import BlockSyncer
from fedow_node.offline.forward import Forwarder
from fedow_node.offline.journal import COMMITTED, PENDING, REFUSED, OfflineJournal
from fedow_node.offline.till import OfflineTill
from fedow_node.offline.watch import Connectivity, Seen
from p2p import P2PNode, peer_id_from_public_key
from wallet import queries
from wallet.keys import SigningKey
from wallet.tx_summary import fed_asset_id

__all__ = ["NetworkView", "NodeView", "OfflineService", "TICK_S", "open_offline"]

log = structlog.get_logger(__name__)

TICK_S = 0.25
TIPS_EVERY_S = 2.0
"""While cut off but reaching 2/3 of the power again, the peers' tips are asked at most this often
(each ask is a request to every peer)."""


class NetworkView(Protocol):
    """What the service reads of the node: its height, the validator set, its connections, the peers' tips."""

    def height(self) -> int: ...

    def validator_powers(self) -> dict[bytes, int]:
        """Voting power by validator key, for the next height."""
        ...

    def connected_peers(self) -> list[str]: ...

    async def peers_ahead(self) -> bool:
        """Does a connected peer report a higher tip than ours?"""
        ...


class OfflineService:
    def __init__(self, config: OfflineSection, view: NetworkView, own_key: bytes | None,
                 till: OfflineTill | None = None, forwarder: Forwarder | None = None,
                 clock_s: Callable[[], float] = trio.current_time) -> None:
        self.config = config
        self.view = view
        self.own_key = own_key
        """This node's validator key (its power counts as reachable), or None for a full node."""
        self.till = till
        self.forwarder = forwarder
        self.connectivity = Connectivity(config.stalled_after_ms / 1000, config.no_quorum_after_ms / 1000)
        self.clock_s = clock_s
        self.since_ms = _wall_ms()
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        """Told every change of state (the status's ``offline`` object), on the node's thread."""
        self._peer_ids: dict[bytes, str] = {}
        self._tips_asked_s: float | None = None

    @property
    def journal(self) -> OfflineJournal | None:
        return None if self.till is None else self.till.journal

    @property
    def cut_off(self) -> bool:
        return self.connectivity.offline

    @property
    def selling_offline(self) -> bool:
        """Do the tills sell offline right now (cut off, and the venue chose to)?"""
        return self.cut_off and self.till is not None

    async def run(self) -> None:
        while True:
            await self.tick()
            await trio.sleep(TICK_S)

    async def tick(self) -> None:
        seen = await self.observe()
        if self.connectivity.observe(seen):
            self.since_ms = _wall_ms()
            state = self.status()
            if self.cut_off:
                log.warning("node_offline", reason=self.connectivity.reason, height=seen.height)
            else:
                log.info("node_online", height=seen.height, pending=state.get("pending", 0))
            for listener in self.listeners:
                listener(state)
        if not self.cut_off and self.forwarder is not None and self.forwarder.journal.counts[PENDING]:
            done = self.forwarder.forward()
            if done.submitted or done.committed or done.refused:
                log.info("offline_forwarded", submitted=done.submitted, committed=done.committed,
                         refused=done.refused, waiting=done.waiting)

    async def observe(self) -> Seen:
        powers = self.view.validator_powers()
        connected = set(self.view.connected_peers())
        reachable = sum(power for key, power in powers.items()
                        if key == self.own_key or self._peer_id(key) in connected)
        total = sum(powers.values())
        quorum = reachable * 3 > total * 2
        now = self.clock_s()
        caught_up = False
        if self.cut_off and quorum and (self._tips_asked_s is None or now - self._tips_asked_s >= TIPS_EVERY_S):
            self._tips_asked_s = now
            caught_up = not await self.view.peers_ahead()
        return Seen(now, self.view.height(), reachable, total, caught_up)

    def _peer_id(self, key: bytes) -> str:
        if key not in self._peer_ids:
            self._peer_ids[key] = peer_id_from_public_key(key)
        return self._peer_ids[key]

    def status(self) -> dict[str, Any]:
        """The ``offline`` object of the node's status: state, journal and risk."""
        connectivity = self.connectivity
        status: dict[str, Any] = {
            "state": "offline" if connectivity.offline else "online", "reason": connectivity.reason,
            "since_ms": self.since_ms, "selling": self.selling_offline, "enabled": self.till is not None}
        if self.till is None:
            return status
        journal = self.till.journal
        place = queries.place_by_key(self.till.reader, self.till.place_key.public_key)
        bond = None if place is None else queries.offline_bond(self.till.reader, place.wallet)
        limits = self.config
        return {**status, "journal": journal.journal_id.hex(), "next_seq": journal.next_seq,
                "pending": journal.counts[PENDING], "committed": journal.counts[COMMITTED],
                "refused": journal.counts[REFUSED], "exposure": journal.exposure,
                "exposure_cap": 0 if place is None else self.till.exposure_cap(place),
                "bond": {"locked": bond.locked if bond else 0, "unbonding": bond.unbonding if bond else 0,
                         "release_ms": bond.release_ms if bond else 0},
                "limits": {"max_sale": limits.max_sale, "max_per_card": limits.max_per_card,
                           "max_exposure": limits.max_exposure}}



class NodeView:
    """:class:`NetworkView` over the node's ledger application and p2p node."""

    def __init__(self, app: LedgerApplication, network: P2PNode) -> None:
        self.app = app
        self.network = network
        self._syncer = BlockSyncer(app, network)

    def height(self) -> int:
        return self.app.store.height

    def validator_powers(self) -> dict[bytes, int]:
        committed = self.app.store.committed  # one snapshot: the height and its set agree
        return dict(wallet.validator_set(committed, committed.height + 1))

    def connected_peers(self) -> list[str]:
        return self.network.connected_peers()

    async def peers_ahead(self) -> bool:
        return await self._syncer.best_peer() is not None


def open_offline(config: OfflineSection, journal_path: Path, app: LedgerApplication, network: P2PNode,
                 txs: TxGossip, is_pending: Callable[[bytes], bool], validator_key: bytes | None,
                 place_key: SigningKey | None) -> OfflineService:
    """The node's offline service; with a journal (opened at ``journal_path``) and a till when the
    node signs for a place and ``[offline] enabled``."""
    view = NodeView(app, network)
    if not config.enabled or place_key is None:
        return OfflineService(config, view, validator_key)
    journal = OfflineJournal.open(journal_path, fed_asset_id(app.store))
    till = OfflineTill(app.store, lambda: app.store.height, place_key, app.chain_id, config, journal, _wall_ms)
    forwarder = Forwarder(journal, app.store, txs.submit, is_pending, txs.resend, trio.current_time)
    return OfflineService(config, view, validator_key, till, forwarder)


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000
