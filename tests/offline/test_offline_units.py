"""The offline parts that need no network: the connectivity decision (a table of steps) and the journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedow_node.offline import COMMITTED, PENDING, REFUSED, Connectivity, Entry, OfflineJournal, Origin, Seen
from fedow_node.offline.watch import NO_QUORUM, STALLED

STALL_S = 10.0
GRACE_S = 3.0


def seen(now: float, height: int, reachable: int = 4, caught_up: bool = False, total: int = 4) -> Seen:
    return Seen(now, height, reachable, total, caught_up)


# (description, observation, changed, offline after, reason after)
STEPS = [
    ("connected to every validator, the chain moves", seen(0, 1), False, False, None),
    ("3 of 4 is still more than 2/3", seen(1, 2, reachable=3), False, False, None),
    ("2 of 4 is not, but only for a moment so far", seen(2, 2, reachable=2), False, False, None),
    ("a peer is back within the grace", seen(2 + GRACE_S - 0.1, 2), False, False, None),
    ("lost again: the grace starts over", seen(4, 2, reachable=2), False, False, None),
    ("still within the new grace", seen(4 + GRACE_S - 0.1, 2, reachable=1), False, False, None),
    ("no quorum for the whole grace: cut off", seen(4 + GRACE_S, 2, reachable=2), True, True, NO_QUORUM),
    ("nothing changes while cut off", seen(8, 2, reachable=0), False, True, NO_QUORUM),
    ("peers back but still behind them", seen(9, 2, reachable=4, caught_up=False), False, True, NO_QUORUM),
    ("caught up: online again", seen(10, 3, reachable=4, caught_up=True), True, False, None),
    ("idle chain, not yet stalled", seen(10 + STALL_S, 3), False, False, None),
    ("no new height for longer than the stall time", seen(10.1 + STALL_S, 3), True, True, STALLED),
    ("connected and caught up, but the chain has not moved", seen(25, 3, caught_up=True), False, True, STALLED),
    ("the chain moved again", seen(26, 4, caught_up=True), True, False, None),
    ("the stall clock restarted with the connection", seen(26 + STALL_S, 4), False, False, None),
]


def test_connectivity_steps() -> None:
    connectivity = Connectivity(STALL_S, GRACE_S)
    for description, observation, changed, offline, reason in STEPS:
        assert connectivity.observe(observation) == changed, description
        assert (connectivity.offline, connectivity.reason) == (offline, reason), description


def test_without_a_grace_no_quorum_cuts_off_at_the_first_observation() -> None:
    connectivity = Connectivity(STALL_S, 0.0)
    assert connectivity.observe(seen(0, 1, reachable=2))
    assert (connectivity.offline, connectivity.reason) == (True, NO_QUORUM)


def test_no_power_at_all_is_no_quorum() -> None:
    assert not Seen(0, 0, 0, 0, True).quorum


def entry(journal: OfflineJournal, op: str, wallet: bytes, amount: int, asset: str = "FED",
          origin: Origin = Origin()) -> Entry:
    seq = journal.next_seq
    txid = journal.journal_id + seq.to_bytes(16, "big")
    return journal.append(Entry(journal.journal_id, seq, txid, b"tx%d" % seq, op, wallet, asset, amount, 1000 + seq,
                                origin))


def test_the_journal_counts_what_is_pending_and_survives_a_reopening(tmp_path: Path) -> None:
    path = tmp_path / "offline.sqlite"
    journal = OfflineJournal.open(path, "FED")
    card, other = b"c" * 32, b"o" * 32
    first = entry(journal, "sale", card, 700, origin=Origin("till-a", "k1", b"f" * 32))
    second = entry(journal, "sale", card, 300)
    entry(journal, "cash_refill", other, 1_000)
    entry(journal, "sale", other, 50, asset="MLT")          # not FED: no part of the FED risk
    entry(journal, "badge", card, 0, asset="BADGE")
    assert (journal.exposure, journal.sold_to(card), journal.refilled(other), journal.float_used) == \
        (1_000, 1_000, 1_000, 1_000)
    journal.mark_committed(first, 42)
    journal.mark_refused(second, "card_voided", "card 01020304 is voided")
    journal.mark_committed(first, 43)                        # settled once: a second mark changes nothing
    identity = journal.journal_id
    journal.close()

    journal = OfflineJournal.open(path, "FED")  # a new run (a restart, or a restored copy): a new numbering
    assert journal.journal_id != identity and journal.next_seq == 1
    assert (journal.exposure, journal.sold_to(card)) == (0, 0)
    assert journal.counts == {PENDING: 3, COMMITTED: 1, REFUSED: 1}
    assert [(e.journal, e.seq) for e in journal.pending()] == [(identity, 3), (identity, 4), (identity, 5)]
    kept = journal.by_retry("till-a", "k1")
    assert kept is not None and (kept.state, kept.height, kept.origin.fingerprint) == (COMMITTED, 42, b"f" * 32)
    refused = journal.refused()
    assert [(e.seq, e.code) for e in refused] == [(2, "card_voided")]
    with pytest.raises(ValueError):
        journal.append(Entry(identity, 6, b"x" * 32, b"tx", "sale", card, "FED", 1, 0))   # only this run's numbers
    after = entry(journal, "sale", card, 5)
    assert (after.journal, after.seq) == (journal.journal_id, 1)
    assert [e.seq for e in journal.pending()] == [3, 4, 5, 1]                              # in the order written
    journal.close()


def test_two_nodes_of_one_place_number_apart(tmp_path: Path) -> None:
    one, two = OfflineJournal.open(tmp_path / "a.sqlite", "FED"), OfflineJournal.open(tmp_path / "b.sqlite", "FED")
    try:
        assert one.journal_id != two.journal_id and one.next_seq == two.next_seq == 1
    finally:
        one.close()
        two.close()
