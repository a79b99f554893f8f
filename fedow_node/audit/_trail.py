"""The FED money trail of a replayed chain: every attested mint and burn, every hold, and the backing.

The replay feeds each block's transactions to a :class:`MoneyTrail`; at the end the trail
reads the holds and the backing totals from the replayed state. ``fedow-node audit`` prints
the backing (FED in circulation against what the treasury attested), and ``--stripe``
reconciles the trail against the Stripe account (``_stripe.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from wallet import layout, queries
from wallet.bodies import FedBurn, FedMint
from wallet.records import HOLD_HELD, Hold, Pointer, Supply
from wallet.state import StateReader, read_all, read_one
from wallet.tx import Tx


@dataclass(frozen=True)
class MintEntry:
    reference: str
    amount: int
    wallet: bytes
    height: int


@dataclass(frozen=True)
class BurnEntry:
    hold_ref: str
    stripe_id: str
    amount: int
    height: int


@dataclass(frozen=True)
class FedBacking:
    """FED in circulation against what the treasury attested (genesis FED counts as attested)."""

    circulation: int
    attested_minted: int
    attested_burnt: int
    on_hold: int


@dataclass
class MoneyTrail:
    """Collected during a replay: what the chain says entered and left, for the reconciliation."""

    mints: list[MintEntry] = field(default_factory=list)
    burns: list[BurnEntry] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    backing: FedBacking | None = None

    def add_block(self, height: int, txs: Iterable[Tx]) -> None:
        for tx in txs:
            body = tx.body
            if isinstance(body, FedMint):
                self.mints.append(MintEntry(body.payment_ref, body.amount, body.wallet, height))
            elif isinstance(body, FedBurn):
                self.burns.append(BurnEntry(body.hold_ref, body.stripe_id, body.amount, height))

    def finish(self, reader: StateReader) -> FedBacking:
        """Read the holds and the backing from the final state."""
        self.holds = [hold for _key, hold in read_all(reader, layout.HOLD, Hold)]
        self.backing = fed_backing(reader)
        return self.backing


def fed_backing(reader: StateReader) -> FedBacking:
    fed = read_one(reader, layout.FED_ASSET, Pointer)
    supply = None if fed is None else queries.supply(reader, fed.target)
    attested = queries.fed_backing(reader)
    on_hold = sum(hold.amount for _key, hold in read_all(reader, layout.HOLD, Hold) if hold.state == HOLD_HELD)
    return FedBacking((supply or Supply(0, 0, 0)).held, attested.attested_minted, attested.attested_burnt, on_hold)
