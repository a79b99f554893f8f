"""NFC cards: registration, linking to a user wallet, loss, voiding, primary cards.

A card's UID names an anonymous card wallet; once linked, the card spends from
its owner's wallet. Only an active card can pay or be linked.
"""

from __future__ import annotations

from dataclasses import replace

from wallet import layout
from wallet.bodies import LinkCard, LostCard, RegisterCards, SetPrimaryCard, VoidCard
from wallet.book import Book
from wallet.errors import Rejected
from wallet.records import (CARD_ACTIVE, CARD_LOST, CARD_VOIDED, WALLET_CARD, WALLET_USER, Card, Pointer,
                            WalletInfo)
from wallet.rules.common import check_operator, place_of_signer, require_active_card, require_card
from wallet.rules.payments import take_back
from wallet.tx import Tx


def register_cards(book: Book, tx: Tx) -> None:
    body: RegisterCards = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    for index, (uid, number, qr_id) in enumerate(body.cards):
        where = f"cards[{index}]"
        if overlay.has(layout.card(uid)):
            raise Rejected("duplicate_card", f"{where}.uid {uid.hex()} is already registered")
        if overlay.has(layout.card_by_number(number)):
            raise Rejected("duplicate_card", f"{where}.number {number} is already printed on another card")
        if overlay.has(layout.card_by_qr(qr_id)):
            raise Rejected("duplicate_card", f"{where}.qr_id {qr_id.hex()} is already used by another card")
        wallet_id = layout.card_wallet_id(uid)
        overlay.put(layout.card(uid), Card(uid, number, qr_id, place.id, (), None, CARD_ACTIVE, wallet_id))
        overlay.put(layout.card_by_number(number), Pointer(uid))
        overlay.put(layout.card_by_qr(qr_id), Pointer(uid))
        overlay.put(layout.wallet(wallet_id), WalletInfo(WALLET_CARD, uid))


def link_card(book: Book, tx: Tx) -> None:
    """The signer's wallet becomes the card's owner; the card wallet's balances fuse into it."""
    body: LinkCard = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    index_key = layout.card_by_qr(body.card) if isinstance(body.card, bytes) else layout.card_by_number(body.card)
    pointer = overlay.record(index_key, Pointer)
    if pointer is None:
        shown = body.card.hex() if isinstance(body.card, bytes) else body.card
        raise Rejected("unknown_card", f"field card: no card has the QR id or number {shown}")
    card = require_active_card(overlay, pointer.target)
    if card.owner is not None:
        raise Rejected("card_owned", f"card {card.uid.hex()} is already linked to a wallet")
    overlay.put(layout.card(card.uid), replace(card, owner=tx.signer))
    overlay.put(layout.wallet(tx.signer), WalletInfo(WALLET_USER, card.uid))
    for asset in book.held_assets(card.wallet):
        amount = book.settled_balance(card.wallet, asset)
        if amount:
            book.transfer(card.wallet, tx.signer, asset, amount)


def lost_card(book: Book, tx: Tx) -> None:
    """Declared by the owner's key or the origin place: the card stops working for good.

    The balance stays in the owner's wallet (or, for an anonymous card, in the
    frozen card wallet, which the origin place can still refund by voiding).
    """
    body: LostCard = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    card = require_active_card(overlay, body.uid)
    if tx.signer != card.owner:
        place = place_of_signer(overlay, tx.signer)
        if place.id != card.origin_place:
            raise Rejected("wrong_signer", f"card {card.uid.hex()} can be declared lost by its owner or "
                           f"its origin place {card.origin_place!r}, not by place {place.id!r}")
    overlay.put(layout.card(card.uid), replace(card, state=CARD_LOST, owner=None, primary_places=()))


def void_card(book: Book, tx: Tx) -> None:
    """Refund in cash what the card wallet holds, then detach the card from its user and places.

    The voiding place pays the cash out: the card's FED goes into its float, its other
    tokens are burnt (as a cash refund does).

    Signed by the card's origin place or one of its primary places; a lost card
    can still be voided, so the money of a lost anonymous card is not stuck.
    """
    body: VoidCard = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    card = require_card(overlay, body.uid)
    if card.state == CARD_VOIDED:
        raise Rejected("card_voided", f"card {card.uid.hex()} is already voided")
    place = place_of_signer(overlay, tx.signer)
    check_operator(overlay, place, body.operator)
    if place.id != card.origin_place and place.id not in card.primary_places:
        raise Rejected("wrong_signer", f"place {place.id!r} is neither the origin nor a primary place "
                       f"of card {card.uid.hex()}")
    for asset in book.held_assets(card.wallet):
        amount = book.settled_balance(card.wallet, asset)  # after any demurrage due
        if amount:
            take_back(book, place, card.wallet, asset, amount)
    overlay.put(layout.card(card.uid), replace(card, state=CARD_VOIDED, owner=None, primary_places=()))


def set_primary_card(book: Book, tx: Tx) -> None:
    body: SetPrimaryCard = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    card = require_active_card(overlay, body.uid)
    if body.primary == (place.id in card.primary_places):
        state = "already" if body.primary else "not"
        raise Rejected("no_change", f"card {card.uid.hex()} is {state} a primary card of place {place.id!r}")
    places = card.primary_places + (place.id,) if body.primary \
        else tuple(x for x in card.primary_places if x != place.id)
    overlay.put(layout.card(card.uid), replace(card, primary_places=places))
