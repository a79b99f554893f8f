"""The payments error tree: every failure carries a stable ``code`` and a ``detail`` sentence.

::

    PaymentError
    ├── PaymentConfigError     the [stripe] configuration is unusable
    ├── InvalidPaymentInput    a refill / refund / payout request is malformed or not allowed
    ├── WebhookRejected        a webhook delivery failed verification or is malformed (HTTP 400)
    ├── StripeFailure          Stripe refused or failed the call; nothing was done on the ledger
    │   ├── CardDeclined            HTTP 402 from Stripe
    │   ├── StripeRequestInvalid    HTTP 400/404 or an idempotency-key conflict
    │   ├── StripeAuthFailed        HTTP 401/403: wrong or restricted secret key
    │   └── StripeUnavailable       HTTP 429/5xx or no connection: retry later
    ├── PaymentNotVerified     a treasury node's own check at Stripe contradicts what it was asked to sign
    ├── NotAttested            fewer than the treasury's threshold of nodes signed a mint, burn or release
    ├── LedgerRefused          the ledger rejected the transaction (raised by the gateway)
    ├── LedgerUnavailable      the ledger did not answer in time (raised by the gateway)
    └── LedgerOutOfStep        money moved at Stripe but the ledger refused the matching
                               transaction: an operator must reconcile

Stripe SDK exceptions never leave this package: :mod:`._stripe_api` translates them here.
"""

from __future__ import annotations


class PaymentError(Exception):
    """Root of the errors raised by :mod:`fedow_node.payments`."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class PaymentConfigError(PaymentError):
    """The ``[stripe]`` configuration (file or ``FEDOW_STRIPE_*`` environment) is unusable."""


class InvalidPaymentInput(PaymentError):
    """A request to the bridge is malformed or not allowed; nothing was sent anywhere."""


class WebhookRejected(PaymentError):
    """A webhook delivery was refused: bad signature, stale timestamp or malformed payload."""


class StripeFailure(PaymentError):
    """Stripe refused or failed a call. ``http_status`` is Stripe's status (None: no answer)."""

    def __init__(self, code: str, detail: str, http_status: int | None = None) -> None:
        super().__init__(code, detail)
        self.http_status = http_status


class CardDeclined(StripeFailure):
    """The customer's card or payment method was declined (HTTP 402)."""


class StripeRequestInvalid(StripeFailure):
    """Stripe found the request invalid: unknown object, bad amount, reused idempotency key."""


class StripeAuthFailed(StripeFailure):
    """The secret key was refused or lacks the permission for this call."""


class StripeUnavailable(StripeFailure):
    """Stripe is unreachable, rate-limiting or failing: the same request may be retried."""


class PaymentNotVerified(PaymentError):
    """Stripe contradicts a mint, burn or release a treasury node was asked to sign: it does not sign.

    ``code``: ``unknown_payment``, ``not_paid``, ``amount_mismatch``, ``wrong_currency``,
    ``refunded``, ``wrong_wallet``, ``wrong_purpose`` (money in); ``unknown_payout``, ``wrong_payout``,
    ``reversed``, ``payout_pending``, ``payout_failed``, ``paid_out`` (money out).
    """


class NotAttested(PaymentError):
    """The treasury threshold was not reached; nothing was submitted.

    ``code`` is the commonest refusal of the asked treasury nodes (``not_paid``, ``reference_used``...),
    or ``treasury_unavailable`` when too few answered; ``refusals`` lists (node, code, detail) of each.
    """

    def __init__(self, code: str, detail: str, refusals: tuple[tuple[str, str, str], ...] = ()) -> None:
        super().__init__(code, detail)
        self.refusals = refusals


class LedgerRefused(PaymentError):
    """The ledger rejected a transaction; ``code``/``detail`` are the ledger's own."""


class LedgerUnavailable(PaymentError):
    """The ledger gave no answer in time (node not synced, no quorum): retry later."""


class LedgerOutOfStep(PaymentError):
    """Stripe moved money but the ledger refused the matching transaction.

    Raised only after the Stripe side succeeded; the event is logged at error level
    with both references so an operator can reconcile.
    """
