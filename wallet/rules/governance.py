"""Governance: places, assets, federations, validators and parameters.

Every kind here is signed by one of the federation's authority keys (the
``authorities`` of the genesis document).
"""

from __future__ import annotations

from dataclasses import replace

from wallet import layout
from wallet.bodies import (AdmitValidator, ArchiveAsset, ArchivePlace, CreateAsset, CreateFederation,
                           CreatePlace, FederationAsset, FederationPlace, FundPayout, RemoveValidator,
                           SetParams)
from wallet.book import Book
from wallet.errors import Rejected
from wallet.records import (WALLET_PLACE, Asset, Federation, Place, Pointer, Supply, Validator,
                            WalletInfo)
from wallet.rules.common import (find_asset, find_place, require_asset, require_authority, require_money,
                                 require_place, require_validator)
from wallet.rules.staking import start_unbonding
from wallet.state import Overlay
from wallet.tx import Tx


def create_place(book: Book, tx: Tx) -> None:
    body: CreatePlace = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_authority(overlay, tx.signer)
    add_place(overlay, body.place_id, body.name, body.public_key)


def add_place(overlay: Overlay, place_id: str, name: str, public_key: bytes) -> Place:
    """Create a place with its wallet and key index (also used by genesis)."""
    if find_place(overlay, place_id) is not None:
        raise Rejected("duplicate_place", f"place {place_id!r} already exists")
    if overlay.has(layout.place_by_key(public_key)):
        raise Rejected("duplicate_key", f"public_key {public_key.hex()} is already the key of a place")
    place = Place(place_id, name, layout.place_wallet_id(place_id), public_key, False, ())
    overlay.put(layout.place(place_id), place)
    overlay.put(layout.place_by_key(public_key), Pointer(place_id))
    overlay.put(layout.wallet(place.wallet), WalletInfo(WALLET_PLACE, None))
    return place


def archive_place(book: Book, tx: Tx) -> None:
    body: ArchivePlace = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_authority(overlay, tx.signer)
    place = require_place(overlay, body.place_id)
    overlay.put(layout.place(place.id), replace(place, archived=True))
    overlay.delete(layout.place_by_key(place.public_key))


def create_asset(book: Book, tx: Tx) -> None:
    body: CreateAsset = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_authority(overlay, tx.signer)
    if body.category == "FED":
        raise Rejected("duplicate_fed", "field category: there is exactly one FED asset, made at genesis")
    if body.origin_place is None:
        raise Rejected("bad_field", "field origin_place is required for every asset but FED")
    require_place(overlay, body.origin_place, "origin_place")
    add_asset(overlay, Asset(body.asset_id, body.name, body.category, body.origin_place, body.melting, False))


def add_asset(overlay: Overlay, asset: Asset) -> None:
    """Create an asset with zero supply (also used by genesis)."""
    if find_asset(overlay, asset.id) is not None:
        raise Rejected("duplicate_asset", f"asset {asset.id!r} already exists")
    overlay.put(layout.asset(asset.id), asset)
    overlay.put(layout.supply(asset.id), Supply(0, 0, 0))
    if asset.category == "FED":
        overlay.put(layout.FED_ASSET, Pointer(asset.id))


def archive_asset(book: Book, tx: Tx) -> None:
    body: ArchiveAsset = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_authority(overlay, tx.signer)
    asset = require_asset(overlay, body.asset_id)
    if asset.category == "FED":
        raise Rejected("archive_fed", "asset_id: the FED asset cannot be archived")
    overlay.put(layout.asset(asset.id), replace(asset, archived=True))


def create_federation(book: Book, tx: Tx) -> None:
    body: CreateFederation = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_authority(overlay, tx.signer)
    add_federation(overlay, body.federation_id, body.name)


def add_federation(overlay: Overlay, federation_id: str, name: str) -> None:
    if overlay.has(layout.federation(federation_id)):
        raise Rejected("duplicate_federation", f"federation {federation_id!r} already exists")
    overlay.put(layout.federation(federation_id), Federation(federation_id, name, (), ()))


