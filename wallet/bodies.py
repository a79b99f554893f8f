"""Typed bodies of every transaction kind, with their stateless shape checks.

A body travels as an array in field order (``to_list``); ``from_list`` checks
the count, the type and the size of every field and names the bad one.
``BODY_TYPES`` maps each kind (the envelope's ``kind`` string) to its body.
A kind may grow optional trailing fields (``OPTIONAL_TAIL``): absent on the wire
when None, so bodies encoded before the field existed keep their bytes and txid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from wallet import fields as f
from wallet.errors import Rejected

B = TypeVar("B", bound="Body")


class Body:
    """Base of every body: ``SCHEMA`` lists (field name, check) in field order."""

    __slots__ = ()
    KIND: ClassVar[str]
    SCHEMA: ClassVar[tuple[tuple[str, f.Check], ...]]
    OPTIONAL_TAIL: ClassVar[int] = 0
    """How many last SCHEMA fields were added later: each may be absent (None), never sent as nil."""
    KEY_SET: ClassVar[str | None] = None
    """The key set whose threshold of signatures authorises this kind (a co-signed, version 2
    envelope), or None for a kind with one signer (version 1)."""
    SEQUENCED: ClassVar[bool] = False
    """Replay-protected by its own record on chain (a place's offline journal and sequence number,
    kept for ever) instead of the txid window: it never expires (docs/offline.md)."""

    def to_list(self) -> list[Any]:
        items = [_to_wire(getattr(self, name)) for name, _check in self.SCHEMA]
        while len(items) > len(self.SCHEMA) - self.OPTIONAL_TAIL and items[-1] is None:
            items.pop()
        return items

    @classmethod
    def from_list(cls: type[B], items: Any) -> B:
        schema = cls.SCHEMA
        size = len(schema)
        if type(items) is not list or not size - cls.OPTIONAL_TAIL <= len(items) <= size:
            required = size - cls.OPTIONAL_TAIL
            count = str(required) if not cls.OPTIONAL_TAIL else f"{required} to {size}"
            raise Rejected("bad_body", f"{cls.KIND} body must be an array of {count} fields "
                           f"({', '.join(name for name, _ in schema)})")
        values = [check(name, value) for (name, check), value in zip(schema, items)]
        if len(values) < size:
            values += [None] * (size - len(values))
        return cls(*values)


def _to_wire(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_wire(item) for item in value]
    if isinstance(value, Body):
        return [value.KIND, value.to_list()]
    return value


BODY_TYPES: dict[str, type[Body]] = {}


AUTHORITY, TREASURY = f.KEY_SETS
"""The key sets a co-signed kind can require (state key ``keyset/<name>``)."""


def _kind(name: str, key_set: str | None = None):  # type: ignore[no-untyped-def]
    def register(cls: type[B]) -> type[B]:
        cls.KIND = name
        cls.KEY_SET = key_set
        BODY_TYPES[name] = cls
        return cls
    return register


# -- governance (co-signed by a threshold of the authority keys) ---------------
@_kind("create_place", AUTHORITY)
@dataclass(frozen=True, slots=True)
class CreatePlace(Body):
    place_id: str
    name: str
    public_key: bytes
    SCHEMA = (("place_id", f.place_id), ("name", f.display_name), ("public_key", f.public_key))


@_kind("archive_place", AUTHORITY)
@dataclass(frozen=True, slots=True)
class ArchivePlace(Body):
    """Archive a place; ``destinations`` names where each asset it still holds goes: another
    place (its id) or a wallet (32 bytes)."""

    place_id: str
    destinations: tuple[tuple[str, bytes | str], ...]
    SCHEMA = (("place_id", f.place_id),
              ("destinations", f.array_of(f.row(("asset_id", f.asset_id), ("to", f.wallet_or_place)),
                                          f.MAX_DESTINATIONS, min_items=0)))


@_kind("replace_place_key", AUTHORITY)
@dataclass(frozen=True, slots=True)
class ReplacePlaceKey(Body):
    """Give a place a new key when its old one is lost (the owner rotates with ``rotate_place_key``)."""

    place_id: str
    public_key: bytes
    SCHEMA = (("place_id", f.place_id), ("public_key", f.public_key))


@_kind("set_keys", AUTHORITY)
@dataclass(frozen=True, slots=True)
class SetKeys(Body):
    """Replace a key set (the authorities themselves, or the treasury) and its threshold."""

    key_set: str
    keys: tuple[bytes, ...]
    threshold: int
    SCHEMA = (("key_set", f.key_set_name), ("keys", f.sorted_keys), ("threshold", f.threshold))


@_kind("create_asset", AUTHORITY)
@dataclass(frozen=True, slots=True)
class CreateAsset(Body):
    asset_id: str
    name: str
    category: str
    origin_place: str | None
    melting: bool
    SCHEMA = (("asset_id", f.asset_id), ("name", f.display_name), ("category", f.category),
              ("origin_place", f.optional(f.place_id)), ("melting", f.boolean))


@_kind("archive_asset", AUTHORITY)
@dataclass(frozen=True, slots=True)
class ArchiveAsset(Body):
    asset_id: str
    SCHEMA = (("asset_id", f.asset_id),)


@_kind("create_federation", AUTHORITY)
@dataclass(frozen=True, slots=True)
class CreateFederation(Body):
    federation_id: str
    name: str
    SCHEMA = (("federation_id", f.federation_id), ("name", f.display_name))


@_kind("federation_place", AUTHORITY)
@dataclass(frozen=True, slots=True)
class FederationPlace(Body):
    """Add (include=True) or remove a place of a federation."""

    federation_id: str
    place_id: str
    include: bool
    SCHEMA = (("federation_id", f.federation_id), ("place_id", f.place_id), ("include", f.boolean))


@_kind("federation_asset", AUTHORITY)
@dataclass(frozen=True, slots=True)
class FederationAsset(Body):
    """Add (include=True) or remove an asset of a federation."""

    federation_id: str
    asset_id: str
    include: bool
    SCHEMA = (("federation_id", f.federation_id), ("asset_id", f.asset_id), ("include", f.boolean))


@_kind("admit_validator", AUTHORITY)
@dataclass(frozen=True, slots=True)
class AdmitValidator(Body):
    """Admit (or re-admit and unjail) a validator key run by a place."""

    public_key: bytes
    place_id: str
    SCHEMA = (("public_key", f.public_key), ("place_id", f.place_id))


@_kind("remove_validator", AUTHORITY)
@dataclass(frozen=True, slots=True)
class RemoveValidator(Body):
    public_key: bytes
    SCHEMA = (("public_key", f.key32),)


@_kind("set_params", AUTHORITY)
@dataclass(frozen=True, slots=True)
class SetParams(Body):
    changes: tuple[tuple[str, int], ...]
    SCHEMA = (("changes", f.array_of(f.row(("name", f.param_name), ("value", f.param_value)),
                                     f.MAX_PARAM_CHANGES)),)


@_kind("schedule_upgrade", AUTHORITY)
@dataclass(frozen=True, slots=True)
class ScheduleUpgrade(Body):
    """From ``height`` on, blocks follow protocol ``version`` (wallet/protocol.py); replaces a pending plan."""

    version: int
    height: int
    SCHEMA = (("version", f.protocol_version), ("height", f.block_height))


@_kind("fund_payout", AUTHORITY)
@dataclass(frozen=True, slots=True)
class FundPayout(Body):
    """Pay from the common or the development fund (fed by demurrage and slashing)."""

    fund: str
    asset_id: str
    to_wallet: bytes
    amount: int
    SCHEMA = (("fund", f.fund_name), ("asset_id", f.asset_id), ("to_wallet", f.key32), ("amount", f.amount))


@_kind("rotate_place_key")
@dataclass(frozen=True, slots=True)
class RotatePlaceKey(Body):
    """A place replaces its key, signed with its current key."""

    place_id: str
    public_key: bytes
    SCHEMA = (("place_id", f.place_id), ("public_key", f.public_key))


@_kind("place_policy")
@dataclass(frozen=True, slots=True)
class SetPlacePolicy(Body):
    """A place's own rules for its tills, signed with its key: must an operator card be presented
    on sales, refunds and voids?"""

    require_operator: bool
    SCHEMA = (("require_operator", f.boolean),)


# -- cards ---------------------------------------------------------------------
@_kind("register_cards")
@dataclass(frozen=True, slots=True)
class RegisterCards(Body):
    """A batch of new cards of the signing (origin) place: (uid, printed number, QR id)."""

    cards: tuple[tuple[bytes, str, bytes], ...]
    SCHEMA = (("cards", f.array_of(f.row(("uid", f.card_uid), ("number", f.card_number),
                                         ("qr_id", f.qr_id)), f.MAX_CARDS_PER_TX)),)


@_kind("link_card")
@dataclass(frozen=True, slots=True)
class LinkCard(Body):
    """The signer's wallet claims a card named by its QR id (bytes) or printed number (str)."""

    card: bytes | str
    SCHEMA = (("card", f.card_lookup),)


