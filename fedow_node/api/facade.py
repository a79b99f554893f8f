"""The border between the HTTP API and the node: what a handler may ask of the node.

The API runs on asyncio in the node process (trio runs the node as a guest,
see ``fedow_node/guest.py``); the node implements :class:`NodeFacade`, with
asyncio-awaitable methods for anything that needs the trio side. Reads of
committed state go straight to ``reader`` (a snapshot of the last commit: blocks are
committed in another thread) and ``store`` (single records written once, ranges).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Mapping, Protocol, Sequence

from consensus.errors import Rejected as ConsensusRejected
from fedow_node.offline import OfflineService
from storage import CommittedState, Store, TxLocation
from wallet.errors import Rejected as LedgerRejected
from wallet.keys import SigningKey

__all__ = ["CommittedTx", "NodeFacade", "REFUSALS", "SubmitRefused", "refusal_of"]


@dataclass(frozen=True)
class CommittedTx:
    """A transaction the chain committed, as the events stream reports it."""

    txid: bytes
    height: int
    position: int
    kind: str
    signer: bytes
    touched: tuple[bytes, ...]
    """Wallets whose balances, memberships or passages changed (``TxResult.touched``)."""
    tx: bytes
    """The signed transaction bytes (the stream decodes the body to filter by card)."""
    time_ms: int
    """The block's consensus time."""


class SubmitRefused(Exception):
    """The node refused a transaction before it entered the mempool; nothing changed.

    ``code`` is the stable code of the mempool or of the ledger's check
    (``overdraft``, ``replay``, ``mempool_full``...), ``detail`` a sentence.
    The node may raise ``consensus.TxRejected`` or ``wallet.Rejected`` instead
    (:data:`REFUSALS`); any other exception is an internal fault (HTTP 500).
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


REFUSALS: tuple[type[Exception], ...] = (SubmitRefused, ConsensusRejected, LedgerRejected)
"""What the node raises when it refuses a transaction: the request's fault, never the node's."""


def refusal_of(exc: BaseException) -> SubmitRefused | None:
    """``exc`` as a refusal (code + detail) if it is one of :data:`REFUSALS`; None for anything else.

    Anything else (a storage fault, a bug) is the node's fault and must not be
    answered as a ledger rule refusing the request.
    """
    if isinstance(exc, REFUSALS):
        return exc if isinstance(exc, SubmitRefused) else SubmitRefused(exc.code, exc.detail)  # type: ignore[attr-defined]
    return None


class NodeFacade(Protocol):
    """What the HTTP API needs from a running node."""

    chain_id: str
    reader: CommittedState
    """Committed state as the last commit left it: one LevelDB snapshot with its height and state hash,
    replaced by the next commit (made in another thread): take it once per answer."""
    store: Store
    """Blocks, certificates, the txid index and wallet histories."""
    place_key: SigningKey | None
    """The venue key POS requests are signed with; None: only client-signed transactions."""
    api_tokens_path: Path
    """File of the POS API tokens (``fedow_node.api.tokens``); may not exist yet (no token)."""
    offline: OfflineService | None
    """Whether the node is cut off, and its offline till and journal (docs/offline.md); None: not watched."""

    def status(self) -> Mapping[str, Any]:
        """JSON-able facts about the node: peers, mempool size, validator or not, sync state...

        The API adds chain id, height, state hash and parameters itself.
        """
        ...

    async def submit(self, tx: bytes) -> bytes:
        """Check ``tx`` and put it in the mempool (and gossip it); return its txid.

        Raises :class:`SubmitRefused` (or an error with ``code`` and ``detail``).
        """
        ...

    async def submit_batch(self, txs: Sequence[bytes]) -> list[bytes | SubmitRefused]:
        """Each of ``txs`` as :meth:`submit` would take it, in order (their signatures may be checked
        together first): its txid, or its refusal. Any other exception is a fault of the node."""
        ...

    def is_pending(self, txid: bytes) -> bool:
        """True while ``txid`` waits in this node's mempool."""
        ...

    async def wait_committed(self, txid: bytes, timeout_s: float) -> TxLocation | None:
        """Where ``txid`` was committed, once it is; None when ``timeout_s`` passes first.

        Raises :class:`SubmitRefused` if the node drops the transaction first
        (a block or the mempool's re-check found it no longer applies).
        """
        ...

    def dropped(self, txid: bytes) -> SubmitRefused | None:
        """Why this node recently dropped ``txid`` after accepting it, or None."""
        ...

    def next_expiry(self) -> int:
        """``expires_at`` for a transaction signed now (tip height + the chain's ttl)."""
        ...

    def note_signed(self, txid: bytes, till: str) -> None:
        """The API signed ``txid`` for the token ``till``: count it under that till in the daily totals."""
        ...

    def subscribe_commits(self) -> AsyncIterator[CommittedTx]:
        """Every transaction committed from now on, in chain order, until the iterator is closed.

        A slow consumer may be dropped by the node (the iterator ends): the
        stream then closes and the client reconnects.
        """
        ...
