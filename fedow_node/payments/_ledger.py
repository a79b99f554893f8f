"""What the bridge needs from the ledger: a small protocol the node implements with real transactions.

FED enters and leaves only with the treasury's threshold of signatures (docs/ledger.md, "The
treasury"): :meth:`LedgerGateway.attest_mint`, ``attest_burn`` and ``attest_release`` gather
them (each treasury node verifies at Stripe itself) and submit the co-signed transaction. A
payout or a bank-card refund first puts the FED on hold (``hold_for_payout``,
``hold_for_refund``: the place's own signature), so it cannot be spent while Stripe pays it.

Every movement carries an external reference the ledger accepts once network-wide (the
payment reference of a mint, the hold reference of a payout or refund, the Stripe id of a
burn). A second submission of a used reference answers :attr:`Submitted.DUPLICATE_REFERENCE`
instead of applying again: that is what makes webhooks, refunds and payouts exactly-once
across replays, retries and several nodes. Other refusals raise :class:`LedgerRefused`; no
answer in time (or too few treasury nodes reachable) raises :class:`LedgerUnavailable`. All
methods are awaited on the event loop that runs the HTTP API (asyncio).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class Submitted(enum.Enum):
    """How the ledger took a submission that it did not refuse."""

    APPLIED = "applied"
    """Committed now."""
    DUPLICATE_REFERENCE = "duplicate_reference"
    """The reference was already used: the same money movement is already on the chain."""


@dataclass(frozen=True)
class HeldFunds:
    """A hold on the chain (``wallet.records.Hold``), as the bridge needs it."""

    reference: str
    amount_cents: int
    state: str
    """``held`` (waiting for the treasury), ``burnt`` (paid out) or ``released`` (the payout failed)."""
    paid_by: str | None
    """Once burnt: the Stripe transfer or refund id the treasury attested."""


class LedgerGateway(Protocol):
    """The ledger operations of the Stripe bridge (amounts in FED cents)."""

    async def attest_mint(self, wallet: bytes, amount_cents: int, payment_ref: str) -> Submitted:
        """Mint FED into ``wallet`` against the paid ``payment_ref`` (Checkout Session or PaymentIntent)."""
        ...

    async def wallet_fed_balance(self, wallet: bytes) -> int:
        """FED balance of a wallet (0 for an unknown wallet)."""
        ...

    async def place_fed_balance(self, place_id: str) -> int:
        """FED balance of a place's wallet (its float, without what is on hold)."""
        ...

    async def place_wallet(self, place_id: str) -> bytes:
        """The wallet id of a place this node signs for (``wrong_place`` otherwise)."""
        ...

    async def place_payout_account(self, place_id: str) -> str:
        """The place's Stripe Connect account id (``acct_...``); :class:`LedgerRefused` if it has none."""
        ...

    async def hold_for_refund(self, wallet: bytes, amount_cents: int, hold_ref: str,
                              payment_intent: str) -> Submitted:
        """Put ``amount_cents`` FED of ``wallet`` on hold, to refund to the card that paid ``payment_intent``."""
        ...

    async def hold_for_payout(self, place_id: str, amount_cents: int, hold_ref: str) -> Submitted:
        """Put ``amount_cents`` FED of the place on hold, to pay out to its bank."""
        ...

    async def held(self, hold_ref: str) -> HeldFunds | None:
        """The hold under this reference, whatever its state, if any."""
        ...

    async def attest_burn(self, hold_ref: str, stripe_id: str, amount_cents: int) -> Submitted:
        """Burn the hold, paid out by the Stripe transfer or refund ``stripe_id``."""
        ...

    async def attest_release(self, hold_ref: str) -> Submitted:
        """Give the hold back to its wallet: the payout failed, nothing left the account."""
        ...
