"""The validator's signer: it never signs two different things for one height/round/step.

Like CometBFT's ``privval/file.go``: the last signed (height, round, step) is kept
with its sign bytes and signature, saved atomically (temp file + fsync + rename,
mode 0600) *before* the signature leaves the signer. A request for an earlier
(height, round, step) is refused, and so is a different request for the same one;
the same request gets the same signature again (for a vote that differs only by
its timestamp, the stored vote is handed back). This holds across restarts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import structlog
from wallet.codec import Rejected as CodecRejected
from wallet.codec import pack, unpack
from wallet.keys import SigningKey

from consensus.errors import SignerRefused, UnsafeStart
from consensus.wire import MAX_ROUND
from consensus.messages import (
    PROPOSAL_DOMAIN,
    VOTE_DOMAIN,
    Proposal,
    Vote,
    VoteType,
    block_id_of,
    proposal_sign_body,
    vote_sign_body,
)

log = structlog.get_logger(__name__)

STEP_PROPOSAL = 1
STEP_OF_VOTE = {VoteType.PREVOTE: 2, VoteType.PRECOMMIT: 3}


@dataclass(frozen=True)
class LastSign:
    """What the signer signed last; ``sign_body`` is the canonical body (without domain and chain id)."""

    height: int
    round: int
    step: int
    sign_body: bytes
    signature: bytes

    @property
    def hrs(self) -> tuple[int, int, int]:
        return (self.height, self.round, self.step)


class LastSignStore(Protocol):
    """Durable home of :class:`LastSign`; ``save`` returns only once the state is durable."""

    def load(self) -> LastSign | None: ...

    def save(self, state: LastSign) -> None: ...


def _encode(state: LastSign) -> bytes:
    return pack([state.height, state.round, state.step, state.sign_body, state.signature])


def _decode(data: bytes, where: str) -> LastSign:
    try:
        height, round_, step, body, signature = unpack(data, 64 * 1024)
        return LastSign(int(height), int(round_), int(step), bytes(body), bytes(signature))
    except (CodecRejected, ValueError, TypeError):
        raise UnsafeStart(f"{where} is corrupt: refusing to sign without knowing what was signed last; "
                          "restore it from a backup (never delete it while the key is a validator)") from None


class FileLastSignStore:
    """One small file, replaced atomically: write temp + fsync + rename + fsync the directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> LastSign | None:
        if not self.path.exists():
            return None
        return _decode(self.path.read_bytes(), str(self.path))

    def save(self, state: LastSign) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, _encode(state))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class MemoryLastSignStore:
    """Survives simulated crashes (the simulator keeps the object), not real ones."""

    def __init__(self) -> None:
        self._data: bytes | None = None

    def load(self) -> LastSign | None:
        return None if self._data is None else _decode(self._data, "in-memory last-sign state")

    def save(self, state: LastSign) -> None:
        self._data = _encode(state)


def fence_last_sign(store: LastSignStore, height: int) -> None:
    """Record everything at or below ``height`` as signed: from then on the signer refuses those heights.

    What a validator restored from an old backup writes once it knows its former self signed
    nothing above ``height`` (fedow_node/restore_guard.py). The fence's round is beyond any
    round a vote can carry, so no real message ever compares equal to it. Never moves back.
    """
    fence = LastSign(height, MAX_ROUND + 1, STEP_OF_VOTE[VoteType.PRECOMMIT], b"", b"")
    last = store.load()
    if last is None or last.hrs < fence.hrs:
        store.save(fence)
        log.info("signer.fenced", height=height)


class Signer:
    """Signs proposals and votes for one validator key, guarded by its :class:`LastSignStore`."""

    def __init__(self, key: SigningKey, chain_id: str, store: LastSignStore) -> None:
        self.key = key
        self.chain_id = chain_id
        self._store = store
        self._last = store.load()

    @property
    def public_key(self) -> bytes:
        return self.key.public_key

    @property
    def last(self) -> LastSign | None:
        return self._last

    def check_start(self, chain_height: int) -> None:
        """Refuse to start when we signed beyond the height in progress (``chain_height + 1``).

        That happens when the chain data was lost or replaced while the signer state was kept,
        or when another node runs with this key: signing now could double-sign.
        """
        if self._last is not None and self._last.height > chain_height + 1:
            raise UnsafeStart(
                f"validator {self.key.address} already signed at height {self._last.height} but its chain is at "
                f"height {chain_height}: sync the chain past height {self._last.height - 1} before validating, "
                "and make sure no other node runs this key")

    def sign_vote(self, type_: VoteType, height: int, round_: int, block_id: bytes | None, timestamp_ms: int) -> Vote:
        body = vote_sign_body(type_, height, round_, block_id, timestamp_ms, self.public_key)
        hrs = (height, round_, STEP_OF_VOTE[type_])
        last = self._last
        if last is not None and last.hrs == hrs and last.sign_body != body:
            previous = Vote.from_wire([*unpack(last.sign_body), last.signature])
            if previous.block_id == block_id:
                return previous  # same vote, other timestamp: hand back what was signed (CometBFT does the same)
        signature = self._sign(hrs, VOTE_DOMAIN, body, f"{type_.name.lower()} at height {height} round {round_}")
        return Vote(type_, height, round_, block_id, timestamp_ms, self.public_key, signature)

    def sign_proposal(self, height: int, round_: int, pol_round: int, block: bytes) -> Proposal:
        block_id = block_id_of(block)
        body = proposal_sign_body(height, round_, pol_round, block_id, self.public_key)
        signature = self._sign((height, round_, STEP_PROPOSAL), PROPOSAL_DOMAIN, body,
                               f"proposal at height {height} round {round_}")
        return Proposal(height, round_, pol_round, block_id, self.public_key, signature, block)

    def _sign(self, hrs: tuple[int, int, int], domain: str, body: bytes, what: str) -> bytes:
        last = self._last
        if last is not None:
            if hrs < last.hrs:
                raise SignerRefused("sign_regression", f"refusing to sign a {what}: already signed height/round/step "
                                                       f"{last.hrs}, later than {hrs}")
            if hrs == last.hrs:
                if body == last.sign_body:
                    return last.signature
                raise SignerRefused("double_sign", f"refusing to sign a {what}: something different was already "
                                                   "signed for this height/round/step")
        signature = self.key.sign(domain, self.chain_id, body)
        state = LastSign(*hrs, body, signature)
        self._store.save(state)  # durable before the signature is released
        self._last = state
        log.debug("signed", what=what)
        return signature
