"""The replicated state machine as consensus sees it: the ledger (wallet/) over LevelDB (storage/).

This is the ABCI border: :class:`LedgerApplication` implements
``consensus.Application``. Consensus hands it opaque bytes (transactions, blocks)
and certificates; it answers with ledger verdicts translated into consensus
errors. Each proposed block is executed once (when built or verified) and the
outcome is kept until the block is committed, so a commit only writes.

Signatures are verified once per node: a transaction that passed :meth:`check_tx`
is remembered decoded and verified, and blocks made of such transactions skip
the expensive Ed25519 check. Many transactions arriving together (a peer's gossip
batch, blocks fetched by block sync) have their signatures checked together on
every core first (:mod:`wallet.verify_pool`), then each is checked or executed
with its signature known good; the rules and refusals are the same.

Threads: blocks are built, verified and committed by one thread at a time (the
node's execution worker, fedow_node/engine/worker.py), which alone reads the live
store and the executed-blocks cache. :meth:`check_tx` and :attr:`params` may be
called from any thread: they read :class:`_Checking`, an immutable record of the
last commit (its LevelDB snapshot, tip time, parameters) that each commit replaces
whole; the cache of decoded transactions has its own lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import structlog

import wallet
from consensus import (BlockContext, BuiltBlock, Certificate, ChainTip, CommitResult, Evidence, TxInfo,
                       ValidatorSet, block_id_of, block_time_ms, decode_certificate, encode_certificate,
                       verify_certificate)
from consensus.errors import Rejected, TxRejected
from consensus.evidence import verify_evidence
from fedow_node.engine.commits import CommitChannel, CommittedBlock
from fedow_node.protocol import UpgradeRequired, known_versions as protocol_versions
from fedow_node.totals import TillAttribution, block_totals
from storage import ChangeSet, CommitBatch, CommittedState, Store, next_state_hash
from wallet.block import EMPTY_HASH, Block, decode_block, make_block
from wallet.tx import verified_txids
from wallet.codec import pack, unpack
from wallet.params import LedgerParams
from wallet.protocol import version_at
from wallet.verify_pool import VerifyPool, shared_pool

log = structlog.get_logger(__name__)

MAX_CACHED_TXS = 400_000
MAX_CACHED_OUTCOMES = 16


@dataclass(frozen=True)
class _Executed:
    """A block executed against the current tip, waiting to be committed."""

    block: Block
    outcome: wallet.BlockOutcome
    changes: ChangeSet
    """``outcome.changes`` frozen with their digest, hashed once for the header check and the commit."""
    state_hash: bytes
    evidence: tuple[Evidence, ...]
    txs: tuple[wallet.Tx, ...]
    """The block's transactions, decoded (same order as ``block.txs``)."""


@dataclass(frozen=True)
class _Checking:
    """What :meth:`LedgerApplication.check_tx` reads: the state one commit left, swapped whole by the next."""

    state: CommittedState
    tip_time_ms: int
    params: LedgerParams
    records: wallet.RecordCache = field(default_factory=wallet.RecordCache)
    """Records decoded from ``state`` (this snapshot only: never forgotten, dropped with the record)."""


def _translate(exc: wallet.Rejected) -> Rejected:
    return Rejected(exc.code, exc.detail)