@_kind("lost_card")
@dataclass(frozen=True, slots=True)
class LostCard(Body):
    uid: bytes
    SCHEMA = (("uid", f.card_uid),)


@_kind("void_card")
@dataclass(frozen=True, slots=True)
class VoidCard(Body):
    uid: bytes
    operator: bytes | None = None
    """The operator's card (a primary card of the place), when one was presented (optional, added later)."""
    SCHEMA = (("uid", f.card_uid), ("operator", f.card_uid))
    OPTIONAL_TAIL = 1


@_kind("set_primary_card")
@dataclass(frozen=True, slots=True)
class SetPrimaryCard(Body):
    uid: bytes
    primary: bool
    SCHEMA = (("uid", f.card_uid), ("primary", f.boolean))


# -- money in ------------------------------------------------------------------
@_kind("cash_refill")
@dataclass(frozen=True, slots=True)
class CashRefill(Body):
    """Cash paid at a place: FED from the place's float, or the place's own asset minted."""

    wallet: bytes
    asset_id: str
    amount: int
    SCHEMA = (("wallet", f.key32), ("asset_id", f.asset_id), ("amount", f.amount))


@_kind("mint")
@dataclass(frozen=True, slots=True)
class Mint(Body):
    asset_id: str
    amount: int
    SCHEMA = (("asset_id", f.asset_id), ("amount", f.amount))


