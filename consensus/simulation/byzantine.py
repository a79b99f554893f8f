"""Byzantine behaviours (below 1/3 of the stake): they run an honest node and distort what it sends.

* ``EQUIVOCATE``: every vote goes out with a conflicting twin (nil vs a block, or a block nobody
  proposed), and every proposal with a second, different block sent to the other half of the peers.
  The twins are signed with the raw key: no signer guard.
* ``WITHHOLD``: never sends its proposals or precommits.
"""

from __future__ import annotations

import hashlib
import random
from enum import Enum

from wallet.keys import SigningKey

from consensus.encoding import Message
from consensus.interfaces import BlockContext
from consensus.messages import Proposal, Vote, VoteType, sign_proposal, sign_vote
from consensus.simulation.app import SimApplication, pay_tx


class Behaviour(Enum):
    HONEST = "honest"
    EQUIVOCATE = "equivocate"
    WITHHOLD = "withhold"


def distort(behaviour: Behaviour, message: Message, key: SigningKey, app: SimApplication, chain_id: str,
            peers: list[int], rng: random.Random) -> list[tuple[list[int], Message]]:
    """What a node with ``behaviour`` really sends instead of broadcasting ``message``: (targets, message) pairs."""
    if behaviour is Behaviour.WITHHOLD:
        if isinstance(message, Proposal) or (isinstance(message, Vote) and message.type is VoteType.PRECOMMIT):
            return []
        return [(peers, message)]
    if behaviour is Behaviour.EQUIVOCATE and isinstance(message, Vote) and message.validator == key.public_key:
        other = None if message.block_id is not None else hashlib.sha256(b"byzantine%d" % rng.getrandbits(64)).digest()
        twin = sign_vote(key, chain_id, message.type, message.height, message.round, other, message.timestamp_ms)
        return [(peers, message), (peers, twin)]
    if behaviour is Behaviour.EQUIVOCATE and isinstance(message, Proposal) and message.proposer == key.public_key:
        context = BlockContext(message.height, message.round, key.public_key)
        extra = pay_tx(-1, rng.getrandbits(32))
        built = app.build_block(context, app.chain_tip().certificate, [extra], [])
        twin = sign_proposal(key, chain_id, message.height, message.round, message.pol_round, built.block)
        shuffled = list(peers)
        rng.shuffle(shuffled)
        half = len(shuffled) // 2
        return [(shuffled[:half], message), (shuffled[half:], twin)]
    return [(peers, message)]
