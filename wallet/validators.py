"""Validators as the ledger sees them: power, the scheduled set, rewards and slashing.

Power is the locked stake, 0 when jailed, removed or below ``min_validator_stake``.
A change made by block H takes effect at H+2 (as in CometBFT): the end of each
block compares the current powers with the last scheduled set and, if they
differ, records the new set under ``vset/<H+2>``. Rewards and slashing come only
from data inside the block (the validators' pool, the committed evidence).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import structlog

from wallet import layout
from wallet.book import Book
from wallet.params import PPM, LedgerParams
from wallet.records import Amount, Asset, Pointer, Validator, ValidatorSet
from wallet.state import Overlay, StateReader, read_one

log = structlog.get_logger(__name__)

ValidatorPower = tuple[bytes, int]


def power(validator: Validator, params: LedgerParams) -> int:
    if not validator.active or validator.jailed or validator.stake < params.min_validator_stake:
        return 0
    return validator.stake


def current_powers(overlay: Overlay, params: LedgerParams) -> tuple[ValidatorPower, ...]:
    """Every known validator with its power now, sorted by public key."""
    return tuple((validator.public_key, power(validator, params))
                 for _key, validator in overlay.records(layout.VALIDATOR, Validator))


def validator_set(reader: StateReader, height: int) -> list[ValidatorPower]:
    """The set in force at ``height`` (any height from 1 to the reader's height + 2), sorted by key.

    Validators with power 0 (jailed, removed, under the minimum stake) are
    listed with 0: they neither vote nor propose.
    """
    pointer = read_one(reader, layout.VALIDATOR_SET_LATEST, Pointer)
    effective = 0 if pointer is None else pointer.target
    while effective:
        chosen = read_one(reader, layout.validator_set(effective), ValidatorSet)
        assert chosen is not None, "the chain of scheduled sets is never broken"
        if effective <= height:
            return [tuple(entry) for entry in chosen.entries]  # type: ignore[misc]
        effective = chosen.previous
    raise ValueError(f"no validator set is recorded for height {height}")


def schedule_changes(overlay: Overlay, height: int, params: LedgerParams) -> tuple[ValidatorPower, ...]:
    """End-block: record the set for ``height + 2`` if powers changed; returns the changed entries.

    Every set ever scheduled stays in state (one small entry per change): restarts, block
    sync, evidence and auditors need the set of any past height. Each set links to the
    one before it, and ``vsetlatest`` points at the newest, so no read scans them all.
    """
    pointer = overlay.record(layout.VALIDATOR_SET_LATEST, Pointer)
    assert pointer is not None, "genesis schedules the first set"
    latest = overlay.record(layout.validator_set(pointer.target), ValidatorSet)
    assert latest is not None, "the latest pointer names a recorded set"
    in_force = dict(latest.entries)
    now = current_powers(overlay, params)
    updates = tuple((key, value) for key, value in now if in_force.get(key, 0) != value)
    if updates:
        schedule(overlay, height + 2, now, previous=pointer.target)
    return updates


def schedule(overlay: Overlay, effective: int, powers: tuple[ValidatorPower, ...], previous: int) -> None:
    """Record the set in force from ``effective`` on (``previous`` = 0 for the genesis set)."""
    overlay.put(layout.validator_set(effective), ValidatorSet(powers, previous))
    overlay.put(layout.VALIDATOR_SET_LATEST, Pointer(effective))


def distribute_rewards(book: Book) -> None:
    """End-block: pay each validators' pool pro rata of power (floor); the remainder waits."""
    overlay = book.overlay
    pools = [(key, entry.value) for key, entry in overlay.records(layout.POOL + layout.POOL_VALIDATORS, Amount)]
    if not pools:
        return
    powers = [(key, value) for key, value in current_powers(overlay, book.params) if value]
    total = sum(value for _key, value in powers)
    if total == 0:
        return
    for key, amount in pools:
        asset = overlay.record(layout.asset(layout.asset_of(layout.POOL + layout.POOL_VALIDATORS, key)), Asset)
        assert asset is not None, "a pool always has its asset"
        for public_key, value in powers:
            share = amount * value // total
            if share:
                book.add_to_pool(layout.POOL_VALIDATORS, asset.id, -share)
                book.credit(public_key, asset, share)


def slash(book: Book, offenders: Sequence[bytes], fed: Asset) -> None:
    """Begin-block: each piece of committed evidence takes ``slash_fraction_ppm`` (floor) of the
    offender's locked stake and of each of its unbonding entries into the common fund, and jails it.

    Unbonding stake is slashed too, so unstaking right after misbehaving does not escape.
    """
    overlay = book.overlay
    fraction = book.params.slash_fraction_ppm
    for public_key in offenders:
        validator = overlay.record(layout.validator(public_key), Validator)
        if validator is None:
            log.warning("slash_unknown_validator", public_key=public_key.hex())
            continue
        from_stake = validator.stake * fraction // PPM
        from_unbonding = _slash_unbonding(overlay, public_key, fraction)
        overlay.put(layout.validator(public_key),
                    replace(validator, stake=validator.stake - from_stake,
                            unbonding=validator.unbonding - from_unbonding, jailed=True))
        penalty = from_stake + from_unbonding
        book.adjust_held(fed.id, -penalty)
        book.add_to_pool(layout.POOL_COMMON, fed.id, penalty)
        log.info("validator_slashed", public_key=public_key.hex(), penalty=penalty)


def _slash_unbonding(overlay: Overlay, public_key: bytes, fraction: int) -> int:
    taken = 0
    for key, entry in list(overlay.records(layout.UNBONDING, Amount)):
        if layout.split_ordered(layout.UNBONDING, key)[1] != public_key:
            continue
        cut = entry.value * fraction // PPM
        if cut:
            taken += cut
            if entry.value == cut:
                overlay.delete(key)
            else:
                overlay.put(key, Amount(entry.value - cut))
    return taken
