"""Offline: a venue cut off from the network keeps selling, within a risk it chose in advance.

A place that wants its tills to sell while its node is cut off first locks an offline bond of
FED from its own wallet (``offline_bond``); it gets it back only after a notice period
(``offline_unbond``, then released at the first block past ``offline_bond_notice_ms``), so the
bond still backs every offline sale the node forwards in that time. The node caps its total
offline exposure by the bond (docs/offline.md).

When it reconnects, the node forwards each operation its tills did offline as an ``offline``
transaction, signed then with the place key and numbered in its journal. They never expire:
``(place, journal, seq)`` is recorded for ever, and that record is their replay guard.
A forwarded sale is applied by one rule, whatever happened meanwhile: the card pays what it
still holds (nothing if it was lost or voided), the shortfall comes from the place's bond, and
what the bond cannot cover is recorded as uncovered. The place receives what the card paid plus
what its bond paid; the card never goes negative; nothing is created or destroyed. Checks the
till made against the state it last saw (the operator card, that the place accepts FED) are not
made again: the sale happened.
"""

from __future__ import annotations

from typing import Callable

from wallet import layout
from wallet.bodies import BadgeCheckIn, Body, CashRefill, Offline, OfflineBond, OfflineUnbond, Sale
from wallet.book import EMPTY, Book
from wallet.errors import Rejected
from wallet.records import CARD_ACTIVE, Asset, OfflineBondRecord, OfflineRecord, Place
from wallet.rules.common import fed_asset, place_of_signer, require_card
from wallet.rules.passes import check_in
from wallet.rules.payments import refill, require_float
from wallet.state import Overlay
from wallet.tx import Tx


def offline_bond(book: Book, tx: Tx) -> None:
    """Lock FED of the place's wallet as its offline bond (added to what it already locked)."""
    body: OfflineBond = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    fed = fed_asset(overlay)
    require_float(book, place, fed, body.amount)
    book.debit(place.wallet, fed, body.amount)
    book.adjust_held(fed.id, body.amount)
    bond = bond_of(overlay, place.wallet) or OfflineBondRecord(0, 0, 0)
    _write_bond(overlay, place.wallet, bond, OfflineBondRecord(bond.locked + body.amount, bond.unbonding,
                                                                bond.release_ms))


def offline_unbond(book: Book, tx: Tx) -> None:
    """Give notice: ``amount`` of the locked bond comes back after ``offline_bond_notice_ms``.

    It keeps covering shortfalls until then. A second notice adds to the first and restarts
    the period for the whole amount under notice.
    """
    body: OfflineUnbond = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    bond = bond_of(overlay, place.wallet)
    if bond is None or bond.locked == 0:
        raise Rejected("no_bond", f"place {place.id!r} has no offline bond locked")
    if body.amount > bond.locked:
        raise Rejected("overdraft", f"field amount {body.amount} exceeds the {bond.locked} locked in the offline "
                       f"bond of place {place.id!r}")
    release_ms = book.time_ms + book.params.offline_bond_notice_ms
    _write_bond(overlay, place.wallet, bond, OfflineBondRecord(bond.locked - body.amount,
                                                                bond.unbonding + body.amount, release_ms))


def release_bonds(book: Book) -> None:
    """Begin-block: the bonds whose notice is over go back to their places' wallets."""
    overlay = book.overlay
    due = []
    for key, _value in overlay.iter_prefix(layout.OFFLINE_RELEASE):
        release_ms, place_wallet = layout.split_ordered(layout.OFFLINE_RELEASE, key)
        if release_ms > book.time_ms:
            break
        due.append(place_wallet)
    if not due:
        return
    fed = fed_asset(overlay)
    for place_wallet in due:
        bond = bond_of(overlay, place_wallet)
        assert bond is not None and bond.unbonding, "an entry of the release index always has its bond"
        _write_bond(overlay, place_wallet, bond, OfflineBondRecord(bond.locked, 0, 0))
        book.adjust_held(fed.id, -bond.unbonding)
        book.credit(place_wallet, fed, bond.unbonding)


