"""Signed consensus messages: votes, proposals and duplicate-vote evidence.

Signatures (docs/contracts.md), each bound to the chain id by ``wallet.codec.signing_bytes``:
  vote      ``fedow/vote/v1``     over ``pack([type, height, round, block_id|nil, timestamp_ms, validator])``
  proposal  ``fedow/proposal/v1`` over ``pack([height, round, pol_round, block_id, proposer])``
A proposal signs the block id, not the block: the value is opaque here and may be large.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from wallet.codec import pack
from wallet.keys import PUBLIC_KEY_BYTES, SIGNATURE_BYTES, SigningKey, verify

from consensus.errors import Rejected
from consensus.wire import HASH_BYTES, MAX_ROUND, expect_bytes, expect_int, expect_list

VOTE_DOMAIN = "fedow/vote/v1"
PROPOSAL_DOMAIN = "fedow/proposal/v1"


class VoteType(IntEnum):
    PREVOTE = 1
    PRECOMMIT = 2


def block_id_of(block: bytes) -> bytes:
    """What validators vote on: sha256 of the opaque block value."""
    return hashlib.sha256(block).digest()


def vote_sign_body(type_: int, height: int, round_: int, block_id: bytes | None, timestamp_ms: int,
                   validator: bytes) -> bytes:
    return pack([int(type_), height, round_, block_id, timestamp_ms, validator])


def proposal_sign_body(height: int, round_: int, pol_round: int, block_id: bytes, proposer: bytes) -> bytes:
    return pack([height, round_, pol_round, block_id, proposer])


@dataclass(frozen=True)
class Vote:
    """A signed prevote or precommit; ``block_id`` None is a vote for nil."""

    type: VoteType
    height: int
    round: int
    block_id: bytes | None
    timestamp_ms: int
    validator: bytes
    signature: bytes

    def sign_body(self) -> bytes:
        return vote_sign_body(self.type, self.height, self.round, self.block_id, self.timestamp_ms, self.validator)

    def signature_ok(self, chain_id: str) -> bool:
        return verify(self.validator, VOTE_DOMAIN, chain_id, self.sign_body(), self.signature)

    def to_wire(self) -> list[Any]:
        return [int(self.type), self.height, self.round, self.block_id, self.timestamp_ms, self.validator,
                self.signature]

    @classmethod
    def from_wire(cls, fields: Any) -> "Vote":
        type_, height, round_, block_id, timestamp_ms, validator, signature = expect_list(fields, 7, "vote")
        if isinstance(type_, bool) or type_ not in (VoteType.PREVOTE, VoteType.PRECOMMIT):
            raise Rejected("malformed", f"vote type must be 1 (prevote) or 2 (precommit), got {type_!r}")
        return cls(
            VoteType(type_),
            expect_int(height, "vote height", 1),
            expect_int(round_, "vote round", 0, MAX_ROUND),
            None if block_id is None else expect_bytes(block_id, "vote block_id", HASH_BYTES),
            expect_int(timestamp_ms, "vote timestamp_ms", 0),
            expect_bytes(validator, "vote validator", PUBLIC_KEY_BYTES),
            expect_bytes(signature, "vote signature", SIGNATURE_BYTES),
        )


@dataclass(frozen=True)
class Proposal:
    """A signed proposal; the block value travels with it, the signature covers its id."""

    height: int
    round: int
    pol_round: int
    block_id: bytes
    proposer: bytes
    signature: bytes
    block: bytes

    def sign_body(self) -> bytes:
        return proposal_sign_body(self.height, self.round, self.pol_round, self.block_id, self.proposer)

    def signature_ok(self, chain_id: str) -> bool:
        return verify(self.proposer, PROPOSAL_DOMAIN, chain_id, self.sign_body(), self.signature)

    def to_wire(self) -> list[Any]:
        return [self.height, self.round, self.pol_round, self.block_id, self.proposer, self.signature, self.block]

    @classmethod
    def from_wire(cls, fields: Any) -> "Proposal":
        height, round_, pol_round, block_id, proposer, signature, block = expect_list(fields, 7, "proposal")
        proposal = cls(
            expect_int(height, "proposal height", 1),
            expect_int(round_, "proposal round", 0, MAX_ROUND),
            expect_int(pol_round, "proposal pol_round", -1, MAX_ROUND),
            expect_bytes(block_id, "proposal block_id", HASH_BYTES),
            expect_bytes(proposer, "proposal proposer", PUBLIC_KEY_BYTES),
            expect_bytes(signature, "proposal signature", SIGNATURE_BYTES),
            expect_bytes(block, "proposal block"),
        )
        if proposal.pol_round >= proposal.round:
            raise Rejected("malformed", f"proposal pol_round {proposal.pol_round} must be below its round "
                                        f"{proposal.round}")
        if block_id_of(proposal.block) != proposal.block_id:
            raise Rejected("block_id_mismatch", "proposal block_id is not the sha256 of its block")
        return proposal


def sign_vote(key: SigningKey, chain_id: str, type_: VoteType, height: int, round_: int,
              block_id: bytes | None, timestamp_ms: int) -> Vote:
    """Sign a vote with no double-sign guard (tests and simulated byzantines; validators use the Signer)."""
    body = vote_sign_body(type_, height, round_, block_id, timestamp_ms, key.public_key)
    return Vote(type_, height, round_, block_id, timestamp_ms, key.public_key, key.sign(VOTE_DOMAIN, chain_id, body))


def sign_proposal(key: SigningKey, chain_id: str, height: int, round_: int, pol_round: int, block: bytes) -> Proposal:
    """Sign a proposal with no double-sign guard (tests and simulated byzantines)."""
    block_id = block_id_of(block)
    body = proposal_sign_body(height, round_, pol_round, block_id, key.public_key)
    return Proposal(height, round_, pol_round, block_id, key.public_key,
                    key.sign(PROPOSAL_DOMAIN, chain_id, body), block)


@dataclass(frozen=True)
class Evidence:
    """Duplicate-vote evidence: two votes of one validator at one height/round/type for different blocks.

    Build it with :meth:`of`: the pair is kept ordered by sign bytes, so one equivocation has
    one encoding and one hash whoever found it.
    """

    vote_a: Vote
    vote_b: Vote

    @classmethod
    def of(cls, first: Vote, second: Vote) -> "Evidence":
        a, b = sorted((first, second), key=lambda vote: vote.sign_body())
        return cls(a, b)

    @property
    def height(self) -> int:
        return self.vote_a.height

    @property
    def validator(self) -> bytes:
        return self.vote_a.validator

    def to_wire(self) -> list[Any]:
        return [self.vote_a.to_wire(), self.vote_b.to_wire()]

    @property
    def hash(self) -> bytes:
        return hashlib.sha256(pack(self.to_wire())).digest()

    @classmethod
    def from_wire(cls, fields: Any) -> "Evidence":
        vote_a, vote_b = expect_list(fields, 2, "evidence")
        evidence = cls(Vote.from_wire(vote_a), Vote.from_wire(vote_b))
        if evidence != cls.of(evidence.vote_a, evidence.vote_b):
            raise Rejected("non_canonical", "evidence votes must be ordered by their sign bytes")
        return evidence

    def check_shape(self) -> None:
        """The stateless half of the evidence rules; the validator set half is in :mod:`consensus.evidence`."""
        a, b = self.vote_a, self.vote_b
        if (a.type, a.height, a.round, a.validator) != (b.type, b.height, b.round, b.validator):
            raise Rejected("bad_evidence", "evidence votes differ in type, height, round or validator")
        if a.block_id == b.block_id:
            raise Rejected("bad_evidence", "evidence votes are for the same block: no equivocation")