def _require_federation(overlay: Overlay, federation_id: str) -> Federation:
    federation = overlay.record(layout.federation(federation_id), Federation)
    if federation is None:
        raise Rejected("unknown_federation", f"federation {federation_id!r} does not exist")
    return federation


def _with(items: tuple[str, ...], item: str, include: bool, what: str, owner: str) -> tuple[str, ...]:
    """``items`` with ``item`` added (sorted) or removed; Rejected when that changes nothing."""
    if include == (item in items):
        state = "already" if include else "not"
        raise Rejected("no_change", f"{what} {item!r} is {state} in {owner}")
    return tuple(sorted(set(items) | {item})) if include else tuple(x for x in items if x != item)


def federation_place(book: Book, tx: Tx) -> None:
    body: FederationPlace = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_authority(overlay, tx.signer)
    set_federation_place(overlay, body.federation_id, body.place_id, body.include)


def set_federation_place(overlay: Overlay, federation_id: str, place_id: str, include: bool) -> None:
    """Add or remove a place, keeping the place's own list of federations in step."""
    federation = _require_federation(overlay, federation_id)
    place = require_place(overlay, place_id)
    places = _with(federation.places, place_id, include, "place", f"federation {federation_id!r}")
    overlay.put(layout.federation(federation_id), replace(federation, places=places))
    memberships = _with(place.federations, federation_id, include, "federation", f"place {place_id!r}")
    overlay.put(layout.place(place.id), replace(place, federations=memberships))


def federation_asset(book: Book, tx: Tx) -> None:
    body: FederationAsset = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_authority(overlay, tx.signer)
    set_federation_asset(overlay, body.federation_id, body.asset_id, body.include)


def set_federation_asset(overlay: Overlay, federation_id: str, asset_id: str, include: bool) -> None:
    federation = _require_federation(overlay, federation_id)
    if include:
        require_asset(overlay, asset_id)
    assets = _with(federation.assets, asset_id, include, "asset", f"federation {federation_id!r}")
    overlay.put(layout.federation(federation_id), replace(federation, assets=assets))


def admit_validator(book: Book, tx: Tx) -> None:
    body: AdmitValidator = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_authority(overlay, tx.signer)
    require_place(overlay, body.place_id)
    existing = overlay.record(layout.validator(body.public_key), Validator)
    if existing is not None and existing.active and not existing.jailed:
        raise Rejected("no_change", f"validator {body.public_key.hex()} is already admitted")
    stake, unbonding = (0, 0) if existing is None else (existing.stake, existing.unbonding)
    overlay.put(layout.validator(body.public_key),
                Validator(body.public_key, body.place_id, stake, unbonding, False, True))


def remove_validator(book: Book, tx: Tx) -> None:
    """Remove a validator: its power drops to 0 and its stake starts unbonding."""
    body: RemoveValidator = tx.body  # type: ignore[assignment]
    require_authority(book.overlay, tx.signer)
    validator = require_validator(book.overlay, body.public_key)
    validator = start_unbonding(book, validator, validator.stake)
    book.overlay.put(layout.validator(validator.public_key), replace(validator, active=False))


_FUND_POOLS = {"common": layout.POOL_COMMON, "dev": layout.POOL_DEV}


def fund_payout(book: Book, tx: Tx) -> None:
    body: FundPayout = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    require_authority(overlay, tx.signer)
    asset = require_money(overlay, body.asset_id)
    available = book.pool(_FUND_POOLS[body.fund], asset.id)
    if body.amount > available:
        raise Rejected("overdraft", f"the {body.fund} fund holds {available} {asset.id}, {body.amount} requested")
    book.add_to_pool(_FUND_POOLS[body.fund], asset.id, -body.amount)
    book.credit(body.to_wallet, asset, body.amount)


def set_params(book: Book, tx: Tx) -> None:
    body: SetParams = tx.body  # type: ignore[assignment]
    require_authority(book.overlay, tx.signer)
    book.overlay.put(layout.PARAMS, book.params.with_changes(list(body.changes)))
