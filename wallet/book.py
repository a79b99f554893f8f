"""The accounting layer: every change of a balance, pool or supply goes through a Book.

Keeping all money movements in one place keeps three things right at once:
the per-asset running totals that make the invariant check O(1) per block,
the time of last activity with its demurrage index entry, and the settlement
of pending demurrage before a melting balance is touched (so a balance charged
late, because of the per-block cap, pays exactly what it would have paid on time).
"""

from __future__ import annotations

from wallet import layout, melting
from wallet.errors import Rejected
from wallet.params import LedgerParams
from wallet.records import WALLET_PLACE, Amount, Asset, Balance, Card, Place, Supply, WalletInfo
from wallet.state import Overlay

EMPTY = b"\x90"
"""Value of pure index entries: an empty canonical array."""


class Book:
    """Money movements on one overlay at one block time."""

    def __init__(self, overlay: Overlay, time_ms: int, params: LedgerParams, height: int = 0) -> None:
        self.overlay = overlay
        self.time_ms = time_ms
        self.params = params
        self.height = height
        """The block's height (0 at genesis)."""
        self.touched: list[bytes] = []
        self.moves: list[tuple[bytes, str, int]] = []
        """(wallet, asset id, signed delta) of every balance change, in order: what a receipt or a total shows."""
        self._held_delta: dict[str, int] = {}

    # -- balances ----------------------------------------------------------------
    def balance(self, wallet_id: bytes, asset_id: str) -> int:
        record = self.overlay.record(layout.balance(wallet_id, asset_id), Balance)
        return 0 if record is None else record.amount

    def credit(self, wallet_id: bytes, asset: Asset, amount: int) -> None:
        self._move(wallet_id, asset, amount)

    def debit(self, wallet_id: bytes, asset: Asset, amount: int) -> None:
        """Take ``amount``; Rejected ``overdraft`` when the balance is short."""
        self._move(wallet_id, asset, -amount)

    def transfer(self, source: bytes, target: bytes, asset: Asset, amount: int) -> None:
        self._move(source, asset, -amount)
        self._move(target, asset, amount)

    def _move(self, wallet_id: bytes, asset: Asset, delta: int) -> None:
        key = layout.balance(wallet_id, asset.id)
        record = self.overlay.record(key, Balance)
        melts = self.melts(wallet_id, asset)
        if record is not None and melts:
            record = self._settle(wallet_id, asset, key, record)
        amount = delta if record is None else record.amount + delta
        if amount < 0:
            raise Rejected("overdraft", f"wallet {wallet_id.hex()} holds {amount - delta} {asset.id}, "
                           f"{-delta} needed")
        if melts or record is None or amount == 0 or record.due_ms:
            due = self._due(asset, amount, self.time_ms, 0) if melts else 0
            self._write(wallet_id, asset.id, key, record, Balance(amount, self.time_ms, 0, due))
        else:  # the hot path: a non-melting balance that stays positive
            self.overlay.put(key, Balance(amount, self.time_ms, 0, 0))
        held = self._held_delta
        held[asset.id] = held.get(asset.id, 0) + delta
        self.touched.append(wallet_id)
        self.moves.append((wallet_id, asset.id, delta))

    def melts(self, wallet_id: bytes, asset: Asset) -> bool:
        """Does this balance melt? A melting asset melts in every wallet but a place's: a venue's
        balances are its till (the FED float it sells for cash, what backs its offline bond), working
        money it must be able to count on, not idle savings."""
        if not asset.melting:
            return False
        info = self.overlay.record(layout.wallet(wallet_id), WalletInfo)
        return info is None or info.kind != WALLET_PLACE

    def _due(self, asset: Asset, amount: int, last_activity_ms: int, periods_charged: int) -> int:
        """Due time of a melting balance's next period (0: nothing left to melt)."""
        if amount == 0:
            return 0
        _rate, idle_ms, period_ms = self.params.melting_schedule(asset.category)
        return melting.next_due_ms(last_activity_ms, idle_ms, period_ms, periods_charged)

    def _write(self, wallet_id: bytes, asset_id: str, key: bytes, old: Balance | None, new: Balance) -> None:
        old_due = 0 if old is None else old.due_ms
        if old_due != new.due_ms:
            if old_due:
                self.overlay.delete(layout.demurrage_due(old_due, wallet_id, asset_id))
            if new.due_ms:
                self.overlay.put_raw(layout.demurrage_due(new.due_ms, wallet_id, asset_id), EMPTY)
        if new.amount == 0:
            if old is not None:
                self.overlay.delete(key)
        else:
            self.overlay.put(key, new)

    def held_assets(self, wallet_id: bytes) -> list[Asset]:
        """The assets of every balance of a wallet, in key order (read before changing them)."""
        assets = []
        for key, _balance in list(self.overlay.records(layout.balances_of(wallet_id), Balance)):
            asset = self.overlay.record(layout.asset(layout.split_balance(key)[1]), Asset)
            assert asset is not None, "a balance always has its asset"
            assets.append(asset)
        return assets

    # -- demurrage ---------------------------------------------------------------
    def settled_balance(self, wallet_id: bytes, asset: Asset) -> int:
        """The balance after charging any demurrage due now (charging is not an activity)."""
        key = layout.balance(wallet_id, asset.id)
        record = self.overlay.record(key, Balance)
        if record is None:
            return 0
        if self.melts(wallet_id, asset):
            record = self._settle(wallet_id, asset, key, record)
        return record.amount

    def _settle(self, wallet_id: bytes, asset: Asset, key: bytes, record: Balance) -> Balance:
        rate_ppm, idle_ms, period_ms = self.params.melting_schedule(asset.category)
        due = melting.periods_due(self.time_ms, record.last_activity_ms, idle_ms, period_ms)
        if due <= record.periods_charged:
            expected = self._due(asset, record.amount, record.last_activity_ms, record.periods_charged)
            if expected == record.due_ms:
                return record
            rescheduled = Balance(record.amount, record.last_activity_ms, record.periods_charged, expected)
            self._write(wallet_id, asset.id, key, record, rescheduled)  # demurrage parameters changed
            return rescheduled
        left = melting.melt(record.amount, rate_ppm, due - record.periods_charged)
        settled = Balance(left, record.last_activity_ms, due,
                          self._due(asset, left, record.last_activity_ms, due))
        self._write(wallet_id, asset.id, key, record, settled)
        charge = record.amount - left
        if charge:
            self._held_delta[asset.id] = self._held_delta.get(asset.id, 0) - charge
            self.touched.append(wallet_id)
            self._distribute(wallet_id, asset, charge)
        return settled

    def _distribute(self, wallet_id: bytes, asset: Asset, charge: int) -> None:
        params = self.params
        place = self._home_place(wallet_id)
        shares = melting.split(charge, params.demurrage_share_place_ppm, params.demurrage_share_dev_ppm,
                               params.demurrage_share_validators_ppm, place is not None)
        if place is not None and shares.place:
            self.credit(place.wallet, asset, shares.place)
        self.add_to_pool(layout.POOL_COMMON, asset.id, shares.common)
        self.add_to_pool(layout.POOL_DEV, asset.id, shares.dev)
        self.add_to_pool(layout.POOL_VALIDATORS, asset.id, shares.validators)

    def _home_place(self, wallet_id: bytes) -> Place | None:
        """The card's place: the live place that issued the card behind a wallet (a card wallet's
        card; a user wallet's last linked card). Primary places are not it: they only mark the
        cards of a place's operators."""
        info = self.overlay.record(layout.wallet(wallet_id), WalletInfo)
        if info is None or info.card is None:
            return None
        card = self.overlay.record(layout.card(info.card), Card)
        if card is None:
            return None
        place = self.overlay.record(layout.place(card.origin_place), Place)
        return None if place is None or place.archived else place

    # -- pools, supply and totals -----------------------------------------------
    def pool(self, kind: bytes, asset_id: str) -> int:
        record = self.overlay.record(layout.pool(kind, asset_id), Amount)
        return 0 if record is None else record.value

    def add_to_pool(self, kind: bytes, asset_id: str, amount: int) -> None:
        if amount == 0:
            return
        left = self.pool(kind, asset_id) + amount
        if left < 0:
            raise Rejected("overdraft", f"pool {kind.decode()}/{asset_id} holds {left - amount}, {-amount} needed")
        key = layout.pool(kind, asset_id)
        if left:
            self.overlay.put(key, Amount(left))
        else:
            self.overlay.delete(key)
        self.adjust_held(asset_id, amount)

    def adjust_held(self, asset_id: str, delta: int) -> None:
        """Money entering (or leaving) stake, unbonding, a pool or a hold, outside any balance."""
        self._held_delta[asset_id] = self._held_delta.get(asset_id, 0) + delta

    def mint(self, wallet_id: bytes, asset: Asset, amount: int) -> None:
        self.credit(wallet_id, asset, amount)
        self.count_supply(asset.id, minted=amount)

    def burn(self, wallet_id: bytes, asset: Asset, amount: int) -> None:
        self.debit(wallet_id, asset, amount)
        self.count_supply(asset.id, burnt=amount)

    def count_supply(self, asset_id: str, minted: int = 0, burnt: int = 0) -> None:
        key = layout.supply(asset_id)
        supply = self.overlay.record(key, Supply) or Supply(0, 0, 0)
        self.overlay.put(key, Supply(supply.minted + minted, supply.burnt + burnt, supply.held))

    def flush(self) -> None:
        """Write the net change of held money per asset into the running totals."""
        held = self._held_delta
        if not any(held.values()):  # a sale or a transfer: what one wallet lost another gained
            held.clear()
            return
        for asset_id, delta in sorted(held.items()):
            if delta:
                key = layout.supply(asset_id)
                supply = self.overlay.record(key, Supply) or Supply(0, 0, 0)
                self.overlay.put(key, Supply(supply.minted, supply.burnt, supply.held + delta))
        held.clear()

    def touched_wallets(self) -> tuple[bytes, ...]:
        """Wallets whose balances changed, first-touch order, each once."""
        return tuple(dict.fromkeys(self.touched))
