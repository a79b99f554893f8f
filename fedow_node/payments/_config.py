"""The ``[stripe]`` configuration section: a frozen dataclass, validated, secrets kept out of reprs."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Mapping
from urllib.parse import urlsplit

from fedow_node.payments._errors import PaymentConfigError

ENV_PREFIX = "FEDOW_STRIPE_"
"""Environment variables ``FEDOW_STRIPE_<FIELD>`` override the file's ``[stripe]`` section."""

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
    def from_sources(cls, section: Mapping[str, object], environ: Mapping[str, str]) -> StripeConfig:
        """Build from a parsed TOML ``[stripe]`` table, with ``FEDOW_STRIPE_*`` variables winning."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise PaymentConfigError("config_invalid", f"unknown key(s) in [stripe]: {', '.join(unknown)}")
        merged: dict[str, object] = dict(section)
        for name in sorted(known):
            env_value = environ.get(ENV_PREFIX + name.upper())
            if env_value is not None:
                merged[name] = env_value
        for name, value in sorted(merged.items()):
            if not isinstance(value, str):
                raise PaymentConfigError("config_invalid", f"stripe.{name} must be a string")
        missing = sorted(f.name for f in fields(cls) if f.name != "api_base" and f.name not in merged)
        if missing:
            raise PaymentConfigError(
                "config_invalid", f"missing stripe setting(s): {', '.join(missing)} "
                f"(set them in [stripe] or as {ENV_PREFIX}<NAME>)")
        return cls(**merged)  # type: ignore[arg-type]


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
