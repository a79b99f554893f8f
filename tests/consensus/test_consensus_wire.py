"""Wire encoding of consensus messages: round trips and precise rejections of hostile bytes."""

from __future__ import annotations

import pytest
from consensus_testkit import CHAIN, make_keys, precommit, prevote, proposal
from hypothesis import given
from hypothesis import strategies as st
from wallet.codec import pack

from consensus import (
    Certificate,
    DecidedBlock,
    Evidence,
    Rejected,
    block_id_of,
    decode_certificate,
    decode_message,
    encode_certificate,
    encode_message,
)
from consensus.encoding import Tag

KEYS = make_keys(4)
BLOCK = b"block-1"
BID = block_id_of(BLOCK)
MAX_BLOCK = 1024


def decode(data: bytes, chain: str = CHAIN) -> object:
    return decode_message(data, chain, MAX_BLOCK)


@pytest.mark.parametrize("message", [
    prevote(KEYS[0], 1, 0, BID),
    prevote(KEYS[1], 7, 3, None),
    precommit(KEYS[2], 2, 1, BID),
    proposal(KEYS[3], 5, 2, BLOCK, pol_round=1),
    Evidence.of(prevote(KEYS[0], 3, 0, BID), prevote(KEYS[0], 3, 0, None)),
    DecidedBlock(BLOCK, Certificate.from_precommits(1, 0, BID, [precommit(k, 1, 0, BID) for k in KEYS])),
])
def test_round_trip(message: object) -> None:
    assert decode(encode_message(message)) == message  # type: ignore[arg-type]


def _vote_fields(**changes: object) -> list[object]:
    vote = prevote(KEYS[0], 1, 0, BID)
    fields = dict(zip(["type", "height", "round", "block_id", "ts", "validator", "sig"], vote.to_wire()))
    fields.update(changes)
    return [Tag.VOTE, *fields.values()]


@pytest.mark.parametrize("data, code, words", [
    (encode_message(prevote(KEYS[0], 1, 0, BID)), "bad_signature", "chain id"),  # decoded on another chain
])
def test_wrong_chain_id_is_a_bad_signature(data: bytes, code: str, words: str) -> None:
    with pytest.raises(Rejected) as info:
        decode(data, chain="other-chain")
    assert info.value.code == code and words in info.value.detail


@pytest.mark.parametrize("fields, code, words", [
    (_vote_fields(sig=b"\1" * 64), "bad_signature", "vote signature"),
    (_vote_fields(height=2), "bad_signature", "vote signature"),  # signature no longer covers the fields
    (_vote_fields(height=0), "malformed", "vote height"),
    (_vote_fields(round=-1), "malformed", "vote round"),
    (_vote_fields(type=3), "malformed", "vote type"),
    (_vote_fields(type=True), "malformed", "vote type"),
    (_vote_fields(block_id=b"short"), "malformed", "vote block_id"),
    (_vote_fields(validator=b"\0" * 31), "malformed", "vote validator"),
    (_vote_fields(sig=b"\0" * 63), "malformed", "vote signature"),
    (_vote_fields(ts="now"), "malformed", "vote timestamp_ms"),
    ([Tag.VOTE, 1, 2], "malformed", "array of 7"),
    ([99, 1], "unknown_message", "tag 99"),
    ([], "malformed", "non-empty"),
])
def test_malformed_votes_are_rejected_with_the_field(fields: list[object], code: str, words: str) -> None:
    with pytest.raises(Rejected) as info:
        decode(pack(fields))
    assert info.value.code == code
    assert words in info.value.detail


def test_non_canonical_and_oversize_and_garbage() -> None:
    canonical = encode_message(prevote(KEYS[0], 1, 0, BID))
    longer_int = canonical[:2] + b"\xcd\x00\x01" + canonical[3:]  # height 1 as uint16: not the shortest form
    with pytest.raises(Rejected) as info:
        decode(longer_int)
    assert info.value.code == "non_canonical"
    with pytest.raises(Rejected) as info:
        decode(pack([Tag.PROPOSAL, 1, 0, -1, BID, KEYS[0].public_key, b"\0" * 64, b"x" * (MAX_BLOCK + 70_000)]))
    assert info.value.code == "oversize"
    with pytest.raises(Rejected) as info:
        decode(b"\xc1")
    assert info.value.code == "malformed"


def test_proposal_rules() -> None:
    good = proposal(KEYS[0], 1, 2, BLOCK, pol_round=1)
    wire = good.to_wire()
    with pytest.raises(Rejected, match="pol_round 2 must be below its round 2"):
        decode(pack([Tag.PROPOSAL, *wire[:2], 2, *wire[3:]]))
    with pytest.raises(Rejected) as info:
        decode(pack([Tag.PROPOSAL, *wire[:6], b"another block"]))
    assert info.value.code == "block_id_mismatch"
    big = proposal(KEYS[0], 1, 0, b"x" * (MAX_BLOCK + 1))
    with pytest.raises(Rejected) as info:
        decode(encode_message(big))
    assert info.value.code == "oversize" and "max_block_bytes" in info.value.detail


def test_evidence_rules() -> None:
    a, b = prevote(KEYS[0], 3, 0, BID), prevote(KEYS[0], 3, 0, None)
    evidence = Evidence.of(a, b)
    assert Evidence.of(b, a) == evidence and Evidence.of(b, a).hash == evidence.hash
    with pytest.raises(Rejected) as info:  # not in canonical order
        decode(pack([Tag.EVIDENCE, evidence.vote_b.to_wire(), evidence.vote_a.to_wire()]))
    assert info.value.code == "non_canonical"
    for other in (prevote(KEYS[1], 3, 0, None), prevote(KEYS[0], 4, 0, None), prevote(KEYS[0], 3, 1, None),
                  precommit(KEYS[0], 3, 0, None)):
        with pytest.raises(Rejected, match="differ in type, height, round or validator"):
            decode(encode_message(Evidence.of(a, other)))
    with pytest.raises(Rejected, match="same block"):
        decode(encode_message(Evidence(a, a)))


def test_certificate_encoding_is_canonical() -> None:
    votes = [precommit(k, 1, 0, BID) for k in KEYS]
    cert = Certificate.from_precommits(1, 0, BID, reversed(votes))
    assert [s.validator for s in cert.signatures] == sorted(k.public_key for k in KEYS)
    assert decode_certificate(encode_certificate(cert)) == cert
    unsorted = cert.to_wire()
    unsorted[3] = list(reversed(unsorted[3]))
    with pytest.raises(Rejected) as info:
        decode_certificate(pack(unsorted))
    assert info.value.code == "non_canonical"


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_decoder(data: bytes) -> None:
    try:
        decode(data)
    except Rejected as exc:
        assert exc.code and exc.detail
