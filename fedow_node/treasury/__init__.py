"""The treasury nodes: FED is minted and burnt only with a threshold of their signatures.

A node holding a treasury key runs a :class:`TreasuryCosigner` (it signs a ``fed_mint``,
``fed_burn`` or ``fed_release`` only after checking its own committed state and the payment or
payout at Stripe itself) behind a :class:`TreasuryServer` on the p2p protocol
``/fedow/<chain>/treasury/1``. Any node's :class:`TreasuryGatherer` collects the threshold of
signatures over the network (its own first, if it has a treasury key) and hands back the
co-signed transaction to submit. See docs/ledger.md ("The treasury") and docs/stripe.md.
"""

from fedow_node.treasury._cosigner import TreasuryCosigner
from fedow_node.payments import NotAttested
from fedow_node.treasury._errors import CosignRefused, TreasuryError
from fedow_node.treasury._gatherer import TreasuryGatherer, TreasuryNetwork
from fedow_node.treasury._protocol import P2PTreasuryNetwork, TreasuryServer, protocol_id

__all__ = [
    "CosignRefused", "NotAttested", "P2PTreasuryNetwork", "TreasuryCosigner", "TreasuryError", "TreasuryGatherer",
    "TreasuryNetwork", "TreasuryServer", "protocol_id",
]
