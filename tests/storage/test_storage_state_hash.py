"""The state hash follows docs/contracts.md byte for byte and ignores mapping order."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from storage import ZERO_HASH, ChangeSet, genesis_state_hash, next_state_hash, state_digest

changes_strategy = st.dictionaries(
    st.binary(min_size=1, max_size=8), st.none() | st.binary(max_size=8), max_size=12
)


def test_next_state_hash_matches_the_contract_bytes() -> None:
    prev = bytes(range(32))
    # Sorted by key: b"a" (put b"xy") then b"b" (delete); 4-byte big-endian lengths.
    changes_digest = hashlib.sha256(
        b"\x00\x00\x00\x01a" + b"\x01" + b"\x00\x00\x00\x02xy" + b"\x00\x00\x00\x01b" + b"\x00"
    ).digest()
    expected = hashlib.sha256(
        b"fedow/state/v1" + prev + b"\x00\x00\x00\x00\x00\x00\x00\x05" + changes_digest
    ).digest()
    assert next_state_hash(prev, 5, {b"b": None, b"a": b"xy"}) == expected


@given(changes_strategy)
def test_mapping_order_does_not_matter(changes: dict[bytes, bytes | None]) -> None:
    reordered = dict(reversed(list(changes.items())))
    assert next_state_hash(ZERO_HASH, 1, changes) == next_state_hash(ZERO_HASH, 1, reordered)


@given(st.binary(min_size=1, max_size=8))
def test_delete_empty_value_height_and_prev_all_count(key: bytes) -> None:
    hashes = {
        next_state_hash(ZERO_HASH, 1, {key: None}),
        next_state_hash(ZERO_HASH, 1, {key: b""}),
        next_state_hash(ZERO_HASH, 2, {key: None}),
        next_state_hash(b"\x01" * 32, 1, {key: None}),
        next_state_hash(ZERO_HASH, 1, {}),
    }
    assert len(hashes) == 5


def test_length_prefixes_keep_key_and_value_apart() -> None:
    assert next_state_hash(ZERO_HASH, 1, {b"ab": b"c"}) != next_state_hash(ZERO_HASH, 1, {b"a": b"bc"})


def test_genesis_hash_is_step_zero_from_the_zero_hash() -> None:
    state = {b"k1": b"v1", b"k0": b"v0"}
    assert genesis_state_hash(state) == next_state_hash(b"\0" * 32, 0, state)


def test_state_digest_depends_on_content_only() -> None:
    entries = [(b"a", b"1"), (b"b", b"2")]
    assert state_digest(entries) == state_digest(iter(entries))
    assert state_digest(entries) != state_digest([(b"a", b"1"), (b"b", b"3")])
    assert state_digest([]) == hashlib.sha256().digest()


@given(changes_strategy, st.integers(min_value=0, max_value=2**63 - 1))
def test_a_change_set_hashes_like_its_mapping(changes: dict[bytes, bytes | None], height: int) -> None:
    frozen = ChangeSet(dict(reversed(list(changes.items()))))
    assert dict(frozen) == changes and dict(frozen.items()) == changes and len(frozen) == len(changes)
    assert next_state_hash(ZERO_HASH, height, frozen) == next_state_hash(ZERO_HASH, height, changes)


def test_a_change_set_does_not_follow_later_edits_of_its_source() -> None:
    source: dict[bytes, bytes | None] = {b"a": b"1"}
    frozen = ChangeSet(source)
    source[b"b"] = None
    assert dict(frozen) == {b"a": b"1"}
    assert next_state_hash(ZERO_HASH, 1, frozen) == next_state_hash(ZERO_HASH, 1, {b"a": b"1"})
