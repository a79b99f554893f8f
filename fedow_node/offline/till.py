"""What a till may do while its node is cut off, judged against the last committed state and the journal.

A sale is accepted when the card's last committed FED balance, minus this venue's own
pending offline sales paid by that wallet (plus its pending offline refills of it), covers
it, and within the venue's three limits (``[offline]``: per sale, per card, total), the total
also capped by the place's offline bond on chain. Then it is signed with the place key as an
``offline`` transaction, numbered, and appended to the journal (synced) before the answer.
Cash refills come from the venue's own float (committed float minus pending offline refills:
only this venue spends it); badge check-ins are recorded. Everything else waits for the network.

Refusals are :class:`wallet.Rejected` with their own codes: ``offline_no_bond``,
``offline_sale_limit``, ``offline_card_limit``, ``offline_exposure_limit``,
``offline_fed_only``, and the ledger's own where they fit (``overdraft``,
``insufficient_float``, ``unknown_card``, ``card_lost``, ...).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Callable

from config import OfflineSection
from fedow_node.offline.journal import Entry, OfflineJournal, Origin
from wallet import queries
from wallet.bodies import BadgeCheckIn, Body, CashRefill, Offline, Sale
from wallet.errors import Rejected
from wallet.keys import SigningKey
from wallet.records import Place
from wallet.rules.common import (check_operator, fed_asset, require_accepts, require_active_card, require_asset,
                                 require_category, require_money, require_receiving_wallet)
from wallet.state import Overlay, StateReader
from wallet.tx import NONCE_BYTES, sign_tx, unsigned_bytes

__all__ = ["OfflineTill", "Accepted"]


@dataclass(frozen=True)
class Accepted:
    """An operation signed and journalled: the till may hand over the goods."""

    entry: Entry
    provisional_balance: int | None
    """FED the wallet holds as far as this node knows: last committed balance, minus this venue's pending
    offline sales, plus its pending offline refills (None for a badge)."""
    exposure: int
    """FED of this venue's pending offline sales, this one included."""


