"""An in-memory LedgerGateway with the real ledger's rules: references once, holds, no overdraft.

The treasury is trusted here (every attestation is granted when the ledger's own rules allow
it): the bridge's ordering and exactly-once behaviour are what these tests are about; the
treasury's own checks are tested in tests/treasury and end to end in test_node_end_to_end.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from fedow_node.payments import HeldFunds, LedgerRefused, LedgerUnavailable, Submitted
from wallet.layout import place_wallet_id


class MemoryLedger:
    """FED balances of wallets and places, holds, and the sums of the FED backing invariant."""

    def __init__(self) -> None:
        self.wallets: Counter[bytes] = Counter()
        self.payout_accounts: dict[str, str] = {}
        self.references: set[str] = set()
        self.holds: dict[str, tuple[bytes, HeldFunds]] = {}
        self.genesis_fed = 0
        self.minted = 0
        self.burnt = 0
        self.applied = 0
        self.available = True

    def give_place(self, place_id: str, amount: int, account: str | None = None) -> None:
        """Genesis-style FED for a place (as if sales had paid it), and its Connect account."""
        self.wallets[place_wallet_id(place_id)] += amount
        self.genesis_fed += amount
        if account is not None:
            self.payout_accounts[place_id] = account

    def place_fed(self, place_id: str) -> int:
        return self.wallets[place_wallet_id(place_id)]

    def snapshot(self) -> tuple[object, ...]:
        return (dict(self.wallets), sorted(self.references), sorted(self.holds), self.minted, self.burnt)

    def fed_in_circulation(self) -> int:
        on_hold = sum(held.amount_cents for _wallet, held in self.holds.values() if held.state == "held")
        return sum(self.wallets.values()) + on_hold

    def fed_conserved(self) -> bool:
        return self.fed_in_circulation() == self.genesis_fed + self.minted - self.burnt

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

    async def attest_mint(self, wallet: bytes, amount_cents: int, payment_ref: str) -> Submitted:
        await self._reachable()
        if not self._first_use(payment_ref):
            return Submitted.DUPLICATE_REFERENCE
        self.wallets[wallet] += amount_cents
        self.minted += amount_cents
        return Submitted.APPLIED

    async def wallet_fed_balance(self, wallet: bytes) -> int:
        await self._reachable()
        return self.wallets[wallet]

    async def place_fed_balance(self, place_id: str) -> int:
        await self._reachable()
        return self.place_fed(place_id)

    async def place_wallet(self, place_id: str) -> bytes:
        return place_wallet_id(place_id)

    async def place_payout_account(self, place_id: str) -> str:
        await self._reachable()
        if place_id not in self.payout_accounts:
            raise LedgerRefused("no_payout_account", f"place {place_id} has no Stripe Connect account")
        return self.payout_accounts[place_id]

    async def hold_for_refund(self, wallet: bytes, amount_cents: int, hold_ref: str,
                              payment_intent: str) -> Submitted:
        return await self._hold(wallet, amount_cents, hold_ref)

    async def hold_for_payout(self, place_id: str, amount_cents: int, hold_ref: str) -> Submitted:
        return await self._hold(place_wallet_id(place_id), amount_cents, hold_ref)

    async def _hold(self, wallet: bytes, amount: int, ref: str) -> Submitted:
        await self._reachable()
        if ref in self.holds:
            return Submitted.DUPLICATE_REFERENCE
        if self.wallets[wallet] < amount:
            raise LedgerRefused("overdraft", f"{wallet.hex()} holds {self.wallets[wallet]} FED cents, "
                                f"hold asks {amount}")
        self.wallets[wallet] -= amount
        self.holds[ref] = (wallet, HeldFunds(ref, amount, "held", None))
        self.applied += 1
        return Submitted.APPLIED

    async def held(self, hold_ref: str) -> HeldFunds | None:
        await self._reachable()
        found = self.holds.get(hold_ref)
        return None if found is None else found[1]

    async def attest_burn(self, hold_ref: str, stripe_id: str, amount_cents: int) -> Submitted:
        wallet, held = await self._settling(hold_ref)
        if held.state != "held" or not self._first_use(stripe_id):
            return Submitted.DUPLICATE_REFERENCE
        if held.amount_cents != amount_cents:
            raise LedgerRefused("amount_mismatch", f"hold {hold_ref} holds {held.amount_cents}, burn asks {amount_cents}")
        self.holds[hold_ref] = (wallet, HeldFunds(hold_ref, amount_cents, "burnt", stripe_id))
        self.burnt += amount_cents
        return Submitted.APPLIED

    async def attest_release(self, hold_ref: str) -> Submitted:
        wallet, held = await self._settling(hold_ref)
        if held.state != "held":
            return Submitted.DUPLICATE_REFERENCE
        self.holds[hold_ref] = (wallet, HeldFunds(hold_ref, held.amount_cents, "released", None))
        self.wallets[wallet] += held.amount_cents
        self.applied += 1
        return Submitted.APPLIED

    async def _settling(self, hold_ref: str) -> tuple[bytes, HeldFunds]:
        await self._reachable()
        if hold_ref not in self.holds:
            raise LedgerRefused("unknown_hold", f"no hold has the reference {hold_ref!r}")
        return self.holds[hold_ref]
