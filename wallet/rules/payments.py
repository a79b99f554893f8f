"""Money moving: cash refills, a place's own asset, sales, transfers, settlements, cash refunds.

Signers: a place's key (its POS terminals) for cash refills, sales by card,
settlements and cash refunds; a user's key for QR sales and transfers. None of
these creates or destroys FED (wallet/rules/treasury.py does, with the
treasury's threshold): a venue sells FED for cash from its own float (FED it
holds), and a cash refund of FED goes back into the float of the venue that
paid the cash out. A place's own local asset is minted and burnt by the place.
"""

from __future__ import annotations

from wallet.bodies import CashRefill, Mint, QrSale, Refund, Sale, Settlement, Transfer
from wallet.book import Book
from wallet.errors import Rejected
from wallet.records import Asset, Place
from wallet.rules.common import (check_operator, place_of_signer, require_accepts, require_active_card, require_money,
                                 require_place, require_receiving_wallet)
from wallet.tx import Tx


def is_fed(asset: Asset) -> bool:
    return asset.category == "FED"


def cash_refill(book: Book, tx: Tx) -> None:
    """Cash paid at a place: FED from the place's float, or the place's own local asset minted."""
    refill(book, place_of_signer(book.overlay, tx.signer), tx.body)  # type: ignore[arg-type]


def refill(book: Book, place: Place, body: CashRefill) -> None:
    """A cash refill by ``place`` (also what an offline one does when it is forwarded)."""
    overlay = book.overlay
    asset = require_money(overlay, body.asset_id)
    if not is_fed(asset) and asset.origin_place != place.id:
        raise Rejected("not_origin", f"place {place.id!r} can sell FED or its own assets for cash, "
                       f"not {asset.id!r} of {asset.origin_place!r}")
    require_receiving_wallet(overlay, body.wallet)
    if not is_fed(asset):
        book.mint(body.wallet, asset, body.amount)
        return
    require_float(book, place, asset, body.amount)
    book.transfer(place.wallet, body.wallet, asset, body.amount)


def require_float(book: Book, place: Place, fed: Asset, amount: int) -> None:
    """A venue sells FED only from FED it holds (its float): ``insufficient_float`` names it."""
    held = book.settled_balance(place.wallet, fed)
    if held < amount:
        raise Rejected("insufficient_float", f"place {place.id!r} holds {held} {fed.id} of float, "
                       f"{amount} needed: buy float from the treasury by bank transfer, or sell less")


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
    """A place pays back part of a card's balance in cash: FED goes into its float, its own tokens are burnt."""
    body: Refund = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    check_operator(overlay, place, body.operator)
    asset = require_money(overlay, body.asset_id)
    require_accepts(overlay, place, asset)
    card = require_active_card(overlay, body.uid)
    take_back(book, place, card.paying_wallet, asset, body.amount)


def take_back(book: Book, place: Place, wallet_id: bytes, asset: Asset, amount: int) -> None:
    """Money a place paid back in cash: FED into the place's float (it paid euros out), anything else burnt."""
    if is_fed(asset):
        book.transfer(wallet_id, place.wallet, asset, amount)
    else:
        book.burn(wallet_id, asset, amount)
