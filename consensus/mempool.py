"""The mempool: transactions waiting for a block, checked once, deduplicated, bounded, fairly selected.

* Signatures are verified once per node: the mempool remembers (bounded LRU) which
  transaction bytes passed the Application's full check, and tells the Application
  so when it checks them again (re-check after a commit, re-submission).
* Deduplication by the hash of the bytes (before any work) and by txid.
* Bounded in count and bytes: a full mempool refuses with ``mempool_full``.
* After each commit: committed transactions leave, the others are re-checked against
  the new state (cheaply: signatures are known good) and evicted if they no longer apply;
  the pass ends by telling :attr:`Mempool.on_update` which ones it evicted (the daemon
  puts them beside the committed block in its channel of commits).
* Selection into a block is round-robin across senders and FIFO per sender, so one
  busy sender cannot starve the others.

Threads: :meth:`add` runs on the node's event loop (HTTP, gossip) while :meth:`select` and
:meth:`update` run in the thread that executes and commits blocks. One lock guards the
structures; the checks (the Application's, which read the committed state) run outside it.
A commit's pass starts by bumping :attr:`version` (the Application already answers from the
new state): an :meth:`add` whose check began before the bump checks again, under the lock,
before it inserts, so nothing checked against the state before a commit enters after that
commit's pass without being checked against the state after it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from itertools import islice
from typing import Callable, Iterable

import structlog

from consensus.errors import TxRejected
from consensus.interfaces import TxInfo

log = structlog.get_logger(__name__)

CheckTx = Callable[[bytes, bool], TxInfo]


@dataclass(frozen=True)
class Eviction:
    """An admitted transaction the mempool let go because it no longer applies (e.g. a double spend)."""

    txid: bytes
    why: TxRejected


@dataclass(frozen=True)
class _Entry:
    tx: bytes
    key: bytes
    info: TxInfo


class Mempool:
    def __init__(self, check_tx: CheckTx, max_txs: int, max_bytes: int, max_tx_bytes: int,
                 verified_cache_size: int = 200_000) -> None:
        self._check_tx = check_tx
        self.on_update: Callable[[tuple[Eviction, ...]], None] | None = None
        """Told, at the end of each pass after a commit, what that pass evicted (often nothing); must not raise."""
        self.on_added: Callable[[], None] | None = None
        """Told after each admitted transaction (the consensus driver wakes an idle height); must not raise."""
        self.max_txs = max_txs
        self.max_bytes = max_bytes
        self.max_tx_bytes = max_tx_bytes
        self._verified_cache_size = verified_cache_size
        self._verified: OrderedDict[bytes, None] = OrderedDict()
        self._by_key: dict[bytes, _Entry] = {}
        self._txids: set[bytes] = set()
        self._queues: OrderedDict[bytes, deque[_Entry]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.version = 0
        """Passes after a commit begun so far (read and bumped under the lock)."""

    def __len__(self) -> int:
        return len(self._by_key)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def contains_txid(self, txid: bytes) -> bool:
        return txid in self._txids

    def signature_verified(self, tx: bytes) -> bool:
        """True when this node already fully checked these exact bytes (the Application may skip the signature)."""
        key = hashlib.sha256(tx).digest()
        with self._lock:
            return key in self._verified

    def add(self, tx: bytes, signature_verified: bool = False) -> TxInfo:
        """Admit a transaction or raise :class:`TxRejected` (duplicate, oversize, mempool_full, or the app's code).

        ``signature_verified``: the caller checked its signatures (a gossip batch is checked on every core first)."""
        if len(tx) > self.max_tx_bytes:
            raise TxRejected("oversize", f"transaction of {len(tx)} bytes exceeds max_tx_bytes={self.max_tx_bytes}")
        key = hashlib.sha256(tx).digest()
        with self._lock:
            self._check_room(key, len(tx))
            version, verified = self.version, signature_verified or key in self._verified
        info = self._check_tx(tx, verified)  # outside the lock: a commit's pass may run meanwhile
        with self._lock:
            self._check_room(key, len(tx))
            if self.version != version:  # a pass began during the check: it may have missed this one
                info = self._check_tx(tx, True)
            if info.txid in self._txids:
                raise TxRejected("duplicate", f"transaction {info.txid.hex()} is already in the mempool")
            self._remember_verified(key)
            entry = _Entry(tx, key, info)
            self._by_key[key] = entry
            self._txids.add(info.txid)
            self._queues.setdefault(info.sender, deque()).append(entry)
            self._bytes += len(tx)
        if self.on_added is not None:
            self.on_added()
        return info

    def _check_room(self, key: bytes, size: int) -> None:
        if key in self._by_key:
            raise TxRejected("duplicate", "transaction is already in the mempool")
        if len(self._by_key) >= self.max_txs:
            raise TxRejected("mempool_full", f"mempool holds its maximum of {self.max_txs} transactions; retry later")
        if self._bytes + size > self.max_bytes:
            raise TxRejected("mempool_full", f"mempool holds {self._bytes} bytes, its limit is {self.max_bytes}; "
                                             "retry later")

    def select(self, max_txs: int, max_bytes: int) -> list[bytes]:
        """Round-robin across senders (in order of arrival), FIFO per sender, within the block limits."""
        with self._lock:
            return self._select(max_txs, max_bytes)

    def _select(self, max_txs: int, max_bytes: int) -> list[bytes]:
        cursors = {sender: 0 for sender in self._queues}
        chosen: list[bytes] = []
        total = 0
        while len(chosen) < max_txs and cursors:
            for sender in list(cursors):
                queue = self._queues[sender]
                index = cursors[sender]
                if index >= len(queue) or total + len(queue[index].tx) > max_bytes:
                    del cursors[sender]
                    continue
                chosen.append(queue[index].tx)
                total += len(queue[index].tx)
                cursors[sender] = index + 1
                if len(chosen) == max_txs:
                    break
        return chosen

    def update(self, committed_txids: Iterable[bytes], recheck_budget: int = 1000) -> int:
        """After a commit: drop committed transactions, re-check the rest, evict those that fail; returns evictions.

        Call it once the Application answers from the new state. Re-checking costs a ledger
        dry-run per transaction, so only the first ``recheck_budget`` of the queues (spread over
        the senders: the ones the next blocks will take) are re-checked; the others are checked
        when they reach the front, and a proposer drops any that no longer applies anyway. The
        re-checks run outside the lock (admissions go on); what they evict leaves at the end.
        """
        committed = set(committed_txids)
        with self._lock:
            self.version += 1
            self._remove(lambda entry: entry.info.txid in committed)
            per_sender = max(1, recheck_budget // max(1, len(self._queues)))
            to_check = [entry for queue in self._queues.values() for entry in islice(queue, per_sender)]
        evicted: dict[bytes, Eviction] = {}
        for entry in to_check:
            why = self._no_longer_applies(entry)
            if why is not None:
                evicted[entry.key] = Eviction(entry.info.txid, why)
        if evicted:
            with self._lock:
                self._remove(lambda entry: entry.key in evicted)
        if self.on_update is not None:
            self.on_update(tuple(evicted.values()))
        return len(evicted)

    def _remove(self, leaves: Callable[[_Entry], bool]) -> None:
        """Rebuild the queues without the entries ``leaves`` picks (under the lock)."""
        queues: OrderedDict[bytes, deque[_Entry]] = OrderedDict()
        for sender, queue in self._queues.items():
            for entry in queue:
                if not leaves(entry):
                    queues.setdefault(sender, deque()).append(entry)
                    continue
                del self._by_key[entry.key]
                self._txids.discard(entry.info.txid)
                self._bytes -= len(entry.tx)
        self._queues = queues

    def _no_longer_applies(self, entry: _Entry) -> TxRejected | None:
        try:
            self._check_tx(entry.tx, True)
        except TxRejected as exc:
            log.debug("mempool_evicted", txid=entry.info.txid.hex(), code=exc.code)
            return exc
        return None

    def _remember_verified(self, key: bytes) -> None:
        self._verified[key] = None
        self._verified.move_to_end(key)
        while len(self._verified) > self._verified_cache_size:
            self._verified.popitem(last=False)
