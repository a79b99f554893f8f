"""The full-chain replay: every block of a source re-checked and re-applied from genesis.

Modelled on Stellar Core's ``verify-checkpoints`` and run-time invariants: trust
nothing stored, recompute everything, stop at the first discrepancy. For each
height, in this order: the block decodes and its header hashes match its body
(txs_root, last_commit_hash, evidence_hash), it links to the previous block,
the last commit it carries certifies the previous block, its time is the
certified time, its evidence is valid, its own commit certificate holds more
than 2/3 of the stake of its height, every transaction decodes and its
signature verifies, the ledger rules re-apply (with the per-block money
invariant), and the resulting state hash is the header's. At the end: the
audited store's head and its whole state equal the replayed ones, and the full
money recount holds.

The replay writes into a fresh temporary store, so it uses the node's own
storage and ledger code paths; only signature checks run elsewhere (ahead, in
worker threads or processes) and they decide nothing: a transaction they did not vouch
for is verified again inline by the ledger.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections import deque
from collections.abc import Callable, Container, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import structlog

import wallet
from config import ConfigError, GenesisDoc, parse_genesis
from consensus import Certificate, ValidatorSet, block_id_of, block_time_ms, decode_certificate, verify_certificate
from consensus.errors import Rejected
from consensus.evidence import Evidence, verify_evidence
from storage import ChangeSet, CommitBatch, Store, StoredBlock, genesis_state_hash, next_state_hash, state_digest
from fedow_node.protocol import UpgradeRequired, known_versions
from wallet.block import EMPTY_HASH, Block, decode_block
from wallet.protocol import version_at
from wallet.codec import unpack

from ._errors import AuditFailed
from ._signatures import WORKERS, SignaturePool
from ._sources import ChainSource, RecordedHead
from ._trail import MoneyTrail, fed_backing

__all__ = ["AuditReport", "audit_chain"]

log = structlog.get_logger(__name__)

MAX_DECODED_BLOCK_BYTES = 256 * 1024 * 1024
"""A sanity bound for decoding only; the chain's own limits are checked block by block."""
AHEAD_PER_JOB = 3
"""Blocks whose signatures are being verified ahead of the replay, per worker."""
READ_BLOCKS = 256
"""Blocks read from the source per range scan."""


@dataclass(frozen=True)
class AuditReport:
    """A successful audit: what was replayed and what matched."""

    chain_id: str
    genesis_hash: str
    height: int
    blocks: int
    txs: int
    seconds: float
    tx_per_s: float
    jobs: int
    state_hash: str
    state_hash_match: bool
    state_digest_match: bool | None
    """None when the source shows no state (a peer)."""
    invariants_ok: bool
    fed_circulation: int
    """FED in balances, stakes, pools and holds: equals attested minted - attested burnt."""
    fed_attested_minted: int
    fed_attested_burnt: int
    fed_on_hold: int


def load_genesis_bytes(doc: bytes, expected: bytes | None) -> GenesisDoc:
    """The audited chain's genesis, checked against the expected document when one is given."""
    try:
        genesis = parse_genesis(json.loads(doc))
    except (ValueError, ConfigError) as exc:
        raise AuditFailed("bad_genesis", f"the stored genesis document does not parse: {exc}", 0) from None
    if genesis.canonical_bytes() != doc:
        raise AuditFailed("bad_genesis", "the stored genesis document is not in canonical form", 0)
    if expected is not None and expected != doc:
        raise AuditFailed("genesis_mismatch", f"the stored genesis has hash {_sha256(doc).hex()}, the expected "
                                              f"genesis has hash {_sha256(expected).hex()}", 0)
    return genesis


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass(frozen=True)
class _Pending:
    """A block read from the source, decoded with its transactions, their signatures being verified."""

    stored: StoredBlock
    block: Block | AuditFailed
    txs: tuple[wallet.Tx | wallet.Rejected, ...]
    """Each transaction decoded (within the block's own bound), or why it does not decode; each height's
    ``max_tx_bytes`` is checked when the block is applied."""
    signatures: tuple[Future[list[bytes]], ...]


