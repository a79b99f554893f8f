"""Money in, money moving, money out: refills, mint, sales, transfers, refunds, deposits.

Signers: a place's key (its POS terminals) for refills, sales by card,
settlements, refunds (cash or to the bank card) and bank deposits; a user's
key for QR sales and transfers. FED enters only through refills (online
payment or cash) and leaves only through refunds and bank deposits, which
keeps the FED invariant. Online payment, bank-card refund and payout
references share one namespace and are each usable once, network-wide.
"""

from __future__ import annotations

from wallet import layout
from wallet.bodies import (BankDeposit, CashRefill, FedRefill, FedRefund, Mint, QrSale, Refund, Sale,
                           Settlement, Transfer)
from wallet.book import Book
from wallet.errors import Rejected
from wallet.records import WALLET_PLACE, Pointer, WalletInfo
from wallet.rules.common import (check_operator, fed_asset, is_authority, place_of_signer, require_accepts,
                                 require_active_card, require_money, require_place, require_receiving_wallet)
from wallet.state import Overlay
from wallet.tx import Tx


def use_reference(overlay: Overlay, reference: str, field: str, txid: bytes) -> None:
    """Spend a payment, refund or payout reference: once network-wide, remembered forever."""
    key = layout.payment_ref(reference)
    if overlay.has(key):
        raise Rejected("reference_used", f"field {field} {reference!r} was already used")
    overlay.put(key, Pointer(txid))


def require_place_or_authority(overlay: Overlay, signer: bytes) -> None:
    """Online money (refills, bank-card refunds) is vouched for by a place's or an authority's key."""
    if not is_authority(overlay, signer):
        place_of_signer(overlay, signer)


def fed_refill(book: Book, tx: Tx) -> None:
    """FED paid online (e.g. a Stripe checkout), vouched for by a place's or an authority's key."""
    body: FedRefill = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_place_or_authority(overlay, tx.signer)
    require_receiving_wallet(overlay, body.wallet)
    use_reference(overlay, body.payment_ref, "payment_ref", tx.txid)
    book.mint(body.wallet, fed_asset(overlay), body.amount)
    book.count_fed(refilled=body.amount)


def cash_refill(book: Book, tx: Tx) -> None:
    """Cash paid at a place: FED, or the place's own local asset."""
    body: CashRefill = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    asset = require_money(overlay, body.asset_id)
    is_fed = asset.category == "FED"
    if not is_fed and asset.origin_place != place.id:
        raise Rejected("not_origin", f"place {place.id!r} can sell FED or its own assets for cash, "
                       f"not {asset.id!r} of {asset.origin_place!r}")
    require_receiving_wallet(overlay, body.wallet)
    book.mint(body.wallet, asset, body.amount)
    if is_fed:
        book.count_fed(refilled=body.amount)


def mint(book: Book, tx: Tx) -> None:
    """A place issues its own local asset into its own wallet."""
    body: Mint = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    asset = require_money(overlay, body.asset_id)
    if asset.origin_place != place.id:
        raise Rejected("not_origin", f"asset {asset.id!r} can only be minted by its origin place "
                       f"{asset.origin_place!r}, not {place.id!r}")
    book.mint(place.wallet, asset, body.amount)


def sale(book: Book, tx: Tx) -> None:
    """The hot path: an active card pays a place that accepts the asset."""
    body: Sale = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    check_operator(overlay, place, body.operator)
    asset = require_money(overlay, body.asset_id)
    require_accepts(overlay, place, asset)
    card = require_active_card(overlay, body.uid)
    book.transfer(card.paying_wallet, place.wallet, asset, body.amount)


def qr_sale(book: Book, tx: Tx) -> None:
    body: QrSale = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = require_place(overlay, body.place_id)
    asset = require_money(overlay, body.asset_id)
    require_accepts(overlay, place, asset)
    book.transfer(tx.signer, place.wallet, asset, body.amount)


def transfer(book: Book, tx: Tx) -> None:
    """User wallet -> another wallet (a user's or a card's), signed by the sender."""
    body: Transfer = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    if body.to_wallet == tx.signer:
        raise Rejected("self_transfer", "field to_wallet is the signer's own wallet")
    asset = require_money(overlay, body.asset_id)
    require_receiving_wallet(overlay, body.to_wallet)
    book.transfer(tx.signer, body.to_wallet, asset, body.amount)


def settlement(book: Book, tx: Tx) -> None:
    """Place -> place, signed by the paying place; the receiver must accept the asset."""
    body: Settlement = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    payer = place_of_signer(overlay, tx.signer)
    payee = require_place(overlay, body.to_place, "to_place")
    if payee.id == payer.id:
        raise Rejected("self_transfer", "field to_place is the signer's own place")
    asset = require_money(overlay, body.asset_id)
    require_accepts(overlay, payee, asset)
    book.transfer(payer.wallet, payee.wallet, asset, body.amount)


def refund(book: Book, tx: Tx) -> None:
    """A place pays back part of a card's balance in cash; the tokens are burnt."""
    body: Refund = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    check_operator(overlay, place, body.operator)
    asset = require_money(overlay, body.asset_id)
    require_accepts(overlay, place, asset)
    card = require_active_card(overlay, body.uid)
    book.burn(card.paying_wallet, asset, body.amount)
    if asset.category == "FED":
        book.count_fed(refunded=body.amount)


def fed_refund(book: Book, tx: Tx) -> None:
    """FED refunded to the bank card that paid (e.g. a Stripe refund): burnt from the wallet, reference once."""
    body: FedRefund = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_place_or_authority(overlay, tx.signer)
    info = overlay.record(layout.wallet(body.wallet), WalletInfo)
    if info is not None and info.kind == WALLET_PLACE:
        raise Rejected("place_wallet", f"field wallet {body.wallet.hex()} belongs to a place: "
                       "a place's FED leaves through a bank deposit")
    use_reference(overlay, body.refund_ref, "refund_ref", tx.txid)
    book.burn(body.wallet, fed_asset(overlay), body.amount)
    book.count_fed(refunded=body.amount)


def bank_deposit(book: Book, tx: Tx) -> None:
    """A place's FED leaves the system to its bank account (payout reference usable once)."""
    body: BankDeposit = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    use_reference(overlay, body.payout_ref, "payout_ref", tx.txid)
    book.burn(place.wallet, fed_asset(overlay), body.amount)
    book.count_fed(deposited=body.amount)
