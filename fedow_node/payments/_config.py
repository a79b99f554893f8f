"""The ``[stripe]`` configuration section: a frozen dataclass, validated, secrets kept out of reprs."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from config import StripeSection
from fedow_node.payments._errors import PaymentConfigError

_SECRET_KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")


@dataclass(frozen=True)
class StripeConfig:
    """How the node talks to Stripe.

    ``api_base`` points the SDK at another server (the fake one in tests); None means Stripe's
    own. The two secrets never appear in ``repr`` and are never logged.
    """

    secret_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    success_url: str
    cancel_url: str
    api_base: str | None = None

    def __post_init__(self) -> None:
        if not self.secret_key.startswith(_SECRET_KEY_PREFIXES):
            raise PaymentConfigError(
                "config_invalid", "stripe.secret_key must be a Stripe secret or restricted key "
                "(sk_live_..., sk_test_..., rk_live_..., rk_test_...)")
        if not self.webhook_secret.startswith("whsec_"):
            raise PaymentConfigError(
                "config_invalid", "stripe.webhook_secret must be the endpoint's signing secret (whsec_...)")
        for name in ("success_url", "cancel_url", "api_base"):
            value = getattr(self, name)
            if value is not None and not _is_http_url(value):
                raise PaymentConfigError(
                    "config_invalid", f"stripe.{name} must be an absolute http(s) URL, got {value!r}")

    @classmethod
    def from_section(cls, section: StripeSection) -> StripeConfig:
        """Build from the node configuration's ``[stripe]`` section (file + ``FEDOW_STRIPE_*``).

        That section leaves everything optional because Stripe is; a node that enables the
        bridge needs both secrets and both URLs, and gets a :class:`PaymentConfigError` naming
        the first one missing.
        """
        required = {"secret_key": section.secret_key.reveal(), "webhook_secret": section.webhook_secret.reveal(),
                    "success_url": section.success_url, "cancel_url": section.cancel_url}
        for name, value in required.items():
            if not value:
                raise PaymentConfigError(
                    "config_invalid", f"stripe.{name} is not set (in [stripe] or FEDOW_STRIPE_{name.upper()})")
        return cls(api_base=section.api_base or None, **required)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
