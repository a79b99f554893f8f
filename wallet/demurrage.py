"""Begin-block demurrage: charge the melting balances whose next period has come.

The ``due/`` index is ordered by due time, so a block reads only the entries
that are due, never every wallet. At most ``MAX_CHARGES_PER_BLOCK`` balances are
charged per block; the rest stay first in the index and are charged by the next
blocks. A late charge costs exactly what a punctual one would have (periods are
counted from the last activity, and the book settles them before any activity).
"""

from __future__ import annotations

from wallet import layout
from wallet.book import Book
from wallet.records import Asset

MAX_CHARGES_PER_BLOCK = 1000


def charge_due(book: Book) -> int:
    """Charge up to ``MAX_CHARGES_PER_BLOCK`` due balances; returns how many were charged."""
    overlay = book.overlay
    limit = MAX_CHARGES_PER_BLOCK
    due = []
    for key, _value in overlay.iter_prefix(layout.DEMURRAGE_DUE):
        due_ms, wallet_id, asset_id = layout.split_demurrage_due(key)
        if due_ms > book.time_ms or len(due) == limit:
            break
        due.append((wallet_id, asset_id))
    for wallet_id, asset_id in due:
        asset = overlay.record(layout.asset(asset_id), Asset)
        assert asset is not None, "an indexed balance always has its asset"
        book.settled_balance(wallet_id, asset)
    return len(due)
