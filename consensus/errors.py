"""The consensus package's errors: one root, and a rejection that carries a stable code.

Every rejection names what was wrong (``code`` is snake_case and stable, ``detail``
is a sentence naming the field and the reason) and is raised before anything
changes, so a caller can drop the input and keep going.
"""

from __future__ import annotations


class ConsensusError(Exception):
    """Root of the errors raised by the consensus package."""


class Rejected(ConsensusError):
    """Input refused: a malformed message, a bad signature, a full mempool, a refused signature."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (self.code, self.detail))  # picklable across processes (simulator workers)


class TxRejected(Rejected):
    """A transaction refused by the mempool or by ``Application.check_tx`` (which raises it)."""


class SignerRefused(Rejected):
    """The signer will not sign: it would conflict with what it signed before (double-sign guard)."""


class UnsafeStart(ConsensusError):
    """The validator must not start: its last-sign state is ahead of its chain."""
