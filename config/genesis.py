"""The genesis document: the chain's identity, parameters and opening state (docs/contracts.md).

It is a JSON file written by people (``fedow-node genesis ...`` helps) and
hashed by machines, so :func:`parse_genesis` is strict: exact keys, integers
only (no floats), lower-case hex keys that are valid Ed25519 points, unique
ids, existing references; every problem names its JSON path. The typed
:class:`GenesisDoc` serialises back to the same JSON (:meth:`GenesisDoc.to_json`)
and to the one canonical byte form that storage stores and hashes
(:meth:`GenesisDoc.canonical_bytes`). ``wallet/genesis.py`` builds the state.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar

import nacl.bindings

from config.errors import ConfigError, Problem, raise_if_any
from config.params import MAX_AMOUNT, ChainParams

T = TypeVar("T")

CHAIN_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")
OBJECT_ID_RE = CHAIN_ID_RE
"""Place and federation ids have the chain id's form (lower case, digits, dashes)."""
ASSET_ID_RE = re.compile(r"[A-Z0-9_-]{1,16}")
HEX_KEY_RE = re.compile(r"[0-9a-f]{64}")
CARD_UID_RE = re.compile(r"(?:[0-9a-f]{2}){4,7}")
CARD_NUMBER_RE = re.compile(r"[0-9A-Z]{8}")
QR_ID_RE = re.compile(r"[0-9a-f]{32}")
CATEGORIES = ("FED", "TLF", "TNF", "TIM", "FID", "BDG", "SUB")
"""Fedow's asset categories: federated euro, local fiat/non-fiat currency, time, loyalty, badge, subscription."""
MAX_NAME_CHARS = 100
MAX_TIME_MS = 2**63 - 1
MAX_KEY_SET = 16
"""Most keys of a key set (authorities, treasury): a co-signed transaction carries at most 16 signatures."""


@dataclass(frozen=True)
class AssetSpec:
    """An asset at genesis; ``origin_place`` is the issuing place (None for FED)."""

    id: str
    name: str
    category: str
    origin_place: str | None
    melting: bool


@dataclass(frozen=True)
class PlaceSpec:
    """A venue and the key it signs with."""

    id: str
    name: str
    public_key: bytes


@dataclass(frozen=True)
class FederationSpec:
    """Places that accept each other's listed assets."""

    id: str
    name: str
    places: tuple[str, ...]
    assets: tuple[str, ...]


@dataclass(frozen=True)
class ValidatorSpec:
    """A validator key (also its libp2p identity), its place and its FED stake."""

    public_key: bytes
    place: str
    stake: int


@dataclass(frozen=True)
class BalanceSpec:
    """An opening balance in an asset's minor unit."""

    owner: bytes
    """A 32-byte wallet id (not required to be a key: a card's anonymous wallet has none)."""
    asset: str
    amount: int


@dataclass(frozen=True)
class CardSpec:
    """An NFC card at genesis (one carried over from Fedow, say).

    ``owner`` is the wallet a linked card pays from; None for an anonymous card, which
    pays from its own card wallet. ``primary_places``: the places it is an operator card of.
    """

    uid: bytes
    number: str
    qr_id: bytes
    origin_place: str
    owner: bytes | None
    primary_places: tuple[str, ...]


@dataclass(frozen=True)
class MembershipSpec:
    """A membership of a wallet in a SUB asset, from ``start_ms`` until ``expiry_ms``."""

    wallet: bytes
    asset: str
    start_ms: int
    expiry_ms: int


