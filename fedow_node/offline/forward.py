"""Forwarding the journal when the node is back online: every pending entry, in order, until it is on chain.

Each pass looks at the first ``window`` pending entries, in the order they were written: one that is on chain
(the store's txid index) is marked committed; one waiting in the mempool is left to it; any other
is submitted (to the mempool, which gossips it), and gossiped again while it waits there. A refusal is final for that entry and shown to
the operator (``refused``, with the ledger's code), except a full mempool (the pass stops and the
next one resumes) and ``duplicate`` (it is in the mempool already). ``replay`` means the chain
holds that (place, journal, number) under another transaction (the same one would be in the txid
index, written in the same batch), which a journal never does (a new id at each start): refused,
and said loudly. Entries are never dropped: what is neither on chain, pending nor refused is submitted again at the next pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import structlog

from consensus.errors import TxRejected
from fedow_node.offline.journal import OfflineJournal
from storage import Store

__all__ = ["Forwarder", "Pass"]

log = structlog.get_logger(__name__)

WINDOW = 2_000
"""Entries looked at per pass: a block's worth (max_block_txs), well under the mempool's bound."""
RESEND_S = 5.0
"""An entry still in the mempool this long after it was gossiped is gossiped again: right after a
reconnection the first gossip may reach no peer, and the mempool never gossips by itself."""


@dataclass(frozen=True)
class Pass:
    """What one pass did."""

    submitted: int
    committed: int
    refused: int
    waiting: int
    """Entries in the mempool, not yet on chain."""


class Forwarder:
    """Forwards one journal of one place through the node's mempool and transaction gossip."""

    def __init__(self, journal: OfflineJournal, store: Store, submit: Callable[[bytes], bytes],
                 is_pending: Callable[[bytes], bool], resend: Callable[[bytes], None], clock_s: Callable[[], float],
                 window: int = WINDOW) -> None:
        self.journal = journal
        self.store = store
        self.submit = submit
        self.is_pending = is_pending
        self.resend = resend
        self.clock_s = clock_s
        self.window = window
        self._sent_s: dict[bytes, float] = {}
        """When each entry waiting in the mempool was last gossiped, by txid."""

    def forward(self) -> Pass:
        submitted = committed = refused = waiting = 0
        journal, store = self.journal, self.store
        for entry in journal.pending(self.window):
            location = store.tx_location(entry.txid)
            if location is not None:
                journal.mark_committed(entry, location.height)
                self._sent_s.pop(entry.txid, None)
                committed += 1
                continue
            now = self.clock_s()
            if self.is_pending(entry.txid):
                waiting += 1
                if now - self._sent_s.get(entry.txid, now) >= RESEND_S:
                    self.resend(entry.tx)
                    self._sent_s[entry.txid] = now
                continue
            try:
                self.submit(entry.tx)
            except TxRejected as exc:
                if exc.code == "mempool_full":
                    break
                if exc.code == "duplicate":
                    waiting += 1
                    continue
                if exc.code == "replay" and (location := store.tx_location(entry.txid)) is not None:
                    journal.mark_committed(entry, location.height)  # committed meanwhile (blocks commit in
                    committed += 1                                   # another thread)
                    continue
                if exc.code == "replay":  # on chain under another txid (this one would be in the txid index)
                    log.error("offline_number_reused", journal=entry.journal.hex(), seq=entry.seq,
                              txid=entry.txid.hex())
                journal.mark_refused(entry, exc.code, exc.detail)
                self._sent_s.pop(entry.txid, None)
                refused += 1
                log.warning("offline_entry_refused", seq=entry.seq, op=entry.op, txid=entry.txid.hex(),
                            code=exc.code, detail=exc.detail)
                continue
            self._sent_s[entry.txid] = now
            submitted += 1
        return Pass(submitted, committed, refused, waiting)
