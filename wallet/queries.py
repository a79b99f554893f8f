"""Read-only questions about committed state, for the HTTP API and tools.

Pure functions over a :class:`~wallet.state.StateReader`: they decode records
and never write. Lists come from sorted prefix scans, so their order is the
key order (ids, or wallet then asset), never a dict's. Nothing here decides
state: :func:`projected_amount` estimates demurrage for display only; the
ledger charges it at block time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from wallet import layout, melting
from wallet.params import LedgerParams
from wallet.records import (WALLET_PLACE, Amount, Asset, Badge, Balance, Card, FedBacking, Federation, Hold, KeySet,
                            Membership, OfflineBondRecord, OfflineRecord, Place, Pointer, Record, Supply, Validator,
                            WalletInfo)
from wallet.state import StateReader, read_all, read_one

R = TypeVar("R", bound=Record)

__all__ = [
    "AssetAmount", "asset", "assets", "badges", "balances", "card", "card_by_number", "card_by_qr",
    "federations", "fed_backing", "hold", "key_sets", "membership", "on_hold", "memberships", "params", "place",
    "pools",
    "place_by_key", "places", "projected_amount", "supply", "validators",
    "wallet_info", "demurrage_due", "offline_bond", "offline_record", "offline_records", "OfflineEntry",
]


@dataclass(frozen=True, slots=True)
class AssetAmount:
    """One balance of a wallet: the asset id and its record."""

    asset_id: str
    balance: Balance


def params(reader: StateReader) -> LedgerParams:
    """The chain parameters in force (governance may have changed the genesis ones)."""
    found = read_one(reader, layout.PARAMS, LedgerParams)
    if found is None:
        raise ValueError("state has no chain parameters: was it built by genesis_state?")
    return found


def key_sets(reader: StateReader) -> dict[str, KeySet]:
    """Every key set in force (``authority``, ``treasury``) by name, in name order."""
    return {key[len(layout.KEY_SET):].decode(): record for key, record in read_all(reader, layout.KEY_SET, KeySet)}


# -- cards -----------------------------------------------------------------------
def card(reader: StateReader, uid: bytes) -> Card | None:
    return read_one(reader, layout.card(uid), Card)


def _card_by_pointer(reader: StateReader, index_key: bytes) -> Card | None:
    pointer = read_one(reader, index_key, Pointer)
    return None if pointer is None else card(reader, pointer.target)


def card_by_number(reader: StateReader, number: str) -> Card | None:
    """The card whose printed number is ``number`` (8 characters)."""
    return _card_by_pointer(reader, layout.card_by_number(number))


def card_by_qr(reader: StateReader, qr_id: bytes) -> Card | None:
    """The card whose QR code carries ``qr_id`` (16 bytes)."""
    return _card_by_pointer(reader, layout.card_by_qr(qr_id))


# -- wallets ---------------------------------------------------------------------
def wallet_info(reader: StateReader, wallet_id: bytes) -> WalletInfo | None:
    return read_one(reader, layout.wallet(wallet_id), WalletInfo)


def balances(reader: StateReader, wallet_id: bytes) -> list[AssetAmount]:
    """Every non-zero balance of a wallet, by asset id."""
    return [AssetAmount(layout.split_balance(key)[1], record)
            for key, record in read_all(reader, layout.balances_of(wallet_id), Balance)]


def projected_amount(reader: StateReader, wallet_id: bytes, asset_id: str, now_ms: int) -> int:
    """What a balance would be after the demurrage due at ``now_ms`` (display only)."""
    record = read_one(reader, layout.balance(wallet_id, asset_id), Balance)
    if record is None:
        return 0
    found = asset(reader, asset_id)
    info = wallet_info(reader, wallet_id)
    if found is None or not found.melting or (info is not None and info.kind == WALLET_PLACE):
        return record.amount  # place wallets never melt (wallet.book.Book.melts)
    rate_ppm, idle_ms, period_ms = params(reader).melting_schedule(found.category)
    due = melting.periods_due(now_ms, record.last_activity_ms, idle_ms, period_ms)
    if due <= record.periods_charged:
        return record.amount
    return melting.melt(record.amount, rate_ppm, due - record.periods_charged)


def _by_asset(reader: StateReader, prefix: bytes, wallet_id: bytes, cls: type[R]) -> list[tuple[str, R]]:
    """(asset id, record) under a ``prefix + wallet id + asset id`` key family."""
    start = len(prefix) + len(wallet_id)
    return [(key[start:].decode(), record) for key, record in read_all(reader, prefix + wallet_id, cls)]


def memberships(reader: StateReader, wallet_id: bytes) -> list[tuple[str, Membership]]:
    """(asset id, membership) of every membership a wallet ever had, by asset id."""
    return _by_asset(reader, layout.MEMBERSHIP, wallet_id, Membership)


def membership(reader: StateReader, wallet_id: bytes, asset_id: str) -> Membership | None:
    return read_one(reader, layout.membership(wallet_id, asset_id), Membership)


def badges(reader: StateReader, wallet_id: bytes) -> list[tuple[str, Badge]]:
    """(asset id, passages) of every badge asset a wallet checked in with, by asset id."""
    return _by_asset(reader, layout.BADGE, wallet_id, Badge)


# -- places, assets, federations ---------------------------------------------------
def place(reader: StateReader, place_id: str) -> Place | None:
    return read_one(reader, layout.place(place_id), Place)


def place_by_key(reader: StateReader, public_key: bytes) -> Place | None:
    """The place whose current key is ``public_key``."""
    pointer = read_one(reader, layout.place_by_key(public_key), Pointer)
    return None if pointer is None else place(reader, pointer.target)


def places(reader: StateReader) -> list[Place]:
    return [record for _key, record in read_all(reader, layout.PLACE, Place)]


def asset(reader: StateReader, asset_id: str) -> Asset | None:
    return read_one(reader, layout.asset(asset_id), Asset)


def assets(reader: StateReader) -> list[Asset]:
    return [record for _key, record in read_all(reader, layout.ASSET, Asset)]


def supply(reader: StateReader, asset_id: str) -> Supply | None:
    """Running totals of an asset (minted, burnt, held)."""
    return read_one(reader, layout.supply(asset_id), Supply)


def fed_backing(reader: StateReader) -> FedBacking:
    """FED the treasury attested as received (minted) and paid out (burnt) since genesis."""
    return read_one(reader, layout.FED_BACKING, FedBacking) or FedBacking(0, 0)


def hold(reader: StateReader, reference: str) -> Hold | None:
    """The payout or bank-card refund hold under ``reference`` (held, burnt or released)."""
    return read_one(reader, layout.hold(reference), Hold)


def on_hold(reader: StateReader, wallet_id: bytes) -> int:
    """FED of a wallet on hold (waiting for the treasury to burn or release it): not spendable."""
    record = read_one(reader, layout.on_hold(wallet_id), Amount)
    return 0 if record is None else record.value


def pools(reader: StateReader, asset_id: str) -> dict[str, int]:
    """What the common fund, the development fund and the validators' pool hold of an asset."""
    kinds = {"common": layout.POOL_COMMON, "dev": layout.POOL_DEV, "validators": layout.POOL_VALIDATORS}
    found = {name: read_one(reader, layout.pool(kind, asset_id), Amount) for name, kind in kinds.items()}
    return {name: 0 if amount is None else amount.value for name, amount in found.items()}


