"""Helpers shared by the consensus tests: deterministic keys, sets, votes and proposals."""

from __future__ import annotations

from wallet.keys import SigningKey

from consensus import ConsensusParams, Proposal, ValidatorSet, Vote, VoteType, sign_proposal, sign_vote

CHAIN = "fedow-test"
PARAMS = ConsensusParams(timeout_propose_ms=300, timeout_prevote_ms=100, timeout_precommit_ms=100,
                         timeout_delta_ms=50, timeout_cap_ms=500, timeout_commit_ms=10,
                         heartbeat_ms=1000)


def make_keys(count: int) -> list[SigningKey]:
    """Keys sorted by public key, so index order is the validator set's order."""
    keys = [SigningKey(bytes([i + 1]) * 32) for i in range(count)]
    return sorted(keys, key=lambda key: key.public_key)


def make_set(keys: list[SigningKey], powers: list[int]) -> ValidatorSet:
    return ValidatorSet.from_powers({key.public_key: power for key, power in zip(keys, powers)})


def prevote(key: SigningKey, height: int, round_: int, block_id: bytes | None, chain: str = CHAIN) -> Vote:
    return sign_vote(key, chain, VoteType.PREVOTE, height, round_, block_id, 1000)


def precommit(key: SigningKey, height: int, round_: int, block_id: bytes | None, chain: str = CHAIN) -> Vote:
    return sign_vote(key, chain, VoteType.PRECOMMIT, height, round_, block_id, 1000)


def proposal(key: SigningKey, height: int, round_: int, block: bytes, pol_round: int = -1) -> Proposal:
    return sign_proposal(key, CHAIN, height, round_, pol_round, block)
