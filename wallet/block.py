"""The block: a header, the transactions, the previous height's commit certificate, evidence.

Encoded as the canonical array ``[header, txs, last_commit, evidence]`` with
``header = [chain_id, height, time_ms, prev_block_hash, proposer, txs_root,
state_hash, last_commit_hash, evidence_hash]`` under protocol version 1 (the bytes
every chain began with), and the protocol version appended as a tenth field from
version 2 on (wallet/protocol.py says which version a height has). Validators vote on
``block_id = sha256(encoded block)``. ``state_hash`` is the state *after* this
block, so a commit certificate certifies the state as well as the chain.

The certificate and the evidence are consensus objects: here they are opaque
bytes, bound to the header by their hashes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from wallet.codec import pack, unpack
from wallet.errors import Rejected

HASH_BYTES = 32
EMPTY_HASH = b"\x00" * HASH_BYTES


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def list_root(items: tuple[bytes, ...] | list[bytes]) -> bytes:
    """Hash of an ordered list: sha256 of the concatenated item hashes (no proofs needed)."""
    return sha256(b"".join(sha256(item) for item in items))


def optional_hash(data: bytes | None) -> bytes:
    return EMPTY_HASH if data is None else sha256(data)


@dataclass(frozen=True)
class Header:
    chain_id: str
    height: int
    time_ms: int
    prev_block_hash: bytes
    proposer: bytes
    txs_root: bytes
    state_hash: bytes
    last_commit_hash: bytes
    evidence_hash: bytes
    version: int = 1
    """The protocol version the block follows; written in the header only from version 2 on."""

    def to_list(self) -> list[Any]:
        fields = [self.chain_id, self.height, self.time_ms, self.prev_block_hash, self.proposer,
                  self.txs_root, self.state_hash, self.last_commit_hash, self.evidence_hash]
        return fields if self.version == 1 else [*fields, self.version]


@dataclass(frozen=True)
class Block:
    header: Header
    txs: tuple[bytes, ...]
    last_commit: bytes | None
    evidence: tuple[bytes, ...]

    def encode(self) -> bytes:
        return pack([self.header.to_list(), list(self.txs), self.last_commit, list(self.evidence)])

    @property
    def height(self) -> int:
        return self.header.height


def block_id(encoded: bytes) -> bytes:
    """What validators vote on and what the next header links to."""
    return sha256(encoded)


def make_block(*, chain_id: str, height: int, time_ms: int, prev_block_hash: bytes, proposer: bytes,
               txs: list[bytes], state_hash: bytes, last_commit: bytes | None,
               evidence: list[bytes], version: int = 1) -> Block:
    """Build a block whose header hashes match its body."""
    header = Header(chain_id, height, time_ms, prev_block_hash, proposer, list_root(txs), state_hash,
                    optional_hash(last_commit), list_root(evidence), version)
    return Block(header, tuple(txs), last_commit, tuple(evidence))


def _expect(cond: bool, detail: str) -> None:
    if not cond:
        raise Rejected("bad_block", detail)


def _is_hash(value: Any) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_BYTES


def decode_block(data: bytes, *, chain_id: str, max_bytes: int) -> Block:
    """Decode and check a block's form and its internal hashes (not its validity against state)."""
    obj = unpack(data, max_bytes)
    _expect(isinstance(obj, list) and len(obj) == 4, "a block is [header, txs, last_commit, evidence]")
    raw_header, txs, last_commit, evidence = obj
    _expect(isinstance(raw_header, list) and len(raw_header) in (9, 10),
            "the header has 9 fields (protocol version 1) or 10 (the version last)")
    cid, height, time_ms, prev, proposer, txs_root, state_hash, commit_hash, evidence_hash = raw_header[:9]
    version = raw_header[9] if len(raw_header) == 10 else 1
    _expect(len(raw_header) == 9 or (type(version) is int and version >= 2),
            "a tenth header field is a protocol version >= 2 (version 1 headers have 9 fields)")
    _expect(cid == chain_id, f"chain id {cid!r} is not {chain_id!r}")
    _expect(isinstance(height, int) and not isinstance(height, bool) and height >= 1, "height must be an int >= 1")
    _expect(isinstance(time_ms, int) and not isinstance(time_ms, bool) and time_ms >= 0, "time_ms must be an int >= 0")
    _expect(all(_is_hash(h) for h in (prev, proposer, txs_root, state_hash, commit_hash, evidence_hash)),
            "hashes and the proposer key are 32 bytes")
    _expect(isinstance(txs, list) and all(isinstance(t, bytes) for t in txs), "txs is a list of byte strings")
    _expect(last_commit is None or isinstance(last_commit, bytes), "last_commit is bytes or nil")
    _expect(isinstance(evidence, list) and all(isinstance(e, bytes) for e in evidence),
            "evidence is a list of byte strings")
    _expect(list_root(txs) == txs_root, "txs_root does not match the transactions")
    _expect(optional_hash(last_commit) == commit_hash, "last_commit_hash does not match the certificate")
    _expect(list_root(evidence) == evidence_hash, "evidence_hash does not match the evidence")
    header = Header(cid, height, time_ms, prev, proposer, txs_root, state_hash, commit_hash, evidence_hash, version)
    return Block(header, tuple(txs), last_commit, tuple(evidence))
