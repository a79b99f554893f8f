"""Fedow's rows as a draft genesis: places, assets, federations, cards, balances, memberships.

Pure: rows in, a :class:`Converted` out, or :class:`ImportRefused` listing every row
that cannot be carried over. The choices (docs/install.md, "Moving from Fedow"):

- Balances are Fedow's tokens (not a replay of its transaction history, which forked and
  was corrected by hand). A token's wallet becomes: the place's wallet for a place, the
  card's own wallet for an anonymous card's ephemeral wallet, and for a person a wallet id
  derived from Fedow's wallet UUID (:func:`person_wallet_id`): their linked cards pay from
  it at the venues as before. Tokens of the primary wallet or of a wallet nobody owns
  cannot be placed and are refused unless zero.
- BDG and SUB hold no balance on this chain: a membership is a (start, expiry) record,
  carried from Fedow's SUB transactions (the latest per wallet and asset); badge passages
  are history and stay behind. Their token sums are reported, not carried.
- Per money asset the genesis carries exactly Fedow's sum of tokens, to the cent.
- Ids are made from names (``Café Culturel`` -> ``cafe-culturel``), deterministically.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from config import (AssetSpec, BalanceSpec, CardSpec, ChainParams, ConfigError, FederationSpec, GenesisDoc,
                    MembershipSpec, PlaceSpec, parse_genesis)
from config.genesis import CATEGORIES
from fedow_node.fedow_import._errors import ImportRefused, Refusal
from fedow_node.fedow_import._read import FedowData, Row
from wallet.layout import card_wallet_id, place_wallet_id
from wallet.records import NON_MONEY_CATEGORIES
from wallet.rules.passes import add_period

PRIMARY_WALLET_NAME = "Primary Wallet"
SUBSCRIPTION_UNITS = {"Y": "year", "M": "month", "W": "week", "D": "day", "H": "hour"}
"""Fedow's subscription-type codes and the period each grants; "NO" marks a transaction that is
not a membership. Another code is refused, naming the transaction."""
_ID_FORM = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")
_ASSET_ID_FORM = re.compile(r"[A-Z0-9_-]{1,16}")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def person_wallet_id(fedow_wallet_uuid: str) -> bytes:
    """A person's wallet on this chain, derived from their Fedow wallet's UUID (they hold no key of it yet)."""
    return hashlib.sha256(b"fedow/imported-person" + uuid.UUID(fedow_wallet_uuid).bytes).digest()


@dataclass(frozen=True)
class AssetLine:
    """One line of the reconciliation: an asset's total in Fedow's tokens and in the genesis."""

    asset: str
    name: str
    category: str
    fedow_cents: int
    genesis_cents: int | None
    """None for BDG and SUB, which hold no balance here."""
    note: str


@dataclass(frozen=True)
class Converted:
    genesis: GenesisDoc
    place_ids: dict[str, str]
    """Fedow place name -> place id."""
    reconciliation: tuple[AssetLine, ...]
    people: int


def place_ids(data: FedowData) -> dict[str, str]:
    """Fedow place UUID -> place id, unique, from the names (in UUID order)."""
    return _unique_ids({row["uuid"]: row["name"] for row in data.rows("place")}, slug)


def convert(data: FedowData, chain_id: str, time_ms: int, place_keys: Mapping[str, bytes]) -> Converted:
    """The draft genesis of the Fedow database (no authority, treasury or validator yet)."""
    return _Conversion(data, place_keys).run(chain_id, time_ms)


class _Conversion:
    def __init__(self, data: FedowData, place_keys: Mapping[str, bytes]) -> None:
        self.data = data
        self.place_keys = place_keys
        self.refusals: list[Refusal] = []
        self.places = place_ids(data)
        self.place_by_wallet = {row["wallet_id"]: self.places[row["uuid"]] for row in data.rows("place")}
        config = data.rows("configuration")
        self.primary = {row["uuid"] for row in data.rows("wallet") if row["name"] == PRIMARY_WALLET_NAME}
        self.primary |= {row["primary_wallet_id"] for row in config if row["primary_wallet_id"]}
        self.owners: dict[str, bytes] = {wallet: place_wallet_id(place) for wallet, place in self.place_by_wallet.items()}
        self.people = 0
        self.refused_wallets: set[str | None] = set()
        self.refused_assets: set[str] = set()
        self.archived: set[str] = set()
        """Asset ids archived in Fedow: carried (their balances too), to be archived by governance later."""
        """Ephemeral wallets of refused cards and refused assets: what refers to them is not refused again."""

    def refuse(self, table: str, row: str, reason: str) -> None:
        self.refusals.append(Refusal(f"fedow_core_{table}", row, reason))

    def run(self, chain_id: str, time_ms: int) -> Converted:
        places = self._places()
        assets = self._assets()
        federations = self._federations(assets)
        cards = self._cards()
        balances, fedow_sums = self._balances(assets)
        memberships = self._memberships(assets)
        lines = self._reconciliation(assets, fedow_sums, balances, memberships)
        if self.refusals:
            raise ImportRefused(self.refusals)
        genesis = GenesisDoc(chain_id=chain_id, genesis_time_ms=time_ms, authorities=(), authority_threshold=1,
                             treasury=(), treasury_threshold=1, params=ChainParams(),
                             assets=tuple(spec for spec, _ in assets.values()), places=places,
                             federations=federations, validators=(), balances=balances, cards=cards,
                             memberships=memberships)
        try:  # the same checks as `fedow-node genesis validate` makes on a draft
            genesis = parse_genesis(genesis.to_dict(), draft=True)
        except ConfigError as exc:
            raise ImportRefused([Refusal("genesis", problem.where, problem.reason) for problem in exc.problems]) \
                from None
        names = {row["name"]: self.places[row["uuid"]] for row in self.data.rows("place")}
        return Converted(genesis, names, lines, self.people)

    def _places(self) -> tuple[PlaceSpec, ...]:
        specs = []
        for row in self.data.rows("place"):
            place_id = self.places[row["uuid"]]
            key = self.place_keys.get(place_id)
            if key is None:
                self.refuse("place", row["uuid"], f"no key for place {place_id!r} ({row['name']}): give it in "
                                                  "--place-keys or let --new-place-keys make one")
                continue
            specs.append(PlaceSpec(place_id, row["name"], key))
        return tuple(specs)

    def _assets(self) -> dict[str, tuple[AssetSpec, str]]:
        """Fedow asset UUID -> (spec, Fedow name)."""
        rows = self.data.rows("asset")
        fed = [row for row in rows if row["category"] == "FED"]
        if len(fed) != 1:
            self.refuse("asset", "", f"exactly one asset of category FED is needed, found {len(fed)}: "
                                     f"{', '.join(row['uuid'] for row in fed) or 'none'}")
        ids = _unique_ids({row["uuid"]: row for row in rows}, _asset_id)
        assets: dict[str, tuple[AssetSpec, str]] = {}
        for row in rows:
            origin = self.place_by_wallet.get(row["wallet_origin_id"])
            problem = None
            if row["category"] not in CATEGORIES:
                problem = f"unknown category {row['category']!r} (known: {' '.join(CATEGORIES)})"
            elif origin is None and row["wallet_origin_id"] not in self.primary:
                problem = f"its origin wallet {row['wallet_origin_id']} is neither a place's nor the primary wallet"
            if problem is not None:
                self.refuse("asset", row["uuid"], problem)
                self.refused_assets.add(row["uuid"])
                continue
            if row["category"] == "FED":
                origin = None
            assets[row["uuid"]] = (AssetSpec(ids[row["uuid"]], row["name"], row["category"], origin, False), row["name"])
            if row["archive"]:
                self.archived.add(ids[row["uuid"]])
        return assets

    def _federations(self, assets: dict[str, tuple[AssetSpec, str]]) -> tuple[FederationSpec, ...]:
        ids = _unique_ids({row["uuid"]: row["name"] for row in self.data.rows("federation")}, slug)
        members: dict[str, list[str]] = {row["uuid"]: [] for row in self.data.rows("federation")}
        accepted: dict[str, list[str]] = {row["uuid"]: [] for row in self.data.rows("federation")}
        for row in self.data.rows("federation_places"):
            if row["place_id"] not in self.places or row["federation_id"] not in members:
                self.refuse("federation_places", f"{row['federation_id']}/{row['place_id']}", "unknown federation or place")
            else:
                members[row["federation_id"]].append(self.places[row["place_id"]])
        for row in self.data.rows("federation_assets"):
            if row["asset_id"] in self.refused_assets:
                continue
            if row["asset_id"] not in assets or row["federation_id"] not in accepted:
                self.refuse("federation_assets", f"{row['federation_id']}/{row['asset_id']}", "unknown federation or asset")
            else:
                accepted[row["federation_id"]].append(assets[row["asset_id"]][0].id)
        specs = []
        for row in self.data.rows("federation"):
            if not members[row["uuid"]]:
                self.refuse("federation", row["uuid"], f"federation {row['name']!r} has no place")
                continue
            specs.append(FederationSpec(ids[row["uuid"]], row["name"], tuple(sorted(members[row["uuid"]])),
                                        tuple(sorted(accepted[row["uuid"]]))))
        return tuple(specs)

    def _cards(self) -> tuple[CardSpec, ...]:
        origins = {row["id"]: row["place_id"] for row in self.data.rows("origin")}
        people = {row["uuid"]: row["wallet_id"] for row in self.data.rows("fedowuser")}
        primary: dict[str, list[str]] = {}
        for row in self.data.rows("card_primary_places"):
            primary.setdefault(row["card_id"], []).append(self.places.get(row["place_id"], ""))
        seen: dict[str, dict[Any, str]] = {"tag": {}, "number": {}, "qr": {}}
        specs = []
        for row in self.data.rows("card"):
            card = row["uuid"]
            problems = []
            tag = str(row["first_tag_id"] or "").lower()
            number = str(row["number_printed"] or "").upper()
            qr = _uuid_bytes(row["qrcode_uuid"])
            if not re.fullmatch(r"[0-9a-f]{8}", tag):
                problems.append(f"first_tag_id {row['first_tag_id']!r} is not 8 hex characters")
            if not re.fullmatch(r"[0-9A-Z]{8}", number):
                problems.append(f"number_printed {row['number_printed']!r} is not 8 of [0-9A-Z]")
            if qr is None:
                problems.append(f"qrcode_uuid {row['qrcode_uuid']!r} is not a UUID")
            for kind, value in (("tag", tag), ("number", number), ("qr", qr)):
                if value and value in seen[kind]:
                    problems.append(f"same {kind} as card {seen[kind][value]}"
                                    + (" (tag ids are compared without case)" if kind == "tag" else ""))
                seen[kind].setdefault(value, card)
            origin = self.places.get(origins.get(row["origin_id"], ""))
            if origin is None:
                problems.append(f"its origin {row['origin_id']} names no known place")
            places = primary.get(card, [])
            if "" in places:
                problems.append("a primary place is not a known place")
            owner = None
            if row["user_id"] is not None:
                wallet = people.get(row["user_id"])
                if wallet is None:
                    problems.append(f"its user {row['user_id']} has no wallet")
                else:
                    owner = self._person(wallet)
            for problem in problems:
                self.refuse("card", card, problem)
            if problems:
                self.refused_wallets.add(row["wallet_ephemere_id"])
            else:
                if row["wallet_ephemere_id"]:
                    self.owners[row["wallet_ephemere_id"]] = card_wallet_id(bytes.fromhex(tag))
                specs.append(CardSpec(bytes.fromhex(tag), number, qr, origin, owner,  # type: ignore[arg-type]
                                      tuple(sorted(places))))
        return tuple(specs)

    def _person(self, wallet: str) -> bytes:
        if wallet not in self.owners:
            self.owners[wallet] = person_wallet_id(wallet)
            self.people += 1
        return self.owners[wallet]

    def _balances(self, assets: dict[str, tuple[AssetSpec, str]]) -> tuple[tuple[BalanceSpec, ...], dict[str, int]]:
        """The genesis balances, and per asset id the sum of Fedow's tokens."""
        for row in self.data.rows("fedowuser"):
            self._person(row["wallet_id"])
        fedow_sums: dict[str, int] = {spec.id: 0 for spec, _ in assets.values()}
        amounts: dict[tuple[bytes, str], int] = {}
        for row in self.data.rows("token"):
            value = row["value"]
            if type(value) is not int or value < 0:
                self.refuse("token", row["uuid"], f"value {value!r} is not a balance in cents (a whole number >= 0)")
                continue
            if row["asset_id"] in self.refused_assets:
                continue
            if row["asset_id"] not in assets:
                self.refuse("token", row["uuid"], f"its asset {row['asset_id']} is not one of fedow_core_asset")
                continue
            asset = assets[row["asset_id"]][0]
            fedow_sums[asset.id] += value
            if value == 0 or asset.category in NON_MONEY_CATEGORIES or row["wallet_id"] in self.refused_wallets:
                continue
            owner = self.owners.get(row["wallet_id"])
            if owner is None:
                where = "the primary wallet" if row["wallet_id"] in self.primary else f"wallet {row['wallet_id']}"
                self.refuse("token", row["uuid"], f"{value} cents of {asset.id} held by {where}, which has no "
                                                  "holder on this chain: move them to a place or a card in Fedow first")
                continue
            amounts[(owner, asset.id)] = amounts.get((owner, asset.id), 0) + value
        return tuple(BalanceSpec(owner, asset, amount) for (owner, asset), amount in sorted(amounts.items())), fedow_sums

    def _reconciliation(self, assets: dict[str, tuple[AssetSpec, str]], fedow_sums: dict[str, int],
                        balances: tuple[BalanceSpec, ...],
                        memberships: tuple[MembershipSpec, ...]) -> tuple[AssetLine, ...]:
        lines = []
        for spec, name in sorted(assets.values(), key=lambda item: item[0].id):
            fedow = fedow_sums[spec.id]
            if spec.category == "SUB":
                count = sum(m.asset == spec.id for m in memberships)
                lines.append(AssetLine(spec.id, name, spec.category, fedow, None,
                                       f"{count} membership(s) carried as records; tokens are no balance here"))
            elif spec.category == "BDG":
                lines.append(AssetLine(spec.id, name, spec.category, fedow, None,
                                       "badge passages are history, not carried; tokens are no balance here"))
            else:
                carried = sum(b.amount for b in balances if b.asset == spec.id)
                if carried != fedow:  # cannot happen once every token is placed; checked all the same
                    self.refuse("token", "", f"{spec.id}: Fedow holds {fedow} cents, the genesis {carried}")
                note = "equal; archived in Fedow (archive it by governance)" if spec.id in self.archived else "equal"
                lines.append(AssetLine(spec.id, name, spec.category, fedow, carried, note))
        return tuple(lines)

    def _memberships(self, assets: dict[str, tuple[AssetSpec, str]]) -> tuple[MembershipSpec, ...]:
        latest: dict[tuple[bytes, str], MembershipSpec] = {}
        for row in self.data.rows("transaction"):
            if row["action"] != "SUB" or row["asset_id"] in self.refused_assets:
                continue
            code = row["subscription_type"]
            asset = assets.get(row["asset_id"], (None, ""))[0]
            owner = self.owners.get(row["receiver_id"])
            start = _time_ms(row["subscription_start_datetime"] or row["datetime"])
            if asset is None or asset.category != "SUB":
                self.refuse("transaction", row["uuid"], f"a membership in {row['asset_id']}, not an asset of category SUB")
            elif code not in SUBSCRIPTION_UNITS:
                self.refuse("transaction", row["uuid"], f"unknown subscription_type {code!r} (known: "
                                                        f"{' '.join(SUBSCRIPTION_UNITS)})")
            elif owner is None:
                self.refuse("transaction", row["uuid"], f"a membership of wallet {row['receiver_id']}, which has no "
                                                        "holder on this chain")
            elif start is None:
                self.refuse("transaction", row["uuid"], "its subscription start is not a date")
            else:
                spec = MembershipSpec(owner, asset.id, start, add_period(start, SUBSCRIPTION_UNITS[code], 1))
                current = latest.get((owner, asset.id))
                if current is None or spec.start_ms >= current.start_ms:
                    latest[(owner, asset.id)] = spec
        return tuple(latest[key] for key in sorted(latest))


