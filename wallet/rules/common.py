"""Look-ups shared by the rules: each returns a live object or raises a precise Rejected."""

from __future__ import annotations

from wallet import layout
from wallet.errors import Rejected
from wallet.params import LedgerParams
from wallet.fields import MAX_COSIGNERS
from wallet.records import (CARD_ACTIVE, NON_MONEY_CATEGORIES, WALLET_CARD, WALLET_PLACE, Asset, Card, Federation,
                            KeySet, Place, PlacePolicy, Pointer, Validator, WalletInfo)
from wallet.state import Overlay
from wallet.tx import Tx


def params(overlay: Overlay) -> LedgerParams:
    record = overlay.record(layout.PARAMS, LedgerParams)
    if record is None:
        raise ValueError("state has no chain parameters: was it built by genesis_state?")
    return record


def key_set(overlay: Overlay, name: str) -> KeySet:
    record = overlay.record(layout.key_set(name), KeySet)
    if record is None:
        raise Rejected(f"no_{name}", f"this chain has no {name} key set")
    return record


def require_threshold(overlay: Overlay, name: str, tx: Tx) -> KeySet:
    """Every co-signer of ``tx`` belongs to key set ``name``, and at least its threshold signed.

    Codes: ``not_<name>`` (a signer outside the set), ``duplicate_signer``,
    ``below_threshold``. The signatures themselves are verified before the rules run.
    """
    keys = key_set(overlay, name)
    for signer in tx.signers:
        if signer not in keys.keys:
            raise Rejected(f"not_{name}", f"signer {signer.hex()} is not one of the {len(keys.keys)} {name} keys")
    distinct = len(set(tx.signers))
    if distinct != len(tx.signers):
        raise Rejected("duplicate_signer", f"a key signed {tx.kind} {tx.txid.hex()} more than once")
    if distinct < keys.threshold:
        raise Rejected("below_threshold", f"{distinct} of the {len(keys.keys)} {name} keys signed {tx.kind}, "
                       f"{keys.threshold} needed")
    return keys


def checked_key_set(name: str, keys: tuple[bytes, ...], threshold: int) -> KeySet:
    """A usable key set: 1 to MAX_COSIGNERS distinct keys, sorted, and 1 <= threshold <= their number."""
    if not 1 <= len(keys) <= MAX_COSIGNERS or len(set(keys)) != len(keys):
        raise Rejected("bad_key_set", f"the {name} key set needs 1 to {MAX_COSIGNERS} distinct keys, "
                       f"got {len(keys)} ({len(set(keys))} distinct)")
    if not 1 <= threshold <= len(keys):
        raise Rejected("bad_key_set", f"the {name} threshold must be from 1 to the number of keys "
                       f"({len(keys)}), got {threshold}")
    return KeySet(tuple(sorted(keys)), threshold)


def place_of_signer(overlay: Overlay, signer: bytes) -> Place:
    """The live place whose key signed (sales, refills, cards are signed by a place's POS key)."""
    pointer = overlay.record(layout.place_by_key(signer), Pointer)
    if pointer is None:
        raise Rejected("not_place", f"signer {signer.hex()} is not the key of any place")
    return require_place(overlay, pointer.target, "signer's place")


def check_operator(overlay: Overlay, place: Place, operator: bytes | None) -> None:
    """The operator card named on a sale, refund or void: an active primary card of ``place``;
    required when the place's policy says so (``operator_required``, ``not_operator``)."""
    if operator is None:
        policy = overlay.record(layout.place_policy(place.id), PlacePolicy)
        if policy is not None and policy.require_operator:
            raise Rejected("operator_required", f"place {place.id!r} requires an operator card "
                           "(one of its primary cards) on sales, refunds and voids: field operator")
        return
    card = overlay.record(layout.card(operator), Card)
    if card is None or card.state != CARD_ACTIVE or place.id not in card.primary_places:
        state = "not registered" if card is None else card.state if card.state != CARD_ACTIVE \
            else "not one of its primary cards"
        raise Rejected("not_operator", f"field operator: card {operator.hex()} cannot operate for place "
                       f"{place.id!r} ({state})")


