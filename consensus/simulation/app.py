"""A small deterministic Application for the simulator: opaque txs, chained state hash, staked validators.

Block: ``pack([height, time_ms, proposer, prev_block_id, last_commit|nil, txs, evidence])``.
Transactions are canonical arrays: ``["pay", sender, nonce]`` (no effect but to be
ordered) and ``["stake", validator_key, power]`` (a new power for a validator,
effective two heights after its block). Evidence in a committed block slashes
``slash_fraction_ppm`` of the offender's stake and jails it (power 0), also from
two heights on. Its state survives simulated crashes (it plays the disk).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from wallet.codec import Rejected as CodecRejected
from wallet.codec import pack, unpack

from consensus.certificate import Certificate, block_time_ms, verify_certificate
from consensus.errors import Rejected, TxRejected
from consensus.evidence import verify_evidence
from consensus.interfaces import BlockContext, BuiltBlock, ChainTip, CommitResult, TxInfo
from consensus.messages import Evidence, block_id_of
from consensus.validators import ValidatorSet

SLASH_FRACTION_PPM = 100_000


@dataclass(frozen=True)
class SimBlock:
    height: int
    time_ms: int
    proposer: bytes
    prev_block_id: bytes
    last_commit: Certificate | None
    txs: tuple[bytes, ...]
    evidence: tuple[Evidence, ...]

    def encode(self) -> bytes:
        last_commit = self.last_commit.to_wire() if self.last_commit else None
        return pack([self.height, self.time_ms, self.proposer, self.prev_block_id, last_commit, list(self.txs),
                     [ev.to_wire() for ev in self.evidence]])

    @classmethod
    def decode(cls, data: bytes) -> "SimBlock":
        try:
            height, time_ms, proposer, prev, last_commit, txs, evidence = unpack(data)
            return cls(height, time_ms, proposer, prev,
                       None if last_commit is None else Certificate.from_wire(last_commit),
                       tuple(txs), tuple(Evidence.from_wire(ev) for ev in evidence))
        except (CodecRejected, ValueError, TypeError) as exc:
            raise Rejected("malformed_block", f"block does not decode: {exc}") from None


def pay_tx(sender: int, nonce: int) -> bytes:
    return pack(["pay", sender, nonce])


def stake_tx(validator: bytes, power: int) -> bytes:
    return pack(["stake", validator, power])


@dataclass
class SimApplication:
    chain_id: str
    genesis_powers: Mapping[bytes, int]
    genesis_time_ms: int
    evidence_max_age_blocks: int
    blocks: dict[int, tuple[bytes, Certificate]] = field(default_factory=dict)
    state_hash: bytes = b"\0" * 32
    block_times: dict[int, int] = field(default_factory=dict)
    applied_txs: set[bytes] = field(default_factory=set)
    committed_evidence: set[bytes] = field(default_factory=set)
    slashed: dict[bytes, int] = field(default_factory=dict)
    """Offender -> height of the block that punished it."""
    common_fund: int = 0
    """Where slashed stake goes."""
    _powers: dict[int, dict[bytes, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._powers = {1: dict(self.genesis_powers), 2: dict(self.genesis_powers)}
        self.block_times[0] = self.genesis_time_ms

    @property
    def height(self) -> int:
        return len(self.blocks)

    # --- Application ----------------------------------------------------------------------------

    def check_tx(self, tx: bytes, signature_verified: bool) -> TxInfo:
        try:
            fields = unpack(tx, 1024)
        except CodecRejected as exc:
            raise TxRejected("malformed", f"transaction does not decode: {exc.detail}") from None
        if not (isinstance(fields, list) and len(fields) == 3 and fields[0] in ("pay", "stake")):
            raise TxRejected("malformed", "transaction must be [pay, sender, nonce] or [stake, key, power]")
        txid = hashlib.sha256(tx).digest()
        if txid in self.applied_txs:
            raise TxRejected("replay", f"transaction {txid.hex()} is already committed")
        sender = fields[1] if isinstance(fields[1], bytes) else pack(fields[1])
        return TxInfo(txid, sender)

    def build_block(self, context: BlockContext, last_certificate: Certificate | None, txs: Sequence[bytes],
                    evidence: Sequence[Evidence]) -> BuiltBlock:
        usable: list[bytes] = []
        for tx in txs:
            try:
                self.check_tx(tx, True)
            except TxRejected:
                continue
            usable.append(tx)
        time_ms = self._time_after(context.height, last_certificate)
        block = SimBlock(context.height, time_ms, context.proposer, self._prev_block_id(), last_certificate,
                         tuple(dict.fromkeys(usable)), tuple(evidence))
        return BuiltBlock(block.encode(), time_ms)

    def verify_block(self, context: BlockContext, block: bytes) -> int:
        decoded = SimBlock.decode(block)
        if decoded.height != context.height or context.height != self.height + 1:
            raise Rejected("wrong_height", f"block height {decoded.height}, expected {self.height + 1}")
        if self._validator_set(decoded.height).power_of(decoded.proposer) == 0:
            # Not "== context.proposer": a validValue re-proposed in a later round keeps its builder.
            raise Rejected("wrong_proposer", "block proposer is not a validator of its height")
        if decoded.prev_block_id != self._prev_block_id():
            raise Rejected("wrong_parent", "block does not extend the last committed block")
        if decoded.height > 1:
            if decoded.last_commit is None:
                raise Rejected("missing_last_commit", "block lacks the certificate of the previous block")
            verify_certificate(decoded.last_commit, self._validator_set(decoded.height - 1), self.chain_id,
                               height=decoded.height - 1, block_id=self._prev_block_id())
        elif decoded.last_commit is not None:
            raise Rejected("unexpected_last_commit", "block 1 has no previous certificate")
        if decoded.time_ms != self._time_after(decoded.height, decoded.last_commit):
            raise Rejected("wrong_time", "block time is not the weighted median of its last commit")
        if len(set(decoded.txs)) != len(decoded.txs):
            raise Rejected("duplicate_tx", "block holds a transaction twice")
        for tx in decoded.txs:
            self.check_tx(tx, True)
        for evidence in decoded.evidence:
            if evidence.hash in self.committed_evidence:
                raise Rejected("duplicate_evidence", "block repeats committed evidence")
            verify_evidence(evidence, self._validator_set(evidence.height), self.chain_id, decoded.height,
                            self.evidence_max_age_blocks)
        return decoded.time_ms

    def commit_block(self, block: bytes, certificate: Certificate) -> CommitResult:
        decoded = SimBlock.decode(block)
        height = decoded.height
        assert height == self.height + 1, "commit out of order"
        next_powers = dict(self._powers[height + 1])
        txids = []
        for tx in decoded.txs:
            txid = hashlib.sha256(tx).digest()
            self.applied_txs.add(txid)
            txids.append(txid)
            kind, key, power = unpack(tx)
            if kind == "stake" and key not in self.slashed:
                next_powers[key] = power
        for evidence in decoded.evidence:
            self.committed_evidence.add(evidence.hash)
            offender = evidence.validator
            if offender not in self.slashed:
                self.common_fund += next_powers.get(offender, 0) * SLASH_FRACTION_PPM // 1_000_000
                self.slashed[offender] = height
            next_powers[offender] = 0  # jailed
        self._powers[height + 2] = next_powers
        self.blocks[height] = (block, certificate)
        self.block_times[height] = decoded.time_ms
        self.state_hash = hashlib.sha256(self.state_hash + block_id_of(block)).digest()
        return CommitResult(self.state_hash, tuple(txids), tuple(ev.hash for ev in decoded.evidence))

    def validator_powers(self, height: int) -> Mapping[bytes, int]:
        return self._powers[height]

    def chain_tip(self) -> ChainTip:
        height = self.height
        certificate = self.blocks[height][1] if height else None
        return ChainTip(height, self.state_hash, self.block_times[height], certificate)

    def decided_block(self, height: int) -> tuple[bytes, Certificate] | None:
        return self.blocks.get(height)

    # --- helpers --------------------------------------------------------------------------------

    def _validator_set(self, height: int) -> ValidatorSet:
        return ValidatorSet.from_powers(self._powers[height])

    def _prev_block_id(self) -> bytes:
        return block_id_of(self.blocks[self.height][0]) if self.height else b"\0" * 32

    def _time_after(self, height: int, last_certificate: Certificate | None) -> int:
        if height == 1:
            return self.genesis_time_ms
        assert last_certificate is not None
        return block_time_ms(last_certificate, self._validator_set(height - 1), self.genesis_time_ms)