class _Replayer:
    """Checks and applies one block after another onto ``target`` (at genesis when created)."""

    def __init__(self, genesis: GenesisDoc, target: Store, trail: MoneyTrail | None = None) -> None:
        self.trail = trail
        self.chain_id = genesis.chain_id
        self.genesis_time_ms = genesis.genesis_time_ms
        self.target = target
        self.cache = wallet.RecordCache()
        self.prev_block_id = EMPTY_HASH

    def validator_set(self, height: int) -> ValidatorSet:
        return ValidatorSet.from_powers(dict(wallet.validator_set(self.target, height)))

    def apply(self, stored: StoredBlock, block: Block, decoded: Sequence[wallet.Tx | wallet.Rejected],
              verified: Container[bytes]) -> int:
        """Check everything about ``stored`` at the next height and commit it; returns its tx count."""
        height = self.target.height + 1
        params = wallet.current_params(self.target)
        block_id = block_id_of(stored.block)
        self._check_links(stored, block, height, block_id)
        self._check_version(block, height)
        last_certificate = self._check_last_commit(block, height)
        expected_time = (self.genesis_time_ms if last_certificate is None
                         else block_time_ms(last_certificate, self.validator_set(height - 1), self.genesis_time_ms))
        if block.header.time_ms != expected_time:
            raise AuditFailed("wrong_time", f"block {height} has time {block.header.time_ms}, its last commit "
                                            f"certifies {expected_time}", height)
        evidence = self._check_evidence(block, height, params.evidence_max_age_blocks)
        self._check_certificate(stored, height, block_id)
        validators = self.validator_set(height)
        if block.header.proposer not in validators:
            raise AuditFailed("wrong_proposer", f"block {height} names proposer {block.header.proposer.hex()}, "
                                                "which has no voting power at that height", height)
        if len(block.txs) > params.max_block_txs or sum(map(len, block.txs)) > params.max_block_bytes:
            raise AuditFailed("block_too_large", f"block {height} holds {len(block.txs)} transactions of "
                                                 f"{sum(map(len, block.txs))} bytes, above max_block_txs "
                                                 f"{params.max_block_txs} or max_block_bytes {params.max_block_bytes}",
                              height)
        txs = self._decoded_txs(block, decoded, height, params.max_tx_bytes)
        ctx = wallet.BlockContext(self.chain_id, height, block.header.time_ms, block.header.proposer,
                                  tuple(item.validator for item in evidence))
        try:
            outcome = wallet.execute_block(self.target, ctx, txs, verified, self.cache)
        except wallet.Rejected as exc:
            raise AuditFailed(exc.code, f"block {height} does not re-apply: {exc.detail}", height) from None
        except wallet.InvariantBroken as exc:
            raise AuditFailed("invariant_broken", f"block {height} breaks a money invariant: {exc}", height) from None
        changes = ChangeSet(outcome.changes)
        state_hash = next_state_hash(self.target.state_hash, height, changes)
        if state_hash != block.header.state_hash:
            raise AuditFailed("wrong_state_hash", f"block {height} claims state hash {block.header.state_hash.hex()}, "
                                                  f"the replay gives {state_hash.hex()}", height)
        self.target.commit(CommitBatch(
            height=height, block_hash=block_id, block=stored.block, certificate=stored.certificate,
            changes=changes, state_hash=state_hash, txids=[result.txid for result in outcome.results],
            wallet_touches=[(wallet_id, result.txid) for result in outcome.results for wallet_id in result.touched]))
        self.cache.forget(outcome.changes)
        self.prev_block_id = block_id
        if self.trail is not None:
            self.trail.add_block(height, txs)
        return len(txs)

    def _check_version(self, block: Block, height: int) -> None:
        """The header's protocol version is the one the replayed state gives, and this auditor implements it."""
        version = version_at(self.target, height)
        if block.header.version != version:
            raise AuditFailed("wrong_version", f"block {height} says protocol version {block.header.version}, "
                                               f"the chain's is {version}", height)
        if version not in known_versions():
            raise AuditFailed("unknown_version", str(UpgradeRequired(version, height, known_versions())), height)

    def _check_links(self, stored: StoredBlock, block: Block, height: int, block_id: bytes) -> None:
        if block.header.height != height:
            raise AuditFailed("wrong_height", f"the block stored at height {height} says it is block "
                                              f"{block.header.height}", height)
        if block.header.prev_block_hash != self.prev_block_id:
            raise AuditFailed("wrong_parent", f"block {height} links to {block.header.prev_block_hash.hex()}, the "
                                              f"previous block's hash is {self.prev_block_id.hex()}", height)
        if stored.block_hash is not None and stored.block_hash != block_id:
            raise AuditFailed("block_hash_mismatch", f"the store indexes block {height} under hash "
                                                     f"{stored.block_hash.hex()}, its bytes hash to {block_id.hex()}",
                              height)

    def _check_last_commit(self, block: Block, height: int) -> Certificate | None:
        """The certificate of ``height - 1`` carried in this block (none in block 1)."""
        if height == 1:
            if block.last_commit is not None:
                raise AuditFailed("unexpected_last_commit", "block 1 carries a last commit", height)
            return None
        if block.last_commit is None:
            raise AuditFailed("missing_last_commit", f"block {height} carries no certificate of block {height - 1}",
                              height)
        try:
            certificate = decode_certificate(block.last_commit)
            verify_certificate(certificate, self.validator_set(height - 1), self.chain_id, height - 1,
                               self.prev_block_id)
        except Rejected as exc:
            raise AuditFailed(f"last_commit_{exc.code}", f"the last commit carried by block {height} does not "
                                                         f"certify block {height - 1}: {exc.detail}", height) from None
        return certificate

    def _check_certificate(self, stored: StoredBlock, height: int, block_id: bytes) -> None:
        if stored.certificate is None:
            raise AuditFailed("missing_certificate", f"no commit certificate is stored for block {height}", height)
        try:
            certificate = decode_certificate(stored.certificate)
            verify_certificate(certificate, self.validator_set(height), self.chain_id, height, block_id)
        except Rejected as exc:
            raise AuditFailed(f"certificate_{exc.code}", f"the commit certificate of block {height} is invalid: "
                                                         f"{exc.detail}", height) from None

    def _check_evidence(self, block: Block, height: int, max_age_blocks: int) -> tuple[Evidence, ...]:
        items: list[Evidence] = []
        for index, raw in enumerate(block.evidence):
            try:
                item = Evidence.from_wire(unpack(raw, 64 * 1024))
                verify_evidence(item, self.validator_set(item.height), self.chain_id, height, max_age_blocks)
            except (Rejected, wallet.Rejected) as exc:
                raise AuditFailed("bad_evidence", f"evidence {index} of block {height} is invalid: {exc.detail}",
                                  height) from None
            if any(known.hash == item.hash for known in items):
                raise AuditFailed("duplicate_evidence", f"block {height} carries evidence {index} twice", height)
            items.append(item)
        return tuple(items)

    @staticmethod
    def _decoded_txs(block: Block, decoded: Sequence[wallet.Tx | wallet.Rejected], height: int,
                     max_tx_bytes: int) -> list[wallet.Tx]:
        """The block's transactions, decoded ahead; the first that does not decode within the
        chain's ``max_tx_bytes`` of this height fails the audit, as decoding it here would."""
        txs = []
        for index, (raw, tx) in enumerate(zip(block.txs, decoded)):
            if len(raw) > max_tx_bytes:
                tx = wallet.Rejected("oversize", f"{len(raw)} bytes exceeds the limit of {max_tx_bytes}")
            if isinstance(tx, wallet.Rejected):
                raise AuditFailed(tx.code, f"transaction {index} of block {height} does not decode: {tx.detail}",
                                  height)
            txs.append(tx)
        return txs


