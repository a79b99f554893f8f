"""A treasury node's signature: given only after its own checks, against its own state and Stripe.

:meth:`TreasuryCosigner.cosign` reads the unsigned co-signed transaction it is asked to sign
(``wallet.tx.read_unsigned``), and signs it only when

1. it is a treasury kind (``fed_mint``, ``fed_burn``, ``fed_release``) and this node's key is
   one of the treasury keys in the committed state;
2. it can still be committed: not expired, no further ahead than ``tx_ttl_blocks``;
3. the committed state allows it: the payment reference or the payout's Stripe id unused, the
   hold held and of the amount to burn (``reference_used``, ``unknown_hold``, ``hold_settled``,
   ``amount_mismatch``: an honest asker may be one block behind, so the asker is not blamed);
4. Stripe confirms it (:class:`fedow_node.payments.PaymentVerifier`): a contradiction is the
   asker's fault (``not_paid``, ``amount_mismatch``...), Stripe being down is nobody's.
"""

from __future__ import annotations

import structlog

from fedow_node.payments import PaymentNotVerified, PaymentVerifier, StripeFailure
from fedow_node.treasury._errors import CosignRefused
from wallet import layout, queries
from wallet.bodies import TREASURY, FedBurn, FedMint, FedRelease
from wallet.errors import Rejected
from wallet.keys import SigningKey, encode_address
from wallet.records import KeySet
from storage import Store
from wallet.rules.treasury import require_held, use_reference
from wallet.state import Overlay, read_one
from wallet.tx import Draft, Signature, cosign, read_unsigned

log = structlog.get_logger(__name__)

MAX_UNSIGNED_BYTES = 4096
"""A treasury transaction's unsigned part is about 200 bytes."""
MALFORMED_BLAME = 50
UNVERIFIED_BLAME = 20


class TreasuryCosigner:
    """Signs treasury transactions with ``key`` once state and ``verifier`` (Stripe) agree."""

    def __init__(self, key: SigningKey, chain_id: str, store: Store, verifier: PaymentVerifier) -> None:
        self.key = key
        self.chain_id = chain_id
        self._store = store
        self._verifier = verifier

    def __repr__(self) -> str:
        return f"TreasuryCosigner(key={encode_address(self.key.public_key)}, verifier={self._verifier!r})"

    async def aclose(self) -> None:
        await self._verifier.aclose()

    async def cosign(self, unsigned: bytes) -> Signature:
        """This node's signature of ``unsigned``, or :class:`CosignRefused` saying why not."""
        try:
            draft = read_unsigned(unsigned, MAX_UNSIGNED_BYTES)
        except Rejected as exc:
            raise CosignRefused(exc.code, f"not a co-signed transaction: {exc.detail}", blame=MALFORMED_BLAME) from None
        if draft.body.KEY_SET != TREASURY:
            raise CosignRefused("not_treasury_kind", f"{draft.kind} is not signed by the treasury",
                                blame=MALFORMED_BLAME)
        self._check_state(draft)
        try:
            await self._verify(draft)
        except PaymentNotVerified as err:
            log.warning("treasury_cosign_refused", kind=draft.kind, txid=draft.txid.hex(), code=err.code,
                        detail=err.detail)
            raise CosignRefused(err.code, err.detail, blame=UNVERIFIED_BLAME) from None
        except StripeFailure as err:
            raise CosignRefused(err.code, f"cannot verify at Stripe now: {err.detail}") from None
        log.info("treasury_cosigned", kind=draft.kind, txid=draft.txid.hex())
        return cosign(self.key, self.chain_id, unsigned)

    def _check_state(self, draft: Draft) -> None:
        store = self._store.committed  # one snapshot: blocks commit in the execution worker meanwhile
        treasury = read_one(store, layout.key_set(TREASURY), KeySet)
        if treasury is None or self.key.public_key not in treasury.keys:
            raise CosignRefused("not_treasury_node", f"this node's key {encode_address(self.key.public_key)} is not "
                                "a treasury key on the chain")
        height, ttl = store.height + 1, queries.params(store).tx_ttl_blocks
        if not height <= draft.expires_at <= height + ttl:
            raise CosignRefused("bad_expiry", f"expires_at {draft.expires_at} is outside [{height}, {height + ttl}] "
                                "(the next height and tx_ttl_blocks after it)")
        body = draft.body
        overlay = Overlay(store)  # thrown away: the checks are the rule's own
        try:
            if isinstance(body, FedMint):
                use_reference(overlay, body.payment_ref, "payment_ref", draft.txid)
            elif isinstance(body, FedBurn):
                hold = require_held(overlay, body.hold_ref)
                if body.amount != hold.amount:
                    raise Rejected("amount_mismatch", f"hold {hold.reference!r} holds {hold.amount}, "
                                   f"the burn says {body.amount}")
                use_reference(overlay, body.stripe_id, "stripe_id", draft.txid)
            elif isinstance(body, FedRelease):
                require_held(overlay, body.hold_ref)
        except Rejected as exc:
            raise CosignRefused(exc.code, exc.detail) from None

    async def _verify(self, draft: Draft) -> None:
        body = draft.body
        overlay = Overlay(self._store)
        if isinstance(body, FedMint):
            await self._verifier.verify_payment(body.payment_ref, body.amount, body.wallet)
        elif isinstance(body, FedBurn):
            await self._verifier.verify_payout(require_held(overlay, body.hold_ref), body.stripe_id, body.amount)
        elif isinstance(body, FedRelease):
            await self._verifier.verify_failed_payout(require_held(overlay, body.hold_ref))

