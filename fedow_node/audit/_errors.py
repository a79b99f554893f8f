"""The one error of the audit: the first discrepancy found, with the height where it shows."""

from __future__ import annotations


class AuditFailed(Exception):
    """The audited chain disagrees with its own rules; ``height`` is None for chain-wide checks."""

    def __init__(self, code: str, detail: str, height: int | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.height = height

    def describe(self) -> str:
        """One sentence for a human: where, then what differs."""
        where = "chain" if self.height is None else f"height {self.height}"
        return f"audit failed at {where}: {self.detail} ({self.code})"
