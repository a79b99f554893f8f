"""Signatures checked together on every core (issue 14, item 4): same answers, same refusals.

The pool's answer is compared with a one-by-one verify on random good and forged
items; then the two engine paths that use it are driven with a forged signature
among good ones: a block fetched by block sync (still refused with the reason the
one-by-one path gives, the peer penalised) and a peer's gossip batch (the good
transactions admitted, the forged one refused, the batch REJECTed: p2p penalises
its sender).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
import trio
from hypothesis import given, settings, strategies as st

import wallet
from consensus import Certificate, VoteType, block_id_of, decode_certificate, encode_certificate, sign_vote
from consensus.errors import Rejected
from consensus.mempool import Mempool
from fedow_node.api import SubmitRefused
from fedow_node.audit import SampleChain, build_sample_chain, card_uid
from fedow_node.engine.application import LedgerApplication
from fedow_node.engine.gossip import TxGossip
from fedow_node.engine.sync import BAD_SYNC_PENALTY, BlockSyncer, apply_decided, check_signatures_ahead
from fedow_node.node import NodeFiles, open_store
from fedow_node.node_api import NodeApi
from p2p import Outcome
from wallet.block import decode_block, make_block
from wallet.bodies import Sale
from wallet.codec import pack, signing_bytes, unpack
from wallet.keys import SigningKey, verify_signed
from wallet.tx import sign_tx, verified_txids
from wallet.verify_pool import MIN_PARALLEL, VerifyPool

KEYS = [SigningKey(bytes([index]) * 32) for index in range(1, 5)]


def _item(key: int, message: bytes, forge: int) -> tuple[bytes, bytes, bytes]:
    """A signed item; ``forge`` 0 keeps it good, 1 flips a signature bit, 2 signs another message,
    3 cuts the signature short, 4 names another key."""
    signed = signing_bytes("test", "pool", message)
    signature = KEYS[key].sign("test", "pool", message)
    public_key = KEYS[key].public_key
    if forge == 1:
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    elif forge == 2:
        signature = KEYS[key].sign("test", "pool", message + b"!")
    elif forge == 3:
        signature = signature[:63]
    elif forge == 4:
        public_key = KEYS[(key + 1) % len(KEYS)].public_key
    return public_key, signed, signature


items_strategy = st.lists(st.builds(_item, st.integers(0, len(KEYS) - 1), st.binary(max_size=40),
                                    st.sampled_from([0, 0, 0, 1, 2, 3, 4])),
                          max_size=3 * MIN_PARALLEL)


@pytest.fixture(scope="module")
def pools() -> Iterator[list[VerifyPool]]:
    made = [VerifyPool(threads) for threads in (1, 2, 3)]
    yield made
    for pool in made:
        pool.close()


@given(items=items_strategy, seed=st.integers(0, 2**32 - 1))
@settings(max_examples=150, deadline=None, derandomize=True, database=None)
def test_the_pool_answers_as_a_one_by_one_verify_whatever_the_order(pools: list[VerifyPool], items: list[Any],
                                                                    seed: int) -> None:
    expected = frozenset(index for index, item in enumerate(items) if not verify_signed(*item))
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    for pool in pools:
        assert pool.failed(items) == expected
        assert pool.failed([items[index] for index in order]) == frozenset(
            position for position, index in enumerate(order) if index in expected)


def test_a_txid_with_one_forged_copy_is_not_vouched_for() -> None:
    """A txid does not cover the signatures: a forged copy of a good transaction spoils the txid."""
    good = [wallet.decode_tx(sign_tx(KEYS[0], "c", "sale", Sale(card_uid(index), "FED", 5), bytes(16), 9), 4096)
            for index in range(3)]
    forged = replace(good[1], signatures=((KEYS[0].public_key, bytes(64)),))
    with VerifyPool(2) as pool:
        assert verified_txids("c", good, pool) == {tx.txid for tx in good}
        assert verified_txids("c", [*good, forged], pool) == {good[0].txid, good[2].txid}
        assert verified_txids("other-chain", good, pool) == frozenset()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleChain:
    """Height 4: block 1 registers 20 cards, blocks 2-4 hold 30 sales each."""
    return build_sample_chain(tmp_path_factory.mktemp("sample") / "data", blocks=3, block_txs=30, cards=20)


def _forge_tx(raw: bytes) -> bytes:
    fields = unpack(raw, 4096)
    fields[6] = bytes([fields[6][0] ^ 1]) + fields[6][1:]
    return pack(fields)


def _decided_blocks(sample: SampleChain, forged_height: int, forged_index: int) -> dict[int, tuple[bytes, bytes]]:
    """The sample's blocks and certificates, block ``forged_height`` with one forged signature, recertified."""
    with open_store(sample.files, sample.genesis) as store:
        decided = {stored.height: (stored.block, stored.certificate) for stored in store.blocks(1, store.height)}
    block = decode_block(decided[forged_height][0], chain_id=sample.genesis.chain_id, max_bytes=1 << 24)
    header = block.header
    txs = list(block.txs)
    txs[forged_index] = _forge_tx(txs[forged_index])
    raw = make_block(chain_id=header.chain_id, height=header.height, time_ms=header.time_ms,
                     prev_block_hash=header.prev_block_hash, proposer=header.proposer, txs=txs,
                     state_hash=header.state_hash, last_commit=block.last_commit,
                     evidence=list(block.evidence)).encode()
    vote = sign_vote(sample.validator, sample.genesis.chain_id, VoteType.PRECOMMIT, header.height, 0,
                     block_id_of(raw), header.time_ms + 1)
    decided[forged_height] = (raw, encode_certificate(Certificate.from_precommits(header.height, 0,
                                                                                  block_id_of(raw), [vote])))
    return decided