def slug(name: str, fallback: str = "place") -> str:
    """An id of the form [a-z0-9][a-z0-9-]{0,49} made from a name (accents dropped), or ``fallback``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:50].strip("-")
    return text if _ID_FORM.fullmatch(text) else fallback


def _asset_id(row: Row) -> str:
    if row["category"] == "FED":
        return "FED"
    code = str(row["currency_code"] or "").upper()
    if _ASSET_ID_FORM.fullmatch(code) and code != "FED":
        return code
    text = re.sub(r"[^A-Z0-9]+", "-", unicodedata.normalize("NFKD", str(row["name"])).encode("ascii", "ignore")
                  .decode().upper()).strip("-")[:16].strip("-")
    return text or "ASSET"


def _unique_ids(rows: Mapping[str, Any], make: Any) -> dict[str, str]:
    """Row key -> id made by ``make``, with -2, -3... added to repeats (rows in key order)."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for key in sorted(rows):
        base = make(rows[key])
        candidate, count = base, 1
        while candidate in taken:
            count += 1
            suffix = f"-{count}"
            candidate = base[: (16 if base.isupper() else 50) - len(suffix)] + suffix
        taken.add(candidate)
        ids[key] = candidate
    return ids


def _uuid_bytes(text: Any) -> bytes | None:
    try:
        return uuid.UUID(str(text)).bytes
    except ValueError:
        return None


def _time_ms(text: Any) -> int | None:
    """Django's datetime text (UTC when it carries no offset) in ms since the epoch."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // timedelta(milliseconds=1)
