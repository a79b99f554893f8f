"""Governance: places, assets, federations, validators, parameters and the key sets.

Every kind here but ``rotate_place_key`` and ``place_policy`` (a place's own) is
co-signed by a threshold of the federation's authority keys (``Body.KEY_SET``);
:func:`wallet.execute.apply_tx` checks the signers and the threshold
(:func:`require_threshold`) before the rule runs, so no rule here can be reached
with fewer signatures. A place rotates its
own key with its current key; a lost key is replaced by the authorities.
"""

from __future__ import annotations

from dataclasses import replace

from wallet import layout, protocol
from wallet.bodies import (AdmitValidator, ArchiveAsset, ArchivePlace, CreateAsset, CreateFederation,
                           CreatePlace, FederationAsset, FederationPlace, FundPayout, RemoveValidator,
                           ScheduleUpgrade, SetPlacePolicy, ReplacePlaceKey, RotatePlaceKey, SetKeys, SetParams)
from wallet.book import Book
from wallet.errors import Rejected
from wallet.records import (WALLET_PLACE, Amount, Asset, Federation, OfflineBondRecord, Place, PlacePolicy, Pointer,
                            Supply, Validator, WalletInfo)
from wallet.rules.common import (checked_key_set, find_asset, find_place, place_of_signer, require_asset,
                                 require_money, require_place, require_receiving_wallet, require_validator)
from wallet.rules.staking import start_unbonding
from wallet.state import Overlay
from wallet.tx import Tx


def create_place(book: Book, tx: Tx) -> None:
    body: CreatePlace = tx.body  # type: ignore[assignment]
    overlay = book.overlay
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
    """Archive a place; every balance left in its wallet moves to the wallet named for its asset.

    A balance without a destination refuses the whole archive (``place_not_empty``):
    an archived place's key signs nothing more, so money left there would be stuck.
    """
    body: ArchivePlace = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = require_place(overlay, body.place_id)
    on_hold = overlay.record(layout.on_hold(place.wallet), Amount)
    if on_hold is not None:
        raise Rejected("funds_on_hold", f"place {place.id!r} has {on_hold.value} FED on hold for a payout: "
                       "the treasury must burn or release it before the place is archived")
    bond = overlay.record(layout.offline_bond(place.wallet), OfflineBondRecord)
    if bond is not None:
        raise Rejected("offline_bond", f"place {place.id!r} has an offline bond of {bond.total} FED: it must "
                       "give notice (offline_unbond) and wait for its release before the place is archived")
    destinations = dict(body.destinations)
    if len(destinations) != len(body.destinations):
        raise Rejected("bad_field", "field destinations names an asset more than once")
    for asset in book.held_assets(place.wallet):
        amount = book.settled_balance(place.wallet, asset)
        if amount == 0:
            continue  # melted away while settling
        target = destinations.get(asset.id)
        if target is None:
            raise Rejected("place_not_empty", f"place {place.id!r} still holds {amount} {asset.id}: "
                           "field destinations must name the wallet that receives it")
        book.transfer(place.wallet, _destination_wallet(overlay, place, target), asset, amount)
    overlay.put(layout.place(place.id), replace(place, archived=True))
    overlay.delete(layout.place_by_key(place.public_key))


def _destination_wallet(overlay: Overlay, place: Place, target: bytes | str) -> bytes:
    """The wallet of a live other place (named by id), or a wallet that may receive money."""
    if isinstance(target, str):
        if target == place.id:
            raise Rejected("bad_destination", f"field destinations names the archived place {place.id!r} itself")
        return require_place(overlay, target, "destination place").wallet
    require_receiving_wallet(overlay, target)
    return target


def rotate_place_key(book: Book, tx: Tx) -> None:
    """A place replaces its key, signed with the key it replaces."""
    body: RotatePlaceKey = tx.body  # type: ignore[assignment]
    place = require_place(book.overlay, body.place_id)
    if tx.signer != place.public_key:
        raise Rejected("wrong_signer", f"only the current key of place {place.id!r} can rotate it "
                       f"(the authorities replace a lost key), not {tx.signer.hex()}")
    set_place_key(book.overlay, place, body.public_key)


def replace_place_key(book: Book, tx: Tx) -> None:
    """The authorities give a place a new key (its old one is lost or stolen)."""
    body: ReplacePlaceKey = tx.body  # type: ignore[assignment]
    set_place_key(book.overlay, require_place(book.overlay, body.place_id), body.public_key)


def set_place_key(overlay: Overlay, place: Place, public_key: bytes) -> None:
    """Move a place and its key index to a new key; the old key signs nothing more for it."""
    if overlay.has(layout.place_by_key(public_key)):
        raise Rejected("duplicate_key", f"public_key {public_key.hex()} is already the key of a place")
    overlay.delete(layout.place_by_key(place.public_key))
    overlay.put(layout.place_by_key(public_key), Pointer(place.id))
    overlay.put(layout.place(place.id), replace(place, public_key=public_key))


def place_policy(book: Book, tx: Tx) -> None:
    """A place sets its own rules for its tills (signed with its key)."""
    body: SetPlacePolicy = tx.body  # type: ignore[assignment]
    place = place_of_signer(book.overlay, tx.signer)
    key = layout.place_policy(place.id)
    if (book.overlay.record(key, PlacePolicy) or PlacePolicy(False)) == PlacePolicy(body.require_operator):
        raise Rejected("no_change", f"place {place.id!r} already has this policy")
    book.overlay.put(key, PlacePolicy(body.require_operator))


def set_keys(book: Book, tx: Tx) -> None:
    """Replace a key set and its threshold (the current authority threshold signed it)."""
    body: SetKeys = tx.body  # type: ignore[assignment]
    book.overlay.put(layout.key_set(body.key_set), checked_key_set(body.key_set, body.keys, body.threshold))


def create_asset(book: Book, tx: Tx) -> None:
    body: CreateAsset = tx.body  # type: ignore[assignment]
    overlay = book.overlay
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
    asset = require_asset(overlay, body.asset_id)
    if asset.category == "FED":
        raise Rejected("archive_fed", "asset_id: the FED asset cannot be archived")
    overlay.put(layout.asset(asset.id), replace(asset, archived=True))


def create_federation(book: Book, tx: Tx) -> None:
    body: CreateFederation = tx.body  # type: ignore[assignment]
    overlay = book.overlay
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
    validator = require_validator(book.overlay, body.public_key)
    validator = start_unbonding(book, validator, validator.stake)
    book.overlay.put(layout.validator(validator.public_key), replace(validator, active=False))


_FUND_POOLS = {"common": layout.POOL_COMMON, "dev": layout.POOL_DEV}


def fund_payout(book: Book, tx: Tx) -> None:
    body: FundPayout = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    asset = require_money(overlay, body.asset_id)
    available = book.pool(_FUND_POOLS[body.fund], asset.id)
    if body.amount > available:
        raise Rejected("overdraft", f"the {body.fund} fund holds {available} {asset.id}, {body.amount} requested")
    book.add_to_pool(_FUND_POOLS[body.fund], asset.id, -body.amount)
    book.credit(body.to_wallet, asset, body.amount)


def schedule_upgrade(book: Book, tx: Tx) -> None:
    body: ScheduleUpgrade = tx.body  # type: ignore[assignment]
    protocol.schedule(book.overlay, book.height, body.version, body.height)


def set_params(book: Book, tx: Tx) -> None:
    body: SetParams = tx.body  # type: ignore[assignment]
    book.overlay.put(layout.PARAMS, book.params.with_changes(list(body.changes)))
