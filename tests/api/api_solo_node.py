"""A NodeFacade for API tests: real ledger rules and real LevelDB storage, no consensus.

``SoloNode`` checks a submitted transaction as the mempool would (decode,
signature, dry run on committed state), then commits it in a block of its own
(``auto_commit``) or keeps it pending until :meth:`SoloNode.commit` puts every
pending transaction into one block. Blocks carry a real single-validator commit
certificate, so the block endpoints show what a real node stores. Runs on
asyncio, like the API.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, AsyncIterator, Mapping, Sequence

import wallet
from config import ChainParams, GenesisDoc, parse_genesis
from consensus import Certificate, VoteType, encode_certificate, sign_vote
from fedow_node.api import CommitFeed, CommittedTx, SubmitRefused, tokens_path
from fedow_node.api.facade import REFUSALS, refusal_of
from fedow_node.offline import OfflineService
from fedow_node.totals import TillAttribution, block_totals
from storage import CommitBatch, CommittedState, Store, TxLocation, genesis_state_hash, next_state_hash
from wallet import queries
from wallet.block import EMPTY_HASH, block_id, make_block
from wallet.keys import SigningKey
from wallet.layout import place_wallet_id

CHAIN = "fedow-apitest"
GENESIS_MS = 1_767_225_600_000
BLOCK_MS = 1000


def key(name: str) -> SigningKey:
    return SigningKey(hashlib.sha256(name.encode()).digest())


AUTHORITY = key("authority")
VALIDATOR = key("validator")
BAR = key("bar")
CAFE = key("cafe")
ALICE = key("alice")
BOB = key("bob")
TREASURY = (key("treasury-1"), key("treasury-2"), key("treasury-3"))
"""A 2-of-3 treasury, like the devnet's (tests/treasury runs its nodes in process)."""
FLOAT = 1_000_000
"""FED float of the bar at genesis (what it sells for cash); the café starts without any."""


def genesis(**param_changes: int) -> GenesisDoc:
    """Two places in a festival federation; the bar has local (one melting), membership and badge assets."""
    params = ChainParams.devnet().to_dict() | {"tx_ttl_blocks": 100} | param_changes
    return parse_genesis({
        "chain_id": CHAIN, "genesis_time_ms": GENESIS_MS, "authorities": [AUTHORITY.public_key.hex()],
        "authority_threshold": 1,
        "treasury": sorted(k.public_key.hex() for k in TREASURY), "treasury_threshold": 2,
        "params": params,
        "assets": [
            {"id": "FED", "name": "Euro fédéré", "category": "FED", "origin_place": None, "melting": False},
            {"id": "BARCOIN", "name": "Bar coin", "category": "TLF", "origin_place": "bar", "melting": False},
            {"id": "MELT", "name": "Monnaie fondante", "category": "TLF", "origin_place": "bar", "melting": True},
            {"id": "MEMBER", "name": "Adhésion", "category": "SUB", "origin_place": "bar", "melting": False},
            {"id": "BADGE", "name": "Badgeuse", "category": "BDG", "origin_place": "bar", "melting": False},
            {"id": "CAFEPTS", "name": "Café points", "category": "FID", "origin_place": "cafe", "melting": False}],
        "places": [{"id": "bar", "name": "Bar du coin", "public_key": BAR.public_key.hex()},
                   {"id": "cafe", "name": "Café", "public_key": CAFE.public_key.hex()}],
        "federations": [{"id": "festival", "name": "Festival", "places": ["bar", "cafe"], "assets": ["FED"]}],
        "validators": [{"public_key": VALIDATOR.public_key.hex(), "place": "bar", "stake": 100_000}],
        "balances": [{"owner": ALICE.public_key.hex(), "asset": "FED", "amount": 50_000},
                     {"owner": BOB.public_key.hex(), "asset": "MELT", "amount": 10_000},
                     {"owner": place_wallet_id("bar").hex(), "asset": "FED", "amount": FLOAT}],
    })


