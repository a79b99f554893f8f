"""What the bridge needs from the ledger: a small protocol the node implements with real transactions.

Every submission carries an external reference that the ledger accepts once network-wide
(``payment_ref`` for refills, ``refund_ref`` for refunds, ``payout_ref`` for bank deposits).
A second submission with a used reference answers :attr:`Submitted.DUPLICATE_REFERENCE`
instead of applying again: that is what makes webhooks, refunds and payouts exactly-once
across replays, retries and several nodes. Other rejections raise :class:`LedgerRefused`;
no answer in time raises :class:`LedgerUnavailable`. All methods are awaited on the
event loop that runs the HTTP API (asyncio).
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
class Recorded:
    """A money movement already on the chain under an external reference."""

    stripe_id: str
    """The Stripe object recorded with it: checkout session, refund or transfer id."""
    amount_cents: int


class LedgerGateway(Protocol):
    """The ledger operations of the Stripe bridge (amounts in FED cents)."""

    async def submit_fed_refill(self, target_wallet: bytes, amount_cents: int, payment_ref: str) -> Submitted:
        """Mint ``amount_cents`` FED into ``target_wallet`` against the paid Checkout Session ``payment_ref``."""
        ...

    async def wallet_fed_balance(self, wallet: bytes) -> int:
        """FED balance of a wallet (0 for an unknown wallet)."""
        ...

    async def submit_fed_refund(
        self, wallet: bytes, amount_cents: int, refund_ref: str, stripe_refund_id: str,
    ) -> Submitted:
        """Burn ``amount_cents`` FED of ``wallet``, refunded to the bank card by ``stripe_refund_id``."""
        ...

    async def place_fed_balance(self, place_id: str) -> int:
        """FED balance of a place's wallet."""
        ...

    async def place_payout_account(self, place_id: str) -> str:
        """The place's Stripe Connect account id (``acct_...``); :class:`LedgerRefused` if it has none."""
        ...

    async def submit_bank_deposit(
        self, place_id: str, amount_cents: int, payout_ref: str, stripe_transfer_id: str,
    ) -> Submitted:
        """Burn ``amount_cents`` FED of the place, paid to its bank by ``stripe_transfer_id``."""
        ...

    async def recorded(self, ref: str) -> Recorded | None:
        """The refill, refund or deposit on the chain under this external reference, if any."""
        ...
