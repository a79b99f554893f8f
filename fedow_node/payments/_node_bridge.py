"""The bridge of a running node: on when ``[stripe]`` holds both secrets, off otherwise."""

from __future__ import annotations

from config import StripeSection
from fedow_node.api.facade import NodeFacade
from fedow_node.payments._bridge import StripeBridge
from fedow_node.payments._config import StripeConfig
from fedow_node.payments._errors import PaymentConfigError
from fedow_node.payments._node_ledger import Attester, NodeLedger
from wallet import queries


def stripe_enabled(section: StripeSection) -> bool:
    """Stripe is optional: a node without both secrets serves no Stripe route."""
    return bool(section.secret_key.reveal() and section.webhook_secret.reveal())


def node_bridge(section: StripeSection, node: NodeFacade, treasury: Attester, *,
                payout_account: str | None = None) -> StripeBridge | None:
    """The bridge signing holds with the node's place key, or None when Stripe is not configured.

    ``treasury`` gathers the treasury's signatures of mints and burns (the node's gatherer).

    :class:`PaymentConfigError` when ``[stripe]`` is incomplete or the node cannot sign for a
    place (no place key, or a key no place on the chain has yet): the operator must fix it
    rather than run a node whose webhooks would all fail.
    """
    if not stripe_enabled(section):
        return None
    config = StripeConfig.from_section(section)
    if node.place_key is None:
        raise PaymentConfigError("config_invalid", "[stripe] is set but this node has no place key to sign "
                                 "refund and payout holds with ([keys] place_key)")
    place = queries.place_by_key(node.reader, node.place_key.public_key)
    if place is None:
        raise PaymentConfigError("config_invalid", "[stripe] is set but this node's place key is not the key "
                                 "of any place on the chain (yet): sync first, or create the place")
    accounts = {} if payout_account is None else {place.id: payout_account}
    return StripeBridge(config, NodeLedger(node, node.place_key, treasury, payout_accounts=accounts), place_id=place.id)
