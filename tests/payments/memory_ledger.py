"""An in-memory LedgerGateway with the real ledger's uniqueness rule: one use per external reference."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from fedow_node.payments import LedgerRefused, LedgerUnavailable, Recorded, Submitted


class MemoryLedger:
    """FED balances of wallets and places, and the sums the FED invariant is written with."""

    def __init__(self) -> None:
        self.wallets: Counter[bytes] = Counter()
        self.places: Counter[str] = Counter()
        self.payout_accounts: dict[str, str] = {}
        self.references: dict[str, Recorded] = {}
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

    def _first_use(self, ref: str, stripe_id: str, amount: int) -> bool:
        if ref in self.references:
            return False
        self.references[ref] = Recorded(stripe_id, amount)
        self.applied += 1
        return True

    async def submit_fed_refill(self, target_wallet: bytes, amount_cents: int, payment_ref: str) -> Submitted:
        await self._reachable()
        if not self._first_use(payment_ref, payment_ref, amount_cents):
            return Submitted.DUPLICATE_REFERENCE
        self.wallets[target_wallet] += amount_cents
        self.refilled += amount_cents
        return Submitted.APPLIED

    async def wallet_fed_balance(self, wallet: bytes) -> int:
        await self._reachable()
        return self.wallets[wallet]

    async def submit_fed_refund(self, wallet: bytes, amount_cents: int, refund_ref: str,
                                stripe_refund_id: str) -> Submitted:
        submitted = await self._burn(self.wallets, wallet, amount_cents, refund_ref, stripe_refund_id)
        if submitted is Submitted.APPLIED:
            self.refunded += amount_cents
        return submitted

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
        submitted = await self._burn(self.places, place_id, amount_cents, payout_ref, stripe_transfer_id)
        if submitted is Submitted.APPLIED:
            self.deposited += amount_cents
        return submitted

    async def _burn(self, balances: Counter[Any], owner: object, amount: int, ref: str, stripe_id: str) -> Submitted:
        """FED leaving the system (refund, bank deposit): once per reference, never an overdraft."""
        await self._reachable()
        if ref in self.references:
            return Submitted.DUPLICATE_REFERENCE
        if balances[owner] < amount:
            raise LedgerRefused("overdraft", f"{owner!r} holds {balances[owner]} FED cents, burn asks {amount}")
        self._first_use(ref, stripe_id, amount)
        balances[owner] -= amount
        return Submitted.APPLIED

    async def recorded(self, ref: str) -> Recorded | None:
        await self._reachable()
        return self.references.get(ref)