# -- payments ------------------------------------------------------------------
@_kind("sale")
@dataclass(frozen=True, slots=True)
class Sale(Body):
    """Card -> place, signed by the place key on behalf of its POS."""

    uid: bytes
    asset_id: str
    amount: int
    operator: bytes | None = None
    """The operator's card (a primary card of the place), when one was presented (optional, added later)."""
    SCHEMA = (("uid", f.card_uid), ("asset_id", f.asset_id), ("amount", f.amount), ("operator", f.card_uid))
    OPTIONAL_TAIL = 1


@_kind("qr_sale")
@dataclass(frozen=True, slots=True)
class QrSale(Body):
    """User wallet -> place, signed by the user's key."""

    place_id: str
    asset_id: str
    amount: int
    SCHEMA = (("place_id", f.place_id), ("asset_id", f.asset_id), ("amount", f.amount))


@_kind("transfer")
@dataclass(frozen=True, slots=True)
class Transfer(Body):
    to_wallet: bytes
    asset_id: str
    amount: int
    SCHEMA = (("to_wallet", f.key32), ("asset_id", f.asset_id), ("amount", f.amount))


@_kind("settlement")
@dataclass(frozen=True, slots=True)
class Settlement(Body):
    to_place: str
    asset_id: str
    amount: int
    SCHEMA = (("to_place", f.place_id), ("asset_id", f.asset_id), ("amount", f.amount))


@_kind("refund")
@dataclass(frozen=True, slots=True)
class Refund(Body):
    """A place pays back part of a card's balance in cash: FED goes to its float, other tokens are burnt."""

    uid: bytes
    asset_id: str
    amount: int
    operator: bytes | None = None
    """The operator's card (a primary card of the place), when one was presented (optional, added later)."""
    SCHEMA = (("uid", f.card_uid), ("asset_id", f.asset_id), ("amount", f.amount), ("operator", f.card_uid))
    OPTIONAL_TAIL = 1


# -- the treasury: FED in and out (docs/ledger.md, "The treasury") --------------
@_kind("fed_mint", TREASURY)
@dataclass(frozen=True, slots=True)
class FedMint(Body):
    """FED against euros the federation received (a Stripe payment), co-signed by the treasury threshold.

    ``payment_ref`` (a Checkout Session or PaymentIntent id) is usable once network-wide.
    """

    payment_ref: str
    amount: int
    wallet: bytes
    SCHEMA = (("payment_ref", f.reference), ("amount", f.amount), ("wallet", f.key32))