def _decode_all(raw_txs: Sequence[bytes]) -> tuple[wallet.Tx | wallet.Rejected, ...]:
    decoded: list[wallet.Tx | wallet.Rejected] = []
    for raw in raw_txs:
        try:
            decoded.append(wallet.decode_tx(raw, MAX_DECODED_BLOCK_BYTES))
        except wallet.Rejected as exc:
            decoded.append(exc)
    return tuple(decoded)


def _read_ahead(source: ChainSource, last_height: int, chain_id: str,
                pool: SignaturePool | None) -> Iterator[_Pending]:
    """Blocks in height order, decoded, their signatures submitted to the pool as soon as read."""
    for start in range(1, last_height + 1, READ_BLOCKS):
        for stored in source.blocks(start, min(last_height, start + READ_BLOCKS - 1)):
            if stored.block is None:
                yield _Pending(stored, AuditFailed("missing_block", f"no block is stored at height {stored.height}",
                                                   stored.height), (), ())
                continue
            try:
                block: Block | AuditFailed = decode_block(stored.block, chain_id=chain_id,
                                                          max_bytes=MAX_DECODED_BLOCK_BYTES)
            except wallet.Rejected as exc:
                block = AuditFailed(exc.code, f"block {stored.height} is malformed: {exc.detail}", stored.height)
            txs = _decode_all(block.txs) if isinstance(block, Block) else ()
            futures = pool.submit([tx for tx in txs if isinstance(tx, wallet.Tx)]) if pool is not None else []
            yield _Pending(stored, block, txs, tuple(futures))


def _pipelined(pending: Iterator[_Pending], ahead: int) -> Iterator[_Pending]:
    """The same blocks, read ``ahead`` blocks before they are handed out (so workers stay busy)."""
    window: deque[_Pending] = deque()
    for item in pending:
        window.append(item)
        if len(window) > ahead:
            yield window.popleft()
    yield from window


