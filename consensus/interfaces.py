"""The narrow borders of the consensus engine: the Application, the Transport and the Clock.

This is the ABCI idea: consensus never knows what money is, the ledger never
knows what a vote is. ``fedow_node`` implements :class:`Application` with wallet +
storage and :class:`Transport` with p2p; the simulator implements both in memory.

The Application's methods are plain (blocking) calls: LevelDB and the ledger rules
are synchronous, and the consensus task waits for them anyway. The Transport's
``broadcast`` is async because publishing on libp2p is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Protocol, Sequence

from consensus.certificate import Certificate
from consensus.messages import Evidence

if TYPE_CHECKING:
    from consensus.encoding import Message


@dataclass(frozen=True)
class TxInfo:
    """What the mempool needs to know of an accepted transaction."""

    txid: bytes
    sender: bytes
    """Fair selection key: transactions are taken round-robin across senders, FIFO per sender."""


@dataclass(frozen=True)
class BlockContext:
    """What the Application needs to build or verify the block of one height and round."""

    height: int
    round: int
    proposer: bytes
    """The proposer of this round. A block re-proposed in a later round (the paper's validValue) keeps
    the proposer that built it, so ``verify_block`` checks that the block's proposer is a validator
    of the height, not that it equals this one."""


@dataclass(frozen=True)
class BuiltBlock:
    block: bytes
    time_ms: int
    """The block's consensus time (stake-weighted median of ``last_certificate``, see ``block_time_ms``)."""


@dataclass(frozen=True)
class ChainTip:
    """The last committed height (0 = genesis), as the Application has it on disk."""

    height: int
    state_hash: bytes
    block_time_ms: int
    """Consensus time of that block (genesis time at height 0)."""
    certificate: Certificate | None
    """Certificate of that block (None at height 0); block ``height+1`` carries it as its last commit."""


@dataclass(frozen=True)
class CommitResult:
    state_hash: bytes
    txids: tuple[bytes, ...]
    """Transactions of the block, removed from the mempool."""
    evidence: tuple[bytes, ...]
    """Hashes of the evidence the block carried (and the ledger punished), removed from the evidence pool."""


class Application(Protocol):
    """The replicated state machine (ledger + storage) as consensus sees it."""

    def check_tx(self, tx: bytes, signature_verified: bool) -> TxInfo:
        """Admission check against the committed state; raise ``TxRejected(code, detail)`` to refuse.

        ``signature_verified`` is True when this node already verified the transaction's
        signature (mempool re-check after a commit): skip the expensive check then.
        """
        ...

    def build_block(self, context: BlockContext, last_certificate: Certificate | None, txs: Sequence[bytes],
                    evidence: Sequence[Evidence]) -> BuiltBlock:
        """Build the block for ``context`` from candidate transactions, dropping any that fail to apply.

        ``last_certificate`` certifies the previous block; the block carries it and takes its time from it.
        """
        ...

    def verify_block(self, context: BlockContext, block: bytes) -> int:
        """Fully check a proposed block (format, proposer, last commit, time, txs, evidence, state hash).

        Returns the block's consensus time (validators stamp their votes later than it);
        raises ``Rejected(code, detail)`` (from ``consensus.errors``) when it is invalid.
        """
        ...

    def commit_block(self, block: bytes, certificate: Certificate) -> CommitResult:
        """Apply and persist a decided block with its certificate, atomically; punish its evidence."""
        ...

    def validator_powers(self, height: int) -> Mapping[bytes, int]:
        """Public key -> voting power (stake, 0 if jailed) of the validators of ``height``.

        Known up to the last committed height + 2 (changes committed at H take effect at H+2).
        """
        ...

    def chain_tip(self) -> ChainTip:
        """The last committed height, its state hash, time and certificate."""
        ...

    def decided_block(self, height: int) -> tuple[bytes, Certificate] | None:
        """A committed block and its certificate, to help a node that fell behind (None if unknown)."""
        ...


class Transport(Protocol):
    """Gossip to the other validators. Deliveries go the other way, into the driver's inbox channel,
    and only after :func:`decode_message` accepted them (signatures checked once, before relay)."""

    async def broadcast(self, message: "Message") -> None:
        ...


class Clock(Protocol):
    """Wall time, used only to stamp votes; never to decide state (block time comes from votes)."""

    def now_ms(self) -> int:
        ...