@dataclass(frozen=True)
class GenesisDoc:
    """A parsed genesis document; build one with :func:`parse_genesis`, which validates it."""

    chain_id: str
    genesis_time_ms: int
    authorities: tuple[bytes, ...]
    authority_threshold: int
    """How many of the authority keys must co-sign every governance transaction."""
    treasury: tuple[bytes, ...]
    """Treasury keys, each held by a different node: FED is minted and burnt only with their signatures."""
    treasury_threshold: int
    """How many treasury keys must co-sign every FED mint and burn (docs/ledger.md, "The treasury")."""
    params: ChainParams
    assets: tuple[AssetSpec, ...]
    places: tuple[PlaceSpec, ...]
    federations: tuple[FederationSpec, ...]
    validators: tuple[ValidatorSpec, ...]
    balances: tuple[BalanceSpec, ...] = ()
    cards: tuple[CardSpec, ...] = ()
    memberships: tuple[MembershipSpec, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (keys as lower-case hex, tuples as lists).

        ``cards`` and ``memberships`` appear only when not empty: documents without them keep
        the bytes (and hash) they had before those sections existed.
        """
        optional: dict[str, Any] = {}
        if self.cards:
            optional["cards"] = [{"uid": c.uid.hex(), "number": c.number, "qr_id": c.qr_id.hex(),
                                  "origin_place": c.origin_place, "owner": None if c.owner is None else c.owner.hex(),
                                  "primary_places": list(c.primary_places)} for c in self.cards]
        if self.memberships:
            optional["memberships"] = [{"wallet": m.wallet.hex(), "asset": m.asset, "start_ms": m.start_ms,
                                        "expiry_ms": m.expiry_ms} for m in self.memberships]
        return {
            "chain_id": self.chain_id,
            "genesis_time_ms": self.genesis_time_ms,
            "authorities": [key.hex() for key in self.authorities],
            "authority_threshold": self.authority_threshold,
            "treasury": [key.hex() for key in self.treasury],
            "treasury_threshold": self.treasury_threshold,
            "params": self.params.to_dict(),
            "assets": [{"id": a.id, "name": a.name, "category": a.category,
                        "origin_place": a.origin_place, "melting": a.melting} for a in self.assets],
            "places": [{"id": p.id, "name": p.name, "public_key": p.public_key.hex()}
                       for p in self.places],
            "federations": [{"id": f.id, "name": f.name, "places": list(f.places),
                             "assets": list(f.assets)} for f in self.federations],
            "validators": [{"public_key": v.public_key.hex(), "place": v.place, "stake": v.stake}
                           for v in self.validators],
            "balances": [{"owner": b.owner.hex(), "asset": b.asset, "amount": b.amount}
                         for b in self.balances],
            **optional,
        }

    def to_json(self) -> str:
        """Readable JSON (two-space indent, UTF-8 text) that :func:`parse_genesis` reads back equal."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def canonical_bytes(self) -> bytes:
        """UTF-8 JSON with sorted keys and no whitespace: the bytes storage keeps and hashes."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")


def load_genesis(path: Path | str, *, draft: bool = False) -> GenesisDoc:
    """Read and validate a genesis file; :class:`ConfigError` names the file or each JSON path."""
    return parse_genesis(read_genesis_json(path), draft=draft)


def read_genesis_json(path: Path | str) -> Any:
    """The decoded JSON of a genesis file, strictly: no floats, NaN or duplicate keys.

    Those would let two readers of the same file see different documents.
    """
    def refuse_float(token: str) -> Any:
        raise ValueError(f"{token} is not an integer (amounts and times are integers)")

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        duplicated = sorted(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        if duplicated:
            raise ValueError(f"duplicate key {duplicated[0]!r}")
        return dict(pairs)

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"), parse_float=refuse_float,
                          parse_constant=refuse_float, object_pairs_hook=unique_keys)
    except OSError as exc:
        raise ConfigError("bad_genesis", [Problem(str(path), f"cannot read: {exc}")]) from None
    except (ValueError, RecursionError) as exc:  # ValueError covers JSONDecodeError, UnicodeDecodeError
        raise ConfigError("bad_genesis", [Problem(str(path), f"not valid JSON: {exc}")]) from None


def parse_genesis(data: Any, *, draft: bool = False) -> GenesisDoc:
    """Validate a decoded JSON document and return it typed.

    ``draft=True`` accepts a document still being written (no authority or no
    validator yet): what the ``genesis`` editing commands keep on disk. Every
    other rule holds for drafts too.
    """
    reader = _Reader()
    doc = reader.document(data)
    raise_if_any("bad_genesis", reader.problems)
    assert doc is not None
    raise_if_any("bad_genesis", _semantic_problems(doc, draft))
    return doc


_TOP_KEYS = ("chain_id", "genesis_time_ms", "authorities", "authority_threshold", "treasury", "treasury_threshold",
             "params", "assets", "places", "federations", "validators")


class _Reader:
    """Walks the JSON value, collecting every type and form problem with its path."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, where: str, reason: str) -> None:
        self.problems.append(Problem(where, reason))

    def fields(self, value: Any, where: str, required: tuple[str, ...],
               optional: tuple[str, ...] = ()) -> Mapping[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(where or "(document)", f"must be an object, got {_kind(value)}")
            return None
        for key in value:
            if key not in required and key not in optional:
                self.fail(_join(where, key), "unknown key")
        for key in required:
            if key not in value:
                self.fail(_join(where, key), "missing")
        return value if all(key in value for key in required) else None

    def text(self, value: Any, where: str, pattern: re.Pattern[str] | None = None,
             form: str = "") -> str | None:
        if not isinstance(value, str):
            self.fail(where, f"must be a string, got {_kind(value)}")
        elif pattern is not None and not pattern.fullmatch(value):
            self.fail(where, f"{value!r} does not have the form {form}")
        elif pattern is None and not 1 <= len(value) <= MAX_NAME_CHARS:
            self.fail(where, f"must have 1 to {MAX_NAME_CHARS} characters, has {len(value)}")
        elif pattern is None and not value.isprintable():
            self.fail(where, "must not contain control characters")
        else:
            return value
        return None

    def integer(self, value: Any, where: str, low: int, high: int) -> int | None:
        if type(value) is not int:
            self.fail(where, f"must be an integer, got {_kind(value)}")
        elif not low <= value <= high:
            self.fail(where, f"must be between {low} and {high}, got {value}")
        else:
            return value
        return None

    def key(self, value: Any, where: str, point: bool = True) -> bytes | None:
        if not isinstance(value, str) or not HEX_KEY_RE.fullmatch(value):
            self.fail(where, "not 64 lower-case hex characters")
            return None
        raw = bytes.fromhex(value)
        if point and not nacl.bindings.crypto_core_ed25519_is_valid_point(raw):
            self.fail(where, "not a valid Ed25519 public key")
            return None
        return raw

    def items(self, value: Any, where: str, item: Callable[[Any, str], T | None]) -> tuple[T, ...] | None:
        if not isinstance(value, list):
            self.fail(where, f"must be a list, got {_kind(value)}")
            return None
        parsed = [item(entry, f"{where}[{index}]") for index, entry in enumerate(value)]
        return None if any(entry is None for entry in parsed) else tuple(parsed)  # type: ignore[misc]

    def document(self, data: Any) -> GenesisDoc | None:
        top = self.fields(data, "", _TOP_KEYS, ("balances", "cards", "memberships"))
        if top is None:
            return None
        parts = {
            "chain_id": self.text(top["chain_id"], "chain_id", CHAIN_ID_RE, "[a-z0-9][a-z0-9-]{0,49}"),
            "genesis_time_ms": self.integer(top["genesis_time_ms"], "genesis_time_ms", 0, MAX_TIME_MS),
            "authorities": self.items(top["authorities"], "authorities", self.key),
            "authority_threshold": self.integer(top["authority_threshold"], "authority_threshold", 1, MAX_KEY_SET),
            "treasury": self.items(top["treasury"], "treasury", self.key),
            "treasury_threshold": self.integer(top["treasury_threshold"], "treasury_threshold", 1, MAX_KEY_SET),
            "params": self.params(top["params"]),
            "assets": self.items(top["assets"], "assets", self.asset),
            "places": self.items(top["places"], "places", self.place),
            "federations": self.items(top["federations"], "federations", self.federation),
            "validators": self.items(top["validators"], "validators", self.validator),
            "balances": self.items(top.get("balances", []), "balances", self.balance),
            "cards": self.items(top.get("cards", []), "cards", self.card),
            "memberships": self.items(top.get("memberships", []), "memberships", self.membership),
        }
        if any(part is None for part in parts.values()):
            return None
        return GenesisDoc(**parts)  # type: ignore[arg-type]

    def params(self, value: Any) -> ChainParams | None:
        if not isinstance(value, dict):
            self.fail("params", f"must be an object, got {_kind(value)}")
            return None
        try:
            return ChainParams.from_dict(value, "params")
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            return None

    def asset(self, value: Any, where: str) -> AssetSpec | None:
        entry = self.fields(value, where, ("id", "name", "category", "origin_place", "melting"))
        if entry is None:
            return None
        origin = entry["origin_place"]
        origin_ok = origin is None or self.object_id(origin, f"{where}.origin_place") is not None
        parts = (self.asset_id(entry["id"], f"{where}.id"), self.text(entry["name"], f"{where}.name"),
                 self.choice(entry["category"], f"{where}.category", CATEGORIES),
                 self.flag(entry["melting"], f"{where}.melting"))
        if None in parts or not origin_ok:
            return None
        asset_id, name, category, melting = parts
        return AssetSpec(asset_id, name, category, origin, melting)  # type: ignore[arg-type]

    def choice(self, value: Any, where: str, allowed: tuple[str, ...]) -> str | None:
        if not isinstance(value, str) or value not in allowed:
            self.fail(where, f"{value!r} is not one of {' '.join(allowed)}")
            return None
        return value

    def flag(self, value: Any, where: str) -> bool | None:
        if not isinstance(value, bool):
            self.fail(where, f"must be true or false, got {_kind(value)}")
            return None
        return value

    def place(self, value: Any, where: str) -> PlaceSpec | None:
        entry = self.fields(value, where, ("id", "name", "public_key"))
        if entry is None:
            return None
        parts = (self.object_id(entry["id"], f"{where}.id"), self.text(entry["name"], f"{where}.name"),
                 self.key(entry["public_key"], f"{where}.public_key"))
        return None if None in parts else PlaceSpec(*parts)  # type: ignore[arg-type]

    def object_id(self, value: Any, where: str) -> str | None:
        return self.text(value, where, OBJECT_ID_RE, "[a-z0-9][a-z0-9-]{0,49}")

    def asset_id(self, value: Any, where: str) -> str | None:
        return self.text(value, where, ASSET_ID_RE, "[A-Z0-9_-]{1,16}")

    def federation(self, value: Any, where: str) -> FederationSpec | None:
        entry = self.fields(value, where, ("id", "name", "places", "assets"))
        if entry is None:
            return None
        parts = (self.object_id(entry["id"], f"{where}.id"), self.text(entry["name"], f"{where}.name"),
                 self.items(entry["places"], f"{where}.places", self.object_id),
                 self.items(entry["assets"], f"{where}.assets", self.asset_id))
        return None if None in parts else FederationSpec(*parts)  # type: ignore[arg-type]

    def validator(self, value: Any, where: str) -> ValidatorSpec | None:
        entry = self.fields(value, where, ("public_key", "place", "stake"))
        if entry is None:
            return None
        parts = (self.key(entry["public_key"], f"{where}.public_key"),
                 self.object_id(entry["place"], f"{where}.place"),
                 self.integer(entry["stake"], f"{where}.stake", 1, MAX_AMOUNT))
        return None if None in parts else ValidatorSpec(*parts)  # type: ignore[arg-type]

    def balance(self, value: Any, where: str) -> BalanceSpec | None:
        entry = self.fields(value, where, ("owner", "asset", "amount"))
        if entry is None:
            return None
        parts = (self.key(entry["owner"], f"{where}.owner", point=False),
                 self.asset_id(entry["asset"], f"{where}.asset"),
                 self.integer(entry["amount"], f"{where}.amount", 1, MAX_AMOUNT))
        return None if None in parts else BalanceSpec(*parts)  # type: ignore[arg-type]

    def card(self, value: Any, where: str) -> CardSpec | None:
        entry = self.fields(value, where, ("uid", "number", "qr_id", "origin_place", "owner", "primary_places"))
        if entry is None:
            return None
        owner = entry["owner"]
        owner_key = None if owner is None else self.key(owner, f"{where}.owner", point=False)
        parts = (self.hex_bytes(entry["uid"], f"{where}.uid", CARD_UID_RE, "4 to 7 bytes as lower-case hex"),
                 self.text(entry["number"], f"{where}.number", CARD_NUMBER_RE, "8 of [0-9A-Z]"),
                 self.hex_bytes(entry["qr_id"], f"{where}.qr_id", QR_ID_RE, "16 bytes as lower-case hex"),
                 self.object_id(entry["origin_place"], f"{where}.origin_place"),
                 self.items(entry["primary_places"], f"{where}.primary_places", self.object_id))
        if None in parts or (owner is not None and owner_key is None):
            return None
        uid, number, qr_id, origin, primary = parts
        return CardSpec(uid, number, qr_id, origin, owner_key, primary)  # type: ignore[arg-type]

    def hex_bytes(self, value: Any, where: str, pattern: re.Pattern[str], form: str) -> bytes | None:
        text = self.text(value, where, pattern, form)
        return None if text is None else bytes.fromhex(text)

    def membership(self, value: Any, where: str) -> MembershipSpec | None:
        entry = self.fields(value, where, ("wallet", "asset", "start_ms", "expiry_ms"))
        if entry is None:
            return None
        parts = (self.key(entry["wallet"], f"{where}.wallet", point=False),
                 self.asset_id(entry["asset"], f"{where}.asset"),
                 self.integer(entry["start_ms"], f"{where}.start_ms", 0, MAX_TIME_MS),
                 self.integer(entry["expiry_ms"], f"{where}.expiry_ms", 0, MAX_TIME_MS))
        return None if None in parts else MembershipSpec(*parts)  # type: ignore[arg-type]


def _semantic_problems(doc: GenesisDoc, draft: bool) -> list[Problem]:
    """Uniqueness, references and completeness of a well-formed document."""
    place_ids = {place.id for place in doc.places}
    asset_ids = {asset.id for asset in doc.assets}
    problems = [
        *_duplicates("authorities", doc.authorities, bytes.hex),
        *_duplicates("treasury", doc.treasury, bytes.hex),
        *_duplicates("assets", (a.id for a in doc.assets), str, ".id"),
        *_duplicates("places", (p.id for p in doc.places), str, ".id"),
        *_duplicates("places", (p.public_key for p in doc.places), bytes.hex, ".public_key"),
        *_duplicates("federations", (f.id for f in doc.federations), str, ".id"),
        *_duplicates("validators", (v.public_key for v in doc.validators), bytes.hex, ".public_key"),
        *_duplicates("balances", ((b.owner, b.asset) for b in doc.balances),
                     lambda pair: f"{pair[0].hex()} in {pair[1]}", ""),
    ]
    fed_assets = [index for index, asset in enumerate(doc.assets) if asset.category == "FED"]
    if len(fed_assets) != 1:
        problems.append(Problem("assets", f"must hold exactly one asset of category FED, holds {len(fed_assets)}"))
    for index in fed_assets:
        asset = doc.assets[index]
        if asset.origin_place is not None:
            problems.append(Problem(f"assets[{index}].origin_place",
                                    "must be null for the FED asset, which belongs to the whole federation"))
    for index, asset in enumerate(doc.assets):
        if asset.origin_place is not None and asset.origin_place not in place_ids:
            problems.append(Problem(f"assets[{index}].origin_place", f"no place has id {asset.origin_place!r}"))
    for index, federation in enumerate(doc.federations):
        where = f"federations[{index}]"
        problems += _duplicates(f"{where}.places", federation.places, str)
        problems += _duplicates(f"{where}.assets", federation.assets, str)
        problems += [Problem(f"{where}.places[{i}]", f"no place has id {place!r}")
                     for i, place in enumerate(federation.places) if place not in place_ids]
        problems += [Problem(f"{where}.assets[{i}]", f"no asset has id {asset!r}")
                     for i, asset in enumerate(federation.assets) if asset not in asset_ids]
        if not federation.places:
            problems.append(Problem(f"{where}.places", "must name at least one place"))
    for index, validator in enumerate(doc.validators):
        if validator.place not in place_ids:
            problems.append(Problem(f"validators[{index}].place", f"no place has id {validator.place!r}"))
        if validator.stake < doc.params.min_validator_stake:
            problems.append(Problem(f"validators[{index}].stake",
                                    f"{validator.stake} is below params.min_validator_stake "
                                    f"({doc.params.min_validator_stake})"))
    problems += [Problem(f"balances[{index}].asset", f"no asset has id {balance.asset!r}")
                 for index, balance in enumerate(doc.balances) if balance.asset not in asset_ids]
    problems += _card_problems(doc, place_ids)
    problems += _membership_problems(doc)
    if not draft and not doc.treasury:
        problems.append(Problem("treasury", "must hold at least one key (no FED could be minted against a payment)"))
    problems += _key_set_problems("treasury", doc.treasury, "treasury_threshold", doc.treasury_threshold, draft)
    if not draft and not doc.authorities:
        problems.append(Problem("authorities", "must hold at least one key (nobody could govern the chain)"))
    problems += _key_set_problems("authorities", doc.authorities, "authority_threshold", doc.authority_threshold,
                                  draft)
    if not draft and not doc.validators:
        problems.append(Problem("validators", "must hold at least one validator (no block could be made)"))
    return problems


def _card_problems(doc: GenesisDoc, place_ids: set[str]) -> list[Problem]:
    problems = [
        *_duplicates("cards", (c.uid for c in doc.cards), bytes.hex, ".uid"),
        *_duplicates("cards", (c.number for c in doc.cards), str, ".number"),
        *_duplicates("cards", (c.qr_id for c in doc.cards), bytes.hex, ".qr_id"),
    ]
    for index, card in enumerate(doc.cards):
        where = f"cards[{index}]"
        if card.origin_place not in place_ids:
            problems.append(Problem(f"{where}.origin_place", f"no place has id {card.origin_place!r}"))
        problems += _duplicates(f"{where}.primary_places", card.primary_places, str)
        problems += [Problem(f"{where}.primary_places[{i}]", f"no place has id {place!r}")
                     for i, place in enumerate(card.primary_places) if place not in place_ids]
    return problems


def _membership_problems(doc: GenesisDoc) -> list[Problem]:
    categories = {asset.id: asset.category for asset in doc.assets}
    problems = _duplicates("memberships", ((m.wallet, m.asset) for m in doc.memberships),
                           lambda pair: f"{pair[0].hex()} in {pair[1]}", "")
    for index, membership in enumerate(doc.memberships):
        where = f"memberships[{index}]"
        if categories.get(membership.asset) != "SUB":
            problems.append(Problem(f"{where}.asset", f"{membership.asset!r} is not an asset of category SUB"))
        if membership.expiry_ms < membership.start_ms:
            problems.append(Problem(f"{where}.expiry_ms", "must not be before start_ms"))
    return problems


def _key_set_problems(where: str, keys: tuple[bytes, ...], threshold_where: str, threshold: int,
                      draft: bool) -> list[Problem]:
    """A key set holds at most MAX_KEY_SET keys, and its threshold can be reached (drafts may be short)."""
    problems = []
    if len(keys) > MAX_KEY_SET:
        problems.append(Problem(where, f"must hold at most {MAX_KEY_SET} keys, holds {len(keys)}"))
    if not draft and keys and threshold > len(keys):
        problems.append(Problem(threshold_where, f"{threshold} signatures needed but {where} holds "
                                                 f"only {len(keys)}"))
    return problems


def _duplicates(where: str, values: Iterable[T], show: Callable[[T], str],
                suffix: str = "") -> list[Problem]:
    """A problem for each entry that repeats an earlier one."""
    seen: set[T] = set()
    problems = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append(Problem(f"{where}[{index}]{suffix}", f"duplicate {show(value)}"))
        seen.add(value)
    return problems


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    """JSON name of a value's type, for messages."""
    return {bool: "a boolean", int: "an integer", str: "a string", list: "a list",
            dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)
