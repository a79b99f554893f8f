"""Commit certificates: the >2/3 precommits that decided a block, and block time from them.

A certificate is ``[height, round, block_id, [[validator, timestamp_ms, signature], ...]]``
with the signatures sorted by validator key (one encoding per certificate). Block sync,
the auditor and the Application call :func:`verify_certificate` with the validator set
of the certificate's height.

Block time (CometBFT ``spec/consensus/bft-time.md``): the time of block H+1 is the
stake-weighted median of the precommit timestamps in the certificate of block H
(carried by block H+1); block 1 takes the genesis time. Honest validators stamp
their votes at least 1 ms after the block they vote on, so block time only grows,
and fewer than 1/3 of the stake cannot move it outside the honest timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from wallet.codec import Rejected as CodecRejected
from wallet.codec import pack, unpack
from wallet.keys import PUBLIC_KEY_BYTES, SIGNATURE_BYTES

from consensus.errors import Rejected
from consensus.messages import Vote, VoteType
from consensus.validators import ValidatorSet
from consensus.wire import HASH_BYTES, MAX_ROUND, expect_bytes, expect_int, expect_list


@dataclass(frozen=True)
class CommitSig:
    """One precommit of the certificate, without the fields the certificate already states."""

    validator: bytes
    timestamp_ms: int
    signature: bytes


@dataclass(frozen=True)
class Certificate:
    height: int
    round: int
    block_id: bytes
    signatures: tuple[CommitSig, ...]

    @classmethod
    def from_precommits(cls, height: int, round_: int, block_id: bytes, votes: Iterable[Vote]) -> "Certificate":
        """Gather the precommits for ``block_id`` (others are ignored), one per validator, sorted."""
        by_validator = {
            vote.validator: CommitSig(vote.validator, vote.timestamp_ms, vote.signature)
            for vote in votes
            if (vote.type, vote.height, vote.round, vote.block_id) == (VoteType.PRECOMMIT, height, round_, block_id)
        }
        return cls(height, round_, block_id, tuple(by_validator[key] for key in sorted(by_validator)))

    def precommits(self) -> tuple[Vote, ...]:
        """The signed precommits this certificate stands for."""
        return tuple(Vote(VoteType.PRECOMMIT, self.height, self.round, self.block_id, sig.timestamp_ms,
                          sig.validator, sig.signature) for sig in self.signatures)

    def to_wire(self) -> list[Any]:
        return [self.height, self.round, self.block_id,
                [[sig.validator, sig.timestamp_ms, sig.signature] for sig in self.signatures]]

    @classmethod
    def from_wire(cls, fields: Any) -> "Certificate":
        height, round_, block_id, signatures = expect_list(fields, 4, "certificate")
        if not isinstance(signatures, list):
            raise Rejected("malformed", "certificate signatures must be an array")
        sigs = []
        for item in signatures:
            validator, timestamp_ms, signature = expect_list(item, 3, "certificate signature")
            sigs.append(CommitSig(expect_bytes(validator, "certificate validator", PUBLIC_KEY_BYTES),
                                  expect_int(timestamp_ms, "certificate timestamp_ms", 0),
                                  expect_bytes(signature, "certificate signature", SIGNATURE_BYTES)))
        keys = [sig.validator for sig in sigs]
        if keys != sorted(set(keys)):
            raise Rejected("non_canonical", "certificate signatures must be sorted by validator, without duplicates")
        return cls(expect_int(height, "certificate height", 1), expect_int(round_, "certificate round", 0, MAX_ROUND),
                   expect_bytes(block_id, "certificate block_id", HASH_BYTES), tuple(sigs))


def encode_certificate(certificate: Certificate) -> bytes:
    return pack(certificate.to_wire())


def decode_certificate(data: bytes, max_bytes: int = 1024 * 1024) -> Certificate:
    """Decode canonical certificate bytes; :class:`Rejected` names what is wrong."""
    try:
        fields = unpack(data, max_bytes)
    except CodecRejected as exc:
        raise Rejected(exc.code, f"certificate: {exc.detail}") from None
    return Certificate.from_wire(fields)


def verify_certificate(certificate: Certificate, validator_set: ValidatorSet, chain_id: str,
                       height: int | None = None, block_id: bytes | None = None) -> None:
    """Raise :class:`Rejected` unless >2/3 of ``validator_set``'s power precommitted this block.

    Checks: expected height and block id (when given), distinct members with positive power,
    valid signatures bound to ``chain_id``, and a signed power strictly above 2/3 of the total.
    """
    if height is not None and certificate.height != height:
        raise Rejected("wrong_height", f"certificate is for height {certificate.height}, expected {height}")
    if block_id is not None and certificate.block_id != block_id:
        raise Rejected("block_id_mismatch", "certificate certifies another block id")
    signed_power = 0
    seen: set[bytes] = set()
    for vote in certificate.precommits():
        if vote.validator in seen:
            raise Rejected("duplicate_signer", f"certificate has two precommits of validator {vote.validator.hex()}")
        seen.add(vote.validator)
        power = validator_set.power_of(vote.validator)
        if power == 0:
            raise Rejected("unknown_validator",
                           f"certificate signer {vote.validator.hex()} has no voting power at height {vote.height}")
        if not vote.signature_ok(chain_id):
            raise Rejected("bad_signature", f"certificate precommit of {vote.validator.hex()} does not verify")
        signed_power += power
    if not validator_set.is_quorum(signed_power):
        raise Rejected("insufficient_power", f"certificate carries {signed_power} of {validator_set.total_power} "
                                             "voting power; more than 2/3 is required")


def block_time_ms(last_certificate: Certificate | None, validator_set: ValidatorSet, genesis_time_ms: int) -> int:
    """Consensus time of the block that carries ``last_certificate`` (genesis time for height 1).

    ``validator_set`` is the set of the certificate's height; the median is weighted by power
    and ties are ordered by validator key, so every node computes the same time.
    """
    if last_certificate is None:
        return genesis_time_ms
    weighted = sorted((sig.timestamp_ms, sig.validator, validator_set.power_of(sig.validator))
                      for sig in last_certificate.signatures if sig.validator in validator_set)
    half = sum(power for _, _, power in weighted) // 2
    for timestamp_ms, _, power in weighted:
        if half <= power:
            return timestamp_ms
        half -= power
    raise ValueError("a certificate without signing power has no median time")
