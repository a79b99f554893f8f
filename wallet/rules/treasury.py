"""The treasury: how FED enters and leaves the ledger (docs/ledger.md, "The treasury").

FED is a claim on euros the federation holds, so no single key may create or destroy it.
It is minted only by ``fed_mint`` and burnt only by ``fed_burn``, each co-signed by at least
the threshold of the treasury key set (``keyset/treasury``, named by the genesis, replaced by
the authorities' ``set_keys``); ``apply_tx`` checks the signers before these rules run. Each
treasury node signs only after it verified the payment (or the payout) at the provider itself.

Money out is two steps, so the money cannot be spent while it is being paid out: a place
puts FED on hold (``payout_hold`` for its own FED, ``refund_hold`` for a card's or user's FED
refunded to the bank card that paid), the payout happens at the provider, then the treasury
attests it (``fed_burn``) or attests that it failed (``fed_release``: the hold goes back).
Payment references (minted payments) and the provider ids of burnt payouts share the one
``payref/`` namespace, each usable once; hold references have their own (``hold/``), so a
place cannot squat a payment reference with a hold.
"""

from __future__ import annotations

from dataclasses import replace

from wallet import layout
from wallet.bodies import FedBurn, FedMint, FedRelease, PayoutHold, RefundHold
from wallet.book import Book
from wallet.errors import Rejected
from wallet.records import (HOLD_BURNT, HOLD_HELD, HOLD_RELEASED, WALLET_PLACE, Amount, FedBacking, Hold, Pointer,
                            WalletInfo)
from wallet.rules.common import fed_asset, place_of_signer, require_receiving_wallet
from wallet.state import Overlay
from wallet.tx import Tx


def use_reference(overlay: Overlay, reference: str, field: str, txid: bytes) -> None:
    """Spend a payment reference or a payout's provider id: once network-wide, remembered for ever."""
    key = layout.payment_ref(reference)
    if overlay.has(key):
        raise Rejected("reference_used", f"field {field} {reference!r} was already used")
    overlay.put(key, Pointer(txid))


def count_backing(book: Book, minted: int = 0, burnt: int = 0) -> None:
    """FED the treasury attested: what the backing invariant compares circulation with."""
    overlay = book.overlay
    backing = overlay.record(layout.FED_BACKING, FedBacking) or FedBacking(0, 0)
    overlay.put(layout.FED_BACKING, FedBacking(backing.attested_minted + minted, backing.attested_burnt + burnt))


def fed_mint(book: Book, tx: Tx) -> None:
    """Euros received (a paid Checkout Session, a bank transfer): FED into a card, user or place wallet."""
    body: FedMint = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_receiving_wallet(overlay, body.wallet, place_ok=True)
    use_reference(overlay, body.payment_ref, "payment_ref", tx.txid)
    book.mint(body.wallet, fed_asset(overlay), body.amount)
    count_backing(book, minted=body.amount)


def payout_hold(book: Book, tx: Tx) -> None:
    """A place's own FED set aside for a payout to its bank: not spendable until burnt or released."""
    body: PayoutHold = tx.body  # type: ignore[assignment]
    place = place_of_signer(book.overlay, tx.signer)
    _hold(book, Hold(body.hold_ref, place.wallet, body.amount, place.id, None, HOLD_HELD, None))


def refund_hold(book: Book, tx: Tx) -> None:
    """A user's or card's FED set aside, by a place, for a refund to the bank card that paid it.

    A lost card's wallet may be refunded this way (its money is otherwise stuck); a place's
    wallet may not (a place's FED leaves through a payout).
    """
    body: RefundHold = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    info = overlay.record(layout.wallet(body.wallet), WalletInfo)
    if info is not None and info.kind == WALLET_PLACE:
        raise Rejected("place_wallet", f"field wallet {body.wallet.hex()} belongs to a place: "
                       "a place's FED leaves through a payout hold")
    _hold(book, Hold(body.hold_ref, body.wallet, body.amount, place.id, body.payment_intent, HOLD_HELD, None))


def _hold(book: Book, hold: Hold) -> None:
    key = layout.hold(hold.reference)
    if book.overlay.has(key):
        raise Rejected("reference_used", f"field hold_ref {hold.reference!r} was already used")
    fed = fed_asset(book.overlay)
    book.debit(hold.wallet, fed, hold.amount)
    book.adjust_held(fed.id, hold.amount)
    book.overlay.put(key, hold)
    _count_on_hold(book.overlay, hold.wallet, hold.amount)


def _count_on_hold(overlay: Overlay, wallet_id: bytes, delta: int) -> None:
    """The per-wallet total on hold (``onhold/<wallet>``): what a place must settle before it is archived."""
    key = layout.on_hold(wallet_id)
    left = (overlay.record(key, Amount) or Amount(0)).value + delta
    if left:
        overlay.put(key, Amount(left))
    else:
        overlay.delete(key)


def require_held(overlay: Overlay, reference: str) -> Hold:
    """The hold named by ``reference``, still waiting for the treasury."""
    hold = overlay.record(layout.hold(reference), Hold)
    if hold is None:
        raise Rejected("unknown_hold", f"field hold_ref {reference!r}: no hold has this reference")
    if hold.state != HOLD_HELD:
        raise Rejected("hold_settled", f"hold {reference!r} was already {hold.state}")
    return hold


def fed_burn(book: Book, tx: Tx) -> None:
    """The treasury attests that the held FED was paid out (transfer or refund ``stripe_id``): burnt."""
    body: FedBurn = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    hold = require_held(overlay, body.hold_ref)
    if body.amount != hold.amount:
        raise Rejected("amount_mismatch", f"field amount {body.amount} differs from the {hold.amount} held "
                       f"under {hold.reference!r}")
    use_reference(overlay, body.stripe_id, "stripe_id", tx.txid)
    fed = fed_asset(overlay)
    book.adjust_held(fed.id, -hold.amount)
    book.count_supply(fed.id, burnt=hold.amount)
    count_backing(book, burnt=hold.amount)
    overlay.put(layout.hold(hold.reference), replace(hold, state=HOLD_BURNT, paid_by=body.stripe_id))
    _count_on_hold(overlay, hold.wallet, -hold.amount)


def fed_release(book: Book, tx: Tx) -> None:
    """The treasury attests that the payout failed (nothing left the account): the hold goes back."""
    body: FedRelease = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    hold = require_held(overlay, body.hold_ref)
    fed = fed_asset(overlay)
    book.adjust_held(fed.id, -hold.amount)
    book.credit(hold.wallet, fed, hold.amount)
    overlay.put(layout.hold(hold.reference), replace(hold, state=HOLD_RELEASED))
    _count_on_hold(overlay, hold.wallet, -hold.amount)