def offline(book: Book, tx: Tx) -> None:
    """A till operation done offline, forwarded: applied once per (place, journal, seq), however late."""
    body: Offline = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    key = layout.offline_record(place.wallet, body.journal, body.seq)
    done = overlay.record(key, OfflineRecord)
    if done is not None:
        raise Rejected("replay", f"offline operation {body.seq} of journal {body.journal.hex()} of place "
                       f"{place.id!r} was already applied (transaction {done.txid.hex()})")
    subject, amount, from_bond, uncovered = _OPERATIONS[body.op](book, place, body.operation)
    overlay.put(key, OfflineRecord(tx.txid, body.op, subject, amount, from_bond, uncovered))


Outcome = tuple[bytes, int, int, int]
"""(subject, amount, from bond, uncovered) of one offline operation."""


def _sale(book: Book, place: Place, operation: Body) -> Outcome:
    """The card pays what it still holds; the shortfall comes from the bond, as far as it goes."""
    sale: Sale = operation  # type: ignore[assignment]
    overlay = book.overlay
    fed = fed_asset(overlay)
    if sale.asset_id != fed.id:
        raise Rejected("offline_fed_only", f"offline sales are in {fed.id}, the currency of the bond that carries "
                       f"their risk, not {sale.asset_id!r}")
    card = require_card(overlay, sale.uid)
    held = book.settled_balance(card.paying_wallet, fed) if card.state == CARD_ACTIVE else 0
    from_card = min(held, sale.amount)
    if from_card:
        book.transfer(card.paying_wallet, place.wallet, fed, from_card)
    shortfall = sale.amount - from_card
    from_bond = _take_from_bond(book, place, fed, shortfall) if shortfall else 0
    return sale.uid, sale.amount, from_bond, shortfall - from_bond


def _take_from_bond(book: Book, place: Place, fed: Asset, amount: int) -> int:
    """Pay up to ``amount`` from the bond to the place's wallet: locked first, then what is under notice."""
    overlay = book.overlay
    bond = bond_of(overlay, place.wallet)
    if bond is None:
        return 0
    taken = min(amount, bond.total)
    from_locked = min(taken, bond.locked)
    unbonding = bond.unbonding - (taken - from_locked)
    _write_bond(overlay, place.wallet, bond, OfflineBondRecord(bond.locked - from_locked, unbonding,
                                                                bond.release_ms if unbonding else 0))
    if taken:
        book.adjust_held(fed.id, -taken)
        book.credit(place.wallet, fed, taken)
    return taken


def _refill(book: Book, place: Place, operation: Body) -> Outcome:
    body: CashRefill = operation  # type: ignore[assignment]
    refill(book, place, body)
    return body.wallet, body.amount, 0, 0


def _badge(book: Book, place: Place, operation: Body) -> Outcome:
    body: BadgeCheckIn = operation  # type: ignore[assignment]
    check_in(book, place, body)
    return body.uid, 0, 0, 0


_OPERATIONS: dict[str, Callable[[Book, Place, Body], Outcome]] = {
    "sale": _sale, "cash_refill": _refill, "badge": _badge,
}


def bond_of(overlay: Overlay, place_wallet: bytes) -> OfflineBondRecord | None:
    return overlay.record(layout.offline_bond(place_wallet), OfflineBondRecord)


def _write_bond(overlay: Overlay, place_wallet: bytes, old: OfflineBondRecord, new: OfflineBondRecord) -> None:
    """Store a bond (deleted when empty) and keep its entry in the release index in step."""
    if (old.release_ms, old.unbonding > 0) != (new.release_ms, new.unbonding > 0):
        if old.unbonding:
            overlay.delete(layout.offline_release(old.release_ms, place_wallet))
        if new.unbonding:
            overlay.put_raw(layout.offline_release(new.release_ms, place_wallet), EMPTY)
    key = layout.offline_bond(place_wallet)
    if new.total:
        overlay.put(key, new)
    else:
        overlay.delete(key)
