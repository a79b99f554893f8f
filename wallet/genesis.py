"""The state at height 0, built from the parsed genesis document (docs/contracts.md).

``wallet`` imports nothing of ``config``: :class:`GenesisDoc` states the
attributes read, which ``config.genesis`` objects (or test doubles) provide.
Genesis FED (validator stakes and FED balances) counts as minted with the
treasury's attestation, under the payment reference ``genesis``: the genesis is
signed off by the whole federation, so the FED backing invariant holds from height 0.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

from wallet import invariants, layout
from wallet.book import Book
from wallet.errors import Rejected
from wallet.params import LedgerParams
from wallet.records import (CARD_ACTIVE, WALLET_CARD, WALLET_USER, Asset, Card, KeySet, Membership, Pointer,
                            Validator, WalletInfo)
from wallet.rules.common import checked_key_set, require_asset, require_place
from wallet.rules.treasury import count_backing
from wallet.rules.governance import add_asset, add_federation, add_place, set_federation_asset, \
    set_federation_place
from wallet.state import DictReader, Overlay
from wallet.validators import current_powers, schedule

GENESIS_REFERENCE = "genesis"


class GenesisAsset(Protocol):
    id: str
    name: str
    category: str
    origin_place: str | None
    melting: bool


class GenesisPlace(Protocol):
    id: str
    name: str
    public_key: bytes


class GenesisFederation(Protocol):
    id: str
    name: str
    places: Sequence[str]
    assets: Sequence[str]


class GenesisValidator(Protocol):
    public_key: bytes
    place: str
    stake: int


class GenesisBalance(Protocol):
    owner: bytes
    asset: str
    amount: int


class GenesisCard(Protocol):
    uid: bytes
    number: str
    qr_id: bytes
    origin_place: str
    owner: bytes | None
    primary_places: Sequence[str]


class GenesisMembership(Protocol):
    wallet: bytes
    asset: str
    start_ms: int
    expiry_ms: int


class GenesisDoc(Protocol):
    chain_id: str
    genesis_time_ms: int
    authorities: Sequence[bytes]
    authority_threshold: int
    treasury: Sequence[bytes]
    treasury_threshold: int
    params: Any
    """Any object with the ChainParams attributes."""
    assets: Sequence[GenesisAsset]
    places: Sequence[GenesisPlace]
    federations: Sequence[GenesisFederation]
    validators: Sequence[GenesisValidator]
    balances: Sequence[GenesisBalance]
    cards: Sequence[GenesisCard]
    """Optional, like memberships: a document object without the attribute has none."""
    memberships: Sequence[GenesisMembership]


def _key_set(name: str, keys: Sequence[bytes], threshold: int) -> KeySet:
    try:
        return checked_key_set(name, tuple(keys), threshold)
    except Rejected as exc:
        raise Rejected("bad_genesis", exc.detail) from None


def genesis_state(doc: GenesisDoc) -> dict[bytes, bytes]:
    """Every key and value of the state at height 0; Rejected names what is inconsistent."""
    params = LedgerParams.from_object(doc.params)
    overlay = Overlay(DictReader())
    overlay.put(layout.PARAMS, params)
    overlay.put(layout.key_set("authority"), _key_set("authority", doc.authorities, doc.authority_threshold))
    overlay.put(layout.key_set("treasury"), _key_set("treasury", doc.treasury, doc.treasury_threshold))
    for place in doc.places:
        add_place(overlay, place.id, place.name, place.public_key)
    fed_ids = [asset.id for asset in doc.assets if asset.category == "FED"]
    if len(fed_ids) != 1:
        raise Rejected("bad_genesis", f"assets: exactly one FED asset is needed, got {len(fed_ids)}")
    for asset in doc.assets:
        if asset.origin_place is not None:
            require_place(overlay, asset.origin_place, f"asset {asset.id!r} origin_place")
        add_asset(overlay, Asset(asset.id, asset.name, asset.category, asset.origin_place, asset.melting, False))
    for federation in doc.federations:
        add_federation(overlay, federation.id, federation.name)
        for place_id in federation.places:
            set_federation_place(overlay, federation.id, place_id, True)
        for asset_id in federation.assets:
            set_federation_asset(overlay, federation.id, asset_id, True)
    book = Book(overlay, doc.genesis_time_ms, params)
    fed = require_asset(overlay, fed_ids[0])
    overlay.put(layout.payment_ref(GENESIS_REFERENCE), Pointer(b""))
    for validator in doc.validators:
        require_place(overlay, validator.place, f"validator {validator.public_key.hex()} place")
        if overlay.has(layout.validator(validator.public_key)):
            raise Rejected("bad_genesis", f"validator {validator.public_key.hex()} is listed twice")
        overlay.put(layout.validator(validator.public_key),
                    Validator(validator.public_key, validator.place, validator.stake, 0, False, True))
        book.count_supply(fed.id, minted=validator.stake)  # minted straight into locked stake
        book.adjust_held(fed.id, validator.stake)
        count_backing(book, minted=validator.stake)
    for balance in doc.balances:
        asset = require_asset(overlay, balance.asset)
        book.mint(balance.owner, asset, balance.amount)
        if asset.id == fed.id:
            count_backing(book, minted=balance.amount)
    book.flush()
    for card in getattr(doc, "cards", ()):
        _add_card(overlay, card)
    for membership in getattr(doc, "memberships", ()):
        _add_membership(overlay, membership)
    schedule(overlay, 1, current_powers(overlay, params), previous=0)
    invariants.check_full(overlay)
    return {key: value for key, value in overlay.changes().items() if value is not None}



def _add_card(overlay: Overlay, card: GenesisCard) -> None:
    """A card as registration and linking leave it (wallet/rules/cards.py), already linked if it has an owner."""
    where = f"card {card.uid.hex()}"
    require_place(overlay, card.origin_place, f"{where} origin_place")
    for place_id in card.primary_places:
        require_place(overlay, place_id, f"{where} primary place")
    for key in (layout.card(card.uid), layout.card_by_number(card.number), layout.card_by_qr(card.qr_id)):
        if overlay.has(key):
            raise Rejected("bad_genesis", f"{where}: its uid, number or QR id is already another card's")
    wallet_id = layout.card_wallet_id(card.uid)
    overlay.put(layout.card(card.uid), Card(card.uid, card.number, card.qr_id, card.origin_place,
                                            tuple(card.primary_places), card.owner, CARD_ACTIVE, wallet_id))
    overlay.put(layout.card_by_number(card.number), Pointer(card.uid))
    overlay.put(layout.card_by_qr(card.qr_id), Pointer(card.uid))
    overlay.put(layout.wallet(wallet_id), WalletInfo(WALLET_CARD, card.uid))
    if card.owner is not None:
        overlay.put(layout.wallet(card.owner), WalletInfo(WALLET_USER, card.uid))


def _add_membership(overlay: Overlay, membership: GenesisMembership) -> None:
    asset = require_asset(overlay, membership.asset)
    if asset.category != "SUB":
        raise Rejected("bad_genesis", f"membership in {asset.id}: not an asset of category SUB")
    overlay.put(layout.membership(membership.wallet, asset.id), Membership(membership.start_ms, membership.expiry_ms))
