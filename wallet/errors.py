"""The ledger's one error: a rejection with a machine-readable code and a human reason.

Every rejection says what was wrong and changes nothing: the rules work on an
overlay that the caller throws away when :class:`Rejected` is raised.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of the errors raised by the wallet package."""


class Rejected(LedgerError):
    """Input refused by the ledger.

    ``code`` is a stable snake_case identifier (``overdraft``, ``bad_signature``,
    ``replay`` ...) that the HTTP API and the mempool report as is; ``detail``
    is a sentence naming the field or object and the reason.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class InvariantBroken(LedgerError):
    """A money invariant failed after applying a block: the node must halt, not commit."""


class BlockTxRejected(Rejected):
    """A block is invalid because its transaction number ``index`` does not apply."""

    def __init__(self, index: int, txid: bytes, cause: Rejected) -> None:
        super().__init__(cause.code, f"transaction {index} ({txid.hex()}): {cause.detail}")
        self.index = index
        self.txid = txid
        self.cause = cause
