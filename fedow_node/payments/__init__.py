"""The Stripe bridge: FED refills paid by card, verified webhooks, refunds and payouts to venues.

Money in: :meth:`StripeBridge.start_refill` opens a Checkout Session; the FED is minted only
when Stripe's signed ``checkout.session.completed`` webhook says it is paid, with the session
id as the ledger's payment reference, so replays and deliveries to several nodes credit once.
Money out: :meth:`StripeBridge.refund` and :meth:`StripeBridge.payout` call Stripe under an
idempotency key, then record the burn on the ledger. The ledger side is the
:class:`LedgerGateway` protocol; :class:`NodeLedger` implements it on a running node (place-key
signed transactions, awaited until committed) and :func:`node_bridge` builds a node's bridge
from its ``[stripe]`` section. Everything here runs on the asyncio loop of the HTTP API; Stripe
SDK errors are translated into :class:`PaymentError` subclasses.
"""

from fedow_node.payments._bridge import StripeBridge, checkout_key, payout_ref, refund_ref
from fedow_node.payments._config import StripeConfig
from fedow_node.payments._errors import (
    CardDeclined,
    InvalidPaymentInput,
    LedgerOutOfStep,
    LedgerRefused,
    LedgerUnavailable,
    PaymentConfigError,
    PaymentError,
    StripeAuthFailed,
    StripeFailure,
    StripeRequestInvalid,
    StripeUnavailable,
    WebhookRejected,
)
from fedow_node.payments._ledger import LedgerGateway, Recorded, Submitted
from fedow_node.payments._node_bridge import node_bridge, stripe_enabled
from fedow_node.payments._node_ledger import NodeLedger
from fedow_node.payments._requests import (
    MIN_CHARGE_CENTS,
    CheckoutLink,
    PayoutReceipt,
    PayoutRequest,
    RefillRequest,
    RefundReceipt,
    RefundRequest,
    WebhookOutcome,
)
from fedow_node.payments._webhook import MAX_WEBHOOK_BYTES, WEBHOOK_PATH, handle_webhook, webhook_routes

__all__ = [
    "CardDeclined",
    "CheckoutLink",
    "InvalidPaymentInput",
    "LedgerGateway",
    "LedgerOutOfStep",
    "LedgerRefused",
    "LedgerUnavailable",
    "MAX_WEBHOOK_BYTES",
    "MIN_CHARGE_CENTS",
    "NodeLedger",
    "PaymentConfigError",
    "PaymentError",
    "PayoutReceipt",
    "PayoutRequest",
    "Recorded",
    "RefillRequest",
    "RefundReceipt",
    "RefundRequest",
    "StripeAuthFailed",
    "StripeBridge",
    "StripeConfig",
    "StripeFailure",
    "StripeRequestInvalid",
    "StripeUnavailable",
    "Submitted",
    "WEBHOOK_PATH",
    "WebhookOutcome",
    "WebhookRejected",
    "checkout_key",
    "handle_webhook",
    "node_bridge",
    "payout_ref",
    "refund_ref",
    "stripe_enabled",
    "webhook_routes",
]