class LedgerApplication:
    """consensus.Application backed by wallet rules and a Store; one instance per node."""

    def __init__(self, store: Store, chain_id: str, genesis_time_ms: int,
                 known_versions: frozenset[int] | None = None) -> None:
        self.store = store
        self.chain_id = chain_id
        self.genesis_time_ms = genesis_time_ms
        self.known_versions = protocol_versions() if known_versions is None else known_versions
        """The protocol versions this software runs (fedow_node/protocol.py)."""
        self._verified: OrderedDict[bytes, wallet.Tx] = OrderedDict()
        self._verified_lock = threading.Lock()
        self._executed: OrderedDict[bytes, _Executed] = OrderedDict()
        self._tip_header = self._read_tip_header()
        self._cache = wallet.RecordCache()
        """Records decoded from the committed state, for executions (the committing thread's) until they change."""
        self._checking = self._committed_view()
        self.tills = TillAttribution()
        """Which API token had this node sign a pending transaction: the daily totals' till column."""
        self.commits: CommitChannel | None = None
        """Where every commit (consensus or block sync) is announced to the rest of the node, if anywhere."""
        self.verify_pool: VerifyPool = shared_pool()
        """Where batches of signatures are checked on every core."""

    # --- reading the chain ------------------------------------------------------------

    @property
    def params(self) -> LedgerParams:
        """Chain parameters of the committed state (governance may change them: each commit re-reads them)."""
        return self._checking.params

    def _committed_view(self) -> _Checking:
        committed = self.store.committed
        return _Checking(committed, self._tip_header[1], wallet.current_params(committed))

    def _read_tip_header(self) -> tuple[bytes, int]:
        """(block hash, block time) of the tip; zero hash and genesis time at height 0."""
        height = self.store.height
        if height == 0:
            return EMPTY_HASH, self.genesis_time_ms
        raw = self.store.block(height)
        assert raw is not None, "the store's head names a block it does not hold"
        block = decode_block(raw, chain_id=self.chain_id, max_bytes=len(raw))
        return block_id_of(raw), block.header.time_ms

    def validator_powers(self, height: int) -> Mapping[bytes, int]:
        return dict(wallet.validator_set(self.store, height))

    def validator_set(self, height: int) -> ValidatorSet:
        """The set of any height from 1 to the tip + 2 (the ledger keeps every set it scheduled)."""
        return ValidatorSet.from_powers(self.validator_powers(height))

    def chain_tip(self) -> ChainTip:
        height = self.store.height
        raw_cert = self.store.certificate(height) if height else None
        certificate = decode_certificate(raw_cert) if raw_cert else None
        return ChainTip(height, self.store.state_hash, self._tip_header[1], certificate)

    def decided_block(self, height: int) -> tuple[bytes, Certificate] | None:
        raw = self.store.block(height)
        raw_cert = self.store.certificate(height)
        if raw is None or raw_cert is None:
            return None
        return raw, decode_certificate(raw_cert)

    def protocol_version(self, height: int) -> int:
        """The version of block ``height`` (the next one or later); UpgradeRequired if this software lacks it."""
        version = version_at(self.store, height)
        if version not in self.known_versions:
            raise UpgradeRequired(version, height, self.known_versions)
        return version

    # --- transactions -----------------------------------------------------------------

    def decode_tx(self, tx: bytes) -> wallet.Tx:
        try:
            return wallet.decode_tx(tx, self.params.max_tx_bytes)
        except wallet.Rejected as exc:
            raise TxRejected(exc.code, exc.detail) from None

    def check_tx(self, tx: bytes, signature_verified: bool) -> TxInfo:
        """Decode, verify the signature once, and dry-run the transaction on the committed state.

        Any thread: the dry run reads the snapshot of the last commit, whole."""
        checking = self._checking
        decoded = self._known(tx)
        if decoded is None:
            decoded = self.decode_tx(tx)
            if not (signature_verified or decoded.verify_signature(self.chain_id)):
                raise TxRejected("bad_signature", f"signature of transaction {decoded.txid.hex()} does not verify "
                                                  f"for signer {decoded.signer.hex()} on chain {self.chain_id!r}")
        ctx = wallet.BlockContext(self.chain_id, checking.state.height + 1, checking.tip_time_ms, EMPTY_HASH)
        try:
            wallet.apply_tx(wallet.Overlay(checking.state, checking.records), ctx, decoded)
        except wallet.Rejected as exc:
            raise TxRejected(exc.code, exc.detail) from None
        self._remember(tx, decoded)
        return TxInfo(decoded.txid, decoded.signer)

    def signatures_verify(self, txs: Sequence[bytes]) -> list[bool]:
        """For each transaction, whether its signatures verify, all checked together on the verify pool.

        False also for one that does not decode: :meth:`check_tx` then says what is wrong
        with it, as it would have without this pass. Already verified ones are not checked again.
        """
        txids: dict[bytes, bytes] = {}
        decoded: list[wallet.Tx] = []
        for tx in txs:
            if self._known(tx) is None and tx not in txids:
                try:
                    decoded.append(wallet.decode_tx(tx, len(tx)))
                except wallet.Rejected:
                    continue
                txids[tx] = decoded[-1].txid
        good = verified_txids(self.chain_id, decoded, self.verify_pool)
        return [txids.get(tx) in good or self._known(tx) is not None for tx in txs]

    def _known(self, tx: bytes) -> wallet.Tx | None:
        with self._verified_lock:
            return self._verified.get(tx)

    def _remember(self, tx: bytes, decoded: wallet.Tx) -> None:
        with self._verified_lock:
            self._verified[tx] = decoded
            self._verified.move_to_end(tx)
            while len(self._verified) > MAX_CACHED_TXS:
                self._verified.popitem(last=False)

    def _decoded_txs(self, txs: Sequence[bytes], checked: Mapping[bytes, wallet.Tx] | None = None
                     ) -> tuple[list[wallet.Tx], set[bytes]]:
        """Decode a block's transactions; the txids whose signature this node already verified.

        ``checked``: transactions the caller decoded and verified (block sync), by their bytes;
        used within the chain's ``max_tx_bytes``, as decoding them here would be."""
        decoded, verified = [], set()
        max_tx_bytes = self.params.max_tx_bytes
        for tx in txs:
            known = self._known(tx)
            if known is None and checked and len(tx) <= max_tx_bytes:
                known = checked.get(tx)
            if known is not None:
                verified.add(known.txid)
                decoded.append(known)
            else:
                decoded.append(self.decode_tx(tx))
        return decoded, verified

    # --- blocks -----------------------------------------------------------------------

    def _ledger_context(self, context: BlockContext, time_ms: int,
                        evidence: Sequence[Evidence]) -> wallet.BlockContext:
        return wallet.BlockContext(self.chain_id, context.height, time_ms, context.proposer,
                                   tuple(ev.validator for ev in evidence))

    def _block_time(self, height: int, last_certificate: Certificate | None) -> int:
        if height == 1:
            return self.genesis_time_ms
        return block_time_ms(last_certificate, self.validator_set(height - 1), self.genesis_time_ms)

    def _check_context(self, context: BlockContext) -> None:
        if context.height != self.store.height + 1:
            raise Rejected("wrong_height", f"block height {context.height} does not follow the tip "
                                           f"{self.store.height}")

    def build_block(self, context: BlockContext, last_certificate: Certificate | None, txs: Sequence[bytes],
                    evidence: Sequence[Evidence]) -> BuiltBlock:
        self._check_context(context)
        params = self.params
        time_ms = self._block_time(context.height, last_certificate)
        candidates, verified = self._decoded_txs(txs)
        raw_by_txid = {decoded.txid: raw for decoded, raw in zip(candidates, txs)}
        built = wallet.build_block(self.store, self._ledger_context(context, time_ms, evidence), candidates,
                                   params.max_block_txs, params.max_block_bytes, verified, self._cache)
        for txid, why in built.dropped:
            log.debug("tx_dropped_from_block", txid=txid.hex(), code=why.code, detail=why.detail)
        changes = ChangeSet(built.outcome.changes)
        state_hash = next_state_hash(self.store.state_hash, context.height, changes)
        block = make_block(chain_id=self.chain_id, height=context.height, time_ms=time_ms,
                           prev_block_hash=self._tip_header[0], proposer=context.proposer,
                           txs=[raw_by_txid[tx.txid] for tx in built.txs], state_hash=state_hash,
                           last_commit=encode_certificate(last_certificate) if last_certificate else None,
                           evidence=[pack(ev.to_wire()) for ev in evidence],
                           version=self.protocol_version(context.height))
        encoded = block.encode()
        executed = _Executed(block, built.outcome, changes, state_hash, tuple(evidence), built.txs)
        self._keep(block_id_of(encoded), executed)
        return BuiltBlock(encoded, time_ms)

    def verify_block(self, context: BlockContext, block: bytes) -> int:
        key = block_id_of(block)
        known = self._executed.get(key)
        if known is not None:
            return known.block.header.time_ms
        self._check_context(context)
        executed = self._execute(block)
        self._keep(key, executed)
        return executed.block.header.time_ms

    def _execute(self, raw: bytes, checked: Mapping[bytes, wallet.Tx] | None = None) -> _Executed:
        """Check a block against the tip and run it; Rejected names the first discrepancy.

        ``checked``: transactions the caller decoded and whose signatures it verified, by their bytes."""
        params = self.params
        try:
            block = decode_block(raw, chain_id=self.chain_id, max_bytes=params.max_block_bytes + 1024 * 1024)
        except wallet.Rejected as exc:
            raise _translate(exc) from None
        header = block.header
        height = self.store.height + 1
        if header.height != height:
            raise Rejected("wrong_height", f"block height {header.height} does not follow the tip {height - 1}")
        version = self.protocol_version(height)
        if header.version != version:
            raise Rejected("wrong_version", f"block {height} says protocol version {header.version}, "
                                            f"the chain's is {version}")
        if header.prev_block_hash != self._tip_header[0]:
            raise Rejected("wrong_parent", f"block {height} does not link to the tip's hash")
        # A block re-proposed in a later round (its value is locked) keeps the proposer that built it:
        # the proposer must be a validator of the height, not necessarily this round's proposer.
        if self.validator_set(height).power_of(header.proposer) == 0:
            raise Rejected("wrong_proposer", f"block {height} names proposer {header.proposer.hex()}, "
                                             "which has no voting power at that height")
        last_certificate = self._check_last_commit(block)
        expected_time = self._block_time(height, last_certificate)
        if header.time_ms != expected_time:
            raise Rejected("wrong_time", f"block time {header.time_ms} is not the certified time {expected_time}")
        evidence = self._check_evidence(block, params)
        if len(block.txs) > params.max_block_txs or sum(map(len, block.txs)) > params.max_block_bytes:
            raise Rejected("block_too_large", f"block {height} exceeds max_block_txs or max_block_bytes")
        txs, verified = self._decoded_txs(block.txs, checked)
        ctx = wallet.BlockContext(self.chain_id, height, header.time_ms, header.proposer,
                                  tuple(ev.validator for ev in evidence))
        try:
            outcome = wallet.execute_block(self.store, ctx, txs, verified, self._cache)
        except wallet.Rejected as exc:
            raise _translate(exc) from None
        changes = ChangeSet(outcome.changes)
        state_hash = next_state_hash(self.store.state_hash, height, changes)
        if state_hash != header.state_hash:
            raise Rejected("wrong_state_hash", f"block {height} claims state hash {header.state_hash.hex()}, "
                                               f"execution gives {state_hash.hex()}")
        return _Executed(block, outcome, changes, state_hash, evidence, tuple(txs))

    def _check_last_commit(self, block: Block) -> Certificate | None:
        height = block.header.height
        if height == 1:
            if block.last_commit is not None:
                raise Rejected("unexpected_last_commit", "block 1 cannot carry a last commit")
            return None
        if block.last_commit is None:
            raise Rejected("missing_last_commit", f"block {height} must carry the certificate of block {height - 1}")
        certificate = decode_certificate(block.last_commit)
        verify_certificate(certificate, self.validator_set(height - 1), self.chain_id, height - 1,
                           self._tip_header[0])
        return certificate

    def _check_evidence(self, block: Block, params: LedgerParams) -> tuple[Evidence, ...]:
        evidence = []
        seen: set[bytes] = set()
        for raw in block.evidence:
            try:
                item = Evidence.from_wire(unpack(raw, 64 * 1024))
            except wallet.Rejected as exc:
                raise _translate(exc) from None
            if item.hash in seen:
                raise Rejected("duplicate_evidence", "a block cannot carry the same evidence twice")
            seen.add(item.hash)
            verify_evidence(item, self.validator_set(item.height), self.chain_id, block.header.height,
                            params.evidence_max_age_blocks)
            evidence.append(item)
        return tuple(evidence)

    def _keep(self, key: bytes, executed: _Executed) -> None:
        self._executed[key] = executed
        while len(self._executed) > MAX_CACHED_OUTCOMES:
            self._executed.popitem(last=False)

    def commit_block(self, block: bytes, certificate: Certificate,
                     checked: Mapping[bytes, wallet.Tx] | None = None) -> CommitResult:
        """Commit a block executed before, or execute it now (``checked`` as for :meth:`_execute`)."""
        key = block_id_of(block)
        executed = self._executed.pop(key, None) or self._execute(block, checked)
        height = executed.block.header.height
        if certificate.height != height or certificate.block_id != key:
            raise Rejected("certificate_mismatch", f"certificate for height {certificate.height} does not "
                                                   f"certify block {height}")
        results = executed.outcome.results
        txids = [result.txid for result in results]
        counters = block_totals(self.store, executed.block.header.time_ms, executed.txs, results,
                                self.tills.take(txids))
        self.store.commit(CommitBatch(
            height=height, block_hash=key, block=block, certificate=encode_certificate(certificate),
            changes=executed.changes, state_hash=executed.state_hash, txids=txids,
            wallet_touches=[(wallet_id, result.txid) for result in results for wallet_id in result.touched],
            counters=counters))
        self._tip_header = (key, executed.block.header.time_ms)
        self._executed.clear()
        self._cache.forget(executed.changes)
        self._checking = self._committed_view()
        with self._verified_lock:
            for tx in executed.block.txs:
                self._verified.pop(tx, None)
        log.debug("block_committed", height=height, txs=len(results), state_hash=executed.state_hash.hex())
        if self.commits is not None:
            self.commits.block_committed(CommittedBlock(height, key, executed.block.header.time_ms, executed.txs,
                                                        executed.block.txs, results))
        self.protocol_version(height + 1)  # an upgrade this software cannot follow stops the node here
        return CommitResult(executed.state_hash, tuple(result.txid for result in results),
                            tuple(ev.hash for ev in executed.evidence))
