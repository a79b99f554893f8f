"""Copies of a sample chain's data folder, tampered with through plyvel as an attacker would.

Only a copy is ever edited. ``recertify`` plays a colluding validator: it rewrites
the last block and signs a fresh, valid certificate for it, so only the audit's
deeper checks (signatures, state hash) can catch the change.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import plyvel

from consensus import Certificate, VoteType, block_id_of, encode_certificate, sign_vote
from fedow_node.audit import SampleChain
from storage import layout
from wallet.block import Block, decode_block, make_block
from wallet.keys import SigningKey

MAX_BLOCK = 64 * 1024 * 1024


def copy_data(sample: SampleChain, to: Path) -> Path:
    """A copy of the sample's data folder (the one holding chain/)."""
    shutil.copytree(sample.files.data_dir, to)
    return to


@contextmanager
def raw_db(data_dir: Path) -> Iterator[plyvel.DB]:
    db = plyvel.DB(str(data_dir / "chain"))
    try:
        yield db
    finally:
        db.close()


def block_key(height: int) -> bytes:
    return layout.BLOCK + layout.encode_height(height)


def certificate_key(height: int) -> bytes:
    return layout.CERTIFICATE + layout.encode_height(height)


def read_block(db: plyvel.DB, sample: SampleChain, height: int) -> Block:
    return decode_block(db.get(block_key(height)), chain_id=sample.genesis.chain_id, max_bytes=MAX_BLOCK)


def certify(sample: SampleChain, signers: list[SigningKey], height: int, block_id: bytes) -> bytes:
    """A certificate of ``block_id`` signed by ``signers`` (valid signatures, whatever their power)."""
    votes = [sign_vote(key, sample.genesis.chain_id, VoteType.PRECOMMIT, height, 0, block_id,
                       sample.genesis.genesis_time_ms + 1_000_000) for key in signers]
    return encode_certificate(Certificate.from_precommits(height, 0, block_id, votes))


def recertify_last_block(data_dir: Path, sample: SampleChain, change: Callable[[Block], Block]) -> None:
    """Replace the head block by ``change(block)`` with a valid certificate, index and head record."""
    height = sample.height
    with raw_db(data_dir) as db:
        block = change(read_block(db, sample, height))
        header = block.header
        rebuilt = make_block(chain_id=header.chain_id, height=height, time_ms=header.time_ms,
                             prev_block_hash=header.prev_block_hash, proposer=header.proposer, txs=list(block.txs),
                             state_hash=header.state_hash, last_commit=block.last_commit, evidence=list(block.evidence))
        encoded = rebuilt.encode()
        new_id = block_id_of(encoded)
        old_id = db.get(layout.BLOCK_HASH + layout.encode_height(height))
        head = layout.Head.decode(db.get(layout.HEAD))
        with db.write_batch() as batch:
            batch.put(block_key(height), encoded)
            batch.put(certificate_key(height), certify(sample, [sample.validator], height, new_id))
            batch.put(layout.BLOCK_HASH + layout.encode_height(height), new_id)
            batch.delete(layout.HEIGHT_BY_HASH + old_id)
            batch.put(layout.HEIGHT_BY_HASH + new_id, layout.encode_height(height))
            batch.put(layout.HEAD, replace(head, block_hash=new_id).encode())
