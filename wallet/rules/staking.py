"""Stake and unstake of FED by a validator's own key, and the unbonding queue.

A validator's keyed wallet is its public key: stake moves FED from that wallet
into locked stake; unstake moves locked stake into an unbonding entry released
back to the wallet at the first block whose time reaches ``time + unbonding_ms``.
"""

from __future__ import annotations

from dataclasses import replace

from wallet import layout
from wallet.bodies import Stake, Unstake
from wallet.book import Book
from wallet.errors import Rejected
from wallet.records import Amount, Validator
from wallet.rules.common import fed_asset, require_validator
from wallet.tx import Tx


def stake(book: Book, tx: Tx) -> None:
    body: Stake = tx.body  # type: ignore[assignment]
    validator = require_validator(book.overlay, tx.signer)
    fed = fed_asset(book.overlay)
    book.debit(tx.signer, fed, body.amount)
    book.adjust_held(fed.id, body.amount)
    book.overlay.put(layout.validator(tx.signer), replace(validator, stake=validator.stake + body.amount))


def unstake(book: Book, tx: Tx) -> None:
    body: Unstake = tx.body  # type: ignore[assignment]
    validator = require_validator(book.overlay, tx.signer)
    if body.amount > validator.stake:
        raise Rejected("overdraft", f"field amount {body.amount} exceeds the locked stake {validator.stake}")
    start_unbonding(book, validator, body.amount)


def start_unbonding(book: Book, validator: Validator, amount: int) -> Validator:
    """Move ``amount`` of locked stake to an unbonding entry; returns the updated validator."""
    updated = replace(validator, stake=validator.stake - amount, unbonding=validator.unbonding + amount)
    book.overlay.put(layout.validator(validator.public_key), updated)
    if amount:
        key = layout.unbonding(book.time_ms + book.params.unbonding_ms, validator.public_key)
        entry = book.overlay.record(key, Amount)
        book.overlay.put(key, Amount(amount + (0 if entry is None else entry.value)))
    return updated


def release_unbonded(book: Book) -> None:
    """Begin-block: pay back every unbonding entry whose release time has come."""
    overlay = book.overlay
    due = []
    for key, entry in overlay.records(layout.UNBONDING, Amount):
        release_ms, public_key = layout.split_ordered(layout.UNBONDING, key)
        if release_ms > book.time_ms:
            break
        due.append((key, public_key, entry.value))
    if not due:
        return
    fed = fed_asset(overlay)
    for key, public_key, amount in due:
        validator = overlay.record(layout.validator(public_key), Validator)
        assert validator is not None, "an unbonding entry always has its validator"
        overlay.put(layout.validator(public_key), replace(validator, unbonding=validator.unbonding - amount))
        overlay.delete(key)
        book.adjust_held(fed.id, -amount)
        book.credit(public_key, fed, amount)
