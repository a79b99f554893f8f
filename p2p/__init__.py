"""p2p: the validator's libp2p network layer, over bytes only.

A :class:`P2PNode` listens with Noise-only security and yamux, keeps its
static peers dialled, gossips on topics (gossipsub v1.1) with a validator
that runs before relay, answers and sends request/response exchanges, and
scores peers (a rejected message costs the peer points; too few points and
it is disconnected and refused for a while). It knows nothing of blocks,
votes or transactions: ``fedow_node`` adapts it to the consensus transport.
No libp2p type or exception leaves this package. See docs/p2p.md.
"""

from p2p._config import P2PConfig
from p2p._errors import MessageTooLarge, P2PError, PeerUnavailable, ProtocolViolation, RemoteError
from p2p._identity import peer_id_from_public_key, peer_multiaddr
from p2p._metrics import P2PMetrics
from p2p._node import P2PNode
from p2p._reqresp import Handler
from p2p._topics import ACCEPT, IGNORE, REJECT, Message, Outcome, Validator, Verdict

__all__ = [
    "ACCEPT",
    "IGNORE",
    "REJECT",
    "Handler",
    "Message",
    "MessageTooLarge",
    "Outcome",
    "P2PConfig",
    "P2PError",
    "P2PMetrics",
    "P2PNode",
    "PeerUnavailable",
    "ProtocolViolation",
    "RemoteError",
    "Validator",
    "Verdict",
    "peer_id_from_public_key",
    "peer_multiaddr",
]
