"""The :class:`LedgerGateway` of a running node: place-signed holds, treasury-attested mints and burns.

Holds are signed with the node's place key. Mints, burns and releases are co-signed
transactions: the unsigned part is built here, the :class:`Attester` (the node's treasury
gatherer) collects the treasury's threshold of signatures (each treasury node verifies at
Stripe itself), and the result is submitted like any transaction. Each submission is awaited
until committed. A spent reference, whether the ledger or a treasury node says so (a
concurrent twin from another node won), becomes :attr:`Submitted.DUPLICATE_REFERENCE`. Runs on
the HTTP API's asyncio loop, where the node's committed state is read directly (docs/stripe.md).
"""

from __future__ import annotations

import hashlib
import os
from typing import Mapping, Protocol

import structlog

from fedow_node.api.facade import REFUSALS, NodeFacade, refusal_of
from fedow_node.payments._errors import LedgerRefused, LedgerUnavailable, NotAttested
from fedow_node.payments._ledger import HeldFunds, Submitted
from wallet import layout, queries
from wallet.bodies import Body, FedBurn, FedMint, FedRelease, PayoutHold, RefundHold
from wallet.keys import SigningKey
from wallet.records import Balance, Place, Pointer
from wallet.state import read_one
from wallet.tx import NONCE_BYTES, build_unsigned, sign_tx, unsigned_bytes

log = structlog.get_logger(__name__)

DUPLICATE_CODES = ("reference_used", "hold_settled")
"""The ledger's (and a treasury node's) codes for a movement already on the chain."""
RETRY_CODES = ("treasury_unavailable", "stripe_unavailable", "stripe_authentication", "payout_pending")
"""Treasury refusals that a later retry may overcome (the webhook answers 503, Stripe retries)."""

DEFAULT_COMMIT_TIMEOUT_S = 10.0
"""How long a submission waits for its commit; Stripe gives a webhook about 10 s before it retries."""


class Attester(Protocol):
    """Collects the treasury's signatures (``fedow_node.treasury.TreasuryGatherer``)."""

    async def attest(self, unsigned: bytes) -> bytes:
        """The co-signed transaction; :class:`NotAttested` when fewer than the threshold signed."""
        ...


