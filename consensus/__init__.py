"""consensus: the stake-weighted BFT engine (Tendermint) of fedow-node.

A pure state machine (:mod:`consensus.core`: ``step(state, input) -> (state, effects)``),
the host that performs its effects with a double-sign-proof signer and a write-ahead
log (:mod:`consensus.node`), a thin trio driver around it (:mod:`consensus.driver`),
the validator set with CometBFT's proposer rotation, commit certificates, evidence
and the mempool. It talks to the rest of the node through two narrow interfaces,
:class:`Application` and :class:`Transport` (:mod:`consensus.interfaces`), and is
exercised in a seeded, in-process simulator (:mod:`consensus.simulation`).
"""

from consensus.certificate import (
    Certificate,
    CommitSig,
    block_time_ms,
    decode_certificate,
    encode_certificate,
    verify_certificate,
)
from consensus.driver import Driver
from consensus.encoding import DecidedBlock, Message, check_signatures, decode_message, encode_message
from consensus.evidence import EvidencePool, verify_evidence
from consensus.errors import ConsensusError, Rejected, SignerRefused, TxRejected, UnsafeStart
from consensus.interfaces import (
    Application,
    BlockContext,
    BuiltBlock,
    ChainTip,
    Clock,
    CommitResult,
    Transport,
    TxInfo,
)
from consensus.messages import (
    PROPOSAL_DOMAIN,
    VOTE_DOMAIN,
    Evidence,
    Proposal,
    Vote,
    VoteType,
    block_id_of,
    sign_proposal,
    sign_vote,
)
from consensus.mempool import Mempool
from consensus.node import Node, NodeConfig
from consensus.params import ConsensusParams, Step
from consensus.signer import FileLastSignStore, LastSign, MemoryLastSignStore, Signer
from consensus.validators import Validator, ValidatorSet
from consensus.wal import FileWal, MemoryWal

__all__ = [
    "Application",
    "BlockContext",
    "BuiltBlock",
    "Certificate",
    "ChainTip",
    "Clock",
    "CommitResult",
    "CommitSig",
    "ConsensusError",
    "ConsensusParams",
    "DecidedBlock",
    "Driver",
    "Evidence",
    "EvidencePool",
    "FileLastSignStore",
    "FileWal",
    "LastSign",
    "MemoryLastSignStore",
    "MemoryWal",
    "Mempool",
    "Message",
    "Node",
    "NodeConfig",
    "PROPOSAL_DOMAIN",
    "Proposal",
    "Rejected",
    "Signer",
    "SignerRefused",
    "Step",
    "Transport",
    "TxInfo",
    "TxRejected",
    "UnsafeStart",
    "VOTE_DOMAIN",
    "Validator",
    "ValidatorSet",
    "Vote",
    "VoteType",
    "block_id_of",
    "block_time_ms",
    "check_signatures",
    "decode_certificate",
    "decode_message",
    "encode_certificate",
    "encode_message",
    "sign_proposal",
    "sign_vote",
    "verify_certificate",
    "verify_evidence",
]
