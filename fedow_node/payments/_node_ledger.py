"""The :class:`LedgerGateway` of a running node: real transactions signed with the place key.

Each submission is built, signed with the node's place key, handed to the node (mempool,
gossip) and awaited until committed. The ledger's ``reference_used`` refusal, whether at
submission (already committed) or when the block builder drops it (a concurrent twin from
another node won), becomes :attr:`Submitted.DUPLICATE_REFERENCE`. ``recorded`` follows the
ledger's reference index (``payref/``) to the committing transaction. Runs on the HTTP API's
asyncio loop, where the node's committed state is read directly (docs/stripe.md).
"""

from __future__ import annotations

import hashlib
import os
from typing import Mapping

import structlog

from fedow_node.api.facade import REFUSALS, NodeFacade, refusal_of
from fedow_node.payments._errors import LedgerRefused, LedgerUnavailable
from fedow_node.payments._ledger import Recorded, Submitted
from wallet import layout, queries
from wallet.block import decode_block
from wallet.bodies import BankDeposit, Body, FedRefill, FedRefund
from wallet.keys import SigningKey
from wallet.records import Balance, Place, Pointer
from wallet.state import read_one
from wallet.tx import NONCE_BYTES, decode_tx, sign_tx, unsigned_bytes

log = structlog.get_logger(__name__)

REFERENCE_USED = "reference_used"
"""The ledger's code for a payment, refund or payout reference spent before (wallet/rules/payments.py)."""

DEFAULT_COMMIT_TIMEOUT_S = 10.0
"""How long a submission waits for its commit; Stripe gives a webhook about 10 s before it retries."""


class NodeLedger:
    """``LedgerGateway`` over a :class:`NodeFacade`; ``payout_accounts`` maps place ids to ``acct_...``."""

    def __init__(self, node: NodeFacade, place_key: SigningKey, *,
                 payout_accounts: Mapping[str, str] | None = None,
                 commit_timeout_s: float = DEFAULT_COMMIT_TIMEOUT_S) -> None:
        self._node = node
        self._key = place_key
        self._payout_accounts = dict(payout_accounts or {})
        self._commit_timeout_s = commit_timeout_s

    def __repr__(self) -> str:
        return f"NodeLedger(chain_id={self._node.chain_id!r}, place_key={self._key.public_key.hex()[:16]}...)"

    # -- money in ----------------------------------------------------------------------------

    async def submit_fed_refill(self, target_wallet: bytes, amount_cents: int, payment_ref: str) -> Submitted:
        return await self._submit(FedRefill(target_wallet, amount_cents, payment_ref), payment_ref)

    # -- money out ---------------------------------------------------------------------------

    async def wallet_fed_balance(self, wallet: bytes) -> int:
        fed = read_one(self._node.reader, layout.FED_ASSET, Pointer)
        if fed is None:
            raise LedgerRefused("no_fed_asset", "the chain has no FED asset")
        record = read_one(self._node.reader, layout.balance(wallet, fed.target), Balance)
        return 0 if record is None else record.amount

    async def submit_fed_refund(self, wallet: bytes, amount_cents: int, refund_ref: str,
                                stripe_refund_id: str) -> Submitted:
        return await self._submit(FedRefund(wallet, amount_cents, refund_ref, stripe_refund_id), refund_ref)

    async def place_fed_balance(self, place_id: str) -> int:
        return await self.wallet_fed_balance(self._own_place(place_id).wallet)

    async def place_payout_account(self, place_id: str) -> str:
        account = self._payout_accounts.get(self._own_place(place_id).id)
        if account is None:
            raise LedgerRefused("no_payout_account", f"place {place_id!r} has no Stripe Connect account "
                                "configured for payouts on this node")
        return account

    async def submit_bank_deposit(self, place_id: str, amount_cents: int, payout_ref: str,
                                  stripe_transfer_id: str) -> Submitted:
        self._own_place(place_id)
        return await self._submit(BankDeposit(amount_cents, payout_ref, stripe_transfer_id), payout_ref)

    # -- the reference index -----------------------------------------------------------------

    async def recorded(self, ref: str) -> Recorded | None:
        pointer = read_one(self._node.reader, layout.payment_ref(ref), Pointer)
        if pointer is None:
            return None
        txid = pointer.target
        location = self._node.store.tx_location(txid) if txid else None
        raw_block = None if location is None else self._node.store.block(location.height)
        if location is None or raw_block is None:
            raise LedgerRefused(REFERENCE_USED, f"reference {ref!r} was used by the genesis state or a "
                                "transaction this node does not index")
        block = decode_block(raw_block, chain_id=self._node.chain_id, max_bytes=len(raw_block))
        raw_tx = block.txs[location.position]
        return _recorded(ref, decode_tx(raw_tx, len(raw_tx)).body)

    # -- submission --------------------------------------------------------------------------

    def _own_place(self, place_id: str) -> Place:
        """This node signs for one place: the place of its key, which must be ``place_id``."""
        place = queries.place_by_key(self._node.reader, self._key.public_key)
        if place is None:
            raise LedgerRefused("no_place_key", "this node's place key is not the key of any place on the chain")
        if place.id != place_id:
            raise LedgerRefused("wrong_place", f"this node signs for place {place.id!r}, not {place_id!r}")
        return place

    async def _submit(self, body: Body, ref: str) -> Submitted:
        """Sign, submit and wait for the commit; a spent reference is a duplicate, not a failure."""
        node = self._node
        nonce, expires_at = os.urandom(NONCE_BYTES), node.next_expiry()
        tx = sign_tx(self._key, node.chain_id, body.KIND, body, nonce, expires_at)
        txid = hashlib.sha256(unsigned_bytes(body.KIND, self._key.public_key, nonce, expires_at, body)).digest()
        try:
            await node.submit(tx)
            location = await node.wait_committed(txid, self._commit_timeout_s)
        except REFUSALS as exc:  # anything else (a storage fault) is the node's, not a refusal
            refusal = refusal_of(exc)
            assert refusal is not None
            code, detail = refusal.code, refusal.detail
            if code == REFERENCE_USED:
                log.info("ledger_reference_already_used", kind=body.KIND, ref=ref, txid=txid.hex())
                return Submitted.DUPLICATE_REFERENCE
            raise LedgerRefused(code, detail) from None
        if location is None:
            raise LedgerUnavailable("ledger_unavailable", f"{body.KIND} {txid.hex()} (reference {ref!r}) was "
                                    f"not committed within {self._commit_timeout_s:g} s; retry later")
        log.info("ledger_submitted", kind=body.KIND, ref=ref, txid=txid.hex(), height=location.height)
        return Submitted.APPLIED


def _recorded(ref: str, body: Body) -> Recorded:
    """The Stripe object id and amount a reference-spending body carries."""
    if isinstance(body, FedRefill):
        return Recorded(body.payment_ref, body.amount)
    if isinstance(body, FedRefund):
        return Recorded(body.stripe_refund_id, body.amount)
    if isinstance(body, BankDeposit):
        return Recorded(body.stripe_transfer_id or "", body.amount)
    raise LedgerRefused(REFERENCE_USED, f"reference {ref!r} is held by a {body.KIND} transaction")
