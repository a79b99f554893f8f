"""Unit tests of Store: every read and write, refusals that change nothing, reopening."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import plyvel
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_helpers import GENESIS_DOC, GENESIS_STATE, init, next_batch, txid

from storage import (
    MAX_HISTORY_PAGE,
    AlreadyInitialised,
    ChangeSet,
    CommitBatch,
    GenesisMismatch,
    HistoryEntry,
    InvalidInput,
    NotInitialised,
    Store,
    StorageError,
    StoreClosed,
    StoreCorrupted,
    StoreLocked,
    WrongHeight,
    genesis_state_hash,
    next_state_hash,
    state_digest,
)

WALLET = b"\x01" * 32
OTHER_WALLET = b"\x02" * 32


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "data") as opened:
        init(opened)
        yield opened


def _snapshot(store: Store) -> tuple[object, ...]:
    """Everything a refused call must leave unchanged."""
    return (store.height, store.state_hash, list(store.iter_prefix(b"")), store.block(store.height + 1))


# --- life cycle and genesis -------------------------------------------------------------


def test_a_new_folder_has_no_genesis(tmp_path: Path) -> None:
    with Store.open(tmp_path / "new" / "data") as store:
        assert (store.initialised, store.height, store.genesis_doc()) == (False, 0, None)
        with pytest.raises(NotInitialised):
            store.state_hash
        batch = CommitBatch(1, b"\0" * 32, b"block", b"certificate", {}, b"\0" * 32, [], [])
        with pytest.raises(NotInitialised, match="no genesis"):
            store.commit(batch)


def test_genesis_is_stored_and_survives_reopening(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        init(store)
    with Store.open(tmp_path) as store:
        assert store.initialised and store.height == 0
        assert store.genesis_doc() == GENESIS_DOC
        assert store.state_hash == genesis_state_hash(GENESIS_STATE)
        assert dict(store.iter_prefix(b"")) == GENESIS_STATE
        assert store.block_hash(0) is None and store.block(0) is None


def test_genesis_twice_or_another_genesis_is_refused(store: Store) -> None:
    with pytest.raises(AlreadyInitialised):
        init(store)
    other_state = {b"acct/z": b"1"}
    with pytest.raises(GenesisMismatch, match="another chain"):
        store.init_genesis(b'{"chain_id": "other"}', other_state, genesis_state_hash(other_state))
    assert store.genesis_doc() == GENESIS_DOC and store.get(b"acct/z") is None


def test_genesis_with_a_wrong_state_hash_writes_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        with pytest.raises(InvalidInput, match="genesis state_hash"):
            store.init_genesis(GENESIS_DOC, GENESIS_STATE, b"\x07" * 32)
        assert (store.initialised, store.genesis_doc(), list(store.iter_prefix(b""))) == (False, None, [])


def test_a_data_folder_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(StorageError, match="cannot create the data folder"):
        Store.open(tmp_path / "file" / "data")


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.close()
    with pytest.raises(StoreClosed):
        store.get(b"acct/a")


def test_a_folder_held_by_another_running_process_is_reported_as_locked(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import plyvel, sys; db = plyvel.DB(sys.argv[1], create_if_missing=True);"
         " print('held', flush=True); sys.stdin.read()", str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        with pytest.raises(StoreLocked, match="another running node"):
            Store.open(tmp_path)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    Store.open(tmp_path).close()


def test_a_second_open_in_the_same_process_is_reported_as_locked(store: Store) -> None:
    with pytest.raises(StoreLocked, match="locked"):
        Store.open(store.path)


def test_a_head_beyond_the_blocks_is_reported_as_corruption(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        init(store)
        store.commit(next_batch(store))
    db = plyvel.DB(str(tmp_path))
    head = db.get(b"head")
    db.put(b"head", (7).to_bytes(8, "big") + head[8:])
    db.close()
    with pytest.raises(StoreCorrupted, match="height 7"):
        Store.open(tmp_path)


# --- commit and reads -----------------------------------------------------------------------


def test_commit_writes_every_structure(tmp_path: Path) -> None:
    first, second = txid("first"), txid("second")
    with Store.open(tmp_path) as store:
        init(store)
        batch = next_batch(
            store,
            changes={b"acct/a": None, b"acct/c": b"30"},
            txids=[first, second],
            touches=[(WALLET, first), (OTHER_WALLET, first), (WALLET, second)],
        )
        store.commit(batch)
    with Store.open(tmp_path) as store:
        assert (store.height, store.state_hash) == (1, batch.state_hash)
        assert store.block(1) == batch.block and store.block_hash(1) == batch.block_hash
        assert store.block_by_hash(batch.block_hash) == batch.block
        assert store.certificate(1) == batch.certificate
        assert store.get(b"acct/a") is None and store.get(b"acct/c") == b"30"
        assert store.tx_location(second) == (1, 1) and store.tx_location(txid("none")) is None
        assert store.wallet_history(WALLET) == (
            [HistoryEntry(1, 1, second), HistoryEntry(1, 0, first)], None
        )
        assert store.wallet_history(OTHER_WALLET) == ([HistoryEntry(1, 0, first)], None)


@pytest.mark.parametrize("height", [0, 1, 3])
def test_a_commit_of_the_wrong_height_is_refused_and_writes_nothing(store: Store, height: int) -> None:
    store.commit(next_batch(store))
    batch = dataclasses.replace(next_batch(store, {b"acct/x": b"1"}, [txid("t")]), height=height)
    before = _snapshot(store)
    with pytest.raises(WrongHeight, match="next commit must be height 2"):
        store.commit(batch)
    assert _snapshot(store) == before and store.tx_location(txid("t")) is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"state_hash": b"\x09" * 32}, "changes on top of"),
        ({"block_hash": b"short"}, "block_hash of height 1 must be 32 bytes"),
        ({"certificate": None}, "certificate of height 1 must be bytes"),
        ({"txids": [txid("a"), txid("a")]}, "appears at positions 0 and 1"),
        ({"txids": [b"short"]}, "txid at position 0 must be 32 bytes"),
        ({"wallet_touches": [(WALLET, txid("unknown"))]}, "not in txids"),
        ({"wallet_touches": [(b"w" * 256, txid("a"))]}, "1 to 255 bytes"),
        ({"changes": {b"": b"x"}}, "non-empty bytes"),
        ({"changes": {b"k": 5}}, "must be bytes or None"),
    ],
)
def test_an_invalid_batch_is_refused_and_writes_nothing(
    store: Store, overrides: dict[str, object], reason: str
) -> None:
    valid = next_batch(store, {b"acct/x": b"1"}, [txid("a")], [(WALLET, txid("a"))])
    batch = dataclasses.replace(valid, **overrides)
    before = _snapshot(store)
    with pytest.raises(InvalidInput, match=reason):
        store.commit(batch)
    assert _snapshot(store) == before
    assert store.tx_location(txid("a")) is None and store.wallet_history(WALLET) == ([], None)


def test_iter_prefix_is_sorted_and_scoped(store: Store) -> None:
    store.meta_put(b"acct/meta", b"not state")
    store.commit(next_batch(store, {b"acct/0": b"0", b"acct/c": b"c", b"acct0": b"x"}))
    assert [key for key, _ in store.iter_prefix(b"acct/")] == [b"acct/0", b"acct/a", b"acct/b", b"acct/c"]
    assert list(store.iter_prefix(b"zzz")) == []
    assert [key for key, _ in store.iter_prefix(b"")] == sorted(key for key, _ in store.iter_prefix(b""))


def test_blocks_yields_the_range_clipped_to_the_head(store: Store) -> None:
    for _ in range(3):
        store.commit(next_batch(store))
    assert [(b.height, b.block, b.certificate) for b in store.blocks(2, 10)] == [
        (2, b"block 2", b"certificate 2"),
        (3, b"block 3", b"certificate 3"),
    ]
    assert list(store.blocks(4, 9)) == []
    for bad in [(0, 2), (3, 2)]:
        with pytest.raises(InvalidInput, match="block range"):
            store.blocks(*bad)


def test_store_certificate_replaces_only_committed_heights(store: Store) -> None:
    store.commit(next_batch(store))
    store.store_certificate(1, b"canonical")
    assert store.certificate(1) == b"canonical"
    for height in (0, 2):
        with pytest.raises(InvalidInput, match="not committed"):
            store.store_certificate(height, b"x")
    assert store.certificate(2) is None


# --- history pagination ---------------------------------------------------------------------


def test_history_pages_newest_first_until_exhausted(store: Store) -> None:
    expected = []
    for height in range(1, 4):
        ids = [txid(f"{height}/{index}") for index in range(3)]
        store.commit(next_batch(store, txids=ids, touches=[(WALLET, i) for i in ids]))
        expected.extend(HistoryEntry(height, position, i) for position, i in enumerate(ids))
    expected.reverse()
    pages, cursor = [], None
    while True:
        page, cursor = store.wallet_history(WALLET, cursor, 2)
        pages.append(page)
        if cursor is None:
            break
    assert [len(page) for page in pages] == [2, 2, 2, 2, 1]
    assert [entry for page in pages for entry in page] == expected
    assert store.wallet_history(WALLET, None, 9) == (expected, None)


def test_history_limit_is_capped_and_checked(store: Store) -> None:
    ids = [txid(str(index)) for index in range(MAX_HISTORY_PAGE + 20)]
    store.commit(next_batch(store, txids=ids, touches=[(WALLET, i) for i in ids]))
    page, cursor = store.wallet_history(WALLET, None, 10_000)
    assert len(page) == MAX_HISTORY_PAGE and cursor is not None
    assert len(store.wallet_history(WALLET, cursor, 10_000)[0]) == 20
    with pytest.raises(InvalidInput, match="limit"):
        store.wallet_history(WALLET, None, 0)
    with pytest.raises(InvalidInput, match="cursor"):
        store.wallet_history(WALLET, b"bad", 10)


def test_history_of_one_wallet_never_shows_another(store: Store) -> None:
    short, longer = b"ab", b"ab\x00"
    store.commit(next_batch(store, txids=[txid("x"), txid("y")], touches=[(short, txid("x")), (longer, txid("y"))]))
    assert store.wallet_history(short) == ([HistoryEntry(1, 0, txid("x"))], None)
    assert store.wallet_history(longer) == ([HistoryEntry(1, 1, txid("y"))], None)
    assert store.wallet_history(b"a") == ([], None)


# --- metadata, digest, size -------------------------------------------------------------------


def test_meta_values_persist_outside_the_state(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        init(store)
        digest = store.state_digest()
        store.meta_put(b"peers", b"book")
        store.meta_put(b"gone", b"x")
        store.meta_put(b"gone", None)
        assert store.state_digest() == digest
    with Store.open(tmp_path) as store:
        assert (store.meta_get(b"peers"), store.meta_get(b"gone")) == (b"book", None)
        assert store.get(b"peers") is None


def test_state_digest_compares_states_not_histories(tmp_path: Path) -> None:
    with Store.open(tmp_path / "one") as one, Store.open(tmp_path / "two") as two:
        init(one)
        init(two)
        one.commit(next_batch(one, {b"acct/a": b"11"}))
        two.commit(next_batch(two, {b"acct/a": b"99"}))
        assert one.state_digest() != two.state_digest()
        two.commit(next_batch(two, {b"acct/a": b"11"}))
        assert one.state_digest() == two.state_digest() == state_digest(sorted(
            {**GENESIS_STATE, b"acct/a": b"11"}.items()))
        assert one.state_hash != two.state_hash


def test_size_on_disk_grows_and_compaction_keeps_data(store: Store) -> None:
    empty = store.size_on_disk()
    store.commit(next_batch(store, {b"big/%d" % i: hashlib.sha256(b"%d" % i).digest() * 8 for i in range(500)}))
    assert store.size_on_disk() > empty + 500 * 256
    store.compact()
    assert store.get(b"big/499") == hashlib.sha256(b"499").digest() * 8 and store.block(1) == b"block 1"


# --- model check ---------------------------------------------------------------------------------

keys = st.sampled_from([b"k/%d" % i for i in range(8)])
block_changes = st.dictionaries(keys, st.none() | st.binary(max_size=6), max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(block_changes, min_size=1, max_size=6))
def test_committed_state_follows_a_dict_model_across_reopening(blocks: list[dict[bytes, bytes | None]]) -> None:
    model = dict(GENESIS_STATE)
    with tempfile.TemporaryDirectory() as folder:
        for changes in blocks:
            with Store.open(Path(folder)) as store:
                if not store.initialised:
                    init(store)
                store.commit(next_batch(store, changes))
            for key, value in changes.items():
                if value is None:
                    model.pop(key, None)
                else:
                    model[key] = value
            with Store.open(Path(folder)) as store:
                assert dict(store.iter_prefix(b"")) == model
                assert all(store.get(key) == value for key, value in model.items())


def test_a_change_set_commits_and_its_state_hash_is_still_checked(store: Store) -> None:
    changes = ChangeSet({b"acct/x": b"1", b"acct/a": None})
    wrong = dataclasses.replace(next_batch(store, changes), state_hash=next_state_hash(b"\x01" * 32, 1, changes))
    with pytest.raises(InvalidInput, match="changes on top of"):
        store.commit(wrong)
    assert store.height == 0
    store.commit(next_batch(store, changes))
    assert store.get(b"acct/x") == b"1" and store.get(b"acct/a") is None