@_kind("payout_hold")
@dataclass(frozen=True, slots=True)
class PayoutHold(Body):
    """A place sets FED of its own wallet aside for a payout to its bank (reference usable once)."""

    hold_ref: str
    amount: int
    SCHEMA = (("hold_ref", f.reference), ("amount", f.amount))


@_kind("refund_hold")
@dataclass(frozen=True, slots=True)
class RefundHold(Body):
    """A place sets FED of a user's or card's wallet aside for a refund to the bank card that paid."""

    hold_ref: str
    wallet: bytes
    amount: int
    payment_intent: str
    SCHEMA = (("hold_ref", f.reference), ("wallet", f.key32), ("amount", f.amount),
              ("payment_intent", f.reference))


@_kind("fed_burn", TREASURY)
@dataclass(frozen=True, slots=True)
class FedBurn(Body):
    """A hold paid out (``stripe_id``: the transfer or refund, usable once), co-signed by the treasury threshold."""

    hold_ref: str
    stripe_id: str
    amount: int
    SCHEMA = (("hold_ref", f.reference), ("stripe_id", f.reference), ("amount", f.amount))


@_kind("fed_release", TREASURY)
@dataclass(frozen=True, slots=True)
class FedRelease(Body):
    """A hold whose payout failed goes back to its wallet, co-signed by the treasury threshold."""

    hold_ref: str
    SCHEMA = (("hold_ref", f.reference),)


# -- memberships and badges ----------------------------------------------------
@_kind("membership")
@dataclass(frozen=True, slots=True)
class GrantMembership(Body):
    wallet: bytes
    asset_id: str
    unit: str
    count: int
    SCHEMA = (("wallet", f.key32), ("asset_id", f.asset_id), ("unit", f.period_unit),
              ("count", f.period_count))


@_kind("badge")
@dataclass(frozen=True, slots=True)
class BadgeCheckIn(Body):
    uid: bytes
    asset_id: str
    SCHEMA = (("uid", f.card_uid), ("asset_id", f.asset_id))


# -- staking -------------------------------------------------------------------
@_kind("stake")
@dataclass(frozen=True, slots=True)
class Stake(Body):
    amount: int
    SCHEMA = (("amount", f.amount),)


@_kind("unstake")
@dataclass(frozen=True, slots=True)
class Unstake(Body):
    amount: int
    SCHEMA = (("amount", f.amount),)


# -- offline: a venue cut off from the network keeps selling (docs/offline.md) --
@_kind("offline_bond")
@dataclass(frozen=True, slots=True)
class OfflineBond(Body):
    """A place locks FED of its own wallet as the bond that carries the risk of its offline sales."""

    amount: int
    SCHEMA = (("amount", f.amount),)


@_kind("offline_unbond")
@dataclass(frozen=True, slots=True)
class OfflineUnbond(Body):
    """A place gives notice: ``amount`` of its bond goes back to its wallet after the notice period."""

    amount: int
    SCHEMA = (("amount", f.amount),)


def _operation(name: str, value: Any) -> Body:
    """``[op, fields]``: a till operation done offline (a sale, a cash refill, a badge check-in) and its body."""
    op, fields = f.row(("op", f.offline_op), ("body", f.any_array))(name, value)
    return BODY_TYPES[op].from_list(list(fields))


@_kind("offline")
@dataclass(frozen=True, slots=True)
class Offline(Body):
    """A till operation done while the venue's node was cut off, signed by the place key then, numbered
    in the node's offline journal, and forwarded when it reconnects.

    ``(place, journal, seq)`` is recorded on chain for ever: it applies once, however late it comes.
    """

    journal: bytes
    """The node's offline journal (16 random bytes chosen when the journal was created)."""
    seq: int
    """Its number in the journal, from 1."""
    operation: Body
    """The operation: a Sale, a CashRefill or a BadgeCheckIn, with the fields it has online."""
    SCHEMA = (("journal", f.journal_id), ("seq", f.sequence), ("operation", _operation))
    SEQUENCED = True

    @property
    def op(self) -> str:
        return self.operation.KIND
