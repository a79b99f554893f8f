"""The channel of committed blocks (fedow_node/engine/commits.py): ordered, bounded, never blocking a commit.

A real ledger application on a temporary store commits real blocks (one validator,
SoloChain) and a real mempool makes its pass after each one, wired as the daemon
wires them. The reader is the channel's own ``blocks()``.
"""

from __future__ import annotations

import random
from contextlib import aclosing
from pathlib import Path
from typing import AsyncIterator

import pytest

from consensus.mempool import Mempool
from fedow_node.audit._sample import CARD_BALANCE, CHAIN_ID, _genesis, card_uid
from fedow_node.bench.solo import SoloChain
from fedow_node.engine.application import LedgerApplication
from fedow_node.engine.commits import CommitChannel, CommittedBlock
from fedow_node.node import NodeFiles, open_store
from wallet.bodies import RegisterCards, Sale
from wallet.keys import SigningKey
from wallet.tx import decode_tx, sign_tx

CARDS = 4


class Chain:
    """A one-validator chain whose commits and mempool passes go into a channel of ``capacity`` blocks."""

    def __init__(self, data_dir: Path, capacity: int) -> None:
        rng = random.Random(3)
        self.bar, validator, minority, authority = (SigningKey(rng.randbytes(32)) for _ in range(4))
        self.rng = rng
        genesis = _genesis(CARDS, self.bar, validator, minority, authority, 16)
        self.app = LedgerApplication(open_store(NodeFiles(data_dir), genesis), CHAIN_ID, genesis.genesis_time_ms)
        self.app.commits = self.channel = CommitChannel(self.app.store, CHAIN_ID, capacity)
        self.mempool = Mempool(self.app.check_tx, 1000, 10**7, self.app.params.max_tx_bytes)
        self.mempool.on_update = self.channel.mempool_updated
        self.solo = SoloChain(self.app, validator)
        self.commit([sign_tx(self.bar, CHAIN_ID, "register_cards",
                             RegisterCards(tuple((card_uid(i), f"{i:08d}", i.to_bytes(16, "big")) for i in range(CARDS))),
                             rng.randbytes(16), 1000)])

    def sale(self, card: int, amount: int) -> bytes:
        return sign_tx(self.bar, CHAIN_ID, "sale", Sale(card_uid(card), "FED", amount), self.rng.randbytes(16),
                       self.app.store.height + 50)

    def commit(self, txs: list[bytes]) -> int:
        """Commit ``txs`` in one block, then the mempool's pass, as consensus does; the block's height."""
        self.solo.produce(txs)
        self.mempool.update([decode_tx(tx, len(tx)).txid for tx in txs])
        return self.app.store.height


@pytest.fixture
def chain(tmp_path: Path) -> AsyncIterator[Chain]:
    made = Chain(tmp_path, capacity=4)
    yield made
    made.app.store.close()


async def read(channel: CommitChannel, count: int) -> list[CommittedBlock]:
    blocks: list[CommittedBlock] = []
    async with aclosing(channel.blocks()) as reader:
        async for block in reader:
            blocks.append(block)
            if len(blocks) == count:
                break
    return blocks


def txids(block: CommittedBlock) -> list[bytes]:
    return [tx.txid for tx in block.txs]


async def test_each_block_comes_once_in_order_with_what_the_mempool_dropped_after_it(chain: Chain) -> None:
    first, rival = chain.sale(0, CARD_BALANCE), chain.sale(0, CARD_BALANCE)  # one card's whole balance, twice
    chain.mempool.add(first)
    chain.mempool.add(rival)  # each applies on the committed state: both admitted
    quiet = chain.commit([chain.sale(1, 10)])
    spent = chain.commit([first])
    blocks = await read(chain.channel, 3)
    assert [block.height for block in blocks] == [1, quiet, spent] == [1, 2, 3]
    assert all(block.results is not None for block in blocks)
    assert blocks[1].evicted == ()
    assert txids(blocks[2]) == [decode_tx(first, len(first)).txid]
    [eviction] = blocks[2].evicted
    assert eviction.txid == decode_tx(rival, len(rival)).txid and eviction.why.code == "overdraft"
    assert chain.channel.left_out == 0


