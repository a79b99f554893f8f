"""Wire form of consensus messages and the checks that need no state (for gossip validators).

A message is one canonical msgpack array ``[tag, fields...]``. :func:`decode_message`
is what p2p calls on bytes from the network before relaying them: it refuses
oversize, malformed and non-canonical input and bad signatures, each with a
precise code. Whatever needs the validator set (membership, power, the height in
progress) is checked by the node that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Union

from wallet.codec import Rejected as CodecRejected
from wallet.codec import pack, unpack

from consensus.certificate import Certificate
from consensus.errors import Rejected
from consensus.messages import Evidence, Proposal, Vote, block_id_of
from consensus.wire import expect_bytes, expect_list

MESSAGE_OVERHEAD_BYTES = 64 * 1024
"""Room for everything but the block value in a proposal or a decided block."""


class Tag(IntEnum):
    """First element of every wire message."""

    PROPOSAL = 1
    VOTE = 2
    EVIDENCE = 3
    DECIDED = 4


@dataclass(frozen=True)
class DecidedBlock:
    """A decided block and its commit certificate, sent to a node seen voting at a past height."""

    block: bytes
    certificate: Certificate

    def to_wire(self) -> list[object]:
        return [self.block, self.certificate.to_wire()]


Message = Union[Proposal, Vote, Evidence, DecidedBlock]
_TAGS: dict[type, Tag] = {Proposal: Tag.PROPOSAL, Vote: Tag.VOTE, Evidence: Tag.EVIDENCE, DecidedBlock: Tag.DECIDED}


def encode_message(message: Message) -> bytes:
    """Canonical wire bytes of a message."""
    return pack([_TAGS[type(message)], *message.to_wire()])


def check_signatures(message: Message, chain_id: str) -> None:
    """Verify the signatures a message carries, bound to ``chain_id``; :class:`Rejected` on the first bad one.

    A decided block's certificate needs the validator set: :func:`verify_certificate` checks it.
    """
    if isinstance(message, (Vote, Proposal)):
        if not message.signature_ok(chain_id):
            raise Rejected("bad_signature", f"{type(message).__name__.lower()} signature does not verify for its "
                                            "signer and this chain id")
    elif isinstance(message, Evidence):
        message.check_shape()
        if not (message.vote_a.signature_ok(chain_id) and message.vote_b.signature_ok(chain_id)):
            raise Rejected("bad_signature", "an evidence vote signature does not verify for this chain id")
    elif block_id_of(message.block) != message.certificate.block_id:
        raise Rejected("block_id_mismatch", "decided block is not the block its certificate certifies")


def decode_message(data: bytes, chain_id: str, max_block_bytes: int) -> Message:
    """Decode wire bytes and run every stateless check; raise :class:`Rejected` with the reason."""
    try:
        fields = unpack(data, max_block_bytes + MESSAGE_OVERHEAD_BYTES)
    except CodecRejected as exc:
        raise Rejected(exc.code, f"consensus message: {exc.detail}") from None
    if not isinstance(fields, list) or not fields:
        raise Rejected("malformed", "a consensus message is a non-empty array")
    tag, body = fields[0], fields[1:]
    message: Message
    if not isinstance(tag, int) or isinstance(tag, bool) or tag not in set(Tag):
        raise Rejected("unknown_message", f"unknown consensus message tag {tag!r}")
    if tag == Tag.VOTE:
        message = Vote.from_wire(body)
    elif tag == Tag.PROPOSAL:
        message = Proposal.from_wire(body)
    elif tag == Tag.EVIDENCE:
        message = Evidence.from_wire(body)
    else:
        block, certificate = expect_list(body, 2, "decided block")
        message = DecidedBlock(expect_bytes(block, "decided block"), Certificate.from_wire(certificate))
    block_bytes = message.block if isinstance(message, (Proposal, DecidedBlock)) else b""
    if len(block_bytes) > max_block_bytes:
        raise Rejected("oversize", f"block of {len(block_bytes)} bytes exceeds max_block_bytes={max_block_bytes}")
    check_signatures(message, chain_id)
    return message
