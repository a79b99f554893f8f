"""The POS API of a node cut off from the network: offline sales within the venue's limits, their codes,
retries, look-ups, then forwarding when it is back (docs/offline.md).

The solo node stands for the rest of the network: it keeps committing what other venues do while
this node's offline service (driven by a view the test controls) says the node is cut off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import wallet
from api_solo_node import BAR, CAFE, VALIDATOR, SoloNode
from api_world import World, card_uid, run_world
from config import OfflineSection
from consensus.errors import TxRejected
from fedow_node.api import SubmitRefused
from fedow_node.client import ApiRefused
from fedow_node.offline import Forwarder, OfflineJournal, OfflineService, OfflineTill
from p2p import peer_id_from_public_key
from wallet import queries
from wallet.bodies import Sale
from wallet.layout import card_wallet_id, place_wallet_id
from wallet.tx import sign_tx

LIMITS = OfflineSection(enabled=True, max_sale=3_000, max_per_card=5_000, max_exposure=8_000)
BOND = 6_000
"""The bar's bond: below max_exposure, so it is the exposure cap."""


class NetworkControl:
    """The network as the test decides: the validator connected (online) or nothing (cut off)."""

    def __init__(self, node: SoloNode) -> None:
        self.node = node
        self.connected = True

    def height(self) -> int:
        return self.node.store.height

    def validator_powers(self) -> dict[bytes, int]:
        return {VALIDATOR.public_key: 1}

    def connected_peers(self) -> list[str]:
        return [peer_id_from_public_key(VALIDATOR.public_key)] if self.connected else []

    async def peers_ahead(self) -> bool:
        return False


class OfflineSoloNode(SoloNode):
    """A solo node with an offline journal (in ``home``) and a till for its place."""

    def __init__(self, home: Path, **options: Any) -> None:
        super().__init__(home, **options)
        self.view = NetworkControl(self)
        self.journal_path = home / "offline.sqlite"
        journal = OfflineJournal.open(self.journal_path, "FED")
        assert self.place_key is not None
        till = OfflineTill(self.store, lambda: self.store.height, self.place_key, self.chain_id, LIMITS, journal,
                           lambda: 0)
        self.clock = 0.0
        forwarder = Forwarder(journal, self.store, self.forward, self.is_pending, lambda tx: None, lambda: self.clock)
        self.offline = OfflineService(LIMITS, self.view, None, till, forwarder, clock_s=lambda: self.clock)

    def forward(self, tx: bytes) -> bytes:
        """The mempool's admission as the forwarder sees it (a refusal is a TxRejected)."""
        try:
            return self.admit(tx)
        except (SubmitRefused, wallet.Rejected) as exc:
            raise TxRejected(exc.code, exc.detail) from None

    async def set_connected(self, connected: bool) -> None:
        self.view.connected = connected
        self.clock += 1
        assert self.offline is not None
        await self.offline.tick()
        if not connected and not self.offline.cut_off:  # a moment without quorum is not yet a cut-off
            self.clock += LIMITS.no_quorum_after_ms / 1000
            await self.offline.tick()
        assert self.offline.cut_off == (not connected)

    def close(self) -> None:
        assert self.offline is not None and self.offline.journal is not None
        self.offline.journal.close()
        super().close()


def offline_world(tmp_path: Path, scenario: Any, **options: Any) -> None:
    run_world(tmp_path, scenario, node_class=OfflineSoloNode, **options)


async def prepared(world: World, bond: int = BOND) -> None:
    """Cards 1-3 hold 40.00 FED each; the bar locked its bond; then the node is cut off."""
    await world.register(1, 2, 3)
    for n in (1, 2, 3):
        await world.client.refill("FED", 4_000, uid=card_uid(n))
    if bond:
        assert (await world.client.offline_bond(bond)).committed
    await world.node.set_connected(False)