class SyncPeer:
    """One peer answering block sync from fixed blocks, and the penalties it earns."""

    def __init__(self, decided: dict[int, tuple[bytes, bytes]]) -> None:
        self.decided = decided
        self.penalties: list[tuple[str, int, str]] = []

    def connected_peers(self) -> list[str]:
        return ["peer"]

    def penalize(self, peer_id: str, points: int, reason: str) -> None:
        self.penalties.append((peer_id, points, reason))

    async def request(self, peer_id: str, protocol_id: str, data: bytes, *, max_response_bytes: int) -> bytes:
        request = unpack(data, 1024)
        if request == ["tip"]:
            return pack([max(self.decided)])
        _, start, count = request
        return pack([list(self.decided[height]) for height in range(start, min(start + count, max(self.decided) + 1))])


def _fresh_app(sample: SampleChain, folder: Path) -> LedgerApplication:
    return LedgerApplication(open_store(NodeFiles(folder), sample.genesis), sample.genesis.chain_id,
                             sample.genesis.genesis_time_ms)


def test_block_sync_refuses_a_block_with_a_forged_signature_as_before_and_penalises_the_peer(
        sample: SampleChain, tmp_path: Path) -> None:
    decided = _decided_blocks(sample, forged_height=sample.height, forged_index=7)
    forged_block = decided[sample.height][0]
    with VerifyPool(2) as pool:
        checked = check_signatures_ahead(sample.genesis.chain_id, [forged_block], pool)[0]
    block_txs = decode_block(forged_block, chain_id=sample.genesis.chain_id, max_bytes=1 << 24).txs
    assert set(checked) == set(block_txs) - {block_txs[7]}

    one_by_one = _fresh_app(sample, tmp_path / "one-by-one")
    for height in range(1, sample.height):
        apply_decided(one_by_one, decided[height][0], decode_certificate(decided[height][1]))
    with pytest.raises(Rejected) as expected:
        apply_decided(one_by_one, forged_block, decode_certificate(decided[sample.height][1]))
    assert expected.value.code == "bad_signature"
    one_by_one.store.close()

    app = _fresh_app(sample, tmp_path / "synced")
    peer = SyncPeer(decided)
    report = trio.run(BlockSyncer(app, peer).run_once)
    assert app.store.height == sample.height - 1 and report.blocks == sample.height - 1
    assert peer.penalties == [("peer", BAD_SYNC_PENALTY,
                               f"sync: {expected.value.code}: {expected.value.detail}")]
    app.store.close()


