"""An in-memory LedgerGateway with the real ledger's uniqueness rule: one use per external reference."""

from __future__ import annotations

import asyncio
from collections import Counter

from fedow_node.payments import LedgerRefused, LedgerUnavailable, Submitted


class MemoryLedger:
    """FED balances of wallets and places, and the sums the FED invariant is written with."""

    def __init__(self) -> None:
        self.wallets: Counter[bytes] = Counter()
        self.places: Counter[str] = Counter()
        self.payout_accounts: dict[str, str] = {}
        self.references: set[str] = set()
        self.genesis_fed = 0
        self.refilled = 0
        self.refunded = 0
        self.deposited = 0
        self.applied = 0
        self.available = True

    def give_place(self, place_id: str, amount: int, account: str | None = None) -> None:
        """Genesis-style FED for a place (as if sales had paid it), and its Connect account."""
        self.places[place_id] += amount
        self.genesis_fed += amount
        if account is not None:
            self.payout_accounts[place_id] = account

    def snapshot(self) -> tuple[object, ...]:
        return (dict(self.wallets), dict(self.places), sorted(self.references),
                self.refilled, self.refunded, self.deposited)

    def fed_in_circulation(self) -> int:
        return sum(self.wallets.values()) + sum(self.places.values())

    def fed_conserved(self) -> bool:
        return self.fed_in_circulation() == self.genesis_fed + self.refilled - self.refunded - self.deposited

    async def _reachable(self) -> None:
        await asyncio.sleep(0)  # let concurrent deliveries interleave, as a real round trip would
        if not self.available:
            raise LedgerUnavailable("ledger_unavailable", "no commit within the deadline (test ledger is down)")

    def _first_use(self, ref: str) -> bool:
        if ref in self.references:
            return False
        self.references.add(ref)
        self.applied += 1
        return True

    async def submit_fed_refill(self, target_wallet: bytes, amount_cents: int, payment_ref: str) -> Submitted:
        await self._reachable()
        if not self._first_use(payment_ref):
            return Submitted.DUPLICATE_REFERENCE
        self.wallets[target_wallet] += amount_cents
        self.refilled += amount_cents
        return Submitted.APPLIED

    async def wallet_fed_balance(self, wallet: bytes) -> int:
        await self._reachable()
        return self.wallets[wallet]

    async def submit_fed_refund(self, wallet: bytes, amount_cents: int, refund_ref: str,
                                stripe_refund_id: str) -> Submitted:
        await self._reachable()
        if refund_ref in self.references:
            return Submitted.DUPLICATE_REFERENCE
        if self.wallets[wallet] < amount_cents:
            raise LedgerRefused("overdraft", f"wallet holds {self.wallets[wallet]}, refund burns {amount_cents}")
        self._first_use(refund_ref)
        self.wallets[wallet] -= amount_cents
        self.refunded += amount_cents
        return Submitted.APPLIED

    async def place_fed_balance(self, place_id: str) -> int:
        await self._reachable()
        return self.places[place_id]

    async def place_payout_account(self, place_id: str) -> str:
        await self._reachable()
        if place_id not in self.payout_accounts:
            raise LedgerRefused("no_payout_account", f"place {place_id} has no Stripe Connect account")
        return self.payout_accounts[place_id]

    async def submit_bank_deposit(self, place_id: str, amount_cents: int, payout_ref: str,
                                  stripe_transfer_id: str) -> Submitted:
        await self._reachable()
        if payout_ref in self.references:
            return Submitted.DUPLICATE_REFERENCE
        if self.places[place_id] < amount_cents:
            raise LedgerRefused("overdraft", f"place holds {self.places[place_id]}, deposit burns {amount_cents}")
        self._first_use(payout_ref)
        self.places[place_id] -= amount_cents
        self.deposited += amount_cents
        return Submitted.APPLIED

    async def reference_recorded(self, ref: str) -> bool:
        await self._reachable()
        return ref in self.references
