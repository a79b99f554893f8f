"""Duplicate-vote evidence: verification against the validator set, and the pool of pending evidence.

Valid evidence (CometBFT ``spec/consensus/evidence.md``): two votes of one validator
with the same height, round and type for different block ids, both signatures
valid for this chain id, the validator a member (positive power) of the set at
that height, not from the future, and not older than ``evidence_max_age_blocks``.
The proposer puts pending evidence into its block; the Application verifies it
again (:func:`verify_evidence`) and punishes it at commit (slash, jail).
"""

from __future__ import annotations

from consensus.errors import Rejected
from consensus.messages import Evidence
from consensus.validators import ValidatorSet

MAX_PENDING_EVIDENCE = 1000
MAX_EVIDENCE_PER_BLOCK = 8
"""A persistent equivocator produces evidence every round; a block carries a bounded share of it."""


def verify_evidence(evidence: Evidence, validators_at_height: ValidatorSet, chain_id: str, block_height: int,
                    max_age_blocks: int) -> None:
    """Raise :class:`Rejected` unless ``evidence`` may be included in (or judged at) ``block_height``."""
    evidence.check_shape()
    if evidence.height >= block_height:
        raise Rejected("evidence_from_future", f"evidence of height {evidence.height} cannot be judged at height "
                                               f"{block_height}")
    if block_height - evidence.height > max_age_blocks:
        raise Rejected("evidence_expired", f"evidence of height {evidence.height} is older than "
                                           f"evidence_max_age_blocks={max_age_blocks} at height {block_height}")
    if validators_at_height.power_of(evidence.validator) == 0:
        raise Rejected("no_voting_power", f"validator {evidence.validator.hex()} had no voting power at height "
                                          f"{evidence.height}")
    if not (evidence.vote_a.signature_ok(chain_id) and evidence.vote_b.signature_ok(chain_id)):
        raise Rejected("bad_signature", "an evidence vote signature does not verify for this chain id")


class EvidencePool:
    """Verified evidence waiting for a block; committed evidence is remembered until it expires."""

    def __init__(self, max_age_blocks: int) -> None:
        self.max_age_blocks = max_age_blocks
        self._pending: dict[bytes, Evidence] = {}
        self._committed: dict[bytes, int] = {}

    def knows(self, evidence: Evidence) -> bool:
        """Already pending or committed (checked before the costly verification)."""
        return evidence.hash in self._pending or evidence.hash in self._committed

    def add(self, evidence: Evidence) -> bool:
        """Add evidence that passed :func:`verify_evidence`; False if already known (or the pool is full)."""
        key = evidence.hash
        if key in self._pending or key in self._committed or len(self._pending) >= MAX_PENDING_EVIDENCE:
            return False
        self._pending[key] = evidence
        return True

    def pending(self, block_height: int, limit: int = MAX_EVIDENCE_PER_BLOCK) -> list[Evidence]:
        """Evidence a proposer may include at ``block_height``: oldest first, one per offender, at most ``limit``."""
        usable = sorted((ev for ev in self._pending.values()
                         if ev.height < block_height and block_height - ev.height <= self.max_age_blocks),
                        key=lambda ev: (ev.height, ev.hash))
        chosen: dict[bytes, Evidence] = {}
        for evidence in usable:
            chosen.setdefault(evidence.validator, evidence)
        return list(chosen.values())[:limit]

    def mark_committed(self, hashes: tuple[bytes, ...], height: int) -> None:
        for key in hashes:
            evidence = self._pending.pop(key, None)
            self._committed[key] = evidence.height if evidence else height

    def prune(self, height: int) -> None:
        """Forget evidence too old to be included any more."""
        self._pending = {k: ev for k, ev in self._pending.items() if height - ev.height <= self.max_age_blocks}
        self._committed = {k: h for k, h in self._committed.items() if height - h <= self.max_age_blocks}