def find_place(overlay: Overlay, place_id: str) -> Place | None:
    return overlay.record(layout.place(place_id), Place)


def require_place(overlay: Overlay, place_id: str, role: str = "place") -> Place:
    place = find_place(overlay, place_id)
    if place is None:
        raise Rejected("unknown_place", f"{role} {place_id!r} does not exist")
    if place.archived:
        raise Rejected("archived_place", f"{role} {place_id!r} is archived")
    return place


def find_asset(overlay: Overlay, asset_id: str) -> Asset | None:
    return overlay.record(layout.asset(asset_id), Asset)


def require_asset(overlay: Overlay, asset_id: str) -> Asset:
    """A live asset: known and not archived."""
    asset = find_asset(overlay, asset_id)
    if asset is None:
        raise Rejected("unknown_asset", f"asset {asset_id!r} does not exist")
    if asset.archived:
        raise Rejected("archived_asset", f"asset {asset_id!r} is archived")
    return asset


def require_money(overlay: Overlay, asset_id: str) -> Asset:
    """A live asset that has balances (not a badge nor a membership)."""
    asset = require_asset(overlay, asset_id)
    if asset.category in NON_MONEY_CATEGORIES:
        raise Rejected("not_money", f"asset {asset_id!r} is a {asset.category} asset: it has no balances")
    return asset


def require_category(asset: Asset, category: str) -> Asset:
    if asset.category != category:
        raise Rejected("wrong_category", f"asset {asset.id!r} is {asset.category}, {category} needed")
    return asset


def fed_asset(overlay: Overlay) -> Asset:
    pointer = overlay.record(layout.FED_ASSET, Pointer)
    if pointer is None:
        raise ValueError("state has no FED asset: was it built by genesis_state?")
    return require_asset(overlay, pointer.target)


def accepts(overlay: Overlay, place: Place, asset: Asset) -> bool:
    """A place accepts its own assets and those of every federation it belongs to."""
    if asset.origin_place == place.id:
        return True
    for federation_id in place.federations:
        federation = overlay.record(layout.federation(federation_id), Federation)
        if federation is not None and asset.id in federation.assets:
            return True
    return False


def require_accepts(overlay: Overlay, place: Place, asset: Asset) -> None:
    if not accepts(overlay, place, asset):
        raise Rejected("asset_not_accepted", f"place {place.id!r} does not accept asset {asset.id!r} "
                       "(neither its own nor one of its federations')")


def require_card(overlay: Overlay, uid: bytes) -> Card:
    card = overlay.record(layout.card(uid), Card)
    if card is None:
        raise Rejected("unknown_card", f"card {uid.hex()} is not registered")
    return card


def require_active_card(overlay: Overlay, uid: bytes) -> Card:
    card = require_card(overlay, uid)
    if card.state != CARD_ACTIVE:
        raise Rejected(f"card_{card.state}", f"card {uid.hex()} is {card.state}")
    return card


def require_validator(overlay: Overlay, public_key: bytes) -> Validator:
    validator = overlay.record(layout.validator(public_key), Validator)
    if validator is None or not validator.active:
        raise Rejected("not_validator", f"key {public_key.hex()} is not an admitted validator")
    return validator


def require_receiving_wallet(overlay: Overlay, wallet_id: bytes, *, place_ok: bool = False) -> None:
    """A wallet that may receive money: not a dead card's, and not a place's unless ``place_ok``.

    Money sent to the wallet of a lost or voided card could never be spent again; places
    receive money from cards and users through sales, from each other through settlements,
    and from the treasury (``place_ok``) when they buy FED float.
    """
    info = overlay.record(layout.wallet(wallet_id), WalletInfo)
    if info is None:
        return
    if info.kind == WALLET_PLACE and not place_ok:
        raise Rejected("place_wallet", f"wallet {wallet_id.hex()} belongs to a place: "
                       "use a settlement between places")
    if info.kind == WALLET_CARD and info.card is not None:
        card = require_card(overlay, info.card)
        if card.state != CARD_ACTIVE:
            raise Rejected(f"card_{card.state}", f"wallet {wallet_id.hex()} belongs to card "
                           f"{card.uid.hex()}, which is {card.state}")