class SoloNode:
    """The test node: ``place_key`` signs POS requests; tokens live in ``home``."""

    def __init__(self, home: Path, place_key: SigningKey | None = BAR, *, auto_commit: bool = True,
                 max_pending: int = 1000, doc: GenesisDoc | None = None) -> None:
        doc = doc or genesis()
        self.chain_id = doc.chain_id
        self.store = Store.open(home / "data")
        state = wallet.genesis_state(doc)
        self.store.init_genesis(doc.canonical_bytes(), state, genesis_state_hash(state))
        self.place_key = place_key
        self.api_tokens_path = tokens_path(home)
        self.auto_commit = auto_commit
        self.max_pending = max_pending
        self.pending: list[wallet.Tx] = []
        self._raw: dict[bytes, bytes] = {}
        self._last_certificate: bytes | None = None
        self.feed = CommitFeed(self.store.tx_location)
        self.tills = TillAttribution()
        self.offline: OfflineService | None = None

    def close(self) -> None:
        self.store.close()

    # -- NodeFacade -------------------------------------------------------------------
    @property
    def reader(self) -> CommittedState:
        return self.store.committed

    def status(self) -> Mapping[str, Any]:
        return {"validator": True, "peers": 0, "mempool_txs": len(self.pending)}

    async def submit(self, tx: bytes) -> bytes:
        return self.admit(tx)

    async def submit_batch(self, txs: Sequence[bytes]) -> list[bytes | SubmitRefused]:
        results: list[bytes | SubmitRefused] = []
        for tx in txs:
            try:
                results.append(await self.submit(tx))
            except REFUSALS as exc:
                refusal = refusal_of(exc)
                assert refusal is not None
                results.append(refusal)
        return results

    def admit(self, tx: bytes) -> bytes:
        """:meth:`submit`, synchronously (what the node's mempool does: tests of the offline forwarder)."""
        decoded = wallet.decode_tx(tx, self._params().max_tx_bytes)
        if not decoded.verify_signature(self.chain_id):
            raise SubmitRefused("bad_signature", f"signature of transaction {decoded.txid.hex()} does not verify")
        if decoded.txid in self._raw:
            raise SubmitRefused("duplicate", f"transaction {decoded.txid.hex()} is already in the mempool")
        if len(self.pending) >= self.max_pending:
            raise SubmitRefused("mempool_full", f"mempool holds its maximum of {self.max_pending} transactions")
        height = self.store.height + 1
        ctx = wallet.BlockContext(self.chain_id, height, self.block_time(height), EMPTY_HASH)
        wallet.apply_tx(wallet.Overlay(self.store), ctx, decoded)  # raises wallet.Rejected
        self.pending.append(decoded)
        self._raw[decoded.txid] = tx
        if self.auto_commit:
            self.commit()
        return decoded.txid

    def is_pending(self, txid: bytes) -> bool:
        return txid in self._raw

    async def wait_committed(self, txid: bytes, timeout_s: float) -> TxLocation | None:
        return await self.feed.wait_committed(txid, timeout_s)

    def next_expiry(self) -> int:
        return self.store.height + self._params().tx_ttl_blocks

    def dropped(self, txid: bytes) -> SubmitRefused | None:
        return self.feed.dropped(txid)

    def subscribe_commits(self) -> AsyncIterator[CommittedTx]:
        return self.feed.subscribe()

    def note_signed(self, txid: bytes, till: str) -> None:
        self.tills.note(txid, till)

    @property
    def subscribers(self) -> int:
        return self.feed.subscribers

    # -- the solo committer ------------------------------------------------------------
    def _params(self) -> wallet.LedgerParams:
        return queries.params(self.store)

    @staticmethod
    def block_time(height: int) -> int:
        """Block 1 at the genesis time, each next one when the single vote before it was stamped.

        That is the consensus rule (a block's time is the median time of its last commit), so the
        solo node's chains pass ``fedow-node audit`` (tests/audit/test_audit_stripe.py)."""
        return GENESIS_MS + (height - 1) * BLOCK_MS

    def commit(self) -> int:
        """Commit pending transactions in one block (those that no longer apply are dropped); its height."""
        height = self.store.height + 1
        ctx = wallet.BlockContext(self.chain_id, height, self.block_time(height), VALIDATOR.public_key)
        params = self._params()
        built = wallet.build_block(self.store, ctx, self.pending, params.max_block_txs, params.max_block_bytes,
                                   {tx.txid for tx in self.pending})
        state_hash = next_state_hash(self.store.state_hash, height, built.outcome.changes)
        prev = self.store.block_hash(height - 1) if height > 1 else EMPTY_HASH
        raw_txs = [self._raw[tx.txid] for tx in built.txs]
        block = make_block(chain_id=self.chain_id, height=height, time_ms=ctx.time_ms, prev_block_hash=prev,
                           proposer=VALIDATOR.public_key, txs=raw_txs, state_hash=state_hash,
                           last_commit=self._last_certificate, evidence=[]).encode()
        bid = block_id(block)
        vote = sign_vote(VALIDATOR, self.chain_id, VoteType.PRECOMMIT, height, 0, bid, self.block_time(height + 1))
        certificate = encode_certificate(Certificate.from_precommits(height, 0, bid, [vote]))
        for txid, why in built.dropped:
            self.feed.drop(txid, why.code, why.detail)
        results = built.outcome.results
        txids = [result.txid for result in results]
        self.store.commit(CommitBatch(
            height=height, block_hash=bid, block=block, certificate=certificate, changes=built.outcome.changes,
            state_hash=state_hash, txids=txids,
            wallet_touches=[(wallet_id, result.txid) for result in results for wallet_id in result.touched],
            counters=block_totals(self.store, ctx.time_ms, built.txs, results, self.tills.take(txids))))
        self._last_certificate = certificate
        committed = [CommittedTx(result.txid, height, position, result.kind, tx.signer, result.touched,
                                 self._raw[tx.txid], ctx.time_ms)
                     for position, (result, tx) in enumerate(zip(results, built.txs))]
        settled = {tx.txid for tx in built.txs} | {txid for txid, _why in built.dropped}
        self.pending = [tx for tx in self.pending if tx.txid not in settled]  # over the block limits: next block
        for txid in settled:
            del self._raw[txid]
        self.feed.publish(committed)
        return height
