"""The treasury's errors: each carries a stable ``code`` and a ``detail`` sentence.

``TreasuryError`` > ``CosignRefused``: this treasury node will not sign what it was asked (state,
Stripe, form). The gatherer's failure, fewer than the threshold of treasury nodes signed, is
``fedow_node.payments.NotAttested`` (the bridge's gateway handles it), re-exported here.
"""

from __future__ import annotations


class TreasuryError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class CosignRefused(TreasuryError):
    """A treasury node refuses to sign. ``blame``: the asker sent something it should have known was wrong."""

    def __init__(self, code: str, detail: str, *, blame: int = 0) -> None:
        super().__init__(code, detail)
        self.blame = blame
        """Peer score points an asking peer loses for this request (0: an honest race, or Stripe down)."""