class OfflineTill:
    """Offline sales, refills and badges for one place; the reader is the node's committed state."""

    def __init__(self, reader: StateReader, height: Callable[[], int], place_key: SigningKey, chain_id: str,
                 limits: OfflineSection, journal: OfflineJournal, clock_ms: Callable[[], int]) -> None:
        self.reader = reader
        self.height = height
        """The last committed height: an offline transaction's ``expires_at``. It has no expiry window
        (docs/offline.md), so this records when the till sold, as far as the chain goes."""
        self.place_key = place_key
        self.chain_id = chain_id
        self.limits = limits
        self.journal = journal
        self.clock_ms = clock_ms
        """Wall clock, for the journal's timestamps and demurrage estimates only (nothing on chain reads it)."""

    # -- what the venue may still risk ------------------------------------------------------------
    def place(self) -> Place:
        place = queries.place_by_key(self.reader, self.place_key.public_key)
        if place is None:
            raise Rejected("not_place", "this node's place key is not the key of any place on the chain")
        return place

    def bond(self, place: Place) -> int:
        """FED locked in the place's offline bond (what is under notice does not count: it is leaving)."""
        found = queries.offline_bond(self.reader, place.wallet)
        return 0 if found is None else found.locked

    def exposure_cap(self, place: Place) -> int:
        return min(self.limits.max_exposure, self.bond(place))

    def provisional_balance(self, wallet: bytes) -> int:
        """FED of ``wallet`` as this node knows it (see :class:`Accepted`)."""
        fed = self.journal.fed_asset
        committed = queries.projected_amount(self.reader, wallet, fed, self.clock_ms())
        return committed - self.journal.sold_to(wallet) + self.journal.refilled(wallet)

    # -- the operations -------------------------------------------------------------------------
    def sell(self, uid: bytes, asset_id: str, amount: int, operator: bytes | None,
             origin: Origin = Origin()) -> Accepted:
        overlay = Overlay(self.reader)
        place = self.place()
        fed = fed_asset(overlay)
        if asset_id != fed.id:
            raise Rejected("offline_fed_only", f"offline sales are in {fed.id}, the currency of the bond that "
                           f"carries their risk, not {asset_id!r}")
        card = require_active_card(overlay, uid)
        require_accepts(overlay, place, fed)
        check_operator(overlay, place, operator)
        bond = self.bond(place)
        if bond == 0:
            raise Rejected("offline_no_bond", f"place {place.id!r} has no offline bond: it sells offline only "
                           "within a bond of FED it locked beforehand (offline_bond)")
        limits = self.limits
        if amount > limits.max_sale:
            raise Rejected("offline_sale_limit", f"an offline sale is at most {limits.max_sale} "
                           f"([offline] max_sale), not {amount}")
        wallet = card.paying_wallet
        sold = self.journal.sold_to(wallet)
        if sold + amount > limits.max_per_card:
            raise Rejected("offline_card_limit", f"card {uid.hex()} was sold {sold} offline already; "
                           f"{amount} more would pass the per-card limit of {limits.max_per_card} "
                           "([offline] max_per_card) until those sales are on chain")
        cap = min(limits.max_exposure, bond)
        if self.journal.exposure + amount > cap:
            raise Rejected("offline_exposure_limit", f"this venue sold {self.journal.exposure} offline already; "
                           f"{amount} more would pass its offline exposure limit of {cap} (the smaller of "
                           f"[offline] max_exposure {limits.max_exposure} and its bond {bond})")
        balance = self.provisional_balance(wallet)
        if balance < amount:
            raise Rejected("overdraft", f"card {uid.hex()} holds {balance} {fed.id} as far as this node knows "
                           f"(its last committed balance less this venue's offline sales), {amount} needed")
        return self._journal(Sale(uid, asset_id, amount, operator), wallet, asset_id, amount, origin)

    def refill(self, wallet: bytes, asset_id: str, amount: int, origin: Origin = Origin()) -> Accepted:
        """A cash refill: FED from the venue's own float, or its own asset (minted when forwarded)."""
        overlay = Overlay(self.reader)
        place = self.place()
        asset = require_money(overlay, asset_id)
        require_receiving_wallet(overlay, wallet)
        fed = fed_asset(overlay)
        if asset.id == fed.id:
            float_left = queries.projected_amount(self.reader, place.wallet, fed.id, self.clock_ms()) \
                - self.journal.float_used
            if float_left < amount:
                raise Rejected("insufficient_float", f"place {place.id!r} holds {float_left} {fed.id} of float as "
                               f"far as this node knows (less its offline refills), {amount} needed")
        elif asset.origin_place != place.id:
            raise Rejected("not_origin", f"place {place.id!r} can sell FED or its own assets for cash, "
                           f"not {asset.id!r} of {asset.origin_place!r}")
        return self._journal(CashRefill(wallet, asset_id, amount), wallet, asset_id, amount, origin)

    def badge(self, uid: bytes, asset_id: str, origin: Origin = Origin()) -> Accepted:
        overlay = Overlay(self.reader)
        place = self.place()
        asset = require_category(require_asset(overlay, asset_id), "BDG")
        require_accepts(overlay, place, asset)
        card = require_active_card(overlay, uid)
        return self._journal(BadgeCheckIn(uid, asset_id), card.paying_wallet, asset_id, 0, origin)

    def _journal(self, operation: Body, wallet: bytes, asset_id: str, amount: int, origin: Origin) -> Accepted:
        """Sign the operation as the journal's next ``offline`` transaction and append it (synced)."""
        journal = self.journal
        body = Offline(journal.journal_id, journal.next_seq, operation)
        nonce = os.urandom(NONCE_BYTES)
        signed_at = self.height()
        tx = sign_tx(self.place_key, self.chain_id, body.KIND, body, nonce, signed_at)
        txid = hashlib.sha256(unsigned_bytes(body.KIND, self.place_key.public_key, nonce, signed_at, body)).digest()
        entry = journal.append(Entry(body.journal, body.seq, txid, tx, operation.KIND, wallet, asset_id, amount,
                                     self.clock_ms(), origin))
        return self.accepted(entry)

    def accepted(self, entry: Entry) -> Accepted:
        """The answer for a journalled entry (also for a till's retry of the same request)."""
        balance = None if entry.op == "badge" else self.provisional_balance(entry.wallet)
        return Accepted(entry, balance, self.journal.exposure)