def test_offline_sales_are_journalled_with_a_provisional_balance_and_forwarded_once_back(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        client, node = world.client, world.node
        await prepared(world)
        status = await client.status()
        assert status["offline"]["state"] == "offline" and status["offline"]["selling"]
        first = await client.sale(card_uid(1), "FED", 2_500)
        assert first.offline and first.seq == 1 and first.provisional_balance == 1_500
        second = await client.sale(card_uid(1), "FED", 1_500)
        assert second.seq == 2 and second.provisional_balance == 0
        refill = await client.refill("FED", 1_000, uid=card_uid(2))
        assert refill.offline and refill.provisional_balance == 5_000
        badge = await client.badge(card_uid(3), "BADGE")
        assert badge.offline and badge.provisional_balance is None
        card = await client.card(card_uid(1))
        assert card["offline"] == {"sold": 4_000, "refilled": 0, "provisional_balance": 0}
        assert (await client.tx(first.txid))["status"] == "offline"
        height = node.store.height
        # meanwhile, on the rest of the network, card 1 is spent at the café until it holds 10.00
        cafe_sale = sign_tx(CAFE, node.chain_id, "sale", Sale(card_uid(1), "FED", 3_000), bytes(16),
                            node.next_expiry())
        assert (await client.submit(cafe_sale)).committed
        assert node.store.height == height + 1
        journal = await client.offline_journal()
        assert [entry["seq"] for entry in journal["entries"]] == [1, 2, 3, 4]

        await node.set_connected(True)          # back: the next tick forwards the journal, in order
        await node.offline.tick()
        await node.offline.tick()                # and sees them on chain
        status = (await client.status())["offline"]
        assert (status["state"], status["pending"], status["committed"], status["exposure"]) == ("online", 0, 4, 0)
        assert (await client.tx(second.txid))["status"] == "committed"
        bar = place_wallet_id("bar")
        shortfalls = (await client.place_offline("bar", shortfalls=True))["records"]
        # the card held 10.00 when the sales came: it paid them for the first, the bond the other 30.00
        assert [(r["seq"], r["subject"], r["amount"], r["from_bond"], r["uncovered"]) for r in shortfalls] == \
            [(1, card_uid(1).hex(), 2_500, 1_500, 0), (2, card_uid(1).hex(), 1_500, 1_500, 0)]
        bond = queries.offline_bond(node.store, bar)
        assert bond is not None and bond.locked == BOND - 3_000
        assert queries.projected_amount(node.store, card_wallet_id(card_uid(1)), "FED", 0) == 0
        wallet.check_full(node.store)
    offline_world(tmp_path, scenario)


def test_the_limits_and_their_codes(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        client = world.client

        async def refused(code: str, call: Any) -> None:
            with pytest.raises(ApiRefused) as caught:
                await call
            assert caught.value.code == code, caught.value
        await prepared(world)
        await refused("offline_sale_limit", client.sale(card_uid(1), "FED", 3_001))
        assert (await client.sale(card_uid(1), "FED", 3_000)).offline
        await refused("offline_card_limit", client.sale(card_uid(1), "FED", 2_001))   # per card: 50.00
        await refused("overdraft", client.sale(card_uid(1), "FED", 1_001))            # it holds 10.00 now
        assert (await client.sale(card_uid(2), "FED", 2_999)).offline
        await refused("offline_exposure_limit", client.sale(card_uid(3), "FED", 2))    # the bond: 60.00
        await refused("offline_fed_only", client.sale(card_uid(3), "BARCOIN", 1))
        await refused("unknown_card", client.sale(card_uid(9), "FED", 1))
        with pytest.raises(ApiRefused) as caught:
            await client.refund(card_uid(3), "FED", 100)
        assert (caught.value.status, caught.value.code) == (503, "offline_unavailable")
        await refused("insufficient_float", client.refill("FED", 10**9, uid=card_uid(3)))
        assert world.node.store.height == 5       # nothing of it reached the chain
    offline_world(tmp_path, scenario)


def test_a_place_without_a_bond_does_not_sell_offline(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await prepared(world, bond=0)
        with pytest.raises(ApiRefused) as caught:
            await world.client.sale(card_uid(1), "FED", 100)
        assert caught.value.code == "offline_no_bond"
    offline_world(tmp_path, scenario)


def test_a_retried_offline_sale_answers_the_first_one(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        client = world.client
        await prepared(world)
        first = await client.sale(card_uid(1), "FED", 500, idempotency_key="till-1-0001")
        again = await client.sale(card_uid(1), "FED", 500, idempotency_key="till-1-0001")
        assert (again.txid, again.seq, again.status) == (first.txid, first.seq, "offline")
        with pytest.raises(ApiRefused) as caught:
            await client.sale(card_uid(1), "FED", 600, idempotency_key="till-1-0001")
        assert caught.value.code == "idempotency_conflict"
        assert (await client.status())["offline"]["pending"] == 1
        await world.node.set_connected(True)
        await world.node.offline.tick()
        await world.node.offline.tick()
        committed = await client.sale(card_uid(1), "FED", 500, idempotency_key="till-1-0001")
        assert (committed.txid, committed.status) == (first.txid, "committed")
    offline_world(tmp_path, scenario)


def test_the_journal_survives_a_restart(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await prepared(world)
        for _ in range(3):
            await world.client.sale(card_uid(1), "FED", 100)
    offline_world(tmp_path, scenario)
    journal = OfflineJournal.open(tmp_path / "offline.sqlite", "FED")
    try:
        assert journal.exposure == 300 and journal.sold_to(card_wallet_id(card_uid(1))) == 300
        assert [entry.seq for entry in journal.pending()] == [1, 2, 3]
        bodies = [wallet.decode_tx(entry.tx, 4096).body for entry in journal.pending()]
        assert [(body.journal, body.seq) for body in bodies] == [(e.journal, e.seq) for e in journal.pending()]
    finally:
        journal.close()


def test_a_bar_key_is_needed_for_the_bond(tmp_path: Path) -> None:
    """The bond is an ordinary signed transaction of the place: online, refused with the ledger's codes."""
    async def scenario(world: World) -> None:
        with pytest.raises(ApiRefused) as caught:
            await world.client.offline_unbond(1)
        assert caught.value.code == "no_bond"
        assert (await world.client.offline_bond(1_000)).committed
        assert (await world.client.offline_unbond(400)).committed
        bond = queries.offline_bond(world.node.store, place_wallet_id("bar"))
        assert bond is not None and (bond.locked, bond.unbonding) == (600, 400)
    run_world(tmp_path, scenario, place_key=BAR)


def test_the_event_stream_says_when_the_node_is_cut_off_and_back(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        import asyncio
        seen: list[dict[str, Any]] = []

        async def listen() -> None:
            async for event in world.client.events(network=True):
                seen.append(event)
                if len(seen) == 2:
                    return
        listening = asyncio.ensure_future(listen())
        while not world.node.offline.listeners:  # the stream listens before the node changes
            await asyncio.sleep(0.01)
        await world.node.set_connected(False)
        await world.node.set_connected(True)
        await asyncio.wait_for(listening, 10)
        assert [(e["event"], e["state"]) for e in seen] == [("network", "offline"), ("network", "online")]
        assert seen[0]["reason"] == "no_quorum" and seen[0]["selling"]
    offline_world(tmp_path, scenario)