def audit_chain(source: ChainSource, *, jobs: int = 1, workers: str = WORKERS[0], workdir: Path | None = None,
                expected_genesis: bytes | None = None,
                progress: Callable[[int, int], None] | None = None,
                trail: MoneyTrail | None = None) -> AuditReport:
    """Replay ``source`` from genesis; raise :class:`AuditFailed` at the first discrepancy.

    ``jobs`` > 1 verifies signatures in that many ``workers`` (threads or processes); 1 verifies inline.
    ``progress(height, txs)`` is called after each block. ``trail`` collects every attested
    FED mint and burn and the holds (for ``--stripe``).
    """
    doc = source.genesis_doc()
    if doc is None:
        raise AuditFailed("no_genesis", "the audited chain holds no genesis document", 0)
    genesis = load_genesis_bytes(doc, expected_genesis)
    head = source.head()
    started = time.perf_counter()
    pool = SignaturePool(genesis.chain_id, jobs, workers) if jobs > 1 else None
    with tempfile.TemporaryDirectory(prefix="fedow-audit-", dir=workdir) as folder:
        target = Store.open(Path(folder) / "chain")
        try:
            state = wallet.genesis_state(genesis)
            target.init_genesis(doc, state, genesis_state_hash(state))
            replayer = _Replayer(genesis, target, trail)
            txs = 0
            for item in _pipelined(_read_ahead(source, head.height, genesis.chain_id, pool),
                                   AHEAD_PER_JOB * jobs if pool else 0):
                if isinstance(item.block, AuditFailed):
                    raise item.block
                verified = SignaturePool.collect(item.signatures) if item.signatures else frozenset()
                txs += replayer.apply(item.stored, item.block, item.txs, verified)
                if progress is not None:
                    progress(target.height, txs)
            seconds = time.perf_counter() - started
            report = _final_checks(source, head, target, genesis, doc, txs, jobs, seconds)
            if trail is not None:
                trail.finish(target)
        finally:
            if pool is not None:
                pool.close()
            target.close()
    log.info("audit.done", height=report.height, txs=report.txs, seconds=report.seconds, jobs=jobs)
    return report


def _final_checks(source: ChainSource, head: RecordedHead, target: Store, genesis: GenesisDoc, doc: bytes,
                  txs: int, jobs: int, seconds: float) -> AuditReport:
    """The replay reached the source's head: compare heads, whole states, and recount the money."""
    if target.height != head.height:
        raise AuditFailed("missing_block", f"the source's head is height {head.height}, only {target.height} "
                                           "blocks could be read", target.height + 1)
    if head.state_hash is not None and head.state_hash != target.state_hash:
        raise AuditFailed("head_mismatch", f"the audited store records state hash {head.state_hash.hex()} at its "
                                           f"head, the replay gives {target.state_hash.hex()}", head.height)
    entries = source.state_entries()
    digest_match = None
    if entries is not None:
        if state_digest(entries) != target.state_digest():
            raise AuditFailed("state_digest_mismatch", "the audited store's state differs from the replayed state "
                                                       "although every block checks out (first differing key: "
                                                       f"{_first_difference(source, target)})", head.height)
        digest_match = True
    try:
        wallet.check_full(target)
    except wallet.InvariantBroken as exc:
        raise AuditFailed("invariant_broken", f"the full money recount fails: {exc}", target.height) from None
    backing = fed_backing(target)
    return AuditReport(
        chain_id=genesis.chain_id, genesis_hash=_sha256(doc).hex(), height=target.height, blocks=target.height,
        txs=txs, seconds=round(seconds, 3), tx_per_s=round(txs / seconds, 1) if seconds > 0 else 0.0, jobs=jobs,
        state_hash=target.state_hash.hex(), state_hash_match=True, state_digest_match=digest_match,
        invariants_ok=True, fed_circulation=backing.circulation, fed_attested_minted=backing.attested_minted,
        fed_attested_burnt=backing.attested_burnt, fed_on_hold=backing.on_hold)


def _first_difference(source: ChainSource, target: Store) -> str:
    """The first state key (in key order) whose value differs, shown readably."""
    audited = source.state_entries()
    assert audited is not None
    missing = (b"\xff" * 8, b"")
    replayed = target.iter_prefix(b"")
    left, right = next(audited, missing), next(replayed, missing)
    while left != missing or right != missing:
        if left != right:
            return _show_key(min(left[0], right[0]) if left[0] != right[0] else left[0])
        left, right = next(audited, missing), next(replayed, missing)
    return "none"


def _show_key(key: bytes) -> str:
    prefix, _, rest = key.partition(b"/")
    return f"{prefix.decode('ascii', 'replace')}/{rest.hex()}" if rest else key.decode("ascii", "replace")