def federations(reader: StateReader) -> list[Federation]:
    return [record for _key, record in read_all(reader, layout.FEDERATION, Federation)]


# -- validators --------------------------------------------------------------------
def validators(reader: StateReader) -> list[Validator]:
    """Every validator record (active, removed or jailed), by public key."""
    return [record for _key, record in read_all(reader, layout.VALIDATOR, Validator)]


# -- demurrage ---------------------------------------------------------------------
def demurrage_due(reader: StateReader, limit: int) -> list[tuple[int, bytes, str]]:
    """(due time ms, wallet id, asset id) of the next ``limit`` melting balances to be charged, soonest first."""
    found = []
    for key, _value in reader.iter_prefix(layout.DEMURRAGE_DUE):
        if len(found) == limit:
            break
        found.append(layout.split_demurrage_due(key))
    return found


# -- offline (docs/offline.md) ---------------------------------------------------------
def offline_bond(reader: StateReader, place_wallet: bytes) -> OfflineBondRecord | None:
    """A place's offline bond (locked, under notice, release time), or None when it has none."""
    return read_one(reader, layout.offline_bond(place_wallet), OfflineBondRecord)


@dataclass(frozen=True, slots=True)
class OfflineEntry:
    """One forwarded offline operation of a place: its journal, number and what it did."""

    journal: bytes
    seq: int
    record: OfflineRecord


def offline_record(reader: StateReader, place_wallet: bytes, journal: bytes, seq: int) -> OfflineRecord | None:
    """What the offline operation ``seq`` of ``journal`` did, once it is on chain (None before)."""
    return read_one(reader, layout.offline_record(place_wallet, journal, seq), OfflineRecord)


def offline_records(reader: StateReader, place_wallet: bytes, limit: int = 100,
                    shortfalls_only: bool = False) -> list[OfflineEntry]:
    """A place's offline operations applied on chain, by journal then number; ``shortfalls_only``:
    the sales whose card could not pay it all (what the venue follows up)."""
    found: list[OfflineEntry] = []
    for key, record in read_all(reader, layout.offline_records_of(place_wallet), OfflineRecord):
        if len(found) == limit:
            break
        if shortfalls_only and not (record.from_bond or record.uncovered):
            continue
        _wallet, journal, seq = layout.split_offline_record(key)
        found.append(OfflineEntry(journal, seq, record))
    return found
