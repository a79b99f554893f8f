"""A one-validator chain with no network: builds, certifies and commits blocks in-process.

For benchmarks and tests that need real blocks with real certificates quickly
(the ledger benchmark, audit tests). Votes are stamped one second after the
previous block, so block times are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

from consensus import BlockContext, Certificate, VoteType, sign_vote
from consensus.messages import block_id_of
from fedow_node.engine.application import LedgerApplication
from wallet.keys import SigningKey

BLOCK_INTERVAL_MS = 1000


class SoloChain:
    def __init__(self, app: LedgerApplication, validator: SigningKey) -> None:
        self.app = app
        self.validator = validator
        self.last_certificate: Certificate | None = app.chain_tip().certificate

    def produce(self, txs: Sequence[bytes]) -> tuple[bytes, Certificate]:
        """Build a block from ``txs`` (dropping those that do not apply), certify it and commit it."""
        tip = self.app.chain_tip()
        height = tip.height + 1
        built = self.app.build_block(BlockContext(height, 0, self.validator.public_key), self.last_certificate,
                                     txs, [])
        vote = sign_vote(self.validator, self.app.chain_id, VoteType.PRECOMMIT, height, 0, block_id_of(built.block),
                         built.time_ms + BLOCK_INTERVAL_MS)
        certificate = Certificate.from_precommits(height, 0, block_id_of(built.block), [vote])
        self.app.commit_block(built.block, certificate)
        self.last_certificate = certificate
        return built.block, certificate