def test_block_sync_applies_good_blocks_to_the_same_state(sample: SampleChain, tmp_path: Path) -> None:
    with open_store(sample.files, sample.genesis) as store:
        decided = {stored.height: (stored.block, stored.certificate) for stored in store.blocks(1, store.height)}
        source_hash = store.state_hash
    app = _fresh_app(sample, tmp_path / "synced")
    peer = SyncPeer(decided)
    trio.run(BlockSyncer(app, peer).run_once)
    assert (app.store.height, app.store.state_hash, peer.penalties) == (sample.height, source_hash, [])
    app.store.close()


class Checks:
    """The mempool's check_tx, recording whether each transaction came with its signature known good."""

    def __init__(self, app: LedgerApplication) -> None:
        self.app = app
        self.calls: list[tuple[bytes, bool]] = []

    def __call__(self, tx: bytes, signature_verified: bool) -> Any:
        self.calls.append((tx, signature_verified))
        return self.app.check_tx(tx, signature_verified)


def _synced_with_sales(sample: SampleChain, folder: Path, forged: int) -> tuple[LedgerApplication, list[bytes]]:
    """A node synced with the sample chain, and 20 fresh sales of which the ``forged``-th is forged."""
    app = _fresh_app(sample, folder)
    with open_store(sample.files, sample.genesis) as store:
        for stored in store.blocks(1, store.height):
            apply_decided(app, stored.block, decode_certificate(stored.certificate))
    rng = random.Random(3)
    batch = [sign_tx(sample.bar, sample.genesis.chain_id, "sale", Sale(card_uid(index), "FED", 10), rng.randbytes(16),
                     app.store.height + 50) for index in range(20)]
    batch[forged] = _forge_tx(batch[forged])
    return app, batch


def _admission(app: LedgerApplication, chain_id: str) -> tuple[Checks, Mempool, TxGossip]:
    checks = Checks(app)
    mempool = Mempool(checks, 1000, 10_000_000, app.params.max_tx_bytes)
    gossip = TxGossip(None, chain_id, mempool, signatures_verify=app.signatures_verify)  # type: ignore[arg-type]
    return checks, mempool, gossip


def test_a_gossip_batch_with_one_forged_signature_admits_the_good_ones_and_is_rejected(
        sample: SampleChain, tmp_path: Path) -> None:
    app, batch = _synced_with_sales(sample, tmp_path / "node", forged=11)
    checks, mempool, gossip = _admission(app, sample.genesis.chain_id)

    verdict = gossip.validate(pack(batch), "peer")

    assert verdict.outcome is Outcome.REJECT and verdict.reason.startswith("transaction refused: bad_signature")
    assert len(mempool) == 19 and not any(mempool.signature_verified(tx) for tx in batch[11:12])
    assert checks.calls == [(tx, index != 11) for index, tx in enumerate(batch)]
    app.store.close()


def test_an_http_batch_has_its_signatures_checked_together_then_each_admitted_or_refused(
        sample: SampleChain, tmp_path: Path) -> None:
    app, batch = _synced_with_sales(sample, tmp_path / "node", forged=5)
    checks, mempool, gossip = _admission(app, sample.genesis.chain_id)
    node = SimpleNamespace(store=app.store, app=app, mempool=mempool, chain_id=sample.genesis.chain_id,
                           place_key=None, home=tmp_path, card_reader=None, offline=None, txs=gossip)

    async def submit() -> list[bytes | SubmitRefused]:
        return await NodeApi(node).submit_batch(batch)  # type: ignore[arg-type]

    results = asyncio.run(submit())

    assert [isinstance(result, bytes) for result in results] == [index != 5 for index in range(20)]
    refused = results[5]
    assert isinstance(refused, SubmitRefused) and refused.code == "bad_signature"
    assert len(mempool) == 19 and checks.calls == [(tx, index != 5) for index, tx in enumerate(batch)]
    app.store.close()
