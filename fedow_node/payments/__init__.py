"""The Stripe bridge: FED refills paid by card, float bought by bank transfer, refunds and payouts.

Money in: :meth:`StripeBridge.start_refill` opens a Checkout Session; Stripe's signed
``checkout.session.completed`` webhook only triggers the mint, which the treasury nodes each
verify at Stripe (:class:`StripeVerifier`) before they co-sign it, with the session id as the
ledger's payment reference, so replays and deliveries to several nodes credit once.
:meth:`StripeBridge.buy_float` does the same for a venue's bank transfer (a PaymentIntent).
Money out: :meth:`StripeBridge.refund` and :meth:`StripeBridge.payout` put the FED on hold,
call Stripe under an idempotency key, then have the treasury attest and burn the hold. The
ledger side is the :class:`LedgerGateway` protocol; :class:`NodeLedger` implements it on a
running node and :func:`node_bridge` builds a node's bridge from its ``[stripe]`` section.
The bridge runs on the asyncio loop of the HTTP API; Stripe SDK errors are translated into
:class:`PaymentError` subclasses.
"""

from fedow_node.payments._bridge import StripeBridge, checkout_key, payout_ref, refund_ref
from fedow_node.payments._config import StripeConfig
from fedow_node.payments._errors import (
    CardDeclined,
    InvalidPaymentInput,
    LedgerOutOfStep,
    LedgerRefused,
    LedgerUnavailable,
    NotAttested,
    PaymentConfigError,
    PaymentError,
    PaymentNotVerified,
    StripeAuthFailed,
    StripeFailure,
    StripeRequestInvalid,
    StripeUnavailable,
    WebhookRejected,
)
from fedow_node.payments._events import (
    FLOAT_PURPOSE, HOLD_KEY, PLACE_KEY, PURPOSE_KEY, REFILL_PURPOSE, WALLET_KEY, float_metadata,
)
from fedow_node.payments._ledger import HeldFunds, LedgerGateway, Submitted
from fedow_node.payments._node_bridge import node_bridge, stripe_enabled
from fedow_node.payments._node_ledger import NodeLedger
from fedow_node.payments._requests import (
    MIN_CHARGE_CENTS,
    CheckoutLink,
    FloatReceipt,
    FloatRequest,
    PayoutReceipt,
    PayoutRequest,
    RefillRequest,
    RefundReceipt,
    RefundRequest,
    WebhookOutcome,
)
from fedow_node.payments._stripe_api import StripeApi
from fedow_node.payments._verify import PaymentVerifier, StripeVerifier
from fedow_node.payments._webhook import MAX_WEBHOOK_BYTES, WEBHOOK_PATH, handle_webhook, webhook_routes

__all__ = [
    "FLOAT_PURPOSE",
    "HOLD_KEY",
    "PLACE_KEY",
    "PURPOSE_KEY",
    "REFILL_PURPOSE",
    "WALLET_KEY",
    "CardDeclined",
    "CheckoutLink",
    "FloatReceipt",
    "FloatRequest",
    "HeldFunds",
    "InvalidPaymentInput",
    "LedgerGateway",
    "LedgerOutOfStep",
    "LedgerRefused",
    "LedgerUnavailable",
    "MAX_WEBHOOK_BYTES",
    "MIN_CHARGE_CENTS",
    "NodeLedger",
    "NotAttested",
    "PaymentConfigError",
    "PaymentError",
    "PaymentNotVerified",
    "PaymentVerifier",
    "PayoutReceipt",
    "PayoutRequest",
    "RefillRequest",
    "RefundReceipt",
    "RefundRequest",
    "StripeApi",
    "StripeAuthFailed",
    "StripeBridge",
    "StripeConfig",
    "StripeFailure",
    "StripeRequestInvalid",
    "StripeUnavailable",
    "StripeVerifier",
    "Submitted",
    "WEBHOOK_PATH",
    "WebhookOutcome",
    "WebhookRejected",
    "checkout_key",
    "float_metadata",
    "handle_webhook",
    "node_bridge",
    "payout_ref",
    "refund_ref",
    "stripe_enabled",
    "webhook_routes",
]
