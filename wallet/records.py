"""The ledger's records: what each state value holds, as frozen dataclasses.

A value in state is ``pack(record.to_list())``: a canonical msgpack array in
field order. Tuples become arrays and back, so a record survives the round
trip unchanged and two nodes encode it to the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

R = TypeVar("R", bound="Record")

CARD_ACTIVE = "active"
CARD_LOST = "lost"
CARD_VOIDED = "voided"

WALLET_USER = "user"
WALLET_CARD = "card"
WALLET_PLACE = "place"

CATEGORIES = ("FED", "TLF", "TNF", "TIM", "FID", "BDG", "SUB")
"""Asset categories, as in Fedow: federated euro, local fiat, local non-fiat, time,
fidelity, badge, subscription."""
NON_MONEY_CATEGORIES = ("BDG", "SUB")
"""Categories that never have balances (passages and memberships are records)."""


def _to_wire(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_wire(item) for item in value]
    return value


def _from_wire(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_from_wire(item) for item in value)
    return value


class Record:
    """Mixin: field-order array encoding for slotted frozen dataclasses."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def to_list(self) -> list[Any]:
        return [_to_wire(value) if type(value) is tuple else value
                for value in map(self.__getattribute__, self.__dataclass_fields__)]

    @classmethod
    def from_list(cls: type[R], items: list[Any]) -> R:
        return cls(*[_from_wire(item) if type(item) is list else item for item in items])


@dataclass(frozen=True, slots=True)
class Pointer(Record):
    """An index entry: the id (or height, or txid) it points at."""

    target: Any


@dataclass(frozen=True, slots=True)
class KeySet(Record):
    """Keys that act together (the authorities, the treasury): ``threshold`` of them must sign."""

    keys: tuple[bytes, ...]
    """Sorted, distinct."""
    threshold: int


@dataclass(frozen=True, slots=True)
class Place(Record):
    id: str
    name: str
    wallet: bytes
    public_key: bytes
    archived: bool
    federations: tuple[str, ...]
    """Federations the place belongs to, sorted: what it accepts besides its own assets."""


@dataclass(frozen=True, slots=True)
class PlacePolicy(Record):
    """A place's rules for its tills (``place_policy``); absent = nothing required."""

    require_operator: bool
    """Sales, refunds and voids must name an operator card: one of the place's primary cards."""


@dataclass(frozen=True, slots=True)
class WalletInfo(Record):
    """Kind of a wallet, and the card behind it (card wallets; last linked card of a user)."""

    kind: str
    card: bytes | None


@dataclass(frozen=True, slots=True)
class Card(Record):
    uid: bytes
    number: str
    qr_id: bytes
    origin_place: str
    primary_places: tuple[str, ...]
    """Places for which this card authorises a POS operator, in order of addition."""
    owner: bytes | None
    state: str
    wallet: bytes

    @property
    def paying_wallet(self) -> bytes:
        """A linked card spends from its owner's wallet, an anonymous one from its own."""
        return self.owner if self.owner is not None else self.wallet


@dataclass(frozen=True, slots=True)
class Asset(Record):
    id: str
    name: str
    category: str
    origin_place: str | None
    melting: bool
    archived: bool


@dataclass(frozen=True, slots=True)
class Federation(Record):
    id: str
    name: str
    places: tuple[str, ...]
    assets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Validator(Record):
    public_key: bytes
    place: str
    stake: int
    unbonding: int
    """Total of this validator's unbonding entries (each in the ``unbond/`` index)."""
    jailed: bool
    active: bool
    """Admitted by governance and not removed since."""


@dataclass(frozen=True, slots=True)
class ValidatorSet(Record):
    """The set in force from a height on: (public key, power) sorted by key."""

    entries: tuple[tuple[bytes, int], ...]
    previous: int
    """Height from which the set before this one was in force; 0 for the genesis set."""


@dataclass(frozen=True, slots=True)
class ProtocolState(Record):
    """The protocol version in force, and the upgrade governance scheduled (``next_height`` 0: none)."""

    version: int
    next_version: int
    next_height: int


@dataclass(frozen=True, slots=True)
class Membership(Record):
    start_ms: int
    expiry_ms: int


@dataclass(frozen=True, slots=True)
class Badge(Record):
    count: int
    last_ms: int


@dataclass(frozen=True, slots=True)
class Balance(Record):
    amount: int
    last_activity_ms: int
    periods_charged: int
    """Demurrage periods already charged since the last activity."""
    due_ms: int
    """Key time of this balance's entry in the demurrage index; 0 when not indexed."""


@dataclass(frozen=True, slots=True)
class Supply(Record):
    """Running totals of an asset; ``held`` = balances + stake + unbonding + pools."""

    minted: int
    burnt: int
    held: int


@dataclass(frozen=True, slots=True)
class FedBacking(Record):
    """FED the treasury attested as received (minted) and as paid out (burnt); genesis FED counts as minted."""

    attested_minted: int
    attested_burnt: int


HOLD_HELD = "held"
HOLD_BURNT = "burnt"
HOLD_RELEASED = "released"


@dataclass(frozen=True, slots=True)
class Hold(Record):
    """FED set aside for a payout (a place's) or a refund to the bank card (a user's or card's wallet).

    Kept for ever (its reference is usable once); while ``state`` is held the amount counts in
    the FED in circulation but cannot be spent; the treasury's attestation burns or releases it.
    """

    reference: str
    wallet: bytes
    amount: int
    place: str
    """The place that asked for it (the payee of a payout, the refunding place of a refund)."""
    payment_intent: str | None
    """Refunds: the Stripe payment refunded (None for a payout)."""
    state: str
    paid_by: str | None
    """Once burnt: the provider's id of the payout or refund the treasury attested."""


@dataclass(frozen=True, slots=True)
class Amount(Record):
    """A bare amount: a pool, an unbonding entry."""

    value: int


@dataclass(frozen=True, slots=True)
class OfflineBondRecord(Record):
    """A place's offline bond: FED it locked to carry the risk of its offline sales (docs/offline.md).

    Counted in the FED in circulation (held, not spendable). ``unbonding`` is the part under notice:
    it still covers shortfalls until it goes back to the place's wallet at ``release_ms``.
    """

    locked: int
    unbonding: int
    release_ms: int
    """When ``unbonding`` goes back to the place's wallet (0 when nothing is under notice)."""

    @property
    def total(self) -> int:
        return self.locked + self.unbonding


@dataclass(frozen=True, slots=True)
class OfflineRecord(Record):
    """What an ``offline`` transaction did, under (place wallet, journal, seq), kept for ever.

    It is the replay guard of offline operations (they never expire) and, for a sale, the record a
    venue follows up: the card paid ``amount - from_bond - uncovered``; the shortfall came from the
    place's bond (``from_bond``) and, past what the bond held, was not paid at all (``uncovered``).
    """

    txid: bytes
    op: str
    subject: bytes
    """The card's uid (sale, badge) or the wallet refilled (cash_refill)."""
    amount: int
    from_bond: int
    uncovered: int