async def test_a_full_channel_never_holds_up_a_commit_and_the_reader_rereads_what_it_missed(chain: Chain) -> None:
    sold = [chain.sale(n % CARDS, n + 1) for n in range(7)]
    heights = [chain.commit([tx]) for tx in sold]  # nobody reads: the channel (4 blocks) fills, commits go on
    assert heights == list(range(2, 9)) and chain.channel.left_out == 4  # blocks 1-4 went in, 5-8 did not
    blocks = await read(chain.channel, 8)
    assert [block.height for block in blocks] == list(range(1, 9))
    assert [block.results is None for block in blocks] == [False] * 4 + [True] * 4  # re-read from the store
    assert [txids(block) for block in blocks[1:]] == [[decode_tx(tx, len(tx)).txid] for tx in sold]
    assert [list(block.raw_txs) for block in blocks[1:]] == [[tx] for tx in sold]
    assert [block.block_hash for block in blocks] == [chain.app.store.block_hash(h) for h in range(1, 9)]


async def test_what_the_mempool_dropped_after_a_missed_block_is_carried_to_the_reader(chain: Chain) -> None:
    for n in range(3):
        chain.commit([chain.sale(1, n + 1)])  # blocks 2-4: with block 1, the channel is full
    first, rival = chain.sale(0, CARD_BALANCE), chain.sale(0, CARD_BALANCE)
    chain.mempool.add(first)
    chain.mempool.add(rival)
    missed = chain.commit([first])  # no room: left out, its eviction carried
    assert chain.channel.left_out == 1
    blocks = await read(chain.channel, 2)  # the reader catches up a little: room for the next block
    later = chain.commit([chain.sale(2, 5)])
    blocks += await read(chain.channel, 4)
    assert [block.height for block in blocks] == [1, 2, 3, 4, missed, later] == [1, 2, 3, 4, 5, 6]
    assert blocks[4].results is None and blocks[4].evicted == ()  # re-read: the store keeps no evictions
    assert blocks[5].results is not None
    assert [e.txid for e in blocks[5].evicted] == [decode_tx(rival, len(rival)).txid]  # carried to the next item


async def test_a_reader_that_finds_the_channel_empty_rereads_the_missed_tail_with_its_evictions(chain: Chain) -> None:
    for n in range(3):
        chain.commit([chain.sale(1, n + 1)])
    first, rival = chain.sale(0, CARD_BALANCE), chain.sale(0, CARD_BALANCE)
    chain.mempool.add(first)
    chain.mempool.add(rival)
    missed = chain.commit([first])  # the last commit for now: nothing will follow it into the channel
    blocks = await read(chain.channel, 5)
    assert [block.height for block in blocks] == [1, 2, 3, 4, missed]
    assert blocks[-1].results is None
    assert [e.txid for e in blocks[-1].evicted] == [decode_tx(rival, len(rival)).txid]


async def test_block_sync_commits_go_out_one_by_one_and_the_last_with_the_mempool_pass(chain: Chain) -> None:
    first, rival = chain.sale(0, CARD_BALANCE), chain.sale(0, CARD_BALANCE)
    chain.mempool.add(first)
    chain.mempool.add(rival)
    chain.solo.produce([chain.sale(1, 1)])  # block sync: several commits, then one mempool pass
    chain.solo.produce([first])
    chain.mempool.update([decode_tx(first, len(first)).txid])
    blocks = await read(chain.channel, 3)
    assert [block.height for block in blocks] == [1, 2, 3]
    assert blocks[1].evicted == () and [e.txid for e in blocks[2].evicted] == [decode_tx(rival, len(rival)).txid]