class NodeLedger:
    """``LedgerGateway`` over a :class:`NodeFacade`; ``payout_accounts`` maps place ids to ``acct_...``."""

    def __init__(self, node: NodeFacade, place_key: SigningKey, treasury: Attester, *,
                 payout_accounts: Mapping[str, str] | None = None,
                 commit_timeout_s: float = DEFAULT_COMMIT_TIMEOUT_S) -> None:
        self._node = node
        self._key = place_key
        self._treasury = treasury
        self._payout_accounts = dict(payout_accounts or {})
        self._commit_timeout_s = commit_timeout_s

    def __repr__(self) -> str:
        return f"NodeLedger(chain_id={self._node.chain_id!r}, place_key={self._key.public_key.hex()[:16]}...)"

    # -- money in ----------------------------------------------------------------------------

    async def attest_mint(self, wallet: bytes, amount_cents: int, payment_ref: str) -> Submitted:
        return await self._attested(FedMint(payment_ref, amount_cents, wallet), payment_ref)

    # -- balances and places -----------------------------------------------------------------

    async def wallet_fed_balance(self, wallet: bytes) -> int:
        fed = read_one(self._node.reader, layout.FED_ASSET, Pointer)
        if fed is None:
            raise LedgerRefused("no_fed_asset", "the chain has no FED asset")
        record = read_one(self._node.reader, layout.balance(wallet, fed.target), Balance)
        return 0 if record is None else record.amount

    async def place_fed_balance(self, place_id: str) -> int:
        return await self.wallet_fed_balance(self._own_place(place_id).wallet)

    async def place_wallet(self, place_id: str) -> bytes:
        return self._own_place(place_id).wallet

    async def place_payout_account(self, place_id: str) -> str:
        account = self._payout_accounts.get(self._own_place(place_id).id)
        if account is None:
            raise LedgerRefused("no_payout_account", f"place {place_id!r} has no Stripe Connect account "
                                "configured for payouts on this node")
        return account

    # -- money out ---------------------------------------------------------------------------

    async def hold_for_refund(self, wallet: bytes, amount_cents: int, hold_ref: str,
                              payment_intent: str) -> Submitted:
        return await self._signed(RefundHold(hold_ref, wallet, amount_cents, payment_intent), hold_ref)

    async def hold_for_payout(self, place_id: str, amount_cents: int, hold_ref: str) -> Submitted:
        self._own_place(place_id)
        return await self._signed(PayoutHold(hold_ref, amount_cents), hold_ref)

    async def held(self, hold_ref: str) -> HeldFunds | None:
        hold = queries.hold(self._node.reader, hold_ref)
        return None if hold is None else HeldFunds(hold.reference, hold.amount, hold.state, hold.paid_by)

    async def attest_burn(self, hold_ref: str, stripe_id: str, amount_cents: int) -> Submitted:
        return await self._attested(FedBurn(hold_ref, stripe_id, amount_cents), hold_ref)

    async def attest_release(self, hold_ref: str) -> Submitted:
        return await self._attested(FedRelease(hold_ref), hold_ref)

    # -- submission --------------------------------------------------------------------------

    def _own_place(self, place_id: str) -> Place:
        """This node signs for one place: the place of its key, which must be ``place_id``."""
        place = queries.place_by_key(self._node.reader, self._key.public_key)
        if place is None:
            raise LedgerRefused("no_place_key", "this node's place key is not the key of any place on the chain")
        if place.id != place_id:
            raise LedgerRefused("wrong_place", f"this node signs for place {place.id!r}, not {place_id!r}")
        return place

    async def _signed(self, body: Body, ref: str) -> Submitted:
        """A transaction signed with the place key, submitted and awaited."""
        node = self._node
        nonce, expires_at = os.urandom(NONCE_BYTES), node.next_expiry()
        tx = sign_tx(self._key, node.chain_id, body.KIND, body, nonce, expires_at)
        txid = hashlib.sha256(unsigned_bytes(body.KIND, self._key.public_key, nonce, expires_at, body)).digest()
        return await self._submit(tx, txid, body.KIND, ref)

    async def _attested(self, body: Body, ref: str) -> Submitted:
        """A treasury transaction: its signatures gathered from the treasury nodes, then submitted."""
        unsigned = build_unsigned(body.KIND, body, os.urandom(NONCE_BYTES), self._node.next_expiry())
        try:
            tx = await self._treasury.attest(unsigned)
        except NotAttested as refusal:
            return self._refused(refusal.code, refusal.detail, body.KIND, ref)
        return await self._submit(tx, hashlib.sha256(unsigned).digest(), body.KIND, ref)

    async def _submit(self, tx: bytes, txid: bytes, kind: str, ref: str) -> Submitted:
        """Submit and wait for the commit; a spent reference is a duplicate, not a failure."""
        node = self._node
        try:
            await node.submit(tx)
            location = await node.wait_committed(txid, self._commit_timeout_s)
        except REFUSALS as exc:  # anything else (a storage fault) is the node's, not a refusal
            refusal = refusal_of(exc)
            assert refusal is not None
            return self._refused(refusal.code, refusal.detail, kind, ref)
        if location is None:
            raise LedgerUnavailable("ledger_unavailable", f"{kind} {txid.hex()} (reference {ref!r}) was "
                                    f"not committed within {self._commit_timeout_s:g} s; retry later")
        log.info("ledger_submitted", kind=kind, ref=ref, txid=txid.hex(), height=location.height)
        return Submitted.APPLIED

    @staticmethod
    def _refused(code: str, detail: str, kind: str, ref: str) -> Submitted:
        """A refusal (the ledger's or the treasury's) as a duplicate, or raised as the matching payment error."""
        if code in DUPLICATE_CODES:
            log.info("ledger_reference_already_used", kind=kind, ref=ref, code=code)
            return Submitted.DUPLICATE_REFERENCE
        if code in RETRY_CODES:
            raise LedgerUnavailable(code, detail) from None
        raise LedgerRefused(code, detail) from None
